"""Critical points in the app (markers, list, click to move x0) and the linked sign plots."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6 import QtCore


def wait_points(window, qtbot):
    qtbot.waitUntil(lambda: not window.is_busy() and window.critical_model.bounds is not None,
                    timeout=20000)


def test_critical_points_listed_marked_and_clickable(make_window, qtbot):
    window = make_window(expression="x^3 - 3x", restore=False)
    wait_points(window, qtbot)
    # f' = 3x^2 - 3: a maximum at -1, a minimum at 1; f'' = 6x: an inflection at 0
    points = window.critical_model.points
    assert [(round(float(p.point[0]), 9), p.kind) for p in points] == [
        (-1.0, "maximum"), (0.0, "inflection"), (1.0, "minimum")]
    marks = window.critical_overlay.marker_positions()
    np.testing.assert_allclose(marks, [[-1, 2], [0, 0], [1, -2]], atol=1e-9)
    labels = [label.textItem.toPlainText() for label in window.critical_overlay.labels
              if label.isVisible()]
    assert labels == ["max", "inflection", "min"]
    # the list, in its tab: a click on the minimum's row moves the point there
    window.docks["critical"].raise_()
    table = window.critical_panel.table
    qtbot.waitUntil(table.isVisible)
    assert table.rowCount() == 3 and table.item(2, 0).text() == "minimum"
    rect = table.visualItemRect(table.item(2, 1))
    qtbot.mouseClick(table.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.session.x0 == pytest.approx(1.0, abs=1e-12)
    assert window.curve_view.point.pos().y() == pytest.approx(-2.0)
    assert "1 minima, 1 maxima, 1 inflection" in window.critical_panel.status.text()


def cubic_labels(make_window, qtbot):
    """x^3 - 3x (a maximum at -1, an inflection at 0, a minimum at 1): the window, the
    critical-point overlay and the curve's view box."""
    window = make_window(expression="x^3 - 3x", restore=False)
    wait_points(window, qtbot)
    return window, window.critical_overlay, window.curve_view.getPlotItem().vb


def test_labels_flip_inside_the_view_at_its_edges(make_window, qtbot):
    window, overlay, vb = cubic_labels(make_window, qtbot)
    vb.setRange(xRange=(-3, 3), yRange=(-5, 5), padding=0)
    # room around both: the maximum (value 2) labelled above, the minimum (-2) below
    assert [overlay.label_below(i) for i in (0, 2)] == [False, True]
    # the view fitted tight to them: each label turns back into the view
    vb.setRange(yRange=(-2.05, 2.05), padding=0)
    assert [overlay.label_below(i) for i in (0, 2)] == [True, False]
    window.curve_view.viewport().repaint()  # a TextItem places itself when painted
    for i in (0, 2):
        assert vb.sceneBoundingRect().contains(overlay.labels[i].sceneBoundingRect())


def test_labels_at_the_left_and_right_edges_stay_inside_the_view(make_window, qtbot):
    window, overlay, vb = cubic_labels(make_window, qtbot)
    # the maximum (-1) and the minimum (1) a few pixels inside the left and right edges
    vb.setRange(xRange=(-1.02, 1.02), yRange=(-5, 5), padding=0)
    wait_points(window, qtbot)
    assert [round(float(p.point[0]), 9) for p in window.critical_model.points] == [-1, 0, 1]
    # the maximum's label starts at its marker, the inflection's is centred, the minimum's ends
    assert [overlay.label_side(i) for i in range(3)] == [0.0, 0.5, 1.0]
    window.curve_view.viewport().repaint()
    for i in range(3):
        assert vb.sceneBoundingRect().contains(overlay.labels[i].sceneBoundingRect())
    # room again: every label centred on its marker
    vb.setRange(xRange=(-3, 3), padding=0)
    assert [overlay.label_side(i) for i in range(3)] == [0.5, 0.5, 0.5]


