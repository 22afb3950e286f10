"""TaylorOverlay: the Taylor polynomial on the curve view, its centre, the tolerance interval."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.session import Session
from ..bindings import signals_blocked
from ..taylor_model import TaylorModel
from ..theme import COLORS, pen, with_alpha
from .curve_view import Curve, CurvePoint, CurveView


class TaylorOverlay(QtCore.QObject):
    """Items added to a :class:`CurveView`: T_n over f, the orders 1..n faintly, the interval
    where |f - T_n| stays below the tolerance, and a draggable centre when it is not x0."""

    def __init__(self, view: CurveView, model: TaylorModel, session: Session):
        super().__init__(view)
        self.view, self.model, self.session = view, model, session
        plot = view.getPlotItem()
        self.band = pg.LinearRegionItem(values=(0, 1), movable=False,
                                        brush=pg.mkBrush(with_alpha("taylor", 26)),
                                        pen=pg.mkPen(with_alpha("taylor", 90), width=1))
        self.band.setZValue(-8)
        self.band.setAcceptHoverEvents(False)
        for line in self.band.lines:
            line.setAcceptHoverEvents(False)
        plot.addItem(self.band, ignoreBounds=True)
        self.orders_item = Curve(pen=pen("taylor", 1.0), name="orders 1…n")
        faint = self.orders_item.opts["pen"]
        faint.setColor(with_alpha("taylor", 70))
        self.orders_item.setPen(faint)
        self.orders_item.setZValue(0.5)
        self.item = Curve(pen=pen("taylor", 2.2), name="Taylor polynomial")
        self.item.setZValue(3.5)
        view.add_curve(self.orders_item, legend=False)  # one row for the polynomial is enough
        view.add_curve(self.item)
        self.center = CurvePoint(COLORS["taylor"], COLORS["taylor_hover"], symbol="d", size=16,
                                 tooltip="Taylor centre: drag along the curve")
        plot.addItem(self.center)
        view.handles.append(self.center)
        self.center.sigPositionChanged.connect(self._on_center_dragged)
        self._legend_shown = None

        session.connect(("function", "parameters", "taylor_order", "taylor_tolerance",
                         "taylor_center", "taylor_follows_point", "taylor_all_orders",
                         "show_taylor", "x_range", "y_range"), lambda s, f: self.refresh())
        session.connect("x0", lambda s, f: s.taylor_follows_point and self.refresh())
        model.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        s = self.session
        shown = s.show_taylor and s.f1 is not None
        data = self.model.sampled() if shown else None
        for item in (self.item, self.band, self.orders_item):
            item.setVisible(data is not None)
        self.orders_item.setVisible(data is not None and s.taylor_all_orders)
        if self.item.isVisible() != self._legend_shown:  # a legend update repaints it
            self._legend_shown = self.item.isVisible()
            self.view.sync_legend()
        self._place_center(shown)
        if data is None:
            return
        xs, _, partial, _ = data
        (_, _), (y0, y1) = self.view.getPlotItem().vb.viewRange()
        # Far outside the view a polynomial reaches huge values; painting those costs Qt
        # milliseconds. Held two view heights out, the curve still leaves the view cleanly.
        low, high = y0 - 2 * (y1 - y0), y1 + 2 * (y1 - y0)
        # every other sample: a polynomial is smooth at 400 points, and half the path paints
        # in half the time
        self.item.setData(xs[::2], np.clip(partial[-1, ::2], low, high))
        if s.taylor_all_orders and partial.shape[0] > 2:
            rows = np.clip(partial[1:-1], low, high)
            gaps = np.full((rows.shape[0], 1), np.nan)
            self.orders_item.setData(np.tile(np.append(xs, np.nan), rows.shape[0]),
                                     np.hstack([rows, gaps]).ravel())
        else:
            self.orders_item.setData([], [])
        interval = self.model.interval()
        if interval is None:
            self.band.hide()
        else:
            with signals_blocked(self.band):
                self.band.setRegion(interval)

    def _place_center(self, shown: bool) -> None:
        s = self.session
        f = s.f1
        own = shown and not s.taylor_follows_point and f is not None
        self.center.setVisible(own)
        if not own:
            return
        y = float(f(s.taylor_center))
        with signals_blocked(self.center):
            self.center.setPos(s.taylor_center, y if np.isfinite(y) else self.center.pos().y())

    def _on_center_dragged(self, item) -> None:
        x = float(item.pos().x())
        if x == self.session.taylor_center:
            self._place_center(True)
        else:
            self.session.set_taylor_center(x)
