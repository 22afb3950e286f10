"""RaceOverlay: the optimizer race drawn on the landscape: each run's path with step markers
(solid up to the playback cursor, faint after it), its iterate at the cursor, how it ended, the
start (dragged, or set by a click), and for the selected run the step it takes next split into
what it is made of (the gradient's part, momentum's part, Adam's per-coordinate scaling)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from ..race_model import RaceModel
from ..theme import COLORS, mark_brush, mark_pen
from .curve_view import Curve, CurvePoint
from .landscape_view import LandscapeView, arrows

MAX_MARKERS = 60  # step markers per run: every step while few, evenly spaced beyond
ARROW_MIN = 0.09  # the selected run's next step is drawn at least this long (view fraction)


def thinned(points: np.ndarray, step: float) -> np.ndarray:
    """The points of a path at least ``step`` apart along it (its first and last kept): what a
    screen shows of 2,000 steps that crowd into a few pixels near a minimum, at a fraction of
    the segments to stroke."""
    if len(points) <= 2 or not step > 0:
        return points
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    cell = np.floor(arc / step)
    keep = np.flatnonzero(np.diff(cell, prepend=-1.0) != 0)
    if keep[-1] != len(points) - 1:
        keep = np.append(keep, len(points) - 1)
    return points[keep]


def _qcolor(hex_: str, alpha: int = 255) -> QtGui.QColor:
    color = QtGui.QColor(hex_)
    color.setAlpha(alpha)
    return color


class _Dots(pg.GraphicsObject):
    """The step markers of every run in one item: a round dot of the run's colour per marked
    step, one small pixmap a run drawn at every point in one call (as pyqtgraph's scatter
    draws its symbols, without its look-ups point by point: a scatter of the race's ~500
    markers with a brush per point cost ~7 ms a redraw; stroking them as round-capped
    segments ~12 ms a paint). Exported, they are drawn as circles."""

    SIZE = 4.0  # px

    def __init__(self):
        super().__init__()
        self.runs: list[tuple[QtGui.QColor, np.ndarray]] = []  # (colour, points) as set
        self._rect = QtCore.QRectF()
        self._pad = None  # (dx, dy): 3 px in data units, for the dots' radius
        self._sprites: dict = {}  # (rgba, device pixel ratio) -> QPixmap

    def set_runs(self, runs: list[tuple[QtGui.QColor, np.ndarray]]) -> None:
        self.prepareGeometryChange()
        self.runs = [(color, points) for color, points in runs if len(points)]
        self._rect = QtCore.QRectF()
        if self.runs:
            every = np.concatenate([points for _color, points in self.runs])
            (x0, y0), (x1, y1) = every.min(axis=0), every.max(axis=0)
            self._rect = QtCore.QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0))
        self.update()

    def viewTransformChanged(self):
        self.prepareGeometryChange()
        self._pad = None

    def boundingRect(self):
        if not self.runs:
            return QtCore.QRectF()
        if self._pad is None:
            self._pad = (3 * self.pixelWidth(), 3 * self.pixelHeight())
        dx, dy = self._pad
        return self._rect.adjusted(-dx, -dy, dx, dy)

    def _sprite(self, color: QtGui.QColor, ratio: float) -> QtGui.QPixmap:
        """The dot in ``color`` at ``ratio`` device pixels a pixel (drawn at 1/ratio)."""
        key = (color.rgba(), ratio)
        sprite = self._sprites.get(key)
        if sprite is None:
            if len(self._sprites) > 64:  # colours a user tried and left
                self._sprites.clear()
            side = int(np.ceil((self.SIZE + 2) * ratio))
            sprite = QtGui.QPixmap(side, side)
            sprite.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(sprite)
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(color)
            inset = (side - self.SIZE * ratio) / 2
            p.drawEllipse(QtCore.QRectF(inset, inset, self.SIZE * ratio, self.SIZE * ratio))
            p.end()
            self._sprites[key] = sprite
        return sprite

    def paint(self, painter, *args):
        from pyqtgraph.Qt import internals

        exporting = self._exportOpts is not False
        transform = painter.transform()
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        for color, points in self.runs:
            xs = transform.m11() * points[:, 0] + transform.m21() * points[:, 1] + transform.dx()
            ys = transform.m12() * points[:, 0] + transform.m22() * points[:, 1] + transform.dy()
            if exporting:  # vectors for SVG and PDF, and crisp at any export scale
                r = 0.5 * self.SIZE * self._exportOpts.get("resolutionScale", 1.0)
                painter.setPen(QtCore.Qt.PenStyle.NoPen)
                painter.setBrush(color)
                for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
                    painter.drawEllipse(QtCore.QPointF(x, y), r, r)
                continue
            # every dot of the run in one call, centred on its point (what the scatter does)
            sprite = self._sprite(color, ratio)
            fragments = internals.PrimitiveArray(QtGui.QPainter.PixmapFragment, 10)
            fragments.resize(len(xs))
            f = fragments.ndarray()
            f[:, 0], f[:, 1] = xs, ys
            f[:, 2:6] = (0, 0, sprite.width(), sprite.height())
            f[:, 6:10] = (1 / ratio, 1 / ratio, 0.0, 1.0)  # scale x, y; rotation; opacity
            painter.drawPixmapFragments(*fragments.drawargs(), sprite)
        painter.restore()


class _RunItems:
    """The items of one run in its colour (kept and reused while the race changes). The dark
    outline under every path and the step markers of every run are one item each on the
    overlay: each item costs a paint ~0.4 ms of Python, whatever it draws. ``dot`` is the
    colour of the run's markers."""

    def __init__(self, plot):
        self.done = Curve(pen=pg.mkPen("#ffffff", width=2.2), name="path")
        self.rest = Curve(pen=pg.mkPen("#ffffff", width=1.4), name="path after the cursor")
        self.whole = None  # (trajectory, pixel, its path thinned), set by RaceOverlay.redraw
        for z, item in ((31, self.rest), (32, self.done)):
            item.setZValue(z)
            item.setCacheMode(item.CacheMode.DeviceCoordinateCache)  # see RaceOverlay
            plot.addItem(item, ignoreBounds=True)

    def set_color(self, hex_: str) -> None:
        if hex_ == getattr(self, "_color", None):
            return
        self._color = hex_
        self.rest.setPen(pg.mkPen(_qcolor(hex_, 90), width=1.4))
        self.dot = _qcolor(hex_, 200)

    def items(self):
        return (self.done, self.rest)


