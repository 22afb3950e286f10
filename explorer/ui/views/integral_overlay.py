"""IntegralOverlay: the Riemann sum's boxes under f, the bounds a and b to drag, and the area
from a to x0 whose size is F(x0)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from ...core.session import Session
from ..bindings import signals_blocked
from ..integration_model import IntegrationModel
from ..theme import COLORS, on_theme_changed, pen, with_alpha
from .curve_view import CurveView

MAX_OUTLINED = 150  # beyond this many boxes their outlines would merge into a solid mass
AREA_SAMPLES = 400


def _polygon(xs: np.ndarray, ys: np.ndarray) -> QtGui.QPolygonF:
    """A QPolygonF filled from NumPy in one copy (no Python loop over points)."""
    polygon = pg.functions.create_qpolygonf(xs.size)
    view = pg.functions.ndarray_from_qpolygonf(polygon)
    view[:, 0], view[:, 1] = xs, ys
    return polygon


class BoxesItem(pg.GraphicsObject):
    """Every box of a Riemann sum as one filled polygon: the region between the boxes' tops and
    y = 0 (a step outline for rectangles, a polyline for trapezoids). 10,000 rectangles fill in
    about a millisecond; pyqtgraph's fill under a curve builds a path per segment and takes ~50.
    Up to MAX_OUTLINED boxes, each is outlined as well."""

    def __init__(self, fill, outline):
        super().__init__()
        self._brush = pg.mkBrush(fill)
        self._pen = outline
        self._fill = QtGui.QPolygonF()
        self._outline = QtGui.QPolygonF()
        self._sides = QtGui.QPolygonF()  # pairs of points: one side of a box each
        self._rect = QtCore.QRectF()
        self.edges = self.tops = np.empty(0)
        self.kind = "rectangles"

    def set_colors(self, fill, outline) -> None:
        """New fill and outline (a theme switch)."""
        self._brush, self._pen = pg.mkBrush(fill), outline
        self.update()

    def setData(self, edges: np.ndarray, left: np.ndarray, right: np.ndarray,  # noqa: N802
                trapezoid: bool) -> None:
        n = left.size
        left, right = np.nan_to_num(left), np.nan_to_num(right)
        if trapezoid:
            xs, ys = edges, np.append(left, right[-1])
            self.kind, self.tops = "trapezoids", ys
        else:
            xs, ys = np.repeat(edges, 2)[1:-1], np.repeat(left, 2)
            self.kind, self.tops = "rectangles", left
        self.edges = edges
        self._fill = _polygon(np.concatenate([[edges[0]], xs, [edges[-1]]]),
                              np.concatenate([[0.0], ys, [0.0]]))
        outlined = n <= MAX_OUTLINED
        self._outline = _polygon(xs, ys) if outlined else QtGui.QPolygonF()
        if outlined:
            zero = np.zeros(n)
            self._sides = _polygon(
                np.column_stack([edges[:-1], edges[:-1], edges[1:], edges[1:]]).ravel(),
                np.column_stack([zero, left, zero, right]).ravel())
        else:
            self._sides = QtGui.QPolygonF()
        self.prepareGeometryChange()
        self._rect = self._fill.boundingRect()
        self.update()

    @property
    def outlined(self) -> bool:
        return not self._outline.isEmpty()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt override
        # two pixels of margin for the outline's pen
        dx, dy = 2 * (self.pixelWidth() or 0.0), 2 * (self.pixelHeight() or 0.0)
        return self._rect.adjusted(-dx, -dy, dx, dy)

    def paint(self, p, opt, widget) -> None:
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(self._brush)
        p.drawPolygon(self._fill)
        if self._outline.isEmpty():
            return
        # outlines in pixels: a cosmetic pen under the data transform strokes slowly (CurveView)
        transform = p.transform()
        outline, sides = transform.map(self._outline), transform.map(self._sides)
        p.save()
        p.resetTransform()
        p.setPen(self._pen)
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.drawPolyline(outline)
        p.drawLines(sides)
        p.restore()


class IntegralOverlay(QtCore.QObject):
    """Items added to a :class:`CurveView`, built once: all boxes are one filled item (10,000
    rectangles fill as one polygon), the bounds two draggable lines."""

    def __init__(self, view: CurveView, model: IntegrationModel, session: Session):
        super().__init__(view)
        self.view, self.model, self.session = view, model, session
        plot = view.getPlotItem()
        self.boxes = BoxesItem(with_alpha("riemann", 70), pen("riemann_bound", 1.0))
        self.boxes.setZValue(-5)
        self.area = pg.PlotCurveItem(pen=None, brush=pg.mkBrush(with_alpha("accumulation", 80)),
                                     fillLevel=0)
        self.area.setZValue(-6)
        for item in (self.boxes, self.area):
            item.setAcceptHoverEvents(False)
            plot.addItem(item, ignoreBounds=True)
        self.bounds = {}
        for name in ("a", "b"):
            line = pg.InfiniteLine(angle=90, movable=True, pen=pen("riemann_bound", 2.0),
                                   hoverPen=pen("riemann_bound", 3.5), label=name,
                                   labelOpts={"position": 0.96, "color": COLORS["riemann_bound"],
                                              "fill": pg.mkBrush(with_alpha("background", 210))})
            line.setZValue(18)
            line.setToolTip(f"Drag the bound {name} of the integral")
            line.sigPositionChanged.connect(lambda item, n=name: self._on_bound_dragged(n, item))
            plot.addItem(line, ignoreBounds=True)
            view.handles.append(line)
            self.bounds[name] = line

        session.connect(("function", "parameters", "integral_bounds", "riemann_n", "riemann_rule",
                         "show_riemann", "show_accumulation"), lambda s, f: self.refresh())
        session.connect("x0", lambda s, f: s.show_accumulation and self._update_area())
        session.connect("x_range", lambda s, f: self._update_area())
        model.changed.connect(self.refresh)
        on_theme_changed(self, lambda _name: self.boxes.set_colors(
            with_alpha("riemann", 70), pen("riemann_bound", 1.0)))
        self.refresh()

    def refresh(self) -> None:
        s = self.session
        shown = s.f1 is not None and (s.show_riemann or s.show_accumulation)
        for line, value in zip(self.bounds.values(), s.integral_bounds, strict=True):
            line.setVisible(shown)
            with signals_blocked(line):
                line.setValue(value)
        # the area from a to x0 shows F(x0); only a is its bound
        self.bounds["b"].setVisible(shown and s.show_riemann)
        self._update_boxes()
        self._update_area()

    def _update_boxes(self) -> None:
        s = self.session
        boxes = self.model.boxes() if s.show_riemann else None
        self.boxes.setVisible(boxes is not None)
        if boxes is not None:
            self.boxes.setData(boxes.edges, boxes.left, boxes.right, s.riemann_rule == "trapezoid")

    def _update_area(self) -> None:
        s = self.session
        f = s.f1
        shown = f is not None and s.show_accumulation
        self.area.setVisible(shown)
        if not shown:
            return
        a, x = s.integral_bounds[0], s.x0
        xs = np.linspace(a, x, AREA_SAMPLES)
        self.area.setData(xs, np.nan_to_num(f(xs)), fillLevel=0)

    def _on_bound_dragged(self, name: str, line) -> None:
        value = float(line.value())
        if name == "a":
            self.session.set_integral_bounds(a=value)
        else:
            self.session.set_integral_bounds(b=value)

    # -- what is drawn (tests compare it with the core) ------------------------------------------
    def drawn_boxes(self) -> tuple[np.ndarray, np.ndarray]:
        """The boxes drawn: their edges, and their heights (rectangles) or the heights of
        the trapezoids' tops at the edges."""
        return self.boxes.edges, self.boxes.tops

    def drawn_area(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.area.getData()
        return np.asarray(xs), np.asarray(ys)
