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


def on_screen(widget) -> bool:
    """Shown and not behind another dock's tab. Qt 6 reports the content of a dock behind a
    tab as visible; it moves that dock out of its window's area instead."""
    if not widget.isVisible():
        return False
    from PySide6 import QtWidgets

    dock = widget
    while dock is not None and not isinstance(dock, QtWidgets.QDockWidget):
        dock = dock.parentWidget()
    if dock is None or dock.isFloating() or dock.parentWidget() is None:
        return True
    return dock.geometry().intersects(dock.parentWidget().rect())


class RefreshWhenShown:
    """For views in docks that may be hidden or behind another tab: their ``refresh()``
    returns at once while off screen (``on_screen()``; so a drag pays nothing for them), and
    showing them, or raising their tab, catches up."""

    def on_screen(self) -> bool:
        return on_screen(self)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not getattr(self, "_follows_tabs", False):
            from PySide6 import QtWidgets

            parent = self.parentWidget()
            while parent is not None and not isinstance(parent, QtWidgets.QDockWidget):
                parent = parent.parentWidget()
            if parent is not None:  # a tab raised: no show event, the dock says so
                parent.visibilityChanged.connect(self._tab_raised)
                self._follows_tabs = True
        self.refresh()

    def _tab_raised(self, shown: bool) -> None:
        if shown:
            from PySide6 import QtCore

            QtCore.QTimer.singleShot(0, self.refresh)  # once the tab's region is laid out
