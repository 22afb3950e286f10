"""The computational graph of a typed expression: forward values, backward adjoints, and the
chain rule written out step by step; gradient checking; a chain of layers for vanishing and
exploding gradients.

The graph is built from the syntax tree of what the user typed (the same checked tree the
parser reads), not from SymPy's canonical form: ``x*x`` stays a product that uses x twice,
``a - b`` a subtraction. Identical sub-expressions are one node. Each operation knows its value
and its local derivatives (the chain-rule factor on each incoming edge) in closed form, here,
in a few lines each: this module is what the backprop lab explains.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

import numpy as np

from .syntax import ExpressionError, chain, read, user_name

__all__ = ["Node", "Graph", "Step", "computational_graph", "GradientCheck", "gradient_check",
           "gradient_check_curve", "LayerChain", "layer_chain", "OPS"]

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def _sigmoid(a: float) -> float:
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _safe(fn, *args) -> float:
    try:
        value = fn(*args)
    except (ValueError, ZeroDivisionError, OverflowError):
        return math.nan
    if isinstance(value, complex):
        return math.nan
    return float(value)


def _heaviside(a: float, at_zero: float = 0.0) -> float:
    return 1.0 if a > 0 else (at_zero if a == 0 else 0.0)


# op -> (symbol shown in the node, value(*a), local derivatives(*a, value) -> tuple)
# Non-smooth points take PyTorch's subgradients: relu'(0) = abs'(0) = 0; max and min share
# the gradient equally among tied arguments.
def _extremum_grads(args, value):
    ties = [1.0 if a == value else 0.0 for a in args]
    n = sum(ties) or 1.0
    return tuple(t / n for t in ties)


OPS: dict[str, tuple] = {
    "neg": ("−", lambda a: -a, lambda a, v: (-1.0,)),
    "div": ("÷", lambda a, b: a / b, lambda a, b, v: (1.0 / b, -a / (b * b))),
    "pow": ("^", lambda a, b: a ** b,
            lambda a, b, v: (b * a ** (b - 1.0) if not (a == 0 and b < 1) else math.nan,
                             v * math.log(a) if a > 0 else (0.0 if a == 0 and b > 0 else math.nan))),
    "sin": ("sin", math.sin, lambda a, v: (math.cos(a),)),
    "cos": ("cos", math.cos, lambda a, v: (-math.sin(a),)),
    "tan": ("tan", math.tan, lambda a, v: (1.0 + v * v,)),
    "asin": ("asin", math.asin, lambda a, v: (1.0 / math.sqrt(1.0 - a * a),)),
    "acos": ("acos", math.acos, lambda a, v: (-1.0 / math.sqrt(1.0 - a * a),)),
    "atan": ("atan", math.atan, lambda a, v: (1.0 / (1.0 + a * a),)),
    "sinh": ("sinh", math.sinh, lambda a, v: (math.cosh(a),)),
    "cosh": ("cosh", math.cosh, lambda a, v: (math.sinh(a),)),
    "tanh": ("tanh", math.tanh, lambda a, v: (1.0 - v * v,)),
    "asinh": ("asinh", math.asinh, lambda a, v: (1.0 / math.sqrt(a * a + 1.0),)),
    "acosh": ("acosh", math.acosh, lambda a, v: (1.0 / math.sqrt(a * a - 1.0),)),
    "atanh": ("atanh", math.atanh, lambda a, v: (1.0 / (1.0 - a * a),)),
    "exp": ("exp", math.exp, lambda a, v: (v,)),
    "log": ("log", math.log, lambda a, v: (1.0 / a,)),
    "logb": ("log", lambda a, b: math.log(a) / math.log(b),
             lambda a, b, v: (1.0 / (a * math.log(b)), -v / (b * math.log(b)))),
    "log10": ("log10", math.log10, lambda a, v: (1.0 / (a * math.log(10.0)),)),
    "log2": ("log2", math.log2, lambda a, v: (1.0 / (a * math.log(2.0)),)),
    "sqrt": ("√", math.sqrt, lambda a, v: (0.5 / v,)),
    "abs": ("|·|", abs, lambda a, v: (float(np.sign(a)),)),
    "sign": ("sign", lambda a: float(np.sign(a)), lambda a, v: (0.0,)),
    "sigmoid": ("σ", _sigmoid, lambda a, v: (v * (1.0 - v),)),
    "relu": ("relu", lambda a: max(a, 0.0), lambda a, v: (_heaviside(a),)),
    "softplus": ("softplus", lambda a: max(a, 0.0) + math.log1p(math.exp(-abs(a))),
                 lambda a, v: (_sigmoid(a),)),
    "gelu": ("gelu", lambda a: 0.5 * a * (1.0 + math.erf(a / _SQRT2)),
             lambda a, v: (0.5 * (1.0 + math.erf(a / _SQRT2))
                           + a * math.exp(-0.5 * a * a) / _SQRT2PI,)),
    "erf": ("erf", math.erf, lambda a, v: (2.0 / math.sqrt(math.pi) * math.exp(-a * a),)),
    "max": ("max", lambda *a: max(a), lambda *a: _extremum_grads(a[:-1], a[-1])),
    "min": ("min", lambda *a: min(a), lambda *a: _extremum_grads(a[:-1], a[-1])),
}
_ALIASES = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan"}
_CONSTANTS = {"pi": math.pi, "e": math.e}


@dataclass
class Node:
    """One operation. ``op``: ``input``, ``const``, ``add`` (signed inputs), ``mul`` or a key of
    :data:`OPS`; ``inputs``: node indices; ``local``: d node / d input for each input (the
    factor the backward pass multiplies by on that edge); ``grad``: d output / d node."""

    index: int
    op: str
    inputs: tuple[int, ...]
    label: str
    text: str
    value: float = math.nan
    local: tuple[float, ...] = ()
    grad: float = 0.0
    signs: tuple[float, ...] = ()
    layer: int = 0

    @property
    def is_leaf(self) -> bool:
        return self.op in ("input", "const")


@dataclass
class Step:
    """One step of the step-through: ``phase`` forward or backward; ``node`` the active one;
    ``edge`` (child, parent) for a backward step, the adjoint flowing into ``child``."""

    phase: str
    node: int
    text: str
    edge: tuple[int, int] | None = None
    factor: float = math.nan  # backward: the local derivative on the edge
    grad: float = math.nan  # backward: the child's adjoint after this step


@dataclass
class Graph:
    """Nodes in topological order (the output last, with grad 1), the inputs by name, the
    gradient of the output with respect to each input, and the steps of both passes."""

    nodes: list[Node]
    inputs: dict[str, int]
    gradient: dict[str, float]
    output: float
    steps: list[Step] = field(default_factory=list)

    @property
    def edges(self) -> list[tuple[int, int]]:
        """(input node, node) pairs, one per use (a node used twice by one op: twice)."""
        return [(i, n.index) for n in self.nodes for i in n.inputs]

    def display_layers(self) -> list[int]:
        """The column of each node: its layer, but a constant sits just before its first user
        (not among the inputs, far from where it is used)."""
        column = [n.layer for n in self.nodes]
        first: dict[int, int] = {}
        for child, parent in self.edges:
            if self.nodes[child].op == "const":
                before = first.get(child, self.nodes[parent].layer - 1)
                first[child] = min(before, self.nodes[parent].layer - 1)
        for child, value in first.items():
            column[child] = value
        return column

    def layers(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for i, column in enumerate(self.display_layers()):
            out.setdefault(column, []).append(i)
        return [out[k] for k in sorted(out)]

    def layout(self) -> np.ndarray:
        """Positions (len(nodes), 2): x the layer (inputs at 0, the output last), y spread
        within the layer. Each layer is ordered by the mean height of the nodes it links to
        (its inputs on a sweep from inputs to output, its users on the sweep back), the
        barycentre heuristic, so that edges cross little."""
        layers = self.layers()
        y = np.zeros(len(self.nodes))

        def place(layer, linked):
            means = {i: float(np.mean([y[j] for j in linked(i)])) if linked(i) else y[i]
                     for i in layer}
            for k, i in enumerate(sorted(layer, key=lambda i: (means[i], i))):
                y[i] = k - (len(layer) - 1) / 2

        users: dict[int, list[int]] = {}
        for child, parent in self.edges:
            users.setdefault(child, []).append(parent)
        for layer in layers:
            place(layer, lambda i: ())
        for layer in layers[1:]:
            place(layer, lambda i: self.nodes[i].inputs)
        for layer in layers[-2::-1]:
            place(layer, lambda i: users.get(i, []))
        x = np.array(self.display_layers(), dtype=float)
        return np.column_stack([x, y])


class _Builder:
    """Syntax tree -> nodes, identical sub-expressions shared (keyed by their structure)."""

    def __init__(self, values: dict[str, float]):
        self.values = values
        self.nodes: list[Node] = []
        self.keys: dict = {}
        self.inputs: dict[str, int] = {}

    def add(self, key, op, inputs, label, text, signs=(), value=math.nan) -> int:
        found = self.keys.get(key)
        if found is not None:
            return found
        index = len(self.nodes)
        layer = 1 + max((self.nodes[i].layer for i in inputs), default=-1)
        self.nodes.append(Node(index, op, tuple(inputs), label, text, value=value,
                               signs=tuple(signs), layer=layer))
        self.keys[key] = index
        return index

    def build(self, node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            value = float(node.value)
            return self.add(("const", value), "const", (), _number(value), _number(value),
                            value=value)
        if isinstance(node, ast.Name):
            name = user_name(node)
            if name in _CONSTANTS:
                return self.add(("const", name), "const", (), name, name,
                                value=_CONSTANTS[name])
            if name not in self.values:
                raise ValueError(f"no value given for {name!r}")
            index = self.add(("input", name), "input", (), name, name)
            self.inputs[name] = index
            return index
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand)
            if isinstance(node.op, ast.UAdd):
                return inner
            return self.add(("neg", inner), "neg", (inner,), "−",
                            f"−{_wrap(self.nodes[inner])}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            items = chain(node, (ast.Add, ast.Sub))
            parts = [(-1.0 if isinstance(op, ast.Sub) else 1.0, self.build(operand))
                     for op, operand in items]
            signs = tuple(s for s, _ in parts)
            inputs = tuple(i for _, i in parts)
            text = " ".join(("− " if s < 0 else ("+ " if k else "")) + self.nodes[i].text
                            for k, (s, i) in enumerate(parts))
            return self.add(("add", signs, inputs), "add", inputs, "+", text, signs)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            items = chain(node, (ast.Mult,))
            inputs = tuple(self.build(operand) for _, operand in items)
            text = "·".join(_wrap(self.nodes[i], "mul") for i in inputs)
            return self.add(("mul", inputs), "mul", inputs, "×", text)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Pow)):
            a, b = self.build(node.left), self.build(node.right)
            op = "div" if isinstance(node.op, ast.Div) else "pow"
            sep = " / " if op == "div" else "^"
            text = f"{_wrap(self.nodes[a], op)}{sep}{_wrap(self.nodes[b], op)}"
            return self.add((op, a, b), op, (a, b), OPS[op][0], text)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = _ALIASES.get(node.func.id, node.func.id)
            args = tuple(self.build(a) for a in node.args)
            if name == "log" and len(args) == 2:
                name = "logb"
            if name not in OPS:
                raise ValueError(f"the graph has no operation {name!r}")
            text = f"{OPS[name][0] if name != 'logb' else 'log'}(" + ", ".join(
                self.nodes[i].text for i in args) + ")"
            return self.add((name, args), name, args, OPS[name][0], text)
        raise ValueError("this is not part of a mathematical expression")


def _number(value: float) -> str:
    return f"{value:g}"


_PRECEDENCE = {"add": 1, "neg": 2, "mul": 2, "div": 2, "pow": 3}


def _wrap(node: Node, within: str = "neg") -> str:
    """The node's text, in parentheses where the enclosing operation binds tighter."""
    inner = _PRECEDENCE.get(node.op, 4)
    if inner < _PRECEDENCE.get(within, 4) or (within == "pow" and node.op in ("pow", "neg")):
        return f"({node.text})"
    return node.text


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "nan" if v != v else ("∞" if v > 0 else "−∞")
    text = f"{v:.6g}"
    return text.replace("-", "−")


