"""The regression lab's loss views with real mouse events: J(w, b)'s contours, the optimum,
the dragged (w, b) and its gradient checked against the closed forms, the descent's path and
its loss per epoch with a draggable cursor."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore


@pytest.fixture
def model(qtbot):
    from explorer.ui.regression_model import RegressionModel

    m = RegressionModel()
    yield m
    m.worker.wait(10000)


def show(qtbot, widget):
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(50)
    return widget


@pytest.fixture
def loss_view(qtbot, model):
    from explorer.ui.theme import configure_pyqtgraph
    from explorer.ui.views.regression_loss_view import LossView

    configure_pyqtgraph()
    return show(qtbot, LossView(model))


@pytest.fixture
def epoch_plot(qtbot, model):
    from explorer.ui.theme import configure_pyqtgraph
    from explorer.ui.views.regression_loss_view import DescentLossPlot

    configure_pyqtgraph()
    return show(qtbot, DescentLossPlot(model))


def to_widget(view, w, b):
    return QtCore.QPointF(view.mapFromScene(view.scene_pos(w, b)))


def pixel_size(view):
    """Data units of one pixel along w and b."""
    vb = view.getPlotItem().vb
    (w0, w1), (b0, b1) = vb.viewRange()
    return (w1 - w0) / vb.width(), (b1 - b0) / vb.height()


def closed_form_gradient(model, w, b):
    d = model.fitted_data()
    xs, ys = np.asarray(d.xs, dtype=float), np.asarray(d.ys, dtype=float)
    r = w * xs + b - ys
    n = len(xs)
    return np.array([2 / n * np.sum(r * xs), 2 / n * np.sum(r)])


def test_optimum_and_contours(loss_view, model):
    d = model.data
    w, b = np.polyfit(d.xs, d.ys, 1)
    assert loss_view.optimum_pos() == pytest.approx((w, b), rel=1e-9, abs=1e-9)
    xs, ys = loss_view.contour_data()
    keep = np.isfinite(xs) & np.isfinite(ys)
    assert keep.sum() > 100
    levels = np.asarray(loss_view.levels)
    assert 10 <= len(levels) <= 15
    span = levels.max() - levels.min()
    j = model.stats.loss(xs[keep], ys[keep])
    miss = np.min(np.abs(j[:, None] - levels[None, :]), axis=1)
    assert np.all(miss <= 0.01 * span)
    # every level is drawn (the view spans the optimum's neighbourhood)
    (w0, w1), (b0, b1) = loss_view.getPlotItem().vb.viewRange()
    assert w0 < w < w1 and b0 < b < b1


def test_dragging_the_point_moves_w_b_and_the_gradient(loss_view, model, ui, qtbot):
    assert (model.w, model.b) == (0.0, 0.0)
    start = QtCore.QPointF(loss_view.mapFromScene(loss_view.point_scene_pos()))
    best = model.optimum()
    target_wb = (best[0] - 0.4, best[1] + 0.6)
    end = to_widget(loss_view, *target_wb)
    range_before = loss_view.getPlotItem().vb.viewRange()
    ui.drag(loss_view.viewport(), start, end)
    qtbot.wait(20)
    pw, pb = pixel_size(loss_view)
    assert model.w == pytest.approx(target_wb[0], abs=2 * pw)
    assert model.b == pytest.approx(target_wb[1], abs=2 * pb)
    assert loss_view.getPlotItem().vb.viewRange() == range_before  # no re-range on a drag
    # the drawn point is the model's
    pos = loss_view.point.pos()
    assert (pos.x(), pos.y()) == pytest.approx((model.w, model.b))
    # the arrow points along −∇J (closed form), from (w, b)
    grad = closed_form_gradient(model, model.w, model.b)
    np.testing.assert_allclose(model.gradient(), grad, rtol=1e-9, atol=1e-9)
    tip = np.array(loss_view.gradient_tip())
    arrow = tip - np.array([model.w, model.b])
    assert np.linalg.norm(arrow) > 0
    np.testing.assert_allclose(arrow / np.linalg.norm(arrow), -grad / np.linalg.norm(grad),
                               atol=1e-9)
    # about 12% of the view on screen
    (w0, w1), (b0, b1) = loss_view.getPlotItem().vb.viewRange()
    assert np.hypot(arrow[0] / (w1 - w0), arrow[1] / (b1 - b0)) == pytest.approx(0.12)


def test_data_change_redraws_without_rerange_unless_the_optimum_leaves(loss_view, model, qtbot):
    before = loss_view.contour_data()[0].copy()
    range_before = loss_view.getPlotItem().vb.viewRange()
    x, y = float(model.data.xs[0]), float(model.data.ys[0])
    model.move_point(0, x, y + 0.5)
    after = loss_view.contour_data()[0]
    assert not (len(before) == len(after) and np.allclose(before, after, equal_nan=True))
    assert loss_view.getPlotItem().vb.viewRange() == range_before
    assert loss_view.optimum_pos() == pytest.approx(model.optimum())
    # points far off move the optimum out of view: the view follows
    for i in range(len(model.data)):
        model.move_point(i, float(model.data.xs[i]), float(model.data.ys[i]) + 40.0)
    w, b = model.optimum()
    (w0, w1), (b0, b1) = loss_view.getPlotItem().vb.viewRange()
    assert w0 < w < w1 and b0 < b < b1


def test_descent_path_and_epoch_plot_with_cursor_drag(loss_view, epoch_plot, model, ui, qtbot):
    model.run_descent()
    qtbot.waitUntil(lambda: model.descent is not None, timeout=20000)
    qtbot.wait(50)
    d = model.descent
    xs, ys = loss_view.path_data()
    np.testing.assert_allclose(xs, d.params[:, 0])
    np.testing.assert_allclose(ys, d.params[:, 1])
    ex, ey = epoch_plot.curve_data()
    np.testing.assert_allclose(ex, d.epochs)
    np.testing.assert_allclose(ey, d.losses)
    assert model.cursor == 0
    assert epoch_plot.cursor_x() == pytest.approx(d.epochs[0])
    # the whole path is in view
    (w0, w1), (b0, b1) = loss_view.getPlotItem().vb.viewRange()
    assert np.all((d.params[:, 0] >= w0) & (d.params[:, 0] <= w1))
    assert np.all((d.params[:, 1] >= b0) & (d.params[:, 1] <= b1))

    vb = epoch_plot.getPlotItem().vb
    (_, _), (y0, y1) = vb.viewRange()
    ymid = (y0 + y1) / 2

    def widget_at(x):
        return QtCore.QPointF(epoch_plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(x, ymid))))

    target = float(d.epochs[len(d.epochs) // 2]) + 0.1
    ui.drag(epoch_plot.viewport(), widget_at(epoch_plot.cursor_x()), widget_at(target))
    qtbot.wait(20)
    k = int(np.argmin(np.abs(d.epochs - target)))
    assert abs(model.cursor - k) <= 1
    assert model.cursor > 0
    assert (model.w, model.b) == pytest.approx(tuple(d.params[model.cursor]))
    # the line snaps to the update shown; the loss view highlights it
    assert epoch_plot.cursor_x() == pytest.approx(d.epochs[model.cursor])
    hx, hy = loss_view.path_cursor.getData()
    assert (hx[0], hy[0]) == pytest.approx(tuple(d.params[model.cursor]))
    pos = loss_view.point.pos()
    assert (pos.x(), pos.y()) == pytest.approx(tuple(d.params[model.cursor]))
    # the cursor moved from the model moves the line
    model.set_cursor(3)
    assert epoch_plot.cursor_x() == pytest.approx(d.epochs[3])
    # a data edit clears the descent
    model.move_point(0, float(model.data.xs[0]), float(model.data.ys[0]) + 0.1)
    assert len(loss_view.path_data()[0]) == 0
    assert len(epoch_plot.curve_data()[0]) == 0
