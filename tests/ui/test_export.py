"""Figures out of the app: a view as PNG (1x-4x), SVG and PDF, all open views to a folder, a view
on the clipboard, and the File menu's entries. Each file is checked for what it must hold: its
size against the view's, its pixels (the curve's colour where sin(x) is, not a blank page), the
SVG's structure, the PDF's page; and a failed export leaves no file behind."""

from __future__ import annotations

import math
import os
import re
import stat
import xml.etree.ElementTree as ET

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui import export as ex
from explorer.ui.theme import COLORS


def built(qtbot, ui, window):
    """Every view of the window built, and the window idle."""
    qtbot.waitUntil(lambda: all(getattr(window, a) is not None
                                for a in ex.ATTRIBUTES.values()), timeout=20000)
    ui.wait_idle(window)


def colours(image: QtGui.QImage, step: int = 7) -> set[str]:
    return {image.pixelColor(x, y).name() for x in range(0, image.width(), step)
            for y in range(0, image.height(), step)}


def near(image: QtGui.QImage, x: float, y: float, colour: str, radius: int = 3,
         tolerance: int = 40) -> bool:
    """A pixel close to ``colour`` within ``radius`` of (x, y)."""
    want = QtGui.QColor(colour)
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            px, py = round(x) + dx, round(y) + dy
            if 0 <= px < image.width() and 0 <= py < image.height():
                c = image.pixelColor(px, py)
                if (abs(c.red() - want.red()) + abs(c.green() - want.green())
                        + abs(c.blue() - want.blue())) <= tolerance:
                    return True
    return False


def media_box(data: bytes) -> tuple[float, float]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]",
                       data)
    assert len(boxes) == 1, boxes  # one page
    x0, y0, x1, y1 = map(float, boxes[0])
    return x1 - x0, y1 - y0


def no_leftovers(folder) -> bool:
    return not [p for p in os.listdir(folder) if p.startswith(".partial-")]



# -- one view -------------------------------------------------------------------------------------
def test_png_at_1x_and_3x_holds_the_curve_where_sin_is(make_window, qtbot, ui, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    built(qtbot, ui, window)
    view = window.curve_view
    width, height = ex.figure_size(view)
    assert (width, height) == (view.width(), view.height())
    vb = view.getPlotItem().getViewBox()
    for scale in (1, 3):
        path = tmp_path / f"curve{scale}.png"
        ex.export_view(view, path, scale=scale)
        image = QtGui.QImage(str(path))
        assert (image.width(), image.height()) == (width * scale, height * scale)
        assert len(colours(image)) > 20  # a plot, not a blank page
        # the curve's colour at (x, sin x), mapped to pixels by the plot's own transform
        hits = 0
        for x in (-3.6, -2.5, 1.9, 2.8, 4.4):  # away from markers, the tangent and f'
            p = vb.mapViewToScene(QtCore.QPointF(x, math.sin(x)))
            hits += near(image, p.x() * scale, p.y() * scale, COLORS["f"], radius=2 * scale)
        assert hits == 5
        # ... and not where sin is not: (x, sin x + 0.3) is off the curve's colour
        misses = sum(near(image, q.x() * scale, q.y() * scale, COLORS["f"], radius=1)
                     for q in (vb.mapViewToScene(QtCore.QPointF(x, math.sin(x) + 0.3))
                               for x in (-2.5, -1.0, 0.3)))
        assert misses == 0
    assert no_leftovers(tmp_path)
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "curve1.png").st_mode) == 0o666 & ~mask  # not private


def test_svg_parses_and_draws_the_curve_in_its_colour(make_window, qtbot, ui, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    built(qtbot, ui, window)
    path = tmp_path / "curve.svg"
    ex.export_view(window.curve_view, path, title="Curve f(x)")
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    width, height = ex.figure_size(window.curve_view)
    assert (float(root.get("width")), float(root.get("height"))) == (width, height)
    shapes = [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] in ("path", "polyline")]
    assert len(shapes) > 20
    strokes = {e.get("stroke", "").lower() for e in root.iter()}
    assert COLORS["f"].lower() in strokes and COLORS["d1"].lower() in strokes  # f and f'
    texts = "".join(e.text or "" for e in root.iter() if e.tag.endswith("text"))
    assert "f(x)" in texts  # the legend