class RaceOverlay(QtCore.QObject):
    """Draws the race of ``model`` on ``view`` while the session's ``show_race`` is on."""

    def __init__(self, view: LandscapeView, model: RaceModel, parent=None):
        super().__init__(parent or view)
        self.view, self.model, self.session = view, model, model.session
        plot = view.getPlotItem()
        self.plot = plot
        self.runs: list[_RunItems] = []
        self._drawn = None  # what draw_cursor last drew: a new race asks for it twice
        self.shadow = Curve(pen=pg.mkPen("#2b2b2b", width=3.6), name="path shadow")
        self.shadow.setZValue(30)
        # The paths are painted into pixmaps and blitted until they change: stroking eight
        # runs' paths (~2,000 vertices each, antialiased) is most of a landscape repaint, and
        # a drag of the point, a hover or the cursor's dots repainted them all every frame.
        self.shadow.setCacheMode(self.shadow.CacheMode.DeviceCoordinateCache)
        self.markers = _Dots()  # every step while few, evenly spaced beyond
        self.markers.setZValue(33)
        for item in (self.shadow, self.markers):
            item.setAcceptHoverEvents(False)
            plot.addItem(item, ignoreBounds=True)
        self.ends = pg.ScatterPlotItem(size=12, pxMode=True)
        self.ends.setZValue(35)
        self.iterates = pg.ScatterPlotItem(size=11, pxMode=True)
        self.iterates.setZValue(36)
        for item in (self.ends, self.iterates):
            item.setAcceptHoverEvents(False)
            plot.addItem(item, ignoreBounds=True)
        # the selected run's next step and its parts
        self.step_arrow = pg.PlotCurveItem(pen=pg.mkPen("#ffffff", width=2.6), connect="pairs")
        self.part_arrows = pg.PlotCurveItem(
            pen=pg.mkPen(255, 255, 255, 230, width=1.6, style=QtCore.Qt.PenStyle.DashLine),
            connect="pairs")
        self.step_label = pg.TextItem("", color="#ffffff", anchor=(0, 1),
                                      fill=pg.mkBrush(0, 0, 0, 140))
        for z, item in enumerate((self.part_arrows, self.step_arrow, self.step_label)):
            item.setZValue(37 + z)
            item.setAcceptHoverEvents(False)
            plot.addItem(item, ignoreBounds=True)
        self.start = CurvePoint("#ffffff", "#dddddd", symbol="star", size=19,
                                tooltip="The race's start: drag it, or click the landscape")
        self.start.setPen(pg.mkPen("#000000", width=1.5))
        self.start.setZValue(45)
        plot.addItem(self.start, ignoreBounds=True)
        self.start.sigPositionChanged.connect(self._start_dragged)
        self.start.sigPositionChangeFinished.connect(lambda _item: self._drag_finished())
        plot.scene().sigMouseClicked.connect(self._clicked)
        model.changed.connect(self.redraw)
        model.cursor_changed.connect(lambda _k: self.draw_cursor())
        model.selected_changed.connect(lambda _i: self.redraw())
        self.session.connect(("race_start", "show_race", "function"),
                             lambda s, f: self._place_start())
        self._place_start()
        self.redraw()

    # -- the start ---------------------------------------------------------------------------------
    def _place_start(self) -> None:
        shown = self.model.active
        self.start.setVisible(shown)
        if shown:
            self.start.blockSignals(True)
            self.start.setPos(*self.session.race_start)
            self.start.blockSignals(False)
        if not shown:
            self.redraw()

    def _start_dragged(self, item) -> None:
        if not self.model.dragging:
            self.model.set_dragging(True)
            self._smooth(False)
        pos = item.pos()
        self.session.set_race_start((float(pos.x()), float(pos.y())))

    def _smooth(self, on: bool) -> None:
        """Antialiased paths, or (while the start is dragged: a new race every frame) plain
        ones, which Qt strokes several times faster."""
        for item in (self.shadow, *(i for items in self.runs for i in items.items())):
            item.opts["antialias"] = on
            item.update()

    def _drag_finished(self) -> None:
        self._smooth(True)
        self.model.set_dragging(False)

    def _clicked(self, event) -> None:
        """A click on the landscape (not on a point or handle) moves the start there."""
        if not self.model.active or event.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        if event.double():
            return
        vb = self.plot.vb
        pos = event.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        for item in self.plot.scene().items(pos):
            if isinstance(item, pg.TargetItem):
                return
        p = vb.mapSceneToView(pos)
        self.session.set_race_start((float(p.x()), float(p.y())))

    # -- the paths -----------------------------------------------------------------------------
    def _items(self, count: int) -> list[_RunItems]:
        while len(self.runs) < count:
            self.runs.append(_RunItems(self.plot))
        return self.runs

    def redraw(self) -> None:
        self._drawn = None  # the items are shown again below: the cursor's parts are redrawn
        m = self.model
        shown = m.active and bool(m.trajectories)
        runs = self._items(len(m.trajectories)) if shown else self.runs
        ends = []
        outlines, marks = [], []
        nan = np.full((1, 2), np.nan)
        pixel = self._pixel()
        for i, items in enumerate(runs):
            t = m.trajectories[i] if shown and i < len(m.trajectories) else None
            if t is None:
                for item in items.items():
                    item.hide()
                continue
            spec = m.runs[i]
            items.set_color(spec.color_hex)
            width = 3.4 if i == m.selected else 2.2
            items.done.setPen(pg.mkPen(_qcolor(spec.color_hex), width=width))
            for item in items.items():
                item.show()
            pts = t.points
            finite = np.all(np.isfinite(pts), axis=1)
            pts = pts[finite] if not finite.all() else pts
            outline = thinned(pts, pixel)
            outlines += [outline, nan]
            # the whole path, as draw_cursor draws it with the cursor at the end
            items.whole = (t, pixel, outline) if pts is t.points else None
            marks.append((items.dot, pts[:: max(1, math.ceil(len(pts) / MAX_MARKERS))]))
            end = {"diverged": ("x", COLORS["error"]), "converged": ("o", spec.color_hex)}.get(
                t.status)
            if end is not None and len(pts):
                ends.append({"pos": (float(pts[-1, 0]), float(pts[-1, 1])), "symbol": end[0],
                             "brush": mark_brush(end[1]), "pen": mark_pen("#000000", 1),
                             "size": 12 if end[0] == "x" else 8})
        outline = np.concatenate(outlines) if outlines else np.empty((0, 2))
        self.shadow.setData(outline[:, 0], outline[:, 1])
        self.shadow.setVisible(bool(outlines))
        self.markers.set_runs(marks)
        self.ends.setData(ends)
        self.ends.setVisible(shown)
        self.draw_cursor()

    def draw_cursor(self) -> None:
        """The paths split at the playback cursor, the iterates there, the selected run's next
        step: cheap, so playback redraws only this."""
        m = self.model
        shown = m.active and bool(m.trajectories)
        pixel = self._pixel()
        state = (shown, m.cursor, m.selected, pixel, tuple(map(tuple, self.plot.vb.viewRange())))
        # the trajectories themselves are kept (not their ids, which a new race may reuse)
        runs = list(m.trajectories)
        if self._drawn is not None and self._drawn[0] == state and len(self._drawn[1]) == \
                len(runs) and all(a is b for a, b in zip(self._drawn[1], runs, strict=True)):
            return
        self._drawn = (state, runs)
        xs, ys, brushes, pens, sizes = [], [], [], [], []
        for i, items in enumerate(self.runs):
            t = m.trajectories[i] if shown and i < len(m.trajectories) else None
            if t is None:
                continue
            k = min(m.cursor, t.steps)
            whole = items.whole
            if k == t.steps and whole is not None and whole[0] is t and whole[1] == pixel:
                done = whole[2]
            else:
                done = thinned(t.points[: k + 1], pixel)
            rest = thinned(t.points[k:], pixel)
            items.done.setData(done[:, 0], done[:, 1])
            items.rest.setData(rest[:, 0], rest[:, 1])
            items.rest.setVisible(len(rest) > 1)  # the cursor at the end (most of the time)
            if np.all(np.isfinite(t.points[k])):
                selected = i == m.selected
                xs.append(float(t.points[k, 0]))
                ys.append(float(t.points[k, 1]))
                brushes.append(mark_brush(m.runs[i].color_hex))
                pens.append(mark_pen("#ffffff", 2.5) if selected else mark_pen("#000000", 1.5))
                sizes.append(14 if selected else 11)
        # arrays, brushes and pens reused: the scatter's symbol atlas keys on them
        self.iterates.setData(x=xs, y=ys, brush=brushes, pen=pens, size=sizes)
        self.iterates.setVisible(shown)
        self._draw_step(shown)

    def _draw_step(self, shown: bool) -> None:
        parts = step_parts(self.model) if shown else None
        if parts is None:
            self.step_arrow.setData([], [])
            self.part_arrows.setData([], [])
            self.step_label.hide()
            return
        origin, step, pieces, text = parts
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        span = min(x1 - x0, y1 - y0)
        length = float(np.hypot(*step))
        # Steps of 1e-3 would be invisible: every arrow is scaled by one factor, so they keep
        # their proportions; the label says by how much.
        scale = 1.0
        if length > 0 and length < ARROW_MIN * span:
            scale = ARROW_MIN * span / length
        s = step * scale
        self.step_arrow.setData(*arrows(origin[0], origin[1], s[0], s[1], head=0.22))
        xs, ys = [], []
        for piece in pieces:
            p = piece * scale
            if np.all(np.isfinite(p)) and np.hypot(*p) > 0:
                ax, ay = arrows(origin[0], origin[1], p[0], p[1], head=0.22)
                xs.append(ax)
                ys.append(ay)
        self.part_arrows.setData(np.concatenate(xs) if xs else [], np.concatenate(ys) if ys else [])
        if scale != 1.0:
            text += f"\n(arrows ×{scale:.3g})"
        self.step_label.setText(text)
        # the label beside the arrow's tip, on the side towards the middle of the view, so it
        # stays inside the plot
        tip = (origin[0] + s[0], origin[1] + s[1])
        self.step_label.setAnchor((1.0 if tip[0] > (x0 + x1) / 2 else 0.0,
                                   0.0 if tip[1] > (y0 + y1) / 2 else 1.0))
        self.step_label.setPos(*tip)
        self.step_label.show()

    def _pixel(self) -> float:
        """A pixel in data units: steps closer than that draw on one another under the 2.2 px
        pen. (Thinned to half a pixel, the paths had twice the vertices to stroke, and a
        repaint of the landscape with eight runs took ~40 ms instead of ~32.)"""
        vb = self.plot.vb
        (x0, x1), _ = vb.viewRange()
        width = max(vb.width(), 1.0)
        return (x1 - x0) / width

    # -- what is drawn (tests compare it with the core) ------------------------------------------
    def path_data(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The whole drawn path of run ``index`` (before and after the cursor)."""
        items = self.runs[index]
        dx, dy = items.done.getData()
        rx, ry = items.rest.getData()
        return np.concatenate([dx, rx[1:]]), np.concatenate([dy, ry[1:]])

    def iterate_positions(self) -> list[tuple[float, float]]:
        xs, ys = self.iterates.getData()
        return [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]


def step_parts(model: RaceModel):
    """The selected run's step from the cursor: (origin, step, parts, text), or None.

    The parts show how the step is built: gradient descent's -lr g; heavy ball's -lr g and
    -lr beta v (the velocity carried over); Nesterov's look-ahead adds -lr beta (beta v + g);
    Adam, RMSprop and Adagrad scale -g coordinate by coordinate; Newton bends it by H."""
    i = model.selected
    if not (0 <= i < len(model.trajectories)) or model.trajectories[i] is None:
        return None
    t, spec = model.trajectories[i], model.runs[i]
    k = min(model.cursor, t.steps)
    if k >= t.steps:
        return None
    origin, step = t.points[k], t.points[k + 1] - t.points[k]
    g = t.gradients[k]
    lr = float(t.rates[k]) if t.rates is not None and len(t.rates) > k else 1.0
    pieces = []
    name = spec.optimizer
    h = spec.hyper
    if name == "SGD":
        beta = float(h.get("momentum", 0.0))
        if beta and h.get("nesterov"):
            pieces = [-lr * g, -lr * beta * t.state["velocity"][k + 1]]
            text = "Nesterov: step = −lr·∇f − lr·β·v (look-ahead)"
        elif beta and k > 0:
            pieces = [-lr * g, -lr * beta * t.state["velocity"][k]]
            text = "momentum: step = −lr·∇f − lr·β·v"
        else:
            pieces = [-lr * g]
            text = "gradient descent: step = −lr·∇f"
    elif name in ("Adam", "AdamW"):
        scale = t.state["scale"][k + 1]
        pieces = [-lr * g]
        text = (f"{name}: step = −lr·m̂/(√v̂+ε)\nper-coordinate scale "
                f"x {scale[0]:.3g}, y {scale[1]:.3g}")
    elif name in ("RMSprop", "Adagrad"):
        pieces = [-lr * g]
        text = f"{name}: −∇f scaled per coordinate"
    elif name == "Newton":
        pieces = [-lr * g]
        text = "Newton: step = −(H + λI)⁻¹∇f"
    else:
        pieces = [-g / max(float(np.hypot(*g)), 1e-300) * float(np.hypot(*step))]
        text = "L-BFGS: quasi-Newton direction, line search"
    return origin, step, pieces, text
