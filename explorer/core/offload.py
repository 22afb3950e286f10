"""Pure-Python work in a child process, so that it never holds the app's GIL.

SymPy (critical points) and matplotlib's mathtext (the typeset formula) are pure Python. Run
on a worker thread they hold the interpreter's lock between bytecodes, and every call the GUI
thread makes into Python (each paint) waits for its turn: in the soak, paints of 2-5 ms took
15-40 ms while a search ran, and the critical-point searches alone held a worker busy a third
of the time. A :class:`Lane` runs such jobs in its own process, each on a thread there (the
GIL they share is the child's); the calling thread waits on a pipe without the app's.

A job is a module-level function and picklable arguments (a :class:`~.expression.Function`
pickles as its expression, see ``Function.__reduce__``). Its value, or its exception with the
child's traceback, comes back; a child that dies (a crash in a C library) or runs past the
lane's wall-clock limit is ended and replaced, and the call raises :class:`LaneStopped`, so a
runaway job can be stopped, which a thread cannot. Where no child can be started (a system
without ``fork``/``exec`` rights), jobs run in the calling thread, as before.

Nothing here imports Qt: the child loads only what its jobs need.
"""

from __future__ import annotations

import itertools
import multiprocessing
import pickle
import struct
import threading
import traceback

NICENESS = 10  # what a child adds to its scheduling niceness (lower priority than the window)
WALL_LIMIT = 120.0  # seconds a job may take before its child is ended (time limits end SymPy far sooner)


_ID = struct.Struct("<Q")  # a reply starts with the id of its job


class LaneStopped(RuntimeError):
    """The child process died or was ended (wall-clock limit) before answering."""


def _serve(conn, threads: int) -> None:  # pragma: no cover - runs in the child
    """The child's loop: run each job received on one of ``threads`` threads, and send back
    its id with (True, value) or (False, (error, traceback)). Leaves when the app asks, or
    when the app is gone (the pipe closed), without waiting for jobs still running."""
    import os
    import signal
    from concurrent.futures import ThreadPoolExecutor

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is for the app
    try:  # on a busy machine the window's thread gets the CPU first; idle, the child gets all
        os.nice(NICENESS)
    except (AttributeError, OSError):  # no nice on this system
        pass
    send_lock = threading.Lock()

    def run(job_id: int, job: bytes) -> None:
        try:  # loading the job may fail too (a function of a module the child cannot import)
            fn, args = pickle.loads(job)
            data = pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - every error goes back to the caller
            data = pickle.dumps((False, (_portable(exc), traceback.format_exc())),
                                protocol=pickle.HIGHEST_PROTOCOL)
        with send_lock:
            conn.send_bytes(_ID.pack(job_id) + data)

    pool = ThreadPoolExecutor(threads, thread_name_prefix="job")
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):  # the app is gone
            message = b""
        if not message:  # the app asks it to leave, or is gone
            os._exit(0)
        (job_id,) = _ID.unpack_from(message)
        pool.submit(run, job_id, message[_ID.size:])


def _portable(exc: BaseException) -> BaseException:
    """``exc``, or a RuntimeError with its type and message when it cannot be pickled."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - an exception class SymPy made that pickle cannot rebuild
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class ChildTraceback(Exception):
    """Where a job's error was raised in the child: the cause of the error re-raised in the
    app, so that the error log and dialog show the child's traceback too."""

    def __str__(self) -> str:
        return "\n" + self.args[0]


class _Child:
    """A started child: its process, the pipe to it, and the jobs it has not answered."""

    def __init__(self, process, conn):
        self.process, self.conn = process, conn
        self.send_lock = threading.Lock()
        self.waiting: dict[int, list] = {}  # job id -> [event, reply bytes or None]
        self.waiting_lock = threading.Lock()
        self.gone = False  # the pipe closed: every job waiting was told
        self.ended_because: str | None = None  # why the app ended it, for every job in it

    def read(self) -> None:
        """The reader thread: hand each reply to its caller; when the pipe closes, wake every
        caller still waiting (they find no reply)."""
        try:
            while True:
                data = self.conn.recv_bytes()
                (job_id,) = _ID.unpack_from(data)
                with self.waiting_lock:
                    slot = self.waiting.pop(job_id, None)
                if slot is not None:
                    slot[1] = memoryview(data)[_ID.size:]
                    slot[0].set()
        except (EOFError, OSError, ValueError):
            pass
        with self.waiting_lock:
            self.gone = True
            slots, self.waiting = list(self.waiting.values()), {}
        for slot in slots:
            slot[0].set()


