"""The landscape of f(x, y) from the app: presets, the point and the direction dragged with real
events, and what is drawn checked against SymPy and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from PySide6 import QtCore

HIMMELBLAU = "(x^2+y-11)^2+(x+y^2-7)^2"


def sympy_gradient(text, point):
    x, y = sp.symbols("x y")
    expr = sp.sympify(text.replace("^", "**"), locals={"x": x, "y": y})
    return np.array([float(sp.diff(expr, v).subs({x: point[0], y: point[1]})) for v in (x, y)])


def to_widget(view, x, y):
    return QtCore.QPointF(view.mapFromScene(view.scene_pos(x, y)))


def open_landscape(window, qtbot, name):
    panel = window.function_panel
    panel._fill_landscapes()  # what opening the submenu does
    action = next(a for a in panel.landscape_actions if a.text().startswith(name))
    action.trigger()
    qtbot.waitUntil(lambda: window.landscape_model.f2 is not None, timeout=20000)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30000)
    return action.data()


def test_himmelblau_preset_draws_the_landscape_and_its_critical_points(make_window, qtbot):
    window = make_window(expression="sin(x)", restore=False)
    open_landscape(window, qtbot, "Himmelblau")
    s = window.session
    assert s.xy_range[0][0] <= -5 and s.xy_range[0][1] >= 5  # the preset's range (aspect 1)
    assert window.central.currentWidget() is window.landscape_view
    assert window.docks["landscape"].isVisible() and window.docks["cross_section"].isVisible()
    kinds = sorted(p.kind for p in window.landscape_model.critical
                   if all(-5 <= c <= 5 for c in p.point))
    assert kinds.count("minimum") == 4 and kinds.count("maximum") == 1 and kinds.count("saddle") == 4
    xs, _ = window.landscape_view.markers.getData()
    assert len(xs) == len(window.landscape_model.critical)
    assert "4 minima" in window.landscape_panel.status.text()
    # every drawn contour vertex lies on one of the levels (linear interpolation on the grid)
    f = window.landscape_model.f2
    cx, cy = window.landscape_view.contours.getData()
    finite = np.isfinite(cx)
    values = f(cx[finite], cy[finite])
    levels = window.landscape_model.levels
    nearest = levels[np.argmin(np.abs(values[:, None] - levels[None, :]), axis=1)]
    span = levels[-1] - levels[0]
    assert np.max(np.abs(values - nearest)) < 0.01 * span
    # back to a function of x: the curve returns
    window.function_panel.choose("sin(x)")
    qtbot.waitUntil(lambda: window.central.currentWidget() is window.curve_splitter, timeout=20000)


def placed_one_by_one(lines, xy_range, limit):
    """Where each level's label goes, as the view placed them before, candidate by candidate:
    on its line, inside the view's margins, the first point of the 64 nearest its line's
    median distance from the middle that is clear of the labels placed."""
    (x0, x1), (y0, y1) = xy_range
    cx, cy, wx, wy = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    labelled = lines if len(lines) <= limit else lines[::2][:limit]
    placed, out = [], []
    for level, xs, ys in labelled:
        inside = (np.isfinite(xs) & (xs > x0 + 0.07 * wx) & (xs < x1 - 0.07 * wx)
                  & (ys > y0 + 0.04 * wy) & (ys < y1 - 0.04 * wy))
        if not inside.any():
            continue
        px, py = xs[inside], ys[inside]
        d = (px - cx) ** 2 + (py - cy) ** 2
        for i in np.argsort(np.abs(d - np.median(d)))[:64]:
            if all(abs(px[i] - qx) > 0.1 * wx or abs(py[i] - qy) > 0.05 * wy
                   for qx, qy in placed):
                placed.append((float(px[i]), float(py[i])))
                out.append((f"{level:.3g}", float(px[i]), float(py[i])))
                break
    return out


@pytest.mark.parametrize("a", [11.0, 9.5, 13.0])
def test_level_labels_sit_on_their_lines_apart(make_window, qtbot, a):
    """Each level's value is written on its line (f there is the level), inside the view,
    apart from the others, where the candidate-by-candidate placing put it; a parameter
    moved (a slider frame) places them again."""
    from explorer.ui.views.landscape_view import MAX_LEVEL_LABELS

    window = make_window(expression="(x^2+y-a)^2+(x+y^2-7)^2", restore=False)
    s = window.session
    qtbot.waitUntil(lambda: window.landscape_model.f2 is not None, timeout=20000)
    s.set_parameter("a", a)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30000)
    view, model = window.landscape_view, window.landscape_model
    shown = [(label.textItem.toPlainText(), label.pos().x(), label.pos().y())
             for label in view.level_labels if label.isVisible()]
    assert len(shown) >= 5
    assert shown == placed_one_by_one(model.lines, s.xy_range, MAX_LEVEL_LABELS)
    f = model.f2
    span = model.levels[-1] - model.levels[0]
    for text, x, y in shown:
        assert abs(float(f(x, y)) - float(text)) < 0.01 * span + 0.001 * abs(float(text))


def test_dragging_the_point_and_the_direction(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    text = open_landscape(window, qtbot, "Himmelblau")
    s = window.session
    view = window.landscape_view
    viewport = view.viewport()
    s.set_direction(0.0)
    ui.drag(viewport, to_widget(view, *s.point), to_widget(view, 1.0, -1.5))
    px, py = s.point
    assert (px, py) == pytest.approx((1.0, -1.5), abs=0.05)  # a pixel is ~0.02 here
    ui.wait_idle(window)
    grad = sympy_gradient(text, (px, py))
    tip = np.array(view.gradient_tip()) - (px, py)
    np.testing.assert_allclose(tip / np.linalg.norm(tip), grad / np.linalg.norm(grad), atol=1e-9)
    shown = window.landscape_panel.values["gradient"].text()
    assert f"{grad[0]:.4g}"[:4].replace("-", "−") in shown
    # the contour through the point: f equals f(p) along it (traced on a coarse grid)
    f = window.landscape_model.f2
    hx, hy = view.highlight.getData()
    finite = np.isfinite(hx)
    assert finite.sum() > 20
    assert np.max(np.abs(f(hx[finite], hy[finite]) - f(px, py))) < 0.02 * abs(
        window.landscape_model.levels[-1] - window.landscape_model.levels[0])
    # turn u by dragging its handle to straight up from p
    ui.drag(viewport, to_widget(view, *view.handle.pos().toTuple()), to_widget(view, px, py + 1.0))
    assert s.direction == pytest.approx(math.pi / 2, abs=0.03)
    ui.wait_idle(window)
    u = np.array(s.unit_direction)
    h = 1e-6
    fd = (f(px + h * u[0], py + h * u[1]) - f(px - h * u[0], py - h * u[1])) / (2 * h)
    assert float(grad @ u) == pytest.approx(fd, rel=1e-6)
    value = window.landscape_panel.values["directional"].text().replace("−", "-")
    assert float(value.split()[0]) == pytest.approx(fd, rel=1e-5)
    assert window.cross_section_view.tangent_slope() == pytest.approx(fd, rel=1e-6)
    # u along the gradient: the directional derivative is |grad f|
    window.landscape_panel.along_gradient.click()
    ui.wait_idle(window)
    assert float(window.landscape_panel.values["directional"].text().replace("−", "-").split()[0]
                 ) == pytest.approx(np.linalg.norm(grad), rel=1e-5)


def test_rosenbrock_hessian_and_log_colours(make_window, qtbot):
    window = make_window(expression="sin(x)", restore=False)
    open_landscape(window, qtbot, "Rosenbrock")
    s = window.session
    s.set_point((1.0, 1.0))
    assert s.log_colors  # the preset's choice for a valley
    window.landscape_panel.log_box.click()
    assert not s.log_colors
    window.landscape_panel.log_box.click()
    assert s.log_colors
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=20000)
    window.landscape_panel.refresh()
    text = window.landscape_panel.values["hessian"].text().replace("−", "-")
    assert "802" in text and "-400" in text and "200" in text
    assert "minimum" in window.landscape_panel.values["kind"].text()
    assert "log" in window.landscape_view.colorbar.axis.labelText
    minima = [p for p in window.landscape_model.critical if p.kind == "minimum"]
    assert len(minima) == 1 and minima[0].point == pytest.approx([1.0, 1.0], abs=1e-8)


def test_a_landscape_undefined_everywhere_in_view_says_so(make_window, qtbot, ui):
    window = make_window(expression="sin(x)", restore=False)
    window.session.set_xy_range((-3, -1), (-3, -1))
    ui.type_expression(window, "sqrt(x) + y")  # x < 0 everywhere in view
    qtbot.waitUntil(lambda: window.central.currentWidget() is window.landscape_view, timeout=20000)
    ui.wait_idle(window)
    view = window.landscape_view
    assert view.message.textItem.toPlainText() == "f is undefined everywhere in view"
    (x0, x1), (y0, y1) = view.getPlotItem().vb.viewRange()
    pos = view.message.pos()
    assert x0 < pos.x() < x1 and y0 < pos.y() < y1  # in the middle of what is shown
    assert window.landscape_view.image.image is None or not np.isfinite(
        window.landscape_model.grid.z).any()


def test_a_pan_moves_the_drawn_grid_and_samples_again_when_the_hand_pauses(make_window, qtbot,
                                                                            ui, monkeypatch):
    """A pan frame samples nothing on the GUI thread while the grid drawn still covers the
    view: the grid moves with it, and the full grid over the new range (checked against f)
    comes from the sampler when the hand pauses. A jump out of the drawn grid is drawn at once."""
    import threading

    from explorer.ui import landscape_model

    window = make_window(expression=HIMMELBLAU, restore=False)
    qtbot.waitUntil(lambda: window.landscape_model.f2 is not None, timeout=20000)
    ui.wait_idle(window)
    qtbot.wait(50)  # the view publishes the range it shows (its aspect) after its first layout
    ui.wait_idle(window)
    on_gui = []
    original = landscape_model.sample
    gui = threading.get_ident()

    def counted(*args):
        if threading.get_ident() == gui:
            on_gui.append(args[1])
        return original(*args)

    monkeypatch.setattr(landscape_model, "sample", counted)
    view, model, s = window.landscape_view, window.landscape_model, window.session
    before = s.xy_range
    # from an empty corner (not the point), a short pan
    (x0, x1), (y0, y1) = before
    start = to_widget(view, x0 + 0.15 * (x1 - x0), y1 - 0.15 * (y1 - y0))
    ui.drag(view.viewport(), start, start + QtCore.QPointF(60, 40), steps=8)
    assert s.xy_range != before  # the view moved and said so
    assert on_gui == []
    assert model.is_busy()  # the refinement is on its way
    ui.wait_idle(window)
    assert on_gui == []
    grid = model.grid
    assert grid.z.shape == (landscape_model.GRID, landscape_model.GRID)
    (gx0, gx1), (gy0, gy1) = s.xy_range
    assert (grid.xs[0], grid.xs[-1], grid.ys[0], grid.ys[-1]) == pytest.approx((gx0, gx1, gy0, gy1))
    f = s.f
    for i, j in ((0, 0), (137, 251), (399, 399)):
        assert grid.z[i, j] == pytest.approx(float(f(grid.xs[j], grid.ys[i])), rel=1e-12)
    # out of what is drawn: the coarse grid at once, on the GUI thread
    s.set_xy_range((20, 30), (20, 30))
    assert on_gui == [((20, 30), (20, 30))]


def test_a_new_function_is_sampled_once_off_the_gui_thread(make_window, qtbot, ui, monkeypatch):
    """A typed function is drawn from the full grid the sampler brings: no coarse grid first
    on the GUI thread (a second sampling, contouring and repaint, ~100 ms there). The grid
    drawn is f's, and the landscape is redrawn once."""
    import threading

    from explorer.ui import landscape_model

    window = make_window(expression=HIMMELBLAU, restore=False)
    qtbot.waitUntil(lambda: window.landscape_model.f2 is not None, timeout=20000)
    ui.wait_idle(window)
    calls = []
    original = landscape_model.sample
    gui = threading.get_ident()

    def counted(*args):
        calls.append(threading.get_ident() == gui)
        return original(*args)

    monkeypatch.setattr(landscape_model, "sample", counted)
    model = window.landscape_model
    redrawn = []
    model.changed.connect(lambda: redrawn.append(model.grid))
    for text in ("x^2 - y^2 + y^4/4", "sin(x) cos(y) + x^2/10"):
        calls.clear()
        redrawn.clear()
        ui.type_expression(window, text)
        ui.wait_idle(window)
        assert calls and not any(calls)  # sampled, and never on the GUI thread
        assert len(redrawn) == 1
        grid = model.grid
        assert grid.z.shape == (landscape_model.GRID, landscape_model.GRID)
        f = window.session.f
        for i, j in ((0, 0), (137, 251), (399, 399)):
            assert grid.z[i, j] == pytest.approx(float(f(grid.xs[j], grid.ys[i])), rel=1e-12)


