"""ErrorView: |difference quotient - f'(x0)| against h, log-log: the V that floating point makes."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ...core.session import Session
from ..readouts import RefreshWhenShown
from ..theme import COLORS, cache_axes, pen, with_alpha

HS = np.logspace(0, -16, 161)
EPS = np.finfo(float).eps


class ErrorView(RefreshWhenShown, pg.PlotWidget):
    """Measured error, the truncation model (slope 1 or 2), the round-off model (eps/h),
    the current h and the best h."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.setObjectName("ErrorView")
        self.session = session
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        cache_axes(plot)
        plot.setLogMode(x=True, y=True)
        plot.getViewBox().invertX(True)  # h shrinks to the right, as on the slider
        plot.setLabel("bottom", "h")
        plot.setLabel("left", "|quotient − f′(x₀)|")
        self.legend = plot.addLegend(offset=(8, -8), labelTextColor=COLORS["axis_text"],
                                     brush=pg.mkBrush(with_alpha("background", 220)))
        self.measured = plot.plot(name="measured", pen=pen("secant", 2))
        self.truncation = plot.plot(name="truncation ~ h^p",
                                    pen=pen("d2", 1.5, pg.QtCore.Qt.PenStyle.DashLine))
        self.roundoff = plot.plot(name="round-off ~ ε/h",
                                  pen=pen("d1", 1.5, pg.QtCore.Qt.PenStyle.DashLine))
        self.best = plot.plot(name="best h", pen=None, symbol="o", symbolSize=9,
                              symbolBrush=pg.mkBrush(COLORS["f"]), symbolPen=pg.mkPen("w"))
        self.current = pg.InfiniteLine(angle=90, pen=pen("tangent", 1.5))  # at log10(h)
        plot.addItem(self.current, ignoreBounds=True)
        # While x0 is dragged the curve would be redrawn every frame (~10 ms for this plot):
        # it follows when the hand pauses for 80 ms instead. Other changes redraw at once.
        self._pause = pg.QtCore.QTimer(self, singleShot=True, interval=80)
        self._pause.timeout.connect(self.refresh)
        session.connect("x0", lambda s, f: self._pause.start())
        session.connect(("h", "scheme", "h_negative", "function", "parameters"),
                        lambda s, f: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        from ...core.calculus import difference_quotient  # SymPy: not while the app starts

        s = self.session
        f = s.f1
        self.current.setPos(np.log10(s.h))
        if f is None:
            for item in (self.measured, self.truncation, self.roundoff, self.best):
                item.setData([], [])
            return
        sign = -1.0 if s.h_negative else 1.0
        exact = float(f.derivative(order=1)(s.x0))
        err = np.abs(difference_quotient(f, s.x0, sign * HS, s.scheme) - exact)
        err[~(err > 0)] = np.nan  # exact zeros have no logarithm
        self.measured.setData(HS, err)
        order = 2 if s.scheme == "central" else 1
        coefficient = abs(float(f.derivative(order=order + 1)(s.x0))) / (order + 1) / order
        self.truncation.setData(HS, np.where(coefficient > 0, coefficient * HS**order, np.nan))
        self.roundoff.setData(HS, EPS * max(abs(float(f(s.x0))), 1e-300) / HS)
        if np.isfinite(err).any():
            i = int(np.nanargmin(err))
            self.best.setData([HS[i]], [err[i]])
        else:
            self.best.setData([], [])

    def best_h(self) -> float | None:
        xs, _ = self.best.getOriginalDataset()
        return None if xs is None or len(xs) == 0 else float(xs[0])
