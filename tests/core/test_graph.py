"""The computational graph against independent answers: the worked example by hand,
torch.autograd in float64, SymPy's derivatives, and finite differences for gradient checks."""

import math

import numpy as np
import pytest
import sympy as sp

import explorer.core as ec

# expression text, values, the same in torch (t: a dict of float64 tensors)
TORCH_CASES = [
    ("((x*y) + x)^2", {"x": 2.0, "y": 3.0}, lambda t: ((t["x"] * t["y"]) + t["x"]) ** 2),
    ("x*x + x*y*x", {"x": 1.3, "y": -0.7}, lambda t: t["x"] * t["x"] + t["x"] * t["y"] * t["x"]),
    ("(sigmoid(w*x + b) - y)^2", {"w": 0.8, "x": 1.5, "b": -0.3, "y": 1.0},
     lambda t: (_torch().sigmoid(t["w"] * t["x"] + t["b"]) - t["y"]) ** 2),
    ("tanh(a*x + b*y) * c + tanh(d*x - b*y)", {"x": 0.4, "y": -1.2, "a": 0.5, "b": 1.5,
                                                "c": -2.0, "d": 0.3},
     lambda t: _torch().tanh(t["a"] * t["x"] + t["b"] * t["y"]) * t["c"]
     + _torch().tanh(t["d"] * t["x"] - t["b"] * t["y"])),
    ("-log(exp(a) / (exp(a) + exp(b)))", {"a": 0.7, "b": -0.4},
     lambda t: -_torch().log(_torch().exp(t["a"]) / (_torch().exp(t["a"]) + _torch().exp(t["b"])))),
    ("sin(x)*cos(y) + exp(-x^2)", {"x": 0.9, "y": 2.1},
     lambda t: _torch().sin(t["x"]) * _torch().cos(t["y"]) + _torch().exp(-t["x"] ** 2)),
    ("relu(x - 1) + relu(y) * x", {"x": 2.5, "y": -0.5},
     lambda t: _torch().relu(t["x"] - 1) + _torch().relu(t["y"]) * t["x"]),
    ("sqrt(x^2 + y^2) / (1 + abs(x))", {"x": -1.2, "y": 0.5},
     lambda t: _torch().sqrt(t["x"] ** 2 + t["y"] ** 2) / (1 + _torch().abs(t["x"]))),
    ("softplus(x*y) - log(1 + x) + atan(y)", {"x": 0.6, "y": 1.7},
     lambda t: _torch().nn.functional.softplus(t["x"] * t["y"]) - _torch().log(1 + t["x"])
     + _torch().atan(t["y"])),
    ("x^y + y^x", {"x": 1.7, "y": 2.3}, lambda t: t["x"] ** t["y"] + t["y"] ** t["x"]),
    ("max(x, y) * min(x, 2y) + gelu(x)", {"x": 0.8, "y": -0.3},
     lambda t: _torch().maximum(t["x"], t["y"]) * _torch().minimum(t["x"], 2 * t["y"])
     + _torch().nn.functional.gelu(t["x"])),
    ("erf(x) * sinh(y) + cosh(x*y) / 2", {"x": 0.3, "y": 0.8},
     lambda t: _torch().erf(t["x"]) * _torch().sinh(t["y"]) + _torch().cosh(t["x"] * t["y"]) / 2),
    ("relu(x) + abs(y)", {"x": 0.0, "y": 0.0},  # PyTorch's subgradients at the kinks
     lambda t: _torch().relu(t["x"]) + _torch().abs(t["y"])),
]


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("text, values, torch_fn", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_gradients_match_torch_autograd(text, values, torch_fn):
    torch = _torch()
    g = ec.computational_graph(ec.parse(text), values)
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in values.items()}
    out = torch_fn(tensors)
    out.backward()
    assert g.output == pytest.approx(float(out.detach()), rel=1e-14, abs=1e-15)
    assert set(g.gradient) >= {"x"} or set(g.gradient) >= {"a"}
    for name, tensor in tensors.items():
        assert g.gradient[name] == pytest.approx(float(tensor.grad), rel=1e-12, abs=1e-14), name