def test_the_cross_section_keeps_its_range_while_the_point_is_dragged(make_window, qtbot, ui):
    """Dragged a little at a time, the point's cross-section keeps its y range while the curve
    fills at least half of it (a new range each frame jitters and re-renders the axes); it
    re-ranges when the curve leaves the view, and always shows f(p + t u)'s bulk."""
    from explorer.ui.views.curve_view import robust_y_range

    window = make_window(expression="sin(x)", restore=False)
    open_landscape(window, qtbot, "Himmelblau")
    s, view, section = window.session, window.landscape_view, window.cross_section_view
    s.set_direction(0.0)
    s.set_point((1.0, -1.0))
    ui.wait_idle(window)
    qtbot.wait(120)
    vb = section.getPlotItem().vb
    ranges = []
    vb.sigYRangeChanged.connect(lambda _vb, r: ranges.append(tuple(r)))
    viewport = view.viewport()
    start = to_widget(view, 1.0, -1.0)
    ui.send_mouse(viewport, "move", start, buttons=QtCore.Qt.MouseButton.NoButton)
    ui.send_mouse(viewport, "press", start)
    curves, f = [], window.landscape_model.f2
    for i in range(1, 13):  # 0.03 a step along y, slower than the plot's 20 updates a second
        ui.send_mouse(viewport, "move", to_widget(view, 1.0, -1.0 + 0.03 * i))
        qtbot.wait(70)
        ts, values = section.curve.getData()
        curves.append(values.copy())
        px, py = s.point
        np.testing.assert_allclose(values, f(px + ts, np.full_like(ts, py)), rtol=1e-12)
        lo, hi = vb.viewRange()[1]
        want_lo, want_hi = robust_y_range(values)
        assert lo <= want_lo and want_hi <= hi  # the bulk is in view
        assert want_hi - want_lo >= 0.5 * (hi - lo)  # and fills at least half of it
    ui.send_mouse(viewport, "release", to_widget(view, 1.0, -1.0 + 0.36))
    moved = sum(not np.array_equal(a, b) for a, b in zip(curves, curves[1:], strict=False))
    assert moved >= 8  # the plot followed the drag
    assert len(ranges) <= 2, ranges  # without re-ranging each frame
    # a jump that leaves the range re-ranges at once
    s.set_point((-3.5, 3.5))
    qtbot.wait(120)
    ts, values = section.curve.getData()
    lo, hi = vb.viewRange()[1]
    want_lo, want_hi = robust_y_range(values)
    assert lo <= want_lo and want_hi <= hi and want_hi - want_lo >= 0.5 * (hi - lo)


