"""Animated exports: the optimizer race and the Taylor order sweep as GIF and MP4, read back with
imageio and checked against the core's trajectories and SymPy's polynomials mapped to pixels;
cancel and bad suffixes leave no file; the user's order and cursor come back; the menu."""

from __future__ import annotations

import math
import os
import threading
import time

import numpy as np
import pytest
import sympy as sp
from PySide6 import QtCore, QtWidgets

import explorer.core as ec
from explorer.ui import animation
from explorer.ui.theme import COLORS

iio = pytest.importorskip("imageio.v3")
iio2 = pytest.importorskip("imageio.v2")

ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"


def open_race(make_window, qtbot, ui):
    window = make_window(expression=ROSENBROCK, restore=False)
    window.session.set_xy_range((-2.0, 2.0), (-1.0, 3.0))
    qtbot.waitUntil(lambda: window.race_overlay is not None, timeout=20000)
    window.option_actions["show_race"].trigger()
    qtbot.waitUntil(lambda: bool(window.race_model.trajectories), timeout=20000)
    qtbot.waitUntil(lambda: not window.is_busy() and window.race_model.is_current(),
                    timeout=60000)
    ui.wait_idle(window)
    return window


def open_taylor_function(make_window, ui, text="exp(x)"):
    window = make_window(expression=text, restore=False)
    window.session.set_x0(0.0)
    ui.wait_idle(window)
    return window


def core_race(window):
    s = window.session
    specs = [r for r in s.race_runs if r.enabled]
    return ec.optimize_many(s.f, [r.make_run(s.race_start) for r in specs],
                            steps=s.race_steps, tol=s.race_tol)


def grab_size(widget):
    image = widget.grab().toImage()
    return image.width(), image.height()


def pixel_of(view, x, y):
    """Data (x, y) to (column, row) in an image of the whole widget ``view``."""
    scene = view.getPlotItem().vb.mapViewToScene(QtCore.QPointF(x, y))
    p = view.viewport().mapTo(view, view.mapFromScene(scene))
    return p.x(), p.y()


