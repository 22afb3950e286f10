"""PointPanel: x0 (typed or dragged) and what the calculus says there."""

from __future__ import annotations

import math

from PySide6 import QtWidgets

from ...core.session import Session
from ..bindings import Throttle, format_number, signals_blocked
from ..fields import ConstantEdit
from ..readouts import Readouts
from ..theme import COLORS


class PointPanel(QtWidgets.QWidget):
    """f(x0), f'(x0), f''(x0) and the tangent line, following the dragged point."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.x0_edit = ConstantEdit("x₀", "x0Edit")
        self.x0_error = self.x0_edit.error_label
        self.readouts = form = Readouts("value_")
        form.addRow("x₀", self.x0_edit)
        form.addRow("", self.x0_error)
        for key, title, color in (("f", "f(x₀)", COLORS["f"]), ("d1", "f′(x₀)", COLORS["d1"]),
                                  ("d2", "f″(x₀)", COLORS["d2"]),
                                  ("tangent", "tangent", COLORS["tangent"])):
            form.add(key, title, color)
        self.values = form.labels
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)

        self.x0_edit.entered.connect(self._apply_x0)
        self._throttled = Throttle(self.refresh, parent=self)
        session.connect(("function", "parameters"), lambda s, f: self.refresh())
        session.connect("x0", self._throttled)
        self.refresh()

    def _apply_x0(self, value: float) -> None:
        self.session.set_x0(value)
        self.refresh()

    def refresh(self) -> None:
        s = self.session
        if not self.x0_edit.hasFocus():
            with signals_blocked(self.x0_edit):
                self.x0_edit.setText(format_number(s.x0, 10).replace("−", "-"))
        f = s.f1
        if f is None:
            self.readouts.clear_values()
            return
        from ...core.calculus import tangent

        x0 = s.x0
        self.values["f"].setText(format_number(float(f(x0)), 10))
        self.values["d1"].setText(format_number(float(f.derivative(order=1)(x0)), 10))
        self.values["d2"].setText(format_number(float(f.derivative(order=2)(x0)), 10))
        d1, intercept = tangent(f, x0)
        if math.isfinite(d1):
            sign = "+" if intercept >= 0 else "−"
            self.values["tangent"].setText(
                f"y = {format_number(d1)}·x {sign} {format_number(abs(intercept))}")
        else:
            self.values["tangent"].setText("none (f or f′ undefined here)")
