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
        plot.vb.sigYRangeChanged.connect(lambda *_: self._place_labels())
        # A TextItem sizes itself to the view's scale when it paints; a label that was laid
        # out at an early, tiny view scale sits thousands of pixels away, is never painted,
        # and so never corrects itself. Keep them in step with the view.
        plot.vb.sigTransformChanged.connect(lambda *_: self._update_label_transforms())
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
            label.show()
        for label in self.labels[len(self._labelled):]:
            label.hide()
        self._place_labels()
        self._update_label_transforms()

    def _update_label_transforms(self) -> None:
        for label in self.labels[:len(self._labelled)]:
            label.updateTransform(force=True)

    def _place_labels(self) -> None:
        """Minima labelled below their marker, the rest above; flipped where the label would
        leave the view (a maximum at the top edge of a view fitted to the curve)."""
        (_, _), (y0, y1) = self.view.getPlotItem().vb.viewRange()
        edge = 0.08 * (y1 - y0)  # about a label's height at the usual plot size
        for label, p in zip(self.labels, self._labelled, strict=False):
            below = p.kind == "minimum"
            if below and p.value - edge < y0:
                below = False
            elif not below and p.value + edge > y1:
                below = True
            label.setAnchor((0.5, -0.35) if below else (0.5, 1.35))

    def label_below(self, index: int) -> bool:
        """Whether the index-th label hangs below its marker (tests check the flip)."""
        return self.labels[index].anchor.y() < 0

    def marker_positions(self) -> np.ndarray:
        """(n, 2) positions of the markers drawn (tests read what is on screen)."""
        if not self.markers.isVisible():
            return np.empty((0, 2))
        xs, ys = self.markers.getData()
        return np.column_stack([xs, ys])
