"""ParametersPanel: a slider per parameter of f, with an editable range and step."""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.session import Session
from ..bindings import signals_blocked

MAX_TICKS = 100_000  # a QSlider is integer-valued: value = low + ticks * step


def _decimals(step: float) -> int:
    return max(0, min(8, int(math.ceil(-math.log10(step))) + 1)) if step < 1 else 2


class ParameterRow(QtWidgets.QWidget):
    """One parameter: name, slider, value; below, its range and step."""

    def __init__(self, session: Session, name: str, parent=None):
        super().__init__(parent)
        self.session = session
        self.name = name
        self.setObjectName(f"parameter_{name}")
        title = QtWidgets.QLabel(f"<b>{name}</b>")
        title.setMinimumWidth(28)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setObjectName(f"slider_{name}")
        self.value = QtWidgets.QDoubleSpinBox()
        self.value.setObjectName(f"value_{name}")
        self.value.setRange(-1e12, 1e12)
        self.value.setKeyboardTracking(False)
        self.value.setMinimumWidth(86)
        # Plain fields showing "-1", "3", "0.01": a spin box would print "-1.000000".
        self.low, self.high, self.step = (QtWidgets.QLineEdit() for _ in range(3))
        for box, tip in ((self.low, "lowest slider value"), (self.high, "highest slider value"),
                         (self.step, "slider step (positive)")):
            validator = QtGui.QDoubleValidator(-1e9, 1e9, 12, box)
            validator.setNotation(QtGui.QDoubleValidator.Notation.ScientificNotation)
            box.setValidator(validator)
            box.setToolTip(tip)
            box.setMaximumWidth(64)
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(title)
        top.addWidget(self.slider, 1)
        top.addWidget(self.value)
        bottom = QtWidgets.QHBoxLayout()
        bottom.setContentsMargins(28, 0, 0, 0)
        for text, box in (("from", self.low), ("to", self.high), ("step", self.step)):
            label = QtWidgets.QLabel(text)
            label.setEnabled(False)  # drawn muted: secondary controls
            bottom.addWidget(label)
            bottom.addWidget(box)
        bottom.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 6)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(bottom)

        self.slider.valueChanged.connect(self._slider_moved)
        self.value.valueChanged.connect(self._value_typed)
        for box in (self.low, self.high, self.step):
            box.editingFinished.connect(self._range_edited)
        self.refresh()

    def refresh(self) -> None:
        s = self.session
        low, high, step = s.parameter_ranges[self.name]
        value = s.parameters[self.name]
        decimals = _decimals(step)
        with signals_blocked(self.slider, self.value, self.low, self.high, self.step):
            ticks = min(MAX_TICKS, max(1, round((high - low) / step)))
            self.slider.setRange(0, ticks)
            self.slider.setValue(round((min(max(value, low), high) - low) / (high - low) * ticks))
            self.value.setDecimals(decimals)
            self.value.setSingleStep(step)
            self.value.setValue(value)
            self.low.setText(f"{low:g}")
            self.high.setText(f"{high:g}")
            self.step.setText(f"{step:g}")

    def _slider_moved(self, ticks: int) -> None:
        low, high, _ = self.session.parameter_ranges[self.name]
        value = low + (high - low) * ticks / max(self.slider.maximum(), 1)
        self.session.set_parameter(self.name, round(value, 12))

    def _value_typed(self, value: float) -> None:
        self.session.set_parameter(self.name, value)

    def _range_edited(self) -> None:
        try:
            low, high, step = (float(box.text()) for box in (self.low, self.high, self.step))
            self.session.set_parameter_range(self.name, low, high, step)
        except ValueError as exc:
            # A reversed range or a zero step: say so where the user looks, restore the fields.
            QtWidgets.QToolTip.showText(self.mapToGlobal(self.rect().bottomLeft()), str(exc), self)
            self.refresh()


class ParametersPanel(QtWidgets.QWidget):
    """Sliders for every parameter of the current function; they redraw the views live."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.rows: dict[str, ParameterRow] = {}
        self.empty = QtWidgets.QLabel(
            "No parameters. Any name other than x, y, pi and e becomes one: "
            "try  a x^2 + b x + c.")
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)
        self._rows_layout = QtWidgets.QVBoxLayout()
        self._rows_layout.setSpacing(0)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addLayout(self._rows_layout)
        layout.addStretch(1)
        session.connect(("function", "parameters", "parameter_ranges"), lambda s, f: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        names = list(self.session.parameters)
        if names != list(self.rows):
            # The set of names changes only when f is retyped, never during a drag.
            for row in self.rows.values():
                row.setParent(None)
                row.deleteLater()
            self.rows = {}
            for name in names:
                row = ParameterRow(self.session, name)
                self._rows_layout.addWidget(row)
                self.rows[name] = row
        else:
            for row in self.rows.values():
                row.refresh()
        self.empty.setVisible(not names)
