"""ChainView: a chain of layers a_k = act(w · a_{k−1}) and what backprop multiplies through it:
each layer's factor act′(w a_{k−1}) · w and their running product |d a_k / d a_0| on a log
axis. Products of factors below 1 vanish, above 1 explode: why deep nets need care.

Cheap (a NumPy loop over at most 60 layers): the numbers follow every control at once; only the
drawing waits while the view is hidden.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..bindings import signals_blocked
from ..fields import ConstantEdit
from ..readouts import RefreshWhenShown
from ..theme import COLORS, pen, style_plot

ACTIVATIONS = ("sigmoid", "tanh", "relu")
MAX_DEPTH = 60
WEIGHT_TICKS_PER_DECADE = 50
WEIGHT_LOW, WEIGHT_HIGH = 0.1, 10.0
VANISHING, EXPLODING = 0.9, 1.1  # the geometric mean of |factor|: below, above


def weight_to_tick(w: float) -> int:
    w = min(max(w, WEIGHT_LOW), WEIGHT_HIGH)
    return round(math.log10(w) * WEIGHT_TICKS_PER_DECADE)


def tick_to_weight(tick: int) -> float:
    return 10.0 ** (tick / WEIGHT_TICKS_PER_DECADE)


def caption(activation: str, weight: float) -> str:
    """One line on why the product vanishes or explodes for this activation."""
    if activation == "sigmoid":
        return (f"σ′ ≤ 1/4: each sigmoid layer multiplies the gradient by at most w/4 = "
                f"{weight / 4:.3g}")
    if activation == "tanh":
        return (f"tanh′ ≤ 1 (1 only at 0): each tanh layer multiplies the gradient by at most "
                f"w = {weight:.3g}, by less once it saturates")
    return (f"relu′ is 1 or 0: each active relu layer multiplies the gradient by exactly "
            f"w = {weight:.3g}, a dead one (input ≤ 0) by 0")


class ChainView(RefreshWhenShown, QtWidgets.QWidget):
    """Depth, weight scale, activation and a_0 of the chain; |d a_k / d a_0| against k with
    each layer's |factor| as dots and |factor| = 1 dashed; a read-out with the verdict."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("ChainView")
        self.depth, self.weight, self.activation, self.x0 = 30, 1.0, "sigmoid", 0.5
        self.chain = None  # explorer.core.graph.LayerChain
        self._verdict = ""

        # -- controls ------------------------------------------------------------------------
        self.depth_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.depth_slider.setObjectName("chainDepthSlider")
        self.depth_slider.setRange(1, MAX_DEPTH)
        self.depth_slider.setPageStep(5)
        self.depth_slider.setToolTip("the number of layers n")
        self.depth_spin = QtWidgets.QSpinBox()
        self.depth_spin.setObjectName("chainDepthSpin")
        self.depth_spin.setRange(1, MAX_DEPTH)
        self.weight_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.weight_slider.setObjectName("chainWeightSlider")
        self.weight_slider.setRange(weight_to_tick(WEIGHT_LOW), weight_to_tick(WEIGHT_HIGH))
        self.weight_slider.setToolTip("the weight w of every layer, on a logarithmic scale "
                                      "from 0.1 to 10")
        self.weight_label = QtWidgets.QLabel()
        self.weight_label.setObjectName("chainWeightValue")
        self.weight_label.setMinimumWidth(44)
        self.activation_box = QtWidgets.QComboBox()
        self.activation_box.setObjectName("chainActivation")
        self.activation_box.addItems(ACTIVATIONS)
        self.x0_edit = ConstantEdit("a₀", "chainX0")
        self.x0_edit.setMaximumWidth(80)
        self.x0_edit.setToolTip("a₀, the chain's input: a number or a constant expression; "
                                "Enter applies")

        grid = QtWidgets.QGridLayout()
        grid.addWidget(QtWidgets.QLabel("layers n"), 0, 0)
        grid.addWidget(self.depth_slider, 0, 1)
        grid.addWidget(self.depth_spin, 0, 2)
        grid.addWidget(QtWidgets.QLabel("weight w"), 1, 0)
        grid.addWidget(self.weight_slider, 1, 1)
        grid.addWidget(self.weight_label, 1, 2)
        grid.setColumnStretch(1, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("activation"))
        row.addWidget(self.activation_box)
        row.addSpacing(12)
        row.addWidget(QtWidgets.QLabel("a₀"))
        row.addWidget(self.x0_edit)
        row.addStretch(1)
        self.formula = QtWidgets.QLabel("aₖ = act(w · aₖ₋₁);  ∂aₖ/∂aₖ₋₁ = act′(w · aₖ₋₁) · w;  "
                                        "∂aₙ/∂a₀ = the product of the n factors")
        self.formula.setWordWrap(True)
        self.formula.setStyleSheet(f"color: {COLORS['axis_text']};")

        # -- the plot ------------------------------------------------------------------------
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumHeight(170)
        plot = self.plot = self.plot_widget.getPlotItem()
        style_plot(plot, left="|∂aₖ/∂a₀|", bottom="layer k", si_prefix=False)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setMouseEnabled(x=False, y=False)
        plot.setLogMode(x=False, y=True)
        # the key above the plot: a legend inside would cover the curve or the dots somewhere
        self.key = QtWidgets.QLabel(
            f'<span style="color:{COLORS["f"]}">━●</span> |∂aₖ/∂a₀|, the running product  '
            f'<span style="color:{COLORS["d1"]}">■</span> |act′(w aₖ₋₁) · w|, each layer  '
            f'<span style="color:{COLORS["axis_text"]}">╌╌</span> |factor| = 1')
        self.key.setObjectName("chainKey")
        self.key.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.key.setWordWrap(True)
        self.cumulative = plot.plot(pen=pen("f", 2), symbol="o", symbolSize=4,
                                    symbolBrush=pg.mkBrush(COLORS["f"]), symbolPen=None)
        self.factors = plot.plot(pen=None, symbol="s", symbolSize=6,
                                 symbolBrush=pg.mkBrush(COLORS["d1"]), symbolPen=None)
        # log10(1) = 0: the horizontal line where a factor neither shrinks nor grows
        self.unit_line = pg.InfiniteLine(
            pos=0.0, angle=0, pen=pen("axis_text", 1.2, QtCore.Qt.PenStyle.DashLine))
        plot.addItem(self.unit_line, ignoreBounds=True)

        self.readout = QtWidgets.QLabel()
        self.readout.setObjectName("chainReadout")
        self.readout.setWordWrap(True)
        self.readout.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.readout.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption = QtWidgets.QLabel()
        self.caption.setObjectName("chainCaption")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(f"color: {COLORS['axis_text']};")

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(grid)
        layout.addLayout(row)
        layout.addWidget(self.x0_edit.error_label)
        layout.addWidget(self.formula)
        layout.addWidget(self.key)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.readout)
        layout.addWidget(self.caption)

        self.depth_slider.valueChanged.connect(self.set_depth)
        self.depth_spin.valueChanged.connect(self.set_depth)
        self.weight_slider.valueChanged.connect(
            lambda tick: self.set_weight(tick_to_weight(tick), from_slider=True))
        self.activation_box.currentTextChanged.connect(self.set_activation)
        self.x0_edit.entered.connect(self.set_x0)
        self._update()

    # -- controls ----------------------------------------------------------------------------
    def set_depth(self, n: int) -> None:
        self.depth = int(min(max(int(n), 1), MAX_DEPTH))
        self._update()

    def set_weight(self, w: float, from_slider: bool = False) -> None:
        """The weight scale, clamped to 0.1 … 10 (the slider's ticks are 50 a decade)."""
        w = float(w)
        if not (w > 0 and math.isfinite(w)):
            self._update()
            return
        self.weight = min(max(w, WEIGHT_LOW), WEIGHT_HIGH)
        self._update(keep_weight_slider=from_slider)

    def set_activation(self, name: str) -> None:
        if name not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}")
        self.activation = name
        self._update()

    def set_x0(self, x0: float) -> None:
        x0 = float(x0)
        if math.isfinite(x0):
            self.x0 = x0
        self._update()

    # -- the chain ---------------------------------------------------------------------------
    def _update(self, keep_weight_slider: bool = False) -> None:
        from ...core.graph import layer_chain

        with signals_blocked(self.depth_slider, self.depth_spin, self.weight_slider,
                             self.activation_box):
            self.depth_slider.setValue(self.depth)
            self.depth_spin.setValue(self.depth)
            if not keep_weight_slider:  # a drag keeps its tick; a typed w snaps to one
                self.weight_slider.setValue(weight_to_tick(self.weight))
            self.activation_box.setCurrentText(self.activation)
        if not self.x0_edit.hasFocus():
            self.x0_edit.setText(f"{self.x0:g}")
        self.weight_label.setText(f"{self.weight:.3g}")
        self.chain = chain = layer_chain(self.depth, self.activation, self.weight, self.x0)
        factors = np.abs(chain.factors)
        with np.errstate(all="ignore"):
            mean = float(np.exp(np.mean(np.log(factors))))  # 0 when a layer is dead
        if not math.isfinite(mean):
            self._verdict = "undefined"
        elif mean < VANISHING:
            self._verdict = "vanishing"
        elif mean > EXPLODING:
            self._verdict = "exploding"
        else:
            self._verdict = "stable"
        total = float(chain.cumulative[-1])
        layers = "layer" if self.depth == 1 else "layers"
        color = {"vanishing": COLORS["negative"], "exploding": COLORS["error"]}.get(
            self._verdict, COLORS["positive"])
        self.readout.setText(
            f"|d output / d input| = {total:.2g} after {self.depth} {layers}: "
            f'<b style="color:{color}">{self._verdict}</b> '
            f"(geometric mean factor {mean:.3g})"
            + ("; a dead layer (act′ = 0) passes no gradient back" if total == 0 else ""))
        self.caption.setText(caption(self.activation, self.weight))
        self.refresh()

    def refresh(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        chain = self.chain
        k = np.arange(1, len(chain.factors) + 1, dtype=float)
        # zeros (a dead relu: the product stays 0 after) and underflows have no logarithm:
        # left out
        drawn = chain.cumulative > 0
        self.cumulative.setData(k[drawn], chain.cumulative[drawn])
        factors = np.abs(chain.factors)
        drawn = factors > 0
        self.factors.setData(k[drawn], factors[drawn])
        # the ranges by hand: the line |factor| = 1 always in view (log mode: log10 units)
        self.plot.setXRange(0.5, self.depth + 0.5, padding=0)
        shown = np.concatenate([chain.cumulative, factors, [1.0]])
        logs = np.log10(shown[shown > 0])
        low, high = float(logs.min()), float(logs.max())
        margin = max(0.05 * (high - low), 0.2)
        self.plot.setYRange(low - margin, high + margin, padding=0)

    # -- for tests ---------------------------------------------------------------------------
    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(k = 1..n, |d a_k / d a_0|)."""
        cumulative = self.chain.cumulative
        return np.arange(1, len(cumulative) + 1), cumulative.copy()

    def verdict(self) -> str:
        """vanishing, exploding or stable (the geometric mean |factor| < 0.9, > 1.1, else)."""
        return self._verdict
