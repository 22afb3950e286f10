"""The regression lab with 1,000 points: a data point dragged with mouse events, each frame
moving it, J(w, b) re-sampled on 200x200 from the sufficient statistics and re-contoured, the
line and residuals redrawn, both views painted. Reference in the same process: the same J
grid by a loop-free direct mean over the data per cell (what the statistics replace).

    python tests/benchmarks/bench_regression_drag.py [--frames 100]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (sets the platform and the import path)
import numpy as np
from _common import PaintCounter, row, summary, wait
from bench_drag import mouse
from PySide6 import QtCore, QtWidgets


def make_window(app):
    import pyqtgraph as pg

    from explorer.core.regression import generate
    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()
    pg.setConfigOptions(mouseRateLimit=-1)  # measure every move (see bench_drag)
    settings = QtCore.QSettings(QtCore.QTemporaryDir().path() + "/b.ini",
                                QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, expression="x^2", restore=False, data_dir=None)
    window.resize(1200, 800)
    window.show()
    wait(app, lambda: window.regression_loss_view is not None and not window.is_busy(), 60)
    window.regression_action.trigger()
    window.regression_model.set_data(generate(n=1000, seed=1))
    window.regression_model.fit()
    wait(app, lambda: not window.is_busy(), 30)
    for _ in range(20):
        app.processEvents()
    return window


def bench(app, frames: int) -> list[float]:
    window = make_window(app)
    data_view, loss_view = window.regression_data_view, window.regression_loss_view
    counters = [PaintCounter(), PaintCounter()]
    data_view.viewport().installEventFilter(counters[0])
    loss_view.viewport().installEventFilter(counters[1])
    m = window.regression_model
    i = int(np.argmax(m.data.xs))
    viewport = data_view.viewport()
    start = QtCore.QPointF(data_view.mapFromScene(data_view.point_scene_pos(i)))
    left = QtCore.Qt.MouseButton.LeftButton
    mouse(viewport, "move", start, QtCore.Qt.MouseButton.NoButton)
    mouse(viewport, "press", start, left)
    start = QtCore.QPointF(start.x(), start.y() - 20)  # past Qt's drag distance
    mouse(viewport, "move", start, left)
    app.processEvents()
    times = []
    for k in range(frames):
        target = QtCore.QPointF(start.x(), start.y() + 60 * np.sin(2 * np.pi * (k + 1) / frames))
        before = [c.count for c in counters]
        t0 = time.perf_counter()
        mouse(viewport, "move", target, left)
        app.processEvents()
        wait(app, lambda b=before: all(c.count > n for c, n in zip(counters, b, strict=True)), 5)
        times.append((time.perf_counter() - t0) * 1e3)
    mouse(viewport, "release", target, QtCore.Qt.MouseButton.NoButton)
    window.close()
    return times[5:]


def grid_by_data(repeats: int) -> tuple[list[float], list[float]]:
    """J on 200x200 from the statistics (what the lab does) and from the data (a mean over
    1,000 points per cell, vectorised in chunks)."""
    from explorer.core.regression import generate

    data = generate(n=1000, seed=1)
    ws, bs = np.linspace(0, 3, 200), np.linspace(-2, 1, 200)
    fast, slow = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        data.stats.loss(ws[None, :], bs[:, None])
        fast.append((time.perf_counter() - t0) * 1e3)
    for _ in range(max(3, repeats // 20)):
        t0 = time.perf_counter()
        z = np.empty((200, 200))
        for r in range(200):
            res = ws[:, None] * data.xs[None, :] + bs[r] - data.ys[None, :]
            z[r] = np.mean(res * res, axis=1)
        slow.append((time.perf_counter() - t0) * 1e3)
    return fast, slow


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    frames = summary(bench(app, args.frames))
    fast, slow = grid_by_data(200)
    print(f"platform: {QtWidgets.QApplication.platformName()}; 1,000 points, J on 200x200")
    name = "J grid as a mean over the data per cell"
    print(row("drag a point: J re-contoured, both views painted", frames, "target <= 15 ms",
              reference=summary(slow), reference_name=name))
    print(row("J grid from the sufficient statistics", summary(fast),
              reference=summary(slow), reference_name=name))
    print(row(name, summary(slow), is_reference=True))
    print(f"{'statistics over the data (median)':<46} "
          f"{summary(slow)['median'] / summary(fast)['median']:8.1f}x")


if __name__ == "__main__":
    main()
