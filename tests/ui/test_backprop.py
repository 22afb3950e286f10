"""The backprop lab from the app: a worked example chosen from the panel, stepped through with
clicks (the right node highlighted, the right numbers written), inputs edited in the table and
the gradients against closed forms and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore


def open_lab(make_window, qtbot, ui, expression="sin(x)"):
    window = make_window(expression=expression, restore=False)
    qtbot.waitUntil(lambda: window.graph_view is not None, timeout=20000)
    window.backprop_action.trigger()  # View > Backpropagation (Ctrl+B)
    qtbot.waitUntil(lambda: window.backprop_model.graph is not None, timeout=20000)
    ui.wait_idle(window)
    return window


def choose(window, qtbot, ui, name):
    panel = window.backprop_panel
    index = panel.preset_combo.findText(name, QtCore.Qt.MatchFlag.MatchStartsWith)
    assert index > 0
    panel.preset_combo.setCurrentIndex(index)
    panel.preset_combo.activated.emit(index)
    qtbot.waitUntil(lambda: window.backprop_model.graph is not None
                    and window.backprop_model.function.text == window.session.expression,
                    timeout=20000)
    ui.wait_idle(window)


def click(qtbot, button, times=1):
    for _ in range(times):
        qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)


def test_worked_example_step_by_step(make_window, qtbot, ui):
    window = open_lab(make_window, qtbot, ui)
    assert all(window.docks[k].toggleViewAction().isChecked()
               for k in ("backprop", "graph", "gradcheck"))
    choose(window, qtbot, ui, "Worked example")
    s, m, panel = window.session, window.backprop_model, window.backprop_panel
    assert s.expression == "((x*y) + x)^2" and s.point == (2.0, 3.0)
    click(qtbot, panel.reset_button)
    assert m.step == 0 and m.phase() == "inputs"
    view = window.graph_view
    # forward, one node at a time: x·y = 6, then + x = 8, then ^2 = 64
    click(qtbot, panel.step_button)
    assert panel.step_label.text() == "w₂ = x·y = 2 · 3 = 6"
    assert view.highlighted_node() == m.current().node
    click(qtbot, panel.step_button, 2)
    assert panel.step_label.text().endswith("= 8^2 = 64")
    assert "forward" in panel.phase_label.text().lower()
    # backward: the output's adjoint flows to the sum, then to the product and x, ...
    click(qtbot, panel.step_button)
    assert m.phase() == "backward"
    assert panel.step_label.text() == "∂L/∂w₃ += ∂L/∂w₄ · ∂w₄/∂w₃ = 1 · 16 = 16" or \
        "= 1 · 16 = 16" in panel.step_label.text()
    assert view.highlighted_edge() == m.current().edge
    click(qtbot, panel.step_button, 2)
    assert panel.step_label.text().startswith("∂L/∂x += ∂L/∂w₃")
    assert panel.step_label.text().endswith("= 16 · 1 = 16")
    click(qtbot, panel.all_button)
    assert m.phase() == "done"
    grads = {panel.inputs.item(r, 0).text(): panel.inputs.item(r, 2).text()
             for r in range(panel.inputs.rowCount())}
    # by hand: L = (xy + x)^2, dL/dx = 2(xy + x)(y + 1), dL/dy = 2(xy + x) x
    assert grads == {"x": "64", "y": "32"}
    click(qtbot, panel.back_button)
    assert m.step == m.step_count - 1


def test_editing_an_input_moves_the_session_and_the_graph(make_window, qtbot, ui):
    window = open_lab(make_window, qtbot, ui)
    choose(window, qtbot, ui, "Worked example")
    panel, m = window.backprop_panel, window.backprop_model
    row = next(r for r in range(panel.inputs.rowCount()) if panel.inputs.item(r, 0).text() == "x")
    panel.inputs.item(row, 1).setText("1")
    qtbot.waitUntil(lambda: m.values.get("x") == 1.0, timeout=5000)
    assert window.session.point == (1.0, 3.0)
    # (xy + x)^2 at (1, 3): 16; dL/dx = 2·4·4 = 32, dL/dy = 2·4·1 = 8
    assert m.graph.output == 16.0 and m.graph.gradient == {"x": 32.0, "y": 8.0}
    panel.inputs.item(row, 1).setText("nonsense(")
    assert panel.input_error.isVisible()
    assert window.session.point == (1.0, 3.0)


def test_neuron_preset_against_finite_differences(make_window, qtbot, ui):
    window = open_lab(make_window, qtbot, ui)
    choose(window, qtbot, ui, "Neuron")
    m = window.backprop_model
    s = window.session
    assert set(m.graph.gradient) == {"x", "y", "w", "b"}
    import explorer.core as ec

    names = tuple(sorted(m.values))
    f = ec.parse(s.expression, variables=names)
    base = np.array([m.values[n] for n in names])
    for k, name in enumerate(names):
        h = np.zeros(len(names))
        h[k] = 1e-6
        fd = (f(*(base + h)) - f(*(base - h))) / 2e-6
        assert m.graph.gradient[name] == pytest.approx(fd, rel=1e-7, abs=1e-10)
    # the parameter's slider moves the graph
    s.set_parameter("w", 2.0)
    qtbot.waitUntil(lambda: m.values.get("w") == 2.0, timeout=5000)


def test_clicking_a_node_shows_its_local_derivatives(make_window, qtbot, ui):
    window = open_lab(make_window, qtbot, ui)
    choose(window, qtbot, ui, "Worked example")
    view, panel, m = window.graph_view, window.backprop_panel, window.backprop_model
    click(qtbot, panel.all_button)
    product = next(n.index for n in m.graph.nodes if n.op == "mul")
    qtbot.wait(50)
    pos = view.mapFromScene(view.node_scene_pos(product))
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    text = panel.node_label.text()
    assert "x·y" in text and "∂w₂/∂x = 3" in text and "∂w₂/∂y = 2" in text
