"""Pure-Python work in a child process, so that it never holds the app's GIL.

SymPy (critical points) and matplotlib's mathtext (the typeset formula) are pure Python. Run
on a worker thread they hold the interpreter's lock between bytecodes, and every call the GUI
thread makes into Python (each paint) waits for its turn: in the soak, paints of 2-5 ms took
15-40 ms while a search ran, and the critical-point searches alone held a worker busy a third
of the time. A :class:`Lane` runs such jobs in its own process, one at a time; the calling
thread waits on a pipe without the lock.

A job is a module-level function and picklable arguments (a :class:`~.expression.Function`
pickles as its expression, see ``Function.__reduce__``). Its value, or its exception with the
child's traceback, comes back; a child that dies (a crash in a C library) or runs past the
lane's wall-clock limit is ended and replaced, and the call raises :class:`LaneStopped`, so a
runaway job can be stopped, which a thread cannot. Where no child can be started (a system
without ``fork``/``exec`` rights), jobs run in the calling thread, as before.

Nothing here imports Qt: the child loads only what its jobs need.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
import traceback

WALL_LIMIT = 120.0  # seconds a job may take before its child is ended (time limits end SymPy far sooner)


class LaneStopped(RuntimeError):
    """The child process died or was ended (wall-clock limit) before answering."""


def _serve(conn) -> None:  # pragma: no cover - runs in the child
    """The child's loop: run each job received, send back (True, value) or (False, error)."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the app is gone
            return
        if job is None:
            return
        fn, args = job
        try:
            reply = (True, fn(*args))
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - every error goes back to the caller
            data = pickle.dumps((False, (_portable(exc), traceback.format_exc())),
                                protocol=pickle.HIGHEST_PROTOCOL)
        conn.send_bytes(data)


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


class Lane:
    """One child process that runs jobs one at a time, started on first use.

    ``call`` is for worker threads (it blocks until the answer); several threads may call it,
    and they take turns. ``start`` begins the child's start-up (its imports) without waiting.
    """

    def __init__(self, name: str, wall_limit: float = WALL_LIMIT):
        self.name = name
        self.wall_limit = wall_limit
        self._lock = threading.Lock()  # one job in the child at a time
        self._process = None
        self._conn = None
        self.in_thread = False  # True when no child could be started: jobs run in the caller
        self.restarts = 0  # children replaced after dying or running too long

    @property
    def pid(self) -> int | None:
        """The child's process id (None before it started or when jobs run in-thread)."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def start(self) -> None:
        """Start the child now, so that its imports are done before the first job."""
        with self._lock:
            self._ensure()

    def call(self, fn, *args):
        """``fn(*args)`` in the child; its value, or its exception raised here."""
        with self._lock:
            if not self._ensure():
                return fn(*args)
            conn, process = self._conn, self._process
            try:
                conn.send((fn, args))
            except (OSError, EOFError, ValueError):  # the child died since the last job
                self._discard()
                if not self._ensure():
                    return fn(*args)
                conn, process = self._conn, self._process
                conn.send((fn, args))
            if not conn.poll(self.wall_limit):
                self._discard()
                raise LaneStopped(f"the {self.name} process took over {self.wall_limit:g} s "
                                  "and was stopped")
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):
                process.join(1.0)
                code = process.exitcode
                self._discard()
                raise LaneStopped(f"the {self.name} process stopped (exit code {code})") from None
        ok, value = pickle.loads(data)
        if ok:
            return value
        error, text = value
        raise error from ChildTraceback(text)

    def close(self) -> None:
        """Ask the child to leave and wait briefly; end it if it does not, or if a job still
        runs (its caller then gets :class:`LaneStopped`)."""
        if not self._lock.acquire(timeout=1.0):
            process = self._process
            if process is not None:
                process.kill()
            return
        try:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except (OSError, ValueError):
                    pass
            if self._process is not None:
                self._process.join(2.0)
            self._discard()
        finally:
            self._lock.release()

    # -- the child ------------------------------------------------------------------------------
    def _ensure(self) -> bool:
        """A live child (started if needed); False when jobs must run in the calling thread."""
        if self.in_thread:
            return False
        if self._process is not None and self._process.is_alive():
            return True
        if self._process is not None:
            self._discard()
        context = multiprocessing.get_context("spawn")  # never fork a process running Qt threads
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child,), daemon=True,
                                  name=f"calculus-explorer {self.name}")
        try:
            process.start()
        except (OSError, RuntimeError):
            self.in_thread = True
            return False
        child.close()
        self._process, self._conn = process, parent
        return True

    def _discard(self) -> None:
        """Forget the child, ending it if it still runs (a job past the wall limit)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.kill()
                process.join(2.0)
            if process.exitcode != 0:
                self.restarts += 1


_lanes: dict[str, Lane] = {}
_lanes_lock = threading.Lock()


def lane(name: str) -> Lane:
    """The app's lane called ``name`` (made once per process, shared by every window)."""
    with _lanes_lock:
        found = _lanes.get(name)
        if found is None:
            found = _lanes[name] = Lane(name)
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
