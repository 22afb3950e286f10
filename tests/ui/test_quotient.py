"""The difference-quotient panel, the secant on the curve and the error-versus-h plot."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from explorer.ui.panels.quotient_panel import tick_to_h


def slider_point(slider, fraction):
    """Where a fraction of the slider's groove is, in the slider's coordinates."""
    return QtCore.QPointF(8 + fraction * (slider.width() - 16), slider.height() / 2)


def open_lab(window):
    """As a user does: View > Difference quotient and Error vs h, and tick "secant"."""
    window.docks["quotient"].toggleViewAction().trigger()
    window.docks["error"].toggleViewAction().trigger()
    window.quotient_panel.show_secant.click()
    assert window.session.show_secant and window.error_view.isVisible()


def test_lab_is_closed_by_default_and_costs_nothing(make_window, qtbot):
    window = make_window(expression="sin(x)", restore=False)
    assert not window.docks["quotient"].isVisible() and not window.session.show_secant
    xs, _ = window.curve_view.secant_item.getData()
    assert xs is None or len(xs) == 0


def test_dragging_the_h_slider_moves_the_secant(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    open_lab(window)
    window.session.set_x0(1.0)
    slider = window.quotient_panel.slider
    handle = slider_point(slider, (slider.value() - slider.minimum()) / slider.maximum())
    ui.drag(slider, handle, slider_point(slider, 0.25))
    h = window.session.h
    assert h < 0.5 and h == pytest.approx(tick_to_h(slider.value()))
    # the secant drawn passes through (x0, f(x0)) and (x0 + h, f(x0 + h))
    xs, ys = window.curve_view.secant_item.getData()
    slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    expected = (math.sin(1.0 + h) - math.sin(1.0)) / h
    assert slope == pytest.approx(expected, rel=1e-9)
    px, py = window.curve_view.secant_points.getData()
    np.testing.assert_allclose(px, [1.0, 1.0 + h])
    np.testing.assert_allclose(py, np.sin([1.0, 1.0 + h]))
    # the read-out is the same number
    shown = float(window.quotient_panel.values["quotient"].text().replace("−", "-"))
    assert shown == pytest.approx(expected, rel=1e-9)


def test_scheme_sign_and_typed_h(make_window, qtbot):
    window = make_window(expression="exp(x)", restore=False)
    open_lab(window)
    panel = window.quotient_panel
    panel.scheme.setCurrentText("central")
    panel.h_edit.setFocus()
    panel.h_edit.selectAll()
    qtbot.keyClicks(panel.h_edit, "0.01")
    qtbot.keyClick(panel.h_edit, QtCore.Qt.Key.Key_Return)
    qtbot.mouseClick(panel.negative, QtCore.Qt.MouseButton.LeftButton)
    s = window.session
    assert (s.scheme, s.h, s.h_negative) == ("central", 0.01, True)
    x0 = s.x0
    xs, ys = window.curve_view.secant_item.getData()
    slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    assert slope == pytest.approx((math.exp(x0 + 0.01) - math.exp(x0 - 0.01)) / 0.02, rel=1e-9)
    px, _ = window.curve_view.secant_points.getData()
    np.testing.assert_allclose(sorted(px), [x0 - 0.01, x0 + 0.01])


def test_error_plot_shows_the_v(make_window, qtbot):
    window = make_window(expression="exp(x)", restore=False)
    open_lab(window)
    window.session.set_x0(1.0)
    qtbot.waitUntil(lambda: not window.error_view._pause.isActive())
    view = window.error_view
    hs, err = view.measured.getOriginalDataset()  # getData() is log10 in log mode
    expected = np.abs((np.exp(1.0 + hs) - math.e) / hs - math.e)
    ok = np.isfinite(err)
    np.testing.assert_allclose(err[ok], expected[ok], rtol=1e-6, atol=1e-16)
    best = view.best_h()
    assert 1e-10 < best < 1e-6
    i = int(np.nanargmin(err))
    assert err[0] > 100 * err[i] and np.nanmax(err[i:]) > 100 * err[i]
    # truncation model for a forward quotient: |f''(x0)| / 2 * h
    th, te = view.truncation.getOriginalDataset()
    np.testing.assert_allclose(te, math.e / 2 * th, rtol=1e-9)


def test_behind_another_tab_the_error_plot_waits_and_catches_up(make_window, qtbot):
    """Qt 6 reports a dock behind another's tab as visible: the error plot must not redraw
    there (it costs a drag frame), and must catch up when its tab is raised."""
    window = make_window(expression="exp(x)", restore=False)
    open_lab(window)
    view = window.error_view
    window.session.set_x0(1.0)
    qtbot.waitUntil(lambda: not view._pause.isActive())
    before = view.measured.getOriginalDataset()[1].copy()
    window.expectation_action.setChecked(True)  # Monte Carlo's tab raised over the error plot
    qtbot.waitUntil(lambda: window.docks["monte_carlo"].isVisible())
    QtWidgets.QApplication.processEvents()
    assert view.isVisible() and not view.on_screen()
    window.session.set_h(0.25)
    window.session.set_x0(0.0)
    qtbot.wait(150)  # the error plot's pause and a little more
    np.testing.assert_array_equal(view.measured.getOriginalDataset()[1], before)  # untouched
    window.docks["error"].raise_()
    qtbot.waitUntil(view.on_screen, timeout=5000)
    hs = view.measured.getOriginalDataset()[0]
    expected = np.abs((np.exp(hs) - 1.0) / hs - 1.0)  # at x0 = 0 now
    qtbot.waitUntil(lambda: np.allclose(view.measured.getOriginalDataset()[1][hs > 1e-6],
                                        expected[hs > 1e-6], rtol=1e-6), timeout=5000)
