"""GradientCheckView: the graph's gradient against finite differences, for every input of the
graph (the function's variables and its parameters), and the relative error against the step ε
on a log-log plot: the V of truncation (large ε) and round-off (small ε).

The check runs over a Function of all the graph's inputs (parameters become variables), parsed
once per expression; ~5-30 ms per refresh for a few inputs, done only while the view is shown.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ..backprop_model import BackpropModel
from ..bindings import Throttle, format_number, signals_blocked
from ..fields import scientific_edit
from ..readouts import RefreshWhenShown
from ..theme import COLORS, pen, style_plot, with_alpha
from .race_plots import CentreMessage, show_tick_values

SCHEMES = ("central", "forward")
TICKS_PER_DECADE = 10
EPS_HIGH, EPS_LOW = 1e-1, 1e-12  # the slider: ε from 1e-1 (left) to 1e-12 (right)
CURVE_EPS = np.logspace(-12, -1, 45)
AGREE, DISAGREE = 1e-6, 1e-4  # relative error: green at or below, orange above
# distinct colours for the inputs' curves, cycled past twelve inputs
PALETTE = ("f", "d1", "d2", "tangent", "secant", "riemann", "taylor", "accumulation", "gp",
           "mc", "law", "density")
FORMULAS = {"central": "central: (f(u+ε) − f(u−ε)) / 2ε: truncation error ~ε², round-off ~δ/ε",
            "forward": "forward: (f(u+ε) − f(u)) / ε: truncation error ~ε, round-off ~δ/ε"}
ERROR_TIP = (f"relative error |graph − numeric| / max(|graph|, |numeric|): "
             f"≤ {AGREE:g}: agree (green); > {DISAGREE:g}: suspect (orange)")


def eps_to_tick(eps: float) -> int:
    low, high = -math.log10(EPS_HIGH), -math.log10(EPS_LOW)
    return round(min(max(-math.log10(eps), low), high) * TICKS_PER_DECADE)


def tick_to_eps(tick: int) -> float:
    return 10.0 ** (-tick / TICKS_PER_DECADE)


class GradientCheckView(RefreshWhenShown, QtWidgets.QWidget):
    """A table per input (graph's gradient, numeric gradient, relative error) and the relative
    error against ε for each input, with the current ε and each input's best ε.

    Parameters
    ----------
    model : BackpropModel
        The graph and its inputs' values; the view refreshes on ``model.changed``.
    """

    def __init__(self, model: BackpropModel, parent=None):
        super().__init__(parent)
        self.setObjectName("GradientCheckView")
        self.model = model
        self.eps = 1e-6
        self.scheme = "central"
        self._check = None  # explorer.core.graph.GradientCheck shown in the table
        self._curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._all_inputs = (None, None)  # ((text, names), Function of every input)

        # -- controls ------------------------------------------------------------------------
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setObjectName("gradcheckEpsSlider")
        self.slider.setRange(eps_to_tick(EPS_HIGH), eps_to_tick(EPS_LOW))
        self.slider.setToolTip("ε on a logarithmic scale, from 1e-1 (left) to 1e-12 (right)")
        self.eps_edit = scientific_edit("gradcheckEpsEdit", 90, EPS_LOW, EPS_HIGH)
        self.eps_edit.setToolTip("ε, typed (1e-12 … 1e-1); Enter applies")
        self.scheme_box = QtWidgets.QComboBox()
        self.scheme_box.setObjectName("gradcheckScheme")
        self.scheme_box.addItems(SCHEMES)
        self.scheme_box.setToolTip("central: (f(u+ε) − f(u−ε)) / 2ε; forward: (f(u+ε) − f(u)) / ε")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("ε"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.eps_edit)
        row.addWidget(self.scheme_box)
        self.formula = QtWidgets.QLabel()
        self.formula.setObjectName("gradcheckFormula")
        self.formula.setStyleSheet(f"color: {COLORS['axis_text']};")
        self.formula.setWordWrap(True)

        # -- the table -----------------------------------------------------------------------
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setObjectName("gradcheckTable")
        self.table.setHorizontalHeaderLabels(["input", "graph's gradient", "numeric gradient",
                                              "relative error"])
        self.table.horizontalHeaderItem(3).setToolTip(ERROR_TIP)
        self.table.horizontalHeaderItem(1).setToolTip(
            "∂f/∂input from the backward pass of the computational graph")
        self.table.horizontalHeaderItem(2).setToolTip("the finite difference with step ε")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(110)
        self._font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("gradcheckSummary")
        self.summary.setWordWrap(True)

        # -- the plot ------------------------------------------------------------------------
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumHeight(170)
        plot = self.plot = self.plot_widget.getPlotItem()
        style_plot(plot, left="relative error", bottom="ε", si_prefix=False)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setMouseEnabled(x=False, y=False)
        plot.setLogMode(x=True, y=True)
        # bottom right: under the right arm of the V (truncation error rising with ε)
        self.legend = plot.addLegend(offset=(-8, -8), labelTextColor=COLORS["axis_text"],
                                     brush=pg.mkBrush(with_alpha("background", 220)))
        # InfiniteLines are not log-mapped by the plot: their position is log10(ε)
        self.current = pg.InfiniteLine(angle=90, pen=pen("axis_text", 1.2,
                                                         QtCore.Qt.PenStyle.DashLine))
        plot.addItem(self.current, ignoreBounds=True)
        self.message = CentreMessage(plot)
        self._lines: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []  # (curve, best ε)
        self._line_names: tuple[str, ...] = ()

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(self.formula)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.summary)
        layout.addWidget(self.plot_widget, 3)

        self.slider.valueChanged.connect(lambda tick: self.set_eps(tick_to_eps(tick)))
        self.eps_edit.editingFinished.connect(self._typed)
        self.scheme_box.currentTextChanged.connect(self._scheme_chosen)
        # a drag of x0 or a parameter rebuilds the graph often: at most every 50 ms here
        model.changed.connect(Throttle(self.refresh, interval_ms=50, parent=self))
        self._show_controls()
        self.refresh()

    # -- controls ----------------------------------------------------------------------------
    def set_eps(self, eps: float) -> None:
        """The finite-difference step, clamped to 1e-12 … 1e-1."""
        eps = float(eps)
        if not (eps > 0 and math.isfinite(eps)):
            self._show_controls()
            return
        eps = min(max(eps, EPS_LOW), EPS_HIGH)
        changed = eps != self.eps
        self.eps = eps
        self._show_controls()
        if changed:
            self.refresh()

    def set_scheme(self, name: str) -> None:
        """``central`` or ``forward``."""
        if name not in SCHEMES:
            raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}")
        self.scheme_box.setCurrentText(name)  # -> _scheme_chosen

    def _scheme_chosen(self, name: str) -> None:
        if name in SCHEMES and name != self.scheme:
            self.scheme = name
            self._show_controls()
            self.refresh()

    def _typed(self) -> None:
        try:
            self.set_eps(abs(float(self.eps_edit.text())))
        except ValueError:
            self._show_controls()

    def _show_controls(self) -> None:
        with signals_blocked(self.slider, self.eps_edit, self.scheme_box):
            self.slider.setValue(eps_to_tick(self.eps))
            if not self.eps_edit.hasFocus():
                self.eps_edit.setText(f"{self.eps:.3g}")
            self.scheme_box.setCurrentText(self.scheme)
        self.formula.setText(FORMULAS[self.scheme] + " (δ: the rounding of f's values)")
        self.current.setPos(math.log10(self.eps))

    # -- the check ---------------------------------------------------------------------------
    def _function_of_all_inputs(self):
        """The model's function with its parameters as variables too (every input of the
        graph), variables first; and its point. None when there is no graph."""
        model = self.model
        f = model.function
        if f is None or model.graph is None or not model.values:
            return None, None
        names = tuple(f.variables) + tuple(n for n in model.values if n not in f.variables)
        key = (f.text, names)
        if self._all_inputs[0] != key:
            from ...core import parse

            self._all_inputs = (key, parse(f.text, variables=names))
        g = self._all_inputs[1]
        return g, [float(model.values[n]) for n in g.variables]

    def refresh(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        from ...core.graph import gradient_check, gradient_check_curve

        try:
            g, point = self._function_of_all_inputs()
            if g is None:
                self._clear(self.model.error or "no function to check")
                return
            check = gradient_check(g, point, self.eps, self.scheme)
            eps, errors = gradient_check_curve(g, point, CURVE_EPS, self.scheme)
        except (ValueError, ArithmeticError) as exc:
            self._clear(f"the check could not be made: {exc}")
            return
        self._check = check
        self._curves = {name: (eps, errors[i]) for i, name in enumerate(check.names)}
        self._fill_table(check)
        self._draw_curves(check.names, eps, errors)
        self.message.show_text("")
        show_tick_values(self.plot, True)

    def _clear(self, text: str) -> None:
        self._check = None
        self._curves = {}
        self.table.setRowCount(0)
        self.summary.setText("")
        for curve, best in self._lines:
            curve.setData([], [])
            best.setData([], [])
        self.message.show_text(text)
        show_tick_values(self.plot, False)

    def _fill_table(self, check) -> None:
        table = self.table
        table.setRowCount(len(check.names))
        for row, name in enumerate(check.names):
            rel = float(check.relative_error[row])
            texts = (name, format_number(float(check.analytic[row]), 12),
                     format_number(float(check.numeric[row]), 12),
                     f"{rel:.2e}" if math.isfinite(rel) else "undefined")
            for column, text in enumerate(texts):
                item = table.item(row, column)
                if item is None:
                    item = QtWidgets.QTableWidgetItem()
                    table.setItem(row, column, item)
                item.setText(text)
                if column:
                    item.setFont(self._font)
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight
                                          | QtCore.Qt.AlignmentFlag.AlignVCenter)
            name_item = table.item(row, 0)
            name_item.setForeground(QtGui.QColor(COLORS[PALETTE[row % len(PALETTE)]]))
            item = table.item(row, 3)
            item.setToolTip(ERROR_TIP)
            if rel <= AGREE:
                item.setBackground(with_alpha("positive", 70))
            elif rel > DISAGREE or not math.isfinite(rel):
                item.setBackground(with_alpha("d1", 110))
            else:
                item.setBackground(QtGui.QBrush())
        agree = int(np.sum(check.relative_error <= AGREE))
        n = len(check.names)
        verdict = (f"all {n} inputs agree" if agree == n else f"{agree} of {n} inputs agree")
        self.summary.setText(f"{verdict} to ≤ {AGREE:g} at ε = {check.eps:.3g} ({check.scheme}); "
                             "dots on the plot: each input's best ε")

    def _draw_curves(self, names, eps, errors) -> None:
        if tuple(names) != self._line_names:
            for curve, best in self._lines:
                self.plot.removeItem(curve)
                self.plot.removeItem(best)
            self.legend.clear()
            self._lines = []
            for i, name in enumerate(names):
                color = COLORS[PALETTE[i % len(PALETTE)]]
                curve = self.plot.plot(name=name, pen=pen(PALETTE[i % len(PALETTE)], 2),
                                       connect="finite")
                best = self.plot.plot(pen=None, symbol="o", symbolSize=9,
                                      symbolBrush=pg.mkBrush(color), symbolPen=pg.mkPen("w"))
                self._lines.append((curve, best))
            self._line_names = tuple(names)
            self.legend.setColumnCount(2 if len(names) > 4 else 1)
        for (curve, best), row in zip(self._lines, errors, strict=True):
            drawn = np.where(row > 0, row, np.nan)  # exact zeros have no logarithm
            if np.isfinite(drawn).any():
                curve.setData(eps, drawn, connect="finite")
                i = int(np.nanargmin(drawn))
                best.setData([eps[i]], [drawn[i]])
            else:  # exact at every ε (f linear in it, and no rounding)
                curve.setData([], [])
                best.setData([], [])

    # -- for tests ---------------------------------------------------------------------------
    def rows(self) -> list[tuple[str, float, float, float]]:
        """(input, graph's gradient, numeric gradient, relative error) per row, as shown."""
        c = self._check
        if c is None:
            return []
        return [(name, float(a), float(n), float(r)) for name, a, n, r in
                zip(c.names, c.analytic, c.numeric, c.relative_error, strict=True)]

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(eps, relative errors) of one input, as computed for the plot (zeros kept)."""
        return self._curves[name]

    def best_eps(self, name: str) -> float | None:
        """The ε of the dot marking ``name``'s smallest relative error."""
        i = self._line_names.index(name)
        xs, _ = self._lines[i][1].getOriginalDataset()
        return None if xs is None or len(xs) == 0 else float(xs[0])
