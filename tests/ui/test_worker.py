"""The worker: latest request wins, results are delivered one at a time with a paint between,
and Python's cycle collector never runs in a worker.

A cycle of Qt wrappers freed by a collection that a worker's allocations set off would delete
Qt objects outside the GUI thread while it may be painting them.
"""

from __future__ import annotations

import gc
import sys
import threading
import time

from PySide6 import QtWidgets

from explorer.ui.bindings import Throttle
from explorer.ui.worker import GuiCollector, InTurns, Worker, after_paint_pending


class Cycle:
    """A reference cycle that records the thread that finally frees it."""

    freed_in: list[int] = []

    def __init__(self):
        self.me = self

    def __del__(self):
        Cycle.freed_in.append(threading.get_ident())


def test_cycles_are_freed_in_the_gui_thread_not_in_a_worker(qtbot):
    worker = Worker()
    assert not gc.isenabled()  # collection is the GUI thread's timer's job now
    Cycle.freed_in.clear()

    def job():
        Cycle()  # garbage at once: only a collection frees it
        # allocate as SymPy does: far past every threshold of automatic collection
        # (kept alive: the counts stay past the thresholds until the GUI thread's timer looks)
        return [[i] for i in range(200_000)]

    results = []
    worker.submit("job", job, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=10000)
    # freed once, by the GUI thread's timer (the worker's allocations collected nothing)
    qtbot.waitUntil(lambda: bool(Cycle.freed_in), timeout=5000)
    assert Cycle.freed_in == [threading.get_ident()]


def test_only_the_latest_request_of_a_channel_is_delivered(qtbot):
    worker = Worker()
    gate = threading.Event()
    got = []
    worker.submit("c", lambda: gate.wait(5) and "first", got.append)
    worker.submit("c", lambda: "second", got.append)
    worker.submit("other", lambda: "other", got.append)
    gate.set()
    qtbot.waitUntil(lambda: not worker.is_busy(), timeout=10000)
    assert got == ["second", "other"]


def shown_canvas(qtbot, order: list) -> QtWidgets.QWidget:
    """A shown widget that appends "paint" to ``order`` each time it is painted."""

    class Canvas(QtWidgets.QWidget):
        def paintEvent(self, event):
            order.append("paint")

    canvas = Canvas()
    qtbot.addWidget(canvas)
    canvas.show()
    qtbot.waitExposed(canvas)
    qtbot.wait(50)
    order.clear()
    return canvas


def test_results_that_arrive_together_are_delivered_with_a_paint_between(qtbot):
    """Qt paints between two results: with every result of a burst delivered in one pass, the
    repaints and input waited behind all of them (up to ~1.5 s in the soak)."""

    order = []
    canvas = shown_canvas(qtbot, order)
    workers = [Worker() for _ in range(3)]
    gate = threading.Event()
    finished = threading.Semaphore(0)

    def job(i):
        gate.wait(5)
        finished.release()
        return i

    def delivered(i):
        order.append(i)
        canvas.update()  # each result asks for a repaint, as the views do
        time.sleep(0.02)  # and costs the GUI thread something

    for i, worker in enumerate(workers):
        worker.submit("c", lambda i=i: job(i), delivered)
    gate.set()
    for _ in workers:  # all three results are waiting before the GUI thread looks
        assert finished.acquire(timeout=5)
    time.sleep(0.05)
    qtbot.waitUntil(lambda: not any(w.is_busy() for w in workers), timeout=10000)
    qtbot.waitUntil(lambda: order[-1:] == ["paint"], timeout=5000)
    results = [x for x in order if x != "paint"]
    assert sorted(results) == [0, 1, 2]
    # a paint between each two results, not three results and then one paint
    assert order[:order.index(results[-1]) + 1] == [results[0], "paint", results[1], "paint",
                                                     results[2]]