def computational_graph(f, values: dict[str, float] | None = None) -> Graph:
    """The graph of ``f`` (a Function, or expression text) at ``values`` (name -> number; every
    free name needs one, parameters default to the Function's values).

    Returns a :class:`Graph` with each node's value (forward pass) and adjoint d output / d node
    (backward pass: the output's grad is 1; a node's grad is the sum over the operations that
    use it of their grad times the local derivative on that edge).
    """
    text = f if isinstance(f, str) else f.text
    given = dict(getattr(f, "parameters", {}) or {})
    given.update({str(k): float(v) for k, v in (values or {}).items()})
    variables = None if isinstance(f, str) else tuple(f.variables)
    try:
        syntax = read(text, variables)
    except ExpressionError:
        raise
    builder = _Builder(given)
    out = builder.build(syntax.tree)
    nodes = builder.nodes
    # The output last: its ancestors are all nodes (each node was made for the output)
    steps: list[Step] = []
    with np.errstate(all="ignore"):
        for n in nodes:
            if n.op == "input":
                n.value = given[n.label]
            elif n.op != "const":
                args = [nodes[i].value for i in n.inputs]
                n.value, n.local = _evaluate(n, args)
                steps.append(Step("forward", n.index, _forward_text(n, nodes)))
        nodes[out].grad = 1.0
        for n in reversed(nodes):
            for k, i in enumerate(n.inputs):
                child = nodes[i]
                if child.op == "const":
                    continue
                before = child.grad
                child.grad = before + n.grad * n.local[k]
                steps.append(Step("backward", n.index, _backward_text(n, child, k, before),
                                  edge=(i, n.index), factor=n.local[k], grad=child.grad))
    gradient = {name: nodes[i].grad for name, i in sorted(builder.inputs.items())}
    # the variables the caller asked about, even when the expression does not use one
    for name in (variables or ()):
        gradient.setdefault(name, 0.0)
    return Graph(nodes, dict(builder.inputs), gradient, nodes[out].value, steps)


