"""Drag a bound of the integral with n = 10,000 boxes: mouse move on b -> boxes recomputed,
redrawn and painted.

Scene: 1200x800 window, f and f' (2,000 samples each), tangent, point, grid, legend, the boxes
of the midpoint rule (one filled item), the bounds a and b, the Integral panel and the
convergence plots (read-outs throttled to 20 Hz, the sums against n off the GUI thread).
References in the same process: the same drag with n = 10, and matplotlib (Agg) redrawing the
same scene with the boxes as one filled `stairs` artist per frame.

    python tests/benchmarks/bench_integral_drag.py [--frames 300]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (sets the platform and the import path)
import numpy as np
from _common import PaintCounter, row, summary
from bench_drag import mouse
from PySide6 import QtCore, QtWidgets


def bench_ours(frames: int, n: int) -> list[float]:
    import pyqtgraph as pg

    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()
    pg.setConfigOptions(mouseRateLimit=-1)  # measure every move (see bench_drag)
    settings = QtCore.QSettings(QtCore.QTemporaryDir().path() + "/b.ini", QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, expression="sin(x)*exp(-x^2/5)", restore=False, data_dir=None)
    window.resize(1200, 800)
    window.show()
    app = QtWidgets.QApplication.instance()
    deadline = time.time() + 30

    def settle():
        while window.session.function is None or window.is_busy() or (
                window.session.show_riemann and not window.integration_model.ready):
            app.processEvents()
            if time.time() > deadline:
                raise RuntimeError("the app did not settle in time")
            time.sleep(0.005)

    settle()
    s = window.session
    s.set_integral_bounds(-3.0, 2.0)
    s.set_riemann_n(n)
    s.set_option("show_riemann", True)
    settle()
    view = window.curve_view
    view.getPlotItem().vb.setRange(xRange=(-5, 5), yRange=(-1, 1), padding=0)
    for _ in range(5):
        app.processEvents()
    viewport = view.viewport()
    counter = PaintCounter()
    viewport.installEventFilter(counter)

    def widget_pos(x, y):
        scene = view.getPlotItem().vb.mapViewToScene(QtCore.QPointF(x, y))
        return QtCore.QPointF(view.mapFromScene(scene))

    left = QtCore.Qt.MouseButton.LeftButton
    start = widget_pos(2.0, 0.5)
    mouse(viewport, "move", start, QtCore.Qt.MouseButton.NoButton)
    mouse(viewport, "press", start, left)
    app.processEvents()
    # a drag starts once the mouse has left the press by Qt's drag distance: start it first
    start = QtCore.QPointF(start.x() + 20, start.y())
    mouse(viewport, "move", start, left)
    app.processEvents()
    times = []
    # every frame moves b by 2 pixels (a move within one pixel changes nothing, paints nothing)
    half = frames // 2
    steps = np.concatenate([np.arange(1, half + 1), np.arange(half - 1, 2 * half - frames - 1, -1)])
    for i, k in enumerate(steps):
        target = QtCore.QPointF(start.x() + 2 * k, start.y())
        before = counter.count
        t0 = time.perf_counter()
        mouse(viewport, "move", target, left)
        app.processEvents()
        spin = 0
        while counter.count == before:
            app.processEvents()
            spin += 1
            if spin > 10000:
                raise RuntimeError(f"frame {i} was never painted")
        times.append((time.perf_counter() - t0) * 1e3)
    mouse(viewport, "release", target, QtCore.Qt.MouseButton.NoButton)
    app.processEvents()
    end = view.getPlotItem().vb.mapSceneToView(view.mapToScene(target.toPoint())).x()
    assert abs(s.integral_bounds[1] - end) < 0.05, "the drag did not move b"
    assert len(window.integral_overlay.drawn_boxes()[1]) == n
    window.close()
    return times[10:]


def bench_matplotlib(frames: int, n: int) -> list[float]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xs = np.linspace(-5, 5, 2000)
    f = np.sin(xs) * np.exp(-xs**2 / 5)
    fig = Figure(figsize=(12, 8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.grid(True, color="#e6e8ec")
    ax.plot(xs, f, label="f(x)")
    edges = np.linspace(-3, 2, n + 1)
    stairs = ax.stairs(np.zeros(n), edges, fill=True, alpha=0.3)
    ax.legend(loc="upper left")
    ax.set_xlim(-5, 5)
    ax.set_ylim(-1, 1)
    times = []
    for b in np.linspace(2, 4.5, frames):
        t0 = time.perf_counter()
        edges = np.linspace(-3, b, n + 1)
        mids = (edges[:-1] + edges[1:]) / 2
        stairs.set_data(np.sin(mids) * np.exp(-mids**2 / 5), edges)
        fig.canvas.draw()
        times.append((time.perf_counter() - t0) * 1e3)
    return times[3:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    big = summary(bench_ours(args.frames, 10_000))
    small = summary(bench_ours(args.frames, 10))
    ref = summary(bench_matplotlib(max(30, args.frames // 10), 10_000))
    print(f"platform: {QtWidgets.QApplication.platformName()}")
    name = "matplotlib Agg redraw, n = 10,000 stairs"
    print(row("drag b, n = 10,000 (move -> painted)", big, "target <= 5 ms",
              reference=ref, reference_name=name))
    print(row("drag b, n = 10", small, "", "the same scene with few boxes"))
    print(row(name, ref, is_reference=True))
    print(f"{'cost of 10,000 boxes over 10 (median)':<46} {big['median'] - small['median']:8.2f} ms")
    print(f"{'speed-up over matplotlib (median)':<46} {ref['median'] / big['median']:8.1f}x")


if __name__ == "__main__":
    main()
