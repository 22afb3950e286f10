"""The Grid draws the same pixels as pyqtgraph's GridItem, from arrays instead of a loop."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtGui

from explorer.ui.views.grid import Grid


def render(qtbot, item_class, x_range, y_range, log_y=False, pen="#203040", background="w"):
    widget = pg.PlotWidget(background=background)
    qtbot.addWidget(widget)
    widget.resize(640, 420)
    widget.getPlotItem().hideAxis("left")
    widget.getPlotItem().hideAxis("bottom")
    pen = pg.mkPen(pen, width=1)
    grid = item_class(pen=pen) if item_class is Grid else item_class(pen=pen, textPen=None)
    widget.addItem(grid, ignoreBounds=True)
    widget.getPlotItem().setLogMode(y=log_y)
    widget.show()
    qtbot.waitExposed(widget)
    widget.getPlotItem().vb.setRange(xRange=x_range, yRange=y_range, padding=0)
    image = widget.viewport().grab().toImage().convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8)
    return pixels.reshape(image.height(), image.bytesPerLine()).copy()


@pytest.mark.parametrize("x_range, y_range", [((-5, 5), (-1, 1)), ((0.013, 0.0171), (-300, 2e3)),
                                              ((-1e6, 3e6), (-2e-9, 1e-9)), ((2.5, 97.25), (7, 8))])
def test_the_same_pixels_as_pyqtgraphs_grid_item(qtbot, x_range, y_range):
    ours = render(qtbot, Grid, x_range, y_range)
    theirs = render(qtbot, pg.GridItem, x_range, y_range)
    assert (ours != 255).sum() > 5000  # lines were drawn (on white)
    np.testing.assert_array_equal(ours, theirs)


def test_the_same_pixels_on_a_log_axis(qtbot):
    ours = render(qtbot, Grid, (-3, 4), (-16, 3), log_y=True)
    theirs = render(qtbot, pg.GridItem, (-3, 4), (-16, 3), log_y=True)
    np.testing.assert_array_equal(ours, theirs)


class LineCounter:
    """A painter stand-in for Grid._draw_lines: counts the lines of each alpha."""

    def __init__(self):
        self.lines: dict[int, int] = {}
        self.alpha = None

    def setPen(self, pen):  # noqa: N802 - QPainter's name
        self.alpha = pen.color().alpha()

    def drawLines(self, lines):  # noqa: N802 - QPainter's name
        self.lines[self.alpha] = self.lines.get(self.alpha, 0) + len(lines)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_lines_too_faint_to_change_a_pixel_are_left_out(qtbot, theme):
    """With the app's grid pen on the app's background (~25 levels apart), GridItem's finest
    level (alpha ~7) moves no pixel by a whole level, only rounds some: Grid leaves those
    ~140 lines out of its picture, and its pixels are GridItem's to one level of 255."""
    from explorer.ui.theme import THEMES

    colors = THEMES[theme]
    x_range, y_range = (-7, 7), (-140, 140)  # lines 0.1 apart, 4.6 px: alpha 7
    ours = render(qtbot, Grid, x_range, y_range, pen=colors["grid"], background=colors["background"])
    theirs = render(qtbot, pg.GridItem, x_range, y_range, pen=colors["grid"],
                    background=colors["background"])
    assert (ours != theirs).any()  # the faint level was left out ...
    assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1  # ... and only rounded
    bg = QtGui.QColor(colors["background"])
    pixels = ours.reshape(ours.shape[0], -1, 4)  # B, G, R, A
    assert (pixels != [bg.blue(), bg.green(), bg.red(), 255]).any(axis=-1).sum() > 2000  # drawn

    widget = pg.PlotWidget(background=colors["background"])
    qtbot.addWidget(widget)
    widget.resize(640, 420)
    grid = Grid(pen=pg.mkPen(colors["grid"], width=1))
    widget.addItem(grid, ignoreBounds=True)
    widget.show()
    qtbot.waitExposed(widget)
    widget.getPlotItem().vb.setRange(xRange=x_range, yRange=y_range, padding=0)
    counter = LineCounter()
    grid._draw_lines(counter, grid.boundingRect())
    assert min(counter.lines) * Grid._contrast(grid) >= 255
    assert sum(counter.lines.values()) < 60  # GridItem draws ~190 here
