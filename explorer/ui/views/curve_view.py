"""CurveView: f(x) over the visible range, f' and f'', a point dragged along the curve, its tangent."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...core.session import Session
from ..bindings import signals_blocked
from ..theme import COLORS, LEFT_AXIS_WIDTH, cache_axes, pen, with_alpha
from .grid import Grid
from .thin import thin_polyline

SAMPLES = 2000


def sample(f, lo: float, hi: float, n: int = SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of ``f`` on [lo, hi] with NaN breaks at poles (no lines across them).

    A jump between neighbours is a pole when the function at the midpoint does not lie between
    the two values: a steep but continuous stretch passes that test, 1/x or tan(x) does not.
    """
    xs = np.linspace(lo, hi, n)
    ys = np.asarray(f(xs), dtype=float)
    if ys.shape != xs.shape:
        ys = np.broadcast_to(ys, xs.shape).astype(float)
    dy = np.abs(np.diff(ys))
    finite = np.isfinite(dy)
    if finite.sum() > 8:
        typical = np.median(dy[finite])
        span = np.nanpercentile(ys, 95) - np.nanpercentile(ys, 5)
        suspect = np.flatnonzero(finite & (dy > max(20 * typical, 0.05 * span, 1e-300)))
        if suspect.size:
            mids = f((xs[suspect] + xs[suspect + 1]) / 2)
            mids = np.broadcast_to(np.asarray(mids, dtype=float), suspect.shape)
            a, b = ys[suspect], ys[suspect + 1]
            low, high = np.minimum(a, b), np.maximum(a, b)
            slack = 0.5 * (high - low)
            pole = ~((mids >= low - slack) & (mids <= high + slack))
            if pole.any():
                cut = suspect[pole]
                xs = np.insert(xs, cut + 1, np.nan)
                ys = np.insert(ys, cut + 1, np.nan)
    return xs, ys


def clip_line(slope: float, intercept: float, x_range, y_range):
    """The part of y = slope x + intercept inside the view rectangle, as (xs, ys), or None.

    Clipping here rather than leaving it to the painter matters: an antialiased line that runs
    far outside the view costs Qt's stroker ~2 ms a frame.
    """
    if not (np.isfinite(slope) and np.isfinite(intercept)):
        return None
    (x0, x1), (y0, y1) = x_range, y_range
    if slope != 0:
        xa, xb = sorted(((y0 - intercept) / slope, (y1 - intercept) / slope))
        x0, x1 = max(x0, xa), min(x1, xb)
    elif not y0 <= intercept <= y1:
        return None
    if x0 >= x1:
        return None
    xs = np.array([x0, x1])
    return xs, slope * xs + intercept


def robust_y_range(ys: np.ndarray) -> tuple[float, float]:
    """A y range showing the bulk of a curve (poles and spikes clipped), with a margin."""
    finite = ys[np.isfinite(ys)]
    if finite.size == 0:
        return (-1.0, 1.0)
    lo, hi = np.percentile(finite, [2, 98])
    full_lo, full_hi = finite.min(), finite.max()
    # Keep the whole curve when it is tame: clip only genuine spikes.
    if full_hi - full_lo <= 3 * max(hi - lo, 1e-12):
        lo, hi = full_lo, full_hi
    if hi - lo < 1e-9:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.08 * (hi - lo)
    return (float(lo - pad), float(hi + pad))


def steady_range(current: tuple[float, float] | None, wanted: tuple[float, float],
                 fill: float = 0.5, margin: float = 0.1) -> tuple[float, float]:
    """The range to show for data wanting ``wanted``: ``current`` while it still holds it and
    the data fill at least ``fill`` of it; otherwise ``wanted`` with ``margin`` more each side.

    A side plot that follows a drag re-ranged on every frame jitters, and each new range
    re-renders its axes and grid (3-9 ms a frame); with this slack it re-ranges only when
    the data leave the view or shrink to a sliver of it."""
    lo, hi = wanted
    if current is not None:
        c_lo, c_hi = current
        if c_lo <= lo and hi <= c_hi and (hi - lo) >= fill * (c_hi - c_lo):
            return (float(c_lo), float(c_hi))
    pad = margin * (hi - lo)
    return (float(lo - pad), float(hi + pad))


