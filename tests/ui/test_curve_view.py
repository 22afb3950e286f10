"""The curve view driven as a person would: typing, dragging, clicking, zooming."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore


def to_widget(view, x, y):
    """Data coordinates -> the view's viewport coordinates."""
    scene = view.getPlotItem().vb.mapViewToScene(QtCore.QPointF(x, y))
    return QtCore.QPointF(view.mapFromScene(scene))


def to_data(view, pos):
    scene = view.mapToScene(pos.toPoint())
    p = view.getPlotItem().vb.mapSceneToView(scene)
    return p.x(), p.y()


def test_typing_updates_curve_to_f(make_window, qtbot, ui):
    window = make_window(restore=False)
    ui.type_expression(window, "x^3 - 2x + 1")
    xs, ys = window.curve_view.f_item.getData()
    finite = np.isfinite(xs)
    assert finite.sum() >= 1900
    np.testing.assert_allclose(ys[finite], xs[finite] ** 3 - 2 * xs[finite] + 1, rtol=1e-12, atol=1e-12)
    # f' drawn too, against the closed form 3x^2 - 2
    dx, dy = window.curve_view.d1_item.getData()
    np.testing.assert_allclose(dy, 3 * dx**2 - 2, rtol=1e-12, atol=1e-12)
    # samples span the visible range
    (lo, hi), _ = window.curve_view.getPlotItem().vb.viewRange()
    assert xs[0] <= lo and xs[-1] >= hi


def test_drag_point_moves_x0_and_tangent(make_window, qtbot, ui):
    window = make_window(restore=False)
    ui.type_expression(window, "sin(x) + x^2/4")
    view = window.curve_view
    view.getPlotItem().vb.setRange(xRange=(-4, 4), yRange=(-2, 5), padding=0)
    window.session.set_x0(0.5)
    ui.wait_idle(window)
    start = to_widget(view, 0.5, np.sin(0.5) + 0.25 / 4)
    end = to_widget(view, 2.0, 0.0)  # the mouse wanders off the curve; the point must not
    finished = []
    view.drag_finished.connect(finished.append)
    ui.drag(view.viewport(), start, end)

    target_x = to_data(view, end)[0]
    x0 = window.session.x0
    assert x0 == pytest.approx(target_x, abs=0.02)
    assert x0 > 1.5
    # the point sits on the curve, not under the mouse
    assert view.point.pos().y() == pytest.approx(np.sin(x0) + x0**2 / 4, rel=1e-9)
    # the tangent drawn has slope f'(x0) = cos(x0) + x0/2 and passes through (x0, f(x0))
    tx, ty = view.tangent_item.getData()
    slope = (ty[1] - ty[0]) / (tx[1] - tx[0])
    assert slope == pytest.approx(np.cos(x0) + x0 / 2, rel=1e-9)
    assert np.interp(x0, tx, ty) == pytest.approx(np.sin(x0) + x0**2 / 4, rel=1e-9)
    # read-outs follow (at most 50 ms behind during a drag)
    ui.wait_idle(window)
    assert window.point_panel.values["d1"].text().replace("−", "-").startswith(
        f"{np.cos(x0) + x0 / 2:.4f}"[:5])
    assert finished and finished[-1] == pytest.approx(x0)


