"""JacobianView: a map F(x, y) = (u, v) drawn as a grid and its image, side by side; a small
circle around a draggable point p, its image under F, and the ellipse the Jacobian predicts,
F(p) + J(p)(c − p): for a small circle the two coincide (the linear approximation made
visible)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..bindings import signals_blocked
from ..jacobian_model import JacobianModel
from ..theme import COLORS, pen, style_plot, with_alpha
from .curve_view import Curve, CurvePoint

GRID_LINES = 13  # a side, over [-GRID_SPAN, GRID_SPAN]
GRID_SPAN = 2.0
GRID_SAMPLES = 241  # along each line: its image bends smoothly


def _grid_lines() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The grid's horizontal and vertical lines, each as (xs, ys) with NaN between lines."""
    levels = np.linspace(-GRID_SPAN, GRID_SPAN, GRID_LINES)
    t = np.append(np.linspace(-GRID_SPAN, GRID_SPAN, GRID_SAMPLES), np.nan)
    along = np.tile(t, GRID_LINES)
    across = np.repeat(levels, GRID_SAMPLES + 1)
    across[np.isnan(along)] = np.nan
    return (along, across), (across.copy(), along.copy())


def _plot(title: str, xlabel: str, ylabel: str) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    plot = widget.getPlotItem()
    style_plot(plot, left=ylabel, bottom=xlabel, si_prefix=False)
    plot.setTitle(title, color=COLORS["axis_text"], size="10pt")
    plot.vb.setAspectLocked(True)
    widget.setMinimumSize(220, 200)
    return widget


def _grid_pen(key: str):
    p = pg.mkPen(with_alpha(key, 150), width=1.2)
    p.setCosmetic(True)
    return p


