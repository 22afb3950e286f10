"""The landscape of f(x, y): (a) dragging the point (contours unchanged): mouse move ->
gradient, direction, contour through the point, eigen-axes, read-outs -> painted; (b) a
parameter changed (as a slider drag does): a 400x400 grid re-evaluated, 15 levels re-contoured,
the gradient field redrawn -> painted; (c) a pan: the drawn grid moves with the view and is
sampled again when the hand pauses, against sampling on every frame as before.

Reference in the same process: matplotlib (Agg) contourf + contour + draw of the same grid
and levels, per frame.

    python tests/benchmarks/bench_landscape.py [--frames 200]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (sets the platform and the import path)
import numpy as np
from _common import PaintCounter, painted, row, summary, wait
from bench_drag import mouse
from PySide6 import QtCore, QtWidgets

TEXT = "(x^2 + y - a)^2 + (x + y^2 - 7)^2"  # Himmelblau, with a = 11


def make_window(app):
    import pyqtgraph as pg

    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()
    pg.setConfigOptions(mouseRateLimit=-1)  # measure every move (see bench_drag)
    settings = QtCore.QSettings(QtCore.QTemporaryDir().path() + "/b.ini", QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, expression=TEXT, restore=False, data_dir=None)
    window.resize(1200, 800)
    window.show()
    wait(app, lambda: window.landscape_view is not None and window.landscape_model.f2 is not None
         and not window.is_busy())
    window.session.set_parameter("a", 11.0)
    window.session.set_xy_range((-5, 5), (-5, 5))
    wait(app, lambda: not window.is_busy())
    return window


def drag_frames(app, window, x, y, frames: int, offset) -> list[float]:
    """Press on the landscape at (x, y) (data), move through ``offset(i)`` (pixels from there)
    for i < ``frames`` and release: the time of each frame, mouse move -> painted."""
    view = window.landscape_view
    viewport = view.viewport()
    counter = PaintCounter()
    viewport.installEventFilter(counter)
    start = QtCore.QPointF(view.mapFromScene(view.scene_pos(x, y)))
    left = QtCore.Qt.MouseButton.LeftButton
    mouse(viewport, "move", start, QtCore.Qt.MouseButton.NoButton)
    mouse(viewport, "press", start, left)
    start = QtCore.QPointF(start.x() + 20, start.y())  # past Qt's drag distance
    mouse(viewport, "move", start, left)
    app.processEvents()
    times = []
    target = start
    for i in range(frames):
        dx, dy = offset(i)
        target = QtCore.QPointF(start.x() + dx, start.y() + dy)
        before = counter.count
        t0 = time.perf_counter()
        mouse(viewport, "move", target, left)
        app.processEvents()
        painted(app, counter, before)
        times.append((time.perf_counter() - t0) * 1e3)
    mouse(viewport, "release", target, QtCore.Qt.MouseButton.NoButton)
    return times


def bench_point(app, frames: int) -> list[float]:
    window = make_window(app)

    def circle(i):  # every frame moves (i = 0 is not the start)
        angle = 2 * np.pi * (i + 1) / frames
        return 120 * np.cos(angle) - 120, 120 * np.sin(angle)

    times = drag_frames(app, window, *window.session.point, frames, circle)
    window.close()
    return times[10:]


def bench_parameter(app, frames: int) -> list[float]:
    window = make_window(app)
    view = window.landscape_view
    counter = PaintCounter()
    view.viewport().installEventFilter(counter)
    times = []
    for i in range(frames):
        before = counter.count
        t0 = time.perf_counter()
        window.session.set_parameter("a", 11.0 + 3 * np.sin(i / 7))  # what a slider move does
        app.processEvents()
        painted(app, counter, before)
        times.append((time.perf_counter() - t0) * 1e3)
    window.close()
    return times[5:]


def bench_pan(app, frames: int, sample_every_frame: bool = False) -> list[float]:
    """A hand panning the landscape from an empty corner, back and forth: mouse move ->
    painted. ``sample_every_frame``: as before the pan moved the drawn grid, f sampled on the
    coarse grid and the layers redrawn on every frame (the reference, in the same process)."""
    from explorer.ui.landscape_model import LandscapeModel

    within = LandscapeModel._moved_within
    if sample_every_frame:
        LandscapeModel._moved_within = lambda self: False
    try:
        window = make_window(app)
        (x0, x1), (y0, y1) = window.session.xy_range

        def back_and_forth(i):  # 40 px either way and back, 4 px a frame
            # (a sine's frames at its crests moved the view less than a pixel: nothing to
            # paint, and the frame waited for the refine timer, or never came)
            t = (i + 1) % 40
            offset = 4 * t if t <= 10 else 80 - 4 * t if t <= 30 else 4 * t - 160
            return offset, offset / 2

        # from an empty corner, not the point
        times = drag_frames(app, window, x0 + 0.1 * (x1 - x0), y1 - 0.1 * (y1 - y0), frames,
                            back_and_forth)
        wait(app, lambda: not window.is_busy())
        window.close()
    finally:
        LandscapeModel._moved_within = within
    return times[5:]


def bench_matplotlib(frames: int) -> list[float]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xs = np.linspace(-5, 5, 400)
    X, Y = np.meshgrid(xs, xs)
    fig = Figure(figsize=(12, 8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    times = []
    for i in range(frames):
        t0 = time.perf_counter()
        a = 11.0 + 3 * np.sin(i / 7)
        Z = (X**2 + Y - a) ** 2 + (X + Y**2 - 7) ** 2
        ax.clear()
        levels = np.linspace(Z.min(), Z.max(), 15)
        ax.contourf(X, Y, Z, levels=levels, cmap="viridis")
        ax.contour(X, Y, Z, levels=levels, colors="white", linewidths=0.8)
        fig.canvas.draw()
        times.append((time.perf_counter() - t0) * 1e3)
    return times[2:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    point = summary(bench_point(app, args.frames))
    parameter = summary(bench_parameter(app, max(40, args.frames // 4)))
    pan = summary(bench_pan(app, max(40, args.frames // 2)))
    pan_before = summary(bench_pan(app, max(40, args.frames // 2), sample_every_frame=True))
    ref = summary(bench_matplotlib(max(12, args.frames // 15)))
    print(f"platform: {QtWidgets.QApplication.platformName()}")
    print(row("drag the point on the landscape", point, "target <= 4 ms"))
    name = "matplotlib contourf + contour + draw"
    print(row("parameter change: 400x400, 15 levels, field", parameter, "target <= 25 ms",
              "speed-up target >= 3x (ratio <= 0.33x)", reference=ref, reference_name=name))
    print(row(name, ref, is_reference=True))
    print(row("pan frame, sampling every frame (before)", pan_before, is_reference=True))
    print(row("pan frame: the drawn grid moves, refined at a pause", pan, "target <= 25 ms",
              reference=pan_before, reference_name="the same pan, sampling every frame"))
    print(f"{'speed-up over matplotlib (median)':<46} {ref['median'] / parameter['median']:8.1f}x"
          "   target >= 3x")


if __name__ == "__main__":
    main()
