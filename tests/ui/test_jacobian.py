"""The Jacobian lab from the app: a map (u, v) typed, the point dragged with real events, and
what is drawn and read out checked against SymPy, the core's jacobian and finite differences."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import sympy as sp
from PySide6 import QtCore

from explorer.core.multivariate import jacobian

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def numbers(text: str) -> list[float]:
    return [float(v) for v in NUMBER.findall(text.replace("−", "-").replace("×10", "e"))]


def shown_jacobian(window) -> np.ndarray:
    return np.array(numbers(window.jacobian_panel.values["matrix"].text())).reshape(2, 2)


def sympy_jacobian(u_text, v_text, point):
    """J from SymPy's diff, of the map written in SymPy's syntax (test-owned text)."""
    x, y = sp.symbols("x y")
    exprs = [sp.sympify(t, locals={"x": x, "y": y}) for t in (u_text, v_text)]
    return np.array([[float(sp.diff(e, s).subs({x: point[0], y: point[1]})) for s in (x, y)]
                     for e in exprs])


def open_lab(window, qtbot, ui):
    qtbot.keyClick(window, QtCore.Qt.Key.Key_J, QtCore.Qt.KeyboardModifier.ControlModifier)
    if not window.docks["jacobian"].isVisible():  # the shortcut needs the window's focus
        window.jacobian_action.trigger()
    assert window.jacobian_action.isChecked()
    qtbot.waitUntil(lambda: window.docks["jacobian_view"].isVisible()
                    and window.jacobian_model.ready, timeout=20000)
    ui.wait_idle(window)
    return window.jacobian_panel, window.jacobian_view, window.jacobian_model


def type_into(qtbot, edit, text):
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Return)


def set_map(window, qtbot, ui, u, v):
    panel = window.jacobian_panel
    type_into(qtbot, panel.edits["u"], u)
    type_into(qtbot, panel.edits["v"], v)
    qtbot.waitUntil(lambda: (window.jacobian_model.u_text, window.jacobian_model.v_text) == (u, v),
                    timeout=5000)
    window.jacobian_view.setFocus()  # the fields show the model's text again
    ui.wait_idle(window)


def set_point(window, qtbot, ui, x, y):
    panel = window.jacobian_panel
    type_into(qtbot, panel.x_edit, str(x))
    type_into(qtbot, panel.y_edit, str(y))
    window.jacobian_view.setFocus()
    qtbot.waitUntil(lambda: window.jacobian_model.point == (x, y), timeout=5000)
    ui.wait_idle(window)


def test_the_action_opens_and_closes_the_lab(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    assert not window.docks["jacobian"].isVisible()
    assert not window.docks["jacobian_view"].isVisible()
    panel, view, model = open_lab(window, qtbot, ui)
    assert window.docks["jacobian"].isVisible()
    assert window.jacobian_holder.currentWidget() is view
    assert panel.edits["u"].text() == "x^2 - y^2" and panel.edits["v"].text() == "2 x y"
    assert panel.presets.currentText().startswith("complex square")
    (hu, hv), (vu, vv) = view.grid_image()
    assert np.isfinite(hu).sum() == 13 * 241 and np.isfinite(vv).sum() == 13 * 241
    window.jacobian_action.trigger()
    assert not window.docks["jacobian"].isVisible()
    assert not window.docks["jacobian_view"].isVisible()
    # closing the panel's dock unchecks the action
    window.jacobian_action.trigger()
    assert window.docks["jacobian"].isVisible()
    window.docks["jacobian"].toggleViewAction().trigger()
    assert not window.jacobian_action.isChecked()


def test_linear_map_is_its_own_jacobian(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    panel, view, model = open_lab(window, qtbot, ui)
    set_map(window, qtbot, ui, "2x + y", "x + 3y")
    assert panel.presets.currentText().startswith("linear map")
    np.testing.assert_array_equal(shown_jacobian(window), [[2, 1], [1, 3]])
    assert numbers(panel.values["det"].text())[0] == pytest.approx(5.0, abs=1e-12)
    assert "reversed" not in panel.values["det"].text()
    image, ellipse = view.circle_image(), view.predicted_ellipse()
    assert image.shape == ellipse.shape and len(image) > 100
    np.testing.assert_allclose(image, ellipse, atol=1e-12, rtol=0)
    # and the grid's image is the grid mapped by the matrix
    (hu, hv), _ = view.grid_image()
    hx, hy = view.grid_h.getData()
    ok = np.isfinite(hx)
    np.testing.assert_allclose(hu[ok], 2 * hx[ok] + hy[ok], atol=1e-12)
    np.testing.assert_allclose(hv[ok], hx[ok] + 3 * hy[ok], atol=1e-12)
    area = numbers(panel.values["area"].text())
    assert area[0] == pytest.approx(5.0) and area[-1] == pytest.approx(5.0, rel=1e-4)
    # a fold reverses nothing but is singular on y = 0; a reflection reverses orientation
    set_map(window, qtbot, ui, "y", "x")
    assert "orientation reversed" in panel.values["det"].text()
    set_map(window, qtbot, ui, "x", "y^2")
    set_point(window, qtbot, ui, 0.5, 0)
    assert "singular" in panel.values["det"].text()


def test_complex_square_jacobian_against_sympy(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    panel, view, model = open_lab(window, qtbot, ui)
    set_map(window, qtbot, ui, "x^2 - y^2", "2 x y")
    set_point(window, qtbot, ui, 1, 0.5)
    expected = sympy_jacobian("x**2 - y**2", "2*x*y", (1.0, 0.5))
    np.testing.assert_allclose(expected, [[2, -1], [1, 2]])  # [[2x, -2y], [2y, 2x]]
    np.testing.assert_allclose(shown_jacobian(window), expected, atol=1e-12)
    assert numbers(panel.values["det"].text())[0] == pytest.approx(5.0)
    assert numbers(panel.values["value"].text()) == pytest.approx([0.75, 1.0])
    assert view.value_marker_pos() == pytest.approx((0.75, 1.0))


def test_dragging_the_point(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    panel, view, model = open_lab(window, qtbot, ui)
    u_text, v_text = "x cos(y)", "x sin(y)"
    set_map(window, qtbot, ui, u_text, v_text)
    set_point(window, qtbot, ui, 1, 0.5)
    start, end = view.domain_pos(1.0, 0.5), view.domain_pos(1.5, -1.0)
    ui.drag(view.domain.viewport(), start, end)
    px, py = model.point
    assert (px, py) == pytest.approx((1.5, -1.0), abs=0.05)  # a pixel is ~0.02 here
    assert (px, py) != (1.0, 0.5)
    ui.wait_idle(window)
    assert view.value_marker_pos() == pytest.approx((px * math.cos(py), px * math.sin(py)),
                                                    abs=1e-12)
    assert view.point.pos().toTuple() == pytest.approx((px, py))
    J = jacobian((model.u, model.v), (px, py))
    np.testing.assert_allclose(J, sympy_jacobian("x*cos(y)", "x*sin(y)", (px, py)), atol=1e-12)
    h = 1e-6
    fd = np.column_stack([
        (np.array(model.evaluate(np.array([px + h]), np.array([py])))
         - np.array(model.evaluate(np.array([px - h]), np.array([py])))).ravel() / (2 * h),
        (np.array(model.evaluate(np.array([px]), np.array([py + h])))
         - np.array(model.evaluate(np.array([px]), np.array([py - h])))).ravel() / (2 * h)])
    np.testing.assert_allclose(J, fd, atol=1e-7)
    np.testing.assert_allclose(shown_jacobian(window), J, rtol=1e-5, atol=1e-6)
    assert numbers(panel.values["det"].text())[0] == pytest.approx(px, rel=1e-6)  # det = r
    circle = view.circle_item.getData()
    assert np.mean(circle[0][:-1]) == pytest.approx(px) and np.mean(circle[1][:-1]) == pytest.approx(py)


def test_gap_to_the_ellipse_shrinks_like_r_squared(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    panel, view, model = open_lab(window, qtbot, ui)
    set_map(window, qtbot, ui, "exp(x) cos(y)", "exp(x) sin(y)")
    set_point(window, qtbot, ui, 0.3, 0.4)
    gaps = []
    for r in (0.2, 0.1, 0.05, 0.025):
        model.set_radius(r)
        ui.wait_idle(window)
        d = view.circle_image() - view.predicted_ellipse()
        gap = float(np.max(np.hypot(d[:, 0], d[:, 1])))
        assert numbers(panel.values["deviation"].text())[0] == pytest.approx(gap, rel=1e-3)
        gaps.append(gap)
    ratios = [a / b for a, b in zip(gaps, gaps[1:], strict=False)]
    assert all(3 <= ratio <= 5 for ratio in ratios), ratios
    # the slider is logarithmic: its right end is r = 1, its left end r = 0.01
    panel.slider.setValue(panel.slider.maximum())
    assert model.radius == pytest.approx(1.0)
    panel.slider.setValue(panel.slider.minimum())
    assert model.radius == pytest.approx(0.01)
    # zoomed on the circle, the tiny circle and its image fill both plots
    view.zoom_box.click()
    ui.wait_idle(window)
    for plot, pts in ((view.domain, view.circle_item.getData()),
                      (view.image, view.image_circle.getData())):
        (x0, x1), (y0, y1) = plot.getPlotItem().vb.viewRange()
        width = np.ptp(pts[0])
        assert x0 < pts[0].min() and pts[0].max() < x1 and y0 < pts[1].min() and pts[1].max() < y1
        assert min(x1 - x0, y1 - y0) < 5 * width
    view.zoom_box.click()
    (x0, x1), _ = view.domain.getPlotItem().vb.viewRange()
    assert x0 <= -2 and x1 >= 2


def test_measured_area_ratio_approaches_det(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    panel, view, model = open_lab(window, qtbot, ui)
    set_map(window, qtbot, ui, "x^2 - y^2", "2 x y")
    set_point(window, qtbot, ui, 1, 0.5)
    det = abs(float(np.linalg.det(model.jacobian())))
    errors = []
    for r in (0.8, 0.4, 0.1, 0.02):
        model.set_radius(r)
        ui.wait_idle(window)
        measured = numbers(panel.values["area"].text())[-1]
        assert measured == pytest.approx(model.area_ratio(), rel=1e-5)
        # z -> z² maps the disc |z - z0| < r to an area 4 pi r² (|z0|² + r²/2)
        assert measured == pytest.approx(det + 2 * r * r, rel=1e-4)
        errors.append(abs(measured - det))
    assert errors == sorted(errors, reverse=True) and errors[-1] < 2e-3


def test_a_typo_shows_its_column_and_keeps_the_map(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    panel, view, model = open_lab(window, qtbot, ui)
    set_map(window, qtbot, ui, "x^2 - y^2", "2 x y")
    before = [a.copy() for pair in view.grid_image() for a in pair]
    u_before = model.u
    type_into(qtbot, panel.edits["u"], "x^2 +")
    qtbot.waitUntil(lambda: model.u_error is not None, timeout=5000)
    ui.wait_idle(window)
    label = panel.errors["u"]
    assert label.isVisible() and "column 5" in label.text()
    assert model.u is u_before and model.u_text == "x^2 +"
    after = [a for pair in view.grid_image() for a in pair]
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.all(np.isfinite(view.circle_image()))
    # fixed: the error goes, the new map is drawn
    type_into(qtbot, panel.edits["u"], "x^2 + y")
    qtbot.waitUntil(lambda: model.u_error is None and model.u is not u_before, timeout=5000)
    ui.wait_idle(window)
    assert not label.isVisible()


def test_presets(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    panel, view, model = open_lab(window, qtbot, ui)
    for index in range(panel.presets.count()):
        panel.presets.setCurrentIndex(index)
        panel.presets.activated.emit(index)
        ui.wait_idle(window)
        u, v = panel.presets.itemData(index)
        assert (model.u_text, model.v_text) == (u, v)
        assert panel.edits["u"].text() == u
        (hu, hv), _ = view.grid_image()
        assert np.isfinite(hu).any() and np.all(np.isfinite(shown_jacobian(window)))


def test_the_map_comes_back_after_a_restart(make_window, qtbot, ui, settings):
    window = make_window(expression="sin(x)", restore=False)
    open_lab(window, qtbot, ui)
    set_map(window, qtbot, ui, "x + y^2", "x y")
    set_point(window, qtbot, ui, 0.5, -1.0)
    window.save_settings()
    again = make_window(expression="sin(x)", restore=True)  # the same settings file
    panel, _, model = open_lab(again, qtbot, ui)
    assert (model.u_text, model.v_text, model.point) == ("x + y^2", "x y", (0.5, -1.0))
    assert panel.edits["u"].text() == "x + y^2"
    # J of (x + y^2, x y) at (0.5, -1) is [[1, 2y], [y, x]]
    np.testing.assert_allclose(shown_jacobian(again), [[1.0, -2.0], [-1.0, 0.5]])
    # a damaged entry is ignored: the lab starts from its defaults
    settings.setValue("v1/jacobian", json.dumps({"u": "x", "v": "y", "point": [1e400, 0],
                                                 "radius": 0.1}))
    settings.sync()
    third = make_window(expression="sin(x)", restore=True)
    from explorer.ui.jacobian_model import DEFAULT_U

    assert third.jacobian_model.u_text == DEFAULT_U
