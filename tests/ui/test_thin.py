"""A curve thinned in pixels (thin.py) is the same line with a fraction of the vertices."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtGui

from explorer.ui.views.curve_view import Curve, sample
from explorer.ui.views.thin import PASSES, TOLERANCE_PX, thin_polyline

# each pass moves the line at most TOLERANCE_PX
BOUND_PX = PASSES * TOLERANCE_PX


def distance_to_polyline(px, py, qx, qy):
    """The distance of each point (px, py) from the polyline through (qx, qy), NaN a break:
    the least distance to any of its segments, computed segment by segment."""
    ax, ay, bx, by = qx[:-1], qy[:-1], qx[1:], qy[1:]
    ok = np.isfinite(ax) & np.isfinite(ay) & np.isfinite(bx) & np.isfinite(by)
    ax, ay, bx, by = ax[ok], ay[ok], bx[ok], by[ok]
    dx, dy = bx - ax, by - ay
    length2 = np.where(dx * dx + dy * dy > 0, dx * dx + dy * dy, 1.0)
    t = np.clip(((px[:, None] - ax) * dx + (py[:, None] - ay) * dy) / length2, 0.0, 1.0)
    return np.min(np.hypot(ax + t * dx - px[:, None], ay + t * dy - py[:, None]), axis=1)


def pieces(xs, ys):
    """The polyline's pieces between breaks, each as its (first, last) vertex."""
    finite = np.isfinite(xs) & np.isfinite(ys)
    out, start = [], None
    for i, ok in enumerate(finite):
        if ok and start is None:
            start = i
        if start is not None and (not ok or i == len(xs) - 1):
            end = i if ok else i - 1
            out.append(((xs[start], ys[start]), (xs[end], ys[end])))
            start = None
    return out


@pytest.mark.parametrize("name, f", [
    ("sin", lambda x: 120 + 90 * np.sin(x / 37.0)),
    ("cubic", lambda x: 300 - ((x - 240) / 60) ** 3),
    ("steep exp", lambda x: 20 + 400 * np.exp(-x / 25.0)),
    ("noisy", lambda x: 200 + 40 * np.sin(x / 13.0)
     + 6 * np.random.default_rng(1).standard_normal(x.size)),
])
def test_every_dropped_vertex_lies_on_the_thinned_line(name, f):
    xs = np.linspace(3.0, 477.0, 2000)
    ys = f(xs)
    tx, ty = thin_polyline(xs, ys)
    assert (tx[0], ty[0], tx[-1], ty[-1]) == (xs[0], ys[0], xs[-1], ys[-1])
    assert np.all(np.isin(tx, xs))  # a subset of the vertices, in order
    assert np.all(np.diff(tx) > 0)
    assert distance_to_polyline(xs, ys, tx, ty).max() <= BOUND_PX
    if name != "noisy":  # smooth: a stroke needs a small fraction of 2,000 samples
        assert tx.size < 250


def test_breaks_stay_where_they_were_and_so_do_the_pieces_ends():
    xs, ys = sample(lambda x: 1.0 / x, -5, 5)  # NaN at the pole (curve_view.sample)
    px, py = 48.0 * (xs + 5.0), 240.0 - 30.0 * ys
    tx, ty = thin_polyline(px, py)
    assert np.isnan(tx).sum() == np.isnan(px).sum() == 1
    assert pieces(tx, ty) == pieces(px, py)
    finite = np.isfinite(px)
    assert distance_to_polyline(px[finite], py[finite], tx, ty).max() <= BOUND_PX


def test_a_closed_curve_and_a_short_one_keep_their_shape():
    angle = np.linspace(0.0, 2 * np.pi, 721)
    cx, cy = 200 + 80 * np.cos(angle), 150 + 50 * np.sin(angle)  # an ellipse (Jacobian lab)
    tx, ty = thin_polyline(cx, cy)
    assert tx.size < cx.size / 2
    assert (tx[0], ty[0]) == (tx[-1], ty[-1])
    assert distance_to_polyline(cx, cy, tx, ty).max() <= BOUND_PX
    two = (np.array([0.0, 10.0]), np.array([5.0, 7.0]))  # a tangent: as it is
    assert all(np.array_equal(a, b) for a, b in zip(thin_polyline(*two), two, strict=True))


def render(qtbot, item):
    widget = pg.PlotWidget(background="w")
    qtbot.addWidget(widget)
    widget.resize(520, 360)
    widget.addItem(item)
    widget.getPlotItem().hideAxis("left")
    widget.getPlotItem().hideAxis("bottom")
    widget.show()
    qtbot.waitExposed(widget)
    widget.getPlotItem().vb.setRange(xRange=(-4, 4), yRange=(-1.6, 1.6), padding=0)
    image = widget.viewport().grab().toImage().convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8)
    return pixels.reshape(image.height(), image.bytesPerLine() // 4, 4)[..., :3].copy()


def test_a_thinned_curve_draws_the_pixels_of_the_whole_one(qtbot, monkeypatch):
    """Curve with thinning against Curve given every vertex, and against pyqtgraph's
    PlotCurveItem, same data, same pen: the ink is in the same places (antialiasing may
    shade an edge pixel differently; drawing in pixels accounts for most of that)."""
    from explorer.ui.views import curve_view

    xs, ys = sample(lambda x: np.sin(2 * x) * np.exp(-0.1 * x * x), -4, 4)
    pen = pg.mkPen("#c03020", width=2.5)

    def drawn(item):
        item.setData(xs, ys)
        image = render(qtbot, item)
        return image, image.min(axis=2) < 128

    thinned, ink = drawn(Curve(pen=pen, name="f"))
    with monkeypatch.context() as m:
        m.setattr(curve_view, "thin_polyline", lambda px, py: (px, py))
        whole, ink_whole = drawn(Curve(pen=pen, name="f"))
    theirs, ink_theirs = drawn(pg.PlotCurveItem(pen=pen, antialias=True))
    assert ink_whole.sum() > 1500  # the curve was drawn
    assert (ink ^ ink_whole).sum() < 0.035 * ink_whole.sum()
    assert np.abs(thinned.astype(int) - whole.astype(int)).mean() < 0.1
    assert (ink ^ ink_theirs).sum() < 0.06 * ink_theirs.sum()


def test_infinite_and_huge_values_are_breaks_without_a_warning(qtbot):
    """inf, NaN and values whose pixels overflow (1e308) break the line where they are, and
    neither thinning nor the mapping to pixels warns (a warning raised in a paint would take
    the app down)."""
    import warnings

    xs = np.linspace(-4.0, 4.0, 2000)
    ys = np.sin(xs)
    ys[300], ys[301], ys[900] = np.inf, -np.inf, np.nan
    ys[1500:] = 1e308
    with np.errstate(over="ignore"):
        py = 200.0 - 1e10 * ys  # 1e308 * 1e10: -inf, as a steep view maps it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tx, ty = thin_polyline(48.0 * xs, py)
    finite = np.isfinite(tx) & np.isfinite(ty)
    assert (~finite).sum() >= 4 and tx[0] == 48.0 * xs[0]
    item = Curve(pen=pg.mkPen("#c03020", width=2.5), name="f")
    item.setData(xs, ys)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = render(qtbot, item)
    assert not [w for w in caught if "explorer" in w.filename], caught
    assert (image.min(axis=2) < 128).sum() > 500  # the finite stretches were drawn
