"""IntegralPanel: the rule, n and the bounds of a Riemann sum; the sum, the integral and the
fundamental theorem read out."""

from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from ...core.session import MAX_RIEMANN_N, RULES, Session
from ..bindings import Throttle, format_number, signals_blocked
from ..fields import ConstantEdit, labelled_row
from ..integration_model import IntegrationModel
from ..readouts import Readouts, RefreshWhenShown
from ..theme import COLORS

RULE_TITLES = {"left": "left endpoints", "right": "right endpoints", "midpoint": "midpoints",
               "trapezoid": "trapezoids", "lower": "lower Darboux (min on each piece)",
               "upper": "upper Darboux (max on each piece)"}
N_TICKS_PER_DECADE = 100


def n_to_tick(n: int) -> int:
    return round(math.log10(max(n, 1)) * N_TICKS_PER_DECADE)


def tick_to_n(tick: int) -> int:
    return max(1, min(MAX_RIEMANN_N, round(10 ** (tick / N_TICKS_PER_DECADE))))


class IntegralPanel(RefreshWhenShown, QtWidgets.QWidget):
    """Everything the user sets about the integral, and what it comes out as."""

    def __init__(self, session: Session, model: IntegrationModel, parent=None):
        super().__init__(parent)
        self.session, self.model = session, model
        self.show_box = QtWidgets.QCheckBox("Show the Riemann sum and the bounds")
        self.show_box.setObjectName("showRiemann")
        self.accumulation_box = QtWidgets.QCheckBox("F(x) under the curve, area from a to x₀")
        self.accumulation_box.setObjectName("showAccumulation")
        self.rule_combo = QtWidgets.QComboBox()
        self.rule_combo.setObjectName("ruleCombo")
        for rule in RULES:
            self.rule_combo.addItem(RULE_TITLES[rule], rule)
        self.n_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.n_slider.setObjectName("riemannNSlider")
        self.n_slider.setRange(0, n_to_tick(MAX_RIEMANN_N))
        self.n_slider.setPageStep(N_TICKS_PER_DECADE // 4)
        self.n_slider.setToolTip("n on a log scale, from 1 to 10,000")
        self.n_spin = QtWidgets.QSpinBox()
        self.n_spin.setObjectName("riemannNSpin")
        self.n_spin.setRange(1, MAX_RIEMANN_N)
        self.n_spin.setGroupSeparatorShown(True)
        self.a_edit = ConstantEdit("a", "boundAEdit")
        self.b_edit = ConstantEdit("b", "boundBEdit")
        n_row = QtWidgets.QHBoxLayout()
        n_row.addWidget(self.n_slider, 1)
        n_row.addWidget(self.n_spin)
        bounds_row = labelled_row(("a", self.a_edit), ("b", self.b_edit))
        form = QtWidgets.QFormLayout()
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        form.addRow("rule", self.rule_combo)
        form.addRow("n", n_row)
        form.addRow("bounds", bounds_row)
        form.addRow("", self.a_edit.error_label)
        form.addRow("", self.b_edit.error_label)
        self.readouts = Readouts("integral_")
        self.readouts.add("sum", "sum Sₙ", COLORS["riemann_bound"])
        self.readouts.add("integral", "integral I")
        self.readouts.add("error", "error Sₙ − I")
        self.readouts.add("bracket", "lower ≤ I ≤ upper")
        self.readouts.add("F", "F(x₀) = ∫ₐ^x₀ f", COLORS["accumulation"])
        self.readouts.add("slope", "slope of F at x₀")
        self.readouts.add("f", "f(x₀)")
        self.values = self.readouts.labels
        self.note = QtWidgets.QLabel("")
        self.note.setObjectName("integralNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {COLORS['axis_text']};")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.show_box)
        layout.addWidget(self.accumulation_box)
        layout.addLayout(form)
        layout.addLayout(self.readouts)
        layout.addWidget(self.note)
        layout.addStretch(1)

        self.show_box.toggled.connect(lambda on: session.set_option("show_riemann", on))
        self.accumulation_box.toggled.connect(lambda on: session.set_option("show_accumulation", on))
        self.rule_combo.currentIndexChanged.connect(
            lambda i: session.set_riemann_rule(self.rule_combo.itemData(i)))
        self.n_slider.valueChanged.connect(lambda tick: session.set_riemann_n(tick_to_n(tick)))
        self.n_spin.valueChanged.connect(session.set_riemann_n)
        self.a_edit.entered.connect(lambda v: session.set_integral_bounds(a=v))
        self.b_edit.entered.connect(lambda v: session.set_integral_bounds(b=v))
        # a drag of a, b or x0 updates the numbers at most every 50 ms
        self._throttled = Throttle(self.refresh, parent=self)
        session.connect(("function", "parameters", "riemann_rule", "riemann_n", "show_riemann",
                         "show_accumulation"), lambda s, f: self.refresh())
        session.connect(("integral_bounds", "x0"), lambda s, f: self._throttled())
        model.changed.connect(self.refresh)
        model.numbers_changed.connect(self._throttled)
        self.refresh()

    def refresh(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        s = self.session
        with signals_blocked(self.show_box, self.accumulation_box, self.rule_combo, self.n_slider,
                             self.n_spin):
            self.show_box.setChecked(s.show_riemann)
            self.accumulation_box.setChecked(s.show_accumulation)
            self.rule_combo.setCurrentIndex(RULES.index(s.riemann_rule))
            if tick_to_n(self.n_slider.value()) != s.riemann_n:  # several ticks give one n
                self.n_slider.setValue(n_to_tick(s.riemann_n))
            self.n_spin.setValue(s.riemann_n)
        for edit, value in ((self.a_edit, s.integral_bounds[0]), (self.b_edit, s.integral_bounds[1])):
            if not edit.hasFocus():
                edit.setText(format_number(value, 10).replace("−", "-"))
        if s.f1 is None:
            self.readouts.clear_values()
            self.note.setText("f is not a function of x alone")
            return
        boxes = self.model.boxes()
        total = boxes.total
        self.values["sum"].setText(format_number(total, 10))
        exact = self.model.integral()
        if exact is None:
            for key in ("integral", "error"):
                self.values[key].setText(self.model.integral_error or "integrating…")
        else:
            how = ("exact: SymPy's antiderivative, F(b) − F(a)" if exact.method == "exact"
                   else f"adaptive quadrature (SciPy), error ≲ {format_number(exact.error, 2)}")
            self.values["integral"].setText(f"{format_number(float(exact), 10)}\n{how}")
            self.values["error"].setText(format_number(total - float(exact), 6))
        lower, upper = self.model.bracket()
        self.values["bracket"].setText(
            f"{format_number(lower, 8)} ≤ I ≤ {format_number(upper, 8)}")
        theorem = self.model.theorem_at_x0()
        if theorem is None:
            waiting = self.model.numbers is None or not self.model.ready
            for key in ("F", "slope", "f"):
                self.values[key].setText("integrating…" if waiting else "undefined")
        else:
            value, slope, fx = theorem
            self.values["F"].setText(format_number(value, 8))
            self.values["slope"].setText(f"{format_number(slope, 8)}  (central difference of F)")
            self.values["f"].setText(format_number(fx, 8))
        a, b = s.integral_bounds
        notes = []
        if total != total:
            notes.append("f is undefined somewhere in [a, b]: the sum is undefined.")
        if a > b:
            notes.append("a > b: the integral runs backwards (its sign flips).")
        self.note.setText(" ".join(notes))
