"""SignView: f' or f'' under the curve view, on the same x axis, with its sign regions shaded."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.session import Session
from ..theme import COLORS, LEFT_AXIS_WIDTH, pen, style_plot, with_alpha
from .curve_view import Curve, robust_y_range, sample

MEANINGS = {1: ("f′ &gt; 0: increasing", "f′ &lt; 0: decreasing"),  # rich text
            2: ("f″ &gt; 0: concave up", "f″ &lt; 0: concave down")}


class SignView(pg.PlotWidget):
    """The ``order``-th derivative: green where positive, vermillion where negative, the
    point's x marked. Its x range is linked to the curve view's."""

    def __init__(self, session: Session, order: int, parent=None):
        super().__init__(parent)
        self.session, self.order = session, order
        self.setObjectName(f"SignView{order}")
        self.setMinimumHeight(90)
        plot = self.getPlotItem()
        style_plot(plot, left="f′" if order == 1 else "f″", si_prefix=False)
        plot.setMouseEnabled(x=True, y=False)
        plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        positive, negative = MEANINGS[order]
        self.positive = pg.PlotCurveItem(pen=None, brush=pg.mkBrush(with_alpha("positive", 60)),
                                         fillLevel=0)
        self.negative = pg.PlotCurveItem(pen=None, brush=pg.mkBrush(with_alpha("negative", 60)),
                                         fillLevel=0)
        self.curve = Curve(pen=pen("d1" if order == 1 else "d2", 1.8), name="")
        self.zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(COLORS["zero_axis"], width=1))
        self.x0_line = pg.InfiniteLine(angle=90, pen=pen("tangent", 1.2, QtCore.Qt.PenStyle.DashLine))
        for item in (self.positive, self.negative, self.curve):
            plot.addItem(item)
            item.setCacheMode(item.CacheMode.DeviceCoordinateCache)
        for item in (self.zero, self.x0_line):
            plot.addItem(item, ignoreBounds=True)
        # what the colours mean, pinned to the top left corner of the plot (not to the data)
        self.key = pg.TextItem(html=(
            f'<span style="color:{COLORS["positive"]}">■</span> {positive}&nbsp;&nbsp;&nbsp;'
            f'<span style="color:{COLORS["negative"]}">■</span> {negative}'),
            color=COLORS["axis_text"], fill=pg.mkBrush(with_alpha("background", 200)), anchor=(0, 0))
        self.key.setZValue(30)
        plot.addItem(self.key, ignoreBounds=True)
        plot.vb.sigRangeChanged.connect(lambda *a: self._place_key())
        plot.vb.sigXRangeChanged.connect(lambda *a: self.resample())
        session.connect(("function", "parameters", "show_sign_plots"), lambda s, f: self.resample(fit=True))
        session.connect("x0", lambda s, f: self.x0_line.setPos(s.x0))
        self.x0_line.setPos(session.x0)

    def resample(self, fit: bool = True) -> None:
        if not self.isVisible() and not self.session.show_sign_plots:
            return
        f = self.session.f1
        if f is None:
            for item in (self.curve, self.positive, self.negative):
                item.setData([], [])
            return
        lo, hi = self.getPlotItem().vb.viewRange()[0]
        xs, ys = sample(f.derivative(order=self.order), lo, hi, 1000)
        filled = np.nan_to_num(ys, nan=0.0)
        self.curve.setData(xs, ys)
        finite = np.isfinite(xs)
        self.positive.setData(xs[finite], np.maximum(filled, 0)[finite])
        self.negative.setData(xs[finite], np.minimum(filled, 0)[finite])
        if fit:
            self.getPlotItem().vb.setYRange(*robust_y_range(ys), padding=0)

    def _place_key(self) -> None:
        (x0, _), (_, y1) = self.getPlotItem().vb.viewRange()
        self.key.setPos(x0, y1)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.resample()

    def sign_at(self, x: float) -> float:
        """The sign of the drawn derivative at x (tests compare it with the shading)."""
        xs, ys = self.curve.getData()
        return float(np.sign(np.interp(x, xs[np.isfinite(ys)], ys[np.isfinite(ys)])))