def test_worked_example_by_hand():
    g = ec.computational_graph(ec.parse("((x*y) + x)^2"), {"x": 2, "y": 3})
    assert g.gradient == {"x": 64.0, "y": 32.0}
    ops = [n.op for n in g.nodes]
    assert ops[-1] == "pow" and g.nodes[-1].grad == 1.0 and g.nodes[-1].value == 64.0
    # topological: every input of a node comes before it
    assert all(i < n.index for n in g.nodes for i in n.inputs)
    # x is one node, used twice (by the product and the sum); its grad sums both paths
    xs = [n for n in g.nodes if n.op == "input" and n.label == "x"]
    assert len(xs) == 1
    assert sum(1 for child, _ in g.edges if child == xs[0].index) == 2
    product = next(n for n in g.nodes if n.op == "mul")
    total = next(n for n in g.nodes if n.op == "add")
    assert (product.value, product.grad) == (6.0, 16.0)
    assert (total.value, total.grad) == (8.0, 16.0)
    # the steps, written out with numbers
    backward = [s.text for s in g.steps if s.phase == "backward"]
    assert any("∂L/∂x += ∂L/∂w" in t and "= 16 · 1 = 16" in t for t in backward)
    assert any(t.endswith("= 16 + 16 · 3 = 64") for t in backward)
    forward = [s.text for s in g.steps if s.phase == "forward"]
    assert forward[0] == "w₂ = x·y = 2 · 3 = 6"
    assert len(forward) == 3 and len(backward) == 5


def test_shared_subexpressions_are_one_node():
    g = ec.computational_graph(ec.parse("sin(x*y) + cos(x*y) + (x*y)^2"), {"x": 0.5, "y": 2.0})
    assert sum(1 for n in g.nodes if n.op == "mul") == 1
    x, y = sp.symbols("x y")
    expr = sp.sin(x * y) + sp.cos(x * y) + (x * y) ** 2
    for name, sym in (("x", x), ("y", y)):
        assert g.gradient[name] == pytest.approx(float(sp.diff(expr, sym).subs({x: 0.5, y: 2.0})),
                                                 rel=1e-13)


def test_gradient_keys_are_the_inputs():
    f = ec.parse("x + 0*y")
    g = ec.computational_graph(f, {"x": 1.0, "y": 2.0})
    assert set(g.gradient) == {"x", "y"}
    g = ec.computational_graph(ec.parse("3x"), {"x": 1.0})
    assert set(g.gradient) == {"x"} and g.gradient["x"] == 3.0
    with pytest.raises(ValueError, match="no value"):
        ec.computational_graph("a*x", {"x": 1.0})


@pytest.mark.parametrize("text", ["sin(x)*exp(y) + x*y^3", "log(1 + x^2 + y^2)",
                                  "sigmoid(3x - y) * tanh(x + 2y)", "x/(1 + y^2) + sqrt(2 + x)"])
def test_gradient_check_central_below_1e6(text):
    f = ec.parse(text)
    check = ec.gradient_check(f, (0.7, -0.4), eps=1e-5, scheme="central")
    assert np.all(check.relative_error < 1e-6)
    np.testing.assert_allclose(check.analytic, f.gradient((0.7, -0.4)), rtol=1e-12)


def test_gradient_check_curve_shows_the_v():
    f = ec.parse("exp(x) * sin(y)")
    eps, errors = ec.gradient_check_curve(f, (0.5, 1.0), np.geomspace(1e-12, 1e-1, 45),
                                          scheme="forward")
    best = eps[np.argmin(errors[0])]
    assert 1e-10 < best < 1e-5  # forward differences are best near sqrt(machine eps) ~ 1e-8
    assert errors[0, -1] > 1e-3 and errors[0, 0] > errors[0].min() * 100
    # forward: error ~ eps for large eps (slope 1 on log-log)
    slope = np.polyfit(np.log10(eps[-8:]), np.log10(errors[0, -8:]), 1)[0]
    assert slope == pytest.approx(1.0, abs=0.15)


def test_layer_chain_vanishes_and_explodes():
    chain = ec.layer_chain(30, "sigmoid", 1.0)
    assert chain.cumulative[-1] < 0.25 ** 30 * 1.0001  # sigmoid' <= 1/4
    # the product of the factors is d a_n / d a_0, against a central difference
    def run(x0):
        return ec.layer_chain(30, "sigmoid", 1.0, x0=x0).activations[-1]
    h = 1e-6
    fd = (run(0.5 + h) - run(0.5 - h)) / (2 * h)
    assert chain.cumulative[-1] == pytest.approx(abs(fd), rel=1e-5)
    big = ec.layer_chain(20, "tanh", 3.0, x0=0.01)
    assert big.factors[0] == pytest.approx(3.0 * (1 - math.tanh(0.03) ** 2))
    relu = ec.layer_chain(10, "relu", 2.0, x0=1.0)
    assert relu.cumulative[-1] == pytest.approx(2.0 ** 10)


def test_layout_puts_layers_left_to_right():
    g = ec.computational_graph(ec.parse("tanh(w1*x + b1) * v1 + tanh(w2*x + b2) * v2"),
                               {"x": 0.5, "w1": 1, "b1": 0, "v1": 1, "w2": -1, "b2": 0.2,
                                "v2": 0.5})
    pos = g.layout()
    for child, parent in g.edges:
        assert pos[child, 0] < pos[parent, 0]
    assert pos[-1, 0] == pos[:, 0].max()
    # no two nodes at one place
    assert len({tuple(p) for p in pos}) == len(pos)
