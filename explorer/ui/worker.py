"""Work off the GUI thread with "latest request wins".

Each request has a channel (``"parse"``, ``"typeset"``, ...). A newer request on a channel makes
older ones stale: a stale job that has not started is skipped, and a stale result is dropped.
Results come back on the GUI thread one at a time, each after the window has painted the last
(:class:`_Deliveries`).
"""

from __future__ import annotations

import collections
import itertools
import sys
import threading
import traceback
from collections.abc import Callable

import shiboken6
from PySide6 import QtCore

_collector = None
_deliveries = None


class GuiCollector(QtCore.QObject):
    """Python's cycle collector, run by a timer of the GUI thread, generation by generation as
    the thresholds say (what pyqtgraph's GarbageCollector does), with one difference: the full
    collections scan only what came after the start.

    A full collection walks every tracked object: with SymPy, SciPy, numba and the views
    loaded that is ~270,000 objects and ~200 ms on the GUI thread, a stall a user feels in the
    middle of a drag. So once the start is over (the first check ``FREEZE_AFTER_MS`` after
    this collector was made, so that the start does not also wait for it), a full
    collection moves what survived (modules, classes, the window's items: what lives as long
    as the app) to the permanent generation with ``gc.freeze()``; later full
    collections see only the objects made since (~1 ms after a function change, against
    ~220 ms; tests/benchmarks/bench_stalls.py). Reference counting still frees frozen
    objects; only a cycle among them would never be freed."""

    FREEZE_AFTER_MS = 5000

    def __init__(self, interval_ms: int = 500):
        super().__init__()
        import gc

        self._gc = gc
        self.thresholds = gc.get_threshold()
        self.frozen = False
        self._age = QtCore.QElapsedTimer()
        self._age.start()
        gc.disable()
        self.timer = QtCore.QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        gc = self._gc
        if not self.frozen and self._age.elapsed() >= self.FREEZE_AFTER_MS:
            gc.collect(2)
            gc.freeze()
            self.frozen = True
            return
        (l0, l1, l2), (t0, t1, t2) = gc.get_count(), self.thresholds
        if l0 <= t0:
            return
        if l1 <= t1:
            gc.collect(0)
        elif l2 <= t2:
            gc.collect(1)
        else:
            gc.collect(2)


def collect_garbage_in_gui_thread() -> None:
    """Python's cycle collector runs in whichever thread happens to allocate: a worker busy in
    SymPy or numba would then free the cycles of Qt wrappers (plot items, pens) outside the
    GUI thread, while it may be painting them, which Qt does not survive. Automatic collection
    is turned off and a :class:`GuiCollector` collects on a timer of the GUI thread instead.
    Called from the GUI thread; once per process."""
    global _collector
    if _collector is None:
        _collector = GuiCollector()


class _Deliveries(QtCore.QObject):
    """Results reach the GUI thread one at a time, each after the window has painted the last.

    A queued signal per result let Qt deliver every result waiting, and every one posted
    meanwhile, back to back: with the race, the landscape's sampler and the analysis finishing
    together, the deliveries and the repaints they asked for held the GUI thread for up to
    ~1.5 s, and input and timers (the animation, the cursor) waited all that while. Here the
    workers append to a queue and wake a timer on the GUI thread, which calls one result's
    callback (stale results, which call nothing, are dropped on the way). The next waits
    ``PAINT_FIRST_MS``: Qt paints a window 5 ms after it was asked to
    (``QT_QPA_UPDATE_IDLE_TIME``), so the repaint the last result asked for, the input that
    came meanwhile and the other timers go first. Order is kept: first finished, first
    delivered."""

    PAINT_FIRST_MS = 8
    wake = QtCore.Signal()

    def __init__(self):
        super().__init__()
        self._queue: collections.deque = collections.deque()  # (worker, message), any thread
        self._timer = QtCore.QTimer(self, singleShot=True)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._deliver_next)
        self._clock = QtCore.QElapsedTimer()  # since the last callback ended
        self.wake.connect(self._arm, QtCore.Qt.ConnectionType.QueuedConnection)

    def put(self, worker: Worker, message: tuple) -> None:
        """From a worker's thread: queue ``message`` for ``worker`` on the GUI thread."""
        self._queue.append((worker, message))
        self.wake.emit()

    def call_later(self, callback: Callable[[], object]) -> None:
        """From the GUI thread: call ``callback`` in a later turn, in order with the results,
        after the window has painted (what a view does with a result spread over turns).
        The turn that asks did GUI work: like a callback's, the repaint it asked for goes
        first."""
        self._queue.append((None, callback))
        self._clock.start()
        self.wake.emit()

    def pending(self) -> bool:
        """Something waits in the queue (a result, or a call from :meth:`call_later`)."""
        return bool(self._queue)

    def _arm(self) -> None:
        if self._queue and not self._timer.isActive():
            since = self._clock.elapsed() if self._clock.isValid() else self.PAINT_FIRST_MS
            self._timer.start(max(0, self.PAINT_FIRST_MS - since))

    def _deliver_next(self) -> None:
        try:
            while self._queue:
                worker, message = self._queue.popleft()
                if worker is None:  # call_later
                    self._clock.start()
                    message()
                    break
                if shiboken6.isValid(worker) and worker._deliver(message):
                    self._clock.start()
                    break  # one callback at a time
        finally:  # the rest (also after a callback that raised) when the window has painted
            self._arm()


