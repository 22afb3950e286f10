"""The optimizer race from the app: the start dragged and clicked with real events, the drawn
paths checked against the core's trajectories, playback, the runs edited from the panel, the
sweep on a quadratic against 2/lambda_max, and the exports."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

import explorer.core as ec

ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"


def to_widget(view, x, y):
    return QtCore.QPointF(view.mapFromScene(view.scene_pos(x, y)))


def open_race(make_window, qtbot, ui, text=ROSENBROCK, ranges=((-2.0, 2.0), (-1.0, 3.0))):
    window = make_window(expression=text, restore=False)
    window.session.set_xy_range(*ranges)
    qtbot.waitUntil(lambda: window.race_overlay is not None, timeout=20000)
    # the View menu's action, as a user would (Ctrl+R)
    window.option_actions["show_race"].trigger()
    assert window.session.show_race
    qtbot.waitUntil(lambda: bool(window.race_model.trajectories), timeout=20000)
    ui.wait_idle(window)
    return window


def core_race(window):
    s = window.session
    f = s.f
    specs = [r for r in s.race_runs if r.enabled]
    return ec.optimize_many(f, [r.make_run(s.race_start) for r in specs],
                            steps=s.race_steps, tol=s.race_tol)


def assert_paths_equal_core(window):
    """Each drawn path is the core's trajectory: its vertices are the trajectory's points in
    order, from the start to the last point, and no point of the trajectory is left out by
    more than the pixel the drawing thins steps to."""
    expected = iter(core_race(window))
    overlay = window.race_overlay
    step = overlay._pixel()
    for i, spec in enumerate(window.session.race_runs):
        if not spec.enabled:
            continue
        t = next(expected)
        xs, ys = overlay.path_data(i)
        drawn = np.column_stack([xs, ys])
        points = t.points[np.all(np.isfinite(t.points), axis=1)]
        np.testing.assert_array_equal(drawn[0], points[0])
        np.testing.assert_array_equal(drawn[-1], points[-1])
        # in order: each vertex found after the previous one
        at = 0
        for vertex in drawn:
            hits = np.flatnonzero(np.all(points[at:] == vertex, axis=1))
            assert hits.size, f"run {i}: a drawn vertex is not on the trajectory"
            at += int(hits[0])
        nearest = np.min(np.hypot(points[:, None, 0] - drawn[None, :, 0],
                                  points[:, None, 1] - drawn[None, :, 1]), axis=1)
        assert nearest.max() <= step * 1.000001


def test_the_race_opens_and_draws_the_core_s_paths(make_window, qtbot, ui):
    window = open_race(make_window, qtbot, ui)
    for key in ("race", "race_plots", "sweep"):
        assert window.docks[key].isVisible() or window.docks[key].toggleViewAction().isChecked()
    assert_paths_equal_core(window)
    # the table says how each run ended; statuses equal the core's
    table = window.race_panel.table
    for row, t in enumerate(core_race(window)):
        assert table.item(row, 3).text() == t.describe()
    # Newton with damping converges on Rosenbrock; plain GD does not in 500 steps
    texts = [table.item(r, 3).text() for r in range(table.rowCount())]
    assert texts[0] == "500 steps"
    assert any(t.startswith("converged") for t in texts)


def test_the_race_keeps_its_width_when_hidden_and_shown_again(make_window, qtbot, ui):
    window = open_race(make_window, qtbot, ui)
    dock = window.docks["race"]
    ui.wait_idle(window)
    # the user narrows it, hides the race (Ctrl+R) and brings it back by undo
    first = dock.width()
    window.resizeDocks([dock], [first - 60], QtCore.Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: dock.width() <= first - 50)
    width, curve_width = dock.width(), window.curve_view.width()

    def last_entry():
        return window.undo_action.text().replace("&", "")

    # the opening recorded first (else the hide, within the history's settling time, would
    # undo to the same state and make no entry)
    qtbot.waitUntil(lambda: last_entry() == "Undo Show the optimizer race", timeout=20000)
    window.option_actions["show_race"].trigger()
    qtbot.waitUntil(lambda: not dock.isVisible()
                    and last_entry() == "Undo Hide the optimizer race", timeout=20000)
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.session.show_race and dock.isVisible(), timeout=20000)
    ui.wait_idle(window)
    assert dock.width() == width and window.curve_view.width() == curve_width


def test_step_markers_are_dots_on_the_core_s_steps_in_each_run_s_colour(make_window, qtbot, ui):
    """Every step while few, evenly spaced beyond (60 a run at most), each a round dot of its
    run's colour: checked on the core's trajectories and in the painted pixels."""
    from PySide6 import QtGui, QtWidgets

    from explorer.ui.views.race_overlay import MAX_MARKERS

    window = open_race(make_window, qtbot, ui)
    overlay, view = window.race_overlay, window.landscape_view
    specs = [r for r in window.session.race_runs if r.enabled]
    runs = overlay.markers.runs
    assert len(runs) == len(specs)
    for (color, marked), spec, t in zip(runs, specs, core_race(window), strict=True):
        points = t.points[np.all(np.isfinite(t.points), axis=1)]
        every = max(1, -(-len(points) // MAX_MARKERS))
        np.testing.assert_array_equal(marked, points[::every])
        assert len(marked) <= MAX_MARKERS
        assert color.name() == spec.color_hex.lower() and color.alpha() == 200
    # painted, with the paths, ends and iterates hidden: each marker is a dot of its run's
    # colour at its step (the landscape is unchanged 4 px away), and nothing without it
    for item in (overlay.shadow, overlay.ends, overlay.iterates,
                 *(i for r in overlay.runs for i in r.items())):
        item.hide()

    def grab():
        QtWidgets.QApplication.processEvents()
        image = view.viewport().grab().toImage()
        return image.convertToFormat(QtGui.QImage.Format.Format_RGB32)

    with_dots = grab()
    overlay.markers.hide()
    without = grab()
    ratio = with_dots.devicePixelRatio()
    every = np.concatenate([m for _p, m in runs])
    checked = 0
    for color, marked in runs:
        for x, y in marked:
            pos = to_widget(view, x, y)
            px, py = pos.x(), pos.y()
            if not (10 < px < view.viewport().width() - 10 and 10 < py < view.viewport().height() - 10):
                continue
            spots = np.array([(q.x(), q.y()) for q in (to_widget(view, a, b) for a, b in every)])
            if np.sum(np.hypot(spots[:, 0] - px, spots[:, 1] - py) < 7) > 1:
                continue  # another marker near
            at = (round(px * ratio), round(py * ratio))
            dot, under = with_dots.pixelColor(*at), without.pixelColor(*at)
            assert dot != under
            blend = [0.78 * c + 0.22 * u for c, u in zip(color.getRgb()[:3],
                                                         under.getRgb()[:3], strict=True)]
            assert np.allclose(dot.getRgb()[:3], blend, atol=40), (dot.name(), color.name())
            away = (round((px + 4) * ratio), round(py * ratio))
            assert with_dots.pixelColor(*away) == without.pixelColor(*away)
            checked += 1
    assert checked >= 3  # most crowd along the valley


def test_dragging_the_start_recomputes_every_path(make_window, qtbot, ui):
    window = open_race(make_window, qtbot, ui)
    view = window.landscape_view
    viewport = view.viewport()
    s = window.session
    seen = []
    window.race_model.changed.connect(lambda: seen.append(window.session.race_start))
    # a slow hand: 1.6 s over the landscape, so that races finish while it moves
    start, end = to_widget(view, *s.race_start), to_widget(view, 0.5, 2.5)
    ui.send_mouse(viewport, "move", start, buttons=QtCore.Qt.MouseButton.NoButton)
    ui.send_mouse(viewport, "press", start)
    for i in range(1, 17):
        ui.send_mouse(viewport, "move", start + (end - start) * (i / 16))
        qtbot.wait(100)
    ui.send_mouse(viewport, "release", end)
    assert s.race_start == pytest.approx((0.5, 2.5), abs=0.03)
    qtbot.waitUntil(window.race_model.is_current, timeout=20000)
    ui.wait_idle(window)
    assert len(seen) >= 2  # paths came back during the drag, not only at its end
    assert_paths_equal_core(window)
    # the loss curves, left alone during the drag, show the final start's race after release
    assert not window.race_model.dragging
    qtbot.waitUntil(lambda: not window.race_model.is_busy(), timeout=10000)
    ui.wait_idle(window)
    t = core_race(window)[0]
    _, losses = window.race_plots.curve_data(0)
    np.testing.assert_allclose(losses, t.values, rtol=1e-12)
    xs, ys = window.race_overlay.path_data(0)
    assert (xs[0], ys[0]) == pytest.approx(s.race_start)


def test_a_click_on_the_landscape_moves_the_start(make_window, qtbot, ui):
    window = open_race(make_window, qtbot, ui)
    view = window.landscape_view
    pos = to_widget(view, -1.0, 0.0)
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos.toPoint())
    assert window.session.race_start == pytest.approx((-1.0, 0.0), abs=0.03)
    qtbot.waitUntil(window.race_model.is_current, timeout=10000)
    ui.wait_idle(window)
    assert_paths_equal_core(window)


def test_a_new_race_draws_its_iterates_once(make_window, qtbot, ui):
    """A race's result asks the overlay for its paths (changed) and then for the cursor
    (cursor_changed): the cursor's parts are drawn once, and are the new race's."""
    window = open_race(make_window, qtbot, ui)
    overlay = window.race_overlay
    drawn = []
    original = overlay.iterates.setData
    overlay.iterates.setData = lambda *a, **k: (drawn.append(k.get("x")), original(*a, **k))
    window.session.set_race_start((-1.0, 2.0))
    qtbot.waitUntil(window.race_model.is_current, timeout=20000)
    ui.wait_idle(window)
    assert len(drawn) == 1
    assert_paths_equal_core(window)
    runs = core_race(window)
    assert overlay.iterate_positions()[0] == pytest.approx(tuple(runs[0].points[-1]))
    window.race_model.set_cursor(2)  # another step: drawn again
    assert len(drawn) == 2
    assert overlay.iterate_positions()[0] == pytest.approx(tuple(runs[0].points[2]))


def test_playback_moves_the_markers(make_window, qtbot, ui):
    window = open_race(make_window, qtbot, ui)
    m = window.race_model
    panel = window.race_panel
    assert m.cursor == m.max_step()  # the whole race is shown first
    qtbot.mouseClick(panel.reset_button, QtCore.Qt.MouseButton.LeftButton)
    assert m.cursor == 0
    positions = window.race_overlay.iterate_positions()
    assert positions[0] == pytest.approx(window.session.race_start)
    for _ in range(3):
        qtbot.mouseClick(panel.step_button, QtCore.Qt.MouseButton.LeftButton)
    assert m.cursor == 3
    t0 = m.trajectories[0]
    assert window.race_overlay.iterate_positions()[0] == pytest.approx(tuple(t0.points[3]))
    qtbot.waitUntil(lambda: panel.cursor_label.text().startswith("step 3 /"), timeout=2000)
    # the next step of the selected run, as the panel writes it
    assert "next step" in panel.state_label.text()
    panel.speed_combo.setCurrentIndex(panel.speed_combo.count() - 1)  # the fastest
    qtbot.mouseClick(panel.play_button, QtCore.Qt.MouseButton.LeftButton)
    assert m.playing
    qtbot.waitUntil(lambda: m.cursor > 40, timeout=5000)
    k = m.cursor
    done_x, _ = window.race_overlay.runs[0].done.getData()
    assert len(done_x) >= 4
    qtbot.mouseClick(panel.play_button, QtCore.Qt.MouseButton.LeftButton)  # pause
    assert not m.playing
    k = m.cursor
    qtbot.wait(100)
    assert m.cursor == k
    # the loss plot's cursor follows the playback
    assert window.race_plots.cursor_x() == pytest.approx(k)
    # on the surface: the paths up to the cursor
    assert [len(p) for p, _ in window.surface_view.paths()][0] == min(k, t0.steps) + 1


def test_runs_are_edited_from_the_panel(make_window, qtbot, ui):
    window = open_race(make_window, qtbot, ui)
    s = window.session
    panel = window.race_panel
    n = len(s.race_runs)
    # Add > Adam
    action = next(a for a in panel.add_button.menu().actions() if a.text() == "AdamW")
    action.trigger()
    assert len(s.race_runs) == n + 1 and s.race_runs[-1].optimizer == "AdamW"
    assert window.race_model.selected == n
    # a run's learning rate typed in its field
    lr = panel._hyper_widgets["lr"]
    lr.setText("0.02")
    lr.editingFinished.emit()
    assert s.race_runs[-1].hyper["lr"] == 0.02
    # a bad value: a message, the run unchanged
    lr.setText("-1")
    lr.editingFinished.emit()
    assert panel.editor_error.isVisible() and "lr" in panel.editor_error.text()
    assert s.race_runs[-1].hyper["lr"] == 0.02
    # duplicate, disable, remove
    panel.duplicate_button.click()
    assert len(s.race_runs) == n + 2 and s.race_runs[-1].optimizer == "AdamW"
    assert s.race_runs[-1].color != s.race_runs[-2].color
    item = panel.table.item(0, 0)
    item.setCheckState(QtCore.Qt.CheckState.Unchecked)
    assert not s.race_runs[0].enabled
    panel.remove_button.click()
    assert len(s.race_runs) == n + 1
    qtbot.waitUntil(window.race_model.is_current, timeout=20000)
    ui.wait_idle(window)
    assert window.race_model.trajectories[0] is None
    assert not window.race_overlay.runs[0].done.isVisible()
    assert_paths_equal_core(window)
    # the schedule and clipping from the editor reach the run
    panel.table.selectRow(1)
    panel.schedule_combo.setCurrentText("cosine")
    panel.schedule_combo.activated.emit(panel.schedule_combo.currentIndex())
    assert s.race_runs[1].schedule["kind"] == "cosine"
    panel.clip_box.setChecked(True)
    assert s.race_runs[1].clip == 10.0


def test_sweep_shows_divergence_past_the_stability_limit(make_window, qtbot, ui):
    window = open_race(make_window, qtbot, ui, text="0.5x^2 + 10y^2",
                       ranges=((-3.0, 3.0), (-3.0, 3.0)))
    window.session.set_race_start((2.0, 1.5))
    window.docks["sweep"].show()
    window.docks["sweep"].raise_()
    window.race_model.select(0)  # plain gradient descent
    qtbot.waitUntil(lambda: window.race_model.sweep is not None
                    and window.race_model.sweep.run_index == 0
                    and window.race_model.sweep.start == (2.0, 1.5), timeout=20000)
    ui.wait_idle(window)
    sweep = window.race_model.sweep
    assert sweep.limit == pytest.approx(2 / 20)  # the Hessian's largest eigenvalue is 20
    assert sweep.quadratic
    assert window.sweep_view.limit_x() == pytest.approx(0.1)
    diverged = window.sweep_view.diverged_rates()
    assert diverged and min(diverged) > 0.1 * 0.97
    rates, finals = window.sweep_view.finite_points()
    start_value = 0.5 * 4 + 10 * 2.25
    assert np.all(finals[rates < 0.097] < start_value)


def test_the_race_its_compiler_and_its_sweep_run_in_the_race_process(make_window, qtbot, ui,
                                                                      monkeypatch):
    """The runs (NumPy's steps, then the compiled runner's), the compile of f's gradient and
    Hessian and the learning-rate sweep run in the race process, on threads of their own
    there; none of them in the app's process. What comes back is the core's race, computed
    here independently, to the bit (the compiled runner applies the same rules)."""
    import os

    from explorer.core import offload, optimizers

    asked = []
    call = offload.Lane.call

    def recorded(lane, fn, *args):
        asked.append((lane.name, fn.__name__))
        return call(lane, fn, *args)

    monkeypatch.setattr(offload.Lane, "call", recorded)
    window = open_race(make_window, qtbot, ui, text="0.5x^2 + 10y^2",
                       ranges=((-3.0, 3.0), (-3.0, 3.0)))
    qtbot.waitUntil(lambda: ("race", "prepare") in asked and not window.is_busy(),
                    timeout=30000)
    window.session.set_race_start((2.0, 1.5))
    qtbot.waitUntil(lambda: window.race_model.is_current() and not window.is_busy(),
                    timeout=30000)
    assert {("race", "race_runs"), ("race", "prepare")} <= set(asked)
    assert {lane for lane, fn in asked if fn in ("race_runs", "prepare", "sweep")} == {"race"}
    race = offload.lane("race")
    assert race.pid not in (None, os.getpid()) and race.threads == 3 and not race.in_thread
    for t, expected in zip([t for t in window.race_model.trajectories if t is not None],
                           optimizers.optimize_many(
                               window.session.f, [r.make_run((2.0, 1.5))
                                                  for r in window.session.race_runs
                                                  if r.enabled],
                               steps=window.session.race_steps, tol=window.session.race_tol),
                           strict=True):
        np.testing.assert_allclose(t.points, expected.points, rtol=1e-12, atol=1e-12)
        assert t.status == expected.status

    window.docks["sweep"].show()
    window.docks["sweep"].raise_()
    window.race_model.select(0)
    qtbot.waitUntil(lambda: window.race_model.sweep is not None
                    and window.race_model.sweep.start == (2.0, 1.5), timeout=20000)
    assert ("race", "sweep") in asked
    assert window.race_model.sweep.limit == pytest.approx(2 / 20)


def test_export_a_run_and_the_view(make_window, qtbot, ui, tmp_path, monkeypatch):
    window = open_race(make_window, qtbot, ui)
    m = window.race_model
    m.select(4)  # Adam
    target = tmp_path / "adam.csv"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), "CSV table (*.csv)"))
    window.race_panel.export_run_button.click()
    rows = list(csv.reader(target.open()))
    t = m.trajectories[4]
    assert rows[0] == ["step", "x", "y", "value", "grad_x", "grad_y"]
    assert len(rows) == t.steps + 2
    np.testing.assert_array_equal(np.array(rows[1:], dtype=float)[:, 1:3], t.points)
    target = tmp_path / "adam.json"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), "JSON (*.json)"))
    window.race_panel.export_run_button.click()
    data = json.loads(target.read_text())
    assert data["optimizer"] == "Adam" and data["hyperparameters"]["lr"] == 0.05
    assert data["start"] == list(window.session.race_start)
    # the view, as PNG and SVG
    for name in ("race.png", "race.svg"):
        target = tmp_path / name
        monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                            lambda *a, target=target, **k: (str(target), ""))
        window.race_panel.export_view_button.click()
        assert target.exists() and target.stat().st_size > 1000
    image = QtGui.QImage(str(tmp_path / "race.png"))
    assert image.width() > 600
    colors = {image.pixelColor(x, y).name() for x in range(0, image.width(), 17)
              for y in range(0, image.height(), 17)}
    assert len(colors) > 50  # the landscape's colours, not a blank page
    root = ET.parse(tmp_path / "race.svg").getroot()
    assert root.tag.endswith("svg")
    assert len(list(root.iter())) > 50
    assert list(tmp_path.glob(".partial-*")) == []  # no temporary file left behind


def test_every_run_exported_from_the_data_menu(make_window, qtbot, ui, tmp_path, monkeypatch):
    """File > Data and trajectories > every run: one CSV and one JSON per run whose rows are
    the core's own run from the same start (computed here afresh, one run at a time)."""
    window = open_race(make_window, qtbot, ui)
    s = window.session
    folder = tmp_path / "runs"
    folder.mkdir()
    window._enable_data_actions()
    action = window.findChild(QtGui.QAction, "runsDataAction")
    assert action is not None and action.isEnabled()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory",
                        lambda *a, **k: str(folder))
    action.trigger()
    runs = [(i, r) for i, r in enumerate(s.race_runs) if window.race_model.trajectories[i]]
    assert sorted(p.suffix for p in folder.iterdir()) == [".csv"] * len(runs) + [".json"] * len(runs)
    compared = 0
    for i, spec in runs:
        [csv_path] = folder.glob(f"{i + 1}_*.csv")
        rows = list(csv.DictReader(csv_path.open()))
        alone = ec.optimize(s.f, s.race_start, spec.make_run(s.race_start).optimizer,
                            steps=s.race_steps, tol=s.race_tol) if not (
            spec.clip or spec.schedule or spec.noise) else None
        if alone is None:
            continue
        assert len(rows) == len(alone.points)
        np.testing.assert_allclose([float(rows[-1]["x"]), float(rows[-1]["y"])],
                                   alone.points[-1], rtol=1e-9, atol=1e-12)
        data = json.loads(csv_path.with_suffix(".json").read_text())
        assert data["status"] == alone.status
        compared += 1
    assert compared >= 3
