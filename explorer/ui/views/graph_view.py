"""GraphView: the computational graph of the backprop lab, stepped through its forward and
backward passes.

Each node is a rounded box at :meth:`Graph.layout`'s position (a column per layer, inputs on the
left, the output on the right) with its symbol, its value once the forward pass has computed it
and its gradient ("∇ 16") once the backward pass has reached it. Each use of a node is an arrow
from it to the operation using it, labelled with the local derivative on that edge (the
chain-rule factor): in a light tone once the forward pass has computed the operation (the factor
is known from then on), in the gradient's colour once the backward pass has multiplied by it.
Edges from constants carry no label: no gradient flows into a constant. The active node (and,
going backward, the active edge) is outlined; the step's equation is written in a banner.

Drawing stays cheap for graphs of a hundred nodes and more: one item per kind of box (one box
rendered into a pixmap, blitted at each centre), one for all the arrows (clipped to the painted
area, drawn with a 1 px pen), one for all the text (QStaticText at a fixed pixel size, culled to
the painted area, hidden when zoomed out too far to read it). A step retexts and repaints only
the nodes and edges it changes; new values on the same graph retext; only a new graph (another
expression) rebuilds and fits the view. Double-click the background to fit it again.
"""

from __future__ import annotations

import bisect
import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...core.graph import name_of
from ..backprop_model import BackpropModel
from ..theme import COLORS, on_theme_changed, style_plot, with_alpha

COLUMN = 1.7  # data units between columns (layers)
ROW = 1.0  # between rows within a column
BOX_W, BOX_H = 0.9, 0.8  # tall boxes: three lines fit at ~46 px a row (a dozen rows in 600 px)
RADIUS = 0.1
HEAD = 0.12  # arrowhead length
HEAD_ANGLE = math.radians(24)
LABEL_BEFORE = 0.3  # an edge's label: this far left of its arrowhead's tip
NODE_FONT_PX = 12
EDGE_FONT_PX = 12
MAX_SCALE = 170.0  # px per unit: a small graph is not blown up past this when fitted
HIT_EDGE_PX = 5.0  # hover distance to an edge for its tooltip
TEXT_MARGIN_PX = 90  # how far a text may reach from its anchor (half a long number, 3 lines)
KINDS = ("input", "const", "op", "output")
KIND_COLORS = {"input": "f", "const": "degenerate", "op": "d2", "output": "tangent"}
GRAD_COLOR = "accumulation"
CACHE_AFTER_MS = 250  # arrows and boxes are cached again this long after the last zoom frame
ORDERED = ("div", "pow", "logb")  # operands drawn in order, first on top (else: no crossings)


def short(v: float) -> str:
    """A number as it fits in a box: 4 significant digits, a real minus sign."""
    if v != v:
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:.4g}".replace("-", "−")


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equal, NaN equal to NaN."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _rounded_rect(path: QtGui.QPainterPath, cx: float, cy: float, w: float, h: float,
                  r: float) -> None:
    path.addRoundedRect(QtCore.QRectF(cx - w / 2, cy - h / 2, w, h), r, r)


def _route(x0: float, y0: float, x1: float, y1: float,
           columns: list[tuple[float, list[float]]]) -> list[tuple[float, float]]:
    """The points of an edge from (x0, y0) to (x1, y1): straight where no box is in the way;
    where the straight line would cross a box of a column in between (``columns``: each one's
    x and its boxes' sorted y), through the gap between the rows beside it instead (a line
    behind a box would seem to enter it)."""
    points = [(x0, y0)]
    for cx, ys in columns:
        if not x0 < cx < x1:
            continue
        px, py = points[-1]
        y = py + (y1 - py) * (cx - px) / (x1 - px)
        yb = _nearest(ys, y)
        if abs(yb - y) >= BOX_H / 2 + 0.04:
            continue
        free = [c for c in (yb + ROW / 2, yb - ROW / 2)
                if abs(_nearest(ys, c) - c) >= BOX_H / 2 + 0.02]
        if not free:
            continue
        y = min(free, key=lambda c: abs(c - y))
        half = BOX_W / 2 + 0.08
        points += [(cx - half, y), (cx + half, y)]
    points.append((x1, y1))
    return points


def _nearest(ys: list[float], y: float) -> float:
    """The value of the sorted list ``ys`` nearest to ``y``."""
    k = bisect.bisect_left(ys, y)
    if k == 0:
        return ys[0]
    if k == len(ys):
        return ys[-1]
    return ys[k] if ys[k] - y < y - ys[k - 1] else ys[k - 1]


def _arrow_geometry(points) -> tuple[list[tuple[float, float, float, float]],
                                     list[tuple[float, float]]]:
    """An arrow along the polyline ``points``: its segments (x0, y0, x1, y1), the last one
    ending at the base of the head, and the head's triangle, its tip the last point."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    head = min(HEAD, 0.5 * length)
    bx, by = x1 - ux * head * math.cos(HEAD_ANGLE), y1 - uy * head * math.cos(HEAD_ANGLE)
    px, py = -uy * head * math.sin(HEAD_ANGLE), ux * head * math.sin(HEAD_ANGLE)
    line = [tuple(p) for p in points[:-1]] + [(bx, by)]
    segments = [(*line[j], *line[j + 1]) for j in range(len(line) - 1)]
    return segments, [(x1, y1), (bx + px, by + py), (bx - px, by - py)]


def _arrow(path: QtGui.QPainterPath, heads: QtGui.QPainterPath, points: np.ndarray) -> None:
    """An arrow along ``points``: its line into ``path`` (stroked), its head into ``heads``
    (filled)."""
    segments, triangle = _arrow_geometry(points)
    path.moveTo(*segments[0][:2])
    for segment in segments:
        path.lineTo(*segment[2:])
    heads.addPolygon(QtGui.QPolygonF([QtCore.QPointF(x, y) for x, y in triangle]))
    heads.closeSubpath()


def _clip(x0, y0, x1, y1, rect: QtCore.QRectF):
    """Segments clipped to ``rect`` (Liang-Barsky, vectorized): the kept ones' ends."""
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = np.zeros_like(x0), np.ones_like(x0)
    reject = np.zeros(x0.shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-dx, x0 - rect.left()), (dx, rect.right() - x0),
                     (-dy, y0 - rect.top()), (dy, rect.bottom() - y0)):
            r = q / p
            reject |= (p == 0) & (q < 0)
            t0 = np.where(p < 0, np.maximum(t0, r), t0)
            t1 = np.where(p > 0, np.minimum(t1, r), t1)
    keep = ~reject & (t0 <= t1)
    t0, t1 = t0[keep], t1[keep]
    x0, y0, dx, dy = x0[keep], y0[keep], dx[keep], dy[keep]
    return x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy


