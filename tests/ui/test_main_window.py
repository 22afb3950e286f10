"""Window-level behaviour: layout and last function restored, View menu, typeset formula."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore


def test_last_function_and_layout_restored(make_window, qtbot, settings, ui):
    window = make_window(restore=False)
    ui.type_expression(window, "tanh(2x)")
    window.session.set_x0(-0.75)
    window.docks["point"].hide()
    window.close()

    again = make_window()
    qtbot.waitUntil(lambda: again.session.expression == "tanh(2x)", timeout=20000)
    assert again.session.x0 == pytest.approx(-0.75)
    assert not again.docks["point"].isVisible()
    assert again.function_panel.edit.text() == "tanh(2x)"
    again.reset_layout_action.trigger()
    assert all(dock.isVisible() for dock in again.docks.values())


def test_corrupt_settings_are_ignored(make_window, qtbot, settings):
    settings.setValue("v1/session", "{not json")
    settings.setValue("v1/state", QtCore.QByteArray(b"garbage"))
    settings.setValue("v1/geometry", "nonsense")
    settings.sync()
    window = make_window()
    assert window.session.error is None
    assert window.session.function is not None


def test_hostile_saved_session_is_refused(make_window, qtbot, settings):
    import json

    settings.setValue("v1/session", json.dumps({"expression": "__import__('os')", "x0": 1}))
    settings.sync()
    window = make_window()
    # the hostile text is shown as an error, never evaluated; the app runs on
    assert window.session.error is not None
    assert "_" in window.session.error.message


def test_view_menu_toggles_docks(make_window, qtbot):
    window = make_window(restore=False)
    dock = window.docks["parameters"]
    action = dock.toggleViewAction()
    assert action in window.view_menu.actions()
    action.trigger()
    assert not dock.isVisible()
    action.trigger()
    assert dock.isVisible()
    assert {d.objectName() for d in window.docks.values()} == {
        "functionDock", "pointDock", "parametersDock", "criticalDock", "quotientDock",
        "errorDock", "taylorDock", "taylor_errorDock", "integralDock", "convergenceDock",
        "expectationDock", "monte_carloDock", "landscapeDock", "cross_sectionDock", "surfaceDock",
        "jacobianDock", "jacobian_viewDock", "raceDock", "race_plotsDock", "sweepDock",
        "backpropDock", "graphDock", "gradcheckDock", "chainDock", "regressionDock",
        "regression_dataDock", "regression_lossDock", "regression_epochsDock"}


def test_function_and_derivative_typeset(make_window, qtbot, ui):
    window = make_window(expression="sigmoid(x)", restore=False)
    ui.wait_idle(window)
    panel = window.function_panel
    qtbot.waitUntil(lambda: panel.formula_label.pixmap() is not None
                    and not panel.formula_label.pixmap().isNull(), timeout=20000)
    assert "sigmoid" in panel.formula_label.toolTip()
    assert "sigmoid" in panel.derivative_label.toolTip()
    assert not panel.derivative_label.pixmap().isNull()


def test_plot_takes_the_centre(make_window, qtbot):
    # The plot replaces a placeholder after pyqtgraph loads; the docks must not swallow it.
    window = make_window(restore=False)
    assert window.curve_view.width() > 0.55 * window.width()
    assert window.curve_view.isVisible()


def test_typo_at_close_comes_back_with_its_error(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    ui.type_expression(window, "x^2 +")
    assert window.session.error is not None
    window.close()
    again = make_window()
    qtbot.waitUntil(lambda: again.session.expression == "x^2 +", timeout=20000)
    assert again.session.error is not None and str(again.session.function.expr) == "x**2"
    assert again.function_panel.error_label.isVisible()


def test_a_typed_function_reaches_the_views_after_the_turn_that_applies_it(make_window, qtbot,
                                                                            ui):
    """The parsed text is applied at once; the views redraw in later turns, a few
    milliseconds of updates each (worker.InTurns), so no single turn redraws and repaints
    every view."""
    window = make_window(expression="x^2", restore=False)
    view, applying, calls = window.curve_view, [], []
    redraw, apply = view._redraw_all, window._apply_parsed

    def spy(*args, **kwargs):
        calls.append(bool(applying))
        return redraw(*args, **kwargs)

    def applying_parsed(result):
        applying.append(True)
        try:
            apply(result)
            assert window.session.expression == result[0]  # the text is there at once
        finally:
            applying.clear()

    view._redraw_all, window._apply_parsed = spy, applying_parsed
    ui.type_expression(window, "x^3 - 3x")
    assert calls and not any(calls)
    xs, ys = view.f_item.getData()
    finite = np.isfinite(ys)
    assert finite.sum() > 100
    np.testing.assert_allclose(ys[finite], xs[finite] ** 3 - 3 * xs[finite], rtol=1e-12,
                               atol=1e-12)
