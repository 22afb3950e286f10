"""The command line: a trajectory written by `calculus-explorer trace` equals the core's; a view
drawn by `calculus-explorer render` has the size asked and is drawn (PNG pixels, SVG, PDF page);
`calculus-explorer SESSION.json` opens the app on that file. Bad arguments exit with 2 and a
message naming what, and nothing is written."""

import csv
import json
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import explorer.core as ec
from explorer.app import is_session_path, main

ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"


def test_trace_writes_the_core_s_trajectory(tmp_path, capsys):
    out = tmp_path / "adam.csv"
    code = main(["trace", ROSENBROCK, "--optimizer", "adam", "--lr", "0.05", "--set",
                 "betas=0.8,0.99", "--start", "-1.5,2", "--steps", "300", "--out", str(out)])
    assert code == 0
    expected = ec.optimize(ec.parse(ROSENBROCK), (-1.5, 2.0), ec.Adam(lr=0.05, betas=(0.8, 0.99)),
                           steps=300)
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["step", "x", "y", "value", "grad_x", "grad_y"]
    np.testing.assert_array_equal(np.array(rows[1:], dtype=float)[:, 1:3], expected.points)
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(expected.describe()) and str(out) in printed


def test_trace_json_with_momentum_and_nesterov(tmp_path):
    out = tmp_path / "nesterov.json"
    assert main(["trace", "x^2 + 10y^2", "--optimizer", "SGD", "--lr", "0.01", "--set",
                 "momentum=0.9", "--set", "nesterov=true", "--start", "1,1", "--steps", "2000",
                 "--tol", "1e-8", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["optimizer"] == "SGD" and data["hyperparameters"]["nesterov"] is True
    assert data["status"] == "converged"
    expected = ec.optimize(ec.parse("x^2 + 10y^2"), (1, 1),
                           ec.SGD(lr=0.01, momentum=0.9, nesterov=True), steps=2000, tol=1e-8)
    assert data["steps"] == expected.steps


@pytest.mark.parametrize("args, what", [
    (["sin(", "--optimizer", "adam"], "FUNCTION, column"),
    (["a*x^2 + y^2", "--optimizer", "adam"], "names without values"),
    (["x^2 + y^2", "--optimizer", "adamax"], "unknown optimizer"),
    (["x^2 + y^2", "--optimizer", "adam", "--set", "learning_rate=1"], "learning_rate"),
    (["x^2 + y^2", "--optimizer", "sgd", "--set", "momentum=fast"], "--set momentum=fast"),
    (["x^2 + y^2", "--optimizer", "adam", "--lr", "-1"], "lr"),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, args, what):
    out = tmp_path / "t.csv"
    full = ["trace", *args, "--start", "1,1", "--steps", "10", "--out", str(out)]
    assert main(full) == 2
    assert what in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("start, steps, out, what", [
    ("1", "10", "t.csv", "--start 1"), ("1,x", "10", "t.csv", "--start"),
    ("1,1", "-3", "t.csv", "--steps"), ("1,1", "10", "t.txt", ".csv or .json"),
])
def test_bad_start_steps_and_file(tmp_path, capsys, start, steps, out, what):
    code = main(["trace", "x^2 + y^2", "--optimizer", "adam", "--start", start,
                 "--steps", steps, "--out", str(tmp_path / out)])
    assert code == 2 and what in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_trace_runs_without_qt(tmp_path):
    out = tmp_path / "t.json"
    code = ("import sys; from explorer.app import main; "
            f"r = main(['trace', 'x^2 + y^2', '--optimizer', 'newton', '--start', '1,2', "
            f"'--steps', '5', '--out', {str(out)!r}]); "
            "assert 'PySide6' not in sys.modules and 'pyqtgraph' not in sys.modules; sys.exit(r)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "converged at step 1" in done.stdout
    missing = subprocess.run([sys.executable, "-m", "explorer", "trace", "x^2"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "--optimizer" in missing.stderr


# -- render ---------------------------------------------------------------------------------------
def session_file(tmp_path, expression, name="session.json", **fields):
    """A session file as File > Save writes it, made from the core's Session."""
    from explorer.core.document import make_document

    s = ec.Session(expression)
    for key, value in fields.items():
        getattr(s, f"set_{key}")(value)
    path = tmp_path / name
    path.write_text(json.dumps(make_document(s.to_dict())))
    return path


def run_render(*args, timeout=240):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "explorer", "render", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def png_size(path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (read here, not by Qt)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def media_box(data: bytes) -> tuple[float, float]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]",
                       data)
    assert len(boxes) == 1  # one page
    x0, y0, x1, y1 = map(float, boxes[0])
    return x1 - x0, y1 - y0


def test_render_a_png_of_the_curve_at_2x(tmp_path):
    session = session_file(tmp_path, "x^3 - 3x", x0=1.25)
    out = tmp_path / "curve.png"
    done = run_render(session, "--view", "curve", "--out", out, "--size", "640x400",
                      "--scale", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {out} (1280×800 px)\n"
    assert png_size(out) == (1280, 800)
    from PySide6 import QtGui

    image = QtGui.QImage(str(out))
    from explorer.ui.theme import COLORS

    blue = QtGui.QColor(COLORS["f"])
    pixels = [image.pixelColor(x, y) for x in range(0, 1280, 3) for y in range(0, 800, 3)]
    assert len({c.name() for c in pixels}) > 30  # drawn, not blank
    assert sum(abs(c.red() - blue.red()) + abs(c.green() - blue.green())
               + abs(c.blue() - blue.blue()) < 30 for c in pixels) > 200  # f's curve
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png", "session.json"]


def test_render_svg_and_pdf_of_a_landscape(tmp_path):
    session = session_file(tmp_path, "x^2 + 3y^2", point=(1.0, -0.5))
    svg = tmp_path / "landscape.svg"
    done = run_render(session, "--view", "landscape", "--out", svg, "--size", "700x500")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {svg} (700×500 px)"
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == ("700", "500")
    tags = [e.tag.rsplit("}", 1)[-1] for e in root.iter()]
    assert tags.count("path") + tags.count("polyline") > 50  # contours, arrows, axes
    assert "image" in tags  # the coloured values of f
    pdf = tmp_path / "section.pdf"
    done = run_render(session, "--view", "cross_section", "--out", pdf, "--size", "600x400")
    assert done.returncode == 0, done.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert media_box(data) == pytest.approx((450, 300), abs=1)  # 0.75 pt a pixel


def test_render_a_view_of_several_plots_at_the_size_asked(tmp_path):
    session = session_file(tmp_path, "(x-1)^2")
    out = tmp_path / "mc.png"
    done = run_render(session, "--view", "monte_carlo", "--out", out, "--size", "900x300")
    assert done.returncode == 0, done.stderr
    assert png_size(out) == (900, 300)


@pytest.mark.parametrize("make, args, what", [
    (None, ["--view", "curve"], "No such file"),
    ("{not json", ["--view", "curve"], "line 1"),
    ({"expression": "x^2", "point": ["a", 1]}, ["--view", "curve"], "point"),
    ({"expression": "__import__('os')"}, ["--view", "curve"], "expression"),
    ("x^2", ["--view", "nope"], "choose one of curve, landscape, cross_section"),
    ("x^2", ["--view", "landscape"], "x and y"),
    ("x^2 + y^2", ["--view", "curve"], "x alone"),
    ("x^2 + y^2", ["--view", "surface"], "OpenGL"),
    ("x^2", ["--view", "curve", "--size", "12x"], "--size 12x"),
    ("x^2", ["--view", "curve", "--size", "50x50"], "100 to 4000"),
    ("x^2", ["--view", "curve", "--scale", "9"], "--scale 9"),
    ("x^2", ["--view", "curve", "--scale", "2", "--out-suffix", ".svg"], "PNG only"),
    ("x^2", ["--view", "curve", "--out-suffix", ".bmp"], ".png, .svg or .pdf"),
    ("x^2", ["--view", "curve", "--out-folder", "missing"], "does not exist"),
    ("x^2", ["--out-none"], "--view"),
])
def test_bad_render_arguments_exit_2_and_write_nothing(tmp_path, capsys, monkeypatch, make, args,
                                                       what):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # the surface's check
    session = tmp_path / "in.json"
    if isinstance(make, dict):
        session.write_text(json.dumps(make))
    elif make == "{not json":
        session.write_text(make)
    elif make is not None:
        session = session_file(tmp_path, make, name="in.json")
    suffix, folder = ".png", tmp_path
    args = list(args)
    for flag in ("--out-suffix", "--out-folder"):
        if flag in args:
            i = args.index(flag)
            value = args[i + 1]
            del args[i:i + 2]
            if flag == "--out-suffix":
                suffix = value
            else:
                folder = tmp_path / value
    out = [] if "--out-none" in args else ["--out", str(folder / f"figure{suffix}")]
    args = [a for a in args if a != "--out-none"]
    assert main(["render", str(session), *args, *out]) == 2
    assert what in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == (["in.json"] if make is not None else [])


def test_render_checks_without_qt_and_times_out_cleanly(tmp_path):
    session = session_file(tmp_path, "sin(x)")
    code = ("import sys; from explorer.app import main; "
            f"r = main(['render', {str(session)!r}, '--view', 'landscape', '--out', "
            f"{str(tmp_path / 'x.png')!r}]); "
            "assert 'PySide6' not in sys.modules and 'pyqtgraph' not in sys.modules; sys.exit(r)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "x and y" in done.stderr
    # Qt started, but the views cannot be drawn in the time given: 2, a message, no file
    done = run_render(session, "--view", "curve", "--out", tmp_path / "x.png", "--timeout",
                      "0.001")
    assert done.returncode == 2 and "timed out" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.json"]


# -- calculus-explorer SESSION.json ---------------------------------------------------------------
@pytest.mark.parametrize("text, is_session", [
    ("lecture.json", True), ("C:/x/Lecture.JSON", True), ("sin(x)", False), (None, False),
    ("json", False)])
def test_a_json_argument_is_a_session_file(text, is_session):
    assert is_session_path(text) is is_session


@pytest.fixture
def app_run(qtbot, tmp_path, monkeypatch):
    """Run ``explorer.app.main(argv)`` with its event loop replaced: the loop waits until
    ``until(window)`` holds, then closes the window. Returns (exit code, window)."""
    from PySide6 import QtWidgets

    from explorer.ui.main_window import MainWindow

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the autosave: not the user's
    shown = []
    monkeypatch.setattr(MainWindow, "show",
                        lambda self: (shown.append(self), QtWidgets.QMainWindow.show(self)))

    def run(argv, until):
        def loop(app):
            window = shown[-1]
            qtbot.waitUntil(lambda: until(window), timeout=60000)
            window.close()
            return 0

        monkeypatch.setattr(QtWidgets.QApplication, "exec", loop)
        code = main([*argv, "--settings", str(tmp_path / "settings.ini"), "--reset"])
        return code, shown[-1]

    return run


def test_a_session_file_argument_opens_the_app_on_it(app_run, tmp_path):
    path = session_file(tmp_path, "x^3 - 3x", x0=1.25)
    code, window = app_run([str(path)], lambda w: w.file_path is not None)
    assert code == 0
    assert window.file_path == str(path) and "session.json" in window.windowTitle()
    assert window.session.expression == "x^3 - 3x" and window.session.x0 == 1.25


def test_a_missing_session_file_opens_the_app_with_a_warning(app_run, tmp_path, monkeypatch):
    from PySide6 import QtWidgets

    seen = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        lambda parent, title, text, *a, **k: seen.append(text))
    path = tmp_path / "nowhere.json"
    code, window = app_run([str(path)], lambda w: bool(seen))
    assert code == 0
    assert str(path) in seen[0] and "No such file" in seen[0]
    assert window.file_path is None and window.session.function is not None


@pytest.mark.gl
def test_render_the_surface_under_xvfb(tmp_path):
    """OpenGL draws on X (Xvfb, Mesa), not offscreen: the surface is rendered as PNG there."""
    import shutil

    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is not installed (apt-get install xvfb xauth)")
    session = session_file(tmp_path, "x^2 + 3y^2")
    out = tmp_path / "surface.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    done = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable,
                           "-m", "explorer", "render", str(session), "--view", "surface",
                           "--out", str(out), "--size", "640x480"],
                          capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr
    assert png_size(out) == (640, 480)
    from PySide6 import QtGui

    image = QtGui.QImage(str(out))
    background = image.pixelColor(2, 2)
    pixels = [image.pixelColor(x, y) for x in range(0, 640, 4) for y in range(0, 480, 4)]
    covered = sum(c != background for c in pixels) / len(pixels)
    assert covered > 0.15  # the surface fills a good part of the view, not a blank frame
    assert len({c.name() for c in pixels}) > 50  # its colour map


def test_render_reports_a_failure_the_window_reports_late(tmp_path):
    """A failure said after the session seemed to open (the document is read off the GUI
    thread, so its failure arrives while render waits for the views to settle) is the error:
    exit 2 with it, and no figure."""
    session = session_file(tmp_path, "x^2")
    out = tmp_path / "late.png"
    script = (
        "import sys\n"
        "from PySide6 import QtCore, QtWidgets\n"
        "import explorer.ui.main_window as mw\n"
        "def open_file(self, path):\n"
        "    QtCore.QTimer.singleShot(0, lambda: QtWidgets.QMessageBox.warning(\n"
        "        self, 'Open failed', 'Could not read the session: the disk went away'))\n"
        "    return True\n"
        "mw.MainWindow.open_file = open_file\n"
        "from explorer.app import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", script, "render", str(session), "--view",
                           "curve", "--out", str(out)],
                          capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 2, done.stderr
    assert "Could not read the session: the disk went away" in done.stderr
    assert not out.exists()