class Lane:
    """A child process that runs jobs on up to ``threads`` threads at once, started on first
    use.

    ``call`` is for worker threads: it blocks until the answer, without the GIL. Each of the
    app's worker threads that uses a lane has at most one job in it, so ``threads`` is the
    number of those workers (the race's runs, its sweep and its compiler run side by side
    there as they did in the app). A new child loads what its first jobs need with
    :func:`preload`.
    """

    def __init__(self, name: str, threads: int = 1, wall_limit: float = WALL_LIMIT):
        self.name = name
        self.threads = threads
        self.wall_limit = wall_limit
        self._lock = threading.Lock()  # guards _child (starting and replacing it)
        self._child: _Child | None = None
        self._ids = itertools.count(1)
        self.in_thread = False  # True when no child could be started: jobs run in the caller
        self.restarts = 0  # children replaced after dying or running too long

    @property
    def pid(self) -> int | None:
        """The child's process id (None before it started, after it died, or when jobs run
        in-thread)."""
        child = self._child
        return child.process.pid if child is not None and child.process.is_alive() else None

    def call(self, fn, *args):
        """``fn(*args)`` in the child; its value, or its exception raised here."""
        for _attempt in range(2):  # a child found dead before the job went in: a new one
            with self._lock:
                child = self._ensure()
            if child is None:
                return fn(*args)
            job_id = next(self._ids)
            message = _ID.pack(job_id) + pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
            slot = [threading.Event(), None]
            with child.waiting_lock:
                sent = not child.gone
                if sent:
                    child.waiting[job_id] = slot
            try:
                if sent:
                    with child.send_lock:
                        child.conn.send_bytes(message)
            except (OSError, ValueError):
                sent = False
            if sent:
                break
            with self._lock:
                self._discard(child)
        else:
            raise LaneStopped(f"the {self.name} process could not be started")
        if not slot[0].wait(self.wall_limit):
            child.ended_because = f"took over {self.wall_limit:g} s and was stopped"
            with self._lock:
                self._discard(child)
        if slot[1] is None:  # the pipe closed before the reply
            if child.ended_because is None:
                child.process.join(1.0)
                code = child.process.exitcode
                child.ended_because = f"stopped (exit code {code})" if code is not None \
                    else "stopped"
            with self._lock:
                self._discard(child)
            raise LaneStopped(f"the {self.name} process {child.ended_because}")
        ok, value = pickle.loads(slot[1])
        if ok:
            return value
        error, text = value
        raise error from ChildTraceback(text)

    def close(self) -> None:
        """Ask the child to leave, and end it if it has not within 2 s (a job still running:
        its caller gets :class:`LaneStopped`)."""
        with self._lock:
            child, self._child = self._child, None
        if child is None:
            return
        try:
            with child.send_lock:
                child.conn.send_bytes(b"")
        except (OSError, ValueError):
            pass
        child.process.join(2.0)
        self._end(child)

    # -- the child ------------------------------------------------------------------------------
    def _ensure(self) -> _Child | None:
        """A live child (started if needed); None when jobs must run in the calling thread.
        Called holding ``_lock``."""
        if self.in_thread:
            return None
        child = self._child
        if child is not None and child.process.is_alive() and not child.gone:
            return child
        if child is not None:
            self._discard(child)
        context = multiprocessing.get_context("spawn")  # never fork a process running Qt threads
        parent, end = context.Pipe()
        process = context.Process(target=_serve, args=(end, self.threads), daemon=True,
                                  name=f"calculus-explorer {self.name}")
        try:
            process.start()
        except (OSError, RuntimeError):
            self.in_thread = True
            return None
        end.close()
        child = self._child = _Child(process, parent)
        threading.Thread(target=child.read, name=f"{self.name} replies", daemon=True).start()
        return child

    def _discard(self, child: _Child) -> None:
        """Forget ``child`` if it is still the lane's, ending it (a job past the wall limit,
        or a child that died). Called holding ``_lock``."""
        if self._child is child:
            self._child = None
            self._end(child)
            if child.process.exitcode != 0:
                self.restarts += 1

    @staticmethod
    def _end(child: _Child) -> None:
        if child.process.is_alive():
            child.process.kill()
            child.process.join(2.0)
        child.conn.close()  # the reader wakes the callers still waiting


def preload(*modules: str) -> None:
    """Import ``modules`` (sent to a new child: what its first jobs need, loaded while the
    app starts rather than when the first job comes)."""
    import importlib

    for name in modules:
        importlib.import_module(name)


# The app's lanes and their threads: one per worker thread of the app that sends jobs there.
# "analysis": SymPy's critical-point searches (curve and landscape) and the typesetting of the
# formula (mathtext), side by side; "race": the race's runs, its learning-rate sweep and the
# compile of f's gradient and Hessian (numba's compiled runner lives where the runs run).
LANES = {"analysis": 2, "race": 3}

_lanes: dict[str, Lane] = {}
_lanes_lock = threading.Lock()


def lane(name: str) -> Lane:
    """The app's lane called ``name`` (one of ``LANES``; made once per process and shared by
    every window)."""
    with _lanes_lock:
        found = _lanes.get(name)
        if found is None:
            found = _lanes[name] = Lane(name, LANES[name])
        return found


def child_pids() -> list[int]:
    """The process ids of the lanes' live children (what the app's memory adds up)."""
    with _lanes_lock:
        lanes = list(_lanes.values())
    return [pid for pid in (each.pid for each in lanes) if pid is not None]


def close_all() -> None:
    """End every lane's child (at the app's exit)."""
    with _lanes_lock:
        lanes = list(_lanes.values())
    for each in lanes:
        each.close()
