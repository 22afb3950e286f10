"""SurfaceView: the data it draws (pure NumPy, checked against f directly), its offscreen
fallback, and (in a subprocess under Xvfb, where OpenGL renders) the rendered surface."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import explorer
from explorer.core.expression import parse
from explorer.core.session import Session
from explorer.ui.views.surface_view import (
    HEIGHT,
    NO_GL_TEXT,
    color_values,
    drape,
    gl_available,
    nice_ticks,
    robust_z_range,
    scene_transform,
    surface_mesh,
    surface_scale,
)

HIMMELBLAU = "(x^2+y-11)^2+(x+y^2-7)^2"


# -- pure data ------------------------------------------------------------------------------------
def test_surface_scale_maps_the_range_onto_the_box_height():
    low, factor = surface_scale(-2.0, 6.0, height=1.5)
    assert (low, factor) == (-2.0, 1.5 / 8.0)
    assert (6.0 - low) * factor == pytest.approx(1.5)
    assert surface_scale(3.0, 3.0) == (3.0, 0.0)  # flat: no division by zero
    with pytest.raises(ValueError):
        surface_scale(1.0, float("nan"))


def test_scene_transform_is_affine_keeps_aspect_and_clips():
    t = scene_transform(((-5.0, 5.0), (0.0, 4.0)), (10.0, 30.0))
    # the longer side (x, 10 wide) spans [-1, 1]; y shares the scale (0.2 per unit)
    assert t.to_scene(-5.0, 2.0, 10.0) == pytest.approx((-1.0, 0.0, 0.0))
    assert t.to_scene(5.0, 4.0, 30.0) == pytest.approx((1.0, 0.4, HEIGHT))
    assert t.to_scene(0.0, 0.0, 20.0) == pytest.approx((0.0, -0.4, HEIGHT / 2))
    assert t.half_extent(((-5.0, 5.0), (0.0, 4.0))) == pytest.approx((1.0, 0.4))
    # beyond the z range: clipped to the box unless asked otherwise
    assert t.to_scene(0.0, 0.0, 50.0)[2] == pytest.approx(HEIGHT)
    assert t.to_scene(0.0, 0.0, 50.0, clip=False)[2] == pytest.approx(2 * HEIGHT)
    # arrays map element-wise, the same as one at a time; from_scene_z inverts z
    xs, ys, zs = np.array([-5.0, 1.0, 3.0]), np.array([0.0, 1.0, 2.5]), np.array([12.0, 17.0, 29.0])
    X, Y, Z = t.to_scene(xs, ys, zs)
    for i in range(3):
        assert (X[i], Y[i], Z[i]) == pytest.approx(t.to_scene(xs[i], ys[i], zs[i]))
    np.testing.assert_allclose(t.from_scene_z(Z), zs)
    # a constant function: a flat sheet half way up
    flat = scene_transform(((0, 1), (0, 1)), (2.0, 2.0))
    assert flat.to_scene(0.5, 0.5, 2.0)[2] == pytest.approx(HEIGHT / 2)


def test_surface_mesh_is_f_on_the_grid():
    f = parse(HIMMELBLAU)
    mesh = surface_mesh(f, ((-5.0, 5.0), (-4.0, 3.0)), n=31)
    np.testing.assert_array_equal(mesh.xs, np.linspace(-5, 5, 31))
    np.testing.assert_array_equal(mesh.ys, np.linspace(-4, 3, 31))
    X, Y = np.meshgrid(mesh.xs, mesh.ys, indexing="ij")  # z[i, j] = f(xs[i], ys[j])
    expected = (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2
    np.testing.assert_allclose(mesh.z, expected, rtol=1e-12)
    assert mesh.valid.all()
    assert mesh.z_range == pytest.approx((expected.min(), expected.max()))  # tame: all of it
    assert mesh.colors.shape == (31, 31, 4) and mesh.colors.dtype == np.float32
    np.testing.assert_array_equal(mesh.colors[..., 3], 1.0)


def test_surface_mesh_colours_are_viridis_of_the_height():
    import pyqtgraph as pg

    f = parse("x + 2*y")
    mesh = surface_mesh(f, ((0.0, 1.0), (0.0, 1.0)), n=11)
    cmap = pg.colormap.get("viridis")
    lowest, highest = mesh.colors[0, 0], mesh.colors[-1, -1]  # f = 0 and f = 3
    np.testing.assert_allclose(lowest, cmap.map(np.array([0.0]), mode="float")[0], atol=1e-6)
    np.testing.assert_allclose(highest, cmap.map(np.array([1.0]), mode="float")[0], atol=1e-6)
    t = (mesh.z[5, 5] - 0.0) / 3.0  # linear scaling in the middle
    np.testing.assert_allclose(mesh.colors[5, 5], cmap.map(np.array([t]), mode="float")[0],
                               atol=1e-6)


def test_surface_mesh_marks_undefined_samples():
    f = parse("sqrt(1 - x^2 - y^2)")
    mesh = surface_mesh(f, ((-1.5, 1.5), (-1.5, 1.5)), n=41)
    X, Y = np.meshgrid(mesh.xs, mesh.ys, indexing="ij")
    inside = 1 - X**2 - Y**2 >= 0
    np.testing.assert_array_equal(mesh.valid, inside)
    assert np.isnan(mesh.z[~inside]).all()
    np.testing.assert_allclose(mesh.z[inside], np.sqrt((1 - X**2 - Y**2)[inside]))
    np.testing.assert_array_equal(mesh.colors[~inside], 0.0)  # transparent, never drawn
    assert np.isfinite(mesh.colors).all()
    # undefined everywhere: no range, nothing to draw, no error
    nowhere = surface_mesh(parse("log(-1 - x^2 - y^2)"), ((-1, 1), (-1, 1)), n=9)
    assert nowhere.z_range is None and not nowhere.valid.any()


def test_robust_z_range_clips_poles_only():
    f = parse("1/(x^2 + y^2)")
    mesh = surface_mesh(f, ((-2.0, 2.0), (-2.0, 2.0)), n=40)
    lo, hi = mesh.z_range
    finite = mesh.z[mesh.valid]
    assert lo == pytest.approx(np.percentile(finite, 1))
    assert hi == pytest.approx(np.percentile(finite, 99)) and hi < finite.max() / 4
    assert robust_z_range(np.array([[1.0, 2.0], [3.0, np.nan]])) == (1.0, 3.0)
    assert robust_z_range(np.full((2, 2), np.nan)) is None


def test_log_colours_spread_a_valley():
    z = np.array([0.0, 2.5, 25.0, 250.0, 2500.0])
    linear = color_values(z, (0.0, 2500.0))
    log = color_values(z, (0.0, 2500.0), log=True)
    np.testing.assert_allclose(linear, z / 2500.0)
    # log1p((z - lo) / d) / log1p(1000) with d = range / 1000: each decade a third of the map
    np.testing.assert_allclose(log, np.log1p(z / 2.5) / math.log1p(1000.0))
    assert log[0] == 0.0 and log[-1] == pytest.approx(1.0)
    assert log[2] > 0.3 > linear[2]  # the valley floor gets colours of its own
    assert np.isnan(color_values(np.array([np.nan]), (0.0, 1.0), log=True)[0])
    rosenbrock = parse("(1-x)^2 + 100*(y-x^2)^2")
    lin_mesh = surface_mesh(rosenbrock, ((-2, 2), (-1, 3)), n=60)
    log_mesh = surface_mesh(rosenbrock, ((-2, 2), (-1, 3)), n=60, log=True)
    np.testing.assert_array_equal(lin_mesh.z, log_mesh.z)  # heights unchanged, colours differ
    assert not np.allclose(lin_mesh.colors, log_mesh.colors)


def test_drape_subdivides_long_segments_and_keeps_the_points():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.25], [1.0, 0.25]])
    dense = drape(points, step=0.3)
    np.testing.assert_allclose(dense, [[0, 0], [0.25, 0], [0.5, 0], [0.75, 0], [1, 0],
                                       [1, 0.25], [1, 0.25]])
    assert np.hypot(*np.diff(dense, axis=0).T).max() <= 0.3
    # a diverging run: bounded work, no error on non-finite points
    wild = np.array([[0.0, 0.0], [1e12, -1e12], [np.inf, np.nan]])
    assert len(drape(wild, step=0.01)) <= 2 * 64 + 1
    assert drape(points[:1], 0.3).shape == (1, 2)


def test_nice_ticks():
    ticks, decimals = nice_ticks(-5.0, 5.0)
    np.testing.assert_allclose(ticks, [-4, -2, 0, 2, 4])
    assert decimals == 0
    ticks, decimals = nice_ticks(0.0, 0.37, max_ticks=4)
    np.testing.assert_allclose(ticks, [0.0, 0.1, 0.2, 0.3])
    assert decimals == 1


# -- the view offscreen: a label, no GL ------------------------------------------------------------
def test_offscreen_view_shows_the_explanation_and_creates_no_gl(qtbot):
    from PySide6 import QtGui

    from explorer.ui.views.surface_view import SurfaceView

    assert QtGui.QGuiApplication.platformName() == "offscreen"
    assert not gl_available()
    session = Session(HIMMELBLAU)
    session.set_xy_range((-5, 5), (-5, 5))
    view = SurfaceView(session)
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    assert view.gl is None and view.surface is None and view.point_item is None
    assert view.message.isVisible() and view.message.text() == NO_GL_TEXT
    assert view.stack.currentWidget() is view.message
    assert not view.findChildren(QtGui.QOpenGLContext)
    # the session's changes and the lab's paths are taken without any GL work
    session.set_point((3.0, 2.0))
    session.set_option("log_colors", True)
    session.set_xy_range((-4, 4), (-4, 4))
    session.set_expression("sin(x)")
    view.set_paths([(np.array([[0.0, 0.0], [1.0, 1.0]]), "#E69F00")])
    assert view.path_items == [] and view.point_scene() is None
    assert view.to_scene(0.0, 0.0, 0.0) == pytest.approx((0.0, 0.0, 0.0))


# -- the view under Xvfb (OpenGL renders with Mesa llvmpipe), in a subprocess ----------------------
XVFB_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from PySide6 import QtWidgets
    from explorer.core.session import Session
    from explorer.ui.theme import configure_pyqtgraph
    from explorer.ui.views.surface_view import SurfaceView, gl_available

    app = QtWidgets.QApplication(sys.argv)
    configure_pyqtgraph()
    session = Session("(x^2+y-11)^2+(x+y^2-7)^2")
    session.set_xy_range((-5, 5), (-5, 5))
    session.set_point((3.0, 2.0))
    view = SurfaceView(session)
    view.resize(500, 400)
    view.show()

    def settle(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    settle(1.0)
    out = {"platform": app.platformName(), "gl_available": gl_available(),
           "gl_created": view.gl is not None}
    image = view.gl.grabFramebuffer().convertToFormat(view.gl.grabFramebuffer().Format.Format_RGB32)
    buf = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.width(), 4)
    rgb = buf[..., :3].reshape(-1, 3)
    background = np.array([255, 255, 255])
    out["size"] = [image.width(), image.height()]
    out["non_background"] = float((np.abs(rgb.astype(int) - background).sum(axis=1) > 30).mean())
    out["colours"] = int(len(np.unique(rgb, axis=0)))
    out["point_marker"] = view.point_item is not None and view.point_item.visible()
    out["point_scene"] = view.point_scene()
    out["point_expected"] = list(view.to_scene(3.0, 2.0, 0.0))
    out["mesh_shape"] = list(view.mesh.z.shape)
    faces = view.surface.opts["meshdata"].faces()
    out["faces"] = int(len(faces))

    # the point follows the session
    session.set_point((-2.0, 1.0))
    out["point_moved"] = view.point_scene()
    out["point_moved_expected"] = list(view.to_scene(-2.0, 1.0, session.f(-2.0, 1.0)))

    # optimizer paths: one line item each, cleared by []
    path = np.column_stack([np.linspace(-4, 3, 50), np.linspace(4, 2, 50)])
    view.set_paths([(path, "#E69F00"), (path[::-1] * 0.5, (0.2, 0.4, 0.8, 1.0))])
    out["path_items"] = len(view.visible_path_items())
    out["path_segments"] = [int(len(item.pos)) // 2 for item in view.visible_path_items()]
    view.set_paths([(path, "#E69F00")])
    out["path_items_after_one"] = len(view.visible_path_items())
    view.set_paths([])
    out["path_items_after_clear"] = len(view.visible_path_items())
    # paths given as a function (the race's): worked out when drawn, never while hidden
    calls = []

    def lazy():
        calls.append(1)
        return [(path, "#E69F00"), (path * 0.5, "#56B4E9")]

    view.hide()
    view.set_paths(lazy)
    out["lazy_calls_hidden"] = len(calls)
    view.show()
    settle(0.2)
    out["lazy_called_shown"] = len(calls) > 0
    out["lazy_items"] = len(view.visible_path_items())
    view.set_paths([])

    # undefined samples: their triangles are left out, nothing breaks
    session.set_expression("sqrt(16 - x^2 - y^2)")
    settle(0.2)
    out["faces_sqrt"] = int(len(view.surface.opts["meshdata"].faces()))
    img = view.gl.grabFramebuffer()
    out["sqrt_rendered"] = not img.isNull()

    # one surface update (120 x 120): sample, colour, upload and render
    times = []
    for k in range(6):
        t0 = time.perf_counter()
        session.set_option("log_colors", k % 2 == 0)
        view.gl.grabFramebuffer()
        times.append(time.perf_counter() - t0)
    out["update_ms"] = 1000 * float(np.median(times))

    # a point outside the range: no marker
    session.set_point((9.0, 0.0))
    out["outside_marker"] = view.point_scene()
    session.set_point((3.0, 2.0))

    # hidden (a closed dock): changes cost nothing; showing catches up
    drawn = view.mesh
    view.hide()
    session.set_expression("x^2 + 3*y^2")
    out["hidden_skipped"] = view.mesh is drawn
    view.show()
    settle(0.2)
    out["shown_redrawn"] = view.mesh is not drawn and bool(
        np.allclose(view.mesh.z, view.mesh.xs[:, None]**2 + 3 * view.mesh.ys[None, :]**2))

    # a function of one variable: the message instead of the GL widget
    session.set_expression("sin(x)")
    out["one_variable_message"] = view.message.text()
    out["one_variable_shows_message"] = view.stack.currentWidget() is view.message
    session.set_expression("x*y")
    out["back_to_gl"] = view.stack.currentWidget() is view.gl
    print("RESULT " + json.dumps(out))
""")


