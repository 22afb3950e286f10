"""JacobianPanel: the map F(x, y) = (u, v) typed as two expressions (or a preset), the point p,
the circle's radius r, and the read-outs: F(p), J(p), det J, areas, and how far the circle's
image is from the ellipse J predicts."""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtWidgets

from ..bindings import Throttle, format_number, signals_blocked
from ..fields import ConstantEdit, labelled_row
from ..jacobian_model import PRESETS, RADIUS_RANGE, JacobianModel
from ..readouts import Readouts, RefreshWhenShown
from ..theme import COLORS

SLIDER_STEPS = 200  # r = 10^(log10 r_min + k / SLIDER_STEPS * decades)
PARSE_DELAY_MS = 150  # typing pauses this long before the text is parsed (Enter: at once)


def _slider_to_radius(k: int) -> float:
    lo, hi = (math.log10(v) for v in RADIUS_RANGE)
    return 10 ** (lo + (hi - lo) * k / SLIDER_STEPS)


def _radius_to_slider(r: float) -> int:
    lo, hi = (math.log10(v) for v in RADIUS_RANGE)
    return round((math.log10(r) - lo) / (hi - lo) * SLIDER_STEPS)


def _matrix(m: np.ndarray) -> str:
    cells = [[format_number(float(v), 6) for v in row] for row in m]
    width = max(len(c) for row in cells for c in row)
    rows = ", ".join(c.rjust(width) for c in cells[0]), ", ".join(c.rjust(width) for c in cells[1])
    return f"[[{rows[0]}],\n [{rows[1]}]]"


