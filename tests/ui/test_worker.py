"""The worker: latest request wins, and Python's cycle collector never runs in a worker.

A cycle of Qt wrappers freed by a collection that a worker's allocations set off would delete
Qt objects outside the GUI thread while it may be painting them.
"""

from __future__ import annotations

import gc
import threading

from explorer.ui.worker import Worker


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