def _deliveries_in_gui_thread() -> _Deliveries:
    """The one queue every worker delivers through (made on the GUI thread, once)."""
    global _deliveries
    if _deliveries is None:
        _deliveries = _Deliveries()
    return _deliveries


def after_paint(callback: Callable[[], object]) -> None:
    """Call ``callback`` on the GUI thread in a later turn of the event loop, after the window
    has painted and after the results already queued (:class:`_Deliveries`). From the GUI
    thread."""
    _deliveries_in_gui_thread().call_later(callback)


class InTurns:
    """Calls spread over turns of the event loop, a few milliseconds of them per turn, each
    turn after the window has painted the last (:func:`after_paint`). A whole new state (an
    undo, an opened file) tells its ~40 subscribers this way: the views it changes update and
    repaint over several short turns, not all in one long one, and the cheap calls (a
    readout, a throttle started) share a turn, so the last view follows ~0.1 s after the
    first, not one paint interval per subscriber later.

    ``budget_ms``: once the calls of a turn have taken this long, the rest wait for the next.
    Use as ``Session.spread(in_turns)``; from the GUI thread."""

    def __init__(self, budget_ms: float = 8.0):
        self.budget_ms = budget_ms
        self._queue: collections.deque = collections.deque()
        self._armed = False
        self._clock = QtCore.QElapsedTimer()

    def __call__(self, callback: Callable[[], object]) -> None:
        self._queue.append(callback)
        if not self._armed:
            self._armed = True
            after_paint(self._run)

    def pending(self) -> bool:
        return bool(self._queue)

    def _run(self) -> None:
        self._clock.start()
        try:
            while self._queue and self._clock.elapsed() < self.budget_ms:
                self._queue.popleft()()
        finally:  # the rest (also after a call that raised) once the window has painted
            self._armed = bool(self._queue)
            if self._armed:
                after_paint(self._run)


def after_paint_pending() -> bool:
    """A call of :func:`after_paint` (or a result) has not been made yet."""
    return _deliveries is not None and _deliveries.pending()


class Worker(QtCore.QObject):
    """Runs callables in a private single-thread pool; delivers only the latest per channel."""

    busy_changed = QtCore.Signal(bool)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        # Every Python call Qt makes into the GUI thread (each paint() override) must take the
        # GIL from a busy worker, waiting up to the switch interval each time: with one worker
        # busy in Python, the landscape's repaint (15 ms alone) took 114 ms at the default
        # 5 ms, 55 ms at 1 ms and 28 ms at 0.1 ms. The interval costs nothing while the GUI
        # thread waits for events (no one asks for the GIL then).
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.0001))
        collect_garbage_in_gui_thread()
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # SymPy and mathtext are not thread-safe among themselves
        self._deliveries = _deliveries_in_gui_thread()
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
                self._deliveries.put(self, (ticket, False, None))
                return
            try:
                value = job()
                self._deliveries.put(self, (ticket, True, value))
            except BaseException as exc:  # delivered to on_error on the GUI thread
                exc.__traceback_text__ = traceback.format_exc()
                self._deliveries.put(self, (ticket, None, exc))

        self._pool.start(run)
        return ticket

    def _deliver(self, message) -> bool:
        """On the GUI thread: True if a callback ran (a stale result calls nothing)."""
        ticket, ok, value = message
        channel, on_result, on_error = self._callbacks.pop(ticket)
        self._pending -= 1
        if self._pending == 0:
            self.busy_changed.emit(False)
        with self._lock:
            latest = self._latest.get(channel) == ticket
        if not latest or ok is False:
            return False
        if ok:
            on_result(value)
        elif on_error is not None:
            on_error(value)
        else:
            raise value
        return True

    def is_busy(self) -> bool:
        return self._pending > 0

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every queued job has run (tests and shutdown)."""
        return self._pool.waitForDone(msecs)
