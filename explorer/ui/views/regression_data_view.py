"""RegressionDataView: the regression lab's data as points the mouse adds, drags and removes,
the line y = w x + b, the residuals from each point to the line and J(w, b), the mean squared
error.

A left click on empty space adds a point; pressing on a point and dragging moves it (the view
does not pan then; a drag on empty space still pans); a right click on a point, or a click then
Delete, removes it. With 1,000 points a drag frame sets two arrays: the scatter's and the
residuals' (one item, line pairs).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..regression_model import RegressionModel
from ..theme import COLORS, pen, style_plot
from .curve_view import Curve
from .grid import Grid

POINT_SIZE = 9
HIT_RADIUS = 8.0  # pixels from a point's centre that still grab it
FIT_PADDING = 0.1


class DataPoints(pg.ScatterPlotItem):
    """The scatter of the data; presses on a point drag it and clicks select or remove it.
    Anything not on a point is ignored, so the view behind pans and zooms as usual."""

    def __init__(self, view: RegressionDataView):
        super().__init__(size=POINT_SIZE, pen=pg.mkPen(COLORS["point_edge"], width=1),
                         brush=pg.mkBrush(COLORS["f"]), pxMode=True)
        self.view = view
        self.dragged: int | None = None
        self._offset = QtCore.QPointF()

    def set_positions(self, xs, ys) -> None:
        """The points at (xs, ys). With as many points as before (a drag frame) the positions
        are written in place: ``setData`` rebuilds the record array and looks each point's
        symbol up in the atlas again (~5 ms for 1,000 points)."""
        if len(self.data) != len(xs) or len(xs) == 0:
            self.setData(x=xs, y=ys)
            return
        self.prepareGeometryChange()
        self.data["x"] = xs
        self.data["y"] = ys
        self.data["item"][...] = None  # SpotItems made before hold stale positions
        self.bounds = [None, None]
        self.informViewBoundsChanged()
        self.invalidate()
        self.sigPlotChanged.emit(self)

    def mouseDragEvent(self, ev):  # noqa: N802 - pyqtgraph's name
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            i = self.view.point_at(ev.buttonDownScenePos())
            if i is None:
                ev.ignore()
                return
            self.dragged = i
            data = self.view.model.data
            self._offset = QtCore.QPointF(data.xs[i], data.ys[i]) - ev.buttonDownPos()
            self.view.select(i)
        elif self.dragged is None:
            ev.ignore()
            return
        ev.accept()
        p = ev.pos() + self._offset
        i = self.dragged
        if ev.isFinish():
            self.dragged = None
        if i < len(self.view.model.data):  # the data may have been replaced meanwhile
            self.view.model.move_point(i, float(p.x()), float(p.y()))
        if ev.isFinish():
            self.view.fit_if_outside()

    def mouseClickEvent(self, ev):  # noqa: N802 - pyqtgraph's name
        i = self.view.point_at(ev.scenePos())
        if i is None:
            ev.ignore()
            return
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self.view.select(i)
            self.view.setFocus(QtCore.Qt.FocusReason.MouseFocusReason)
        elif ev.button() == QtCore.Qt.MouseButton.RightButton:
            ev.accept()
            self.view.remove(i)
        else:
            ev.ignore()


class RegressionDataView(pg.PlotWidget):
    """The data, the model's line, the residuals and the MSE."""

    def __init__(self, model: RegressionModel, parent=None):
        super().__init__(parent)
        self.setObjectName("RegressionDataView")
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.model = model
        self.selected: int | None = None
        plot = self.getPlotItem()
        style_plot(plot, left="y", bottom="x", si_prefix=False)
        # a grid item painted once into a pixmap: the axes' own grid repaints its lines (a
        # QPicture over the whole plot) in every frame of a drag
        self.grid = Grid(pen=pg.mkPen(COLORS["grid"], width=1))
        self.grid.setZValue(-10)
        self.grid.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.addItem(self.grid, ignoreBounds=True)
        self.line = Curve(pen=pen("tangent", 2), name="y = w x + b")
        self.line.setZValue(5)
        self.residuals = Curve(pen=pen("secant", 1.2), name="residuals")
        self.residuals.setZValue(4)
        for item in (self.line, self.residuals):
            item.setAcceptHoverEvents(False)
            plot.addItem(item, ignoreBounds=True)
        self.points = DataPoints(self)
        self.points.setZValue(10)
        plot.addItem(self.points)
        self.highlight = pg.ScatterPlotItem(size=POINT_SIZE + 8, pen=pen("tangent", 2),
                                            brush=pg.mkBrush(None), pxMode=True)
        self.highlight.setZValue(9)
        self.highlight.setAcceptHoverEvents(False)
        plot.addItem(self.highlight, ignoreBounds=True)
        self._mse_text = ""

        model.data_changed.connect(self._on_data_changed)
        model.params_changed.connect(self._update_fit)
        plot.vb.sigRangeChanged.connect(lambda *args: self._update_line())
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._redraw_points()
        self.fit_view()
        self._update_fit()

    # -- model -> items --------------------------------------------------------------------------
    def _on_data_changed(self) -> None:
        if self.selected is not None and self.selected >= len(self.model.data):
            self.selected = None
        self._redraw_points()
        self._update_fit()
        if self.points.dragged is None:
            self.fit_if_outside()

    def _redraw_points(self) -> None:
        data = self.model.data
        self.points.set_positions(data.xs, data.ys)
        self._update_highlight()

    def _update_highlight(self) -> None:
        i = self.selected
        if i is None:
            self.highlight.setData(x=[], y=[])
        else:
            data = self.model.data
            self.highlight.setData(x=[data.xs[i]], y=[data.ys[i]])

    def _update_fit(self) -> None:
        """The line, the residuals and the MSE after (w, b) or the data changed."""
        self._update_line()
        data = self.model.data
        fitted = self.model.line_at(data.xs)
        xs = np.repeat(data.xs, 2)
        ys = np.column_stack([data.ys, fitted]).ravel()
        self.residuals.setData(xs, ys, connect="pairs")
        n = len(data)
        mse = float(np.mean((data.ys - fitted) ** 2)) if n else float("nan")
        self._mse_text = f"MSE J(w, b) = {mse:.4g}   (n = {n})"
        self.getPlotItem().setTitle(self._mse_text, color=COLORS["axis_text"], size="10pt")

    def _update_line(self) -> None:
        x0, x1 = self.getPlotItem().vb.viewRange()[0]
        xs = np.array([x0, x1], dtype=float)
        ys = self.model.line_at(xs)
        if np.all(np.isfinite(ys)):
            self.line.setData(xs, ys)
        else:
            self.line.setData([], [])

    # -- view range ------------------------------------------------------------------------------
    def fit_view(self) -> None:
        """Show all the data with a margin."""
        data = self.model.data
        if len(data) == 0:
            return
        x0, x1 = float(data.xs.min()), float(data.xs.max())
        y0, y1 = float(data.ys.min()), float(data.ys.max())
        dx, dy = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        self.getPlotItem().vb.setRange(
            xRange=(x0 - FIT_PADDING * dx, x1 + FIT_PADDING * dx),
            yRange=(y0 - FIT_PADDING * dy, y1 + FIT_PADDING * dy), padding=0)

    def fit_if_outside(self) -> None:
        """Refit the view when some point lies outside it (never during a drag)."""
        data = self.model.data
        if len(data) == 0:
            return
        (x0, x1), (y0, y1) = self.getPlotItem().vb.viewRange()
        if (data.xs.min() < x0 or data.xs.max() > x1 or data.ys.min() < y0
                or data.ys.max() > y1):
            self.fit_view()

    # -- hit-testing and edits -------------------------------------------------------------------
    def point_at(self, scene_pos) -> int | None:
        """The index of the point drawn nearest ``scene_pos`` within HIT_RADIUS pixels, or
        None. Vectorised: one transform of all the points, no per-point objects."""
        data = self.model.data
        if len(data) == 0:
            return None
        t = self.points.sceneTransform()
        sx = t.m11() * data.xs + t.m21() * data.ys + t.m31()
        sy = t.m12() * data.xs + t.m22() * data.ys + t.m32()
        d2 = (sx - scene_pos.x()) ** 2 + (sy - scene_pos.y()) ** 2
        i = int(np.argmin(d2))
        return i if d2[i] <= HIT_RADIUS ** 2 else None

    def select(self, i: int | None) -> None:
        self.selected = i
        self._update_highlight()

    def remove(self, i: int) -> None:
        self.selected = None
        self.model.remove_point(i)
        self._update_highlight()

    def _on_mouse_clicked(self, ev) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton or ev.double() or ev.isAccepted():
            return
        vb = self.getPlotItem().vb
        pos = ev.scenePos()
        if not vb.sceneBoundingRect().contains(pos) or self.point_at(pos) is not None:
            return
        p = vb.mapSceneToView(pos)
        self.selected = None
        self.model.add_point(float(p.x()), float(p.y()))
        self._update_highlight()

    def keyPressEvent(self, ev):  # noqa: N802 - Qt override
        if (ev.key() in (QtCore.Qt.Key.Key_Delete, QtCore.Qt.Key.Key_Backspace)
                and self.selected is not None):
            self.remove(self.selected)
            ev.accept()
            return
        if ev.key() == QtCore.Qt.Key.Key_Escape and self.selected is not None:
            self.select(None)
            ev.accept()
            return
        super().keyPressEvent(ev)

    # -- for tests -------------------------------------------------------------------------------
    def point_scene_pos(self, i: int) -> QtCore.QPointF:
        data = self.model.data
        return self.getPlotItem().vb.mapViewToScene(
            QtCore.QPointF(float(data.xs[i]), float(data.ys[i])))

    def line_data(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.line.getData()
        return (np.array([]), np.array([])) if xs is None else (np.asarray(xs), np.asarray(ys))

    def residual_data(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.residuals.getData()
        return (np.array([]), np.array([])) if xs is None else (np.asarray(xs), np.asarray(ys))

    def mse_text(self) -> str:
        return self._mse_text


__all__ = ["RegressionDataView", "DataPoints"]