@pytest.mark.gl
def test_surface_renders_under_xvfb(tmp_path):
    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is not installed (apt-get install xvfb xauth): "
                    "OpenGL does not render on the offscreen platform")
    script = tmp_path / "surface_xvfb.py"
    script.write_text(XVFB_SCRIPT)
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb",
           "PYTHONPATH": os.pathsep.join(
               [str(Path(explorer.__file__).resolve().parents[1]),
                *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:
        proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1024x768x24",
                               sys.executable, "-X", "faulthandler", str(script)],
                              env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the Xvfb run timed out after 60 s:\n{exc.stdout}\n{exc.stderr}")
    assert proc.returncode == 0, f"exit code {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no result:\n{proc.stdout}\n{proc.stderr}"
    out = json.loads(lines[-1][len("RESULT "):])
    print(json.dumps(out, indent=1))  # shown with -s: render time, pixel counts
    assert out["platform"] == "xcb" and out["gl_available"] and out["gl_created"]
    assert out["mesh_shape"] == [120, 120] and out["faces"] == 2 * 119 * 119
    assert out["non_background"] > 0.15, out  # the surface covers the view (~20% at 500x400)
    assert out["colours"] > 200, out  # shaded viridis, not a flat fill
    assert out["point_marker"]
    assert out["point_scene"] == pytest.approx(out["point_expected"], abs=1e-5)
    assert out["point_moved"] == pytest.approx(out["point_moved_expected"], abs=1e-5)
    assert out["path_items"] == 2 and all(n > 10 for n in out["path_segments"])
    assert out["path_items_after_one"] == 1 and out["path_items_after_clear"] == 0
    assert out["lazy_calls_hidden"] == 0 and out["lazy_called_shown"] and out["lazy_items"] == 2
    assert 0 < out["faces_sqrt"] < 2 * 119 * 119 and out["sqrt_rendered"]
    assert out["outside_marker"] is None
    assert out["hidden_skipped"] and out["shown_redrawn"]
    assert out["one_variable_message"] == "The surface needs a function of x and y"
    assert out["one_variable_shows_message"] and out["back_to_gl"]
