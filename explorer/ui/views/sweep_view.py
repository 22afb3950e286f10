"""SweepView: the final loss of the selected run against its learning rate, log-log, with the
stability limit 2/λ_max of gradient descent where the loss stops falling and the run blows up.

The sweep costs a race of 40 runs; the model computes it only while this view is shown.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.session import Session
from ..race_model import SWEEP_MAX_STEPS, RaceModel
from ..readouts import RefreshWhenShown
from ..theme import COLORS, style_plot
from .race_plots import CentreMessage, log_shift, run_pen, show_tick_values

TOP_DECADES = 0.5  # the diverged marks sit this far (in decades) above the highest value


class SweepView(RefreshWhenShown, QtWidgets.QWidget):
    """Final loss against the learning rate of the selected run (``model.sweep``), log-log.

    Finite finals are a line with dots in the run's colour; learning rates whose run diverged
    are red × marks above every finite value; a dashed vertical line marks the stability limit
    (``sweep.limit``, e.g. 2/λ_max, measured at the start when f is not a quadratic) and a thin
    one the run's own learning rate; a dotted horizontal line is f at the start. Without a sweep
    (L-BFGS has no learning rate, or it is being computed) a message says why.

    Parameters
    ----------
    session : Session
        The session whose race is shown.
    model : RaceModel
        Holds the sweep; told to compute it while this view is shown.
    """

    def __init__(self, session: Session, model: RaceModel, parent=None):
        super().__init__(parent)
        self.setObjectName("SweepView")
        self.session, self.model = session, model
        self.shift: float | None = None  # m when finals are drawn as f - m + eps
        self.eps = 0.0
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumHeight(160)
        plot = self.plot = self.plot_widget.getPlotItem()
        # SI prefixes would rescale the log axes' labels ("learning rate (x0.001)", 10² for 0.1)
        style_plot(plot, left="final f", bottom="learning rate", si_prefix=False)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setMouseEnabled(x=False, y=False)  # a small read-out, nothing to explore
        plot.setLogMode(x=True, y=True)
        self.curve = plot.plot(connect="finite", symbol="o", symbolSize=5, symbolPen=None)
        self.diverged = plot.plot(pen=None, symbol="x", symbolSize=12,
                                  symbolBrush=COLORS["error"], symbolPen=None)
        # InfiniteLines are not log-mapped by the plot: their positions are log10 of the data
        dash, dot = QtCore.Qt.PenStyle.DashLine, QtCore.Qt.PenStyle.DotLine
        self.limit_line = pg.InfiniteLine(
            angle=90, pen=run_pen(COLORS["axis_text"], 1.4, dash), label="",
            labelOpts={"position": 0.9, "color": COLORS["axis_text"],
                       # left of the line: the limit sits near the right end of the sweep
                       "anchors": [(1, 0), (1, 1)]})
        self.lr_line = pg.InfiniteLine(angle=90, pen=run_pen(COLORS["axis"], 1.0), label="lr",
                                       labelOpts={"position": 0.08, "color": COLORS["axis_text"]})
        self.start_line = pg.InfiniteLine(
            angle=0, pen=run_pen(COLORS["axis"], 1.0, dot), label="f(x₀)",
            labelOpts={"position": 0.04, "color": COLORS["axis_text"]})
        for line in (self.limit_line, self.lr_line, self.start_line):
            plot.addItem(line, ignoreBounds=True)
            line.hide()
        self.message = CentreMessage(plot)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.plot_widget)
        model.sweep_changed.connect(self.refresh)
        model.selected_changed.connect(lambda _i: self.refresh())
        self._set_title("", None)
        self.refresh()

    # -- shown or not: the model sweeps only for a view that shows it --------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.model.set_sweep_active(True)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self.model.set_sweep_active(False)

    # -- drawing ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        model = self.model
        sweep = model.sweep
        if sweep is None or model.sweep_error:
            self._clear()
            if model.sweep_error:
                text = model.sweep_error
            elif model.f2 is None:
                text = "the learning-rate sweep needs a function of (x, y)"
            else:
                text = "sweeping the learning rate…"
            self.message.show_text(text)
            self._set_title("", None)
            show_tick_values(self.plot, False)
            return
        self.message.show_text("")
        show_tick_values(self.plot, True)
        runs = self.session.race_runs
        spec = runs[sweep.run_index] if 0 <= sweep.run_index < len(runs) else None
        rates = np.asarray(sweep.rates, dtype=float)
        finals = np.asarray(sweep.finals, dtype=float)
        diverged = np.array([s == "diverged" for s in sweep.statuses]) | ~np.isfinite(finals)
        f0 = self._start_value()
        with np.errstate(all="ignore"):
            self.shift, self.eps = log_shift([finals[~diverged], np.array([f0])])
            drawn = finals if self.shift is None else finals - self.shift + self.eps
            start = f0 if self.shift is None else f0 - self.shift + self.eps
        drawn = np.where(diverged, np.nan, drawn)
        color = spec.color_hex if spec is not None else COLORS["f"]
        self.curve.setData(rates, drawn, connect="finite", pen=run_pen(color, 2.0),
                           symbolBrush=color)
        # the × marks sit above every finite value: "off the chart"
        finite = drawn[np.isfinite(drawn) & (drawn > 0)]
        if math.isfinite(start) and start > 0:
            finite = np.append(finite, start)
        top = float(finite.max()) * 10**TOP_DECADES if finite.size else 1.0
        self.diverged.setData(rates[diverged], np.full(int(diverged.sum()), top))
        if math.isfinite(start) and start > 0:
            self.start_line.show()
            self.start_line.setPos(math.log10(start))
        else:
            self.start_line.hide()
        if sweep.limit is not None and sweep.limit > 0:
            text = f"{sweep.limit_text} = {sweep.limit:.3g}"
            if not sweep.quadratic:  # the Hessian, and the limit, change along the way
                text += " (at start)"
            # shown first: a hidden line's label ignores new text
            self.limit_line.show()
            self.limit_line.setPos(math.log10(sweep.limit))
            self.limit_line.label.setFormat(text.replace("{", "{{").replace("}", "}}"))
        else:
            self.limit_line.hide()
        lr = spec.optimizer_object().hyperparameters.get("lr") if spec is not None else None
        if lr is not None and lr > 0:
            self.lr_line.setPen(run_pen(color, 1.0))
            self.lr_line.show()
            self.lr_line.setPos(math.log10(float(lr)))
        else:
            self.lr_line.hide()
        # a sweep of another run (or of this run before an edit) is on its way
        stale = sweep.run_index != model.selected or spec is None or spec.label != sweep.label
        # the model's limit is None where the Hessian at the start has no positive eigenvalue
        no_limit = sweep.limit is None or sweep.limit <= 0
        self._set_title(sweep.label, color, stale, bool(diverged.any()),
                        "no step-size limit: λ_max ≤ 0 at x₀" if no_limit else "")

    def _clear(self) -> None:
        self.shift, self.eps = None, 0.0
        self.curve.setData([], [])
        self.diverged.setData([], [])
        for line in (self.limit_line, self.lr_line, self.start_line):
            line.hide()

    def _start_value(self) -> float:
        f = self.model.f2
        if f is None:
            return math.nan
        try:
            return float(f(*map(float, self.session.race_start)))
        except (ArithmeticError, ValueError, TypeError):
            return math.nan

    def _set_title(self, label: str, color: str | None, stale: bool = False,
                   any_diverged: bool = False, note: str = "") -> None:
        title = "Final f vs learning rate"
        if label:
            title += f': <span style="color:{color}"><b>{html.escape(label)}</b></span>'
        if stale:
            title += " (updating…)"
        if any_diverged:
            title += f'; <span style="color:{COLORS["error"]}">× diverged</span>'
        if note:
            title += f"; {html.escape(note)}"
        plot = self.plot
        plot.setTitle(title, color=COLORS["axis_text"], size="9pt")
        steps = min(self.session.race_steps, SWEEP_MAX_STEPS)
        value = (f"f after {steps:,} steps" if self.shift is None
                 else f"f − m after {steps:,} steps (m = {self.shift:.3g})")
        plot.setLabel("left", value)

    # -- for tests -------------------------------------------------------------------------------
    def limit_x(self) -> float | None:
        """The learning rate of the stability-limit line (None when it is not drawn)."""
        if not self.limit_line.isVisible():
            return None
        return float(10 ** self.limit_line.value())

    def lr_x(self) -> float | None:
        """The learning rate of the run's own-lr line (None when it is not drawn)."""
        return float(10 ** self.lr_line.value()) if self.lr_line.isVisible() else None

    def diverged_rates(self) -> list[float]:
        """The learning rates marked as diverged."""
        xs, _ = self.diverged.getOriginalDataset()  # getData() is log10 on log axes
        return [] if xs is None else [float(x) for x in xs]

    def finite_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(rates, finals) of the finite finals as drawn, in data units (f - m + eps when
        ``shift`` is set)."""
        xs, ys = self.curve.getOriginalDataset()
        if xs is None:
            return np.array([]), np.array([])
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        keep = np.isfinite(ys)
        return xs[keep], ys[keep]

    def message_text(self) -> str:
        """The message shown in place of a sweep ('' when a sweep is drawn)."""
        return self.message.shown_text()