def test_click_on_plot_moves_point(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    view = window.curve_view
    view.getPlotItem().vb.setRange(xRange=(-3, 3), yRange=(-1, 9), padding=0)
    QtCore.QCoreApplication.processEvents()
    pos = to_widget(view, -1.5, 6.0)
    ui.send_mouse(view.viewport(), "press", pos)
    ui.send_mouse(view.viewport(), "release", pos)
    qtbot.waitUntil(lambda: abs(window.session.x0 + 1.5) < 0.02)
    tx, ty = view.tangent_item.getData()
    assert (ty[1] - ty[0]) / (tx[1] - tx[0]) == pytest.approx(2 * window.session.x0, rel=1e-9)


def test_invalid_text_shows_message_and_keeps_curve(make_window, qtbot, ui):
    window = make_window(expression="cos(x)", restore=False)
    before = window.curve_view.f_item.getData()[1].copy()
    ui.type_expression(window, "cos(x) + sinn(x)")
    panel = window.function_panel
    qtbot.waitUntil(lambda: panel.error_label.isVisible())
    assert "Column 10" in panel.error_label.text()
    assert "sin" in panel.error_label.text()
    assert panel.error_span == (9, 4)
    np.testing.assert_array_equal(window.curve_view.f_item.getData()[1], before)
    assert str(window.session.function.expr) == "cos(x)"
    # fixing the text clears the error and draws the new function
    ui.type_expression(window, "cos(x) + sin(x)")
    assert not panel.error_label.isVisible()
    xs, ys = window.curve_view.f_item.getData()
    np.testing.assert_allclose(ys, np.cos(xs) + np.sin(xs), atol=1e-12)


def test_parameter_slider_redraws_live(make_window, qtbot, ui):
    window = make_window(expression="a x^2 + b", restore=False)
    row = window.parameters_panel.rows["a"]
    low, high, _ = window.session.parameter_ranges["a"]
    row.slider.setValue(row.slider.maximum())  # as a drag to the right end does
    assert window.session.parameters["a"] == pytest.approx(high)
    xs, ys = window.curve_view.f_item.getData()
    np.testing.assert_allclose(ys, high * xs**2 + 1.0, rtol=1e-12)
    # typing a value works too
    row.value.setValue(-0.5)
    xs, ys = window.curve_view.f_item.getData()
    np.testing.assert_allclose(ys, -0.5 * xs**2 + 1.0, rtol=1e-12)
    # a new parameter gets its own row; a removed one loses it
    ui.type_expression(window, "a x + c")
    assert set(window.parameters_panel.rows) == {"a", "c"}


def test_zoom_resamples_curve(make_window, qtbot):
    window = make_window(expression="sin(1/x)", restore=False)
    view = window.curve_view
    view.getPlotItem().vb.setXRange(0.01, 0.02, padding=0)
    QtCore.QCoreApplication.processEvents()
    xs, ys = view.f_item.getData()
    finite = np.isfinite(xs)
    assert xs[finite].min() < 0.01 + 1e-3 and xs[finite].max() > 0.02 - 1e-3
    assert finite.sum() >= 1900
    np.testing.assert_allclose(ys[finite], np.sin(1 / xs[finite]), atol=1e-9)
    assert window.session.x_range[0] == pytest.approx(0.01)


def test_poles_are_gaps_not_lines(make_window, qtbot):
    window = make_window(expression="1/x", restore=False)
    view = window.curve_view
    view.getPlotItem().vb.setXRange(-1, 1, padding=0)
    QtCore.QCoreApplication.processEvents()
    xs, ys = view.f_item.getData()
    gap = np.flatnonzero(np.isnan(ys))
    assert gap.size >= 1
    # the gap separates the negative branch from the positive one
    left, right = ys[: gap[0]], ys[gap[-1] + 1:]
    assert np.all(left[np.isfinite(left)] < 0) and np.all(right[np.isfinite(right)] > 0)


def test_cursor_coordinates_in_status_bar(make_window, qtbot, ui):
    window = make_window(expression="x", restore=False)
    view = window.curve_view
    view.getPlotItem().vb.setRange(xRange=(-2, 2), yRange=(-2, 2), padding=0)
    QtCore.QCoreApplication.processEvents()
    ui.send_mouse(view.viewport(), "move", to_widget(view, 1.25, -0.5),
               buttons=QtCore.Qt.MouseButton.NoButton)
    text = window.cursor_label.text().replace("−", "-")
    assert "x = 1.2" in text and "y = -0.5" in text


def test_two_variable_function_explained(make_window, qtbot):
    window = make_window(expression="x^2 + y^2", restore=False)
    view = window.curve_view
    assert view.message.isVisible()
    assert "x and y" in view.message.textItem.toPlainText()
    xs = view.f_item.getData()[0]
    assert xs is None or len(xs) == 0


def test_toggles_show_and_hide_derivatives(make_window, qtbot):
    window = make_window(expression="x^3", restore=False)
    panel = window.function_panel
    qtbot.mouseClick(panel.show_d2, QtCore.Qt.MouseButton.LeftButton)
    assert window.session.show_second_derivative
    xs, ys = window.curve_view.d2_item.getData()
    np.testing.assert_allclose(ys, 6 * xs, atol=1e-12)
    assert window.curve_view.d2_item.isVisible()
    window.option_actions["show_derivative"].trigger()
    assert not window.session.show_derivative and not window.curve_view.d1_item.isVisible()
    assert not panel.show_d1.isChecked()


def test_typed_x0_accepts_constant_expressions(make_window, qtbot):
    window = make_window(expression="sin(x)", restore=False)
    edit = window.point_panel.x0_edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "pi/2")
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Return)
    assert window.session.x0 == pytest.approx(np.pi / 2)
    assert window.curve_view.point.pos().y() == pytest.approx(1.0)
    edit.selectAll()
    qtbot.keyClicks(edit, "pi/a")
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Return)
    assert window.point_panel.x0_error.isVisible()
    assert window.session.x0 == pytest.approx(np.pi / 2)


