"""AccumulationView: F(x) = integral of f from a to x under the curve view, on its x axis, with
the tangent to F at x0 whose slope is f(x0): the fundamental theorem of calculus, drawn."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.session import Session
from ..bindings import Throttle, format_number, signals_blocked
from ..integration_model import IntegrationModel
from ..theme import COLORS, LEFT_AXIS_WIDTH, pen, style_plot, with_alpha
from .curve_view import Curve, CurvePoint, clip_line, robust_y_range

SAMPLES = 1000


class AccumulationView(pg.PlotWidget):
    """F from a, its point at x0 (drag it: x0 follows), and the tangent there of slope f(x0).
    Its x range is linked to the curve view's."""

    def __init__(self, session: Session, model: IntegrationModel, parent=None):
        super().__init__(parent)
        self.session, self.model = session, model
        self.setObjectName("AccumulationView")
        self.setMinimumHeight(110)
        plot = self.getPlotItem()
        style_plot(plot, left="F(x)", si_prefix=False)
        plot.setMouseEnabled(x=True, y=False)
        plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self.curve = Curve(pen=pen("accumulation", 2.2), name="F(x)")
        self.curve.setCacheMode(self.curve.CacheMode.DeviceCoordinateCache)
        self.tangent = Curve(pen=pen("tangent", 2.0), name="tangent to F")
        self.zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(COLORS["zero_axis"], width=1))
        self.a_line = pg.InfiniteLine(angle=90, pen=pen("riemann_bound", 1.2, QtCore.Qt.PenStyle.DashLine),
                                      label="a", labelOpts={"position": 0.9, "color": COLORS["riemann_bound"]})
        for item in (self.curve, self.tangent):
            plot.addItem(item)
        for item in (self.zero, self.a_line):
            plot.addItem(item, ignoreBounds=True)
        self.point = CurvePoint(COLORS["accumulation"], "#B0607F", size=13,
                                tooltip="Drag along F: x₀ follows")
        plot.addItem(self.point)
        self.key = pg.TextItem("", color=COLORS["axis_text"], fill=pg.mkBrush(with_alpha("background", 210)),
                               anchor=(0, 0))
        self.key.setZValue(30)
        plot.addItem(self.key, ignoreBounds=True)
        self.point.sigPositionChanged.connect(self._on_point_dragged)
        plot.vb.sigRangeChanged.connect(lambda *a: self._place_key())
        plot.vb.sigXRangeChanged.connect(lambda *a: self.refresh(fit=False))
        self._key_throttle = Throttle(self._update_key, parent=self)
        session.connect(("function", "parameters", "integral_bounds", "show_accumulation"),
                        lambda s, f: self.refresh(fit=True))
        session.connect("x0", lambda s, f: self._update_point())
        model.changed.connect(lambda: self.refresh(fit=True))
        model.accumulation_changed.connect(self._draw)
        self._fit_next = True

    def refresh(self, fit: bool = True) -> None:
        """Ask for F over the view (computed off the GUI thread) and draw what is there."""
        if not self.isVisible():
            return
        self._fit_next = self._fit_next or fit
        self.a_line.setPos(self.session.integral_bounds[0])
        self._draw()

    def _draw(self) -> None:
        if not self.isVisible():
            return
        lo, hi = self.getPlotItem().vb.viewRange()[0]
        data = self.model.accumulation(lo, hi, SAMPLES)
        if data is None:
            self.curve.setData([], [])
            self.tangent.setData([], [])
            self.point.hide()
            self._update_key()
            return
        self.curve.setData(data.xs, data.values)
        if self._fit_next and self.model.accumulation_current():
            self._fit_next = False
            self.getPlotItem().vb.setYRange(*robust_y_range(data.values), padding=0)
        self._update_point()

    def _update_point(self) -> None:
        if not self.isVisible():
            return
        s = self.session
        f = s.f1
        data = self.model.accumulation(*self.getPlotItem().vb.viewRange()[0], SAMPLES)
        if f is None or data is None:
            return
        x0 = s.x0
        # F at x0 by interpolation on the drawn samples: the point sits on the drawn curve
        finite = np.isfinite(data.values)
        value = float(np.interp(x0, data.xs[finite], data.values[finite])) if finite.any() else np.nan
        slope = float(f(x0))
        with signals_blocked(self.point):
            self.point.setPos(x0, value if np.isfinite(value) else 0.0)
        self.point.setVisible(bool(np.isfinite(value)))
        (x_lo, x_hi), y_range = self.getPlotItem().vb.viewRange()
        half = 0.12 * (x_hi - x_lo)  # a short tangent: a line of slope f(x0) through the point
        segment = clip_line(slope, value - slope * x0, (x0 - half, x0 + half), y_range)
        if segment is None:
            self.tangent.setData([], [])
        else:
            self.tangent.setData(*segment)
        self._key_throttle()

    def _update_key(self) -> None:
        s = self.session
        data = self.model.accumulation(*self.getPlotItem().vb.viewRange()[0], SAMPLES)
        if s.f1 is None:
            self.key.setText("")
            return
        if data is None:
            self.key.setText("F(x) = ∫ₐˣ f(t) dt: integrating…")
            return
        how = "exact antiderivative" if data.method == "exact" else "cumulative quadrature"
        slope = float(s.f1(s.x0))
        self.key.setText(f"F(x) = ∫ₐˣ f(t) dt ({how});  slope of F at x₀ = f(x₀) = "
                         f"{format_number(slope, 5)}")
        self._place_key()

    def _place_key(self) -> None:
        (x0, _), (_, y1) = self.getPlotItem().vb.viewRange()
        self.key.setPos(x0, y1)

    def _on_point_dragged(self, item) -> None:
        x = float(item.pos().x())
        if x == self.session.x0:
            self._update_point()  # snap back onto F
        else:
            self.session.set_x0(x)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh(fit=True)

    def tangent_slope(self) -> float:
        """The slope of the tangent drawn (tests compare it with f(x0))."""
        xs, ys = self.tangent.getData()
        return float((ys[-1] - ys[0]) / (xs[-1] - xs[0]))