def test_a_throttle_after_paint_calls_in_a_later_turn_once_the_window_has_painted(qtbot):
    """Views that follow a result another view also follows (the race plots and table after
    the landscape's race) update in turns of their own, each after the window painted the
    last: a result no longer updates and paints every view in one turn."""

    order = []
    canvas = shown_canvas(qtbot, order)
    plots = Throttle(lambda: order.append("plots"), 80, canvas, after_paint=True)
    table = Throttle(lambda: order.append("table"), 80, canvas, after_paint=True)
    readout = Throttle(lambda: order.append("readout"), 80, canvas)

    # a result comes: the landscape redraws at once, its followers are called
    order.append("landscape")
    canvas.update()
    for follower in (plots, table, readout, plots, table):  # twice: one call each still
        follower()
    assert order == ["landscape", "readout"]  # the plain throttle calls at once, as before
    assert Throttle.pending() and after_paint_pending()
    qtbot.waitUntil(lambda: "table" in order, timeout=5000)
    qtbot.wait(50)
    assert order[:order.index("table") + 1] == ["landscape", "readout", "paint", "plots", "table"]
    assert order.count("plots") == 1 and order.count("table") == 1
    assert not Throttle.pending() and not after_paint_pending()

    # a later call is not made at once either
    order.clear()
    plots()
    assert order == []
    qtbot.waitUntil(lambda: order == ["plots"], timeout=5000)
    # a throttle whose widget went before its turn calls nothing
    gone = QtWidgets.QWidget()
    orphan = Throttle(lambda: order.append("orphan"), 80, gone, after_paint=True)
    orphan()
    gone.deleteLater()
    qtbot.waitUntil(lambda: not after_paint_pending(), timeout=5000)
    qtbot.wait(120)
    assert "orphan" not in order and not Throttle.pending()


def test_calls_in_turns_share_a_turn_up_to_the_budget_and_paint_between(qtbot):
    """An applied document's ~40 notifications: cheap ones share a turn, and once a turn's
    calls have taken the budget the rest wait until the window has painted."""
    order = []
    canvas = shown_canvas(qtbot, order)
    spread = InTurns(budget_ms=15)

    def call(name, ms=0.0):
        def run():
            order.append(name)
            canvas.update()
            time.sleep(ms / 1000)
        return run

    for name in ("a", "b", "c"):  # cheap: one turn for all three and the next
        spread(call(name))
    spread(call("slow", 20))  # past the budget: what follows waits for a paint
    spread(call("d"))
    assert order == [] and spread.pending()  # nothing at once
    qtbot.waitUntil(lambda: "d" in order and not spread.pending(), timeout=5000)
    assert order[:order.index("d") + 1] == ["a", "b", "c", "slow", "paint", "d"]

    # a call that raises leaves the rest to run after the next paint
    order.clear()
    errors = []
    previous, sys.excepthook = sys.excepthook, lambda *exc: errors.append(exc[1])

    def boom():
        raise RuntimeError("boom")

    try:
        spread(boom)
        spread(call("after"))
        qtbot.waitUntil(lambda: "after" in order, timeout=5000)
    finally:
        sys.excepthook = previous
    assert [str(e) for e in errors] == ["boom"] and not spread.pending()


def test_full_collections_after_the_first_scan_only_what_came_since(qtbot):
    """The first check after the start freezes what survived a full collection: the next full
    collections skip it, and still free the cycles made since."""
    collector = GuiCollector(interval_ms=10**6)  # checked by hand here, not by its timer
    collector.timer.stop()
    collector.thresholds = (-1, -1, -1)  # every later check is a full collection
    collector.FREEZE_AFTER_MS = 0  # the start is over
    try:
        survivor = [[i] for i in range(50_000)]  # alive at the first check
        collector.check()
        assert collector.frozen and gc.get_freeze_count() > len(survivor)
        Cycle.freed_in.clear()
        Cycle()  # made after the freeze, garbage at once
        assert Cycle.freed_in == []
        collector.check()
        assert Cycle.freed_in == [threading.get_ident()]
    finally:
        gc.unfreeze()  # the rest of this test process collects as it did
