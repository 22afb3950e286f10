"""What the GUI thread pays beyond the work itself, with every dock open (Rosenbrock, the race
shown): (a) a full collection of Python's cycle collector, with the objects that survived the
start frozen (``GuiCollector``) against the same collection unfrozen; (b) the landscape's
repaint while a worker thread runs Python, at the GIL switch interval the workers set
(0.1 ms) against the 1 ms they set before, and with the worker idle; (c) the same repaint
while a worker traces the landscape's contours (400x400, 15 levels) with ``contour_lines``
(a level per call to contourpy, which holds the GIL for a call) against all levels in one
call (``multi_lines``, as before).

Both references are measured in the same process, on the same window.

    python tests/benchmarks/bench_stalls.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import gc
import sys
import threading
import time

import _common  # noqa: F401  (sets the platform and the import path)
from _common import row, summary, wait
from PySide6 import QtCore, QtWidgets

TEXT = "(1 - x)^2 + 100(y - x^2)^2"


def make_window(app):
    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()
    folder = QtCore.QTemporaryDir()
    settings = QtCore.QSettings(folder.path() + "/b.ini", QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, expression=TEXT, restore=False, data_dir=None)
    window.resize(1200, 800)
    window.show()
    for name in ("expectation", "jacobian", "backprop", "regression"):
        getattr(window, f"{name}_action").setChecked(True)
    window.session.set_option("show_race", True)
    for dock in window.docks.values():
        dock.show()
    wait(app, lambda: window.landscape_view is not None and not window.is_busy(), 120)
    end = time.time() + 2
    while time.time() < end:  # the views' first paints and deferred layouts
        app.processEvents()
        time.sleep(0.005)
    return window, folder


def timed(fn, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    window, _folder = make_window(app)
    from explorer.ui import worker

    # (a) the collector: a full collection after each of a few function changes (each leaves
    # new SymPy expressions, compiled functions and plot data), with nothing frozen (as
    # pyqtgraph's GarbageCollector collected) and then as GuiCollector leaves it after its
    # first full collection
    texts = ["x^2 - y^2 + y^4/4", "sin(x)*cos(y)", TEXT]

    def after_a_change(r):
        window.request_expression(texts[r % len(texts)])
        wait(app, lambda: not window.is_busy(), 120)
        t = time.perf_counter()
        gc.collect(2)
        return (time.perf_counter() - t) * 1000.0

    was_frozen = worker._collector.frozen
    gc.unfreeze()
    tracked = len(gc.get_objects())
    unfrozen = summary([after_a_change(r) for r in range(args.rounds)])
    gc.freeze()
    frozen = summary([after_a_change(r) for r in range(args.rounds)])
    if not was_frozen:
        gc.unfreeze()
    print(row("full cycle collection, nothing frozen (before)", unfrozen, is_reference=True,
              note=f"{tracked:,} objects tracked"))
    print(row("full cycle collection, the start frozen (ours)", frozen, "<= 10 ms",
              reference=unfrozen, reference_name="the same, nothing frozen",
              note="after a function change each; GuiCollector freezes what survived its "
                   "first full collection"))

    # (b) a repaint of the landscape while a worker runs Python
    viewport = window.landscape_view.viewport()
    idle = summary(timed(viewport.repaint, args.rounds))
    busy = {"on": True}

    def python_work():
        x = 0
        while busy["on"]:
            x += 1

    thread = threading.Thread(target=python_work, daemon=True)
    thread.start()
    time.sleep(0.05)
    contended = {}
    for interval in (0.001, 0.0001):
        sys.setswitchinterval(interval)
        contended[interval] = summary(timed(viewport.repaint, args.rounds))
    busy["on"] = False
    thread.join()
    print(row("landscape repaint, worker idle", idle, is_reference=True))
    print(row("landscape repaint, worker busy, 1 ms switch (before)", contended[0.001],
              is_reference=True))
    print(row("landscape repaint, worker busy, 0.1 ms switch (ours)", contended[0.0001],
              reference=contended[0.001], reference_name="the same at a 1 ms switch",
              note=f"alone: {idle['median']:.1f} ms"))

    # (c) a repaint of the landscape while a worker traces contours
    import contourpy

    from explorer.core import multivariate as mv

    grid = mv.evaluate_grid(window.session.function, (-2, 2), (-1, 3), 400)
    levels = mv.contour_levels(grid.z, 15, log=True)

    def one_call():
        generator = contourpy.contour_generator(grid.xs, grid.ys, grid.z, name="serial",
                                                line_type=contourpy.LineType.ChunkCombinedNan)
        generator.multi_lines(levels)

    def ours():
        mv.contour_lines(grid, levels)

    traced = {}
    for name, trace in (("one call", one_call), ("ours", ours)):
        alone = summary(timed(trace, args.rounds))
        busy["on"] = True
        count = {"n": 0}

        def contouring(trace=trace, count=count):
            while busy["on"]:
                trace()
                count["n"] += 1

        thread = threading.Thread(target=contouring, daemon=True)
        thread.start()
        time.sleep(0.1)
        traced[name] = (summary(timed(viewport.repaint, args.rounds)), alone)
        busy["on"] = False
        thread.join()
        assert count["n"] > 0
    print(row("contours traced alone, all levels in one call", traced["one call"][1],
              is_reference=True))
    print(row("contours traced alone, a level per call (ours)", traced["ours"][1],
              reference=traced["one call"][1], reference_name="all levels in one call"))
    print(row("landscape repaint, worker contouring in one call (before)",
              traced["one call"][0], is_reference=True))
    print(row("landscape repaint, worker contouring a level per call (ours)",
              traced["ours"][0], reference=traced["one call"][0],
              reference_name="the same, one call", note=f"alone: {idle['median']:.1f} ms"))
    window.close()


if __name__ == "__main__":
    main()
