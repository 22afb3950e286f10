"""The regression lab from the app: a point dragged with real events and J's landscape and
optimum following, the least-squares fit against numpy.polyfit, descent against the core's,
feature scaling, and the CSV round trip with a malformed file refused line by line."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

import explorer.core as ec


def open_lab(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    qtbot.waitUntil(lambda: window.regression_loss_view is not None, timeout=20000)
    window.regression_action.trigger()  # View > Regression (Ctrl+L)
    ui.wait_idle(window)
    qtbot.wait(50)
    return window


def test_fit_descend_and_scale(make_window, qtbot, ui):
    window = open_lab(make_window, qtbot, ui)
    m, panel = window.regression_model, window.regression_panel
    assert all(window.docks[k].isVisible() for k in ("regression", "regression_data",
                                                     "regression_loss"))
    qtbot.mouseClick(panel.fit_button, QtCore.Qt.MouseButton.LeftButton)
    pw, pb = np.polyfit(m.data.xs, m.data.ys, 1)
    assert (m.w, m.b) == pytest.approx((pw, pb), rel=1e-10)
    # the gradient vanishes there: the panel writes it as a rounding-level number
    assert np.allclose(m.gradient(), 0, atol=1e-9)
    assert "10⁻" in panel.readouts.labels["dw"].text() or panel.readouts.labels["dw"].text() == "0"
    # descent from (0, 0), full batch, plain gradient descent: the core's path
    m.set_params(0.0, 0.0)
    panel.optimizer_combo.setCurrentText("SGD")
    panel.optimizer_combo.activated.emit(panel.optimizer_combo.currentIndex())
    panel.epochs_spin.setValue(25)
    qtbot.mouseClick(panel.run_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: m.descent is not None, timeout=10000)
    expected = ec.descend(m.data, (0.0, 0.0), ec.SGD(lr=m.lr), epochs=25)
    np.testing.assert_allclose(m.descent.params, expected.params, rtol=1e-12)
    xs, ys = window.regression_loss_view.path_data()
    np.testing.assert_allclose(np.column_stack([xs, ys]), expected.params, rtol=1e-12)
    # playback: the slider moves (w, b), and the data view's line follows
    panel.cursor_slider.setValue(10)
    assert (m.w, m.b) == tuple(expected.params[10])
    lx, ly = window.regression_data_view.line_data()
    np.testing.assert_allclose(ly, expected.params[10, 0] * lx + expected.params[10, 1],
                               rtol=1e-12)
    # Play replays the descent to its end
    qtbot.mouseClick(panel.play_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: m.cursor == len(m.descent.params) - 1, timeout=10000)
    assert (m.w, m.b) == tuple(expected.params[-1])
    qtbot.waitUntil(lambda: not panel.play_button.isChecked(), timeout=2000)
    # feature scaling keeps the line where it is and makes J's valley round
    before = m.line_at(m.data.xs)
    panel.scaled_box.setChecked(True)
    np.testing.assert_allclose(m.line_at(m.data.xs), before, rtol=1e-9, atol=1e-12)
    h = m.stats.hessian()
    assert h[0, 1] == pytest.approx(0, abs=1e-12) and h[0, 0] == pytest.approx(2.0)


def test_dragging_a_point_moves_the_optimum(make_window, qtbot, ui):
    window = open_lab(make_window, qtbot, ui)
    m, view = window.regression_model, window.regression_data_view
    i = int(np.argmax(m.data.xs))
    start = view.mapFromScene(view.point_scene_pos(i))
    vb = view.getPlotItem().vb
    target_data = (float(m.data.xs[i]), float(m.data.ys[i]) + 3.0)
    end = view.mapFromScene(vb.mapViewToScene(QtCore.QPointF(*target_data)))
    ui.drag(view.viewport(), QtCore.QPointF(start), QtCore.QPointF(end), steps=10)
    ui.wait_idle(window)
    assert m.data.ys[i] == pytest.approx(target_data[1], abs=0.1)
    w, b = window.regression_loss_view.optimum_pos()
    assert (w, b) == pytest.approx(tuple(np.polyfit(m.data.xs, m.data.ys, 1)), rel=1e-9)


def test_csv_round_trip_and_a_bad_file(make_window, qtbot, ui, tmp_path, monkeypatch):
    window = open_lab(make_window, qtbot, ui)
    m, panel = window.regression_model, window.regression_panel
    target = tmp_path / "points.csv"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), ""))
    panel.export_button.click()
    xs, ys = m.data.xs.copy(), m.data.ys.copy()
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,four\n")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(bad), ""))
    panel.import_button.click()
    assert panel.data_error.isVisible() and "line 3" in panel.data_error.text()
    np.testing.assert_array_equal(m.data.xs, xs)  # unchanged
    m.set_data(ec.generate(n=5, seed=9))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(target), ""))
    panel.import_button.click()
    assert not panel.data_error.isVisible()
    np.testing.assert_array_equal(m.data.xs, xs)
    np.testing.assert_array_equal(m.data.ys, ys)


def test_a_long_descent_shows_progress_and_stops(make_window, qtbot, ui):
    """10,000 epochs of mini-batches of one point over 500 points (5 million updates): the
    panel shows the epochs done and Stop ends it; the previous descent stays."""
    window = open_lab(make_window, qtbot, ui)
    m, panel = window.regression_model, window.regression_panel
    m.set_data(ec.generate(n=500, seed=3))
    panel.epochs_spin.setValue(5)
    qtbot.mouseClick(panel.run_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: m.descent is not None, timeout=10000)
    before = m.descent
    panel.epochs_spin.setValue(10_000)
    panel.batch_spin.setValue(1)
    qtbot.mouseClick(panel.run_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.stop_button.isVisible(), timeout=20000)
    qtbot.waitUntil(lambda: panel.progress_bar.value() >= 1, timeout=20000)
    assert panel.progress_bar.maximum() == 10_000
    qtbot.mouseClick(panel.stop_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not m.is_busy(), timeout=20000)
    ui.wait_idle(window)
    assert m.descent is before is not None
    assert "stopped after" in panel.descent_error.text()
    assert "previous one is kept" in panel.descent_error.text()
    assert not panel.stop_button.isVisible() and not panel.progress_bar.isVisible()
    assert len(m.data) == 500 and m.epochs == 10_000  # nothing the user set is lost
