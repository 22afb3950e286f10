"""LandscapeView: f(x, y) as a colour map with contours, its gradient field and critical points,
and a point dragged over it with its gradient, a direction u, the contour through it and its
tangent, the Hessian's eigen-directions and the local quadratic model."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.session import Session
from ..bindings import signals_blocked
from ..landscape_model import LandscapeModel
from ..theme import COLORS, mark_brush, mark_pen, pen, style_plot
from .curve_view import Curve, CurvePoint

ARROW = 0.14  # the point's arrows, as a fraction of the view's smaller side
EIGEN = 0.10
MAX_LEVEL_LABELS = 30
KIND_SYMBOLS = {"minimum": "t1", "maximum": "t", "saddle": "x", "degenerate": "s"}


def arrows(x, y, dx, dy, head: float = 0.28) -> tuple[np.ndarray, np.ndarray]:
    """Line pairs drawing arrows from (x, y) along (dx, dy): a shaft and two barbs each, for
    one item with ``connect="pairs"`` (a whole field in one path)."""
    x, y, dx, dy = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, y, dx, dy))
    tx, ty = x + dx, y + dy
    c, s = math.cos(math.radians(25)), math.sin(math.radians(25))
    bx, by = -dx * head, -dy * head  # back along the shaft, rotated either way for the barbs
    b1x, b1y = bx * c - by * s, bx * s + by * c
    b2x, b2y = bx * c + by * s, -bx * s + by * c
    xs = np.column_stack([x, tx, tx, tx + b1x, tx, tx + b2x]).ravel()
    ys = np.column_stack([y, ty, ty, ty + b1y, ty, ty + b2y]).ravel()
    return xs, ys


def _pairs_item(color, width: float, style=QtCore.Qt.PenStyle.SolidLine) -> pg.PlotCurveItem:
    item = pg.PlotCurveItem(pen=pen(color, width, style) if isinstance(color, str) else color,
                            connect="pairs")
    item.setAcceptHoverEvents(False)
    return item


class LandscapeView(pg.PlotWidget):
    """The landscape of the session's f(x, y); its x and y ranges are the session's xy_range
    (aspect 1, so the gradient is drawn at right angles to the contours)."""

    def __init__(self, session: Session, model: LandscapeModel, parent=None):
        super().__init__(parent)
        self.setObjectName("LandscapeView")
        self.session, self.model = session, model
        plot = self.getPlotItem()
        style_plot(plot, left="y", bottom="x")
        vb = plot.vb
        vb.setAspectLocked(True)
        self.colormap = pg.colormap.get("viridis")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(self.colormap)
        self.image.setZValue(-20)
        plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=self.colormap, interactive=False,
                                        width=14)
        self.colorbar.setImageItem(self.image, insert_in=plot)
        self.contours = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 150, width=1),
                                         connect="finite")
        self.contours.setZValue(-10)
        self.quadratic = pg.PlotCurveItem(pen=pen("tangent", 1.3, QtCore.Qt.PenStyle.DashLine),
                                          connect="finite")
        self.quadratic.setZValue(-8)
        self.field = _pairs_item(pg.mkPen(255, 255, 255, 120, width=1), 1)
        self.field.setZValue(-9)
        for item in (self.contours, self.quadratic, self.field):
            item.setAcceptHoverEvents(False)
            plot.addItem(item, ignoreBounds=True)
        self.level_labels = []
        for _ in range(MAX_LEVEL_LABELS):
            label = pg.TextItem("", color=(255, 255, 255), anchor=(0.5, 0.5))
            label.setZValue(-7)
            label.hide()
            plot.addItem(label, ignoreBounds=True)
            self.level_labels.append(label)
        self.markers = pg.ScatterPlotItem(size=13, pxMode=True)
        self.markers.setZValue(5)
        plot.addItem(self.markers, ignoreBounds=True)
        # the point's items
        self.highlight = Curve(pen=pen("point", 2.4), name="contour through the point")
        self.tangent = Curve(pen=pg.mkPen("#ffffff", width=2, style=QtCore.Qt.PenStyle.DashLine),
                             name="tangent to the contour")
        self.tangent.opts["pen"].setCosmetic(True)
        self.gradient = _pairs_item("tangent", 2.6)
        self.direction = _pairs_item("taylor", 2.2)
        self.eigen = [_pairs_item("minimum", 2.0), _pairs_item("minimum", 2.0)]
        for z, item in enumerate((self.highlight, self.tangent, *self.eigen, self.direction,
                                  self.gradient)):
            item.setZValue(6 + z)
            plot.addItem(item, ignoreBounds=True)
        self.point = CurvePoint(tooltip="Drag over the landscape")
        self.handle = CurvePoint(COLORS["taylor"], COLORS["taylor_hover"], symbol="o", size=11,
                                 tooltip="Drag to turn the direction u")
        for item in (self.point, self.handle):
            plot.addItem(item, ignoreBounds=True)
        self.gradient_label = pg.TextItem("∇f", color=COLORS["tangent"], anchor=(0, 1))
        self.u_label = pg.TextItem("u", color=COLORS["taylor"], anchor=(0, 1))
        for label in (self.gradient_label, self.u_label):
            label.setZValue(20)
            plot.addItem(label, ignoreBounds=True)
        self.message = pg.TextItem("", color=COLORS["axis_text"], anchor=(0.5, 0.5))
        plot.addItem(self.message, ignoreBounds=True)
        # During a drag of the point only its own items change: the landscape's layers and the
        # axes are painted once into pixmaps and blitted per frame.
        for item in (self.image, self.contours, self.field, self.markers, *self.level_labels,
                     plot.getAxis("left"), plot.getAxis("bottom"), self.colorbar):
            item.setCacheMode(item.CacheMode.DeviceCoordinateCache)

        self._syncing = False
        # The range the user asked for (a preset's, or where they panned and zoomed): with the
        # aspect locked, a resize would otherwise crop it for good.
        self._requested = session.xy_range
        self._publish = QtCore.QTimer(self, singleShot=True, interval=0)
        self._publish.timeout.connect(self._publish_range)
        self.point.sigPositionChanged.connect(self._on_point_dragged)
        self.handle.sigPositionChanged.connect(self._on_handle_dragged)
        vb.sigRangeChanged.connect(self._on_range_changed)
        vb.sigRangeChangedManually.connect(self._on_manual_range)
        vb.sigResized.connect(self._on_resized)
        model.changed.connect(self._draw_landscape)
        model.critical_changed.connect(self._draw_critical)
        session.connect("xy_range", lambda s, f: self._apply_session_range())
        session.connect(("point", "direction", "show_quadratic_model", "show_race"),
                        lambda s, f: self.refresh_point())
        self._apply_session_range()
        model.update()
        self._draw_landscape()

    # -- the landscape ---------------------------------------------------------------------------
    def _apply_session_range(self) -> None:
        if self._syncing:
            return
        self._requested = self.session.xy_range
        self._show_requested()

    def _show_requested(self) -> None:
        (x0, x1), (y0, y1) = self._requested
        # All of the requested range, the other axis widened to keep the aspect 1 (pyqtgraph's
        # aspect lock would rather crop the wider one).
        vb = self.getPlotItem().vb
        w, h = vb.width(), vb.height()
        if w > 1 and h > 1:
            scale = max((x1 - x0) / w, (y1 - y0) / h)  # units per pixel
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            x0, x1 = cx - scale * w / 2, cx + scale * w / 2
            y0, y1 = cy - scale * h / 2, cy + scale * h / 2
        self._syncing = True
        try:
            self.getPlotItem().vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        finally:
            self._syncing = False

    def _on_range_changed(self, *_args) -> None:
        """Publish the range shown (pan, zoom, resize) to the session, so the grid covers it:
        after the event that changed it, so that a change the session is still announcing
        (a restored session's range) is not overwritten inside its own notification."""
        if not self._syncing:
            self._publish.start()

    def _publish_range(self) -> None:
        ranges = self.getPlotItem().vb.viewRange()
        self._syncing = True
        try:
            self.session.set_xy_range(tuple(ranges[0]), tuple(ranges[1]))
        finally:
            self._syncing = False

    def _on_manual_range(self, *_args) -> None:
        # the user panned or zoomed: what is in view is what they ask for now
        (x0, x1), (y0, y1) = self.getPlotItem().vb.viewRange()
        self._requested = ((x0, x1), (y0, y1))

    def _on_resized(self, *_args) -> None:
        # all of the requested range stays in view, whatever the plot's shape
        self._show_requested()
        self._publish.start()

    def _draw_landscape(self) -> None:
        m = self.model
        if m.grid is None or m.levels is None:
            self.image.clear()
            self.contours.setData([], [])
            self.field.setData([], [])
            for label in self.level_labels:
                label.hide()
            self.message.setText(m.error or "")  # e.g. f undefined everywhere in view
            (x0, x1), (y0, y1) = self.getPlotItem().vb.viewRange()
            self.message.setPos((x0 + x1) / 2, (y0 + y1) / 2)
            self.refresh_point()
            return
        self.message.setText("")
        g = m.grid
        z = g.z
        if self.session.log_colors:
            finite = z[np.isfinite(z)]
            low = float(finite.min())
            shown = np.log10(z - low + 1e-12 * max(1.0, abs(low)) + 1e-300)
            levels = np.log10(m.levels - low + 1e-12 * max(1.0, abs(low)) + 1e-300)
        else:
            shown, levels = z, m.levels
        lo, hi = float(np.nanmin(levels)), float(np.nanmax(levels))
        if not hi > lo:
            hi = lo + 1.0
        self.image.setImage(shown, levels=(lo, hi), autoLevels=False)
        x0, x1, y0, y1 = g.xs[0], g.xs[-1], g.ys[0], g.ys[-1]
        self.image.setRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        self.colorbar.setLevels((lo, hi))
        self.colorbar.axis.setLabel("log₁₀(f − min f)" if self.session.log_colors else "f")
        xs = [np.append(line[1], np.nan) for line in m.lines]
        ys = [np.append(line[2], np.nan) for line in m.lines]
        self.contours.setData(np.concatenate(xs) if xs else [], np.concatenate(ys) if ys else [])
        self._label_levels()
        if m.field is None:
            self.field.setData([], [])
        else:
            X, Y, U, V = (np.asarray(a, dtype=float).ravel() for a in m.field)
            norm = np.hypot(U, V)
            cell = min(x1 - x0, y1 - y0) / max(self.session.field_density, 1)
            with np.errstate(all="ignore"):
                if self.session.field_normalized:
                    scale = 0.7 * cell / norm
                else:  # lengths proportional to |grad f|, the longest 0.9 of a cell
                    scale = np.full_like(norm, 0.9 * cell / np.nanmax(norm))
            keep = np.isfinite(scale) & (norm > 0)
            dx, dy = U[keep] * scale[keep], V[keep] * scale[keep]
            # arrows centred on their grid points
            self.field.setData(*arrows(X[keep] - dx / 2, Y[keep] - dy / 2, dx, dy))
        self.refresh_point()

    def _label_levels(self) -> None:
        """Each level's value written on its line, at a point of it at its median distance
        from the middle of the view (so the labels spread out instead of piling up)."""
        lines = self.model.lines
        labelled = lines if len(lines) <= MAX_LEVEL_LABELS else lines[::2][:MAX_LEVEL_LABELS]
        (x0, x1), (y0, y1) = self.session.xy_range
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        wx, wy = x1 - x0, y1 - y0
        placed: list[tuple[float, float]] = []
        for label, (level, xs, ys) in zip(self.level_labels, labelled, strict=False):
            # a label whole inside the view (not clipped at an edge), apart from the others
            inside = (np.isfinite(xs) & (xs > x0 + 0.07 * wx) & (xs < x1 - 0.07 * wx)
                      & (ys > y0 + 0.04 * wy) & (ys < y1 - 0.04 * wy))
            if not inside.any():
                label.hide()
                continue
            px, py = xs[inside], ys[inside]
            d = (px - cx) ** 2 + (py - cy) ** 2
            order = np.argsort(np.abs(d - np.median(d)))[:64]
            if placed:  # the first candidate clear of every label placed (all at once: a
                # loop over candidates and labels ran ~2,000 times a slider frame)
                qx, qy = np.array(placed).T
                clear = ((np.abs(px[order, None] - qx) > 0.1 * wx)
                         | (np.abs(py[order, None] - qy) > 0.05 * wy)).all(axis=1)
                if not clear.any():
                    label.hide()
                    continue
                order = order[clear]
            i = order[0]
            placed.append((float(px[i]), float(py[i])))
            text = f"{level:.3g}"
            if label.textItem.toPlainText() != text:  # laying out its HTML again: ~40 us
                label.setText(text)
            label.setPos(float(px[i]), float(py[i]))
            label.show()
        for label in self.level_labels[len(labelled):]:
            label.hide()

    def _draw_critical(self) -> None:
        spots = [{"pos": (float(p.point[0]), float(p.point[1])),
                  "symbol": KIND_SYMBOLS.get(p.kind, "s"),
                  "brush": mark_brush(COLORS.get(p.kind, COLORS["degenerate"])),
                  "pen": mark_pen("#ffffff", 1.5), "data": p}
                 for p in self.model.critical]
        self.markers.setData(spots)
        self.markers.setVisible(bool(spots) and self.session.show_critical_points)

    # -- the point -------------------------------------------------------------------------------
    def refresh_point(self) -> None:
        s = self.session
        f = self.model.f2
        items = (self.point, self.handle, self.gradient, self.direction, self.highlight,
                 self.tangent, *self.eigen, self.gradient_label, self.u_label, self.quadratic)
        if f is None or s.show_race:  # the race's paths need the landscape to themselves
            for item in items:
                item.hide()
            return
        for item in items:
            item.show()
        from ...core.multivariate import contour_through, hessian_info

        px, py = s.point
        (x0, x1), (y0, y1) = self.getPlotItem().vb.viewRange()
        span = min(x1 - x0, y1 - y0)
        with signals_blocked(self.point):
            self.point.setPos(px, py)
        value = float(f(px, py))
        grad = np.asarray(f.gradient((px, py)), dtype=float)
        norm = float(np.hypot(*grad))
        length = ARROW * span
        if np.isfinite(norm) and norm > 0:
            g = grad / norm * length
            self.gradient.setData(*arrows(px, py, g[0], g[1]))
            self.gradient_label.setPos(px + g[0], py + g[1])
            # the contour's tangent: perpendicular to the gradient
            t = np.array([-grad[1], grad[0]]) / norm * length
            self.tangent.setData([px - t[0], px + t[0]], [py - t[1], py + t[1]])
        else:
            self.gradient.setData([], [])
            self.tangent.setData([], [])
            self.gradient_label.hide()
        ux, uy = s.unit_direction
        self.direction.setData(*arrows(px, py, ux * length, uy * length))
        with signals_blocked(self.handle):
            self.handle.setPos(px + ux * length, py + uy * length)
        self.u_label.setPos(px + ux * length * 1.15, py + uy * length * 1.15)
        if self.model.coarse is not None and np.isfinite(value):
            xs, ys = contour_through(self.model.coarse, value)
            self.highlight.setData(xs, ys)
        else:
            self.highlight.setData([], [])
        info = hessian_info(f, (px, py))
        for item, lam, vec in zip(self.eigen, info.eigenvalues, info.eigenvectors.T, strict=True):
            if not (np.isfinite(lam) and np.all(np.isfinite(vec))):
                item.setData([], [])
                continue
            item.setPen(pen("minimum" if lam > 0 else "maximum", 2.0))
            half = EIGEN * span * vec
            item.setData([px - half[0], px + half[0]], [py - half[1], py + half[1]])
        self._draw_quadratic(f, (px, py), (x0, x1), (y0, y1))

    def _draw_quadratic(self, f, p, x_range, y_range) -> None:
        if not self.session.show_quadratic_model or self.model.levels is None:
            self.quadratic.setData([], [])
            return
        from ...core.multivariate import contour_lines, quadratic_model_grid

        grid = quadratic_model_grid(f, p, x_range, y_range, 120)
        lines = contour_lines(grid, self.model.levels)
        xs = [np.append(line[1], np.nan) for line in lines]
        ys = [np.append(line[2], np.nan) for line in lines]
        self.quadratic.setData(np.concatenate(xs) if xs else [], np.concatenate(ys) if ys else [])

    def _on_point_dragged(self, item) -> None:
        pos = item.pos()
        self.session.set_point((float(pos.x()), float(pos.y())))

    def _on_handle_dragged(self, item) -> None:
        px, py = self.session.point
        pos = item.pos()
        dx, dy = float(pos.x()) - px, float(pos.y()) - py
        if dx == 0 and dy == 0:
            return
        self.session.set_direction(math.atan2(dy, dx))
        self.refresh_point()  # the handle snaps back to the arrow's tip

    # -- what is drawn (tests compare it with the core) ------------------------------------------
    def gradient_tip(self) -> tuple[float, float]:
        xs, ys = self.gradient.getData()
        return float(xs[1]), float(ys[1])

    def direction_tip(self) -> tuple[float, float]:
        xs, ys = self.direction.getData()
        return float(xs[1]), float(ys[1])

    def scene_pos(self, x: float, y: float) -> QtCore.QPointF:
        return self.getPlotItem().vb.mapViewToScene(QtCore.QPointF(x, y))
