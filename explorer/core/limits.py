"""A time limit for SymPy work on user input.

SymPy is pure Python, and some tiny inputs make it evaluate for minutes (a constant like
``log(1, asin(15987))`` sends evalf hunting for the precision of a complex number). A thread
cannot be killed, but it can be interrupted: past the deadline a watchdog raises
:class:`TimeLimitExceeded` asynchronously in the guarded thread (at its next bytecode), and
keeps raising every 20 ms until the block is left, in case one was swallowed (a broad
``except``, or a garbage-collection callback, where Python reports it as unraisable and moves
on). Nothing is paid while the work stays within its limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
from collections.abc import Iterator

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int


class TimeLimitExceeded(BaseException):
    """The guarded work ran past its time limit.

    A BaseException, like KeyboardInterrupt, so that library code's ``except Exception``
    does not swallow it.
    """


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` inside the block once ``seconds`` have passed."""
    thread_id = threading.get_ident()
    left = threading.Event()
    lock = threading.Lock()
    state = {"active": True, "posted": False}

    def watchdog() -> None:
        if left.wait(seconds):
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
