"""Grid: pyqtgraph's GridItem with its picture drawn from arrays.

The GridItem draws its graph paper again after every change of the view's range, one line at a
time from a Python loop with NumPy scalars: ~11 ms for the ~380 lines of a 1000x600 plot,
plus ~4 ms to play them back, on every frame of a pan or zoom and after every function change.
Here each level's lines of one axis are computed with NumPy and drawn with one ``drawLines``
call: the same lines, pens and alphas (the pixels are the same: tests/ui/test_grid.py).

A level whose lines would move no pixel by a whole level of 255 is left out: the grid's pen
differs from the background by ~25 levels in the app's themes, so GridItem's finest level
(alpha ~7, a line every 4-5 px) only rounds some pixels by one, yet drew ~100 full-height
lines with alpha into the grid's cached pixmap: 20-40 ms after every change of range, a new
function's (tests/ui/test_grid.py).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui


class Grid(pg.GridItem):
    """A GridItem (lines only, no text) that generates its picture from arrays."""

    def __init__(self, pen):
        super().__init__(pen=pen, textPen=None)

    def generatePicture(self):
        lvr = self.boundingRect()
        if lvr.isNull() or self.deviceTransform_() is None:
            return
        self.picture = QtGui.QPicture()
        painter = QtGui.QPainter(self.picture)
        try:
            self._draw_lines(painter, lvr)
        finally:
            painter.end()

    def _draw_lines(self, painter: QtGui.QPainter, lvr: QtCore.QRectF) -> None:
        """GridItem.generatePicture's lines, level by level (coarse last), as it draws them."""
        vr = self.getViewWidget().rect()
        dim = (vr.width(), vr.height())
        ul = np.array([lvr.left(), lvr.top()])
        br = np.array([lvr.right(), lvr.bottom()])
        if ul[1] > br[1]:
            ul[1], br[1] = br[1], ul[1]
        spacing = self.opts["tickSpacing"]
        contrast = self._contrast()
        last = [None, None]
        for level in range(self.grid_depth - 1, -1, -1):
            d = 10.0 ** np.floor(np.log10(np.abs((br - ul) / 10.0**level)) + 0.5)
            for ax in (0, 1):
                if level < len(spacing[ax]) and spacing[ax][level] is not None:
                    d[ax] = spacing[ax][level]
                last[ax] = d[ax]
            ul1 = np.floor(ul / d) * d
            count = ((np.ceil(br / d) * d - ul1) / d) + 0.5
            for ax in (0, 1):
                if level >= len(spacing[ax]) or d[ax] < last[ax]:
                    continue
                alpha = int(np.clip(5 * (dim[ax] / count[ax] - 3), 0, 50))
                if alpha * contrast < 255:  # under one level on any pixel: nothing to see
                    continue
                pen = QtGui.QPen(self.opts["pen"])
                color = pen.color()
                color.setAlpha(alpha)
                pen.setColor(color)
                pen.setCosmetic(True)
                painter.setPen(pen)
                at = ul1[ax] + np.arange(int(count[ax])) * d[ax]
                at = at[(at >= min(ul[ax], br[ax])) & (at <= max(ul[ax], br[ax]))]
                other = 1 - ax
                if ax == 0:
                    lines = [QtCore.QLineF(a, ul[other], a, br[other]) for a in at.tolist()]
                else:
                    lines = [QtCore.QLineF(ul[other], a, br[other], a) for a in at.tolist()]
                if lines:
                    painter.drawLines(lines)

    def _contrast(self) -> int:
        """The largest difference, in levels of 255, between the pen's colour and the view's
        background in any channel (255 when the background is not one opaque colour)."""
        view = self.getViewWidget()
        brush = view.backgroundBrush() if view is not None else None
        if brush is None or brush.style() != QtCore.Qt.BrushStyle.SolidPattern \
                or brush.color().alpha() != 255:
            return 255
        a, b = self.opts["pen"].color(), brush.color()
        return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue()))