class Curve(pg.PlotCurveItem):
    """A drawn curve the mouse passes through: no hit-testing.

    pyqtgraph asks every item under the cursor for its shape on each mouse move; a curve's
    shape is its 2,000-point path stroked, which costs milliseconds per move during a drag.
    """

    def __init__(self, pen, name: str):
        super().__init__(pen=pen, name=name, connect="finite")

    def setData(self, *args, **kwargs):  # noqa: N802 - pyqtgraph's name
        kwargs.setdefault("connect", "finite")
        super().setData(*args, **kwargs)

    def shape(self) -> QtGui.QPainterPath:
        return QtGui.QPainterPath()

    def paint(self, p, opt, widget):
        pen = self.opts["pen"]
        plain = (self.opts["fillLevel"] is None and self.opts["shadowPen"] is None
                 and self.opts["stepMode"] in (None, False) and self._exportOpts is False
                 and pen is not None and pen.isCosmetic())
        t = p.transform()
        if (not plain or self.xData is None or len(self.xData) == 0
                or t.type().value > QtGui.QTransform.TransformationType.TxScale.value):
            super().paint(p, opt, widget)
            return
        # Qt strokes a cosmetic pen wider than 1 px through its general stroker when the
        # painter scales (data to pixels): 1.6 ms for a 2-point tangent, against 0.1 ms for
        # the same line given in pixels. So map the vertices to pixels, keep those the
        # stroke needs (thin.py: ~150 of 2,000 samples of a smooth curve) and draw them there.
        connect = self.opts["connect"]
        with np.errstate(over="ignore", invalid="ignore"):  # 1e308 in pixels: a break
            xs, ys = t.m11() * self.xData + t.m31(), t.m22() * self.yData + t.m32()
        if connect == "finite":  # a polyline with breaks; "pairs" (residuals) are segments
            xs, ys = thin_polyline(xs, ys)
        p.save()
        p.resetTransform()
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, bool(self.opts["antialias"]))
        p.setPen(pen)
        p.drawPath(pg.arrayToQPath(xs, ys, connect=connect))
        p.restore()


class CurvePoint(pg.TargetItem):
    """A draggable point; its view pins it to the curve through the session."""

    def __init__(self, color: str | None = None, hover: str | None = None,
                 symbol: str = "o", size: int = 15, tooltip: str = "Drag along the curve"):
        super().__init__(
            pos=(0, 0),
            size=size,
            symbol=symbol,
            pen=pg.mkPen(COLORS["point_edge"], width=2),
            brush=pg.mkBrush(color or COLORS["point"]),  # the theme's when the point is built
            hoverPen=pg.mkPen(COLORS["point_edge"], width=3),
            hoverBrush=pg.mkBrush(hover or COLORS["point_hover"]),
            movable=True,
        )
        self.setZValue(20)
        self.setToolTip(tooltip)

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt override
        # TargetItem's rect is its symbol's, without the outline drawn half outside it; the
        # view does not add an antialiasing margin (see CurveView), so pad by a quarter.
        r = super().boundingRect()
        return r.adjusted(-r.width() / 4, -r.height() / 4, r.width() / 4, r.height() / 4)


