"""CrossSectionView: f(p + t u) against t, the 1D view of a 2D function along the direction u,
with its tangent at t = 0, whose slope is the directional derivative."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ...core.session import Session
from ..bindings import Throttle
from ..landscape_model import LandscapeModel
from ..readouts import RefreshWhenShown
from ..theme import COLORS, pen, style_plot
from .curve_view import Curve, CurvePoint, clip_line, robust_y_range, steady_range

SAMPLES = 401


class CrossSectionView(RefreshWhenShown, pg.PlotWidget):
    """φ(t) = f(p + t u) over t in ± half the landscape's view; φ'(0) = ∇f(p) · u."""

    def __init__(self, session: Session, model: LandscapeModel, parent=None):
        super().__init__(parent)
        self.setObjectName("CrossSectionView")
        self.session, self.model = session, model
        plot = self.getPlotItem()
        style_plot(plot, left="f(p + t u)", bottom="t  (along u from p)")
        plot.setMouseEnabled(x=False, y=False)
        plot.setTitle("Cross-section along u; orange: its tangent at t = 0, slope ∇f · u",
                      color=COLORS["axis_text"], size="9pt")
        plot.showGrid(x=True, y=True, alpha=0.15)
        self.curve = Curve(pen=pen("taylor", 2.2), name="f(p + t u)")
        self.tangent = Curve(pen=pen("tangent", 2.0), name="tangent")
        self.zero = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen(COLORS["zero_axis"], width=1))
        for item in (self.curve, self.tangent):
            plot.addItem(item)
        plot.addItem(self.zero, ignoreBounds=True)
        self.marker = CurvePoint(size=11, tooltip="The point p (t = 0)")
        self.marker.movable = False  # it marks p; p is dragged on the landscape
        plot.addItem(self.marker, ignoreBounds=True)
        # a side plot: during a drag it follows at most 20 times a second (re-ranging its axes
        # each frame cost the drag more than the landscape itself)
        self._throttled = Throttle(self.refresh, parent=self)
        self._ranged_for = None  # (f, half width) the y range was chosen for
        session.connect(("point", "direction", "parameters", "xy_range"),
                        lambda s, f: self._throttled())
        session.connect("function", lambda s, f: self.refresh())
        model.changed.connect(self._throttled)

    def refresh(self) -> None:
        if not self.on_screen():
            return
        f = self.model.f2
        if f is None:
            self.curve.setData([], [])
            self.tangent.setData([], [])
            self.marker.hide()
            return
        from ...core.multivariate import cross_section

        s = self.session
        (x0, x1), (y0, y1) = s.xy_range
        half = 0.5 * min(x1 - x0, y1 - y0)
        ts = np.linspace(-half, half, SAMPLES)
        values, slope = cross_section(f, s.point, s.unit_direction, ts)
        values = np.asarray(values, dtype=float)
        self.curve.setData(ts, values)
        vb = self.getPlotItem().vb
        shown = vb.viewRange()[1] if self._ranged_for == (f, half) else None
        y_range = steady_range(shown, robust_y_range(values))
        if shown is None or tuple(shown) != y_range or tuple(vb.viewRange()[0]) != (-half, half):
            vb.setRange(xRange=(-half, half), yRange=y_range, padding=0)
        self._ranged_for = (f, half)
        value = float(f(*s.point))
        self.marker.setVisible(bool(np.isfinite(value)))
        self.marker.setPos(0.0, value if np.isfinite(value) else 0.0)
        segment = clip_line(float(slope), value, (-half, half), y_range)
        if segment is None:
            self.tangent.setData([], [])
        else:
            self.tangent.setData(*segment)

    def tangent_slope(self) -> float:
        xs, ys = self.tangent.getData()
        return float((ys[-1] - ys[0]) / (xs[-1] - xs[0]))

