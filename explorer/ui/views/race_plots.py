"""RacePlots: the loss f(xₖ) and the gradient norm ‖∇f(xₖ)‖ of every run of the optimizer race
against the step, on log axes, with the playback cursor as a line that can be dragged.

A loss on a log axis needs positive values: where some run reaches f ≤ 0 (x² − y², sin
landscapes) the plot shows f − m + ε instead, m the least value of any run, and says so.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.session import Session
from ..bindings import Throttle
from ..race_model import RaceModel
from ..readouts import RefreshWhenShown
from ..theme import COLORS, LEFT_AXIS_WIDTH, mark_brush, mark_pen, on_theme_changed, style_plot
from .curve_view import Curve

LINE_WIDTH = 2.0
SELECTED_WIDTH = 3.4
END_SYMBOLS = {"diverged": "x", "converged": "o"}  # max_steps runs end without a mark
CURVE_Z, SELECTED_Z, MARK_Z = 10, 20, 30


def run_pen(color: str, width: float = LINE_WIDTH, style=QtCore.Qt.PenStyle.SolidLine):
    """A cosmetic pen (its width in pixels at any zoom) in a run's colour."""
    p = pg.mkPen(color, width=width, style=style)
    p.setCosmetic(True)
    return p


def log_shift(arrays) -> tuple[float | None, float]:
    """What makes ``arrays`` plottable on a log axis: ``(None, 0)`` when every finite value is
    positive, else ``(m, eps)`` to plot ``value - m + eps`` with ``m`` the least finite value
    and ``eps`` twelve digits below the spread (so the best value shows, 12 decades down)."""
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if a.size]
    if not finite:
        return None, 0.0
    low = min(float(a.min()) for a in finite)
    if low > 0:
        return None, 0.0
    high = max(float(a.max()) for a in finite)
    return low, 1e-12 * max(1.0, high - low)


def last_finite(values: np.ndarray) -> int:
    """The index of the last finite value (-1 when there is none)."""
    finite = np.flatnonzero(np.isfinite(values))
    return int(finite[-1]) if finite.size else -1


class CentreMessage(pg.TextItem):
    """A message in the middle of a plot's ViewBox, in pixels: no data range moves it or is
    moved by it (it is a child of the ViewBox, not of its data)."""

    def __init__(self, plot: pg.PlotItem):
        super().__init__("", color=COLORS["axis_text"], anchor=(0.5, 0.5))
        vb = plot.getViewBox()
        self.setParentItem(vb)
        self.setZValue(100)
        vb.sigResized.connect(lambda _vb: self.setPos(vb.rect().center()))
        self.setPos(vb.rect().center())

    def show_text(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))

    def shown_text(self) -> str:
        return self.textItem.toPlainText() if self.isVisible() else ""


def show_tick_values(plot: pg.PlotItem, show: bool) -> None:
    """Tick values on or off: an empty log plot would number its default range (2 … 9)."""
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        if axis.style["showValues"] != show:
            axis.setStyle(showValues=show)


def _plot(left: str, bottom: str | None) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    plot = widget.getPlotItem()
    style_plot(plot, left=left, bottom=bottom, si_prefix=False)  # no "(x1e+15)" on log axes
    plot.showGrid(x=True, y=True, alpha=0.15)
    # the mouse moves the cursor here; zoom and pan would fight it for the same drags
    plot.setMouseEnabled(x=False, y=False)
    plot.setLogMode(x=False, y=True)
    # plots stacked on a linked x axis need equal left axes (see theme.LEFT_AXIS_WIDTH)
    plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
    # the step axis keeps the height it has with its values shown, hidden or not (see
    # show_tick_values): a height that changed with them laid the plot out again after its
    # paint, and every item was painted a second time
    bottom = plot.getAxis("bottom")
    bottom.setHeight(bottom.maximumHeight())
    widget.setMinimumHeight(120)
    return widget