def _evaluate(n: Node, args: list[float]) -> tuple[float, tuple[float, ...]]:
    if n.op == "add":
        value = math.fsum(s * a for s, a in zip(n.signs, args, strict=True))
        return value, tuple(n.signs)
    if n.op == "mul":
        value = math.prod(args)
        local = tuple(math.prod(args[:k] + args[k + 1:]) for k in range(len(args)))
        return value, local
    _, fn, grads = OPS[n.op]
    value = _safe(fn, *args)
    local = _safe_tuple(grads, *args, value) if math.isfinite(value) else (math.nan,) * len(args)
    return value, local


def _safe_tuple(fn, *args) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in fn(*args))
    except (ValueError, ZeroDivisionError, OverflowError):
        return (math.nan,) * (len(args) - 1)


def _forward_text(n: Node, nodes: list[Node]) -> str:
    """'w₃ = x · y = 2 · 3 = 6'"""
    args = [nodes[i] for i in n.inputs]
    if n.op == "add":
        values = " ".join(("− " if s < 0 else ("+ " if k else "")) + _fmt(a.value)
                          for k, (s, a) in enumerate(zip(n.signs, args, strict=True)))
    elif n.op == "mul":
        values = " · ".join(_fmt(a.value) for a in args)
    elif n.op in ("div", "pow"):
        values = f"{_fmt(args[0].value)}{' / ' if n.op == 'div' else '^'}{_fmt(args[1].value)}"
    elif n.op == "neg":
        values = f"−({_fmt(args[0].value)})"
    else:
        values = f"{n.label}(" + ", ".join(_fmt(a.value) for a in args) + ")"
    return f"{name_of(n)} = {n.text} = {values} = {_fmt(n.value)}"


