"""The regression lab's loss views: J(w, b) as a colour map with contours, the least-squares
optimum, the current (w, b) (draggable), −∇J there and the descent's path (:class:`LossView`);
and the loss per epoch of the descent with a movable cursor (:class:`DescentLossPlot`)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ..bindings import signals_blocked
from ..regression_model import GRID
from ..theme import COLORS, pen, style_plot
from .curve_view import CurvePoint
from .landscape_view import _pairs_item, arrows

ARROW = 0.12  # the gradient arrow's length, as a fraction of the view
LEVELS = 15


def _inside(ranges, ws, bs) -> bool:
    """Whether all the finite (w, b) lie in ``ranges``."""
    (w0, w1), (b0, b1) = ranges
    ws, bs = np.asarray(ws, dtype=float), np.asarray(bs, dtype=float)
    keep = np.isfinite(ws) & np.isfinite(bs)
    ws, bs = ws[keep], bs[keep]
    return bool(np.all((ws >= w0) & (ws <= w1) & (bs >= b0) & (bs <= b1)))


def quadratic_levels(stats, w_range, b_range, count: int = LEVELS):
    """Levels spaced evenly in log(J − J*) from near the optimum up to J's largest value in
    view, which a convex J takes at a corner: no percentiles over the grid, so a dragged data
    point re-levels in microseconds. None when the data have no single optimum."""
    found = stats.optimum()
    if found is None:
        return None
    floor = found[2]
    corners = [float(stats.loss(a, b)) for a in w_range for b in b_range]
    span = max(corners) - floor
    if not span > 0:
        return None
    return floor + np.geomspace(span * 1e-3, span * 0.9, count)


class LossView(pg.PlotWidget):
    """J(w, b) of the regression model around its optimum. The view is re-ranged only when
    the data move the optimum out of it or a descent's path leaves it, never during a drag of
    (w, b); a pan or zoom of the user's recomputes the grid over what is shown."""

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.setObjectName("RegressionLossView")
        self.model = model
        plot = self.getPlotItem()
        style_plot(plot, left="b", bottom="w")
        vb = plot.vb
        vb.disableAutoRange()
        self.colormap = pg.colormap.get("viridis")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(self.colormap)
        self.image.setZValue(-20)
        plot.addItem(self.image, ignoreBounds=True)
        self.contours = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 150, width=1),
                                         connect="finite")
        self.contours.setZValue(-10)
        self.contours.setAcceptHoverEvents(False)
        plot.addItem(self.contours, ignoreBounds=True)
        self.optimum_item = pg.ScatterPlotItem(size=16, symbol="star",
                                               pen=pg.mkPen("#ffffff", width=1.5),
                                               brush=pg.mkBrush(COLORS["minimum"]))
        self.optimum_item.setZValue(5)
        plot.addItem(self.optimum_item, ignoreBounds=True)
        self.path = pg.PlotDataItem(pen=pen("taylor", 1.6), symbol="o", symbolSize=4,
                                    symbolPen=None, symbolBrush=pg.mkBrush(COLORS["taylor"]),
                                    connect="finite")
        self.path.setZValue(8)
        plot.addItem(self.path, ignoreBounds=True)
        self.path_cursor = pg.ScatterPlotItem(size=11, symbol="o",
                                              pen=pg.mkPen("#ffffff", width=1.5),
                                              brush=pg.mkBrush(COLORS["taylor_hover"]))
        self.path_cursor.setZValue(9)
        plot.addItem(self.path_cursor, ignoreBounds=True)
        self.gradient = _pairs_item("tangent", 2.6)
        self.gradient.setZValue(10)
        plot.addItem(self.gradient, ignoreBounds=True)
        self.point = CurvePoint(tooltip="Drag to move the line's (w, b)")
        plot.addItem(self.point, ignoreBounds=True)
        # only the point, its arrow and the path change during a drag: the rest is cached
        for item in (self.image, self.contours, self.optimum_item, plot.getAxis("left"),
                     plot.getAxis("bottom")):
            item.setCacheMode(item.CacheMode.DeviceCoordinateCache)

        self.levels = np.empty(0)
        self._ranges = model.ranges()
        self._setting_range = False
        self._regrid = QtCore.QTimer(self, singleShot=True, interval=30)
        self._regrid.timeout.connect(self._draw_grid)
        self.point.sigPositionChanged.connect(self._on_point_dragged)
        vb.sigRangeChangedManually.connect(self._on_manual_range)
        vb.sigResized.connect(lambda *_: self._refresh_point())
        model.data_changed.connect(self._on_data_changed)
        model.params_changed.connect(self._refresh_point)
        model.descent_changed.connect(self._on_descent_changed)
        model.cursor_changed.connect(self._draw_cursor)
        self._set_range(self._ranges)
        self._draw_grid()
        self._draw_path()

    # -- ranges ----------------------------------------------------------------------------------
    def _set_range(self, ranges) -> None:
        self._ranges = (tuple(ranges[0]), tuple(ranges[1]))
        self._setting_range = True
        try:
            self.getPlotItem().vb.setRange(xRange=self._ranges[0], yRange=self._ranges[1],
                                           padding=0)
        finally:
            self._setting_range = False

    def _on_manual_range(self, *_args) -> None:
        if self._setting_range:
            return
        (w0, w1), (b0, b1) = self.getPlotItem().vb.viewRange()
        self._ranges = ((w0, w1), (b0, b1))
        self._regrid.start()

    def _on_data_changed(self) -> None:
        best = self.model.optimum()
        if best is not None and not _inside(self._ranges, [best[0]], [best[1]]):
            self._set_range(self.model.ranges())
        self._draw_grid()
        self._draw_path()

    def _on_descent_changed(self) -> None:
        d = self.model.descent
        if d is not None and not _inside(self._ranges, d.params[:, 0], d.params[:, 1]):
            self._set_range(self.model.ranges())
            self._draw_grid()
        self._draw_path()

    # -- J's landscape ---------------------------------------------------------------------------
    def _draw_grid(self) -> None:
        from ...core.multivariate import contour_levels, contour_lines

        m = self.model
        best = m.optimum()
        self.optimum_item.setData([] if best is None else [{"pos": best}])
        if len(m.data) == 0:
            self.image.clear()
            self.contours.setData([], [])
            self.levels = np.empty(0)
            self._refresh_point()
            return
        (w0, w1), (b0, b1) = self._ranges
        g = m.loss_grid((w0, w1), (b0, b1), GRID)
        z = g.z
        finite = np.isfinite(z)
        if not finite.any():
            self.image.clear()
            self.contours.setData([], [])
            self.levels = np.empty(0)
            self._refresh_point()
            return
        low = float(np.min(z[finite]))
        with np.errstate(all="ignore"):
            shown = np.log10(np.maximum(z - low, 0.0) + 1e-12 * max(abs(low), 1.0))
        lo, hi = float(np.nanmin(shown)), float(np.nanmax(shown))
        if not hi > lo:
            hi = lo + 1.0
        self.image.setImage(shown, levels=(lo, hi), autoLevels=False)
        self.image.setRect(QtCore.QRectF(w0, b0, w1 - w0, b1 - b0))
        self.levels = quadratic_levels(m.stats, (w0, w1), (b0, b1))
        if self.levels is None:  # no single optimum: levels from the samples
            self.levels = contour_levels(z[::3, ::3], LEVELS, log=True)
        # J is quadratic: its level sets are ellipses, drawn exactly (contourpy only for data
        # without a single optimum, where they degenerate to lines)
        lines = m.stats.level_curves(self.levels) or contour_lines(g, self.levels)
        xs = [np.append(line[1], np.nan) for line in lines if len(line[1])]
        ys = [np.append(line[2], np.nan) for line in lines if len(line[2])]
        self.contours.setData(np.concatenate(xs) if xs else np.empty(0),
                              np.concatenate(ys) if ys else np.empty(0))
        self._refresh_point()

    # -- the point, its gradient, the path -------------------------------------------------------
    def _refresh_point(self) -> None:
        m = self.model
        with signals_blocked(self.point):
            self.point.setPos(m.w, m.b)
        grad = np.asarray(m.gradient(), dtype=float)
        (w0, w1), (b0, b1) = self.getPlotItem().vb.viewRange()
        norm = float(np.hypot(*grad))
        if not (np.isfinite(norm) and norm > 0 and w1 > w0 and b1 > b0):
            self.gradient.setData([], [])
            return
        d = -grad / norm
        # the direction is −∇J in (w, b); its length is ARROW of the view on screen
        length = ARROW / math.hypot(d[0] / (w1 - w0), d[1] / (b1 - b0))
        self.gradient.setData(*arrows(m.w, m.b, d[0] * length, d[1] * length))

    def _on_point_dragged(self, item) -> None:
        pos = item.pos()
        self.model.set_params(float(pos.x()), float(pos.y()))

    def _draw_path(self) -> None:
        d = self.model.descent
        if d is None:
            self.path.setData([], [])
            self.path_cursor.setData([])
            return
        self.path.setData(d.params[:, 0], d.params[:, 1])
        self._draw_cursor(self.model.cursor)

    def _draw_cursor(self, k: int) -> None:
        d = self.model.descent
        if d is None or not 0 <= k < len(d.params):
            self.path_cursor.setData([])
            return
        w, b = d.params[k]
        self.path_cursor.setData([float(w)], [float(b)])

    # -- what is drawn (tests compare it with the model) -----------------------------------------
    def point_scene_pos(self) -> QtCore.QPointF:
        return self.getPlotItem().vb.mapViewToScene(self.point.pos())

    def scene_pos(self, w: float, b: float) -> QtCore.QPointF:
        return self.getPlotItem().vb.mapViewToScene(QtCore.QPointF(w, b))

    def optimum_pos(self) -> tuple[float, float] | None:
        xs, ys = self.optimum_item.getData()
        if len(xs) == 0:
            return None
        return float(xs[0]), float(ys[0])

    def gradient_tip(self) -> tuple[float, float]:
        xs, ys = self.gradient.getData()
        return float(xs[1]), float(ys[1])

    def path_data(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.path.getData()
        return (np.empty(0), np.empty(0)) if xs is None else (np.asarray(xs), np.asarray(ys))

    def contour_data(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.contours.getData()
        return (np.empty(0), np.empty(0)) if xs is None else (np.asarray(xs), np.asarray(ys))


class DescentLossPlot(pg.PlotWidget):
    """J (log scale) after each update of the model's descent against its epoch; the shown
    update as a vertical line that can be dragged along the descent."""

    def __init__(self, model, parent=None):
        super().__init__(parent)
        self.setObjectName("RegressionEpochPlot")
        self.model = model
        plot = self.getPlotItem()
        style_plot(plot, left="J(w, b)", bottom="epoch")
        plot.setLogMode(x=False, y=True)
        plot.showGrid(x=True, y=True, alpha=0.25)
        self.curve = pg.PlotDataItem(pen=pen("taylor", 2.0))
        plot.addItem(self.curve)
        self.cursor = pg.InfiniteLine(pos=0, angle=90, movable=True, pen=pen("tangent", 2.0),
                                      hoverPen=pen("point_hover", 3.0))
        self.cursor.setZValue(10)
        self.cursor.hide()
        plot.addItem(self.cursor, ignoreBounds=True)
        self.cursor.sigPositionChanged.connect(self._on_cursor_dragged)
        self.cursor.sigPositionChangeFinished.connect(lambda *_: self._on_cursor_changed(
            self.model.cursor))
        model.descent_changed.connect(self._draw)
        model.cursor_changed.connect(self._on_cursor_changed)
        self._draw()

    def _draw(self) -> None:
        d = self.model.descent
        if d is None:
            self.curve.setData([], [])
            self.cursor.hide()
            return
        self.curve.setData(np.asarray(d.epochs, dtype=float), np.asarray(d.losses, dtype=float))
        self.getPlotItem().enableAutoRange()
        self.cursor.show()
        self._on_cursor_changed(self.model.cursor)

    def _on_cursor_changed(self, k: int) -> None:
        d = self.model.descent
        if d is None or self.cursor.moving or not 0 <= k < len(d.epochs):
            return
        with signals_blocked(self.cursor):
            self.cursor.setValue(float(d.epochs[k]))

    def _on_cursor_dragged(self, line) -> None:
        d = self.model.descent
        if d is None:
            return
        k = int(np.argmin(np.abs(np.asarray(d.epochs, dtype=float) - float(line.value()))))
        if k != self.model.cursor:
            self.model.set_cursor(k)

    # -- what is drawn ---------------------------------------------------------------------------
    def curve_data(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.curve.getOriginalDataset()
        return (np.empty(0), np.empty(0)) if xs is None else (np.asarray(xs), np.asarray(ys))

    def cursor_x(self) -> float:
        return float(self.cursor.value())