def test_preset_menu_sets_function(make_window, qtbot, ui):
    window = make_window(restore=False)
    actions = window.function_panel.preset_actions
    assert len(actions) >= 15
    relu = next(a for a in actions if a.data() == "relu(x)")
    relu.trigger()
    qtbot.waitUntil(lambda: window.session.expression == "relu(x)")
    ui.wait_idle(window)
    xs, ys = window.curve_view.f_item.getData()
    np.testing.assert_allclose(ys, np.maximum(xs, 0), atol=1e-12)


def test_parameter_range_is_editable(make_window, qtbot):
    window = make_window(expression="a x", restore=False)
    row = window.parameters_panel.rows["a"]
    assert (row.low.text(), row.high.text(), row.step.text()) == ("-1", "3", "0.01")
    for box, text in ((row.low, "-10"), (row.high, "10"), (row.step, "0.5")):
        box.selectAll()
        qtbot.keyClicks(box, text)
        qtbot.keyClick(box, QtCore.Qt.Key.Key_Return)
    assert window.session.parameter_ranges["a"] == (-10.0, 10.0, 0.5)
    assert row.slider.maximum() == 40
    row.slider.setValue(40)
    assert window.session.parameters["a"] == pytest.approx(10.0)
    xs, ys = window.curve_view.f_item.getData()
    np.testing.assert_allclose(ys, 10 * xs, rtol=1e-12)
    # a reversed range is refused and the fields show the range in force
    row.low.selectAll()
    qtbot.keyClicks(row.low, "20")
    qtbot.keyClick(row.low, QtCore.Qt.Key.Key_Return)
    assert window.session.parameter_ranges["a"] == (-10.0, 10.0, 0.5)
    assert row.low.text() == "-10"


def test_a_function_of_another_single_variable_is_drawn(make_window, qtbot, ui):
    # "y^3 - y" has one variable, y: it is drawn against the horizontal axis like f(x)
    window = make_window(expression="x", restore=False)
    ui.type_expression(window, "y^3 - y")
    assert window.session.function.variables == ("y",)
    xs, ys = window.curve_view.f_item.getData()
    np.testing.assert_allclose(ys, xs**3 - xs, atol=1e-12)
    dx, dy = window.curve_view.d1_item.getData()
    np.testing.assert_allclose(dy, 3 * dx**2 - 1, atol=1e-12)
    assert window.point_panel.values["d2"].text() == "3"  # f''(0.5) = 6 * 0.5


def test_preview_draws_f_until_the_parsed_function_arrives(make_window, qtbot):
    from explorer.core.syntax import numeric_preview

    window = make_window(expression="x^2", restore=False)
    view = window.curve_view
    view.show_preview(numeric_preview("a x^3", {"a": 2.0}))
    xs, ys = view.f_item.getData()
    np.testing.assert_allclose(ys, 2 * xs**3, rtol=1e-12)
    assert not view.point.isVisible()  # no tangent point before derivatives exist
    window.session.set_x0(1.0)  # the parsed function takes over at its next event
    window.session.set_expression("x^2 + 1")
    xs, ys = view.f_item.getData()
    np.testing.assert_allclose(ys, xs**2 + 1, rtol=1e-12)
    assert view.point.isVisible()
