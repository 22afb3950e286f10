"""LandscapePanel: the point on f(x, y) and what the calculus says there (gradient, directional
derivative, Hessian), and the landscape's settings."""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtWidgets

from ...core.session import CONTOUR_COUNT_RANGE, FIELD_DENSITY_RANGE, Session
from ..bindings import Throttle, format_number, signals_blocked
from ..fields import ConstantEdit, labelled_row
from ..landscape_model import LandscapeModel
from ..readouts import Readouts, RefreshWhenShown
from ..theme import COLORS

KIND_TEXT = {"minimum": "minimum (both eigenvalues > 0)", "maximum": "maximum (both < 0)",
             "saddle": "saddle (eigenvalues of both signs)",
             "degenerate": "degenerate (an eigenvalue is 0)"}


def _vector(v) -> str:
    return "(" + ", ".join(format_number(float(c), 6) for c in v) + ")"


class LandscapePanel(RefreshWhenShown, QtWidgets.QWidget):
    """Read-outs at the point and the settings of the landscape view."""

    def __init__(self, session: Session, model: LandscapeModel, parent=None):
        super().__init__(parent)
        self.session, self.model = session, model
        self.x_edit = ConstantEdit("x", "pointXEdit")
        self.y_edit = ConstantEdit("y", "pointYEdit")
        point_row = labelled_row(("x", self.x_edit), ("y", self.y_edit))
        self.along_gradient = QtWidgets.QPushButton("u along ∇f")
        self.along_gradient.setObjectName("alongGradientButton")
        self.along_gradient.setToolTip("Turn u to the gradient: the directional derivative "
                                       "is then largest, |∇f|")
        self.levels_spin = QtWidgets.QSpinBox()
        self.levels_spin.setObjectName("contourCountSpin")
        self.levels_spin.setRange(*CONTOUR_COUNT_RANGE)
        self.log_box = QtWidgets.QCheckBox("log colours")
        self.log_box.setObjectName("logColors")
        self.log_box.setToolTip("Colours and levels on log(f − min f): valleys such as "
                                "Rosenbrock's show their floor")
        self.field_box = QtWidgets.QCheckBox("gradient field")
        self.field_box.setObjectName("showField")
        self.density_spin = QtWidgets.QSpinBox()
        self.density_spin.setObjectName("fieldDensitySpin")
        self.density_spin.setRange(*FIELD_DENSITY_RANGE)
        self.density_spin.setToolTip("Arrows per side")
        self.normalized_box = QtWidgets.QCheckBox("unit arrows")
        self.normalized_box.setObjectName("fieldNormalized")
        self.normalized_box.setToolTip("On: direction only. Off: lengths proportional to |∇f|")
        self.quadratic_box = QtWidgets.QCheckBox("quadratic model at the point (dashed)")
        self.quadratic_box.setObjectName("showQuadratic")
        settings = QtWidgets.QGridLayout()
        settings.addWidget(QtWidgets.QLabel("contour levels"), 0, 0)
        settings.addWidget(self.levels_spin, 0, 1)
        settings.addWidget(self.log_box, 0, 2)
        settings.addWidget(self.field_box, 1, 0)
        settings.addWidget(self.density_spin, 1, 1)
        settings.addWidget(self.normalized_box, 1, 2)
        settings.addWidget(self.quadratic_box, 2, 0, 1, 3)
        form = QtWidgets.QFormLayout()
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        form.addRow("point p", point_row)
        form.addRow("", self.x_edit.error_label)
        form.addRow("", self.y_edit.error_label)
        self.readouts = Readouts("landscape_")
        self.readouts.add("f", "f(p)", COLORS["f"])
        self.readouts.add("gradient", "∇f(p)", COLORS["tangent"])
        self.readouts.add("norm", "|∇f(p)|", COLORS["tangent"])
        self.readouts.add("u", "u", COLORS["taylor"])
        self.readouts.add("directional", "∇f · u", COLORS["taylor"])
        self.readouts.add("hessian", "Hessian H")
        self.readouts.add("eigen", "eigenvalues")
        self.readouts.add("condition", "condition κ")
        self.readouts.add("kind", "kind at p")
        self.values = self.readouts.labels
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("landscapeStatus")
        self.status.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(self.readouts)
        layout.addWidget(self.along_gradient)
        layout.addLayout(settings)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.x_edit.entered.connect(lambda v: session.set_point((v, session.point[1])))
        self.y_edit.entered.connect(lambda v: session.set_point((session.point[0], v)))
        self.along_gradient.clicked.connect(self._along_gradient)
        self.levels_spin.valueChanged.connect(session.set_contour_count)
        self.log_box.toggled.connect(lambda on: session.set_option("log_colors", on))
        self.field_box.toggled.connect(lambda on: session.set_option("show_field", on))
        self.density_spin.valueChanged.connect(session.set_field_density)
        self.normalized_box.toggled.connect(lambda on: session.set_option("field_normalized", on))
        self.quadratic_box.toggled.connect(lambda on: session.set_option("show_quadratic_model", on))
        self._throttled = Throttle(self.refresh, parent=self)
        session.connect(("point", "direction"), lambda s, f: self._throttled())
        session.connect(("function", "parameters", "contour_count", "log_colors", "show_field",
                         "field_density", "field_normalized", "show_quadratic_model"),
                        lambda s, f: self.refresh())
        model.critical_changed.connect(self.refresh)
        self.refresh()

    def _along_gradient(self) -> None:
        f = self.model.f2
        if f is None:
            return
        g = f.gradient(self.session.point)
        if np.all(np.isfinite(g)) and np.any(g != 0):
            self.session.set_direction(math.atan2(g[1], g[0]))

    def refresh(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        s = self.session
        with signals_blocked(self.levels_spin, self.log_box, self.field_box, self.density_spin,
                             self.normalized_box, self.quadratic_box):
            self.levels_spin.setValue(s.contour_count)
            self.log_box.setChecked(s.log_colors)
            self.field_box.setChecked(s.show_field)
            self.density_spin.setValue(s.field_density)
            self.normalized_box.setChecked(s.field_normalized)
            self.quadratic_box.setChecked(s.show_quadratic_model)
        for edit, value in ((self.x_edit, s.point[0]), (self.y_edit, s.point[1])):
            if not edit.hasFocus():
                edit.setText(format_number(value, 10).replace("−", "-"))
        f = self.model.f2
        if f is None:
            self.readouts.clear_values()
            self.status.setText("Type a function of x and y (or pick a landscape preset).")
            return
        from ...core.multivariate import directional_derivative, hessian_info

        p = s.point
        g = np.asarray(f.gradient(p), dtype=float)
        u = np.array(s.unit_direction)
        self.values["f"].setText(format_number(float(f(*p)), 8))
        self.values["gradient"].setText(_vector(g))
        self.values["norm"].setText(f"{format_number(float(np.hypot(*g)), 8)}  "
                                    "(the largest ∇f · u)")
        self.values["u"].setText(f"{_vector(u)}  at {math.degrees(s.direction):.1f}°")
        try:
            d = directional_derivative(f, p, u)
        except ValueError:
            d = float("nan")
        self.values["directional"].setText(format_number(d, 8))
        info = hessian_info(f, p)
        h = info.matrix
        self.values["hessian"].setText(
            f"[[{format_number(h[0, 0], 5)}, {format_number(h[0, 1], 5)}],\n"
            f" [{format_number(h[1, 0], 5)}, {format_number(h[1, 1], 5)}]]")
        self.values["eigen"].setText(
            ",  ".join(format_number(float(v), 6) for v in info.eigenvalues)
            + "  (green axes > 0, orange < 0)")
        self.values["condition"].setText(format_number(float(info.condition), 6))
        self.values["kind"].setText(KIND_TEXT.get(info.kind, info.kind))
        counts = {}
        for c in self.model.critical:
            counts[c.kind] = counts.get(c.kind, 0) + 1
        if self.model.critical_for is None:
            self.status.setText("finding critical points…")
        elif not counts:
            self.status.setText("No critical points in view.")
        else:
            names = {"minimum": ("minimum", "minima"), "maximum": ("maximum", "maxima"),
                     "saddle": ("saddle", "saddles"), "degenerate": ("degenerate", "degenerate")}
            parts = [f"{n} {names[k][n != 1]}" for k, n in counts.items()]
            self.status.setText("In view: " + ", ".join(parts) + " (▲ min, ▼ max, ✕ saddle).")