class JacobianPanel(RefreshWhenShown, QtWidgets.QWidget):
    """Controls and read-outs of the Jacobian lab, over a ``JacobianModel``."""

    def __init__(self, model: JacobianModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.presets = QtWidgets.QComboBox()
        self.presets.setObjectName("jacobianPresets")
        self.presets.setPlaceholderText("custom map")
        for name, u, v in PRESETS:
            self.presets.addItem(name, (u, v))
        self.edits: dict[str, QtWidgets.QLineEdit] = {}
        self.errors: dict[str, QtWidgets.QLabel] = {}
        self._timers: dict[str, QtCore.QTimer] = {}
        for name in ("u", "v"):
            edit = QtWidgets.QLineEdit()
            edit.setObjectName(f"jacobian_{name}Edit")
            edit.setPlaceholderText(f"{name}(x, y)")
            edit.setToolTip(f"{name} as an expression of x and y; e.g. x^2 - y^2, x cos(y)")
            error = QtWidgets.QLabel()
            error.setObjectName(f"jacobian_{name}Error")
            error.setStyleSheet(f"color: {COLORS['error']};")
            error.setWordWrap(True)
            error.hide()
            timer = QtCore.QTimer(self, singleShot=True, interval=PARSE_DELAY_MS)
            timer.timeout.connect(self._apply_texts)
            edit.textEdited.connect(lambda _text, t=timer: t.start())
            edit.returnPressed.connect(self._apply_texts)
            self.edits[name], self.errors[name], self._timers[name] = edit, error, timer
        self.x_edit = ConstantEdit("x", "jacobianXEdit")
        self.y_edit = ConstantEdit("y", "jacobianYEdit")
        point_row = labelled_row(("x", self.x_edit), ("y", self.y_edit))
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setObjectName("jacobianRadiusSlider")
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setToolTip("The circle's radius r on a logarithmic scale, 0.01 to 1")
        self.radius_label = QtWidgets.QLabel()
        self.radius_label.setObjectName("jacobianRadiusLabel")
        self.radius_label.setMinimumWidth(64)
        radius_row = QtWidgets.QHBoxLayout()
        radius_row.addWidget(self.slider, 1)
        radius_row.addWidget(self.radius_label)

        form = QtWidgets.QFormLayout()
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        form.addRow("preset", self.presets)
        form.addRow("u(x, y) =", self.edits["u"])
        form.addRow("", self.errors["u"])
        form.addRow("v(x, y) =", self.edits["v"])
        form.addRow("", self.errors["v"])
        form.addRow("point p", point_row)
        form.addRow("", self.x_edit.error_label)
        form.addRow("", self.y_edit.error_label)
        form.addRow("radius r", radius_row)
        self.readouts = Readouts("jacobian_")
        self.readouts.add("value", "F(p)", COLORS["point"])
        self.readouts.add("matrix", "J(p)")
        self.readouts.add("det", "det J")
        self.readouts.add("area", "area ratio", COLORS["tangent"])
        self.readouts.add("deviation", "gap to ellipse", COLORS["taylor"])
        self.values = self.readouts.labels
        note = QtWidgets.QLabel(
            "J(p) = [[∂u/∂x, ∂u/∂y], [∂v/∂x, ∂v/∂y]]. Near p, F(p + h) ≈ F(p) + J(p) h: the "
            "circle of radius r maps to nearly the dashed ellipse, the gap shrinking like r², "
            "and areas scale by |det J|.")
        note.setWordWrap(True)
        note.setEnabled(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(self.readouts)
        layout.addWidget(note)
        layout.addStretch(1)

        self.presets.activated.connect(self._choose_preset)
        self.x_edit.entered.connect(lambda value: model.set_point((value, model.point[1])))
        self.y_edit.entered.connect(lambda value: model.set_point((model.point[0], value)))
        self.slider.valueChanged.connect(lambda k: model.set_radius(_slider_to_radius(k)))
        self._throttled = Throttle(self.refresh, parent=self)
        model.changed.connect(self._throttled)
        self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.model.ensure_parsed()
        super().showEvent(event)

    def _choose_preset(self, index: int) -> None:
        u, v = self.presets.itemData(index)
        for timer in self._timers.values():
            timer.stop()
        for name, text in (("u", u), ("v", v)):
            self.edits[name].setText(text)
        self.model.set_texts(u, v)

    def _apply_texts(self) -> None:
        for timer in self._timers.values():
            timer.stop()
        self.model.set_texts(self.edits["u"].text().strip(), self.edits["v"].text().strip())

    def refresh(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        m = self.model
        for name, text in (("u", m.u_text), ("v", m.v_text)):
            edit = self.edits[name]
            if not edit.hasFocus() and edit.text() != text:
                edit.setText(text)
            error = getattr(m, f"{name}_error")
            label = self.errors[name]
            if error is None:
                label.hide()
            else:
                label.setText(f"column {error.column}: {error.message}"
                              + ("  (drawing the last valid map)" if getattr(m, name) else ""))
                label.show()
        index = next((i for i, (_, u, v) in enumerate(PRESETS)
                      if (u, v) == (m.u_text, m.v_text)), -1)
        with signals_blocked(self.presets, self.slider):
            self.presets.setCurrentIndex(index)
            self.slider.setValue(_radius_to_slider(m.radius))
        self.radius_label.setText(f"r = {format_number(m.radius, 3)}")
        for edit, value in ((self.x_edit, m.point[0]), (self.y_edit, m.point[1])):
            if not edit.hasFocus():
                edit.setText(format_number(value, 10).replace("−", "-"))
        if not m.ready:
            self.readouts.clear_values()
            return
        fp = m.value()
        J = m.jacobian()
        det = float(np.linalg.det(J))
        self.values["value"].setText(f"({format_number(fp[0], 8)}, {format_number(fp[1], 8)})")
        self.values["matrix"].setText(_matrix(J))
        scale = max(1.0, float(np.max(np.abs(J))) ** 2) if np.all(np.isfinite(J)) else 1.0
        if not math.isfinite(det):
            note = ""
        elif abs(det) <= 1e-10 * scale:
            note = "  singular: J flattens the circle to a segment"
        elif det < 0:
            note = "  orientation reversed"
        else:
            note = ""
        self.values["det"].setText(format_number(det, 8) + note)
        measured = m.area_ratio()
        self.values["area"].setText(f"|det J| = {format_number(abs(det), 6)}\n"
                                    f"image / πr² = {format_number(measured, 6)}")
        gap = m.deviation()
        self.values["deviation"].setText(
            f"{format_number(gap, 4)}  (÷ r² = {format_number(gap / m.radius ** 2, 4)})")