def rgb(hex_):
    return np.array([int(hex_[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def near_colour(frame, col, row, colour, radius=3, tolerance=60.0) -> bool:
    """Whether a pixel within ``radius`` of (col, row) has ``colour`` (to ``tolerance``)."""
    h, w = frame.shape[:2]
    r0, r1 = max(0, row - radius), min(h, row + radius + 1)
    c0, c1 = max(0, col - radius), min(w, col + radius + 1)
    patch = frame[r0:r1, c0:c1, :3].astype(float)
    return bool(patch.size) and float(np.min(np.linalg.norm(patch - colour, axis=2))) < tolerance


def read_mp4(path):
    """Every frame, decoded by ffmpeg; its own count of the frames agrees."""
    frames = iio.imread(path, index=None, plugin="FFMPEG")
    reader = iio2.get_reader(str(path), format="FFMPEG")
    try:
        assert reader.count_frames() == frames.shape[0]
    finally:
        reader.close()
    return frames


@pytest.fixture
def out(tmp_path):
    """An empty folder of its own (the window's fixtures keep files in tmp_path)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# -- the race ------------------------------------------------------------------------------
def test_race_gif_plays_the_race_from_start_to_end(make_window, qtbot, ui, out):
    window = open_race(make_window, qtbot, ui)
    m, view = window.race_model, window.landscape_view
    m.set_cursor(123)  # where the user left the playback
    last = m.max_step()
    trajectories = core_race(window)  # independent of the drawing
    assert last == max(t.steps for t in trajectories) and last > 100
    width, height = grab_size(view)
    path = out / "race.gif"
    seen = []
    count = animation.export_race_animation(window, path, n_frames=12,
                                            progress=lambda i, n: seen.append((i, n)) or True)
    # after each frame, then again while the GIF is encoded (in a thread)
    assert count == 12 and seen[:12] == [(i, 12) for i in range(1, 13)]
    assert set(seen[12:]) <= {(12, 12)}
    assert m.cursor == 123 and not m.playing  # nothing the user set has moved
    assert os.listdir(out) == ["race.gif"]  # no temporary file left beside it

    frames = iio.imread(path, index=None)
    assert frames.shape[0] == 12 and frames.dtype == np.uint8
    strip = frames.shape[1] - height  # the caption above the view
    assert frames.shape[2] == width and 10 < strip < 60
    for frame in frames:  # not blank: the landscape's colour map and the paths
        assert frame.std() > 20 and len(np.unique(frame.reshape(-1, 3), axis=0)) > 50
    for a, b in zip(frames[:-1], frames[1:], strict=True):  # every frame is a new one
        assert np.any(a != b)
    # the plot changes from frame to frame too (the caption aside): the paths grow
    body = frames[:, strip:]
    assert sum(bool(np.any(a != b)) for a, b in zip(body[:-1], body[1:], strict=True)) >= 9

    # first and last frames differ where the race's paths are (solid once the cursor passed),
    # and the landscape elsewhere stays as it was
    first, final = body[0].astype(int), body[-1].astype(int)
    changed = np.abs(first - final).max(axis=2) > 40
    on_path, checked = 0, 0
    for t in trajectories:
        points = t.points[np.all(np.isfinite(t.points), axis=1)]
        for x, y in points[np.linspace(5, len(points) - 1, 15).astype(int)]:
            col, row = (int(round(v)) for v in pixel_of(view, x, y))
            if not (0 <= col < width and 0 <= row < height):
                continue
            checked += 1
            on_path += bool(changed[max(0, row - 2):row + 3, max(0, col - 2):col + 3].any())
    assert checked >= 30 and on_path >= 0.8 * checked
    assert changed.mean() < 0.1

    # each frame's iterates sit where the core's trajectories are at that frame's step
    # (one that another run's marker covers is left out: at step 0 they all share the start;
    # the selected run's step label may cover one more)
    steps = [int(k) for k in np.linspace(0, last, 12).round()]
    specs = [r for r in window.session.race_runs if r.enabled]
    found, checked = 0, 0
    for index in (3, 6, 11):
        frame, k = body[index], steps[index]
        at = [np.array(pixel_of(view, *t.points[min(k, t.steps)])) for t in trajectories]
        for i, p in enumerate(at):
            alone = all(np.hypot(*(p - q)) > 16 for j, q in enumerate(at) if j != i)
            col, row = (int(round(v)) for v in p)
            if alone and 0 <= col < width and 0 <= row < height:
                checked += 1
                found += near_colour(frame, col, row, rgb(specs[i].color_hex), radius=4,
                                     tolerance=70)
    assert checked >= 6 and found >= 0.75 * checked, (found, checked)


def test_race_frames_equal_the_view_as_drawn(make_window, qtbot, ui):
    window = open_race(make_window, qtbot, ui)
    m, view = window.race_model, window.landscape_view
    frames = list(animation.race_frames(window, n_frames=5, caption=False))
    assert len(frames) == 5
    assert m.cursor == m.max_step() and m.follow_end  # the end, as before
    expected = animation.image_to_array(view.grab().toImage())  # the end, drawn by the app
    np.testing.assert_array_equal(frames[-1], expected)
    m.set_cursor(0)
    QtWidgets.QApplication.processEvents()
    np.testing.assert_array_equal(frames[0], animation.image_to_array(view.grab().toImage()))
    # a race shorter than the frames asked for: every step once
    assert animation.race_steps(window, 10_000) == list(range(m.max_step() + 1))
    with pytest.raises(ValueError, match="n_frames"):
        animation.race_frames(window, n_frames=1)


def test_race_mp4_is_readable_with_even_size(make_window, qtbot, ui, out):
    window = open_race(make_window, qtbot, ui)
    width, height = grab_size(window.landscape_view)
    path = out / "race.mp4"
    assert animation.export_race_animation(window, path, n_frames=10, fps=10) == 10
    assert os.listdir(out) == ["race.mp4"]
    frames = read_mp4(path)
    assert frames.shape[0] == 10
    h, w = frames.shape[1:3]
    assert h % 2 == 0 and w % 2 == 0
    assert w == width + width % 2 and h - height in range(10, 62)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).max() > 40


def test_mp4_pads_an_odd_size_and_keeps_the_colours(out):
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (240, 240, 240)]
    frames = [np.full((31, 45, 3), c, dtype=np.uint8) for c in colours]
    path = out / "odd.mp4"
    assert animation.write_animation(path, frames, fps=5) == 4
    read = read_mp4(path)
    assert read.shape == (4, 32, 46, 3)
    for frame, colour in zip(read, colours, strict=True):
        np.testing.assert_allclose(frame.reshape(-1, 3).mean(axis=0), colour, atol=8)


def test_gif_keeps_every_frame_and_its_timing(out):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (20, 30, 3), dtype=np.uint8) // 64 * 64 for _ in range(5)]
    path = out / "noise.gif"
    assert animation.write_animation(path, iter(frames), fps=4) == 5
    read = iio.imread(path, index=None)
    assert read.shape == (5, 20, 30, 3)
    for a, b in zip(read, frames, strict=True):  # four levels per channel: 64 colours, kept exactly
        np.testing.assert_array_equal(a, b)
    meta = iio.immeta(path, index=0)
    assert meta["duration"] == 250 and meta["loop"] == 0


def test_the_window_answers_while_the_gif_is_encoded_and_a_cancel_then_discards_it(
        out, monkeypatch):
    from PIL import Image

    original = Image.Image.save
    threads = []

    def slow_save(self, *args, **kwargs):  # an encode of many large frames
        threads.append(threading.current_thread())
        time.sleep(0.4)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", slow_save)
    frames = [np.full((20, 30, 3), 40 * i, dtype=np.uint8) for i in range(5)]
    seen = []
    path = out / "slow.gif"
    assert animation.write_animation(path, iter(frames), fps=4,
                                     progress=lambda i, n: seen.append(i) or True) == 5
    assert threads[0] is not threading.main_thread()
    assert seen[:5] == [1, 2, 3, 4, 5] and seen.count(5) >= 5  # told again while it encoded
    assert len(iio.imread(path, index=None)) == 5
    # cancelled while encoding: the encoder is waited for, and nothing is left
    path.unlink()
    with pytest.raises(animation.Cancelled):
        animation.write_animation(path, iter(frames), fps=4,
                                  progress=lambda i, n: i < 5 or len(threads) < 2)
    assert os.listdir(out) == []


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_cancel_at_frame_3_leaves_no_file(make_window, qtbot, ui, out, suffix):
    window = open_race(make_window, qtbot, ui)
    m = window.race_model
    m.set_cursor(40)
    path = out / f"race{suffix}"
    seen = []

    def progress(i, n):
        seen.append(i)
        return i < 3

    with pytest.raises(animation.Cancelled):
        animation.export_race_animation(window, path, n_frames=10, progress=progress)
    assert seen == [1, 2, 3]
    assert os.listdir(out) == []  # neither the file nor a temporary one
    assert m.cursor == 40
    # a file that was there before is left as it was
    path.write_bytes(b"the user's old file")
    with pytest.raises(animation.Cancelled):
        animation.export_race_animation(window, path, n_frames=10, progress=progress)
    assert path.read_bytes() == b"the user's old file" and os.listdir(out) == [path.name]


def test_unsupported_suffix_is_refused(make_window, qtbot, ui, out):
    window = open_race(make_window, qtbot, ui)
    m = window.race_model
    m.set_cursor(7)
    for name in ("race.png", "race.webm", "race"):
        with pytest.raises(ValueError, match=r"\.png|\.webm|without a suffix") as info:
            animation.export_race_animation(window, out / name)
        assert (os.path.splitext(name)[1] or "without a suffix") in str(info.value)
    with pytest.raises(ValueError, match=r"\.avi"):
        animation.write_animation(out / "x.avi", [np.zeros((4, 4, 3), np.uint8)])
    assert os.listdir(out) == [] and m.cursor == 7


def test_frames_of_different_sizes_are_refused(out):
    frames = [np.zeros((10, 10, 3), np.uint8), np.zeros((12, 10, 3), np.uint8)]
    with pytest.raises(ValueError, match="one size"):
        animation.write_animation(out / "a.gif", frames)
    assert os.listdir(out) == []


# -- the Taylor sweep ------------------------------------------------------------------------
def test_taylor_gif_draws_each_order(make_window, ui, out):
    window = open_taylor_function(make_window, ui, "exp(x)")
    s = window.session
    s.set_taylor_order(5)
    assert not s.show_taylor and not window.docks["taylor"].isVisible()
    window.history.settle()  # the user's own change is an entry
    undo_entries = window.history.stack.count()
    assert undo_entries >= 1
    path = out / "taylor.gif"
    max_order = 6
    assert animation.export_taylor_animation(window, path, max_order=max_order) == 7
    # the orders it went through are not the user's edits: no undo entry
    assert window.history.recording and window.history.stack.count() == undo_entries
    window.history.settle()
    assert window.history.stack.count() == undo_entries
    # what the user had is back: the order, the polynomial hidden, its docks closed
    assert s.taylor_order == 5 and not s.show_taylor
    assert not window.docks["taylor"].isVisible()
    assert os.listdir(out) == ["taylor.gif"]
    frames = iio.imread(path, index=None)
    assert frames.shape[0] == max_order + 1

    # The geometry of the frames: the view as it was drawn during the export (the Taylor
    # docks were open). Draw the polynomial again as the export did, to map data to pixels.
    s.set_option("show_taylor", True)
    ui.wait_idle(window)
    view = window.curve_view
    width, height = grab_size(view)
    strip = frames.shape[1] - height
    assert frames.shape[2] == width and 10 < strip < 60
    body = frames[:, strip:]
    (x0, x1), (y0, y1) = view.getPlotItem().vb.viewRange()
    xs = np.linspace(x0 + 0.05 * (x1 - x0), x1 - 0.05 * (x1 - x0), 60)
    x = sp.Symbol("x")
    purple = rgb(COLORS["taylor"])
    for n in range(max_order + 1):
        # T_n from SymPy's series, independent of the app
        poly = sp.lambdify(x, sp.series(sp.exp(x), x, 0, n + 1).removeO(), "numpy")
        previous = sp.lambdify(x, sp.series(sp.exp(x), x, 0, n).removeO(), "numpy") if n else None
        hits = total = 0
        for xv in xs:
            yv = float(poly(xv)) if n else 1.0
            if not y0 < yv < y1:
                continue
            col, row = pixel_of(view, xv, yv)
            _, f_row = pixel_of(view, xv, math.exp(xv))
            if abs(f_row - row) < 8:  # f's own curve is drawn there
                continue
            if previous is not None:
                _, prev_row = pixel_of(view, xv, float(previous(xv)))
                if abs(prev_row - row) < 8:
                    continue
            total += 1
            hits += near_colour(body[n], int(round(col)), int(round(row)), purple, radius=3)
        assert total >= 5 and hits >= 0.8 * total, (n, hits, total)
        if n:
            assert np.any(body[n] != body[n - 1])


def test_taylor_mp4_and_restoring_a_shown_polynomial(make_window, ui, out):
    window = open_taylor_function(make_window, ui, "sin(x) + x^2/4")
    s = window.session
    window.option_actions["show_taylor"].trigger()
    s.set_taylor_order(4)
    ui.wait_idle(window)
    path = out / "taylor.mp4"
    assert animation.export_taylor_animation(window, path, max_order=3) == 4
    assert s.taylor_order == 4 and s.show_taylor and window.docks["taylor"].isVisible()
    frames = read_mp4(path)
    assert frames.shape[0] == 4 and frames.shape[1] % 2 == 0 and frames.shape[2] % 2 == 0
    with pytest.raises(ValueError, match="0 to 30"):
        animation.taylor_frames(window, orders=[3, 31])


def test_taylor_needs_a_function_of_x(make_window, qtbot, ui, out):
    window = make_window(expression=ROSENBROCK, restore=False)
    with pytest.raises(ValueError, match="function of x alone"):
        animation.export_taylor_animation(window, out / "t.gif")
    with pytest.raises(ValueError, match="no race"):
        animation.export_race_animation(window, out / "r.gif")
    assert os.listdir(out) == []


# -- the menu and its dialogs ----------------------------------------------------------------
def test_menu_enables_what_can_be_exported(make_window, qtbot, ui):
    window = open_taylor_function(make_window, ui, "exp(x)")
    menu = QtWidgets.QMenu(window)
    sub = animation.install_animation_menu(window, menu)
    texts = [a.text() for a in sub.actions()]
    assert texts == ["Optimizer &race…", "&Taylor order sweep…"]
    race, taylor = window.animation_actions["race"], window.animation_actions["taylor"]
    assert taylor.isEnabled() and not race.isEnabled()
    window.request_expression(ROSENBROCK)
    qtbot.waitUntil(lambda: window.session.f2 is not None if hasattr(window.session, "f2")
                    else len(window.session.function.variables) == 2, timeout=20000)
    ui.wait_idle(window)
    assert not taylor.isEnabled() and not race.isEnabled()
    window.option_actions["show_race"].trigger()
    qtbot.waitUntil(lambda: bool(window.race_model.trajectories), timeout=20000)
    assert race.isEnabled() and not taylor.isEnabled()


def test_menu_exports_with_a_cancellable_progress_dialog(make_window, qtbot, ui, out,
                                                         monkeypatch):
    window = open_race(make_window, qtbot, ui)
    menu = QtWidgets.QMenu(window)
    animation.install_animation_menu(window, menu)
    action = window.animation_actions["race"]
    assert action.isEnabled()
    target = out / "clip"  # no suffix: the filter chosen gives it
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), animation.FORMATS[".mp4"]))
    labels, modality = [], []

    def press_cancel():
        dialog = window.findChild(QtWidgets.QProgressDialog, "animationProgress")
        if dialog is None or not dialog.isVisible():
            return
        labels.append(dialog.labelText())
        modality.append(dialog.windowModality())
        if dialog.value() >= 2 and not dialog.wasCanceled():
            button = dialog.findChild(QtWidgets.QPushButton)
            qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)

    timer = QtCore.QTimer(interval=5)
    timer.timeout.connect(press_cancel)
    timer.start()
    action.trigger()
    timer.stop()
    assert any(label.startswith("frame ") and " of 60" in label for label in labels)
    assert set(modality) == {QtCore.Qt.WindowModality.WindowModal}
    assert os.listdir(out) == []
    assert "cancelled" in window.statusBar().currentMessage()

    # the same export to its end: the file, and the status bar says so
    action.trigger()
    assert os.listdir(out) == ["clip.mp4"]
    assert read_mp4(out / "clip.mp4").shape[0] == 60
    assert "clip.mp4" in window.statusBar().currentMessage()

    # a folder that does not exist: a warning naming the path and the reason
    warnings = []
    bad = out / "missing" / "clip.gif"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(bad), animation.FORMATS[".gif"]))
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        lambda parent, title, text: warnings.append(text))
    action.trigger()
    assert len(warnings) == 1 and str(bad) in warnings[0]
    assert "No such file" in warnings[0]