def _device(t: QtGui.QTransform, x, y):
    return t.m11() * x + t.m21() * y + t.dx(), t.m12() * x + t.m22() * y + t.dy()


class _PixelItem(pg.GraphicsObject):
    """Drawn in device pixels (cosmetic pens, fixed-size text) over a rectangle given in data
    units; never hit-tested (the view finds nodes and edges itself)."""

    def __init__(self, margin_px: float = 4.0):
        super().__init__()
        self._data_rect: QtCore.QRectF | None = None
        self._margin_px = margin_px
        self._upp = 0.0  # data units per pixel, set by the view
        self._bounds = QtCore.QRectF()
        self.setAcceptHoverEvents(False)
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.setFlag(self.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    def set_units_per_pixel(self, upp: float) -> None:
        if upp > 0 and abs(upp - self._upp) > 1e-3 * upp:
            self._upp = upp
            self._update_bounds()

    def _set_data_rect(self, rect: QtCore.QRectF | None) -> None:
        """What the item draws on, in data units (None: nothing); the bounds add the margin."""
        self._data_rect = QtCore.QRectF(rect) if rect is not None else None
        self._update_bounds()

    def _update_bounds(self) -> None:
        m = self._margin_px * self._upp if self._upp > 0 else 0.5
        bounds = (self._data_rect.adjusted(-m, -m, m, m) if self._data_rect is not None
                  else QtCore.QRectF())
        if bounds != self._bounds:
            self.prepareGeometryChange()
            self._bounds = bounds

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt override
        return self._bounds

    def shape(self) -> QtGui.QPainterPath:
        return QtGui.QPainterPath()


class _PathLayer(_PixelItem):
    """A path in data units stroked, and another (optional) filled and stroked, in pixels: a
    cosmetic pen wider than 1 px under a scaling painter goes through Qt's slow general stroker
    (see curve_view.Curve)."""

    def __init__(self, pen: QtGui.QPen, brush=None, margin_px: float = 4.0):
        super().__init__(margin_px)
        self._path = self._filled = QtGui.QPainterPath()
        self._pen = pen
        self._brush = QtGui.QBrush(brush) if brush is not None else QtGui.QBrush()

    def set_path(self, path: QtGui.QPainterPath,
                 filled: QtGui.QPainterPath | None = None) -> None:
        """``path`` stroked (open polylines), ``filled`` filled with the brush and stroked;
        a path alone is filled too when the layer has a brush (the boxes)."""
        self.update()  # the old area
        if filled is None and self._brush.style() != QtCore.Qt.BrushStyle.NoBrush:
            path, filled = QtGui.QPainterPath(), path
        self._path, self._filled = path, filled if filled is not None else QtGui.QPainterPath()
        rect = self._path.boundingRect().united(self._filled.boundingRect())
        empty = self._path.isEmpty() and self._filled.isEmpty()
        self._set_data_rect(None if empty else rect)
        self.update()

    def path(self) -> QtGui.QPainterPath:
        return self._path if not self._path.isEmpty() else self._filled

    def paint(self, p, opt, widget):
        if self._path.isEmpty() and self._filled.isEmpty():
            return
        t = p.transform()
        p.save()
        p.resetTransform()
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setPen(self._pen)
        if not self._path.isEmpty():
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawPath(t.map(self._path))
        if not self._filled.isEmpty():
            p.setBrush(self._brush)
            p.drawPath(t.map(self._filled))
        p.restore()


class _Edges(_PixelItem):
    """All the arrows: their segments clipped to the area being painted and drawn in pixels
    with a 1 px cosmetic pen (Qt's fast path: a wider one, or lines running far outside the
    view, go through its general stroker, ~50 ms for a hundred edges zoomed in), their heads
    filled."""

    def __init__(self, color: QtGui.QColor):
        super().__init__(margin_px=2.0)
        self._pen = _pen(color, 1.0)
        self._brush = QtGui.QBrush(color)
        self.segments = np.zeros((0, 4))
        self._heads = np.zeros((0, 3, 2))

    def set_arrows(self, routes: list[np.ndarray]) -> None:
        self.update()
        arrows = [_arrow_geometry(r) for r in routes]
        self.segments = np.array([seg for a in arrows for seg in a[0]],
                                 dtype=float).reshape(-1, 4)
        self._heads = np.array([a[1] for a in arrows], dtype=float).reshape(-1, 3, 2)
        if arrows:
            xs = np.concatenate([self.segments[:, 0], self.segments[:, 2],
                                 self._heads[:, :, 0].ravel()])
            ys = np.concatenate([self.segments[:, 1], self.segments[:, 3],
                                 self._heads[:, :, 1].ravel()])
            self._set_data_rect(QtCore.QRectF(xs.min(), ys.min(), xs.max() - xs.min(),
                                              ys.max() - ys.min()))
        else:
            self._set_data_rect(None)
        self.update()

    def paint(self, p, opt, widget):
        if not len(self.segments):
            return
        t = p.transform()
        area = t.mapRect(opt.exposedRect).adjusted(-3, -3, 3, 3)
        s = self.segments
        x0, y0 = _device(t, s[:, 0], s[:, 1])
        x1, y1 = _device(t, s[:, 2], s[:, 3])
        x0, y0, x1, y1 = _clip(x0, y0, x1, y1, area)
        hx, hy = _device(t, self._heads[:, :, 0], self._heads[:, :, 1])
        shown = ((hx.max(axis=1) >= area.left()) & (hx.min(axis=1) <= area.right())
                 & (hy.max(axis=1) >= area.top()) & (hy.min(axis=1) <= area.bottom()))
        p.save()
        p.resetTransform()
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        if len(x0):
            p.setPen(self._pen)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawPath(pg.arrayToQPath(np.column_stack([x0, x1]).ravel(),
                                       np.column_stack([y0, y1]).ravel(), connect="pairs"))
        heads = QtGui.QPainterPath()
        for k in np.flatnonzero(shown):
            heads.addPolygon(QtGui.QPolygonF([QtCore.QPointF(hx[k, j], hy[k, j])
                                              for j in range(3)]))
            heads.closeSubpath()
        if not heads.isEmpty():
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(self._brush)
            p.drawPath(heads)
        p.restore()


class _Boxes(_PixelItem):
    """Rounded boxes of one kind, all the same size: one box is rendered at the current zoom
    into a pixmap and that pixmap blitted at each centre in the area being painted (stroking
    and filling a hundred rounded rectangles costs milliseconds a frame; blitting, not)."""

    def __init__(self, pen: QtGui.QPen, fill: QtGui.QColor):
        super().__init__(margin_px=2.0)
        self._pen, self._fill = pen, QtGui.QBrush(fill)
        self.xy = np.zeros((0, 2))
        self._sprite = None
        self._sprite_key = None

    def set_centres(self, xy: np.ndarray) -> None:
        self.update()
        self.xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        if len(self.xy):
            lo, hi = self.xy.min(axis=0), self.xy.max(axis=0)
            self._set_data_rect(QtCore.QRectF(lo[0] - BOX_W / 2, lo[1] - BOX_H / 2,
                                              hi[0] - lo[0] + BOX_W, hi[1] - lo[1] + BOX_H))
        else:
            self._set_data_rect(None)
        self.update()

    def sprite(self, w: float, h: float, radius: float, ratio: float) -> QtGui.QPixmap:
        key = (round(w, 2), round(h, 2), ratio)
        if key != self._sprite_key:
            margin = self._pen.widthF() + 1
            pixmap = QtGui.QPixmap(max(1, math.ceil((w + 2 * margin) * ratio)),
                                   max(1, math.ceil((h + 2 * margin) * ratio)))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(QtCore.Qt.GlobalColor.transparent)
            painter = QtGui.QPainter(pixmap)
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            painter.setPen(self._pen)
            painter.setBrush(self._fill)
            painter.drawRoundedRect(QtCore.QRectF(margin, margin, w, h), radius, radius)
            painter.end()
            self._sprite, self._sprite_key = pixmap, key
        return self._sprite

    def paint(self, p, opt, widget):
        if not len(self.xy):
            return
        t = p.transform()
        sx, sy = math.hypot(t.m11(), t.m12()), math.hypot(t.m21(), t.m22())
        w, h = BOX_W * sx, BOX_H * sy
        device = p.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        sprite = self.sprite(w, h, RADIUS * min(sx, sy), ratio)
        margin = self._pen.widthF() + 1
        x, y = _device(t, self.xy[:, 0], self.xy[:, 1])
        area = t.mapRect(opt.exposedRect)
        shown = np.flatnonzero((x + w / 2 + margin >= area.left())
                               & (x - w / 2 - margin <= area.right())
                               & (y + h / 2 + margin >= area.top())
                               & (y - h / 2 - margin <= area.bottom()))
        if not shown.size:
            return
        left, top = np.round(x - w / 2 - margin), np.round(y - h / 2 - margin)
        p.save()
        p.resetTransform()
        for k in shown:
            p.drawPixmap(QtCore.QPointF(left[k], top[k]), sprite)
        p.restore()


class _Texts(_PixelItem):
    """Many short texts anchored at data positions, drawn centred at a fixed pixel size (one
    item, pre-laid-out QStaticText). Entry i sits ``dy_full[i]`` pixels below its anchor when
    the scale (px per unit) is at least ``full_scale``, ``dy_compact[i]`` (NaN: hidden) when it
    is at least ``compact_scale``; below that nothing is written (boxes and arrows remain)."""

    def __init__(self, compact_scale: float, full_scale: float, background=None):
        super().__init__(margin_px=TEXT_MARGIN_PX)
        self.compact_scale, self.full_scale = compact_scale, full_scale
        self._background = QtGui.QBrush(background) if background is not None else None
        self.fonts: list[QtGui.QFont] = []
        self._xy = np.zeros((0, 2))
        self._dy_full = self._dy_compact = np.zeros(0)
        self._size = np.zeros((0, 2))  # each entry's text size in px (0: empty)
        self._font = np.zeros(0, dtype=int)
        self._color: list[QtGui.QColor] = []
        self._static: list[QtGui.QStaticText] = []
        self._pool: list[QtGui.QStaticText] = []
        self._text: list[str] = []
        self._metrics: list[QtGui.QFontMetricsF] = []
        self._sizes: dict[tuple[int, str], tuple[float, float]] = {}

    def add_font(self, pixel_size: int, bold: bool = False) -> int:
        font = QtGui.QFont()
        font.setPixelSize(pixel_size)
        font.setBold(bold)
        self.fonts.append(font)
        self._metrics.append(QtGui.QFontMetricsF(font))
        return len(self.fonts) - 1

    def line_height(self, font: int) -> float:
        return QtGui.QFontMetricsF(self.fonts[font]).height()

    def set_entries(self, xy: np.ndarray, dy_full, dy_compact, fonts) -> None:
        n = len(xy)
        self._xy = np.asarray(xy, dtype=float).reshape(n, 2)
        self._dy_full = np.asarray(dy_full, dtype=float)
        self._dy_compact = np.asarray(dy_compact, dtype=float)
        self._font = np.asarray(fonts, dtype=int)
        self._size = np.zeros((n, 2))
        self._color = [QtGui.QColor(COLORS["axis_text"])] * n
        self._text = [""] * n
        # the QStaticTexts of the last graph are reused (making 300 costs ~3 ms)
        for _ in range(len(self._pool), n):
            static = QtGui.QStaticText()
            static.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            static.setPerformanceHint(QtGui.QStaticText.PerformanceHint.AggressiveCaching)
            self._pool.append(static)
        self._static = self._pool[:n]
        for static in self._static:
            static.setText("")
        if n:
            lo, hi = self._xy.min(axis=0), self._xy.max(axis=0)
            # the texts reach up to TEXT_MARGIN_PX beyond their anchors
            self._set_data_rect(QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]))
        else:
            self._set_data_rect(None)
        self.update()

    def text(self, k: int) -> str:
        return self._text[k]

    def _measure(self, font: int, text: str) -> tuple[float, float]:
        key = (font, text)
        size = self._sizes.get(key)
        if size is None:
            metrics = self._metrics[font]
            size = (metrics.horizontalAdvance(text), metrics.height())
            if len(self._sizes) > 5000:
                self._sizes.clear()
            self._sizes[key] = size
        return size

    def set_text(self, k: int, text: str, color: QtGui.QColor, repaint: bool = True) -> None:
        """Change entry ``k``; ``repaint`` marks only its own area for repainting."""
        if text == self._text[k] and color == self._color[k]:
            return
        old = self._size[k].copy()
        self._text[k] = text
        self._color[k] = color
        self._static[k].setText(text)  # laid out when first drawn (hidden text never is)
        self._size[k] = self._measure(self._font[k], text) if text else (0.0, 0.0)
        if repaint:
            self._repaint_entry(k, np.maximum(old, self._size[k]))

    def _repaint_entry(self, k: int, size) -> None:
        if self._upp <= 0:
            self.update()
            return
        dy = np.nanmax(np.abs([self._dy_full[k], self._dy_compact[k], 0.0]))
        half_w = (size[0] / 2 + 4) * self._upp
        half_h = (size[1] / 2 + dy + 4) * self._upp
        x, y = self._xy[k]
        self.update(QtCore.QRectF(x - half_w, y - half_h, 2 * half_w, 2 * half_h))

    def mode(self, scale: float) -> str | None:
        if scale >= self.full_scale:
            return "full"
        if scale >= self.compact_scale:
            return "compact"
        return None

    def paint(self, p, opt, widget):
        n = len(self._static)
        if not n:
            return
        t = p.transform()
        scale = math.hypot(t.m11(), t.m12())
        mode = self.mode(scale)
        if mode is None:
            return
        dy = self._dy_full if mode == "full" else self._dy_compact
        x, y = self._xy[:, 0], self._xy[:, 1]
        px = t.m11() * x + t.m21() * y + t.dx()
        py = t.m12() * x + t.m22() * y + t.dy() + dy
        w, h = self._size[:, 0], self._size[:, 1]
        area = t.mapRect(opt.exposedRect)
        show = (np.isfinite(py) & (w > 0) & (px + w / 2 >= area.left() - 2)
                & (px - w / 2 <= area.right() + 2) & (py + h / 2 >= area.top() - 2)
                & (py - h / 2 <= area.bottom() + 2))
        shown = np.flatnonzero(show)
        if not shown.size:
            return
        left, top = px - w / 2, py - h / 2
        p.save()
        p.resetTransform()
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        font = color = None
        background = self._background
        if background is not None:
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            for k in shown:
                p.fillRect(QtCore.QRectF(left[k] - 2, top[k], w[k] + 4, h[k]), background)
        for k in shown[np.argsort(self._font[shown], kind="stable")]:
            if self._font[k] != font:
                font = self._font[k]
                p.setFont(self.fonts[font])
            if self._color[k] is not color:
                color = self._color[k]
                p.setPen(color)
            p.drawStaticText(QtCore.QPointF(left[k], top[k]), self._static[k])
        p.restore()


