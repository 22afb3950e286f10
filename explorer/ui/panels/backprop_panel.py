"""BackpropPanel: the step-through of the computational graph (forward one node at a time,
then backward one edge at a time), the inputs with their gradients, a node's details, and the
worked presets."""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

from ..backprop_model import PRESETS, BackpropModel
from ..bindings import format_number, signals_blocked, typed_constant
from ..theme import COLORS

PHASES = {"inputs": "Inputs set: step forward to compute the graph",
          "forward": "Forward pass: each node's value from its inputs",
          "backward": "Backward pass: each edge carries ∂L/∂node × the local derivative",
          "done": "Done: the gradient of L with respect to every input"}


def _number(v: float) -> str:
    return format_number(float(v), 6) if math.isfinite(v) else "—"


class BackpropPanel(QtWidgets.QWidget):
    """Controls of the backprop lab; the graph itself is drawn by GraphView."""

    preset_chosen = QtCore.Signal(str, dict, dict)

    def __init__(self, model: BackpropModel, parent=None):
        super().__init__(parent)
        self.setObjectName("BackpropPanel")
        self.model = model
        layout = QtWidgets.QVBoxLayout(self)
        self.preset_combo = QtWidgets.QComboBox()
        self.preset_combo.setObjectName("backpropPreset")
        self.preset_combo.addItem("Examples…")
        for name, *_ in PRESETS:
            self.preset_combo.addItem(name)
        self.preset_combo.setToolTip("Puts the example's expression in the Function field and "
                                     "its values in the point and the parameters")
        layout.addWidget(self.preset_combo)

        style = self.style()
        icon = QtWidgets.QStyle.StandardPixmap
        self.reset_button = QtWidgets.QToolButton()
        self.reset_button.setIcon(style.standardIcon(icon.SP_MediaSkipBackward))
        self.reset_button.setToolTip("Back to the inputs (Home)")
        self.reset_button.setObjectName("backpropReset")
        self.back_button = QtWidgets.QToolButton()
        self.back_button.setIcon(style.standardIcon(icon.SP_MediaSeekBackward))
        self.back_button.setToolTip("One step back (←)")
        self.back_button.setObjectName("backpropBack")
        self.step_button = QtWidgets.QPushButton(style.standardIcon(icon.SP_MediaSeekForward),
                                                 "Step")
        self.step_button.setToolTip("One step: a node forward, then an edge backward (→)")
        self.step_button.setObjectName("backpropStep")
        self.forward_button = QtWidgets.QPushButton("Forward pass")
        self.forward_button.setObjectName("backpropForwardAll")
        self.forward_button.setToolTip("Every value, then stop before the backward pass")
        self.all_button = QtWidgets.QToolButton()
        self.all_button.setIcon(style.standardIcon(icon.SP_MediaSkipForward))
        self.all_button.setToolTip("Both passes to the end (End)")
        self.all_button.setObjectName("backpropAll")
        row = QtWidgets.QHBoxLayout()
        for w in (self.reset_button, self.back_button, self.step_button, self.forward_button,
                  self.all_button):
            row.addWidget(w)
        row.addStretch(1)
        layout.addLayout(row)
        self.phase_label = QtWidgets.QLabel("")
        self.phase_label.setObjectName("backpropPhase")
        self.phase_label.setWordWrap(True)
        self.step_label = QtWidgets.QLabel("")
        self.step_label.setObjectName("backpropStepText")
        self.step_label.setWordWrap(True)
        self.step_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.step_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.step_label.setFont(font)
        self.step_label.setStyleSheet("padding: 4px; background: rgba(106, 61, 154, 18); border-radius: 4px;")
        self.step_label.setMinimumHeight(48)
        layout.addWidget(self.phase_label)
        layout.addWidget(self.step_label)

        self.inputs = QtWidgets.QTableWidget(0, 3)
        self.inputs.setObjectName("backpropInputs")
        self.inputs.setHorizontalHeaderLabels(["input", "value", "∂L/∂input"])
        self.inputs.verticalHeader().hide()
        self.inputs.horizontalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.inputs.setToolTip("Double-click a value to edit it (a number or pi/4): x and y "
                               "are the point's, the others the parameters' sliders")
        self.inputs.setMinimumHeight(120)
        layout.addWidget(self.inputs)
        self.input_error = QtWidgets.QLabel("")
        self.input_error.setObjectName("backpropInputError")
        self.input_error.setStyleSheet(f"color: {COLORS['error']};")
        self.input_error.setWordWrap(True)
        self.input_error.hide()
        layout.addWidget(self.input_error)
        self.node_label = QtWidgets.QLabel("Click a node of the graph to see its local "
                                           "derivatives.")
        self.node_label.setObjectName("backpropNode")
        self.node_label.setWordWrap(True)
        self.node_label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.node_label.setFont(QtGui.QFontDatabase.systemFont(
            QtGui.QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self.node_label)
        self.message = QtWidgets.QLabel("")
        self.message.setObjectName("backpropMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {COLORS['error']};")
        self.message.hide()
        layout.addWidget(self.message)
        layout.addStretch(1)
        self._selected: int | None = None

        self.reset_button.clicked.connect(model.reset)
        self.back_button.clicked.connect(model.back)
        self.step_button.clicked.connect(model.forward)
        self.forward_button.clicked.connect(self._forward_pass)
        self.all_button.clicked.connect(model.run_all)
        self.preset_combo.activated.connect(self._preset)
        self.inputs.itemChanged.connect(self._input_edited)
        for key, slot in ((QtCore.Qt.Key.Key_Right, model.forward),
                          (QtCore.Qt.Key.Key_Left, model.back),
                          (QtCore.Qt.Key.Key_Home, model.reset),
                          (QtCore.Qt.Key.Key_End, model.run_all)):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(key), self)
            shortcut.setContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        model.changed.connect(self.refresh)
        model.step_changed.connect(lambda _k: self.refresh_step())
        self.refresh()

    # -- from the model ----------------------------------------------------------------------------
    def refresh(self) -> None:
        m = self.model
        if m.error:
            self.message.setText(m.error)
            self.message.show()
        else:
            self.message.hide()
        g = m.graph
        names = sorted(g.inputs) if g is not None else []
        with signals_blocked(self.inputs):
            self.inputs.setRowCount(len(names))
            for row, name in enumerate(names):
                label = QtWidgets.QTableWidgetItem(name)
                label.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
                value = QtWidgets.QTableWidgetItem(_number(m.values.get(name, math.nan)))
                value.setData(QtCore.Qt.ItemDataRole.UserRole, name)
                self.inputs.setItem(row, 0, label)
                self.inputs.setItem(row, 1, value)
        if self._selected is not None and (g is None or self._selected >= len(g.nodes)):
            self._selected = None
        self.refresh_step()

    def refresh_step(self) -> None:
        m = self.model
        g = m.graph
        enabled = g is not None
        for w in (self.reset_button, self.back_button, self.step_button, self.forward_button,
                  self.all_button):
            w.setEnabled(enabled)
        if g is None:
            self.phase_label.setText("")
            self.step_label.setText("")
            return
        self.phase_label.setText(f"{PHASES[m.phase()]}  ·  step {m.step} of {m.step_count}")
        step = m.current()
        self.step_label.setText(step.text if step is not None else
                                "L = " + g.nodes[-1].text)
        grads = m.node_grads()
        with signals_blocked(self.inputs):
            for row in range(self.inputs.rowCount()):
                name = self.inputs.item(row, 0).text()
                known = grads[g.inputs[name]]
                item = QtWidgets.QTableWidgetItem("" if math.isnan(known) else _number(known))
                item.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
                if m.phase() == "done":
                    item.setForeground(QtGui.QColor(COLORS["tangent"]))
                self.inputs.setItem(row, 2, item)
        self.show_node(self._selected)

    def show_node(self, index: int | None) -> None:
        """A node's sub-expression, value, adjoint and the local derivative on each input."""
        from ...core.graph import name_of

        self._selected = index
        g = self.model.graph
        if g is None or index is None:
            return
        n = g.nodes[index]
        values, grads = self.model.node_values(), self.model.node_grads()
        lines = [f"{name_of(n)} = {n.text}",
                 f"value {_number(values[index])}   ∂L/∂{name_of(n)} = {_number(grads[index])}"]
        for k, i in enumerate(n.inputs):
            child = g.nodes[i]
            lines.append(f"∂{name_of(n)}/∂{name_of(child)} = {_number(n.local[k])}")
        self.node_label.setText("\n".join(lines))

    # -- edits ---------------------------------------------------------------------------------
    def _input_edited(self, item: QtWidgets.QTableWidgetItem) -> None:
        name = item.data(QtCore.Qt.ItemDataRole.UserRole)
        if name is None:
            return
        try:
            value = typed_constant(item.text(), name)
        except ValueError as exc:
            self.input_error.setText(str(exc))
            self.input_error.show()
            with signals_blocked(self.inputs):
                item.setText(_number(self.model.values.get(name, math.nan)))
            return
        self.input_error.hide()
        self.model.set_input(name, value)

    def _forward_pass(self) -> None:
        g = self.model.graph
        if g is None:
            return
        forward = sum(1 for s in g.steps if s.phase == "forward")
        self.model.set_step(forward)

    def _preset(self, index: int) -> None:
        if index <= 0:
            return
        name, text, variables, parameters = PRESETS[index - 1]
        with signals_blocked(self.preset_combo):
            self.preset_combo.setCurrentIndex(0)
        self.preset_chosen.emit(text, variables, parameters)
