"""RacePanel: the optimizer race set up and played: the runs (add, duplicate, remove, enable),
the selected run's optimizer and hyper-parameters, schedule, clipping and gradient noise, the
start, playback, what each run reached, and the exports."""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ...core.race import MAX_RUNS, MAX_STEPS, OPTIMIZER_NAMES, PALETTE, RunSpec, next_color
from ...core.session import Session
from ..bindings import Throttle, format_number, signals_blocked, typed_constant
from ..fields import ConstantEdit, labelled_row, scientific_edit
from ..race_model import SPEEDS, RaceModel
from ..theme import COLORS

# what "Add" offers: a label and the run it makes
ADD_CHOICES = (
    ("Gradient descent", "SGD", {"lr": 1e-3}),
    ("Momentum (heavy ball)", "SGD", {"lr": 1e-3, "momentum": 0.9}),
    ("Nesterov", "SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    ("Adagrad", "Adagrad", {"lr": 0.5}),
    ("RMSprop", "RMSprop", {"lr": 1e-2}),
    ("Adam", "Adam", {"lr": 5e-2}),
    ("AdamW", "AdamW", {"lr": 5e-2}),
    ("Newton", "Newton", {"damping": 1.0}),
    ("L-BFGS", "LBFGS", {}),
)
COLUMNS = ("", "", "run", "status", "final f", "to min")
HYPER_HELP = {
    "lr": "learning rate: the step's scale",
    "momentum": "β: the fraction of the last velocity kept (heavy ball)",
    "dampening": "scales the gradient's share of the velocity by 1 − dampening",
    "weight_decay": "adds weight_decay·x to the gradient (AdamW: shrinks x directly)",
    "nesterov": "take the gradient step from the look-ahead point",
    "alpha": "decay of the running mean of g² (RMSprop)",
    "eps": "added to the denominator: no division by zero",
    "centered": "divide by the variance of g instead of its second moment",
    "betas": "decays of the running means of g (β₁) and g² (β₂)",
    "amsgrad": "use the largest v seen so far",
    "lr_decay": "lr / (1 + (t − 1)·lr_decay)",
    "initial_accumulator_value": "the sum of g² starts here",
    "damping": "λ in (H + λI)⁻¹∇f: λ large makes it gradient descent with step 1/λ",
    "history_size": "how many past steps approximate the inverse Hessian",
    "max_line_search": "line-search steps per iteration at most",
}


def _swatch(hex_: str) -> QtGui.QIcon:
    pixmap = QtGui.QPixmap(14, 14)
    pixmap.fill(QtGui.QColor(hex_))
    painter = QtGui.QPainter(pixmap)
    painter.setPen(QtGui.QColor("#555555"))
    painter.drawRect(0, 0, 13, 13)
    painter.end()
    return QtGui.QIcon(pixmap)


def _float_text(value) -> str:
    return format_number(float(value), 6)


class RacePanel(QtWidgets.QWidget):
    """The race's controls; the session holds the runs, the model the computed paths."""

    export_run_requested = QtCore.Signal()
    export_view_requested = QtCore.Signal()

    def __init__(self, session: Session, model: RaceModel, parent=None):
        super().__init__(parent)
        self.setObjectName("RacePanel")
        self.session, self.model = session, model
        layout = QtWidgets.QVBoxLayout(self)

        # playback
        style = self.style()
        icon = QtWidgets.QStyle.StandardPixmap
        self._play_icon = style.standardIcon(icon.SP_MediaPlay)
        self._pause_icon = style.standardIcon(icon.SP_MediaPause)
        self.play_button = QtWidgets.QPushButton(self._play_icon, "Play")
        self.play_button.setObjectName("racePlay")
        self.play_button.setShortcut(QtGui.QKeySequence("Ctrl+Space"))
        self.play_button.setToolTip("Play the race from the start (Ctrl+Space)")
        self.reset_button = QtWidgets.QToolButton()
        self.reset_button.setIcon(style.standardIcon(icon.SP_MediaSkipBackward))
        self.reset_button.setObjectName("raceReset")
        self.reset_button.setToolTip("Back to step 0")
        self.back_button = QtWidgets.QToolButton()
        self.back_button.setIcon(style.standardIcon(icon.SP_MediaSeekBackward))
        self.back_button.setObjectName("raceBack")
        self.back_button.setToolTip("One step back")
        self.step_button = QtWidgets.QToolButton()
        self.step_button.setIcon(style.standardIcon(icon.SP_MediaSeekForward))
        self.step_button.setObjectName("raceStep")
        self.step_button.setToolTip("One step forward")
        self.end_button = QtWidgets.QToolButton()
        self.end_button.setIcon(style.standardIcon(icon.SP_MediaSkipForward))
        self.end_button.setObjectName("raceEnd")
        self.end_button.setToolTip("To the last step")
        self.speed_combo = QtWidgets.QComboBox()
        self.speed_combo.setObjectName("raceSpeed")
        for speed in SPEEDS:
            self.speed_combo.addItem(f"{speed} steps/s", speed)
        self.speed_combo.setCurrentIndex(SPEEDS.index(model.speed))
        controls = QtWidgets.QHBoxLayout()
        for w in (self.play_button, self.reset_button, self.back_button, self.step_button,
                  self.end_button):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.speed_combo)
        layout.addLayout(controls)
        self.cursor_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.cursor_slider.setObjectName("raceCursor")
        self.cursor_label = QtWidgets.QLabel("step 0 / 0")
        self.cursor_label.setObjectName("raceCursorLabel")
        self.cursor_label.setMinimumWidth(110)
        cursor_row = QtWidgets.QHBoxLayout()
        cursor_row.addWidget(self.cursor_slider, 1)
        cursor_row.addWidget(self.cursor_label)
        layout.addLayout(cursor_row)

        # the race's settings
        self.start_x = ConstantEdit("start x", "raceStartX")
        self.start_y = ConstantEdit("start y", "raceStartY")
        self.steps_spin = QtWidgets.QSpinBox()
        self.steps_spin.setObjectName("raceSteps")
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setKeyboardTracking(False)
        self.steps_spin.setToolTip("Steps per run at most (fewer when a run converges or "
                                   "diverges)")
        self.tol_edit = scientific_edit("raceTol", 90, 0.0, 1e6)
        self.tol_edit.setToolTip("A run has converged when |∇f| ≤ tol")
        form = QtWidgets.QFormLayout()
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        form.addRow("start", labelled_row(("x", self.start_x), ("y", self.start_y)))
        form.addRow("", self.start_x.error_label)
        form.addRow("", self.start_y.error_label)
        form.addRow("steps", labelled_row(("", self.steps_spin), ("tol", self.tol_edit)))
        layout.addLayout(form)

        # the runs
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("raceRuns")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(190)
        self.table.setToolTip("Tick to race a run; click a row to edit it and follow it")
        layout.addWidget(self.table)
        self.add_button = QtWidgets.QToolButton(text="Add ▾")
        self.add_button.setObjectName("raceAdd")
        self.add_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        add_menu = QtWidgets.QMenu(self.add_button)
        for text, name, hyper in ADD_CHOICES:
            add_menu.addAction(text, lambda n=name, h=hyper: self.add_run(n, h))
        self.add_button.setMenu(add_menu)
        self.duplicate_button = QtWidgets.QPushButton("Duplicate")
        self.duplicate_button.setObjectName("raceDuplicate")
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.remove_button.setObjectName("raceRemove")
        self.export_run_button = QtWidgets.QPushButton("Export run…")
        self.export_run_button.setObjectName("raceExportRun")
        self.export_run_button.setToolTip("The selected run's trajectory as CSV or JSON")
        self.export_view_button = QtWidgets.QPushButton("Export view…")
        self.export_view_button.setObjectName("raceExportView")
        self.export_view_button.setToolTip("The landscape with the paths as PNG or SVG")
        buttons = QtWidgets.QHBoxLayout()
        for w in (self.add_button, self.duplicate_button, self.remove_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        for w in (self.export_run_button, self.export_view_button):
            buttons.addWidget(w)
        layout.addLayout(buttons)
        self.message = QtWidgets.QLabel("")
        self.message.setObjectName("raceMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {COLORS['error']};")
        self.message.hide()
        layout.addWidget(self.message)

        # the selected run
        self.editor = QtWidgets.QGroupBox("Selected run")
        self.editor.setObjectName("raceEditor")
        editor = QtWidgets.QVBoxLayout(self.editor)
        self.optimizer_combo = QtWidgets.QComboBox()
        self.optimizer_combo.setObjectName("raceOptimizer")
        self.optimizer_combo.addItems(OPTIMIZER_NAMES)
        self.color_combo = QtWidgets.QComboBox()
        self.color_combo.setObjectName("raceColor")
        for i, hex_ in enumerate(PALETTE):
            self.color_combo.addItem(_swatch(hex_), "", i)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("optimizer"))
        top.addWidget(self.optimizer_combo, 1)
        top.addWidget(QtWidgets.QLabel("colour"))
        top.addWidget(self.color_combo)
        editor.addLayout(top)
        self.hyper_form = QtWidgets.QFormLayout()
        self.hyper_form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        editor.addLayout(self.hyper_form)
        self.schedule_combo = QtWidgets.QComboBox()
        self.schedule_combo.setObjectName("raceSchedule")
        self.schedule_combo.addItems(["constant", "step", "exponential", "cosine"])
        self.schedule_combo.setToolTip("The learning rate over the steps (torch.optim.lr_scheduler)")
        self.schedule_fields = {
            "step_size": ConstantEdit("step_size", "raceStepSize"),
            "gamma": ConstantEdit("gamma", "raceGamma"),
            "t_max": ConstantEdit("t_max", "raceTMax"),
            "eta_min": ConstantEdit("eta_min", "raceEtaMin"),
        }
        self.schedule_row = QtWidgets.QWidget()
        srow = QtWidgets.QHBoxLayout(self.schedule_row)
        srow.setContentsMargins(0, 0, 0, 0)
        self.schedule_labels = {}
        for key, edit in self.schedule_fields.items():
            label = QtWidgets.QLabel({"step_size": "every", "gamma": "γ", "t_max": "T",
                                      "eta_min": "η_min"}[key])
            self.schedule_labels[key] = label
            srow.addWidget(label)
            srow.addWidget(edit, 1)
        self.clip_box = QtWidgets.QCheckBox("clip |g| ≤")
        self.clip_box.setObjectName("raceClipOn")
        self.clip_edit = ConstantEdit("clip", "raceClip")
        self.noise_edit = ConstantEdit("noise", "raceNoise")
        self.noise_edit.setToolTip("σ of Gaussian noise added to each gradient component: a "
                                   "stochastic gradient (it escapes saddles)")
        self.seed_spin = QtWidgets.QSpinBox()
        self.seed_spin.setObjectName("raceSeed")
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setKeyboardTracking(False)
        extra = QtWidgets.QFormLayout()
        extra.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        extra.addRow("lr schedule", self.schedule_combo)
        extra.addRow("", self.schedule_row)
        clip_row = QtWidgets.QHBoxLayout()
        clip_row.addWidget(self.clip_box)
        clip_row.addWidget(self.clip_edit, 1)
        extra.addRow("", clip_row)
        extra.addRow("gradient noise σ", labelled_row(("", self.noise_edit), ("seed", self.seed_spin)))
        editor.addLayout(extra)
        self.editor_error = QtWidgets.QLabel("")
        self.editor_error.setObjectName("raceEditorError")
        self.editor_error.setWordWrap(True)
        self.editor_error.setStyleSheet(f"color: {COLORS['error']};")
        self.editor_error.hide()
        editor.addWidget(self.editor_error)
        self.state_label = QtWidgets.QLabel("")
        self.state_label.setObjectName("raceState")
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.state_label.setFont(font)
        editor.addWidget(self.state_label)
        layout.addWidget(self.editor)
        layout.addStretch(1)
        self._hyper_widgets: dict[str, object] = {}
        self._hyper_for = None

        # wiring
        self.play_button.clicked.connect(model.toggle_play)
        self.reset_button.clicked.connect(model.reset)
        self.back_button.clicked.connect(lambda: model.step_by(-1))
        self.step_button.clicked.connect(lambda: model.step_by(1))
        self.end_button.clicked.connect(model.to_end)
        self.speed_combo.currentIndexChanged.connect(
            lambda i: model.set_speed(self.speed_combo.itemData(i)))
        self.cursor_slider.valueChanged.connect(self._slider_moved)
        self.start_x.entered.connect(lambda v: self._set_start(0, v))
        self.start_y.entered.connect(lambda v: self._set_start(1, v))
        self.steps_spin.valueChanged.connect(self._set_steps)
        self.tol_edit.editingFinished.connect(self._set_tol)
        self.table.itemChanged.connect(self._item_changed)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.duplicate_button.clicked.connect(self.duplicate_run)
        self.remove_button.clicked.connect(self.remove_run)
        self.export_run_button.clicked.connect(self.export_run_requested)
        self.export_view_button.clicked.connect(self.export_view_requested)
        self.optimizer_combo.activated.connect(self._optimizer_chosen)
        self.color_combo.activated.connect(
            lambda i: self._edit(color=int(self.color_combo.itemData(i))))
        self.schedule_combo.activated.connect(lambda _i: self._schedule_edited())
        for edit in self.schedule_fields.values():
            edit.entered.connect(lambda _v: self._schedule_edited())
        self.clip_box.toggled.connect(lambda _on: self._clip_edited())
        self.clip_edit.entered.connect(lambda _v: self._clip_edited())
        self.noise_edit.entered.connect(lambda v: self._edit(noise=v))
        self.seed_spin.valueChanged.connect(lambda v: self._edit(seed=int(v)))
        # a dragged start brings a race per frame: the table follows at most 10 times a second
        self._refresh_throttle = Throttle(self.refresh, 100, self, after_paint=True)
        model.changed.connect(self._refresh_throttle.__call__)
        model.drag_finished.connect(self.refresh)
        if model.landscape_model is not None:  # the distance to the nearest minimum
            model.landscape_model.critical_changed.connect(self._refresh_throttle.__call__)
        model.cursor_changed.connect(lambda _k: self._cursor_throttle())
        model.selected_changed.connect(lambda _i: self.refresh())
        model.playing_changed.connect(self._playing)
        self._cursor_throttle = Throttle(self._show_cursor, 40, self)
        session.connect(("race_runs", "race_start", "race_steps", "race_tol"),
                        lambda s, f: self.refresh())
        self.refresh()

    # -- the session's race into the widgets -----------------------------------------------------
    def refresh(self) -> None:
        s, m = self.session, self.model
        if m.dragging:  # the start is moving: the table follows on release
            self._show_cursor()
            return
        with signals_blocked(self.start_x, self.start_y, self.steps_spin):
            self.start_x.setText(_float_text(s.race_start[0]))
            self.start_y.setText(_float_text(s.race_start[1]))
            self.steps_spin.setValue(s.race_steps)
        if not self.tol_edit.hasFocus():
            self.tol_edit.setText(f"{s.race_tol:g}")
        runs = s.race_runs
        with signals_blocked(self.table):
            self.table.setRowCount(len(runs))
            for i, spec in enumerate(runs):
                self._fill_row(i, spec)
            if 0 <= m.selected < len(runs):
                self.table.selectRow(m.selected)
        self.remove_button.setEnabled(bool(runs))
        self.duplicate_button.setEnabled(bool(runs))
        self.add_button.setEnabled(len(runs) < MAX_RUNS)
        has_path = 0 <= m.selected < len(m.trajectories) and m.trajectories[m.selected] is not None
        self.export_run_button.setEnabled(has_path)
        if m.error:
            self.message.setText(m.error)
            self.message.show()
        elif not m.active and s.f is not None and len(s.f.variables) != 2:
            self.message.setText("The race runs on a function of x and y: type one, or pick a "
                                 "landscape (Rosenbrock, a saddle) from the presets.")
            self.message.show()
        else:
            self.message.hide()
        self._fill_editor()
        self._show_cursor()

    def _fill_row(self, i: int, spec: RunSpec) -> None:
        m = self.model
        t = m.trajectories[i] if i < len(m.trajectories) and m.runs == self.session.race_runs \
            else None
        check = QtWidgets.QTableWidgetItem()
        check.setFlags(QtCore.Qt.ItemFlag.ItemIsUserCheckable | QtCore.Qt.ItemFlag.ItemIsEnabled
                       | QtCore.Qt.ItemFlag.ItemIsSelectable)
        check.setCheckState(QtCore.Qt.CheckState.Checked if spec.enabled
                            else QtCore.Qt.CheckState.Unchecked)
        check.setToolTip("Race this run")
        swatch = QtWidgets.QTableWidgetItem()
        swatch.setIcon(_swatch(spec.color_hex))
        extras = []
        if spec.schedule:
            extras.append(spec.schedule["kind"])
        if spec.clip is not None:
            extras.append(f"clip {spec.clip:g}")
        if spec.noise:
            extras.append(f"noise {spec.noise:g}")
        name = QtWidgets.QTableWidgetItem(spec.label + (f" ({', '.join(extras)})" if extras else ""))
        if t is None:
            status, final, dist = ("off" if not spec.enabled else "…"), "", ""
        else:
            status = t.describe()
            final = format_number(t.final_value, 5) if math.isfinite(t.final_value) else "—"
            d = m.distance_to_minimum(i)
            dist = "" if d is None else format_number(d, 3)
        texts = [None, None, name.text(), status, final, dist]
        current = [self.table.item(i, col) for col in range(len(COLUMNS))]
        if all(c is not None for c in current) and current[0].checkState() == check.checkState() \
                and current[1].data(QtCore.Qt.ItemDataRole.UserRole) == spec.color:
            # the same run with new numbers (a dragged start): only the texts change
            for item, text in zip(current[2:], texts[2:], strict=True):
                if item.text() != text:
                    item.setText(text)
        else:
            swatch.setData(QtCore.Qt.ItemDataRole.UserRole, spec.color)
            cells = [check, swatch, name, QtWidgets.QTableWidgetItem(status),
                     QtWidgets.QTableWidgetItem(final), QtWidgets.QTableWidgetItem(dist)]
            cells[5].setToolTip("Distance from the last point to the nearest minimum in view")
            for col, item in enumerate(cells):
                self.table.setItem(i, col, item)
        status_item = self.table.item(i, 3)
        diverged = t is not None and t.status == "diverged"
        status_item.setForeground(QtGui.QColor(COLORS["error"] if diverged
                                               else COLORS["axis_text"]))

    def _fill_editor(self) -> None:
        runs = self.session.race_runs
        i = self.model.selected
        self.editor.setEnabled(0 <= i < len(runs))
        if not 0 <= i < len(runs):
            self.state_label.setText("")
            return
        spec = runs[i]
        self.editor.setTitle(f"Selected run: {spec.label}")
        with signals_blocked(self.optimizer_combo, self.color_combo, self.schedule_combo,
                             self.clip_box, self.seed_spin):
            self.optimizer_combo.setCurrentText(spec.optimizer)
            self.color_combo.setCurrentIndex(spec.color)
            schedule = spec.schedule or {"kind": "constant"}
            self.schedule_combo.setCurrentText(schedule["kind"])
            self.clip_box.setChecked(spec.clip is not None)
            self.seed_spin.setValue(spec.seed)
        defaults = {"step_size": 100, "gamma": 0.5, "t_max": 1000, "eta_min": 0.0}
        kind = (spec.schedule or {}).get("kind", "constant")
        used = {"constant": (), "step": ("step_size", "gamma"), "exponential": ("gamma",),
                "cosine": ("t_max", "eta_min")}[kind]
        for key, edit in self.schedule_fields.items():
            edit.setText(_float_text((spec.schedule or defaults).get(key, defaults[key])))
            edit.setVisible(key in used)
            self.schedule_labels[key].setVisible(key in used)
        self.schedule_row.setVisible(bool(used))
        self.clip_edit.setText(_float_text(spec.clip if spec.clip is not None else 10.0))
        self.clip_edit.setEnabled(spec.clip is not None)
        self.noise_edit.setText(_float_text(spec.noise))
        self._fill_hyper(spec)

    def _fill_hyper(self, spec: RunSpec) -> None:
        values = spec.optimizer_object().hyperparameters
        if self._hyper_for != spec.optimizer:
            while self.hyper_form.rowCount():
                self.hyper_form.removeRow(0)
            self._hyper_widgets = {}
            for key, value in values.items():
                if isinstance(value, bool):
                    widget = QtWidgets.QCheckBox()
                    widget.toggled.connect(lambda on, k=key: self._hyper_edited(k, on))
                elif isinstance(value, tuple):
                    edits = [ConstantEdit(f"{key}[{j}]", f"race_{key}_{j}") for j in range(2)]
                    for j, edit in enumerate(edits):
                        edit.entered.connect(lambda v, k=key, j=j: self._pair_edited(k, j, v))
                    widget = QtWidgets.QWidget()
                    row = labelled_row(("β₁", edits[0]), ("β₂", edits[1]))
                    row.setContentsMargins(0, 0, 0, 0)
                    widget.setLayout(row)
                    widget.edits = edits
                elif isinstance(value, int):
                    widget = QtWidgets.QSpinBox()
                    widget.setRange(1, 1000)
                    widget.setKeyboardTracking(False)
                    widget.valueChanged.connect(lambda v, k=key: self._hyper_edited(k, int(v)))
                else:
                    widget = ConstantEdit(key, f"race_{key}")
                    widget.entered.connect(lambda v, k=key: self._hyper_edited(k, v))
                widget.setObjectName(widget.objectName() or f"race_{key}")
                widget.setToolTip(HYPER_HELP.get(key, ""))
                label = QtWidgets.QLabel(key.replace("_", " "))
                label.setToolTip(HYPER_HELP.get(key, ""))
                self.hyper_form.addRow(label, widget)
                self._hyper_widgets[key] = widget
            self._hyper_for = spec.optimizer
        for key, widget in self._hyper_widgets.items():
            value = values[key]
            with signals_blocked(widget):
                if isinstance(widget, QtWidgets.QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QtWidgets.QSpinBox):
                    widget.setValue(int(value))
                elif hasattr(widget, "edits"):
                    for edit, v in zip(widget.edits, value, strict=True):
                        edit.setText(_float_text(v))
                else:
                    widget.setText(_float_text(value))

    # -- edits into the session ------------------------------------------------------------------
    def _replace(self, index: int, spec: RunSpec) -> None:
        runs = list(self.session.race_runs)
        runs[index] = spec
        self.session.set_race_runs(runs)

    def _edit(self, **changes) -> None:
        i = self.model.selected
        runs = self.session.race_runs
        if not 0 <= i < len(runs):
            return
        try:
            spec = runs[i].with_(**changes)
        except (ValueError, TypeError) as exc:
            self.editor_error.setText(str(exc))
            self.editor_error.show()
            self._fill_editor()
            return
        self.editor_error.hide()
        self._replace(i, spec)

    def _hyper_edited(self, key: str, value) -> None:
        i = self.model.selected
        spec = self.session.race_runs[i]
        self._edit(hyper={**spec.hyper, key: value})

    def _pair_edited(self, key: str, j: int, value: float) -> None:
        spec = self.session.race_runs[self.model.selected]
        pair = list(spec.optimizer_object().hyperparameters[key])
        pair[j] = value
        self._edit(hyper={**spec.hyper, key: pair})

    def _optimizer_chosen(self, index: int) -> None:
        name = self.optimizer_combo.itemText(index)
        spec = self.session.race_runs[self.model.selected]
        if name == spec.optimizer:
            return
        hyper = next((dict(h) for _, n, h in ADD_CHOICES if n == name), {})
        self._edit(optimizer=name, hyper=hyper)

    def _schedule_edited(self) -> None:
        kind = self.schedule_combo.currentText()
        if kind == "constant":
            self._edit(schedule=None)
            return
        values = {"kind": kind}
        for key, edit in self.schedule_fields.items():
            try:
                values[key] = typed_constant(edit.text(), key)
            except ValueError as exc:
                self.editor_error.setText(str(exc))
                self.editor_error.show()
                return
        self._edit(schedule=values)

    def _clip_edited(self) -> None:
        if not self.clip_box.isChecked():
            self._edit(clip=None)
            return
        try:
            value = typed_constant(self.clip_edit.text() or "10", "clip")
        except ValueError as exc:
            self.editor_error.setText(str(exc))
            self.editor_error.show()
            return
        self._edit(clip=value)

    def _set_start(self, axis: int, value: float) -> None:
        start = list(self.session.race_start)
        start[axis] = value
        self.session.set_race_start(start)

    def _set_steps(self, steps: int) -> None:
        self.session.set_race_steps(steps)

    def _set_tol(self) -> None:
        try:
            self.session.set_race_tol(float(self.tol_edit.text()))
        except ValueError:
            self.tol_edit.setText(f"{self.session.race_tol:g}")

    def _item_changed(self, item: QtWidgets.QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        i = item.row()
        enabled = item.checkState() == QtCore.Qt.CheckState.Checked
        spec = self.session.race_runs[i]
        if spec.enabled != enabled:
            self._replace(i, spec.with_(enabled=enabled))

    def _selection_changed(self) -> None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if rows:
            self.model.select(min(rows))

    def add_run(self, optimizer: str, hyper: dict) -> None:
        runs = self.session.race_runs
        if len(runs) >= MAX_RUNS:
            return
        spec = RunSpec(optimizer, dict(hyper), color=next_color(runs))
        self.session.set_race_runs((*runs, spec))
        self.model.select(len(runs))
        self.refresh()

    def duplicate_run(self) -> None:
        runs = self.session.race_runs
        i = self.model.selected
        if not 0 <= i < len(runs) or len(runs) >= MAX_RUNS:
            return
        copy = runs[i].with_(color=next_color(runs))
        self.session.set_race_runs((*runs[: i + 1], copy, *runs[i + 1:]))
        self.model.select(i + 1)
        self.refresh()

    def remove_run(self) -> None:
        runs = self.session.race_runs
        i = self.model.selected
        if not 0 <= i < len(runs):
            return
        self.session.set_race_runs(runs[:i] + runs[i + 1:])
        self.model.select(max(0, min(i, len(runs) - 2)))
        self.refresh()

    # -- playback --------------------------------------------------------------------------------
    def _slider_moved(self, value: int) -> None:
        if value != self.model.cursor:
            self.model.pause()
            self.model.set_cursor(value)

    def _playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(self._pause_icon if playing else self._play_icon)

    def _show_cursor(self) -> None:
        m = self.model
        last = m.max_step()
        with signals_blocked(self.cursor_slider):
            self.cursor_slider.setRange(0, last)
            self.cursor_slider.setValue(m.cursor)
        self.cursor_label.setText(f"step {m.cursor:,} / {last:,}")
        self.state_label.setText(state_text(m))


def state_text(model: RaceModel) -> str:
    """The selected run at the cursor: where it is, and the state its next step uses."""
    i = model.selected
    if not (0 <= i < len(model.trajectories)) or model.trajectories[i] is None:
        return ""
    t, spec = model.trajectories[i], model.runs[i]
    k = min(model.cursor, t.steps)
    p, g = t.points[k], t.gradients[k]

    def vec(v) -> str:
        return "(" + ", ".join(format_number(float(c), 4) for c in v) + ")"

    lines = [f"x{_sub(k)} = {vec(p)}   f = {format_number(float(t.values[k]), 5)}",
             f"∇f = {vec(g)}   |∇f| = {format_number(float(np.hypot(*g)), 4)}"]
    if k >= t.steps:
        lines.append(f"stopped: {t.describe()}")
        return "\n".join(lines)
    step = t.points[k + 1] - p
    lr = float(t.rates[k]) if t.rates is not None and len(t.rates) > k else float("nan")
    lines.append(f"next step = {vec(step)}" + (f"   lr = {lr:g}" if spec.optimizer != "LBFGS"
                                                  else ""))
    state = t.state
    if spec.optimizer == "SGD" and spec.hyper.get("momentum"):
        lines.append(f"velocity v = {vec(state['velocity'][k + 1])}")
    elif spec.optimizer in ("Adam", "AdamW"):
        lines.append(f"m = {vec(state['m'][k + 1])}   v = {vec(state['v'][k + 1])}")
        lines.append(f"per-coordinate scale lr/(√v̂+ε) = {vec(state['scale'][k + 1])}")
    elif spec.optimizer == "RMSprop":
        sq = state["square_avg"][k + 1]
        lines.append(f"E[g²] = {vec(sq)}   scale lr/(√E[g²]+ε) = {vec(lr / (np.sqrt(sq) + 1e-8))}")
    elif spec.optimizer == "Adagrad":
        total = state["sum"][k + 1]
        lines.append(f"Σg² = {vec(total)}   scale lr/(√Σg²+ε) = {vec(lr / (np.sqrt(total) + 1e-10))}")
    elif spec.optimizer == "Newton":
        lines.append(f"direction −(H+λI)⁻¹∇f = {vec(state['direction'][k + 1])}")
    return "\n".join(lines)


def _sub(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
