"""The integration lab from the app: boxes under f, the bounds dragged, F(x) and the theorem,
the sums against n."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6 import QtCore
from scipy import integrate


def to_widget(view, x, y):
    scene = view.getPlotItem().vb.mapViewToScene(QtCore.QPointF(x, y))
    return QtCore.QPointF(view.mapFromScene(scene))


def open_sums(window, qtbot):
    """As a user does: View > Riemann sum (Ctrl+7); then wait for the antiderivative."""
    window.option_actions["show_riemann"].trigger()
    assert window.docks["integral"].isVisible() and window.docks["convergence"].isVisible()
    qtbot.waitUntil(lambda: window.integration_model.ready, timeout=20000)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=20000)


def readout(window, key):
    return window.integral_panel.values[key].text()


def number(text):
    return float(text.split()[0].replace("−", "-").replace("×10", "e").translate(
        str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")))


def left_sums_of_x_squared(make_window, qtbot):
    """A window on x^2 with the sums open: four left boxes over [0, 1]."""
    window = make_window(expression="x^2", restore=False)
    s = window.session
    s.set_integral_bounds(0.0, 1.0)
    s.set_riemann_n(4)
    s.set_riemann_rule("left")
    open_sums(window, qtbot)
    return window


def test_boxes_drawn_are_the_sum(make_window, qtbot):
    window = left_sums_of_x_squared(make_window, qtbot)
    s = window.session
    xs, ys = window.integral_overlay.drawn_boxes()
    np.testing.assert_allclose(xs, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(ys, [0, 0.0625, 0.25, 0.5625])  # x^2 at the left ends
    assert window.integral_overlay.boxes.kind == "rectangles" and window.integral_overlay.boxes.outlined
    assert number(readout(window, "sum")) == pytest.approx(7 / 32)  # (0 + 1 + 4 + 9) / 64
    assert number(readout(window, "integral")) == pytest.approx(1 / 3)
    assert "exact" in readout(window, "integral")
    assert number(readout(window, "error")) == pytest.approx(7 / 32 - 1 / 3, rel=1e-4)
    lower, upper = readout(window, "bracket").split(" ≤ I ≤ ")
    assert number(lower) == pytest.approx(7 / 32) and number(upper) == pytest.approx(15 / 32)
    # the rule from its combo box: trapezoids' tops are f at the edges
    combo = window.integral_panel.rule_combo
    combo.setCurrentIndex(combo.findData("trapezoid"))
    assert s.riemann_rule == "trapezoid"
    xs, ys = window.integral_overlay.drawn_boxes()
    assert window.integral_overlay.boxes.kind == "trapezoids"
    np.testing.assert_allclose(ys, xs**2)
    assert number(readout(window, "sum")) == pytest.approx(11 / 32)


def test_dragging_the_bounds(make_window, qtbot, ui):
    window = make_window(expression="sin(x) + 1.5", restore=False)
    s = window.session
    view = window.curve_view
    view.getPlotItem().vb.setRange(xRange=(-4, 4), yRange=(-1, 3), padding=0)
    s.set_integral_bounds(-1.0, 2.0)
    s.set_riemann_n(20)
    open_sums(window, qtbot)
    viewport = view.viewport()
    ui.drag(viewport, to_widget(view, 2.0, 0.5), to_widget(view, 3.0, 0.7))
    a, b = s.integral_bounds
    assert a == -1.0 and b == pytest.approx(3.0, abs=0.02)  # a pixel is ~0.01 here
    ui.drag(viewport, to_widget(view, -1.0, 1.0), to_widget(view, 0.5, 1.0))
    a, b = s.integral_bounds
    assert a == pytest.approx(0.5, abs=0.02)
    ui.wait_idle(window)
    xs, ys = window.integral_overlay.drawn_boxes()
    assert xs[0] == a and xs[-1] == b and len(ys) == 20
    mids = (xs[:-1] + xs[1:]) / 2  # the session's rule is the midpoint rule
    np.testing.assert_allclose(ys, np.sin(mids) + 1.5)
    exact = math.cos(a) - math.cos(b) + 1.5 * (b - a)
    assert number(readout(window, "integral")) == pytest.approx(exact, rel=1e-8)
    assert number(readout(window, "sum")) == pytest.approx(np.sum(ys) * (b - a) / 20, rel=1e-8)


def test_darboux_boxes_use_the_true_extrema(make_window, qtbot):
    window = make_window(expression="sin(x)", restore=False)
    s = window.session
    s.set_integral_bounds(0.0, math.pi)
    s.set_riemann_n(1)
    s.set_riemann_rule("upper")
    open_sums(window, qtbot)
    _, ys = window.integral_overlay.drawn_boxes()
    assert ys == pytest.approx([1.0], abs=1e-12)  # the maximum at pi/2, not the endpoints' 0
    assert number(readout(window, "sum")) == pytest.approx(math.pi, abs=1e-8)  # 10 digits shown


def test_n_slider_with_keys(make_window, qtbot):
    window = make_window(expression="exp(x)", restore=False)
    open_sums(window, qtbot)
    slider = window.integral_panel.n_slider
    slider.setFocus()
    qtbot.keyClick(slider, QtCore.Qt.Key.Key_End)
    assert window.session.riemann_n == 10_000
    assert len(window.integral_overlay.drawn_boxes()[1]) == 10_000
    assert not window.integral_overlay.boxes.outlined  # 10,000 outlines would be a smear
    qtbot.keyClick(slider, QtCore.Qt.Key.Key_Home)
    assert window.session.riemann_n == 1


def test_accumulation_and_the_fundamental_theorem(make_window, qtbot, ui):
    window = make_window(expression="cos(x)", restore=False)
    s = window.session
    view = window.curve_view
    view.getPlotItem().vb.setRange(xRange=(-4, 4), yRange=(-1.5, 1.5), padding=0)
    s.set_integral_bounds(0.0, 2.0)
    s.set_x0(-2.0)
    window.option_actions["show_accumulation"].trigger()
    qtbot.waitUntil(lambda: window.integration_model.ready, timeout=20000)
    ui.wait_idle(window)
    acc = window.accumulation_view
    assert acc.isVisible()
    xs, ys = acc.curve.getData()
    np.testing.assert_allclose(ys, np.sin(xs), atol=1e-9)  # F(x) = sin x - sin 0
    # drag the point along f: the area from a to x0 and the tangent to F follow
    ui.drag(view.viewport(), QtCore.QPointF(view.mapFromScene(view.point_scene_pos())),
            to_widget(view, 1.0, 0.3))
    x0 = s.x0
    assert x0 == pytest.approx(1.0, abs=0.02)
    ax, ay = window.integral_overlay.drawn_area()
    assert ax[0] == 0.0 and ax[-1] == x0
    np.testing.assert_allclose(ay, np.cos(ax))
    assert integrate.trapezoid(ay, ax) == pytest.approx(math.sin(x0), abs=1e-5)
    assert acc.tangent_slope() == pytest.approx(math.cos(x0), rel=1e-9)
    assert acc.point.pos().y() == pytest.approx(math.sin(x0), abs=1e-4)
    ui.wait_idle(window)
    assert number(readout(window, "F")) == pytest.approx(math.sin(x0), rel=1e-8)
    assert number(readout(window, "slope")) == pytest.approx(math.cos(x0), rel=1e-6)
    assert number(readout(window, "f")) == pytest.approx(math.cos(x0), rel=1e-8)
    # dragging the point on F moves x0 as well
    start = to_widget(acc, x0, math.sin(x0))
    ui.drag(acc.viewport(), start, to_widget(acc, -0.5, math.sin(-0.5)))
    assert s.x0 == pytest.approx(-0.5, abs=0.03)


def test_convergence_plots(make_window, qtbot):
    window = make_window(expression="exp(x)", restore=False)
    s = window.session
    s.set_integral_bounds(0.0, 1.0)
    open_sums(window, qtbot)
    view = window.convergence_view
    qtbot.waitUntil(lambda: window.integration_model.convergence is not None
                    and view.error.getOriginalDataset()[0] is not None, timeout=30000)
    exact = math.e - 1
    data = window.integration_model.convergence
    # lower <= integral <= upper for every n, and the rule in between
    assert np.all(data.sums["lower"] <= exact + 1e-12) and np.all(data.sums["upper"] >= exact - 1e-12)
    assert view.measured_order() == pytest.approx(2.0, abs=0.1)  # the midpoint rule
    window.integral_panel.rule_combo.setCurrentIndex(0)  # left endpoints
    assert s.riemann_rule == "left"
    assert view.measured_order() == pytest.approx(1.0, abs=0.1)
    xs, ys = view.error.getOriginalDataset()
    np.testing.assert_allclose(ys, np.abs(data.sums["left"] - exact))
    assert "fitted slope" in view.status.text()


def test_divergent_integral_is_reported(make_window, qtbot):
    window = make_window(expression="1/x", restore=False)
    window.session.set_integral_bounds(-1.0, 1.0)
    open_sums(window, qtbot)
    text = readout(window, "integral")
    assert "converge" in text or "undefined" in text
    window.session.set_integral_bounds(1.0, 2.0)
    qtbot.waitUntil(lambda: "0.693147" in readout(window, "integral"), timeout=5000)


def test_panel_behind_a_tab_waits_and_catches_up_when_raised(make_window, qtbot):
    """The sums' read-outs cost a function change up to ~0.2 s: behind another dock's tab they
    are not worked out, and raising the tab brings them up to date."""
    window = left_sums_of_x_squared(make_window, qtbot)
    assert number(readout(window, "sum")) == pytest.approx(7 / 32)
    # the point's dock dragged onto the integral panel's tabs, and raised
    window.tabifyDockWidget(window.docks["integral"], window.docks["point"])
    window.docks["point"].raise_()
    qtbot.waitUntil(lambda: window.docks["integral"].visibleRegion().isEmpty(), timeout=5000)
    window.session.set_expression("x^3")
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=20000)
    assert number(readout(window, "sum")) == pytest.approx(7 / 32)  # not worked out behind
    window.docks["integral"].raise_()
    # left sum of x^3 over 4 boxes of [0, 1]: (0 + 1 + 8 + 27) / 256
    qtbot.waitUntil(lambda: number(readout(window, "sum")) == pytest.approx(36 / 256),
                    timeout=5000)
    assert number(readout(window, "integral")) == pytest.approx(0.25)
