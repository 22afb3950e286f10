"""A time limit for SymPy work on user input.

SymPy is pure Python, and some tiny inputs make it evaluate for minutes (a constant like
``log(1, asin(15987))`` sends evalf hunting for the precision of a complex number). A thread
cannot be killed, but it can be interrupted: past the deadline a watchdog raises
:class:`TimeLimitExceeded` asynchronously in the guarded thread (at its next bytecode), and
keeps raising every 20 ms until the block is left, in case one was swallowed (a broad
``except``, or a garbage-collection callback, where Python reports it as unraisable and moves
on). Nothing is paid while the work stays within its limit.

The limit counts the guarded thread's own CPU time where the system can read another thread's
clock (Linux, most Unixes), not the wall clock: on a loaded machine (the app's other workers
busy in Python, another program on every core) a parse that needs 0.2 s of work may take 1 s
of wall time waiting for the GIL or a core, and a wall-clock limit refused ordinary functions
as "too long to simplify". A block that waits instead of working (sleeping, blocked) is still
ended after ``WALL_FACTOR`` times its limit of wall time.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
import time
from collections.abc import Iterator

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int


WALL_FACTOR = 4.0  # a block is ended after this many times its limit of wall time, whatever


def _thread_clock(thread_id: int):
    """The CPU-time clock of thread ``thread_id``, or None where it cannot be read."""
    try:
        clock = time.pthread_getcpuclockid(thread_id)
        time.clock_gettime(clock)
        return clock
    except (AttributeError, OSError):
        return None


class TimeLimitExceeded(BaseException):
    """The guarded work ran past its time limit.

    A BaseException, like KeyboardInterrupt, so that library code's ``except Exception``
    does not swallow it.
    """


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` inside the block once it has worked ``seconds`` (its
    thread's CPU time; wall time where that clock cannot be read), or waited ``WALL_FACTOR``
    times as long."""
    thread_id = threading.get_ident()
    left = threading.Event()
    lock = threading.Lock()
    state = {"active": True, "posted": False}
    clock = _thread_clock(thread_id)
    started = time.monotonic()
    worked_at_start = time.clock_gettime(clock) if clock is not None else 0.0

    def worked() -> float:
        if clock is None:
            return time.monotonic() - started
        return time.clock_gettime(clock) - worked_at_start

    def watchdog() -> None:
        give_up = started + (seconds * WALL_FACTOR if clock is not None else seconds)
        while True:
            # it cannot have worked more than the wall time since: wait at least what is left
            try:
                wait = min(seconds - worked(), give_up - time.monotonic())
            except OSError:  # the thread is gone: its block is over
                return
            if wait <= 0:
                break
            if left.wait(max(wait, 0.002)):
                return
        while True:
            with lock:
                if not state["active"]:
                    return
                _set_async_exc(thread_id, TimeLimitExceeded)
                state["posted"] = True
            if left.wait(0.02):
                return

    # No garbage collection inside the block (at most `seconds`): its callbacks and the
    # finalizers it triggers would run in this thread and could receive the interrupt meant
    # for the guarded work, which Python then reports as unraisable and ignores.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        # inside the try: an interrupt raised while the watchdog starts (Thread.start waits
        # for it in Python code) still ends the block, so that watchdog cannot outlive it
        threading.Thread(target=watchdog, name="time-limit", daemon=True).start()
        yield
    finally:
        # First, before any call: a plain dict store is not a point where CPython raises an
        # asynchronous exception, so once the block ends the watchdog (which checks this under
        # its lock) posts nothing more. It used to be set under the lock, and a post raised at
        # that call aborted this finally: the watchdog then went on posting into the thread
        # for good, wherever it ran (a test process deadlocked in Thread.start).
        state["active"] = False
        try:
            with lock:  # a post made just before the store is at most one, and pending
                # An exception posted but not yet delivered must not escape after the block.
                # Only then: on CPython 3.11 clearing sets the interpreter's "async exception"
                # flag, and every thread then runs the interpreter's slow path for good
                # (measured: Python code ~7-19% slower after one block that timed nothing out).
                if state["posted"]:
                    _set_async_exc(thread_id, ctypes.py_object())
        except TimeLimitExceeded:
            pass  # that pending one arrived first: nothing is pending now
        left.set()
        if gc_was_enabled:
            gc.enable()
