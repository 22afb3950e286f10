"""The regression lab's data view: the line, the residuals and the MSE checked against NumPy,
and points added, dragged and removed with real mouse events."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore


@pytest.fixture
def view(qtbot):
    from explorer.ui.regression_model import RegressionModel
    from explorer.ui.theme import configure_pyqtgraph
    from explorer.ui.views.regression_data_view import RegressionDataView

    configure_pyqtgraph()
    model = RegressionModel()
    model.set_params(1.5, -0.5)
    v = RegressionDataView(model)
    qtbot.addWidget(v)
    v.resize(800, 500)
    v.show()
    qtbot.waitExposed(v)
    qtbot.wait(50)
    yield v
    model.worker.wait(10000)


def widget_pos(view, scene_pos) -> QtCore.QPointF:
    return QtCore.QPointF(view.mapFromScene(scene_pos))


def view_coords(view, widget_pos):
    p = view.getPlotItem().vb.mapSceneToView(view.mapToScene(widget_pos.toPoint()))
    return p.x(), p.y()


def pixel(view) -> tuple[float, float]:
    """The size of a pixel in data units (x, y)."""
    vb = view.getPlotItem().vb
    (x0, x1), (y0, y1) = vb.viewRange()
    return (x1 - x0) / vb.width(), (y1 - y0) / vb.height()


def empty_spot(view) -> QtCore.QPointF:
    """A widget position inside the plot, far (over 30 px) from every point."""
    vb = view.getPlotItem().vb
    rect = vb.sceneBoundingRect()
    data = view.model.data
    for fx in np.linspace(0.15, 0.85, 8):
        for fy in np.linspace(0.15, 0.85, 8):
            scene = QtCore.QPointF(rect.left() + fx * rect.width(), rect.top() + fy * rect.height())
            d = [(view.point_scene_pos(i) - scene).manhattanLength() for i in range(len(data))]
            if min(d) > 30:
                return widget_pos(view, scene)
    raise AssertionError("no empty spot")


def test_line_residuals_and_mse_match_numpy(view):
    model = view.model
    xs, ys = model.data.xs, model.data.ys
    assert len(xs) == 40
    lx, ly = view.line_data()
    assert len(lx) == 2
    np.testing.assert_allclose(ly, 1.5 * lx - 0.5, rtol=1e-12, atol=1e-12)
    (x0, x1) = view.getPlotItem().vb.viewRange()[0]
    assert lx[0] == pytest.approx(x0) and lx[-1] == pytest.approx(x1)

    rx, ry = view.residual_data()
    assert len(rx) == 2 * len(xs)
    np.testing.assert_allclose(rx[0::2], xs)
    np.testing.assert_allclose(rx[1::2], xs)
    np.testing.assert_allclose(ry[0::2], ys)
    residuals = ry[0::2] - ry[1::2]
    np.testing.assert_allclose(residuals, ys - (1.5 * xs - 0.5), atol=1e-12)

    mse = np.mean((ys - (1.5 * xs - 0.5)) ** 2)
    assert view.mse_text() == f"MSE J(w, b) = {mse:.4g}   (n = 40)"
    assert mse == pytest.approx(model.loss(), rel=1e-9)
    assert view.getPlotItem().titleLabel.text == view.mse_text()


def test_the_line_follows_the_parameters(view):
    view.model.set_params(-2.0, 1.0)
    lx, ly = view.line_data()
    np.testing.assert_allclose(ly, -2.0 * lx + 1.0)
    xs, ys = view.model.data.xs, view.model.data.ys
    mse = np.mean((ys - (-2.0 * xs + 1.0)) ** 2)
    assert view.mse_text() == f"MSE J(w, b) = {mse:.4g}   (n = 40)"


def test_a_left_click_on_empty_space_adds_a_point_there(view, ui, qtbot):
    before = view.getPlotItem().vb.viewRange()
    target = empty_spot(view)
    ui.send_mouse(view.viewport(), "move", target, buttons=QtCore.Qt.MouseButton.NoButton)
    ui.send_mouse(view.viewport(), "press", target)
    ui.send_mouse(view.viewport(), "release", target)
    qtbot.waitUntil(lambda: len(view.model.data) == 41, timeout=2000)
    x, y = view_coords(view, target)
    px, py = pixel(view)
    assert view.model.data.xs[-1] == pytest.approx(x, abs=px)
    assert view.model.data.ys[-1] == pytest.approx(y, abs=py)
    assert view.getPlotItem().vb.viewRange() == before
    assert view.mse_text().endswith("(n = 41)")
    assert len(view.residual_data()[0]) == 82


def test_dragging_a_point_moves_it_and_does_not_pan(view, ui):
    vb = view.getPlotItem().vb
    before = [list(r) for r in vb.viewRange()]
    i = 7
    start = widget_pos(view, view.point_scene_pos(i))
    end = empty_spot(view)
    ui.drag(view.viewport(), start, end, steps=10)
    x, y = view_coords(view, end)
    px, py = pixel(view)
    assert view.model.data.xs[i] == pytest.approx(x, abs=1.5 * px)
    assert view.model.data.ys[i] == pytest.approx(y, abs=1.5 * py)
    assert len(view.model.data) == 40
    assert [list(r) for r in vb.viewRange()] == before
    sx, sy = view.points.getData()  # the scatter drawn where the model has the point
    assert (sx[i], sy[i]) == (view.model.data.xs[i], view.model.data.ys[i])
    # the residual of the dragged point follows it
    rx, ry = view.residual_data()
    assert rx[2 * i] == view.model.data.xs[i] and ry[2 * i] == view.model.data.ys[i]


def test_dragging_empty_space_still_pans(view, ui):
    vb = view.getPlotItem().vb
    before = vb.viewRange()[0]
    start = empty_spot(view)
    ui.drag(view.viewport(), start, start + QtCore.QPointF(120, 0), steps=6)
    assert vb.viewRange()[0][0] < before[0]
    assert len(view.model.data) == 40


def test_right_click_on_a_point_removes_it(view, ui, qtbot):
    i = 3
    removed = (view.model.data.xs[i], view.model.data.ys[i])
    pos = widget_pos(view, view.point_scene_pos(i))
    right = QtCore.Qt.MouseButton.RightButton
    ui.send_mouse(view.viewport(), "move", pos, buttons=QtCore.Qt.MouseButton.NoButton)
    ui.send_mouse(view.viewport(), "press", pos, button=right)
    ui.send_mouse(view.viewport(), "release", pos, button=right)
    qtbot.waitUntil(lambda: len(view.model.data) == 39, timeout=2000)
    assert removed[0] not in view.model.data.xs
    assert view.mse_text().endswith("(n = 39)")


def test_click_then_delete_removes_the_point(view, ui, qtbot):
    i = 11
    removed = view.model.data.xs[i]
    pos = widget_pos(view, view.point_scene_pos(i))
    ui.send_mouse(view.viewport(), "move", pos, buttons=QtCore.Qt.MouseButton.NoButton)
    ui.send_mouse(view.viewport(), "press", pos)
    ui.send_mouse(view.viewport(), "release", pos)
    assert view.selected == i
    assert len(view.model.data) == 40  # a click on a point adds nothing
    qtbot.keyClick(view, QtCore.Qt.Key.Key_Delete)
    assert len(view.model.data) == 39
    assert removed not in view.model.data.xs
    assert view.selected is None


def test_points_leaving_the_view_refit_it(view):
    vb = view.getPlotItem().vb
    view.model.add_point(100.0, 50.0)
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x0 < 100.0 < x1 and y0 < 50.0 < y1


def test_1000_points_moved_in_place_are_drawn_where_the_model_has_them(view, qtbot):
    from explorer.core.regression import generate

    view.model.set_data(generate(n=1000, seed=1))
    qtbot.wait(20)
    for k in range(30):  # drag frames: the scatter's positions are written in place
        view.model.move_point(5, 0.01 * k, 0.02 * k)
        view.viewport().repaint()
    assert len(view.residual_data()[0]) == 2000
    sx, sy = view.points.getData()
    np.testing.assert_array_equal(sx, view.model.data.xs)
    np.testing.assert_array_equal(sy, view.model.data.ys)
    assert view.point_at(view.point_scene_pos(5)) is not None