def test_pdf_is_one_page_of_the_view_s_aspect(make_window, qtbot, ui, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    built(qtbot, ui, window)
    path = tmp_path / "curve.pdf"
    ex.export_view(window.curve_view, path, title="Curve f(x)")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    w, h = media_box(data)
    width, height = ex.figure_size(window.curve_view)
    assert w / h == pytest.approx(width / height, rel=0.01)
    assert w == pytest.approx(width * 0.75, abs=1)  # 96 dpi: a screen pixel is 0.75 pt
    assert len(data) > 5000  # the curve's paths and the axes' text, not an empty page


def test_a_view_of_several_plots_is_exported_whole(make_window, qtbot, ui, tmp_path):
    """Monte Carlo's three plots side by side: the figure is their bounding box, the SVG keeps
    each plot's ids apart, the PNG holds each plot where it is on screen."""
    window = make_window(expression="(x-1)^2", restore=False)
    built(qtbot, ui, window)
    window.expectation_action.setChecked(True)
    view = window.monte_carlo_view
    qtbot.waitUntil(view.isVisible, timeout=5000)
    ui.wait_idle(window)
    plots = [v for v in view.findChildren(QtWidgets.QGraphicsView) if v.isVisible()]
    assert len(plots) == 3
    left = min(p.mapTo(view, QtCore.QPoint(0, 0)).x() for p in plots)
    right = max(p.mapTo(view, QtCore.QPoint(0, 0)).x() + p.width() for p in plots)
    top = min(p.mapTo(view, QtCore.QPoint(0, 0)).y() for p in plots)
    bottom = max(p.mapTo(view, QtCore.QPoint(0, 0)).y() + p.height() for p in plots)
    assert ex.figure_size(view) == (right - left, bottom - top)
    ex.export_view(view, tmp_path / "mc.png", scale=2)
    image = QtGui.QImage(str(tmp_path / "mc.png"))
    assert (image.width(), image.height()) == (2 * (right - left), 2 * (bottom - top))
    for plot in plots:  # each third has a plot in it, not the background
        x0 = 2 * (plot.mapTo(view, QtCore.QPoint(0, 0)).x() - left)
        part = image.copy(x0, 0, 2 * plot.width(), image.height())
        assert len(colours(part, 5)) > 10
    ex.export_view(view, tmp_path / "mc.svg")
    root = ET.parse(tmp_path / "mc.svg").getroot()
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))  # three plots' clip paths do not collide
    assert {"p0_place", "p1_place", "p2_place"} <= set(ids)
    refs = {m for e in root.iter() for v in e.attrib.values()
            for m in re.findall(r"url\(#([^)]+)\)", v)}
    assert refs and refs <= set(ids)  # every clip path used exists
    ex.export_view(view, tmp_path / "mc.pdf")
    w, h = media_box((tmp_path / "mc.pdf").read_bytes())
    assert w / h == pytest.approx((right - left) / (bottom - top), rel=0.01)


@pytest.mark.parametrize("name, scale, says", [
    ("view.bmp", 1, ".bmp"), ("view", 1, "without a suffix"), ("view.png", 0.5, "scale"),
    ("view.png", 5, "scale"), ("view.png", float("nan"), "scale"),
])
def test_bad_suffix_or_scale_writes_nothing(make_window, qtbot, ui, tmp_path, name, scale, says):
    window = make_window(expression="sin(x)", restore=False)
    with pytest.raises(ValueError, match=re.escape(says)):
        ex.export_view(window.curve_view, tmp_path / name, scale=scale)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(("view", ".partial"))]


