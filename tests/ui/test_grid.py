"""The Grid draws the same pixels as pyqtgraph's GridItem, from arrays instead of a loop."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtGui

from explorer.ui.views.grid import Grid


def render(qtbot, item_class, x_range, y_range, log_y=False):
    widget = pg.PlotWidget(background="w")
    qtbot.addWidget(widget)
    widget.resize(640, 420)
    widget.getPlotItem().hideAxis("left")
    widget.getPlotItem().hideAxis("bottom")
    pen = pg.mkPen("#203040", width=1)
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
