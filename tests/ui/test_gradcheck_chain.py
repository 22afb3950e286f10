"""The backprop lab's gradient check (graph against finite differences, error against ε) and the
chain of layers (vanishing and exploding gradients)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from PySide6 import QtCore, QtWidgets

EXPRESSION = "sin(x)*exp(y) + a*x*y"
POINT = (0.7, -0.4)


@pytest.fixture
def pyqtgraph_configured():
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()


@pytest.fixture
def check_view(qtbot, pyqtgraph_configured):
    from explorer.core.session import Session
    from explorer.ui.backprop_model import BackpropModel
    from explorer.ui.views.gradcheck_view import GradientCheckView

    session = Session(EXPRESSION)
    session.set_point(POINT)
    model = BackpropModel(session)
    model.set_active(True)
    view = GradientCheckView(model)
    view._session, view._model = session, model  # keep them alive with the view
    qtbot.addWidget(view)
    view.resize(640, 560)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: len(view.rows()) == 3, timeout=5000)
    return view


@pytest.fixture
def chain_view(qtbot, pyqtgraph_configured):
    from explorer.ui.views.chain_view import ChainView

    view = ChainView()
    qtbot.addWidget(view)
    view.resize(640, 520)
    view.show()
    qtbot.waitExposed(view)
    return view


def sympy_gradient() -> dict[str, float]:
    x, y, a = sp.symbols("x y a", real=True)
    f = sp.sin(x) * sp.exp(y) + a * x * y
    at = {x: POINT[0], y: POINT[1], a: 1.0}
    return {str(s): float(sp.diff(f, s).subs(at)) for s in (x, y, a)}


def table_texts(view) -> list[list[str]]:
    t = view.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def as_float(text: str) -> float:
    mant, _, exp = text.replace("−", "-").partition("×10")
    if exp:
        exp = exp.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789"))
        return float(mant) * 10.0 ** int(exp)
    return float(mant)


# -- the gradient check -------------------------------------------------------------------------
def test_table_has_every_input_and_the_graph_gradient_is_sympys(check_view):
    view = check_view
    exact = sympy_gradient()
    rows = view.rows()
    assert [r[0] for r in rows] == ["x", "y", "a"]  # variables, then the parameter
    for name, analytic, _numeric, _rel in rows:
        assert analytic == pytest.approx(exact[name], rel=1e-12, abs=1e-15)
        # the same as the graph the lab draws
        assert analytic == pytest.approx(view.model.graph.gradient[name], rel=1e-14)
    # and as shown in the table
    texts = table_texts(view)
    assert [row[0] for row in texts] == ["x", "y", "a"]
    for row in texts:
        assert as_float(row[1]) == pytest.approx(exact[row[0]], rel=1e-10)
    assert view.table.horizontalHeaderItem(3).toolTip().count("≤ 1e-06: agree") == 1


def test_central_differences_agree_and_are_coloured_green(check_view):
    view = check_view
    view.set_eps(1e-5)
    assert view.eps == 1e-5 and view.scheme == "central"
    assert view.eps_edit.text() == "1e-05"
    exact = sympy_gradient()
    for row, (name, _analytic, numeric, rel) in enumerate(view.rows()):
        assert rel < 1e-6
        assert numeric == pytest.approx(exact[name], rel=1e-6)
        item = view.table.item(row, 3)
        assert "agree" in item.toolTip()
        assert item.background().color().green() > item.background().color().red()


def test_a_large_forward_step_disagrees_and_is_coloured_orange(check_view, qtbot):
    view = check_view
    view.set_scheme("forward")
    # typed, as a user does: the slider follows
    view.eps_edit.setFocus()
    view.eps_edit.selectAll()
    qtbot.keyClicks(view.eps_edit, "0.1")
    qtbot.keyClick(view.eps_edit, QtCore.Qt.Key.Key_Return)
    assert view.eps == pytest.approx(0.1)
    assert view.slider.value() == view.slider.minimum()
    rows = {r[0]: r for r in view.rows()}
    assert rows["x"][3] > 1e-4 and rows["y"][3] > 1e-4
    assert rows["a"][3] < 1e-12  # f is linear in a: forward differences are exact but rounding
    item = view.table.item(0, 3)
    assert item.background().color().red() > item.background().color().blue()


def test_forward_curve_has_its_minimum_between_1e_10_and_1e_5(check_view):
    view = check_view
    view.set_scheme("forward")
    for name in ("x", "y"):  # nonlinear in x and y: the V of truncation and round-off
        eps, errors = view.curve(name)
        assert len(eps) == 45 and eps[0] == pytest.approx(1e-12) and eps[-1] == pytest.approx(0.1)
        best = eps[int(np.nanargmin(errors))]
        assert 1e-10 < best < 1e-5
        assert view.best_eps(name) == pytest.approx(best)
    # central differences: the V's bottom moves to larger ε (error ~ε² against ~δ/ε)
    view.set_scheme("central")
    eps, errors = view.curve("x")
    assert eps[int(np.nanargmin(errors))] > 1e-8


def test_the_current_eps_line_follows_the_slider(check_view, qtbot):
    view = check_view
    view.slider.setFocus()
    view.slider.setValue(60)
    assert view.eps == pytest.approx(1e-6)
    qtbot.keyClick(view.slider, QtCore.Qt.Key.Key_Right)  # one tick: a tenth of a decade smaller
    assert view.eps == pytest.approx(10 ** -6.1)
    assert view.current.value() == pytest.approx(-6.1)
    assert view.eps_edit.text() == f"{10 ** -6.1:.3g}"


def test_changing_the_scheme_in_the_combo_changes_the_numbers(check_view, qtbot):
    view = check_view
    view.set_eps(1e-3)
    before = view.rows()
    box = view.scheme_box
    assert box.currentText() == "central"
    # by keyboard: focus the combo and press Down, as a user does
    box.setFocus()
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Down)
    assert box.currentText() == "forward" and view.scheme == "forward"
    after = view.rows()
    assert [r[0] for r in after] == [r[0] for r in before]
    assert [r[1] for r in after] == [r[1] for r in before]  # the graph's gradient stays
    for name, b, a in zip(("x", "y"), before[:2], after[:2], strict=True):
        assert a[2] != b[2], name
        assert a[3] > 100 * b[3], name  # error ~ε instead of ~ε²
    assert "forward" in view.formula.text()
    # and back with setCurrentIndex
    box.setCurrentIndex(0)
    assert view.scheme == "central" and view.rows() == before


def test_the_check_follows_the_session(check_view, qtbot):
    from explorer.ui.bindings import Throttle

    view = check_view
    session = view._session
    session.set_parameter("a", 2.5)
    qtbot.waitUntil(lambda: dict((r[0], r[1]) for r in view.rows())["y"]
                    == pytest.approx(math.sin(0.7) * math.exp(-0.4) + 2.5 * 0.7), timeout=5000)
    qtbot.waitUntil(lambda: not Throttle.pending(), timeout=5000)
    rows = {r[0]: r[1] for r in view.rows()}
    assert rows["a"] == pytest.approx(0.7 * -0.4)
    assert rows["x"] == pytest.approx(math.cos(0.7) * math.exp(-0.4) + 2.5 * -0.4)


def test_hidden_the_check_costs_nothing(qtbot, pyqtgraph_configured):
    from explorer.core.session import Session
    from explorer.ui.backprop_model import BackpropModel
    from explorer.ui.views.gradcheck_view import GradientCheckView

    session = Session(EXPRESSION)
    model = BackpropModel(session)
    model.set_active(True)
    view = GradientCheckView(model)
    qtbot.addWidget(view)
    assert view.rows() == []  # never shown: never computed
    view.show()
    qtbot.waitExposed(view)
    assert len(view.rows()) == 3


# -- the chain of layers ----------------------------------------------------------------------
def test_sigmoid_chain_vanishes(chain_view):
    view = chain_view
    view.set_activation("sigmoid")
    view.set_weight(1.0)
    view.set_depth(30)
    k, cumulative = view.curve()
    assert list(k) == list(range(1, 31))
    # closed form: a_k = σ(w a_{k-1}), factor σ(z)(1 − σ(z)) · w
    a, w, factors = 0.5, 1.0, []
    for _ in range(30):
        s = 1 / (1 + math.exp(-w * a))
        factors.append(s * (1 - s) * w)
        a = s
    np.testing.assert_allclose(cumulative, np.abs(np.cumprod(factors)), rtol=1e-12)
    assert cumulative[-1] < 0.25**30
    assert view.verdict() == "vanishing"
    text = view.readout.text()
    assert f"= {cumulative[-1]:.2g} after 30 layers" in text and "vanishing" in text
    assert "1/4" in view.caption.text()
    # drawn: the product on the log axis, and one dot per layer
    xs, ys = view.cumulative.getOriginalDataset()
    np.testing.assert_allclose(ys, cumulative)
    xs, ys = view.factors.getOriginalDataset()
    np.testing.assert_allclose(ys, factors, rtol=1e-12)
    assert view.unit_line.value() == 0.0  # log10(1)


def test_relu_with_weight_two_explodes(chain_view):
    view = chain_view
    view.activation_box.setCurrentText("relu")
    view.set_weight(2.0)
    assert view.weight_label.text() == "2"
    for n in (1, 10, 30, 60):
        view.set_depth(n)
        k, cumulative = view.curve()
        np.testing.assert_allclose(cumulative, 2.0**k)
        assert view.verdict() == "exploding"
    assert "exploding" in view.readout.text() and "60 layers" in view.readout.text()
    view.set_weight(1.0)
    assert view.verdict() == "stable"
    # a negative input kills every relu: nothing flows back
    view.set_weight(2.0)
    view.x0_edit.setText("-1")
    view.x0_edit.editingFinished.emit()
    assert view.x0 == -1.0 and view.verdict() == "vanishing"
    assert view.curve()[1][-1] == 0.0
    with pytest.raises(ValueError):
        view.set_activation("softplus")


def test_weight_slider_is_logarithmic(chain_view, qtbot):
    view = chain_view
    slider = view.weight_slider
    slider.setValue(slider.maximum())
    assert view.weight == pytest.approx(10.0)
    slider.setValue(slider.minimum())
    assert view.weight == pytest.approx(0.1)
    slider.setFocus()
    qtbot.keyClick(slider, QtCore.Qt.Key.Key_Right)
    assert view.weight == pytest.approx(10 ** (-1 + 1 / 50))
    assert view.weight_label.text() == f"{view.weight:.3g}"
    view.set_activation("tanh")
    assert view.caption.text().startswith("tanh′ ≤ 1")


def handle_center(slider) -> QtCore.QPoint:
    opt = QtWidgets.QStyleOptionSlider()
    slider.initStyleOption(opt)
    rect = slider.style().subControlRect(QtWidgets.QStyle.ComplexControl.CC_Slider, opt,
                                         QtWidgets.QStyle.SubControl.SC_SliderHandle, slider)
    return rect.center()


def test_dragging_the_depth_slider_changes_the_curve(chain_view, qtbot, ui):
    view = chain_view
    slider = view.depth_slider
    view.set_depth(30)
    start = handle_center(slider)
    ui.drag(slider, start, QtCore.QPoint(slider.width() - 2, start.y()))
    assert slider.value() == 60 and view.depth == 60 and view.depth_spin.value() == 60
    assert len(view.curve()[0]) == 60
    xs, _ = view.cumulative.getOriginalDataset()
    assert len(xs) == 60
    start = handle_center(slider)
    ui.drag(slider, start, QtCore.QPoint(start.x() - slider.width() // 2, start.y()))
    n = slider.value()
    assert 20 < n < 40 and view.depth == n and len(view.curve()[1]) == n
    # and by keyboard
    qtbot.keyClick(slider, QtCore.Qt.Key.Key_PageDown)
    assert view.depth == n - 5 and len(view.curve()[0]) == n - 5
    # the spin box too
    view.depth_spin.setValue(7)
    assert slider.value() == 7 and len(view.curve()[0]) == 7
