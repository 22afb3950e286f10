"""Fields for typed numbers: a constant through the safe parser, and a number in scientific
notation (beside a log slider)."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from .bindings import typed_constant
from .theme import COLORS


class ConstantEdit(QtWidgets.QLineEdit):
    """A number or a constant expression (``pi/4``), read by the safe parser on Enter.

    ``entered(value)`` fires for a valid text; otherwise ``error_label`` (put it under the
    field) says what is wrong, and nothing changes."""

    entered = QtCore.Signal(float)

    def __init__(self, name: str, object_name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self.setObjectName(object_name)
        self.setToolTip("A number or a constant expression such as pi/4; Enter applies")
        self.error_label = QtWidgets.QLabel()
        self.error_label.setStyleSheet(f"color: {COLORS['error']};")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.editingFinished.connect(self._apply)

    def _apply(self) -> None:
        text = self.text().strip()
        if not text:
            return
        try:
            value = typed_constant(text, self.name)
        except ValueError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return
        self.error_label.hide()
        self.entered.emit(value)


def labelled_row(*pairs) -> QtWidgets.QHBoxLayout:
    """One row of short labels each before its field, the fields sharing the width:
    ``labelled_row(("x", x_edit), ("y", y_edit))``."""
    row = QtWidgets.QHBoxLayout()
    for text, widget in pairs:
        row.addWidget(QtWidgets.QLabel(text))
        row.addWidget(widget, 1)
    return row


def scientific_edit(object_name: str, width: int, low: float, high: float) -> QtWidgets.QLineEdit:
    """A short field accepting numbers such as 1e-8 between ``low`` and ``high``."""
    edit = QtWidgets.QLineEdit()
    edit.setObjectName(object_name)
    edit.setMaximumWidth(width)
    validator = QtGui.QDoubleValidator(low, high, 20, edit)
    validator.setNotation(QtGui.QDoubleValidator.Notation.ScientificNotation)
    edit.setValidator(validator)
    return edit
