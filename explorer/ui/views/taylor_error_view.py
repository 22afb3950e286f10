"""TaylorErrorView: |f - T_n| on a log scale over the curve view's x range, with the tolerance."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.session import Session
from ..bindings import Throttle
from ..readouts import RefreshWhenShown
from ..taylor_model import TaylorModel
from ..theme import COLORS, pen, style_plot, with_alpha
from .curve_view import Curve
from .grid import Grid


class TaylorErrorView(RefreshWhenShown, pg.PlotWidget):
    """The error of the polynomial against x: a V of round-off at the centre, rising with
    |x - c|^(n+1); the tolerance line and the interval below it shaded as on the curve."""

    def __init__(self, session: Session, model: TaylorModel, parent=None):
        super().__init__(parent)
        self.setObjectName("TaylorErrorView")
        self.session, self.model = session, model
        plot = self.getPlotItem()
        style_plot(plot, left="|f − Tₙ|", bottom="x")
        plot.setLogMode(x=False, y=True)
        plot.setMouseEnabled(x=False, y=True)  # x follows the curve view, through the session
        # a Grid, not showGrid: a gridded axis replays ~4 ms of drawing on every paint
        grid = Grid(pen=pg.mkPen(COLORS["grid"], width=1))
        grid.setZValue(-10)
        plot.addItem(grid, ignoreBounds=True)
        self.band = pg.LinearRegionItem(values=(0, 1), movable=False,
                                        brush=pg.mkBrush(with_alpha("taylor", 26)),
                                        pen=pg.mkPen(with_alpha("taylor", 90), width=1))
        plot.addItem(self.band, ignoreBounds=True)
        self.curve = Curve(pen=pen("taylor", 1.8), name="|f − Tₙ|")
        plot.addItem(self.curve)
        self.tolerance = pg.InfiniteLine(angle=0, pen=pen("axis_text", 1.2, QtCore.Qt.PenStyle.DashLine),
                                         label="tolerance", labelOpts={"position": 0.92,
                                                                       "color": COLORS["axis_text"]})
        self.center = pg.InfiniteLine(angle=90, pen=pen("taylor", 1.0, QtCore.Qt.PenStyle.DotLine))
        for item in (self.tolerance, self.center):
            plot.addItem(item, ignoreBounds=True)
        plot.vb.setRange(xRange=session.x_range, yRange=(-16, 3), padding=0)  # y: log10
        session.connect(("function", "parameters", "taylor_order", "taylor_tolerance",
                         "taylor_center", "taylor_follows_point", "x_range", "show_taylor"),
                        lambda s, f: self.refresh())
        # a second plot during a drag: 20 updates a second are plenty
        self._throttled = Throttle(self.refresh, parent=self)
        session.connect("x0", lambda s, f: s.taylor_follows_point and self._throttled())
        model.changed.connect(self.refresh)

    def refresh(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        s = self.session
        if tuple(self.getPlotItem().vb.viewRange()[0]) != tuple(s.x_range):
            self.getPlotItem().vb.setXRange(*s.x_range, padding=0)
        self.tolerance.setPos(np.log10(s.taylor_tolerance))
        self.center.setPos(s.taylor_x0)
        data = self.model.sampled()
        if data is None:
            self.curve.setData([], [])
            self.band.hide()
            return
        xs, _, _, err = data
        # The axis is logarithmic and the data given as log10 (a bare curve item does not
        # transform it); 0 (at the centre, and for a polynomial f of order <= n) is held at 1e-17.
        with np.errstate(all="ignore"):
            self.curve.setData(xs, np.log10(np.where(err > 1e-17, err, 1e-17)))
        interval = self.model.interval()
        self.band.setVisible(interval is not None)
        if interval is not None:
            self.band.setRegion(interval)