class _RunLayer:
    """What one plot draws: a curve per run, the runs' end marks and the dots at the cursor.

    ``ys`` are the values as drawn (data units), ``end`` the index of each run's last finite
    value (-1 for none).
    """

    def __init__(self, widget: pg.PlotWidget):
        self.widget = widget
        self.plot = widget.getPlotItem()
        self.curves: list[Curve | None] = []
        self.looks: list[tuple | None] = []  # per curve: its (colour, width), None if hidden
        self._ends_shown = None  # what the end marks show
        self._dots_shown = None  # ... and the dots at the cursor
        self.ys: list[np.ndarray | None] = []
        self.end: list[int] = []
        self.marks: dict[int, tuple[int, float, str]] = {}  # run -> (step, value, symbol)
        # brushes and the pen made once per race: the symbol atlas caches renderings by these
        # objects, so new ones per cursor move would re-render every dot (~2 ms a move)
        self.brushes: list = []
        self.dot_pen = mark_pen(COLORS["axis_text"], 1)
        on_theme_changed(widget, lambda _name: setattr(
            self, "dot_pen", mark_pen(COLORS["axis_text"], 1)))
        # the range is set by _fit, not by pyqtgraph's auto-range (see there)
        self.plot.disableAutoRange()
        self.plot.hideButtons()
        self._range = None
        self.ends = self.plot.plot(pen=None)
        self.ends.setZValue(MARK_Z)
        # the dots lie on the curves: outside the autorange, a cursor move re-ranges nothing
        self.dots = pg.PlotDataItem(pen=None)
        self.plot.addItem(self.dots, ignoreBounds=True)
        self.dots.setZValue(MARK_Z + 1)
        self.cursor = pg.InfiniteLine(angle=90, movable=True,
                                      pen=run_pen(COLORS["axis_text"], 1.2),
                                      hoverPen=run_pen(COLORS["point_hover"], 2.5))
        self.cursor.setZValue(MARK_Z + 2)
        self.plot.addItem(self.cursor, ignoreBounds=True)

    def set_curves(self, runs, trajectories, ys_list, selected: int) -> None:
        """One curve per run with data (``ys_list[i]`` None for a disabled run).

        A curve whose values, colour, width and place are those it already shows is left
        alone: the same race again (compiled now, or re-sent after a drag, a selection or a
        change that does not touch it) repaints nothing, where every curve's cached pixels
        were drawn again, each plot twice when two refreshes came close."""
        # curves are kept and re-used: a race recomputed per frame of a drag re-sets data only
        while len(self.curves) < len(ys_list):
            self.curves.append(None)
        while len(self.looks) < len(ys_list):
            self.looks.append(None)
        for i, ys in enumerate(ys_list):
            curve = self.curves[i]
            if ys is None:
                if curve is not None and self.looks[i] is not None:
                    curve.setData([], [])
                    curve.hide()
                self.looks[i] = None
                continue
            if curve is None:
                # drawn in pixels with the vertices the stroke needs (Curve, thin.py): 2,000
                # steps keep ~100 where a run is smooth; cached as pixels, so a cursor move
                # (60 a second in playback) blits the curves instead of stroking them again
                curve = self.curves[i] = Curve(pen=None, name=None)
                curve.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
                self.plot.addItem(curve)
            width = SELECTED_WIDTH if i == selected else LINE_WIDTH
            look = (runs[i].color_hex, width)
            shown = self.ys[i] if i < len(self.ys) else None  # the values it shows
            if look == self.looks[i] and shown is not None and np.array_equal(shown, ys,
                                                                              equal_nan=True):
                continue
            self.looks[i] = look
            curve.setPen(run_pen(*look))
            curve.setZValue(SELECTED_Z if i == selected else CURVE_Z)
            with np.errstate(all="ignore"):  # the axis is log: the curve holds log10 of ys
                shown = np.where(ys > 0, np.log10(np.where(ys > 0, ys, 1.0)), np.nan)
            curve.setData(np.arange(len(ys), dtype=float), shown)
            curve.show()
        for i in range(len(ys_list), len(self.curves)):
            if self.curves[i] is not None and self.looks[i] is not None:
                self.curves[i].setData([], [])
                self.curves[i].hide()
            self.looks[i] = None
        self.ys = list(ys_list)
        self.brushes = [mark_brush(runs[i].color_hex) if ys is not None else None
                        for i, ys in enumerate(ys_list)]
        self.end = [last_finite(ys) if ys is not None else -1 for ys in ys_list]
        self.marks = {}
        xs, vs, symbols, brushes, pens, sizes = [], [], [], [], [], []
        for i, ys in enumerate(ys_list):
            t = trajectories[i]
            k = self.end[i]
            symbol = END_SYMBOLS.get(t.status) if t is not None else None
            if ys is None or k < 0 or symbol is None:
                continue
            self.marks[i] = (k, float(ys[k]), symbol)
            xs.append(float(k))
            vs.append(float(ys[k]))
            symbols.append(symbol)
            brushes.append(self.brushes[i])
            # a white rim keeps the dot apart from the curve it ends; the cross needs none
            pens.append(mark_pen(COLORS["point_edge"], 1) if symbol == "o" else None)
            sizes.append(13 if symbol == "x" else 8)
        shown = (xs, vs, symbols, sizes, [runs[i].color_hex for i in self.marks],
                 COLORS["point_edge"])
        if shown != self._ends_shown:  # the same marks again: nothing to repaint
            self._ends_shown = shown
            self.ends.setData(xs, vs, symbol=symbols, symbolBrush=brushes, symbolPen=pens,
                              symbolSize=sizes)
        self._fit(ys_list)

    def _fit(self, ys_list) -> None:
        """Every step across and whole decades up the log axis around every run's values.

        Set here rather than by pyqtgraph's auto-range: a new race of the same shape (a drag of
        the start) keeps the range, so the axes keep their drawn ticks; re-generating log ticks
        and auto-ranging eight curves cost ~16 ms of each plot's 36 ms repaint."""
        lows, highs, steps = [], [], 0
        for ys in ys_list:
            if ys is None:
                continue
            steps = max(steps, len(ys) - 1)
            shown = ys[np.isfinite(ys) & (ys > 0)]
            if shown.size:
                lows.append(float(shown.min()))
                highs.append(float(shown.max()))
        if not lows:
            return
        low, high = math.floor(math.log10(min(lows))), math.ceil(math.log10(max(highs)))
        fitted = ((0.0, float(max(steps, 1))), (float(low), float(max(high, low + 1))))
        if fitted != self._range:
            self._range = fitted
            self.plot.setRange(xRange=fitted[0], yRange=fitted[1], padding=0.02)
            # the view's new transform now, not at the start of its next paint: applied there,
            # it re-dirtied every item and the plot painted twice per new range
            self.plot.getViewBox().prepareForPaint()

    def move_cursor(self, step: int, selected: int) -> None:
        """The line and a dot per run at ``step`` (a run that stopped earlier: its last
        finite value)."""
        self.cursor.setPos(step)
        xs, vs, brushes, sizes = [], [], [], []
        for i, ys in enumerate(self.ys):
            if ys is None or self.end[i] < 0:
                continue
            k = min(step, self.end[i])
            if not math.isfinite(ys[k]):
                continue
            xs.append(float(k))
            vs.append(float(ys[k]))
            brushes.append(self.brushes[i])
            sizes.append(9 if i == selected else 7)
        shown = (xs, vs, sizes, [b.color().rgba() for b in brushes], self.dot_pen.color().rgba())
        if shown != self._dots_shown:  # the same dots again (the same race): no repaint
            self._dots_shown = shown
            self.dots.setData(xs, vs, symbol="o", symbolBrush=brushes, symbolPen=self.dot_pen,
                              symbolSize=sizes)