def test_a_change_of_the_settings_only_re_contours_the_grid_drawn(make_window, qtbot, ui,
                                                                   monkeypatch):
    """More levels or log colours, from the panel's controls: the 400 x 400 grid already drawn
    is re-contoured (f is not sampled again, on any thread), and the new lines lie on their
    levels of f; a new range samples again."""
    from explorer.core import multivariate

    window = make_window(expression=HIMMELBLAU, restore=False)
    qtbot.waitUntil(lambda: window.landscape_model.f2 is not None, timeout=20000)
    ui.wait_idle(window)
    model, panel, s = window.landscape_model, window.landscape_panel, window.session
    sampled = []
    original = multivariate.evaluate_grid
    monkeypatch.setattr(multivariate, "evaluate_grid",
                        lambda f, xr, yr, nx=200, ny=None: sampled.append(nx) or
                        original(f, xr, yr, nx, ny))
    grid = model.grid
    count = s.contour_count + 4
    panel.levels_spin.setValue(count)
    ui.wait_idle(window)
    panel.log_box.click()
    ui.wait_idle(window)
    assert s.contour_count == count and s.log_colors
    assert sampled == []
    assert model.grid is grid and len(model.levels) == count
    np.testing.assert_allclose(model.levels, multivariate.contour_levels(grid.z, count, log=True))
    f = model.f2
    for level, xs, ys in model.lines[:: max(1, len(model.lines) // 6)]:
        finite = np.isfinite(xs)
        values = f(xs[finite], ys[finite])
        spread = np.nanmax(grid.z) - np.nanmin(grid.z)
        assert np.max(np.abs(values - level)) < 2e-3 * spread
    s.set_xy_range((-3, 3), (-3, 3))
    ui.wait_idle(window)
    assert 400 in sampled and model.grid is not grid