def test_labels_of_crowded_points_never_overlap(make_window, qtbot):
    window, overlay, vb = cubic_labels(make_window, qtbot)

    def shown():
        window.curve_view.viewport().repaint()
        return [label for label in overlay.labels if label.isVisible()]

    assert len(shown()) == 3
    # zoomed far out, the three points lie within a few pixels of each other: the maximum
    # keeps its label above, the minimum below, and the inflection between them has no room
    vb.setRange(xRange=(-300, 300), yRange=(-500, 500), padding=0)
    wait_points(window, qtbot)
    assert len(window.critical_model.points) == 3
    labels = shown()
    assert [label.textItem.toPlainText() for label in labels] == ["max", "min"]
    assert [overlay.label_below(i) for i in (0, 2)] == [False, True]
    rects = [label.sceneBoundingRect() for label in labels]
    assert not rects[0].intersects(rects[1])
    assert all(vb.sceneBoundingRect().contains(r) for r in rects)
    # room again: all three labelled
    vb.setRange(xRange=(-3, 3), yRange=(-5, 5), padding=0)
    wait_points(window, qtbot)
    assert [label.textItem.toPlainText() for label in shown()] == ["max", "inflection", "min"]


def test_x4_is_a_minimum_and_x3_an_inflection(make_window, qtbot, ui):
    window = make_window(expression="x^4", restore=False)
    wait_points(window, qtbot)
    assert [p.kind for p in window.critical_model.points] == ["minimum"]
    ui.type_expression(window, "x^3")
    wait_points(window, qtbot)
    assert [(float(p.point[0]), p.kind) for p in window.critical_model.points] == [(0.0, "inflection")]


def test_panning_searches_the_new_range(make_window, qtbot):
    window = make_window(expression="sin(x)", restore=False)
    wait_points(window, qtbot)
    window.curve_view.getPlotItem().vb.setXRange(10, 16, padding=0)
    qtbot.waitUntil(lambda: window.critical_model.bounds == (10.0, 16.0), timeout=20000)
    xs = [float(p.point[0]) for p in window.critical_model.points if p.kind != "inflection"]
    np.testing.assert_allclose(xs, [3.5 * math.pi, 4.5 * math.pi], atol=1e-9)


def test_hiding_the_markers(make_window, qtbot):
    window = make_window(expression="x^2", restore=False)
    wait_points(window, qtbot)
    assert len(window.critical_overlay.marker_positions()) == 1
    window.option_actions["show_critical_points"].trigger()
    assert len(window.critical_overlay.marker_positions()) == 0
    assert not window.critical_panel.show_box.isChecked()


def test_sign_plots_share_the_axis_and_shade_the_sign(make_window, qtbot):
    window = make_window(expression="x^3 - 3x", restore=False)
    assert not any(v.isVisible() for v in window.sign_views)
    window.option_actions["show_sign_plots"].trigger()
    d1, d2 = window.sign_views
    assert d1.isVisible() and d2.isVisible()
    xs, pos = d1.positive.getData()
    _, neg = d1.negative.getData()
    expected = 3 * xs**2 - 3
    np.testing.assert_allclose(pos, np.maximum(expected, 0), atol=1e-9)
    np.testing.assert_allclose(neg, np.minimum(expected, 0), atol=1e-9)
    assert d1.sign_at(0.0) == -1 and d1.sign_at(2.0) == 1   # decreasing, then increasing
    assert d2.sign_at(-1.0) == -1 and d2.sign_at(1.0) == 1  # concave down, then up
    # the x axis follows the curve view's
    window.curve_view.getPlotItem().vb.setXRange(-2, 3, padding=0)
    for view in (d1, d2):
        lo, hi = view.getPlotItem().vb.viewRange()[0]
        assert (lo, hi) == pytest.approx((-2, 3), abs=1e-9)
    xs, _ = d1.curve.getData()
    assert xs[0] <= -2 and xs[-1] >= 3
    # the point's x marked in both
    window.session.set_x0(0.75)
    assert d1.x0_line.value() == 0.75 and d2.x0_line.value() == 0.75


