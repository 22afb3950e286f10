"""The optimizer race while the start is dragged (Rosenbrock, 8 runs x 2000 steps, the race's
docks open): from a mouse move of the start to every path recomputed and painted on the
landscape, and the start marker's own frame. Fast path (numba, compiled beforehand) and the
NumPy path measured in the same process.

    python tests/benchmarks/bench_race_drag.py [--frames 60]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (sets the platform and the import path)
import numpy as np
from _common import PaintCounter, row, summary, wait
from bench_drag import mouse
from PySide6 import QtCore, QtWidgets

ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"


def eight_runs():
    from explorer.core.race import RunSpec

    return [RunSpec("SGD", {"lr": 1e-3}, color=0),
            RunSpec("SGD", {"lr": 1e-3, "momentum": 0.9}, color=1),
            RunSpec("SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}, color=2),
            RunSpec("Adagrad", {"lr": 0.5}, color=3),
            RunSpec("RMSprop", {"lr": 1e-2}, color=4),
            RunSpec("Adam", {"lr": 5e-2}, color=5),
            RunSpec("AdamW", {"lr": 5e-2}, color=6),
            RunSpec("Newton", {"damping": 1.0}, color=7)]


def make_window(app, fast: bool):
    import pyqtgraph as pg

    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()
    pg.setConfigOptions(mouseRateLimit=-1)  # measure every move (see bench_drag)
    settings = QtCore.QSettings(QtCore.QTemporaryDir().path() + "/b.ini",
                                QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, expression=ROSENBROCK, restore=False, data_dir=None)
    window.resize(1200, 800)
    window.show()
    wait(app, lambda: window.landscape_view is not None and window.race_overlay is not None
         and window.landscape_model.f2 is not None and not window.is_busy(), 60)
    s = window.session
    with s.batch():
        s.set_xy_range((-2, 2), (-1, 3))
        s.set_race_runs(eight_runs())
        s.set_race_steps(2000)
        s.set_race_start((-1.5, 2.0))
        s.set_option("show_race", True)
    wait(app, lambda: bool(window.race_model.trajectories) and not window.is_busy(), 120)
    return window


def bench(app, frames: int, fast: bool) -> tuple[list[float], int]:
    window = make_window(app, fast)
    if not fast:  # every race of this window on the NumPy runner (in the race process)
        window.race_model.fast = False
    model = window.race_model
    view = window.landscape_view
    viewport = view.viewport()
    counter = PaintCounter()
    viewport.installEventFilter(counter)
    s = window.session
    start = QtCore.QPointF(view.mapFromScene(view.scene_pos(*s.race_start)))
    left = QtCore.Qt.MouseButton.LeftButton
    mouse(viewport, "move", start, QtCore.Qt.MouseButton.NoButton)
    mouse(viewport, "press", start, left)
    start = QtCore.QPointF(start.x() + 20, start.y())  # past Qt's drag distance
    mouse(viewport, "move", start, left)
    wait(app, model.is_current, 60)
    arrived = []  # the paint count when each race came back and was drawn
    model.changed.connect(lambda: arrived.append(counter.count))
    times = []
    for i in range(frames):
        angle = 2 * np.pi * (i + 1) / frames
        target = QtCore.QPointF(start.x() + 60 * np.cos(angle) - 60, start.y() + 60 * np.sin(angle))
        arrived.clear()
        t0 = time.perf_counter()
        mouse(viewport, "move", target, left)
        app.processEvents()
        wait(app, model.is_current, 60)  # the race for this start is back and drawn...
        wait(app, lambda: counter.count > arrived[-1], 5)  # ... and painted
        times.append((time.perf_counter() - t0) * 1e3)
    mouse(viewport, "release", target, QtCore.Qt.MouseButton.NoButton)
    steps = sum(t.steps for t in model.trajectories if t is not None)
    window.close()
    return times[3:], steps


def core_race(repeats: int) -> tuple[list[float], list[float]]:
    import explorer.core as ec

    f = ec.parse(ROSENBROCK)
    runs = [spec.make_run((-1.2, 1.0)) for spec in eight_runs()]
    ec.prepare(f)
    fast, numpy_ = [], []
    for i in range(repeats):
        moved = [ec.Run((-1.2 + 1e-3 * i, 1.0), r.optimizer) for r in runs]
        t0 = time.perf_counter()
        ec.optimize_many(f, moved, steps=2000, fast=True)
        fast.append((time.perf_counter() - t0) * 1e3)
    for i in range(max(3, repeats // 10)):
        moved = [ec.Run((-1.2 + 1e-3 * i, 1.0), r.optimizer) for r in runs]
        t0 = time.perf_counter()
        ec.optimize_many(f, moved, steps=2000, fast=False)
        numpy_.append((time.perf_counter() - t0) * 1e3)
    return fast, numpy_


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    fast_core, numpy_core = core_race(60)
    fast, steps = bench(app, args.frames, fast=True)
    slow, _ = bench(app, max(6, args.frames // 10), fast=False)
    print(f"platform: {QtWidgets.QApplication.platformName()}; path-steps per race: {steps:,}")
    print(row("core: 8 runs x 2000 steps, compiled runner", summary(fast_core), "target <= 30 ms",
              reference=summary(numpy_core), reference_name="the same race, NumPy runner"))
    print(row("core: the same race, NumPy runner", summary(numpy_core), is_reference=True))
    print(row("drag the start -> 8 paths recomputed, painted", summary(fast), "target <= 30 ms",
              reference=summary(slow), reference_name="the same frame, NumPy runner"))
    print(row("the same frame on the NumPy runner", summary(slow), is_reference=True))
    print(f"{'compiled over NumPy in the app (median)':<46} "
          f"{summary(slow)['median'] / summary(fast)['median']:8.1f}x")


if __name__ == "__main__":
    main()