def _backward_text(n: Node, child: Node, k: int, before: float) -> str:
    """'∂L/∂x += ∂L/∂w · ∂w/∂x = 16 · 1' (the sum so far when the node had a grad already)."""
    so_far = f"{_fmt(before)} + " if before != 0 else ""
    return (f"∂L/∂{name_of(child)} += ∂L/∂{name_of(n)} · ∂{name_of(n)}/∂{name_of(child)}"
            f" = {so_far}{_fmt(n.grad)} · {_fmt(n.local[k])} = {_fmt(child.grad)}")


def name_of(n: Node) -> str:
    """How a node is named in the written steps: an input by its name, else w with its index."""
    if n.op in ("input", "const"):
        return n.label
    return "w" + str(n.index).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


# -- gradient checking -------------------------------------------------------------------------
@dataclass
class GradientCheck:
    """Per input: the graph's (analytic) gradient, the finite-difference one, their relative
    error |a − n| / max(|a|, |n|, tiny)."""

    names: tuple[str, ...]
    analytic: np.ndarray
    numeric: np.ndarray
    relative_error: np.ndarray
    eps: float
    scheme: str


def _values_of(f, point) -> dict[str, float]:
    names = tuple(f.variables)
    point = np.asarray(point, dtype=float).reshape(-1)
    if point.shape != (len(names),):
        raise ValueError(f"the point needs {len(names)} coordinates ({', '.join(names)})")
    return dict(zip(names, map(float, point), strict=True))


