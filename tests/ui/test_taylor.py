"""The Taylor lab from the app: order slider, centre, tolerance, faint orders, error plot."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from PySide6 import QtCore


def to_widget(view, x, y):
    scene = view.getPlotItem().vb.mapViewToScene(QtCore.QPointF(x, y))
    return QtCore.QPointF(view.mapFromScene(scene))


def sympy_polynomial(text, x0, order):
    """T_n as a NumPy function, from SymPy's derivatives at x0 in exact or 30-digit arithmetic
    (independent of the app's compiled route)."""
    x = sp.Symbol("x")
    expr = sp.sympify(text, locals={"x": x})
    c = [sp.N(sp.diff(expr, x, k).subs(x, x0), 30) / sp.factorial(k) for k in range(order + 1)]
    coefficients = np.array([float(v) for v in c])
    return lambda xs: np.polyval(coefficients[::-1], np.asarray(xs) - float(x0))


def open_taylor(window, qtbot):
    """As a user does: View > Show the Taylor polynomial (Ctrl+4), then wait for the series."""
    window.option_actions["show_taylor"].trigger()
    assert window.docks["taylor"].isVisible() and window.taylor_error_view.isVisible()
    qtbot.waitUntil(lambda: window.taylor_model.series() is not None, timeout=20000)


def drawn_polynomial(window):
    xs, ys = window.taylor_overlay.item.getData()
    (_, _), (y0, y1) = window.curve_view.getPlotItem().vb.viewRange()
    inside = (ys > y0) & (ys < y1)  # the view clips far values (drawn as flat beyond)
    return xs[inside], ys[inside]


def test_taylor_curve_is_the_polynomial(make_window, qtbot):
    window = make_window(expression="sin(x) + x^2/4", restore=False)
    window.session.set_x0(0.5)
    open_taylor(window, qtbot)
    xs, ys = drawn_polynomial(window)
    assert xs.size > 100
    expected = sympy_polynomial("sin(x) + x**2/4", sp.Rational(1, 2), window.session.taylor_order)
    np.testing.assert_allclose(ys, expected(xs), rtol=1e-9, atol=1e-9)
    text = window.taylor_panel.polynomial.text()
    assert "<i>T</i><sub>3</sub>" in text and "(<i>x</i>&nbsp;−&nbsp;0.5)" in text
    assert "symbolic" in window.taylor_panel.values["method"].text()


def test_order_slider_with_keys_changes_the_polynomial(make_window, qtbot):
    window = make_window(expression="exp(x)", restore=False)
    window.session.set_x0(0.0)
    open_taylor(window, qtbot)
    slider = window.taylor_panel.order_slider
    slider.setFocus()
    for _ in range(5):
        qtbot.keyClick(slider, QtCore.Qt.Key.Key_Right)
    assert window.session.taylor_order == 8 and window.taylor_panel.order_spin.value() == 8
    qtbot.waitUntil(lambda: window.taylor_model.series() is not None
                    and window.taylor_model.series().coefficients.size == 9)
    xs, ys = drawn_polynomial(window)
    expected = sum(xs**k / math.factorial(k) for k in range(9))
    np.testing.assert_allclose(ys, expected, rtol=1e-12)


def test_dragging_the_point_moves_the_centre(make_window, qtbot, ui):
    window = make_window(expression="cos(x)", restore=False)
    window.session.set_x0(-1.0)
    open_taylor(window, qtbot)
    view = window.curve_view
    ui.drag(view.viewport(), to_widget(view, -1.0, math.cos(-1.0)), to_widget(view, 1.2, 0.0))
    x0 = window.session.x0
    assert x0 == pytest.approx(1.2, abs=0.03)
    xs, ys = drawn_polynomial(window)
    expected = sympy_polynomial("cos(x)", sp.Float(x0, 17), 3)
    np.testing.assert_allclose(ys, expected(xs), rtol=1e-9, atol=1e-9)


def test_own_centre_dragged_on_the_curve(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    window.session.set_x0(2.0)
    open_taylor(window, qtbot)
    qtbot.mouseClick(window.taylor_panel.follow_box, QtCore.Qt.MouseButton.LeftButton)
    s = window.session
    assert not s.taylor_follows_point and s.taylor_center == 2.0
    # the x0 point and the diamond sit on each other: move x0 away first, by typing
    s.set_x0(-2.0)
    center = window.taylor_overlay.center
    assert center.isVisible()
    view = window.curve_view
    ui.drag(view.viewport(), to_widget(view, 2.0, math.sin(2.0)), to_widget(view, 0.5, 1.0))
    assert s.taylor_center == pytest.approx(0.5, abs=0.03)
    assert s.x0 == -2.0  # the point stayed
    assert center.pos().y() == pytest.approx(math.sin(s.taylor_center))  # pinned to the curve
    xs, ys = drawn_polynomial(window)
    expected = sympy_polynomial("sin(x)", sp.Float(s.taylor_center, 17), 3)
    np.testing.assert_allclose(ys, expected(xs), rtol=1e-9, atol=1e-9)


def test_tolerance_interval_marked_on_both_plots(make_window, qtbot):
    window = make_window(expression="sin(x)", restore=False)
    window.session.set_x0(0.0)
    open_taylor(window, qtbot)
    panel = window.taylor_panel
    panel.tolerance_edit.setFocus()
    panel.tolerance_edit.selectAll()
    qtbot.keyClicks(panel.tolerance_edit, "1e-3")
    qtbot.keyClick(panel.tolerance_edit, QtCore.Qt.Key.Key_Return)
    assert window.session.taylor_tolerance == 1e-3
    from scipy.optimize import brentq

    right = brentq(lambda x: abs(math.sin(x) - (x - x**3 / 6)) - 1e-3, 0.1, 2.0)
    lo, hi = window.taylor_overlay.band.getRegion()
    assert (lo, hi) == pytest.approx((-right, right), abs=0.02)
    assert window.taylor_error_view.band.getRegion() == pytest.approx((lo, hi))
    # the error plot draws log10 |sin x - T3(x)|
    xs, logs = window.taylor_error_view.curve.getData()
    far = np.abs(xs) > 0.5
    np.testing.assert_allclose(logs[far], np.log10(np.abs(np.sin(xs[far]) - xs[far] + xs[far]**3 / 6)),
                               atol=1e-6)


def test_faint_orders_show_the_partial_sums(make_window, qtbot):
    window = make_window(expression="1/(1 + x^2)", restore=False)
    window.session.set_x0(0.0)
    open_taylor(window, qtbot)
    window.session.set_taylor_order(6)
    qtbot.mouseClick(window.taylor_panel.all_orders_box, QtCore.Qt.MouseButton.LeftButton)
    assert window.session.taylor_all_orders
    xs, ys = window.taylor_overlay.orders_item.getData()
    breaks = np.flatnonzero(np.isnan(xs))
    assert breaks.size == 5  # orders 1..5, each ended by a gap
    first = slice(0, breaks[0])
    # order 1 of 1/(1+x^2) at 0 is the constant 1 (its series is 1 - x^2 + x^4 - ...)
    np.testing.assert_allclose(ys[first], 1.0, atol=1e-9)


def test_kinked_function_gets_a_message_not_a_crash(make_window, qtbot):
    window = make_window(expression="abs(x - 1)", restore=False)
    window.session.set_x0(1.0)
    window.option_actions["show_taylor"].trigger()
    qtbot.waitUntil(lambda: window.taylor_model.ready, timeout=20000)
    window.session.set_taylor_order(4)
    # abs' derivatives are known symbolically (0 at the kink, by PyTorch's convention)
    assert window.taylor_model.series() is not None
    assert window.taylor_overlay.item.isVisible()