class CurveView(pg.PlotWidget):
    """The central plot of a function of one variable."""

    cursor_moved = QtCore.Signal(float, float)
    drag_finished = QtCore.Signal(float)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.setObjectName("CurveView")
        # Items here pad their own bounding rects for antialiasing; without this flag Qt adds
        # 2 px more to every dirty rect, and a drag near the axes repaints them each frame.
        self.setOptimizationFlag(
            QtWidgets.QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.session = session
        self._syncing_range = False
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        cache_axes(plot)
        plot.setLabel("bottom", "x")
        plot.setLabel("left", "y")
        for side in ("left", "bottom"):
            plot.getAxis(side).setTextPen(COLORS["axis_text"])
            plot.getAxis(side).setPen(COLORS["axis"])
            plot.getAxis(side).enableAutoSIPrefix(False)  # "y (x0.001)" confuses readers
        plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self.grid = Grid(pen=pg.mkPen(COLORS["grid"], width=1))
        self.grid.setZValue(-10)
        plot.addItem(self.grid, ignoreBounds=True)
        self.axis_x = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(COLORS["zero_axis"], width=1))
        self.axis_y = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen(COLORS["zero_axis"], width=1))
        for line in (self.axis_x, self.axis_y):
            line.setZValue(-5)
            plot.addItem(line, ignoreBounds=True)

        self.legend = plot.addLegend(offset=(12, 12), labelTextColor=COLORS["axis_text"],
                                     brush=pg.mkBrush(with_alpha("background", 220)),
                                     pen=pg.mkPen(COLORS["grid"]))
        self.f_item = Curve(pen=pen("f", 2.5), name="f(x)")
        self.d1_item = Curve(pen=pen("d1", 1.8, QtCore.Qt.PenStyle.DashLine), name="f′(x)")
        self.d2_item = Curve(pen=pen("d2", 1.8, QtCore.Qt.PenStyle.DotLine), name="f″(x)")
        self.tangent_item = Curve(pen=pen("tangent", 2), name="tangent at x₀")
        self.secant_item = Curve(pen=pen("secant", 1.8, QtCore.Qt.PenStyle.DashLine),
                                 name="secant (difference quotient)")
        self.legend_items: list[pg.PlotCurveItem] = []  # rows of the legend when shown
        for item in (self.f_item, self.d1_item, self.d2_item, self.tangent_item,
                     self.secant_item):
            self.add_curve(item)
        for z, item in enumerate((self.f_item, self.d1_item, self.d2_item, self.tangent_item,
                                  self.secant_item)):
            item.setZValue(z)
        # the two points the secant passes through
        self.secant_points = pg.ScatterPlotItem(size=8, pen=pg.mkPen("#ffffff", width=1.5),
                                                brush=pg.mkBrush(COLORS["secant"]))
        self.secant_points.setZValue(19)
        plot.addItem(self.secant_points)
        # During a drag only the tangent and the point move. The curves and the grid are painted
        # once into pixmaps and blitted per frame (an antialiased 2,000-point path costs ~3 ms
        # a paint); Qt re-renders a cache when the item changes or the view pans or zooms.
        for item in (self.f_item, self.d1_item, self.d2_item, self.grid, self.legend):
            item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.point = CurvePoint()
        plot.addItem(self.point)
        self.handles: list[pg.GraphicsObject] = [self.point]  # items a click must not pass
        self.message = pg.TextItem("", color=COLORS["axis_text"], anchor=(0.5, 0.5))
        self.message.setZValue(30)
        plot.addItem(self.message, ignoreBounds=True)
        self.message.hide()

        self.point.sigPositionChanged.connect(self._on_point_dragged)
        self.point.sigPositionChangeFinished.connect(
            lambda item: self.drag_finished.emit(self.session.x0))
        plot.vb.sigRangeChanged.connect(self._on_range_changed)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

        session.connect(("function", "parameters"), lambda s, f: self._redraw_all(refit="function" in f))
        session.connect("x0", lambda s, f: self._update_point())
        session.connect(("h", "scheme", "h_negative"), lambda s, f: self._update_secant())
        session.connect(("x_range", "y_range"), lambda s, f: self._apply_session_range())
        session.connect(("show_derivative", "show_second_derivative", "show_tangent",
                         "show_secant"),
                        lambda s, f: self._update_visibility())
        with signals_blocked(plot.vb):
            plot.vb.setRange(xRange=session.x_range, yRange=session.y_range or (-1.5, 1.5),
                             padding=0)
        self._update_visibility()
        self._redraw_all(refit=session.y_range is None)

    # -- session -> items ----------------------------------------------------------------------
    def _one_variable(self):
        return self.session.f1

    def _redraw_all(self, refit: bool = False) -> None:
        f = self._one_variable()
        if f is None:
            self.secant_points.setData([], [])
            for item in (self.f_item, self.d1_item, self.d2_item, self.tangent_item,
                         self.secant_item):
                item.setData([], [])
            self.point.hide()
            if self.session.f is not None:
                names = " and ".join(self.session.f.variables)
                self.message.setText(f"f depends on {names}:\nthis view draws functions of x alone")
                self.message.show()
                self._center_message()
            return
        self.message.hide()
        self.point.show()
        self._resample()
        if refit:
            self._fit_y()
        self._update_point()

    def _resample(self) -> None:
        f = self._one_variable()
        if f is None:
            return
        lo, hi = self.getPlotItem().vb.viewRange()[0]
        margin = 0.02 * (hi - lo)  # a little past the edges so panning shows no gap
        lo, hi = lo - margin, hi + margin
        xs, ys = sample(f, lo, hi)
        self.f_item.setData(xs, ys)
        self._last_f = ys
        if self.session.show_derivative:
            self.d1_item.setData(*sample(f.derivative(order=1), lo, hi))
        if self.session.show_second_derivative:
            self.d2_item.setData(*sample(f.derivative(order=2), lo, hi))
        self._update_lines()

    def show_preview(self, f) -> None:
        """Draw f alone (a NumPy function of x) until the parsed function arrives."""
        lo, hi = self.getPlotItem().vb.viewRange()[0]
        xs, ys = sample(f, lo, hi)
        self.f_item.setData(xs, ys)
        self._last_f = ys
        self.point.hide()
        if self.session.y_range is None:
            self._fit_y()

    def _fit_y(self) -> None:
        vb = self.getPlotItem().vb
        ys = getattr(self, "_last_f", np.array([]))
        lo, hi = robust_y_range(ys)
        vb.setYRange(lo, hi, padding=0)

    def _update_point(self) -> None:
        f = self._one_variable()
        if f is None:
            return
        x0 = self.session.x0
        y0 = float(f(x0))
        with signals_blocked(self.point):
            if np.isfinite(y0):
                self.point.setPos(x0, y0)
                self.point.show()
            else:
                self.point.setPos(x0, self.point.pos().y())
        self._update_lines()

    def _update_lines(self) -> None:
        """The lines through the point (clipped to the view): tangent and secant."""
        self._update_tangent()
        self._update_secant()

    def _update_tangent(self) -> None:
        f = self._one_variable()
        if f is None or not self.session.show_tangent:
            return
        from ...core.calculus import tangent

        slope, intercept = tangent(f, self.session.x0)
        segment = clip_line(slope, intercept, *self.line_box())
        if segment is None:
            self.tangent_item.setData([], [])
        else:
            self.tangent_item.setData(*segment)

    def _update_secant(self) -> None:
        f = self._one_variable()
        if f is None or not self.session.show_secant:
            return
        s = self.session
        h = s.signed_h
        a, b = {"forward": (s.x0, s.x0 + h), "backward": (s.x0 - h, s.x0),
                "central": (s.x0 - h, s.x0 + h)}[s.scheme]
        fa, fb = float(f(a)), float(f(b))
        with np.errstate(all="ignore"):
            slope = (fb - fa) / (b - a)
        segment = clip_line(slope, fa - slope * a, *self.line_box())
        if segment is None or b == a:
            self.secant_item.setData([], [])
        else:
            self.secant_item.setData(*segment)
        self.secant_points.setData([a, b], [fa, fb])

    def line_box(self):
        """The view rectangle less 10 pixels a side, where lines through the point are clipped:
        a line reaching the edge dirties (with its pen and antialiasing margins) the axes, whose
        ticks reach ~5 px into the view,
        it, and Qt then repaints them each frame."""
        vb = self.getPlotItem().vb
        (x0, x1), (y0, y1) = vb.viewRange()
        width, height = max(vb.width(), 1.0), max(vb.height(), 1.0)
        dx, dy = 10 * (x1 - x0) / width, 10 * (y1 - y0) / height
        return (x0 + dx, x1 - dx), (y0 + dy, y1 - dy)

    def _update_visibility(self) -> None:
        s = self.session
        for item, shown in ((self.d1_item, s.show_derivative),
                            (self.d2_item, s.show_second_derivative),
                            (self.tangent_item, s.show_tangent),
                            (self.secant_item, s.show_secant),
                            (self.secant_points, s.show_secant)):
            item.setVisible(shown)
        self.sync_legend()
        self._resample()

    def add_curve(self, item: pg.PlotCurveItem, legend: bool = True) -> None:
        """Add a curve to the plot (overlays use this too), with a legend row while shown."""
        self.getPlotItem().vb.addItem(item)
        if legend:
            self.legend_items.append(item)

    def sync_legend(self) -> None:
        """Legend rows for the curves shown, in the order they were added; none for the rest."""
        shown = [(item, item.name()) for item in self.legend_items if item.isVisible()]
        if shown == [(sample.item, label.text) for sample, label in self.legend.items]:
            return
        self.legend.clear()
        for item, name in shown:
            self.legend.addItem(item, name)

    def _apply_session_range(self) -> None:
        if self._syncing_range:
            return
        vb = self.getPlotItem().vb
        (x0, x1), (y0, y1) = vb.viewRange()
        xr = self.session.x_range
        yr = self.session.y_range
        if (x0, x1) != tuple(xr) or (yr is not None and (y0, y1) != tuple(yr)):
            self._syncing_range = True
            try:
                vb.setRange(xRange=xr, yRange=yr, padding=0)
            finally:
                self._syncing_range = False
            self._resample()
        if yr is None:
            self._fit_y()

    # -- items -> session ----------------------------------------------------------------------
    def _on_point_dragged(self, item) -> None:
        # The item moves wherever the mouse goes; the session takes x and the view puts the
        # point back on the curve at (x0, f(x0)).
        x = float(item.pos().x())
        if x == self.session.x0:
            self._update_point()  # only y moved: snap back onto the curve
        else:
            self.session.set_x0(x)  # the x0 event redraws point and tangent

    def _on_range_changed(self, vb, ranges, changed=None) -> None:
        x_changed = changed is None or changed[0]
        if x_changed:
            self._resample()  # new x samples; the tangent is re-clipped there
        else:
            self._update_lines()  # only y moved: the curves are still right
        if self.message.isVisible():
            self._center_message()
        if self._syncing_range:
            return
        self._syncing_range = True
        try:
            self.session.set_view_range(tuple(ranges[0]), tuple(ranges[1]))
        finally:
            self._syncing_range = False

    def _on_mouse_moved(self, scene_pos) -> None:
        vb = self.getPlotItem().vb
        if vb.sceneBoundingRect().contains(scene_pos):
            p = vb.mapSceneToView(scene_pos)
            self.cursor_moved.emit(p.x(), p.y())

    def _on_mouse_clicked(self, event) -> None:
        # A click on the plot (not a drag, not on the point) moves x0 there: quick to explore.
        if event.button() != QtCore.Qt.MouseButton.LeftButton or event.double():
            return
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        if any(h.isVisible() and h.isUnderMouse() for h in self.handles) or self._one_variable() is None:
            return
        self.session.set_x0(float(vb.mapSceneToView(event.scenePos()).x()))
        self.drag_finished.emit(self.session.x0)

    def _center_message(self) -> None:
        (x0, x1), (y0, y1) = self.getPlotItem().vb.viewRange()
        self.message.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    # -- actions ---------------------------------------------------------------------------------
    def fit_view(self) -> None:
        """Fit y to the curve over the current x range."""
        self._fit_y()

    def point_scene_pos(self) -> QtCore.QPointF:
        """Where the point is drawn, in scene coordinates (tests drag from here)."""
        return self.getPlotItem().vb.mapViewToScene(self.point.pos())
