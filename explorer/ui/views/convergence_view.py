"""ConvergenceView: the sums against n (lower <= integral <= upper) and the error against n on
log-log axes, where the rule's order shows as a slope (1 for left and right, 2 for midpoint and
trapezoid)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.session import Session
from ..integration_model import IntegrationModel
from ..readouts import RefreshWhenShown
from ..theme import COLORS, pen, style_plot

ORDERS = {"left": 1, "right": 1, "midpoint": 2, "trapezoid": 2, "lower": 1, "upper": 1}
RULE_NAMES = {"left": "left", "right": "right", "midpoint": "midpoint", "trapezoid": "trapezoid",
              "lower": "lower (Darboux)", "upper": "upper (Darboux)"}


def _plot(title: str, left: str) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    plot = widget.getPlotItem()
    style_plot(plot, left=left, bottom="n (pieces)")
    plot.setTitle(title, color=COLORS["axis_text"], size="9pt")
    plot.showGrid(x=True, y=True, alpha=0.15)  # a small plot, not redrawn during drags
    plot.setMouseEnabled(x=False, y=False)
    widget.setMinimumHeight(150)
    return widget


class ConvergenceView(RefreshWhenShown, QtWidgets.QWidget):
    """Two plots: the sums of the session's rule and of the Darboux bracket against n, with
    the integral; and |S_n - I| against n with reference slopes. The current n is marked."""

    def __init__(self, session: Session, model: IntegrationModel, parent=None):
        super().__init__(parent)
        self.setObjectName("ConvergenceView")
        self.session, self.model = session, model
        # Titles say what each curve is: at this size a legend would hide the curves.
        self.sums_plot = _plot(
            f'Sums: <span style="color:{COLORS["upper"]}">upper</span>, '
            f'<span style="color:{COLORS["riemann_bound"]}"><b>the rule</b></span>, '
            f'<span style="color:{COLORS["lower"]}">lower</span>; dashed: I', "Sₙ")
        self.error_plot = _plot(
            f'Error <span style="color:{COLORS["riemann_bound"]}"><b>|Sₙ − I|</b></span>; '
            "slopes −1 (dashed), −2 (dotted)", "|Sₙ − I|")
        sums, errors = self.sums_plot.getPlotItem(), self.error_plot.getPlotItem()
        sums.setLogMode(x=True, y=False)
        errors.setLogMode(x=True, y=True)
        self.upper = sums.plot(pen=pen("upper", 1.6), name="upper")
        self.rule = sums.plot(pen=pen("riemann_bound", 2.2), name="rule",
                              symbol="o", symbolSize=4, symbolBrush=COLORS["riemann_bound"],
                              symbolPen=None)
        self.lower = sums.plot(pen=pen("lower", 1.6), name="lower")
        self.exact = pg.InfiniteLine(angle=0, pen=pen("axis_text", 1.2, QtCore.Qt.PenStyle.DashLine))
        sums.addItem(self.exact, ignoreBounds=True)
        self.error = errors.plot(pen=pen("riemann_bound", 2.2), name="|Sₙ − I|",
                                 symbol="o", symbolSize=4, symbolBrush=COLORS["riemann_bound"],
                                 symbolPen=None)
        self.slope1 = errors.plot(pen=pen("axis", 1.2, QtCore.Qt.PenStyle.DashLine), name="slope −1: C/n")
        self.slope2 = errors.plot(pen=pen("axis", 1.2, QtCore.Qt.PenStyle.DotLine), name="slope −2: C/n²")
        self.n_lines = []
        for plot in (sums, errors):
            line = pg.InfiniteLine(angle=90, pen=pen("taylor", 1.2), label="n",
                                   labelOpts={"position": 0.95, "color": COLORS["taylor"]})
            plot.addItem(line, ignoreBounds=True)
            self.n_lines.append(line)
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("convergenceStatus")
        self.status.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.sums_plot, 1)
        layout.addWidget(self.error_plot, 1)
        layout.addWidget(self.status)
        session.connect(("riemann_rule", "riemann_n"), lambda s, f: self.refresh())
        model.convergence_changed.connect(self.refresh)
        model.changed.connect(self.refresh)
        model.numbers_changed.connect(self.refresh)

    def refresh(self) -> None:
        if not self.on_screen():
            return
        s = self.session
        for line in self.n_lines:
            line.setPos(np.log10(s.riemann_n))
        data = self.model.convergence
        f = s.f1
        current = data is not None and f is not None and data.key == (f, *s.integral_bounds)
        exact = self.model.integral()
        if not current:
            self.status.setText("computing the sums for n = 1 … 10,000…" if f is not None else "")
            return
        ns = data.ns.astype(float)
        rule = s.riemann_rule
        self.rule.setData(ns, data.sums[rule], name=RULE_NAMES[rule])
        self.lower.setData(ns, data.sums["lower"])
        self.upper.setData(ns, data.sums["upper"])
        if exact is None:
            self.exact.hide()
            for item in (self.error, self.slope1, self.slope2):
                item.setData([], [])
            self.status.setText(self.model.integral_error or "integrating…")
            return
        self.exact.show()
        self.exact.setPos(float(exact))
        with np.errstate(all="ignore"):
            err = np.abs(data.sums[rule] - float(exact))
        # 0 (an exact rule, e.g. the midpoint rule on a line) has no logarithm; round-off sits
        # at ~1e-16 of the integral
        floor = 1e-16 * max(1.0, abs(float(exact)))
        err = np.where(err > floor, err, floor)
        self.error.setData(ns, err)
        # reference lines through the measured error at n = 10
        k = int(np.argmin(np.abs(ns - 10)))
        for line, p in ((self.slope1, 1), (self.slope2, 2)):
            line.setData(ns, err[k] * (ns[k] / ns) ** p)
        measured = self.measured_order()
        self.status.setText(
            f"{RULE_NAMES[rule]}: error ~ C/n{'²' if ORDERS[rule] == 2 else ''} expected; "
            f"fitted slope −{measured:.2f} for n = 10 … 1,000" if np.isfinite(measured) else "")

    def measured_order(self) -> float:
        """The fitted -slope of log |S_n - I| against log n for n in [10, 1000] (before
        round-off), NaN when there is nothing to fit."""
        xs, ys = self.error.getOriginalDataset()  # getData() is log10 of it on log axes
        if xs is None or len(xs) == 0:
            return float("nan")
        xs, ys = np.asarray(xs), np.asarray(ys)
        use = (xs >= 10) & (xs <= 1000) & (ys > 1e-13)
        if use.sum() < 3:
            return float("nan")
        return float(-np.polyfit(np.log10(xs[use]), np.log10(ys[use]), 1)[0])
