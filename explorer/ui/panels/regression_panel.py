"""RegressionPanel: the regression lab's data (generated, imported, exported), the line's (w, b)
and the least-squares fit, J and its gradient written as the formula's terms, feature scaling,
and gradient descent (full batch or mini-batches) with its playback."""

from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from ..bindings import format_number, signals_blocked
from ..fields import ConstantEdit, labelled_row
from ..readouts import Readouts
from ..regression_model import DEFAULT_LR, OPTIMIZER_CHOICES, RegressionModel
from ..theme import COLORS


def _n(v: float, digits: int = 5) -> str:
    return format_number(float(v), digits) if math.isfinite(v) else "—"


class RegressionPanel(QtWidgets.QWidget):
    """Controls and read-outs of the regression lab."""

    import_requested = QtCore.Signal()
    export_requested = QtCore.Signal()

    def __init__(self, model: RegressionModel, parent=None):
        super().__init__(parent)
        self.setObjectName("RegressionPanel")
        self.model = model
        layout = QtWidgets.QVBoxLayout(self)

        data = QtWidgets.QGroupBox("Data: click to add, drag to move, right-click to delete")
        grid = QtWidgets.QGridLayout(data)
        self.n_spin = QtWidgets.QSpinBox(objectName="regressionN")
        self.n_spin.setRange(2, 100_000)
        self.n_spin.setValue(40)
        self.slope_edit = ConstantEdit("slope", "regressionSlope")
        self.slope_edit.setText("1.5")
        self.intercept_edit = ConstantEdit("intercept", "regressionIntercept")
        self.intercept_edit.setText("-0.5")
        self.noise_edit = ConstantEdit("noise", "regressionNoise")
        self.noise_edit.setText("0.6")
        self.seed_spin = QtWidgets.QSpinBox(objectName="regressionDataSeed")
        self.seed_spin.setRange(0, 1_000_000)
        self.generate_button = QtWidgets.QPushButton("Generate", objectName="regressionGenerate")
        self.generate_button.setToolTip("n points y = slope·x + intercept + noise·N(0, 1), x "
                                        "uniform in [−3, 3], from the seed")
        grid.addLayout(labelled_row(("n", self.n_spin), ("slope", self.slope_edit),
                                    ("intercept", self.intercept_edit)), 0, 0)
        grid.addLayout(labelled_row(("noise", self.noise_edit), ("seed", self.seed_spin),
                                    ("", self.generate_button)), 1, 0)
        self.import_button = QtWidgets.QPushButton("Import CSV…", objectName="regressionImport")
        self.export_button = QtWidgets.QPushButton("Export CSV…", objectName="regressionExport")
        files = QtWidgets.QHBoxLayout()
        files.addWidget(self.import_button)
        files.addWidget(self.export_button)
        files.addStretch(1)
        grid.addLayout(files, 2, 0)
        self.data_error = QtWidgets.QLabel("", objectName="regressionDataError")
        self.data_error.setWordWrap(True)
        self.data_error.setStyleSheet(f"color: {COLORS['error']};")
        self.data_error.hide()
        grid.addWidget(self.data_error, 3, 0)
        layout.addWidget(data)

        line = QtWidgets.QGroupBox("The line y = w·x + b")
        form = QtWidgets.QVBoxLayout(line)
        self.w_edit = ConstantEdit("w", "regressionW")
        self.b_edit = ConstantEdit("b", "regressionB")
        self.fit_button = QtWidgets.QPushButton("Least squares", objectName="regressionFit")
        self.fit_button.setToolTip("(w, b) to the minimum of J: the normal equations")
        form.addLayout(labelled_row(("w", self.w_edit), ("b", self.b_edit),
                                    ("", self.fit_button)))
        form.addWidget(self.w_edit.error_label)
        form.addWidget(self.b_edit.error_label)
        self.scaled_box = QtWidgets.QCheckBox("feature scaling: x standardised (mean 0, sd 1)",
                                              objectName="regressionScaled")
        self.scaled_box.setToolTip("J's valley becomes round: gradient descent goes straight to "
                                   "the minimum instead of zig-zagging across a long valley")
        form.addWidget(self.scaled_box)
        self.readouts = Readouts("regression_")
        self.readouts.add("mse", "J(w, b)", COLORS["f"])
        self.readouts.add("dw", "∂J/∂w = (2/n) Σ (y_p − y) x", COLORS["tangent"])
        self.readouts.add("db", "∂J/∂b = (2/n) Σ (y_p − y)", COLORS["tangent"])
        self.readouts.add("optimum", "least squares (w*, b*)", COLORS["minimum"])
        form.addLayout(self.readouts)
        layout.addWidget(line)

        descent = QtWidgets.QGroupBox("Gradient descent from (w, b)")
        dform = QtWidgets.QVBoxLayout(descent)
        self.optimizer_combo = QtWidgets.QComboBox(objectName="regressionOptimizer")
        self.optimizer_combo.addItems(OPTIMIZER_CHOICES)
        self.lr_edit = ConstantEdit("lr", "regressionLr")
        dform.addLayout(labelled_row(("optimizer", self.optimizer_combo), ("lr", self.lr_edit)))
        dform.addWidget(self.lr_edit.error_label)
        self.epochs_spin = QtWidgets.QSpinBox(objectName="regressionEpochs")
        self.epochs_spin.setRange(1, 10_000)
        self.batch_spin = QtWidgets.QSpinBox(objectName="regressionBatch")
        self.batch_spin.setRange(0, 100_000)
        self.batch_spin.setSpecialValueText("full")
        self.batch_spin.setToolTip("Points per update; full: the whole data each update")
        self.descent_seed = QtWidgets.QSpinBox(objectName="regressionSeed")
        self.descent_seed.setRange(0, 1_000_000)
        self.descent_seed.setToolTip("Shuffles the mini-batches: the same seed, the same path")
        dform.addLayout(labelled_row(("epochs", self.epochs_spin), ("batch", self.batch_spin),
                                     ("seed", self.descent_seed)))
        self.run_button = QtWidgets.QPushButton("Run descent", objectName="regressionRun")
        self.play_button = QtWidgets.QPushButton("Play", objectName="regressionPlay")
        self.play_button.setToolTip("Replay the descent: the line moves with (w, b)")
        self.play_button.setCheckable(True)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.play_button)
        dform.addLayout(buttons)
        # a long descent (many epochs, small batches, much data): its progress and a Stop
        self.progress_bar = QtWidgets.QProgressBar(objectName="regressionProgress")
        self.progress_bar.setFormat("epoch %v of %m")
        self.stop_button = QtWidgets.QPushButton("Stop", objectName="regressionStop")
        self.stop_button.setToolTip("Stop the descent after its current epoch")
        progress_row = QtWidgets.QHBoxLayout()
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.stop_button)
        dform.addLayout(progress_row)
        self.progress_bar.hide()
        self.stop_button.hide()
        self._play = QtCore.QTimer(self, interval=40)
        self._play.timeout.connect(self._advance)
        self.cursor_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal,
                                               objectName="regressionCursor")
        self.cursor_label = QtWidgets.QLabel("", objectName="regressionCursorLabel")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.cursor_slider, 1)
        row.addWidget(self.cursor_label)
        dform.addLayout(row)
        self.descent_error = QtWidgets.QLabel("", objectName="regressionDescentError")
        self.descent_error.setStyleSheet(f"color: {COLORS['error']};")
        self.descent_error.setWordWrap(True)
        self.descent_error.hide()
        dform.addWidget(self.descent_error)
        layout.addWidget(descent)
        layout.addStretch(1)

        self.generate_button.clicked.connect(self.generate)
        self.import_button.clicked.connect(self.import_requested)
        self.export_button.clicked.connect(self.export_requested)
        self.w_edit.entered.connect(lambda v: model.set_params(v, model.b))
        self.b_edit.entered.connect(lambda v: model.set_params(model.w, v))
        self.fit_button.clicked.connect(model.fit)
        self.scaled_box.toggled.connect(model.set_scaled)
        self.optimizer_combo.activated.connect(self._optimizer_chosen)
        self.lr_edit.entered.connect(self._lr_entered)
        self.epochs_spin.valueChanged.connect(lambda v: setattr(model, "epochs", int(v)))
        self.batch_spin.valueChanged.connect(lambda v: setattr(model, "batch_size", int(v)))
        self.descent_seed.valueChanged.connect(lambda v: setattr(model, "seed", int(v)))
        self.run_button.clicked.connect(model.run_descent)
        self.stop_button.clicked.connect(model.cancel_descent)
        model.progress.connect(self._progress)
        self.play_button.toggled.connect(self._toggle_play)
        self.cursor_slider.valueChanged.connect(model.set_cursor)
        model.data_changed.connect(self.refresh)
        model.params_changed.connect(self.refresh_params)
        model.descent_changed.connect(self.refresh_descent)
        model.cursor_changed.connect(lambda _k: self.refresh_descent())
        self.refresh()

    # -- edits ---------------------------------------------------------------------------------
    def generate(self) -> None:
        from ...core.regression import generate
        from ..bindings import typed_constant

        try:
            slope = typed_constant(self.slope_edit.text(), "slope")
            intercept = typed_constant(self.intercept_edit.text(), "intercept")
            noise = typed_constant(self.noise_edit.text(), "noise")
            if noise < 0:
                raise ValueError("noise must be >= 0")
            data = generate(self.n_spin.value(), slope, intercept, noise, self.seed_spin.value())
        except ValueError as exc:
            self.show_data_error(str(exc))
            return
        self.data_error.hide()
        self.model.set_data(data)

    def show_data_error(self, text: str) -> None:
        self.data_error.setText(text)
        self.data_error.show()

    def _progress(self, done: int, total: int) -> None:
        if not self.model.is_busy():
            return  # a late report of a descent that has ended
        self.progress_bar.setMaximum(total)
        self.progress_bar.setValue(done)
        if done < total:
            self.progress_bar.show()
            self.stop_button.show()

    def _toggle_play(self, on: bool) -> None:
        d = self.model.descent
        if on and d is not None:
            if self.model.cursor >= len(d.params) - 1:
                self.model.set_cursor(0)
            self._play.start()
        else:
            self._play.stop()
            with signals_blocked(self.play_button):
                self.play_button.setChecked(False)

    def _advance(self) -> None:
        d = self.model.descent
        if d is None or self.model.cursor >= len(d.params) - 1:
            self._toggle_play(False)
            return
        # about 5 s for the whole descent, one update a tick at least
        self.model.set_cursor(self.model.cursor + max(1, len(d.params) // 125))

    def _optimizer_chosen(self, index: int) -> None:
        name = self.optimizer_combo.itemText(index)
        self.model.optimizer = name
        self.model.lr = DEFAULT_LR[name]
        self.refresh_descent()

    def _lr_entered(self, value: float) -> None:
        if not value > 0:
            self.lr_edit.error_label.setText("lr must be positive")
            self.lr_edit.error_label.show()
            return
        self.model.lr = value

    # -- from the model ------------------------------------------------------------------------
    def refresh(self) -> None:
        m = self.model
        with signals_blocked(self.scaled_box, self.optimizer_combo, self.epochs_spin,
                             self.batch_spin, self.descent_seed):
            self.scaled_box.setChecked(m.scaled)
            self.optimizer_combo.setCurrentText(m.optimizer)
            self.epochs_spin.setValue(m.epochs)
            self.batch_spin.setValue(m.batch_size)
            self.descent_seed.setValue(m.seed)
        best = m.optimum()
        self.readouts.labels["optimum"].setText(
            "—" if best is None else f"({_n(best[0])}, {_n(best[1])})   J* = {_n(m.loss(*best))}")
        self.refresh_params()
        self.refresh_descent()

    def refresh_params(self) -> None:
        m = self.model
        self.w_edit.setText(_n(m.w, 6))
        self.b_edit.setText(_n(m.b, 6))
        self.readouts.labels["mse"].setText(_n(m.loss()))
        g = m.gradient()
        self.readouts.labels["dw"].setText(_n(g[0]))
        self.readouts.labels["db"].setText(_n(g[1]))

    def refresh_descent(self) -> None:
        m = self.model
        self.lr_edit.setText(_n(m.lr, 6))
        d = m.descent
        self.play_button.setEnabled(d is not None)
        if d is None:
            self._toggle_play(False)
        with signals_blocked(self.cursor_slider):
            self.cursor_slider.setEnabled(d is not None)
            self.cursor_slider.setRange(0, 0 if d is None else len(d.params) - 1)
            self.cursor_slider.setValue(m.cursor if d is not None else 0)
        if d is None:
            self.cursor_label.setText("")
        else:
            k = m.cursor
            self.cursor_label.setText(f"update {k:,} / {len(d.params) - 1:,}   epoch "
                                      f"{d.epochs[k]:.2f}   J = {_n(d.losses[k], 4)}")
        error = getattr(m, "error", None)
        self.descent_error.setVisible(bool(error))
        self.descent_error.setText(error or "")
        if not m.is_busy():  # the descent has ended (or stopped): no progress to show
            self.progress_bar.hide()
            self.stop_button.hide()