class RacePlots(RefreshWhenShown, QtWidgets.QWidget):
    """The loss and the gradient norm of each enabled run against the step, log y axes.

    One curve per run in its colour, the selected run's thicker and on top; a diverged run's
    curve ends in a × at its last finite value, a converged run's in a dot. The vertical line
    is the playback cursor (``model.cursor``): drag it, or click a plot, to move it; a dot per
    run marks its value there.

    Parameters
    ----------
    session : Session
        The session whose race is shown.
    model : RaceModel
        The race: trajectories, cursor and selection.
    """

    def __init__(self, session: Session, model: RaceModel, parent=None):
        super().__init__(parent)
        self.setObjectName("RacePlots")
        self.session, self.model = session, model
        self.loss_shift: float | None = None  # m when the loss is drawn as f - m + eps
        self.loss_eps = 0.0
        self.loss_plot = _plot("f(xₖ)", None)
        self.grad_plot = _plot("‖∇f(xₖ)‖", "step k")
        self.grad_plot.getPlotItem().setXLink(self.loss_plot.getPlotItem())
        self.grad_plot.getPlotItem().setTitle("Gradient norm ‖∇f(xₖ)‖", color=COLORS["axis_text"],
                                              size="9pt")
        self.loss = _RunLayer(self.loss_plot)
        self.grad = _RunLayer(self.grad_plot)
        self.message = CentreMessage(self.loss_plot.getPlotItem())
        for layer in (self.loss, self.grad):
            layer.cursor.sigDragged.connect(self._cursor_dragged)
            layer.cursor.sigPositionChangeFinished.connect(self._cursor_released)
            layer.widget.scene().sigMouseClicked.connect(
                lambda ev, plot=layer.plot: self._plot_clicked(plot, ev))
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.grad_plot, 1)
        # a dragged start brings a race per frame: the landscape's paths follow each, these
        # curves (16 of 2,000 points on log axes) at most 12 times a second
        self._refresh_throttle = Throttle(self.refresh, 80, self, after_paint=True)
        model.changed.connect(self._refresh_throttle.__call__)
        model.drag_finished.connect(self.refresh)
        model.selected_changed.connect(lambda _i: self.refresh())
        model.cursor_changed.connect(self._cursor_moved)
        self.refresh()

    # -- drawing ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-draw every curve (new trajectories, another run selected)."""
        if not self.on_screen() or self.model.dragging:  # see RefreshWhenShown; released
            return
        model = self.model
        runs, trajectories = model.runs, model.trajectories
        if len(runs) != len(trajectories):  # no race yet, or it was cleared
            runs, trajectories = (), []
        losses = [t.values.astype(float) if t is not None else None for t in trajectories]
        norms = [t.gradient_norms if t is not None else None for t in trajectories]
        with np.errstate(all="ignore"):
            shift, eps = log_shift([v for v in losses if v is not None])
            self.loss_shift, self.loss_eps = shift, eps
            if shift is not None:
                losses = [v - shift + eps if v is not None else None for v in losses]
            norms = [self._positive_norms(n, norms) for n in norms]
        selected = model.selected
        self.loss.set_curves(runs, trajectories, losses, selected)
        self.grad.set_curves(runs, trajectories, norms, selected)
        self._set_titles(runs, selected)
        top = max(model.max_step(), 1)
        for layer in (self.loss, self.grad):
            layer.cursor.setBounds((0, top))
        empty = not any(t is not None for t in trajectories)
        if empty:
            text = model.error or ("" if model.active else
                                   "the race runs on a function of (x, y) with the race shown")
            self.message.show_text(text or "racing…")
        else:
            self.message.show_text("")
        for layer in (self.loss, self.grad):
            show_tick_values(layer.plot, not empty)
        self._cursor_moved(model.cursor)

    @staticmethod
    def _positive_norms(n, all_norms):
        """Gradient norms with exact zeros (a run standing on a critical point) drawn a decade
        below the least positive norm of any run: log(0) has no place on the axis."""
        if n is None or np.all(n != 0):
            return n
        positive = np.concatenate([a[np.isfinite(a) & (a > 0)] for a in all_norms
                                   if a is not None])
        floor = 0.1 * float(positive.min()) if positive.size else 1e-16
        return np.where(n == 0, floor, n)

    def _set_titles(self, runs, selected: int) -> None:
        # the run list names every colour; the title names the selected run's (a legend of 16
        # runs would cover the curves)
        name = ""
        if 0 <= selected < len(runs):
            spec = runs[selected]
            name = (f'; <span style="color:{spec.color_hex}"><b>'
                    f"{html.escape(spec.label)}</b></span> selected")
        if self.loss_shift is None:
            title, left = "Loss f(xₖ)", "f(xₖ)"
        else:
            # m: the least f of any run (f <= 0 somewhere), so the log axis can show it
            title = f"Loss f(xₖ) − m, m = {self.loss_shift:.3g}"
            left = "f(xₖ) − m"
        shown = (title + name, left, COLORS["axis_text"])
        if shown == getattr(self, "_titles", None):  # rich text laid out again costs ~5 ms
            return
        self._titles = shown
        self.loss_plot.getPlotItem().setTitle(title + name, color=COLORS["axis_text"], size="9pt")
        self.loss_plot.getPlotItem().setLabel("left", left)

    # -- the cursor ------------------------------------------------------------------------------
    def _cursor_moved(self, step: int) -> None:
        # cheap on purpose (it runs at the playback rate): the lines and the dots only
        if not self.on_screen():
            return
        for layer in (self.loss, self.grad):
            layer.move_cursor(int(step), self.model.selected)

    def _cursor_dragged(self, line: pg.InfiniteLine) -> None:
        if self.model.playing:  # a hand on the cursor stops the playback
            self.model.pause()
        self.model.set_cursor(round(line.value()))
        # the other plot's line follows at once, at the integer step (the dragged one keeps
        # following the hand and snaps when released)
        for layer in (self.loss, self.grad):
            if layer.cursor is not line:
                layer.cursor.setPos(self.model.cursor)

    def _cursor_released(self, _line) -> None:
        for layer in (self.loss, self.grad):
            layer.cursor.setPos(self.model.cursor)

    def _plot_clicked(self, plot: pg.PlotItem, event) -> None:
        """A click in a plot moves the cursor there (quicker than finding the line)."""
        if event.button() != QtCore.Qt.MouseButton.LeftButton or event.isAccepted():
            return
        vb = plot.getViewBox()
        pos = event.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        if self.model.playing:
            self.model.pause()
        self.model.set_cursor(round(vb.mapSceneToView(pos).x()))

    # -- for tests -------------------------------------------------------------------------------
    def curve_data(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(steps, loss) of run ``index`` as drawn, in data units (f - m + eps when shifted)."""
        return self._data(self.loss, index)

    def gradient_data(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(steps, ‖∇f‖) of run ``index`` as drawn, in data units."""
        return self._data(self.grad, index)

    @staticmethod
    def _data(layer: _RunLayer, index: int):
        curve = layer.curves[index] if 0 <= index < len(layer.curves) else None
        if curve is None or not curve.isVisible() or curve.xData is None:
            return np.array([]), np.array([])
        return np.asarray(curve.xData), 10.0 ** np.asarray(curve.yData)  # it holds log10

    def end_mark(self, index: int) -> tuple[int, float, str] | None:
        """(step, value as drawn, symbol: "x" diverged, "o" converged) of the mark ending run
        ``index``'s loss curve; None for a run that ran all its steps."""
        return self.loss.marks.get(index)

    def cursor_x(self) -> float:
        """Where the cursor line is (the step), as drawn in the loss plot."""
        return float(self.loss.cursor.value())

    def cursor_dots(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, loss values) of the dots at the cursor in the loss plot, in data units."""
        xs, ys = self.loss.dots.getOriginalDataset()
        if xs is None:
            return np.array([]), np.array([])
        return np.asarray(xs), np.asarray(ys)
