"""Read-outs: a form of named, selectable, monospaced values, and docks that skip work hidden."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

UNDEFINED = "—"


class Readouts(QtWidgets.QFormLayout):
    """Rows of ``title: value``; ``labels[key]`` is the value's QLabel (``<prefix><key>``)."""

    def __init__(self, prefix: str):
        super().__init__()
        self.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        self.prefix = prefix
        self.labels: dict[str, QtWidgets.QLabel] = {}
        self._font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)

    def add(self, key: str, title: str, color: str | None = None) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(UNDEFINED)
        label.setObjectName(f"{self.prefix}{key}")
        label.setFont(self._font)
        label.setWordWrap(True)
        label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        name = QtWidgets.QLabel(title)
        if color:
            name.setStyleSheet(f"color: {color}; font-weight: 600;")
        self.addRow(name, label)
        self.labels[key] = label
        return label

    def clear_values(self) -> None:
        """Every value undefined (no function of one variable to read from)."""
        for label in self.labels.values():
            label.setText(UNDEFINED)


class RefreshWhenShown:
    """For views in docks that may be hidden: their ``refresh()`` returns at once while hidden
    (so a drag pays nothing for them), and showing them catches up."""

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh()