def test_a_missing_folder_raises_and_leaves_nothing(make_window, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    with pytest.raises(OSError):
        ex.export_view(window.curve_view, tmp_path / "nowhere" / "curve.png")
    assert not (tmp_path / "nowhere").exists()


def test_the_surface_is_refused_offscreen(make_window, qtbot, ui, tmp_path):
    assert QtGui.QGuiApplication.platformName() == "offscreen"
    window = make_window(expression="x^2 + y^2", restore=False)
    built(qtbot, ui, window)
    assert "offscreen" in ex.unavailable(window, "surface")
    for name in ("s.png", "s.svg"):
        with pytest.raises(ValueError):
            ex.export_view(window.surface_view, tmp_path / name)
        assert not (tmp_path / name).exists()


# -- the window's views ---------------------------------------------------------------------------
def test_views_of_lists_every_built_view_and_each_exports(make_window, qtbot, ui, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    built(qtbot, ui, window)
    views = ex.views_of(window)
    assert list(views) == [name for name, _, _ in ex.VIEWS]  # all built, in order
    assert views["error"] == ("Error vs h", window.error_view)
    # a function of x: the views of f(x, y) are not drawn, the labs' own views are
    assert ex.unavailable(window, "landscape") == "drawn for a function of x and y"
    assert ex.unavailable(window, "curve") is None and ex.unavailable(window, "chain") is None
    with pytest.raises(ValueError, match="x and y"):
        ex.show_view(window, "race_plots")
    for name in ("error", "taylor_error", "jacobian", "gradcheck", "regression_loss"):
        ex.show_view(window, name)
        widget = views[name][1]
        qtbot.waitUntil(widget.isVisible, timeout=5000)
        ui.wait_idle(window)
        for suffix in (".png", ".svg"):
            ex.export_view(widget, tmp_path / f"{name}{suffix}")
        image = QtGui.QImage(str(tmp_path / f"{name}.png"))
        assert (image.width(), image.height()) == ex.figure_size(widget)
        assert len(colours(image, 5)) > 5, name
        assert ET.parse(tmp_path / f"{name}.svg").getroot().tag.endswith("svg")
    assert window.session.show_taylor  # the Taylor error needs the polynomial on
    assert window.jacobian_action.isChecked() and window.regression_action.isChecked()


def open_some(qtbot, ui, window) -> set[str]:
    """The curve, the difference quotient's error plot, Monte Carlo, and the Taylor error in a
    tab behind the convergence plots: the views that are open."""
    built(qtbot, ui, window)
    window.session.set_option("show_secant", True)
    window.session.set_option("show_taylor", True)
    window.session.set_option("show_riemann", True)
    window.expectation_action.setChecked(True)
    window.tabifyDockWidget(window.docks["convergence"], window.docks["taylor_error"])
    window.docks["convergence"].raise_()
    qtbot.waitUntil(lambda: ex.on_screen(window.monte_carlo_view)
                    and ex.on_screen(window.convergence_view)
                    and not ex.on_screen(window.taylor_error_view), timeout=5000)
    ui.wait_idle(window)
    return {"curve", "error", "taylor_error", "convergence", "monte_carlo"}


def test_export_all_writes_one_file_per_open_view(make_window, qtbot, ui, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    expected = open_some(qtbot, ui, window)
    assert not ex.on_screen(window.taylor_error_view)  # behind the convergence tab
    front = {k for k, d in window.docks.items() if ex.on_screen(d)}
    out = tmp_path / "figures"
    out.mkdir()
    calls = []
    written = ex.export_all(window, out, "png", 2, progress=lambda i, n: calls.append((i, n)))
    assert {os.path.basename(p) for p in written} == {f"{n}.png" for n in expected}
    assert sorted(os.listdir(out)) == sorted(f"{n}.png" for n in expected)
    assert calls == [(i, len(expected)) for i in range(len(expected) + 1)]
    for name in expected:
        image = QtGui.QImage(str(out / f"{name}.png"))
        w, h = ex.figure_size(ex.views_of(window)[name][1])
        assert (image.width(), image.height()) == (2 * w, 2 * h)
        assert len(colours(image, 9)) > 5, name  # drawn, though it was behind a tab
    assert {k for k, d in window.docks.items() if ex.on_screen(d)} == front  # tabs as before
    ex.export_all(window, out, "svg")
    ex.export_all(window, out, "pdf")
    for name in expected:
        assert ET.parse(out / f"{name}.svg").getroot().tag.endswith("svg")
        assert (out / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    assert no_leftovers(out)


def test_export_all_stops_when_cancelled(make_window, qtbot, ui, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    expected = open_some(qtbot, ui, window)
    written = ex.export_all(window, tmp_path, "svg", progress=lambda i, n: i < 2)
    assert len(written) == 2 < len(expected)
    assert sorted(p.name for p in tmp_path.glob("*.svg")) == sorted(
        os.path.basename(p) for p in written)
    assert no_leftovers(tmp_path)


def test_export_all_into_a_missing_folder_or_a_file_raises(make_window, qtbot, ui, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    built(qtbot, ui, window)
    with pytest.raises(OSError, match="does not exist"):
        ex.export_all(window, tmp_path / "missing")
    not_a_folder = tmp_path / "figures.png"
    not_a_folder.write_text("")
    with pytest.raises(OSError):
        ex.export_all(window, not_a_folder)
    assert not (tmp_path / "missing").exists() and not_a_folder.read_text() == ""


def test_a_failed_write_keeps_what_was_written_and_no_half_file(make_window, qtbot, ui, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    open_some(qtbot, ui, window)
    (tmp_path / "error.png").mkdir()  # the second view's file cannot replace a folder
    with pytest.raises(OSError):
        ex.export_all(window, tmp_path, "png")
    assert (tmp_path / "curve.png").is_file()  # the first stays
    assert (tmp_path / "error.png").is_dir() and no_leftovers(tmp_path)
    assert not (tmp_path / "monte_carlo.png").exists()  # it stopped there


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_export_all_into_a_read_only_folder_raises(make_window, qtbot, ui, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    built(qtbot, ui, window)
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OSError):
            ex.export_all(window, folder)
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o755)


def test_copy_view_puts_the_figure_on_the_clipboard(make_window, qtbot, ui, tmp_path):
    window = make_window(expression="sin(x)", restore=False)
    built(qtbot, ui, window)
    clipboard = QtWidgets.QApplication.clipboard()
    clipboard.clear()
    ex.copy_view(window.curve_view)
    image = clipboard.image()
    assert not image.isNull()
    assert (image.width(), image.height()) == ex.figure_size(window.curve_view)
    vb = window.curve_view.getPlotItem().getViewBox()
    p = vb.mapViewToScene(QtCore.QPointF(1.0, math.sin(1.0)))
    assert near(image, p.x(), p.y(), COLORS["f"])


# -- the File menu --------------------------------------------------------------------------------
def file_menu(window) -> QtWidgets.QMenu:
    return next(m for m in window.menuBar().findChildren(QtWidgets.QMenu) if m.title() == "&File")


def menu_of(window) -> ex.ExportMenu:
    return ex.install_export_menu(window, file_menu(window))  # once, whoever calls it first


def test_the_file_menu_has_an_entry_per_view_enabled_once_built(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    built(qtbot, ui, window)
    menu = menu_of(window)
    assert menu_of(window) is menu  # installed once
    titles = [a.text() for a in file_menu(window).actions()]
    assert "E&xport view" in titles and "Export &all open views…" in titles
    assert titles.index("E&xport view") < titles.index("&Quit")
    assert list(menu.view_actions) == [name for name, _, _ in ex.VIEWS]
    assert [a.text() for a in menu.menu.actions()] == [f"{t}…" for _, t, _ in ex.VIEWS]
    menu.menu.aboutToShow.emit()
    assert menu.view_actions["curve"].isEnabled() and menu.view_actions["chain"].isEnabled()
    assert menu.copy_actions["error"].isEnabled() and menu.all_action.isEnabled()
    assert not menu.view_actions["landscape"].isEnabled()  # sin(x) has no landscape
    assert "x and y" in menu.view_actions["landscape"].toolTip()
    assert menu.copy_action.shortcut() == QtGui.QKeySequence("Ctrl+Shift+C")
    ui.type_expression(window, "x^2 + y^2")
    menu.menu.aboutToShow.emit()
    assert menu.view_actions["landscape"].isEnabled()
    assert not menu.view_actions["curve"].isEnabled()


def test_export_a_view_from_the_menu(make_window, qtbot, ui, tmp_path, monkeypatch, warnings):
    window = make_window(expression="sin(x)", restore=False)
    built(qtbot, ui, window)
    menu = menu_of(window)
    # PNG: the save dialog, then the scale (remembered)
    target = tmp_path / "taylor"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), "PNG image (*.png)"))
    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem",
                        lambda parent, title, label, items, current, editable: (items[2], True))
    menu.menu.aboutToShow.emit()  # as opening File > Export view does
    menu.view_actions["taylor_error"].trigger()
    png = tmp_path / "taylor.png"
    assert png.is_file() and not warnings
    assert window.session.show_taylor and window.taylor_error_view.isVisible()  # opened
    image = QtGui.QImage(str(png))
    w, h = ex.figure_size(window.taylor_error_view)
    assert (image.width(), image.height()) == (3 * w, 3 * h)
    assert int(window.settings.value(ex.SETTING_SCALE)) == 3
    assert str(png) in window.statusBar().currentMessage()
    # SVG chosen by its filter: the suffix is added, no scale asked
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "chain"), "SVG drawing (*.svg)"))
    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem",
                        lambda *a, **k: pytest.fail("no scale for SVG"))
    menu.view_actions["chain"].trigger()
    assert ET.parse(tmp_path / "chain.svg").getroot().tag.endswith("svg")
    assert window.backprop_action.isChecked()
    # a failure: a warning naming the file and why, nothing written
    bad = tmp_path / "missing" / "curve.pdf"
    assert not ex.export_named_view(window, "curve", bad)
    assert warnings and str(bad) in warnings[-1][1]
    assert not (tmp_path / "missing").exists()