class JacobianView(QtWidgets.QWidget):
    """The domain (x, y) on the left with its grid, p and the circle; the image (u, v) on the
    right with the grid's image, F(p), the circle's image (solid) and J's ellipse (dashed)."""

    def __init__(self, model: JacobianModel, parent=None):
        super().__init__(parent)
        self.setObjectName("JacobianView")
        self.model = model
        self.domain = _plot("domain (x, y)", "x", "y")
        self.image = _plot("image (u, v) = F(x, y)", "u", "v")
        self.domain.setObjectName("jacobianDomainPlot")
        self.image.setObjectName("jacobianImagePlot")
        self.zoom_box = QtWidgets.QCheckBox("zoom on the circle and its image")
        self.zoom_box.setObjectName("jacobianZoom")
        self.zoom_box.setToolTip("Both plots follow p and F(p) at the circle's scale: a small "
                                 "circle's image and J's ellipse then fill the view")
        plots = QtWidgets.QHBoxLayout()
        plots.setSpacing(4)
        plots.addWidget(self.domain, 1)
        plots.addWidget(self.image, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.zoom_box)
        layout.addLayout(plots, 1)

        dplot, iplot = self.domain.getPlotItem(), self.image.getPlotItem()
        self.legend = iplot.addLegend(offset=(8, 8), labelTextColor=COLORS["axis_text"],
                                      brush=pg.mkBrush(with_alpha("background", 220)),
                                      pen=pg.mkPen(COLORS["grid"]))
        (hx, hy), (vx, vy) = _grid_lines()
        self._grid = ((hx, hy), (vx, vy))
        # horizontal lines (y = const) blue, vertical (x = const) pink, on both sides; only the
        # circle's image and J's ellipse are named in the legend
        self.grid_h = Curve(pen=_grid_pen("f"), name=None)
        self.grid_v = Curve(pen=_grid_pen("secant"), name=None)
        self.grid_h.setData(hx, hy)
        self.grid_v.setData(vx, vy)
        self.image_h = Curve(pen=_grid_pen("f"), name=None)
        self.image_v = Curve(pen=_grid_pen("secant"), name=None)
        self.circle_item = Curve(pen=pen("tangent", 2.2), name=None)
        self.image_circle = Curve(pen=pen("tangent", 2.6), name="image of the circle")
        self.ellipse = Curve(pen=pen("taylor", 2.2, QtCore.Qt.PenStyle.DashLine),
                             name="J's ellipse  F(p) + J(p)(c − p)")
        for item in (self.grid_h, self.grid_v):
            item.setZValue(-5)
            dplot.addItem(item)
        dplot.addItem(self.circle_item, ignoreBounds=True)
        for item in (self.image_h, self.image_v):
            item.setZValue(-5)
            iplot.addItem(item)
        for z, item in enumerate((self.image_circle, self.ellipse)):
            item.setZValue(5 + z)
            iplot.addItem(item, ignoreBounds=True)
        self.point = CurvePoint(tooltip="Drag the point p (and its circle) over the domain")
        dplot.addItem(self.point, ignoreBounds=True)
        self.value_marker = pg.ScatterPlotItem(size=11, pen=pg.mkPen(COLORS["point_edge"], width=2),
                                               brush=pg.mkBrush(COLORS["point"]))
        self.value_marker.setZValue(10)
        iplot.addItem(self.value_marker, ignoreBounds=True)
        self.p_label = pg.TextItem("p", color=COLORS["point"], anchor=(-0.3, 1.1))
        self.fp_label = pg.TextItem("F(p)", color=COLORS["point"], anchor=(-0.15, 1.1))
        dplot.addItem(self.p_label, ignoreBounds=True)
        iplot.addItem(self.fp_label, ignoreBounds=True)
        self.message = pg.TextItem("", color=COLORS["axis_text"], anchor=(0.5, 0.5))
        iplot.addItem(self.message, ignoreBounds=True)
        dplot.vb.setRange(xRange=(-GRID_SPAN, GRID_SPAN), yRange=(-GRID_SPAN, GRID_SPAN),
                          padding=0.06)
        dplot.vb.disableAutoRange()
        iplot.vb.disableAutoRange()

        self._map = None  # the (u, v) the grid's image was drawn for
        self._image_range = ((-1.0, 1.0), (-1.0, 1.0))  # the grid's image, shown unzoomed
        self.zoom_box.toggled.connect(self._on_zoom_toggled)
        self.point.sigPositionChanged.connect(self._on_point_dragged)
        self.point.sigPositionChangeFinished.connect(lambda _item: self.refresh())
        model.changed.connect(self.refresh)
        self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.model.ensure_parsed()
        self.refresh()

    # -- drawing ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        m = self.model
        if not m.ready:
            return
        if self._map != (m.u, m.v):
            self._map = (m.u, m.v)
            self._draw_grid_image()
        px, py = m.point
        with signals_blocked(self.point):
            self.point.setPos(px, py)
        self.p_label.setPos(px, py)
        c = m.circle()
        self.circle_item.setData(c[:, 0], c[:, 1])
        image = m.circle_image()
        self.image_circle.setData(image[:, 0], image[:, 1])
        fp = m.value()
        if np.all(np.isfinite(fp)):
            ellipse = m.predicted_ellipse()
            self.ellipse.setData(ellipse[:, 0], ellipse[:, 1])
            self.value_marker.setData([fp[0]], [fp[1]])
            self.fp_label.setPos(float(fp[0]), float(fp[1]))
            self.fp_label.show()
        else:
            self.ellipse.setData([], [])
            self.value_marker.setData([], [])
            self.fp_label.hide()
        if self.zoom_box.isChecked():
            self._zoom(c, image)

    def _zoom(self, circle: np.ndarray, image: np.ndarray) -> None:
        # the domain stays put while p is dragged (it would run from the hand); it follows
        # on release
        pairs = ((self.image, image),) if getattr(self.point, "moving", False) else (
            (self.domain, circle), (self.image, image))
        for plot, pts in pairs:
            ok = np.isfinite(pts).all(axis=1)
            if not ok.any():
                continue
            (x0, y0), (x1, y1) = pts[ok].min(axis=0), pts[ok].max(axis=0)
            half = max(x1 - x0, y1 - y0, 1e-9) * 0.9
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            plot.getPlotItem().vb.setRange(xRange=(cx - half, cx + half),
                                           yRange=(cy - half, cy + half), padding=0)

    def _on_zoom_toggled(self, on: bool) -> None:
        if on:
            self.refresh()
            return
        self.domain.getPlotItem().vb.setRange(xRange=(-GRID_SPAN, GRID_SPAN),
                                              yRange=(-GRID_SPAN, GRID_SPAN), padding=0.06)
        (u0, u1), (v0, v1) = self._image_range
        self.image.getPlotItem().vb.setRange(xRange=(u0, u1), yRange=(v0, v1), padding=0.06)

    def _draw_grid_image(self) -> None:
        (hx, hy), (vx, vy) = self._grid
        hu, hv = self.model.evaluate(hx, hy)
        vu, vv = self.model.evaluate(vx, vy)
        self.image_h.setData(hu, hv)
        self.image_v.setData(vu, vv)
        us, vs = np.concatenate([hu, vu]), np.concatenate([hv, vv])
        finite = np.isfinite(us) & np.isfinite(vs)
        if not finite.any():
            self.message.setText("F is undefined on the whole grid")
            return
        self.message.setText("")
        u0, u1 = np.percentile(us[finite], (0.5, 99.5))
        v0, v1 = np.percentile(vs[finite], (0.5, 99.5))
        if u1 - u0 < 1e-9:
            u0, u1 = u0 - 1, u1 + 1
        if v1 - v0 < 1e-9:
            v0, v1 = v0 - 1, v1 + 1
        self.message.setPos((u0 + u1) / 2, (v0 + v1) / 2)
        self._image_range = ((float(u0), float(u1)), (float(v0), float(v1)))
        if not self.zoom_box.isChecked():
            self.image.getPlotItem().vb.setRange(xRange=(u0, u1), yRange=(v0, v1), padding=0.06)

    def _on_point_dragged(self, item) -> None:
        pos = item.pos()
        self.model.set_point((pos.x(), pos.y()))

    # -- what is drawn (tests compare it with the core) ------------------------------------------
    def circle_image(self) -> np.ndarray:
        xs, ys = self.image_circle.getData()
        return np.column_stack([xs, ys])

    def predicted_ellipse(self) -> np.ndarray:
        xs, ys = self.ellipse.getData()
        return np.column_stack([xs, ys])

    def grid_image(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """((u, v) of the horizontal lines), ((u, v) of the vertical lines), NaN-separated."""
        return self.image_h.getData(), self.image_v.getData()

    def value_marker_pos(self) -> tuple[float, float]:
        xs, ys = self.value_marker.getData()
        return float(xs[0]), float(ys[0])

    def domain_pos(self, x: float, y: float) -> QtCore.QPointF:
        """The domain plot's viewport coordinates of (x, y) (for mouse events in tests)."""
        scene = self.domain.getPlotItem().vb.mapViewToScene(QtCore.QPointF(x, y))
        return QtCore.QPointF(self.domain.mapFromScene(scene))