class GraphView(pg.PlotWidget):
    """The graph of ``model`` (a :class:`BackpropModel`) at its current step; ``node_clicked``
    when a node is clicked (its index)."""

    node_clicked = QtCore.Signal(int)

    def __init__(self, model: BackpropModel, parent=None):
        super().__init__(parent)
        self.setObjectName("GraphView")
        self.model = model
        plot = self.getPlotItem()
        style_plot(plot)
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        vb = plot.vb
        vb.setAspectLocked(True)
        vb.disableAutoRange()
        self._vb = vb

        self.edges = _Edges(with_alpha("axis", 210))
        self.edges.setZValue(0)
        self.active_edge = _PathLayer(_pen(QtGui.QColor(COLORS["point"]), 3.0),
                                      QtGui.QColor(COLORS["point"]), margin_px=6)
        self.active_edge.setZValue(1)
        self.boxes = {kind: _Boxes(_pen(QtGui.QColor(COLORS[KIND_COLORS[kind]]),
                                        2.0 if kind == "output" else 1.4), _box_fill(kind))
                      for kind in KINDS}
        for box in self.boxes.values():
            box.setZValue(2)
        self.active_node = _PathLayer(_pen(QtGui.QColor(COLORS["point"]), 3.5), margin_px=6)
        self.active_node.setZValue(3)
        self.active_node.hide()
        metrics = QtGui.QFontMetricsF(_font(NODE_FONT_PX))
        # node text: all three lines once a box holds them, the symbol alone from one line;
        # lines closer than the font's height (numbers and symbols have no descenders)
        node_line = metrics.ascent() + 1.5
        self.node_texts = _Texts(compact_scale=(metrics.height() + 2) / BOX_H,
                                 full_scale=(2 * node_line + metrics.height()) / BOX_H)
        self._label_font = self.node_texts.add_font(NODE_FONT_PX, bold=True)
        self._value_font = self.node_texts.add_font(NODE_FONT_PX)
        self._line = node_line
        self.node_texts.setZValue(4)
        # edge labels: when the gap between columns holds a number
        gap = COLUMN - BOX_W
        self.edge_texts = _Texts(compact_scale=math.inf, full_scale=48 / gap,
                                 background=with_alpha("background", 215))
        self.edge_texts.add_font(EDGE_FONT_PX)
        self.edge_texts.setZValue(4)
        self.layers = (self.edges, self.active_edge, *self.boxes.values(), self.active_node,
                       self.node_texts, self.edge_texts)
        for item in self.layers:
            plot.addItem(item, ignoreBounds=True)
        # The arrows and boxes change only with a new graph: while the view holds still they
        # are painted once into pixmaps, blitted when a step repaints the area of a node (a
        # step then costs ~2-3 ms less); while it zooms, painted directly (filling the caches
        # would double the cost of a zoom frame).
        self._cache_timer = QtCore.QTimer(self, singleShot=True, interval=CACHE_AFTER_MS)
        self._cache_timer.timeout.connect(lambda: self._cache_edges(True))
        self._scale = 0.0
        self._cache_edges(True)

        self.banner = QtWidgets.QLabel(self)
        self.banner.setObjectName("graphBanner")
        self.banner.setWordWrap(True)
        self.banner.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.banner.setStyleSheet(_banner_style())

        self._colors = {key: QtGui.QColor(COLORS[key]) for key in ("axis_text", GRAD_COLOR)}
        self._light = with_alpha("axis_text", 120)
        on_theme_changed(self, lambda _name: self.restyle())
        self._clear_graph_state()
        self._signature = None
        self._user_range = False  # the user panned or zoomed since the last fit
        self._fitting = False

        vb.sigTransformChanged.connect(self._on_transform)
        vb.sigRangeChangedManually.connect(self._on_manual_range)
        vb.sigResized.connect(self._on_resized)
        self.scene().sigMouseClicked.connect(self._on_click)
        self.scene().sigMouseMoved.connect(self._on_hover)
        model.changed.connect(self._on_changed)
        model.step_changed.connect(self._on_step)
        self._on_changed()

    def restyle(self) -> None:
        """Take the theme's colours (after a switch): the layers' pens and fills, the texts."""
        axis, point = with_alpha("axis", 210), QtGui.QColor(COLORS["point"])
        self.edges._pen, self.edges._brush = _pen(axis, 1.0), QtGui.QBrush(axis)
        self.active_edge._pen, self.active_edge._brush = _pen(point, 3.0), QtGui.QBrush(point)
        self.active_node._pen = _pen(point, 3.5)
        for kind, box in self.boxes.items():
            box._pen = _pen(QtGui.QColor(COLORS[KIND_COLORS[kind]]), 2.0 if kind == "output" else 1.4)
            box._fill, box._sprite_key = QtGui.QBrush(_box_fill(kind)), None
        self.edge_texts._background = QtGui.QBrush(with_alpha("background", 215))
        self.banner.setStyleSheet(_banner_style())
        self._colors = {key: QtGui.QColor(COLORS[key]) for key in ("axis_text", GRAD_COLOR)}
        self._light = with_alpha("axis_text", 120)
        if self.graph is not None:
            for i, node in enumerate(self.graph.nodes):
                self.node_texts.set_text(i, node.label, self._colors["axis_text"], repaint=False)
            self._edge_state = np.full(len(self._edge_list), -1)
            self._on_step(self.model.step, repaint_all=True)
        for layer in self.layers:
            layer.update()

    # -- a new graph -----------------------------------------------------------------------------
    def _clear_graph_state(self) -> None:
        self.graph = None
        self.xy = np.zeros((0, 2))  # node centres (data units)
        self._edge_list: list[tuple[int, int, int]] = []  # (child, parent, k)
        self._edge_routes: list[np.ndarray] = []  # each edge's points
        self._edge_lines = np.zeros((0, 4))  # x0, y0, x1, y1: each edge's last stretch
        self._segments = np.zeros((0, 4))  # all the edges' straight stretches
        self._segment_edge = np.zeros(0, dtype=int)
        self._step_edge: list[int | None] = []
        self._edge_step = np.zeros(0)  # the step (1-based) that uses each edge; inf: none
        self._labelled = np.zeros(0, dtype=bool)  # the edges that carry a label
        self._shown_values = self._shown_grads = np.zeros(0)
        self._known_v = self._known_g = np.zeros(0, dtype=bool)
        self._value_step = self._grad_step = np.zeros(0)
        self._edge_state = np.zeros(0, dtype=int)
        self._active: tuple[int | None, int | None] = (None, None)
        self._rect = None

    def _on_changed(self) -> None:
        g = self.model.graph
        if g is None:
            self._clear_graph_state()
            self._signature = None
            for layer in (self.active_edge, self.active_node):
                layer.set_path(QtGui.QPainterPath())
            for box in self.boxes.values():
                box.set_centres(np.zeros((0, 2)))
            self.edges.set_arrows([])
            self.active_node.hide()
            self.node_texts.set_entries(np.zeros((0, 2)), [], [], [])
            self.edge_texts.set_entries(np.zeros((0, 2)), [], [], [])
            error = self.model.error
            self._set_banner(error or "Type an expression to see its computational graph.")
            return
        signature = tuple((n.op, n.inputs, n.label) for n in g.nodes)
        same = signature == self._signature and self.graph is not None
        self.graph = g
        if not same:
            self._signature = signature
            self._build(g)
        # values (and the local derivatives on the edges) are new: write everything afresh
        self._edge_state = np.full(len(self._edge_list), -1)
        self._active = (-1, -1)
        self._on_step(self.model.step, repaint_all=True)
        if not same:
            self.fit()

    def _build(self, g) -> None:
        n = len(g.nodes)
        layout = g.layout()
        pos = np.column_stack([layout[:, 0] * COLUMN, -layout[:, 1] * ROW])  # first rows on top
        self.xy = pos
        out = n - 1
        kinds = np.array(["output" if i == out else "input" if node.op == "input"
                          else "const" if node.op == "const" else "op"
                          for i, node in enumerate(g.nodes)])
        for kind, boxes in self.boxes.items():
            boxes.set_centres(pos[kinds == kind])

        # edges: from the right of the child to the left of the operation, spread over its
        # left side (x·x: two arrows)
        by_x: dict[float, list[float]] = {}
        for x, y in pos.tolist():
            by_x.setdefault(x, []).append(y)
        columns = [(x, sorted(ys)) for x, ys in sorted(by_x.items())]
        xy = pos.tolist()
        edges, routes = [], []
        for node in g.nodes:
            m = len(node.inputs)
            x1, yc = xy[node.index][0] - BOX_W / 2, xy[node.index][1]
            starts = [(xy[child][0] + BOX_W / 2, xy[child][1]) for child in node.inputs]
            if node.op in ORDERED:  # a / b, a^b: the first operand arrives on top
                slots = list(range(m))
            else:  # the arrows arrive in the order they come from: they do not cross
                approach = [_route(x0, y0, x1, yc, columns)[-2][1] for x0, y0 in starts]
                order = sorted(range(m), key=lambda k: (-approach[k], k))
                slots = [order.index(k) for k in range(m)]
            for k, child in enumerate(node.inputs):
                y1 = yc + BOX_H / 2 - BOX_H * (slots[k] + 0.5) / m
                edges.append((child, node.index, k))
                routes.append(_route(*starts[k], x1, y1, columns))
        self.edges.set_arrows(routes)
        self._edge_list = edges
        self._edge_routes = routes
        # each edge's last straight stretch (into its operation), and all its segments
        self._edge_lines = np.array([(*r[-2], *r[-1]) for r in routes],
                                    dtype=float).reshape(-1, 4)
        self._segments = np.array([(*r[j], *r[j + 1]) for r in routes
                                   for j in range(len(r) - 1)], dtype=float).reshape(-1, 4)
        self._segment_edge = np.array([e for e, r in enumerate(routes)
                                       for _ in range(len(r) - 1)], dtype=int)
        index = {(parent, k): e for e, (_, parent, k) in enumerate(edges)}

        # which edge each backward step multiplies along (the core's order: operations from the
        # output back, their inputs in order, constants skipped)
        order = [(node.index, k) for node in reversed(g.nodes)
                 for k, child in enumerate(node.inputs) if g.nodes[child].op != "const"]
        self._step_edge = []
        self._edge_step = np.full(len(edges), np.inf)
        # the step after which each node's value, and its gradient, is known (0: from the start)
        self._value_step = np.array([0.0 if node.is_leaf else np.inf for node in g.nodes])
        self._grad_step = np.full(n, np.inf)
        backward = iter(order)
        for s, step in enumerate(g.steps, start=1):
            e = None
            if step.phase == "forward":
                self._value_step[step.node] = min(self._value_step[step.node], s)
            else:
                self._grad_step[out] = min(self._grad_step[out], s)
                child = step.edge[0]
                self._grad_step[child] = min(self._grad_step[child], s)
                e = index.get(next(backward, None))
                if e is None or (edges[e][0], edges[e][1]) != tuple(step.edge):
                    e = next((j for j, (c, p_, _) in enumerate(edges)
                              if (c, p_) == tuple(step.edge)), None)
                if e is not None:
                    self._edge_step[e] = min(self._edge_step[e], s)
            self._step_edge.append(e)
        self._grad_step[out] = min(self._grad_step[out], len(g.steps))  # no backward steps

        # texts: each node's symbol, value and gradient; each edge's local derivative in the
        # gap before its operation's column, on its line
        line = self._line
        anchors = np.concatenate([pos, pos, pos])
        dy_full = np.concatenate([np.full(n, -line), np.zeros(n), np.full(n, line)])
        dy_compact = np.concatenate([np.zeros(n), np.full(n, np.nan), np.full(n, np.nan)])
        fonts = [self._label_font] * n + [self._value_font] * (2 * n)
        self.node_texts.set_entries(anchors, dy_full, dy_compact, fonts)
        for i, node in enumerate(g.nodes):
            self.node_texts.set_text(i, node.label, self._colors["axis_text"], repaint=False)
        self._labelled = np.array([g.nodes[c].op != "const" for c, _, _ in edges], dtype=bool)
        # just before the arrowhead, where the arrows into one operation are apart
        xl = self._edge_lines[:, 2] - LABEL_BEFORE
        x0, y0, x1, y1 = self._edge_lines.T
        with np.errstate(all="ignore"):
            t = np.where(x1 > x0, (xl - x0) / (x1 - x0), 0.5)
        yl = y0 + t * (y1 - y0)
        self.edge_texts.set_entries(np.column_stack([xl, yl]), np.zeros(len(edges)),
                                    np.full(len(edges), np.nan), np.zeros(len(edges), int))
        lo, hi = pos.min(axis=0), pos.max(axis=0)
        self._rect = QtCore.QRectF(lo[0] - BOX_W / 2, lo[1] - BOX_H / 2,
                                   hi[0] - lo[0] + BOX_W, hi[1] - lo[1] + BOX_H)
        self._on_transform()

    # -- a step ----------------------------------------------------------------------------------
    def _on_step(self, _step: int = 0, repaint_all: bool = False) -> None:
        """Retext and repaint only what the step changes: values, gradients, edge labels, the
        outlines of the active node and edge, the banner."""
        g = self.graph
        m = self.model
        if g is None or m.graph is not g:
            return
        n = len(g.nodes)
        values, grads = m.node_values(), m.node_grads()
        # known: computed by a step already taken (a computed value may be NaN: "nan", where
        # one not computed yet is "·")
        k = m.step
        known_v = (self._value_step <= k) | np.isfinite(values)
        known_g = (self._grad_step <= k) | np.isfinite(grads)
        values = np.where(known_v, values, np.nan)
        grads = np.where(known_g, grads, np.nan)
        texts = self.node_texts
        repaint = not repaint_all
        dark, grad_color = self._colors["axis_text"], self._colors[GRAD_COLOR]
        everything = np.arange(n) if repaint_all or len(self._shown_values) != n else None
        changed_v = everything if everything is not None else np.flatnonzero(
            ~_same(values, self._shown_values) | (known_v != self._known_v))
        changed_g = everything if everything is not None else np.flatnonzero(
            ~_same(grads, self._shown_grads) | (known_g != self._known_g))
        for i in changed_v:
            node = g.nodes[i]
            text = ("" if node.op == "const" else short(values[i]) if known_v[i] else "·")
            texts.set_text(n + i, text, dark, repaint)
        for i in changed_g:
            text = f"∇ {short(grads[i])}" if known_g[i] else ""
            texts.set_text(2 * n + i, text, grad_color, repaint)
        self._shown_values, self._shown_grads = values, grads
        self._known_v, self._known_g = known_v, known_g

        # edges: 0 unknown, 1 local derivative known (forward), 2 multiplied by (backward)
        if len(self._edge_list):
            parents = np.array([p for _, p, _ in self._edge_list])
            state = np.where(known_v[parents], 1, 0)
            state = np.where(self._edge_step <= k, 2, state)
            state = np.where(self._labelled, state, 0)
            for e in np.flatnonzero(state != self._edge_state):
                child, parent, j = self._edge_list[e]
                if state[e] == 0:
                    self.edge_texts.set_text(e, "", self._light, repaint)
                    continue
                local = g.nodes[parent].local
                text = short(local[j]) if j < len(local) else "?"
                color = grad_color if state[e] == 2 else self._light
                self.edge_texts.set_text(e, text, color, repaint)
            self._edge_state = state
        if repaint_all:
            texts.update()
            self.edge_texts.update()

        step = m.current()
        node = step.node if step is not None else None
        edge = (self._step_edge[m.step - 1] if step is not None and step.phase == "backward"
                and m.step - 1 < len(self._step_edge) else None)
        if (node, edge) != self._active:
            self._active = (node, edge)
            if node is None:
                self.active_node.hide()
            else:
                if self.active_node.path().isEmpty():
                    path = QtGui.QPainterPath()
                    _rounded_rect(path, 0.0, 0.0, BOX_W + 0.08, BOX_H + 0.08, RADIUS + 0.04)
                    self.active_node.set_path(path)
                self.active_node.setPos(float(self.xy[node, 0]), float(self.xy[node, 1]))
                self.active_node.show()
            path, head = QtGui.QPainterPath(), QtGui.QPainterPath()
            if edge is not None:
                _arrow(path, head, self._edge_routes[edge])
            self.active_edge.set_path(path, head)
        self._set_banner(self._banner_for(step))

    def _banner_for(self, step) -> str:
        m = self.model
        if step is None:
            names = [f"{name} = {short(m.values.get(name, math.nan))}"
                     for name in sorted(self.graph.inputs)]
            return ("Inputs: " + ", ".join(names) + ". Step forward to compute each node."
                    if names else "Step forward to compute each node.")
        return f"{step.phase} {m.step}/{m.step_count}:  {step.text}"

    def _set_banner(self, text: str) -> None:
        if text != self.banner.text():
            self.banner.setText(text)
            self._place_banner()
        self.banner.setVisible(bool(text))

    def _place_banner(self) -> None:
        width = max(self.width() - 16, 40)
        self.banner.setGeometry(8, 8, width, max(self.banner.heightForWidth(width), 1))
        self.banner.raise_()

    # -- the view --------------------------------------------------------------------------------
    def fit(self) -> None:
        """All of the graph in view, below the banner; a small graph no larger than MAX_SCALE."""
        if self._rect is None:
            return
        r = self._rect.adjusted(-0.3, -0.3, 0.3, 0.3)
        vb = self._vb
        w, h = vb.width(), vb.height()
        top = self.banner.height() + 12 if not self.banner.isHidden() else 0
        if w > 1 and h > top + 20:
            scale = max(r.width() / w, r.height() / (h - top), 1.0 / MAX_SCALE)
            cx, cy = r.center().x(), r.center().y()
            x_range = (cx - scale * w / 2, cx + scale * w / 2)
            y_range = (cy - scale * (h - top) / 2, cy + scale * (h - top) / 2 + scale * top)
        else:
            x_range, y_range = (r.left(), r.right()), (r.top(), r.bottom())
        self._fitting = True
        try:
            vb.setRange(xRange=x_range, yRange=y_range, padding=0)
        finally:
            self._fitting = False
        self._user_range = False

    def _on_manual_range(self, *_args) -> None:
        if not self._fitting:
            self._user_range = True

    def _on_resized(self, *_args) -> None:
        self._place_banner()
        if not self._user_range:
            self.fit()

    def resizeEvent(self, ev):  # noqa: N802 - Qt override
        super().resizeEvent(ev)
        if "banner" in self.__dict__:  # pyqtgraph resizes while it builds the widget
            self._place_banner()

    def _on_transform(self, *_args) -> None:
        px = self._vb.viewPixelSize()[0]
        if px > 0 and math.isfinite(px):
            for item in self.layers:
                item.set_units_per_pixel(px)
            if self._scale and abs(px - self._scale) > 1e-6 * px:  # a zoom, not a pan
                self._cache_edges(False)
                self._cache_timer.start()
            self._scale = px

    def _cache_edges(self, cached: bool) -> None:
        """The arrows and boxes painted through pixmaps (still) or directly (zooming)."""
        mode = self.edges.CacheMode.DeviceCoordinateCache if cached else self.edges.CacheMode.NoCache
        for item in (self.edges, *self.boxes.values()):
            if item.cacheMode() != mode:
                item.setCacheMode(mode)

    def _view_point(self, scene_pos) -> tuple[float, float]:
        p = self._vb.mapSceneToView(QtCore.QPointF(scene_pos))
        return p.x(), p.y()

    def node_at(self, scene_pos) -> int | None:
        """The node whose box is under ``scene_pos``."""
        if self.graph is None or not len(self.xy):
            return None
        x, y = self._view_point(scene_pos)
        inside = np.flatnonzero((np.abs(self.xy[:, 0] - x) <= BOX_W / 2)
                                & (np.abs(self.xy[:, 1] - y) <= BOX_H / 2))
        return int(inside[0]) if inside.size else None

    def edge_at(self, scene_pos) -> int | None:
        """The edge (index into graph.edges) within a few pixels of ``scene_pos``."""
        if self.graph is None or not len(self._segments):
            return None
        x, y = self._view_point(scene_pos)
        x0, y0, x1, y1 = self._segments.T
        dx, dy = x1 - x0, y1 - y0
        with np.errstate(all="ignore"):
            t = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        d = np.hypot(x0 + t * dx - x, y0 + t * dy - y)
        j = int(np.argmin(d))
        px = self._vb.viewPixelSize()[0]
        return int(self._segment_edge[j]) if d[j] <= HIT_EDGE_PX * px else None

    def _on_click(self, ev) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        if ev.double():  # a double click on the background: all of the graph in view again
            if self.node_at(ev.scenePos()) is None:
                self.fit()
            return
        i = self.node_at(ev.scenePos())
        if i is not None:
            self.node_clicked.emit(i)

    def _on_hover(self, scene_pos) -> None:
        tip = self._tooltip(scene_pos)
        if tip:
            global_pos = self.mapToGlobal(self.mapFromScene(QtCore.QPointF(scene_pos)))
            QtWidgets.QToolTip.showText(global_pos, tip, self)
        else:
            QtWidgets.QToolTip.hideText()

    def _tooltip(self, scene_pos) -> str:
        g = self.graph
        if g is None:
            return ""
        i = self.node_at(scene_pos)
        if i is not None:
            node = g.nodes[i]
            name = name_of(node)
            lines = [node.text if name == node.text else f"{name} = {node.text}"]
            if self._known_v[i]:
                lines.append(f"value {short(self._shown_values[i])}")
            if self._known_g[i]:
                lines.append(f"∂L/∂{name} = {short(self._shown_grads[i])}")
            return "\n".join(lines)
        e = self.edge_at(scene_pos)
        if e is not None:
            child, parent, k = self._edge_list[e]
            cn, pn = name_of(g.nodes[child]), name_of(g.nodes[parent])
            tip = f"{g.nodes[child].text} → {g.nodes[parent].text}"
            if self._edge_state[e] > 0:
                tip += f"\n∂{pn}/∂{cn} = {short(g.nodes[parent].local[k])}"
            return tip
        return ""

    # -- what is drawn (for tests) ---------------------------------------------------------------
    def node_item_count(self) -> int:
        return len(self.xy) if self.graph is not None else 0

    def node_text(self, i: int) -> str:
        """What is written on node ``i``: its symbol, its value and its gradient, one a line
        (lines not written yet left out)."""
        n = len(self.xy)
        lines = [self.node_texts.text(i), self.node_texts.text(n + i),
                 self.node_texts.text(2 * n + i)]
        return "\n".join(line for line in lines if line)

    def edge_text(self, e: int) -> str:
        """The label on edge ``e`` (in ``graph.edges`` order): its local derivative or ""."""
        return self.edge_texts.text(e)

    def highlighted_node(self) -> int | None:
        return self._active[0] if self.active_node.isVisible() else None

    def highlighted_edge(self) -> tuple[int, int] | None:
        edge = self._active[1]
        if edge is None or edge == -1:
            return None
        child, parent, _ = self._edge_list[edge]
        return (child, parent)

    def text_detail(self) -> str | None:
        """How much is written at the current zoom: "full" (symbol, value, gradient and the
        edges' local derivatives), "compact" (the symbols) or None (boxes and arrows only)."""
        px = self._vb.viewPixelSize()[0]
        return self.node_texts.mode(1.0 / px) if px > 0 else None

    def banner_text(self) -> str:
        return self.banner.text()

    def node_scene_pos(self, i: int) -> QtCore.QPointF:
        return self._vb.mapViewToScene(QtCore.QPointF(float(self.xy[i, 0]),
                                                      float(self.xy[i, 1])))


def _pen(color: QtGui.QColor, width: float) -> QtGui.QPen:
    p = QtGui.QPen(color)
    p.setWidthF(width)
    p.setCosmetic(True)
    p.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
    return p


def _font(pixel_size: int) -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPixelSize(pixel_size)
    return font


def _box_fill(kind: str) -> QtGui.QColor:
    alpha = {"input": 45, "const": 30, "op": 35, "output": 55}[kind]
    fill = with_alpha(KIND_COLORS[kind], alpha)
    # opaque (the tint over the background): an arrow passing behind a box must not show through
    back = QtGui.QColor(COLORS["background"])
    return QtGui.QColor.fromRgbF(*(
        (1.0 - fill.alphaF()) * b + fill.alphaF() * c
        for c, b in ((fill.redF(), back.redF()), (fill.greenF(), back.greenF()),
                     (fill.blueF(), back.blueF()))), 1.0)


def _banner_style() -> str:
    back = with_alpha("background", 235)
    return (f"QLabel#graphBanner {{ background: rgba({back.red()}, {back.green()}, {back.blue()}, "
            f"{back.alpha()}); color: {COLORS['axis_text']}; border: 1px solid {COLORS['grid']}; "
            f"border-radius: 4px; padding: 4px 8px; }}")