def test_a_png_is_written_while_the_window_keeps_painting(make_window, qtbot, ui, tmp_path,
                                                            monkeypatch, warnings):
    """File > Export view as PNG at 4x: the figure is drawn on the GUI thread, then encoded and
    written on another while the event loop turns (a 10 ms timer ticks; the encoding here is
    made to take 0.3 s more, as a slow disk would). The file is the figure drawn; a failure in
    the writer is told as before and leaves nothing."""
    import threading
    import time

    window = make_window(expression="sin(x)", restore=False)
    built(qtbot, ui, window)
    write = ex._write_png
    threads = []

    def slow_write(image, path):
        threads.append(threading.current_thread() is not threading.main_thread())
        time.sleep(0.3)
        write(image, path)

    monkeypatch.setattr(ex, "_write_png", slow_write)
    ticks = []
    timer = QtCore.QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    png = tmp_path / "curve.png"
    start = time.monotonic()
    assert ex.export_named_view(window, "curve", png, scale=4) and not warnings
    timer.stop()
    assert threads == [True]
    assert len([t for t in ticks if t > start]) >= 10  # ~30 ticks while the writer slept
    image = QtGui.QImage(str(png))
    w, h = ex.figure_size(window.curve_view)
    assert (image.width(), image.height()) == (4 * w, 4 * h)
    drawn = ex.view_image(window.curve_view, 4).convertToFormat(image.format())
    assert drawn == image  # pixel for pixel: the figure, encoded without loss
    assert no_leftovers(tmp_path)

    def failing(image, path):  # the disk fills while the writer writes
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(ex, "_write_png", failing)
    other = tmp_path / "other.png"
    assert not ex.export_named_view(window, "curve", other, scale=2)
    assert str(other) in warnings[-1][1] and "No space left" in warnings[-1][1]
    assert not other.exists() and no_leftovers(tmp_path)


def test_export_all_and_copy_from_the_menu(make_window, qtbot, ui, tmp_path, monkeypatch,
                                           warnings):
    window = make_window(expression="sin(x)", restore=False)
    expected = open_some(qtbot, ui, window)
    menu = menu_of(window)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory",
                        lambda *a, **k: str(tmp_path))
    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem",
                        lambda parent, title, label, items, current, editable:
                        (next(i for i in items if i.startswith("PDF")), True))
    menu.update()  # what opening the File menu does
    menu.all_action.trigger()
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == sorted(f"{n}.pdf" for n in expected)
    assert f"{len(expected)} views written" in window.statusBar().currentMessage()
    assert not warnings
    clipboard = QtWidgets.QApplication.clipboard()
    clipboard.clear()
    menu.copy_actions["monte_carlo"].trigger()
    image = clipboard.image()
    assert (image.width(), image.height()) == ex.figure_size(window.monte_carlo_view)
    clipboard.clear()
    window.curve_view.setFocus()
    menu.copy_action.trigger()  # Ctrl+Shift+C: the view in focus, else the central one
    image = clipboard.image()
    assert (image.width(), image.height()) == ex.figure_size(window.curve_view)
