"""GraphView, the backprop lab's computational graph: the worked example ((x·y) + x)² at
(2, 3) stepped through both passes and checked against values worked out by hand, a real mouse
click on a node, edits of the session, and the cost of a step on a 100-node graph."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

WORKED = "((x*y) + x)^2"


def tanh_units(units: int = 14) -> str:
    """A sum of tanh units minus a target, squared: ~100 nodes for 14 units."""
    terms = " + ".join(f"v{i}*tanh(w{i}*x + b{i})" for i in range(1, units + 1))
    return f"({terms} - y)^2"


@pytest.fixture
def make_view(qtbot):
    from explorer.core.session import Session
    from explorer.ui.backprop_model import BackpropModel
    from explorer.ui.theme import configure_pyqtgraph
    from explorer.ui.views.graph_view import GraphView

    configure_pyqtgraph()

    def make(expression=WORKED, point=(2.0, 3.0)):
        session = Session(expression)
        session.set_point(point)
        model = BackpropModel(session)
        model.set_active(True)
        view = GraphView(model)
        qtbot.addWidget(view)
        view.resize(900, 600)
        view.show()
        qtbot.waitExposed(view)
        qtbot.wait(50)
        return session, model, view

    return make


def node_where(model, text):
    """The index of the node computing ``text`` (as the graph writes it)."""
    return next(n.index for n in model.graph.nodes if n.text == text)


def lines(view, i):
    return view.node_text(i).split("\n")


def value_line(view, i):
    return lines(view, i)[1]


def grad_of(view, i):
    """The gradient written on node i ("∇ 16" -> "16"), or None when none is written."""
    grads = [line for line in lines(view, i) if line.startswith("∇")]
    return grads[0][2:] if grads else None


def click(widget, pos):
    pos = QtCore.QPointF(pos)
    for kind, buttons in ((QtCore.QEvent.Type.MouseButtonPress, QtCore.Qt.MouseButton.LeftButton),
                          (QtCore.QEvent.Type.MouseButtonRelease,
                           QtCore.Qt.MouseButton.NoButton)):
        event = QtGui.QMouseEvent(kind, pos, widget.mapToGlobal(pos),
                                  QtCore.Qt.MouseButton.LeftButton, buttons,
                                  QtCore.Qt.KeyboardModifier.NoModifier)
        QtWidgets.QApplication.sendEvent(widget, event)


def test_worked_example_forward_pass(make_view):
    _, model, view = make_view()
    x, y = model.graph.inputs["x"], model.graph.inputs["y"]
    xy, s, out = node_where(model, "x·y"), node_where(model, "x·y + x"), len(model.graph.nodes) - 1
    assert view.node_item_count() == len(model.graph.nodes) == 6  # x, y, x·y, +, 2, ^
    model.set_step(0)
    # the inputs are known, the operations not yet; no gradients anywhere
    assert lines(view, x) == ["x", "2"] and lines(view, y) == ["y", "3"]
    for i in (xy, s, out):
        assert value_line(view, i) == "·" and grad_of(view, i) is None
    assert view.highlighted_node() is None and view.highlighted_edge() is None
    assert "x = 2" in view.banner_text() and "y = 3" in view.banner_text()
    # no local derivative is known before the forward pass computes its operation
    assert all(view.edge_text(e) == "" for e in range(len(model.graph.edges)))

    for step, (node, value) in enumerate(((xy, "6"), (s, "8"), (out, "64")), start=1):
        model.forward()
        assert model.step == step
        assert value_line(view, node) == value
        assert view.highlighted_node() == node
        assert view.highlighted_edge() is None  # forward: no edge
        assert model.current().text in view.banner_text()
        assert view.banner_text().endswith(f"= {value}")
    # the nodes not computed yet stayed empty along the way: after two steps, ^ had none
    model.set_step(2)
    assert value_line(view, out) == "·" and value_line(view, s) == "8"
    # once x·y is computed its edges carry their local derivatives, in a light tone: y and x
    edges = model.graph.edges
    assert view.edge_text(edges.index((x, xy))) == "3"
    assert view.edge_text(edges.index((y, xy))) == "2"
    assert view.edge_text(edges.index((s, out))) == ""  # ^ not computed yet


def test_worked_example_backward_pass(make_view):
    _, model, view = make_view()
    g = model.graph
    x, y = g.inputs["x"], g.inputs["y"]
    xy, s, out = node_where(model, "x·y"), node_where(model, "x·y + x"), len(g.nodes) - 1
    forward = sum(step.phase == "forward" for step in g.steps)
    assert forward == 3
    model.set_step(forward + 1)  # the first backward step: d(u²)/du = 2u = 16 into the sum
    assert model.phase() == "backward"
    assert view.highlighted_node() == out
    assert view.highlighted_edge() == (s, out)
    assert model.current().text in view.banner_text()
    assert "∂L/∂w₃" in view.banner_text() and view.banner_text().endswith("= 16")
    assert grad_of(view, out) == "1" and grad_of(view, s) == "16"
    assert grad_of(view, x) is None and grad_of(view, y) is None

    # every backward step highlights its operation and the edge its gradient flows along
    for k in range(forward + 1, model.step_count + 1):
        model.set_step(k)
        step = model.current()
        assert view.highlighted_node() == step.node
        assert view.highlighted_edge() == tuple(step.edge)
        assert step.text in view.banner_text()

    # at the end, by hand: d/dx (xy + x)² = 2(xy + x)(y + 1) = 64, d/dy = 2(xy + x) x = 32
    assert model.step == model.step_count
    assert grad_of(view, x) == "64" and grad_of(view, y) == "32"
    assert grad_of(view, xy) == "16" and grad_of(view, s) == "16"
    # x's gradient accumulates over its two uses: 16 through the sum first, then 64
    model.set_step(next(k for k in range(1, model.step_count + 1)
                        if g.steps[k - 1].phase == "backward" and g.steps[k - 1].edge[0] == x))
    assert grad_of(view, x) == "16"
    assert grad_of(view, y) is None
    # the constant exponent takes no gradient and its edge no label
    two = next(n.index for n in g.nodes if n.op == "const")
    assert lines(view, two) == ["2"]
    model.set_step(model.step_count)
    assert view.edge_text(g.edges.index((two, out))) == ""
    assert view.edge_text(g.edges.index((s, out))) == "16"  # d(u²)/du at u = 8


def test_step_back_undoes_what_the_step_wrote(make_view):
    _, model, view = make_view()
    model.set_step(model.step_count)
    done = [view.node_text(i) for i in range(view.node_item_count())]
    model.set_step(0)
    start = [view.node_text(i) for i in range(view.node_item_count())]
    model.set_step(model.step_count)
    assert [view.node_text(i) for i in range(view.node_item_count())] == done
    model.set_step(0)
    assert [view.node_text(i) for i in range(view.node_item_count())] == start
    assert view.highlighted_node() is None


def test_clicking_a_node_emits_node_clicked(make_view, qtbot):
    _, model, view = make_view()
    viewport = view.viewport()
    for i in (model.graph.inputs["y"], node_where(model, "x·y"), len(model.graph.nodes) - 1):
        pos = view.mapFromScene(view.node_scene_pos(i))
        assert viewport.rect().contains(pos)
        with qtbot.waitSignal(view.node_clicked, timeout=2000) as blocker:
            click(viewport, pos)
        assert blocker.args == [i]
    # a click between the boxes selects nothing
    clicked = []
    view.node_clicked.connect(clicked.append)
    a = view.node_scene_pos(model.graph.inputs["x"])
    b = view.node_scene_pos(model.graph.inputs["y"])
    click(viewport, view.mapFromScene((a + b) / 2))
    QtWidgets.QApplication.processEvents()
    assert clicked == []


def test_hover_tooltip_names_the_sub_expression(make_view):
    _, model, view = make_view()
    model.set_step(model.step_count)
    s = node_where(model, "x·y + x")
    tip = view._tooltip(view.node_scene_pos(s))
    assert "x·y + x" in tip and "8" in tip and "16" in tip


def test_editing_the_session_updates_the_drawn_values(make_view, qtbot):
    session, model, view = make_view()
    model.set_step(model.step_count)
    g = model.graph
    x, y, out = g.inputs["x"], g.inputs["y"], len(g.nodes) - 1
    assert value_line(view, out) == "64"
    scene_before = view.node_scene_pos(out)
    session.set_point((1.0, 1.0))
    # by hand: (1·1 + 1)² = 4; 2(xy + x)(y + 1) = 8; 2(xy + x) x = 4
    qtbot.waitUntil(lambda: value_line(view, out) == "4", timeout=3000)
    assert model.step == model.step_count  # the same function keeps the step
    assert grad_of(view, x) == "8" and grad_of(view, y) == "4"
    assert lines(view, x)[1] == "1" and lines(view, y)[1] == "1"
    assert view.node_scene_pos(out) == scene_before  # same graph: the view did not move
    assert view.edge_text(model.graph.edges.index((node_where(model, "x·y + x"), out))) == "4"


def test_a_new_graph_is_fitted_and_a_bad_one_reported(make_view, qtbot):
    session, model, view = make_view()
    view.getPlotItem().vb.scaleBy((6, 6))  # zoomed far out by the user
    session.set_expression(tanh_units(3))
    qtbot.waitUntil(lambda: model.graph is not None and len(model.graph.nodes) > 6, timeout=3000)
    assert view.node_item_count() == len(model.graph.nodes)
    rect = QtCore.QRectF(view.viewport().rect())
    banner = view.banner.geometry()
    for i in range(view.node_item_count()):
        p = QtCore.QPointF(view.mapFromScene(view.node_scene_pos(i)))
        assert rect.contains(p)
        assert p.y() > banner.bottom()  # nothing hidden under the banner
    assert view.text_detail() == "full"  # 3 units: readable as fitted
    # a function the graph cannot take (an integral is not an operation): the reason, no nodes
    model.graph, model.error = None, "the graph could not be built: no operation 'foo'"
    model.changed.emit()
    assert view.node_item_count() == 0
    assert "could not be built" in view.banner_text()


def test_a_value_computed_as_nan_reads_nan_not_unknown(make_view):
    _, model, view = make_view("log(x - 5) + y", (2.0, 3.0))
    log = node_where(model, "log(x − 5)")
    model.set_step(0)
    assert value_line(view, log) == "·"
    model.set_step(next(k for k, s in enumerate(model.graph.steps, 1) if s.node == log))
    assert value_line(view, log) == "nan"


def test_a_hundred_nodes_step_without_rebuilding(make_view, qtbot):
    _, model, view = make_view(tanh_units(14), (0.5, 0.2))
    n = view.node_item_count()
    assert n >= 100
    # fitted, a hundred boxes are too small to write in; zoomed in, they are written again
    assert view.text_detail() in (None, "compact")
    segments, statics = view.edges.segments, list(view.node_texts._static)
    writes = []
    original = view.node_texts.set_text

    def counting(k, text, color, repaint=True):
        if text != view.node_texts.text(k) or color != view.node_texts._color[k]:
            writes.append(k)
        original(k, text, color, repaint)

    view.node_texts.set_text = counting
    for _ in range(model.step_count):
        before = len(writes)
        model.forward()
        assert len(writes) - before <= 3  # a value, or a gradient (and the output's first)
    view.node_texts.set_text = original
    assert view.edges.segments is segments  # nothing was rebuilt
    assert all(a is b for a, b in zip(view.node_texts._static, statics, strict=True))
    assert grad_of(view, model.graph.inputs["x"]) is not None
    # zoomed in, the text is back
    vb = view.getPlotItem().vb
    vb.scaleBy((0.12, 0.12))
    qtbot.wait(20)
    assert view.text_detail() == "full"
    # the drawn gradients are the graph's
    g = model.graph
    for name, i in g.inputs.items():
        assert float(grad_of(view, i).replace("−", "-")) == pytest.approx(g.gradient[name],
                                                                          rel=1e-3, abs=1e-4)
    assert math.isfinite(np.sum(model.node_grads()[list(g.inputs.values())]))


def test_a_one_node_graph_and_a_double_click_to_fit(make_view, qtbot):
    session, model, view = make_view("x", (2.0, 3.0))
    session.set_x0(1.5)
    qtbot.waitUntil(lambda: model.values.get("x") == 1.5, timeout=3000)
    # f = x: one node, the input and the output; no steps, its gradient 1 from the start
    assert view.node_item_count() == 1 and model.step_count == 0
    assert view.node_text(0) == "x\n1.5\n∇ 1"
    assert view.node_texts.boundingRect().contains(view.getPlotItem().vb.mapSceneToView(
        view.node_scene_pos(0)))
    # a bigger graph, panned away; a double click on the background fits it again
    session.set_expression(WORKED)
    qtbot.waitUntil(lambda: view.node_item_count() == 6, timeout=3000)
    vb = view.getPlotItem().vb
    vb.translateBy(x=40.0)
    qtbot.wait(20)
    viewport = view.viewport()
    assert not viewport.rect().contains(view.mapFromScene(view.node_scene_pos(0)))
    pos = QtCore.QPointF(30, viewport.height() - 30)
    for kind in (QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.MouseButtonRelease,
                 QtCore.QEvent.Type.MouseButtonDblClick, QtCore.QEvent.Type.MouseButtonRelease):
        buttons = (QtCore.Qt.MouseButton.NoButton
                   if kind == QtCore.QEvent.Type.MouseButtonRelease
                   else QtCore.Qt.MouseButton.LeftButton)
        event = QtGui.QMouseEvent(kind, pos, viewport.mapToGlobal(pos),
                                  QtCore.Qt.MouseButton.LeftButton, buttons,
                                  QtCore.Qt.KeyboardModifier.NoModifier)
        QtWidgets.QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(lambda: all(viewport.rect().contains(view.mapFromScene(
        view.node_scene_pos(i))) for i in range(6)), timeout=2000)


def test_edge_tooltip_gives_the_local_derivative(make_view):
    _, model, view = make_view()
    model.set_step(model.step_count)
    g = model.graph
    x, xy = g.inputs["x"], node_where(model, "x·y")
    e = g.edges.index((x, xy))
    x0, y0, x1, y1 = view._edge_lines[e]
    middle = view.getPlotItem().vb.mapViewToScene(QtCore.QPointF((x0 + x1) / 2, (y0 + y1) / 2))
    assert view.edge_at(middle) == e
    assert "∂w₂/∂x = 3" in view._tooltip(middle)
