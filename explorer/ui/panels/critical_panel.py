"""CriticalPanel: the minima, maxima and inflection points in view; a click moves x0 there."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.session import Session
from ..bindings import format_number, signals_blocked
from ..critical_model import CriticalModel
from ..theme import COLORS

KIND_TEXT = {"minimum": "minimum", "maximum": "maximum", "inflection": "inflection",
             "saddle": "saddle", "degenerate": "degenerate (flat to order 8)"}


class CriticalPanel(QtWidgets.QWidget):
    """A table of the points the search found in the visible x range."""

    def __init__(self, session: Session, model: CriticalModel, parent=None):
        super().__init__(parent)
        self.session, self.model = session, model
        self.show_box = QtWidgets.QCheckBox("Mark them on the curve")
        self.show_box.setObjectName("showCriticalPoints")
        self.table = QtWidgets.QTableWidget(0, 3)
        self.table.setObjectName("criticalTable")
        self.table.setHorizontalHeaderLabels(["kind", "x", "f(x)"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("Click a row to move the point x₀ there")
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("criticalStatus")
        self.status.setWordWrap(True)
        self.status.setEnabled(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.show_box)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.show_box.toggled.connect(lambda on: session.set_option("show_critical_points", on))
        self.table.cellClicked.connect(self._clicked)
        session.connect("show_critical_points", lambda s, f: self._sync_box())
        model.changed.connect(self.refresh)
        self._sync_box()
        self.refresh()

    def _sync_box(self) -> None:
        with signals_blocked(self.show_box):
            self.show_box.setChecked(self.session.show_critical_points)

    def refresh(self) -> None:
        points = self.model.points
        self.table.setRowCount(len(points))
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        for row, p in enumerate(points):
            kind = QtWidgets.QTableWidgetItem(KIND_TEXT.get(p.kind, p.kind))
            kind.setForeground(QtGui.QColor(COLORS.get(p.kind, COLORS["axis_text"])))
            cells = (kind, QtWidgets.QTableWidgetItem(format_number(float(p.point[0]), 8)),
                     QtWidgets.QTableWidgetItem(format_number(p.value, 8)))
            for col, cell in enumerate(cells):
                if col:
                    cell.setFont(font)
                    cell.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight
                                          | QtCore.Qt.AlignmentFlag.AlignVCenter)
                cell.setData(QtCore.Qt.ItemDataRole.UserRole, float(p.point[0]))
                self.table.setItem(row, col, cell)
        self.table.resizeColumnsToContents()
        if self.model.error:
            self.status.setText(self.model.error)
        elif self.model.bounds is None:
            self.status.setText("f is not a function of x alone" if self.session.f is not None else "")
        else:
            lo, hi = self.model.bounds
            count = {k: sum(p.kind == k for p in points) for k in ("minimum", "maximum", "inflection")}
            self.status.setText(
                f"{count['minimum']} minima, {count['maximum']} maxima, "
                f"{count['inflection']} inflection points for x in "
                f"[{format_number(lo, 4)}, {format_number(hi, 4)}]")

    def _clicked(self, row: int, _col: int) -> None:
        x = self.table.item(row, 0).data(QtCore.Qt.ItemDataRole.UserRole)
        self.session.set_x0(float(x))