def test_labels_sit_at_their_markers_after_a_restored_start(make_window, qtbot, tmp_path):
    # A session restored at start-up lays out the labels while the plot is still tiny; they
    # must follow the view to its real size (they were once drawn thousands of pixels away).
    import json

    from explorer.core.session import Session

    s = Session("sin(x) + 0.5")
    s.set_option("show_riemann", True)
    s.set_option("show_accumulation", True)
    settings = QtCore.QSettings(str(tmp_path / "restored.ini"), QtCore.QSettings.Format.IniFormat)
    settings.setValue("v1/session", json.dumps(s.to_dict()))
    settings.sync()
    window = make_window(expression=None, restore=True, settings_=settings)
    wait_points(window, qtbot)
    window.curve_view.viewport().repaint()
    vb = window.curve_view.getPlotItem().vb
    shown = [(label, p) for label, p in zip(window.critical_overlay.labels,
                                             window.critical_model.points, strict=False)
             if label.isVisible()]
    assert len(shown) >= 5
    for label, p in shown:
        marker = vb.mapViewToScene(QtCore.QPointF(float(p.point[0]), p.value))
        rect = label.sceneBoundingRect()
        assert rect.width() < 100 and rect.height() < 40  # its text's size, in pixels
        # centred on its marker, or starting or ending there at the view's left or right edge
        side = label.anchor.x()
        assert abs(rect.left() + side * rect.width() - marker.x()) < 1
        assert abs(rect.center().y() - marker.y()) < 40
        assert vb.sceneBoundingRect().contains(rect)


def test_every_search_runs_in_the_analysis_process(make_window, qtbot, ui, monkeypatch):
    """SymPy's searches, on a curve or a landscape, run in the analysis process, not on a
    thread of the app (where they held the GIL the paints need); each parameter value
    searches again, the points found stay right, and the child's SymPy caches stay bounded
    (each search trims them: tests/core/test_offload.py)."""
    import os

    from explorer.core import calculus, expression, offload

    searched = []
    call = offload.Lane.call

    def recorded(lane, fn, *args):
        if fn is calculus.marked_points:
            searched.append((lane.name, len(args[0].variables)))
        return call(lane, fn, *args)

    monkeypatch.setattr(offload.Lane, "call", recorded)
    monkeypatch.setattr(calculus, "critical_points",
                        lambda *a, **k: pytest.fail("searched in the app's process"))
    window = make_window(expression="x^2 - 2*a*x", restore=False)
    ui.wait_idle(window)
    for value in (0.5, 1.25, -0.75):
        window.session.set_parameter("a", value)
        qtbot.waitUntil(lambda: window.critical_model.points and not window.is_busy(),
                        timeout=20000)
        ui.wait_idle(window)
        (point,) = [p for p in window.critical_model.points if p.kind == "minimum"]
        assert float(point.point[0]) == pytest.approx(value, abs=1e-9)  # f' = 2x - 2a
    assert searched.count(("analysis", 1)) >= 3
    ui.type_expression(window, "(x - a)^2 + y^2")
    qtbot.waitUntil(lambda: ("analysis", 2) in searched and bool(window.landscape_model.critical),
                    timeout=20000)
    (point,) = window.landscape_model.critical
    assert point.kind == "minimum"
    np.testing.assert_allclose(point.point, [-0.75, 0.0], atol=1e-9)
    analysis = offload.lane("analysis")
    assert analysis.pid not in (None, os.getpid())
    assert analysis.call(expression.sympy_cache_entries) <= expression.SYMPY_CACHE_ENTRIES


def test_redrawn_markers_reuse_their_rendered_symbols(make_window, qtbot):
    """Each search redraws the markers with the same brushes and pens, so the scatter's symbol
    atlas (keyed on those objects) keeps one rendered symbol per kind instead of growing by
    one per marker per redraw."""
    window = make_window(expression="a*x^3 - 3x", restore=False)
    wait_points(window, qtbot)
    markers = window.critical_overlay.markers
    for a in (0.5, 1.5, 2.0, 3.0, 0.75, 1.25):
        window.session.set_parameter("a", a)
        qtbot.waitUntil(lambda a=a: not window.is_busy()
                        and window.critical_model.points
                        and abs(float(window.critical_model.points[0].point[0])
                                + 1 / math.sqrt(a)) < 1e-9, timeout=20000)
        # f' = 3a x^2 - 3: a maximum at -1/sqrt(a), an inflection at 0, a minimum at 1/sqrt(a)
        r = 1 / math.sqrt(a)
        np.testing.assert_allclose(window.critical_overlay.marker_positions(),
                                   [[-r, 2 * r], [0, 0], [r, -2 * r]], atol=1e-9)
        window.curve_view.viewport().repaint()
        assert len(markers.fragmentAtlas) <= 3
