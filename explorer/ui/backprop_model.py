"""BackpropModel: the computational graph of the session's function at the session's point and
parameter values, and the step-through of its forward and backward passes.

The inputs are the function's variables (x at the curve's point x0; x and y at the landscape's
point) and its parameters (their sliders): editing one here moves the session, so one typed
expression and one set of values drive the graph and every other view. Building the graph is
pure Python over a few hundred nodes at most (~10-20 ms for 100 nodes), done on the GUI thread.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore

from ..core.session import Session

# Presets: (name, expression, variables' values, parameters' values). The function's
# variables are x and y where they occur; every other name is a parameter with a slider.
PRESETS = (
    ("Worked example ((x·y) + x)²", "((x*y) + x)^2", {"x": 2.0, "y": 3.0}, {}),
    ("Neuron (σ(w·x + b) − y)²", "(sigmoid(w*x + b) - y)^2", {"x": 1.5, "y": 1.0},
     {"w": 0.8, "b": -0.3}),
    ("Two tanh units", "(v1*tanh(w1*x + b1) + v2*tanh(w2*x + b2) - y)^2",
     {"x": 0.5, "y": 0.2}, {"w1": 1.2, "b1": -0.4, "v1": 0.7, "w2": -0.9, "b2": 0.3,
                             "v2": 0.5}),
    ("Softmax cross-entropy, two classes", "-log(exp(a*x + c) / (exp(a*x + c) + exp(b*y + d)))",
     {"x": 1.0, "y": 0.5}, {"a": 0.8, "b": -0.6, "c": 0.1, "d": 0.2}),
)


class BackpropModel(QtCore.QObject):
    """``changed`` when the graph is rebuilt (``graph``, ``error``); ``step_changed`` when the
    step-through moves (``step``: how many steps of ``graph.steps`` are done)."""

    changed = QtCore.Signal()
    step_changed = QtCore.Signal(int)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.graph = None
        self.function = None
        self.values: dict[str, float] = {}
        self.error: str | None = None
        self.step = 0
        self.active = False
        self._values = self._grads = None
        self._rebuild = QtCore.QTimer(self, singleShot=True, interval=0)
        self._rebuild.timeout.connect(self.rebuild)
        session.connect(("function", "parameters", "x0", "point"), lambda s, f: self._soon())

    def set_active(self, active: bool) -> None:
        """Build graphs only while the lab is on screen."""
        self.active = bool(active)
        if active:
            self.rebuild()

    def _soon(self) -> None:
        if self.active:
            self._rebuild.start()

    # -- the graph -----------------------------------------------------------------------------
    def input_values(self) -> dict[str, float]:
        s = self.session
        f = s.function
        if f is None:
            return {}
        values = dict(s.parameters)
        if len(f.variables) == 1:
            values[f.variables[0]] = float(s.x0)
        else:
            values.update(zip(f.variables, map(float, s.point[: len(f.variables)]), strict=False))
        return values

    def rebuild(self) -> None:
        from ..core.graph import computational_graph

        s = self.session
        f = s.f
        if f is None:
            self.graph, self.function, self.error = None, None, None
            self.changed.emit()
            return
        values = self.input_values()
        keep_step = (self.graph is not None and self.function is not None
                     and self.function.expr == f.expr)
        try:
            graph = computational_graph(f, values)
        except (ValueError, ArithmeticError) as exc:
            self.graph, self.function, self.error = None, f, f"the graph could not be built: {exc}"
            self.changed.emit()
            return
        self.graph, self.function, self.values, self.error = graph, f, values, None
        self._tabulate()
        # new values keep the step the user is at; a new function starts from the inputs
        self.step = min(self.step, len(graph.steps)) if keep_step else 0
        self.changed.emit()
        self.step_changed.emit(self.step)

    def _tabulate(self) -> None:
        """Each node's value and accumulated grad as known after each step (NaN: not yet)."""
        g = self.graph
        n, count = len(g.nodes), len(g.steps)
        values = np.full((count + 1, n), np.nan)
        grads = np.full((count + 1, n), np.nan)
        known_v = np.array([node.value if node.is_leaf else np.nan for node in g.nodes])
        known_g = np.full(n, np.nan)
        values[0], grads[0] = known_v, known_g
        nodes = g.nodes
        for k, step in enumerate(g.steps, start=1):
            if step.phase == "forward":
                known_v = known_v.copy()
                known_v[step.node] = nodes[step.node].value
            else:
                known_g = known_g.copy()
                known_g[len(nodes) - 1] = 1.0  # the output's adjoint, from the first step
                known_g[step.edge[0]] = step.grad
            values[k], grads[k] = known_v, known_g
        if count == 0 or g.steps[-1].phase == "forward":  # no backward steps (f = x)
            grads[-1][len(nodes) - 1] = 1.0
        self._values, self._grads = values, grads

    # -- the step-through ----------------------------------------------------------------------
    @property
    def step_count(self) -> int:
        return len(self.graph.steps) if self.graph is not None else 0

    def set_step(self, step: int) -> None:
        step = int(min(max(step, 0), self.step_count))
        if step != self.step:
            self.step = step
            self.step_changed.emit(step)

    def forward(self) -> None:
        self.set_step(self.step + 1)

    def back(self) -> None:
        self.set_step(self.step - 1)

    def reset(self) -> None:
        self.set_step(0)

    def run_all(self) -> None:
        self.set_step(self.step_count)

    def phase(self) -> str:
        """inputs (nothing computed), forward, backward or done."""
        if self.graph is None or self.step == 0:
            return "inputs"
        if self.step >= self.step_count:
            return "done"
        return self.graph.steps[self.step - 1].phase

    def current(self):
        """The step just taken (a :class:`~explorer.core.graph.Step`), or None."""
        if self.graph is None or self.step == 0:
            return None
        return self.graph.steps[self.step - 1]

    def node_values(self) -> np.ndarray:
        """Each node's value as far as the forward pass has gone (NaN: not computed yet)."""
        return self._values[self.step] if self.graph is not None else np.array([])

    def node_grads(self) -> np.ndarray:
        """Each node's adjoint as accumulated so far by the backward pass (NaN: none yet)."""
        return self._grads[self.step] if self.graph is not None else np.array([])

    # -- edits from the lab --------------------------------------------------------------------
    def set_input(self, name: str, value: float) -> None:
        """An input edited in the lab: a variable moves the session's point, a parameter its
        slider."""
        s = self.session
        f = s.function
        if f is None or not math.isfinite(value):
            return
        if name in f.parameters:
            s.set_parameter(name, value)
        elif name in f.variables:
            if len(f.variables) == 1:
                s.set_x0(value)
            else:
                point = list(s.point)
                point[f.variables.index(name)] = value
                s.set_point(tuple(point))
