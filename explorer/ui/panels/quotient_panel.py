"""QuotientPanel: the step h (log slider or typed), its sign, the scheme, and the read-outs."""

from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from ...core.session import SCHEMES, Session
from ..bindings import Throttle, format_number, signals_blocked
from ..fields import scientific_edit
from ..readouts import Readouts, RefreshWhenShown
from ..theme import COLORS

TICKS_PER_DECADE = 10
DECADES = 16  # h from 1 down to 1e-16


def h_to_tick(h: float) -> int:
    return round(min(max(-math.log10(h), 0.0), DECADES) * TICKS_PER_DECADE)


def tick_to_h(tick: int) -> float:
    return 10.0 ** (-tick / TICKS_PER_DECADE)


class QuotientPanel(RefreshWhenShown, QtWidgets.QWidget):
    """(f(x0+h) - f(x0)) / h against f'(x0): watch the error shrink, then round-off take over."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setObjectName("hSlider")
        self.slider.setRange(0, DECADES * TICKS_PER_DECADE)
        self.slider.setToolTip("h on a logarithmic scale, from 1 (left) to 1e-16 (right)")
        self.h_edit = scientific_edit("hEdit", 90, 1e-300, 1e6)
        self.negative = QtWidgets.QCheckBox("−h")
        self.negative.setObjectName("hNegative")
        self.negative.setToolTip("step to the left of x₀")
        self.scheme = QtWidgets.QComboBox()
        self.scheme.setObjectName("schemeBox")
        self.scheme.addItems(SCHEMES)
        self.show_secant = QtWidgets.QCheckBox("secant")
        self.show_secant.setObjectName("showSecant")

        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("h"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.h_edit)
        row2 = QtWidgets.QHBoxLayout()
        row2.addWidget(self.scheme)
        row2.addWidget(self.negative)
        row2.addWidget(self.show_secant)
        row2.addStretch(1)
        self.readouts = form = Readouts("quotient_")
        for key, title in (("formula", "quotient"), ("quotient", "value"),
                           ("exact", "f′(x₀)"), ("abs", "|error|"), ("rel", "relative")):
            form.add(key, title, COLORS["secant"] if key == "quotient" else None)
        self.values = form.labels
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(row2)
        layout.addLayout(form)
        layout.addStretch(1)

        self.slider.valueChanged.connect(lambda tick: self.session.set_h(tick_to_h(tick)))
        self.h_edit.editingFinished.connect(self._typed)
        self.negative.toggled.connect(lambda on: self.session.set_option("h_negative", on))
        self.show_secant.toggled.connect(lambda on: self.session.set_option("show_secant", on))
        self.scheme.currentTextChanged.connect(self.session.set_scheme)
        session.connect(("h", "scheme", "h_negative", "show_secant", "function",
                         "parameters"), lambda s, f: self.refresh())
        session.connect("x0", Throttle(self.refresh, parent=self))  # read-outs during a drag
        self.refresh()

    def _typed(self) -> None:
        try:
            h = float(self.h_edit.text())
            self.session.set_h(abs(h))
            if h < 0:
                self.session.set_option("h_negative", True)
        except ValueError:
            self.refresh()

    def refresh(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        s = self.session
        with signals_blocked(self.slider, self.h_edit, self.negative, self.scheme,
                             self.show_secant):
            self.slider.setValue(h_to_tick(s.h))
            if not self.h_edit.hasFocus():
                self.h_edit.setText(f"{s.h:.3g}")
            self.negative.setChecked(s.h_negative)
            self.scheme.setCurrentText(s.scheme)
            self.show_secant.setChecked(s.show_secant)
        f = s.f1
        if f is None:
            self.readouts.clear_values()
            return
        from ...core.calculus import difference_quotient

        h = s.signed_h
        q = difference_quotient(f, s.x0, h, s.scheme)
        exact = float(f.derivative(order=1)(s.x0))
        self.values["formula"].setText({
            "forward": "(f(x₀+h) − f(x₀)) / h",
            "backward": "(f(x₀) − f(x₀−h)) / h",
            "central": "(f(x₀+h) − f(x₀−h)) / 2h"}[s.scheme])
        self.values["quotient"].setText(format_number(q, 12))
        self.values["exact"].setText(format_number(exact, 12))
        err = abs(q - exact)
        self.values["abs"].setText(format_number(err, 3))
        self.values["rel"].setText(format_number(err / abs(exact), 3) if exact else "—")
