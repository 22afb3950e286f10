"""Edit > Undo and Redo, and the autosave: each kind of action undone and redone (function
edits, parameter changes, drags as one entry made on release, data edits, run changes), and
the work of a window that did not close properly offered at the next start."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets
from PySide6.QtTest import QTest

import explorer.core as ec
from explorer.core.race import DEFAULT_RUNS


def settle(qtbot, window):
    """Wait until the history has looked at the latest change (an applied document tells
    its subscribers, the history among them, over the next turns)."""
    qtbot.waitUntil(lambda: not window.session.owes() and not window.history._timer.isActive(),
                    timeout=10000)
    QtWidgets.QApplication.processEvents()


def undo(qtbot, window):
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: not window.history._applying, timeout=10000)  # parsed off-thread
    settle(qtbot, window)


def redo(qtbot, window):
    window.redo_action.trigger()
    qtbot.waitUntil(lambda: not window.history._applying, timeout=10000)
    settle(qtbot, window)


@pytest.fixture
def window(make_window, qtbot):
    w = make_window(expression="a*x^2 + 1", restore=False)
    qtbot.waitUntil(lambda: w.history.recording, timeout=10000)
    return w


def test_a_function_edit_typed_key_by_key_is_one_entry(window, qtbot, ui):
    ui.type_expression(window, "cos(x)")
    settle(qtbot, window)
    assert window.undo_action.text().replace("&", "") == "Undo Edit the function"
    assert window.history.stack.count() == 1
    undo(qtbot, window)
    assert window.session.expression == "a*x^2 + 1"
    assert window.session.function.text == "a*x^2 + 1"
    redo(qtbot, window)
    assert window.session.expression == "cos(x)"


def test_an_undo_redraws_the_views_in_turns_after_it(window, qtbot, ui):
    """An undo puts the whole state back at once, and the views learn of it in later turns of
    the event loop (worker.InTurns, painted between), not all in the turn that applies it."""
    view, panel = window.curve_view, window.parameters_panel
    ui.type_expression(window, "cos(x)")
    settle(qtbot, window)
    calls, applying = [], []
    redraw, refresh = view._redraw_all, panel.refresh

    def spy(name, method):
        def call(*args, **kwargs):
            calls.append((name, bool(applying)))
            return method(*args, **kwargs)
        return call

    view._redraw_all, panel.refresh = spy("curve", redraw), spy("sliders", refresh)
    apply = window.apply_document

    def applying_document(*args, **kwargs):
        applying.append(True)
        try:
            apply(*args, **kwargs)
            assert window.session.expression == "a*x^2 + 1"  # the state is back at once
        finally:
            applying.clear()

    window.apply_document = applying_document
    undo(qtbot, window)
    ui.wait_idle(window)
    assert sorted(calls) == [("curve", False), ("sliders", False)]
    xs, ys = view.f_item.getData()  # drawn: the restored a x^2 + 1 with a = 1
    finite = np.isfinite(ys)
    assert finite.sum() > 100
    np.testing.assert_allclose(ys[finite], xs[finite] ** 2 + 1, rtol=1e-12, atol=1e-12)
    assert list(panel.rows) == ["a"] and panel.rows["a"].isVisibleTo(panel)


def test_parameter_changes_and_their_names(window, qtbot):
    s = window.session
    s.set_parameter("a", 2.5)
    settle(qtbot, window)
    s.set_parameter("a", -1.0)
    settle(qtbot, window)
    assert window.undo_action.text().replace("&", "") == "Undo Change a"
    undo(qtbot, window)
    assert s.parameters["a"] == 2.5
    undo(qtbot, window)
    assert s.parameters["a"] == 1.0
    assert not window.undo_action.isEnabled()
    redo(qtbot, window)
    redo(qtbot, window)
    assert s.parameters["a"] == -1.0


def test_a_drag_is_one_entry_made_on_release(window, qtbot):
    """A real drag of the point on the curve (button held across a pause longer than the
    settle time) makes one entry; undo puts the point back where the drag began."""
    view = window.curve_view
    s = window.session
    x_start = s.x0
    viewport = view.viewport()
    vb = view.getPlotItem().vb

    def at(x):
        scene = vb.mapViewToScene(QtCore.QPointF(x, float(s.f(x))))
        return view.mapFromScene(scene)

    QTest.mousePress(viewport, QtCore.Qt.MouseButton.LeftButton, pos=at(x_start))
    for x in np.linspace(x_start, x_start + 1.0, 6)[1:]:
        QTest.mouseMove(viewport, at(x))
        qtbot.wait(window.history._timer.interval() // 2 + 20)  # two settle times in all
    qtbot.wait(window.history._timer.interval() + 100)
    assert window.history.stack.count() == 0  # still held: no entry yet
    QTest.mouseRelease(viewport, QtCore.Qt.MouseButton.LeftButton, pos=at(x_start + 1.0))
    qtbot.wait(window.history._timer.interval() + 100)
    settle(qtbot, window)
    moved = s.x0
    assert abs(moved - (x_start + 1.0)) < 0.05
    assert window.history.stack.count() == 1
    assert window.undo_action.text().replace("&", "") == "Undo Move the point"
    undo(qtbot, window)
    assert s.x0 == x_start
    redo(qtbot, window)
    assert s.x0 == moved


def test_data_edits_and_run_changes(window, qtbot):
    m = window.regression_model
    m.set_data(ec.generate(n=5, seed=2))
    settle(qtbot, window)
    xs = m.data.xs.copy()
    m.add_point(0.5, 0.25)
    settle(qtbot, window)
    assert window.undo_action.text().replace("&", "") == "Undo Edit the data"
    assert len(m.data) == 6
    undo(qtbot, window)
    np.testing.assert_array_equal(m.data.xs, xs)
    s = window.session
    s.set_race_runs(DEFAULT_RUNS[:2])
    settle(qtbot, window)
    assert window.undo_action.text().replace("&", "") == "Undo Change the runs"
    undo(qtbot, window)
    assert s.race_runs == DEFAULT_RUNS


def test_panning_makes_no_entry_and_undo_keeps_the_view(window, qtbot):
    s = window.session
    s.set_x0(1.5)
    settle(qtbot, window)
    count = window.history.stack.count()
    s.set_view_range((-20.0, 20.0), None)
    settle(qtbot, window)
    assert window.history.stack.count() == count
    undo(qtbot, window)
    assert s.x0 == 0.5 and s.x_range == (-20.0, 20.0)


def test_opening_a_file_can_be_undone(window, qtbot, tmp_path):
    s = window.session
    other = json.loads(json.dumps(window.session_document()))
    other["session"]["expression"] = "x^3"
    other["session"]["parameters"] = {}
    path = tmp_path / "other.json"
    path.write_text(json.dumps(other))
    assert window.open_file(str(path))
    qtbot.waitUntil(lambda: s.expression == "x^3", timeout=10000)
    settle(qtbot, window)
    assert window.undo_action.text().replace("&", "") == "Undo Open other.json"
    undo(qtbot, window)
    assert s.expression == "a*x^2 + 1"


def test_the_autosave_follows_the_work_and_goes_on_a_clean_close(window, qtbot, data_dir):
    window.session.set_parameter("a", 3.0)
    settle(qtbot, window)
    path = window.history.autosave_path
    assert path.parent == data_dir and path.exists()
    saved = json.loads(path.read_text())
    assert saved["session"]["parameters"] == {"a": 3.0}
    window.close()
    assert not path.exists()


def test_after_a_crash_the_next_start_offers_the_autosave(make_window, qtbot, data_dir,
                                                          monkeypatch, tmp_path):
    # the autosave of a window whose process died: its lock is gone with it
    first = make_window(expression="x^2 + y^2", restore=False)
    qtbot.waitUntil(lambda: first.history.recording, timeout=10000)
    first.session.set_point((1.25, -0.75))
    first.regression_model.set_data(ec.generate(n=4, seed=9))
    settle(qtbot, first)
    crashed = data_dir / "autosave-999999999.json"
    crashed.write_text(first.history.autosave_path.read_text())
    xs = first.regression_model.data.xs.copy()
    asked = []
    from explorer.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "ask_restore", lambda self, text: asked.append(text) or True)
    second = make_window(expression="sin(x)", restore=False,
                         settings_=QtCore.QSettings(str(tmp_path / "second.ini"),
                                                    QtCore.QSettings.Format.IniFormat))
    qtbot.waitUntil(lambda: second.history.recording, timeout=10000)
    qtbot.waitUntil(lambda: bool(asked), timeout=10000)
    assert "did not close properly" in asked[0] and "x^2 + y^2" in asked[0]
    assert second.session.expression == "x^2 + y^2"
    assert second.session.point == (1.25, -0.75)
    np.testing.assert_array_equal(second.regression_model.data.xs, xs)
    assert not crashed.exists()
    # the first window is still running: its autosave is not offered, nor removed
    assert first.history.autosave_path.exists()
    assert first.history.autosave_path not in second.history.orphans()
    # and the restore itself can be undone
    settle(qtbot, second)
    assert second.undo_action.text().replace("&", "") == "Undo Restore the autosave"


def test_declining_the_restore_discards_it(make_window, qtbot, data_dir, monkeypatch):
    data_dir.mkdir(parents=True, exist_ok=True)
    crashed = data_dir / "autosave-999999998.json"
    crashed.write_text(json.dumps({"version": 2, "session": {"expression": "x^5"}}))
    from explorer.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "ask_restore", lambda self, text: False)
    window = make_window(expression="cos(x)", restore=False)
    qtbot.waitUntil(lambda: window.history.recording, timeout=10000)
    qtbot.waitUntil(lambda: not crashed.exists(), timeout=10000)
    assert window.session.expression == "cos(x)"


def test_a_failing_autosave_says_so_and_the_work_goes_on(window, qtbot, monkeypatch):
    import explorer.core.files as files

    def full(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_text", full)
    window.session.set_parameter("a", 7.0)
    settle(qtbot, window)
    assert "No space left" in window.statusBar().currentMessage()
    assert window.session.parameters["a"] == 7.0
    assert window.history.stack.count() == 1
    path = window.history.autosave_path  # an earlier autosave (of the start) may be there:
    if os.path.exists(path):  # the failed one has not touched it
        assert json.loads(path.read_text())["session"]["parameters"] == {"a": 1.0}


def test_an_option_entry_says_show_or_hide(window, qtbot):
    window.session.set_option("show_taylor", True)
    settle(qtbot, window)
    assert window.undo_action.text().replace("&", "") == "Undo Show the Taylor polynomial"
    window.session.set_option("show_critical_points", False)
    settle(qtbot, window)
    assert window.undo_action.text().replace("&", "") == "Undo Hide the critical points"
    undo(qtbot, window)
    assert window.session.show_critical_points
    window.session.set_option("log_colors", True)
    settle(qtbot, window)
    assert window.undo_action.text().replace("&", "") == "Undo Turn on log colours"
    # every option of the session has a name of its own
    from explorer.core.session import Session
    from explorer.ui.history import OPTION_NAMES

    assert set(OPTION_NAMES) == set(Session.BOOL_FIELDS)


def test_entries_share_the_data_an_edit_left_alone(window, qtbot):
    """100,000 points are ~4 MB of JSON: edits of the function must not copy them into every
    undo entry. Each entry's data is the one string made when the data last changed; undo
    still brings the function back with the data as it was."""
    m = window.regression_model
    m.set_data(ec.generate(n=20_000, seed=3))
    settle(qtbot, window)
    xs = m.data.xs.copy()
    s = window.session
    for value in (1.5, 2.5, 3.5):
        s.set_parameter("a", value)
        settle(qtbot, window)
    stack = window.history.stack
    assert stack.count() >= 4
    data = [dict(stack.command(i).after)["regression"] for i in range(stack.count() - 3,
                                                                       stack.count())]
    assert data[0] is data[1] is data[2]  # one copy, shared
    assert dict(stack.command(stack.count() - 1).before)["regression"] is data[0]
    assert window.undo_action.text().replace("&", "") == "Undo Change a"
    undo(qtbot, window)
    assert s.parameters["a"] == 2.5
    np.testing.assert_array_equal(m.data.xs, xs)


def test_undoing_a_function_edit_leaves_the_labs_as_drawn(window, qtbot, ui):
    """Each entry holds every lab's state: undoing a function edit restores the regression and
    Jacobian labs as they are, which recomputes and redraws nothing there (J's contours and
    the vector field were redrawn, and u and v parsed again, on every undo); undoing a data
    edit still brings the old data back."""
    for name in ("regression", "jacobian"):
        getattr(window, f"{name}_action").setChecked(True)
    qtbot.waitUntil(lambda: window.regression_loss_view is not None, timeout=20000)
    ui.wait_idle(window)
    settle(qtbot, window)
    m, jm = window.regression_model, window.jacobian_model
    emitted = []
    m.data_changed.connect(lambda: emitted.append("data"))
    m.params_changed.connect(lambda: emitted.append("params"))
    jm.changed.connect(lambda: emitted.append("jacobian"))
    ui.type_expression(window, "x^3 - x")
    settle(qtbot, window)
    undo(qtbot, window)
    assert window.session.expression == "a*x^2 + 1"
    redo(qtbot, window)
    assert window.session.expression == "x^3 - x"
    assert emitted == []
    xs = m.data.xs.copy()
    m.set_data(ec.generate(n=5, seed=3))
    settle(qtbot, window)
    undo(qtbot, window)
    np.testing.assert_array_equal(m.data.xs, xs)
    assert "data" in emitted
