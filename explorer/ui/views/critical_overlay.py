"""CriticalOverlay: minima, maxima and inflection points marked and labelled on the curve view."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.session import Session
from ..critical_model import CriticalModel
from ..theme import COLORS, mark_brush, mark_pen
from .curve_view import CurveView

SYMBOLS = {"minimum": "t1", "maximum": "t", "inflection": "d", "saddle": "s",
           "degenerate": "s"}
LABELS = {"minimum": "min", "maximum": "max", "inflection": "inflection",
          "saddle": "saddle", "degenerate": "degenerate"}
MAX_LABELS = 24  # beyond this many points the markers speak for themselves


class CriticalOverlay(QtCore.QObject):
    """One scatter item for the markers and a fixed pool of labels, built once."""

    def __init__(self, view: CurveView, model: CriticalModel, session: Session):
        super().__init__(view)
        self.view, self.model, self.session = view, model, session
        plot = view.getPlotItem()
        self.markers = pg.ScatterPlotItem(size=13, pxMode=True)
        self.markers.setZValue(15)
        # Painted once, then blitted: a drag repaints the whole view under the tangent and
        # the Taylor curve, and re-rendering text each frame costs milliseconds.
        self.markers.setCacheMode(self.markers.CacheMode.DeviceCoordinateCache)
        plot.addItem(self.markers)
        self.labels = []
        for _ in range(MAX_LABELS):
            label = pg.TextItem("", anchor=(0.5, 1.25))
            label.setZValue(16)
            label.setCacheMode(label.CacheMode.DeviceCoordinateCache)
            label.hide()
            plot.addItem(label, ignoreBounds=True)
            self.labels.append(label)
        model.changed.connect(self.refresh)
        session.connect("show_critical_points", lambda s, f: self.refresh())
        # A TextItem sizes itself to the view's scale when it paints; a label that was laid
        # out at an early, tiny view scale sits thousands of pixels away, is never painted,
        # and so never corrects itself. Keep them in step with the view (its range and its
        # size in pixels, which decide which labels turn back from an edge).
        plot.vb.sigTransformChanged.connect(lambda *_: self._follow_view())
        plot.vb.sigRangeChanged.connect(lambda *_: self._place_labels())  # at once, not at paint
        self._labelled = []
        self.refresh()

    def refresh(self) -> None:
        points = self.model.points if self.session.show_critical_points else []
        self.markers.setVisible(bool(points))
        spots = [{"pos": (float(p.point[0]), p.value), "symbol": SYMBOLS[p.kind],
                  "brush": mark_brush(COLORS[p.kind]), "pen": mark_pen("#ffffff", 1.5),
                  "data": p} for p in points]
        self.markers.setData(spots)
        self._labelled = points if len(points) <= MAX_LABELS else []
        for label, p in zip(self.labels, self._labelled, strict=False):
            label.setText(LABELS[p.kind], color=COLORS[p.kind])
            label.setPos(float(p.point[0]), p.value)
        for label in self.labels[len(self._labelled):]:
            label.hide()
        self._follow_view()  # shows those with room

    def _follow_view(self) -> None:
        """Labels placed for the view as it is, and their transforms brought up to date."""
        self._place_labels()
        self._update_label_transforms()

    def _update_label_transforms(self) -> None:
        for label in self.labels[:len(self._labelled)]:
            label.updateTransform(force=True)

    def _place_labels(self) -> None:
        """Minima labelled below their marker, the rest above; flipped where the label would
        leave the view (a maximum at the top edge of a view fitted to the curve). A label
        whose centred text would cross the left or right edge starts or ends at its marker.
        Where labels would overlap (points a few pixels apart), an inflection's gives way to an
        extremum's, and a later one to an earlier: it turns to the other side of its marker,
        or is left out (its marker and the list still show the point)."""
        vb = self.view.getPlotItem().vb
        (x0, x1), (y0, y1) = vb.viewRange()
        x_per_px = (x1 - x0) / max(1.0, vb.width())
        y_per_px = (y1 - y0) / max(1.0, vb.height())
        placed: list[QtCore.QRectF] = []  # the labels kept, in pixels from the top left
        pairs = sorted(zip(self.labels, self._labelled, strict=False),
                       key=lambda pair: pair[1].kind in ("inflection", "degenerate"))
        for label, p in pairs:
            size = label.textItem.boundingRect()
            w, h = size.width(), size.height()
            px, py = (float(p.point[0]) - x0) / x_per_px, (y1 - p.value) / y_per_px
            side = 0.0 if px < 0.5 * w else 1.0 if px + 0.5 * w > vb.width() else 0.5
            below = p.kind == "minimum"
            if below and py + 1.35 * h > vb.height():
                below = False
            elif not below and py - 1.35 * h < 0:
                below = True
            for turn in (below, not below):
                lift = -0.35 if turn else 1.35
                rect = QtCore.QRectF(px - side * w, py - lift * h, w, h)
                if not any(rect.intersects(other) for other in placed):
                    placed.append(rect)
                    label.setAnchor((side, lift))
                    label.setVisible(True)
                    break
            else:
                label.setVisible(False)

    def label_side(self, index: int) -> float:
        """The index-th label's horizontal anchor: 0 starts at its marker, 0.5 centred on it,
        1 ends at it (tests check labels at the view's edges stay inside it)."""
        return self.labels[index].anchor.x()

    def label_below(self, index: int) -> bool:
        """Whether the index-th label hangs below its marker (tests check the flip)."""
        return self.labels[index].anchor.y() < 0

    def marker_positions(self) -> np.ndarray:
        """(n, 2) positions of the markers drawn (tests read what is on screen)."""
        if not self.markers.isVisible():
            return np.empty((0, 2))
        xs, ys = self.markers.getData()
        return np.column_stack([xs, ys])