def _relative(a, n):
    scale = np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-300)
    out = np.abs(a - n) / scale
    return np.where((a == n), 0.0, out)


def gradient_check(f, point, eps: float = 1e-6, scheme: str = "central") -> GradientCheck:
    """Compare the graph's gradient of ``f`` at ``point`` with finite differences of step
    ``eps`` (``central``: (f(x+h) − f(x−h)) / 2h, error ~h²; ``forward``: (f(x+h) − f(x)) / h,
    error ~h; both lose digits to round-off as h shrinks)."""
    if scheme not in ("central", "forward"):
        raise ValueError("scheme must be 'central' or 'forward'")
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError("eps must be a positive number")
    values = _values_of(f, point)
    names = tuple(f.variables)
    analytic = np.array([computational_graph(f, values).gradient[n] for n in names])
    numeric = _numeric_gradient(f, values, names, np.array([eps]), scheme)[:, 0]
    return GradientCheck(names, analytic, numeric, _relative(analytic, numeric), float(eps), scheme)


def _numeric_gradient(f, values, names, eps: np.ndarray, scheme: str) -> np.ndarray:
    """(len(names), len(eps)) finite differences, f evaluated with NumPy over all eps at once."""
    base = np.array([values[n] for n in names])
    out = np.empty((len(names), len(eps)))
    with np.errstate(all="ignore"):
        f0 = float(f(*base)) if scheme == "forward" else None
        for k in range(len(names)):
            up = [np.full(len(eps), v) for v in base]
            up[k] = base[k] + eps
            if scheme == "central":
                down = [np.full(len(eps), v) for v in base]
                down[k] = base[k] - eps
                out[k] = (f(*up) - f(*down)) / (2 * eps)
            else:
                out[k] = (f(*up) - f0) / eps
    return out


def gradient_check_curve(f, point, eps_values, scheme: str = "central"):
    """Relative error of each input's finite difference against the graph's gradient over
    ``eps_values``: (eps, errors (len(names), len(eps))). The V of truncation and round-off."""
    values = _values_of(f, point)
    names = tuple(f.variables)
    eps = np.asarray(eps_values, dtype=float)
    analytic = np.array([computational_graph(f, values).gradient[n] for n in names])
    numeric = _numeric_gradient(f, values, names, eps, scheme)
    return eps, _relative(analytic[:, None], numeric)


# -- vanishing and exploding gradients ---------------------------------------------------------
@dataclass
class LayerChain:
    """a_k = act(w · a_{k−1}), k = 1..n: the activations, each layer's factor
    d a_k / d a_{k−1} = act′(w a_{k−1}) · w, and |d a_k / d a_0| (their running product)."""

    activation: str
    weight: float
    activations: np.ndarray
    factors: np.ndarray
    cumulative: np.ndarray


_CHAIN_ACTIVATIONS = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
}


def layer_chain(depth: int, activation: str = "sigmoid", weight: float = 1.0,
                x0: float = 0.5) -> LayerChain:
    """The chain of ``depth`` layers act(w · previous) from ``x0``."""
    if activation not in _CHAIN_ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(_CHAIN_ACTIVATIONS)}")
    depth = int(depth)
    if not 1 <= depth <= 10_000:
        raise ValueError("depth must be from 1 to 10,000")
    act, grad = _CHAIN_ACTIVATIONS[activation]
    a = np.empty(depth + 1)
    factors = np.empty(depth)
    a[0] = x0
    with np.errstate(all="ignore"):
        for k in range(depth):
            z = weight * a[k]
            a[k + 1] = act(z)
            factors[k] = grad(z) * weight
        cumulative = np.abs(np.cumprod(factors))
    return LayerChain(activation, float(weight), a, factors, cumulative)
