"""Work off the GUI thread with "latest request wins".

Each request has a channel (``"parse"``, ``"typeset"``, ...). A newer request on a channel makes
older ones stale: a stale job that has not started is skipped, and a stale result is dropped.
Results come back on the GUI thread through a queued signal.
"""

from __future__ import annotations

import itertools
import sys
import threading
import traceback
from collections.abc import Callable

from PySide6 import QtCore

_collector = None


def collect_garbage_in_gui_thread() -> None:
    """Python's cycle collector runs in whichever thread happens to allocate: a worker busy in
    SymPy or numba would then free the cycles of Qt wrappers (plot items, pens) outside the
    GUI thread, while it may be painting them, which Qt does not survive. Automatic collection
    is turned off and pyqtgraph's GarbageCollector collects on a timer of the GUI thread
    instead, generation by generation as the thresholds say. Called from the GUI thread;
    once per process."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=0.5)


class _Relay(QtCore.QObject):
    done = QtCore.Signal(object)


class Worker(QtCore.QObject):
    """Runs callables in a private single-thread pool; delivers only the latest per channel."""

    busy_changed = QtCore.Signal(bool)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        # Every Python call Qt makes into the GUI thread (each paint() override) must take the
        # GIL from a busy worker; at the default 5 ms switch interval a repaint then waits
        # ~100 ms behind SymPy or mathtext. 1 ms keeps the GUI at display rate.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        collect_garbage_in_gui_thread()
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # SymPy and mathtext are not thread-safe among themselves
        self._relay = _Relay(self)
        self._relay.done.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)
        self._counter = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._callbacks: dict[int, tuple[str, Callable, Callable | None]] = {}
        self._lock = threading.Lock()
        self._pending = 0

    def submit(self, channel: str, job: Callable[[], object], on_result: Callable[[object], None],
               on_error: Callable[[BaseException], None] | None = None) -> int:
        """Run ``job()`` off the GUI thread; call ``on_result(value)`` on the GUI thread if this
        is still the latest request of ``channel``."""
        ticket = next(self._counter)
        with self._lock:
            self._latest[channel] = ticket
        self._callbacks[ticket] = (channel, on_result, on_error)
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)

        def run() -> None:
            with self._lock:
                stale = self._latest.get(channel) != ticket
            if stale:
                self._relay.done.emit((ticket, False, None))
                return
            try:
                value = job()
                self._relay.done.emit((ticket, True, value))
            except BaseException as exc:  # delivered to on_error on the GUI thread
                exc.__traceback_text__ = traceback.format_exc()
                self._relay.done.emit((ticket, None, exc))

        self._pool.start(run)
        return ticket

    @QtCore.Slot(object)
    def _deliver(self, message) -> None:
        ticket, ok, value = message
        channel, on_result, on_error = self._callbacks.pop(ticket)
        self._pending -= 1
        if self._pending == 0:
            self.busy_changed.emit(False)
        with self._lock:
            latest = self._latest.get(channel) == ticket
        if not latest or ok is False:
            return
        if ok:
            on_result(value)
        elif on_error is not None:
            on_error(value)
        else:
            raise value

    def is_busy(self) -> bool:
        return self._pending > 0

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every queued job has run (tests and shutdown)."""
        return self._pool.waitForDone(msecs)
