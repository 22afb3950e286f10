"""Optimizers as small update rules, and a runner that advances many runs at once.

Each first-order rule is one function of named numbers (``sgd_rule``, ``adam_rule``...) that
follows ``torch.optim``'s single-tensor code line by line (its keyword names, defaults and
order of operations), so a trajectory reproduces PyTorch's in float64 to rounding. A rule is
elementwise: arithmetic, ``np.sqrt``, ``np.maximum`` and ``if`` on hyper-parameters only. The
same function therefore steps arrays of shape (R, n), one row per run, so that a whole race (or
a sweep over 40 learning rates) is one NumPy step per iteration, and, compiled by numba, one
coordinate at a time in the fast runner (:mod:`._fast`).

Newton solves (H + damping I) d = g. L-BFGS is SciPy's L-BFGS-B, its iterates recorded.

:func:`optimize_many` takes the compiled path for a function once :func:`prepare` has compiled
its gradient (a second or two, once per expression: call it from a worker thread); until then,
and wherever numba cannot compile the expression, it steps with NumPy. Both give the same runs.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np

from .files import write_text

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "Newton",
    "LBFGS",
    "OPTIMIZERS",
    "make_optimizer",
    "Schedule",
    "SCHEDULES",
    "Run",
    "Trajectory",
    "optimize",
    "optimize_many",
    "prepare",
    "lr_sweep",
    "stability_limit",
    "DIVERGENCE_LIMIT",
    "sgd_rule",
    "adagrad_rule",
    "rmsprop_rule",
    "adam_rule",
    "solve2",
    "least_norm2",
]

DIVERGENCE_LIMIT = 1e12  # |f| above this, or a non-finite value, ends a run as diverged
_CHECK_EVERY = 32  # steps between checks whether every run has stopped


# -- update rules --------------------------------------------------------------------------------
# One step of each first-order optimizer, as torch.optim writes it. The arguments are numbers or
# arrays of one shape (the hyper-parameters are numbers; ``lr`` may also be one per row, (R, 1));
# ``t`` counts steps from 1. A rule changes nothing in place: it returns the new point, then the
# new buffers in the order of its class's ``state_names``.


def sgd_rule(x, g, velocity, t, lr, momentum, dampening, weight_decay, nesterov):
    """torch.optim.SGD: returns (x, velocity)."""
    if weight_decay != 0:
        g = g + weight_decay * x
    if momentum != 0:
        if t == 1:
            velocity = g
        else:
            velocity = velocity * momentum + (1 - dampening) * g
        if nesterov:
            g = g + momentum * velocity
        else:
            g = velocity
    return x - lr * g, velocity


def adagrad_rule(x, g, state_sum, t, lr, lr_decay, weight_decay, eps):
    """torch.optim.Adagrad: returns (x, sum)."""
    if weight_decay != 0:
        g = g + weight_decay * x
    clr = lr / (1 + (t - 1) * lr_decay)
    state_sum = state_sum + g * g
    std = np.sqrt(state_sum) + eps
    return x - clr * (g / std), state_sum


def rmsprop_rule(x, g, square_avg, grad_avg, velocity, t, lr, alpha, eps, weight_decay, momentum,
                 centered):
    """torch.optim.RMSprop: returns (x, square_avg, grad_avg, velocity)."""
    if weight_decay != 0:
        g = g + weight_decay * x
    square_avg = square_avg * alpha + (1 - alpha) * (g * g)
    if centered:
        grad_avg = grad_avg + (1 - alpha) * (g - grad_avg)  # torch's lerp_
        avg = np.sqrt(square_avg - grad_avg * grad_avg)
    else:
        avg = np.sqrt(square_avg)
    avg = avg + eps
    if momentum > 0:
        velocity = velocity * momentum + g / avg
        return x - lr * velocity, square_avg, grad_avg, velocity
    return x - lr * (g / avg), square_avg, grad_avg, velocity


def adam_rule(x, g, m, v, v_max, t, lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled):
    """torch.optim.Adam, and AdamW when ``decoupled``: returns (x, m, v, v_max, scale), where
    ``scale`` = lr / denominator is the factor the step applies to m."""
    if decoupled:
        x = x * (1 - lr * weight_decay)
    elif weight_decay != 0:
        g = g + weight_decay * x
    m = m + (1 - beta1) * (g - m)  # torch's lerp_
    v = v * beta2 + (1 - beta2) * (g * g)
    bias_correction1 = 1 - beta1 ** t
    bias_correction2_sqrt = np.sqrt(1 - beta2 ** t)
    step_size = lr / bias_correction1
    if amsgrad:
        v_max = np.maximum(v_max, v)
        denom = np.sqrt(v_max) / bias_correction2_sqrt + eps
    else:
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
    scale = step_size / denom
    return x - step_size * (m / denom), m, v, v_max, scale


class Optimizer:
    """An update rule over rows of runs. Subclasses set ``defaults`` (keyword -> default, the
    names and values of ``torch.optim``), ``state_names`` (the per-coordinate buffers the
    playback shows) and implement :meth:`step`."""

    defaults: dict = {}
    state_names: tuple[str, ...] = ()
    uses_hessian = False

    def __init__(self, **hyperparameters):
        unknown = set(hyperparameters) - set(self.defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no hyper-parameter "
                            f"{', '.join(sorted(unknown))}; it takes {', '.join(self.defaults)}")
        values = {**self.defaults, **hyperparameters}
        for name, value in values.items():
            values[name] = _checked(type(self).__name__, name, value, self.defaults[name])
        self.hyperparameters = values
        for name, value in values.items():
            setattr(self, name, value)

    @property
    def name(self) -> str:
        return type(self).__name__

    def group_key(self):
        """Runs whose optimizers share this key advance together (the learning rate may differ
        per row)."""
        return (type(self), tuple((k, v) for k, v in self.hyperparameters.items() if k != "lr"))

    def init_state(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return {name: np.zeros_like(x) for name in self.state_names}

    def step(self, x, g, state, t, lr):
        """Return the next points of rows ``x`` (R, n) from their gradients ``g`` at step
        ``t`` (1 for the first), putting the new buffers into ``state``; ``lr`` is a scalar or
        (R, 1)."""
        raise NotImplementedError

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.hyperparameters == self.hyperparameters

    def __hash__(self) -> int:
        return hash((type(self), tuple(self.hyperparameters.items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{self.name}({args})"


def _checked(owner: str, name: str, value, default):
    if isinstance(default, bool):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{owner}: {name} must be true or false, not {value!r}")
        return bool(value)
    if isinstance(default, tuple):
        try:
            items = tuple(float(v) for v in value)
        except TypeError:
            raise TypeError(f"{owner}: {name} must be a pair of numbers, not {value!r}") from None
        if len(items) != len(default) or not all(0.0 <= v < 1.0 for v in items):
            raise ValueError(f"{owner}: {name} must be {len(default)} numbers in [0, 1)")
        return items
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{owner}: {name} must be a whole number >= 1, not {value!r}")
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: {name} must be a number, not {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, not {value!r}")
    if name in ("momentum", "alpha") and number >= 1:
        raise ValueError(f"{owner}: {name} must be below 1, not {value!r}")
    return number


class SGD(Optimizer):
    """Gradient descent; with ``momentum`` the heavy ball, with ``nesterov`` Nesterov's
    look-ahead (torch.optim.SGD)."""

    defaults = dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)
    state_names = ("velocity",)

    def __init__(self, **hyperparameters):
        super().__init__(**hyperparameters)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening 0")

    def step(self, x, g, state, t, lr):
        x, state["velocity"] = sgd_rule(x, g, state["velocity"], t, lr, self.momentum,
                                        self.dampening, self.weight_decay, self.nesterov)
        return x


class Adagrad(Optimizer):
    """Per-coordinate steps shrinking with the sum of squared gradients (torch.optim.Adagrad)."""

    defaults = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                    eps=1e-10)
    state_names = ("sum",)

    def init_state(self, x):
        return {"sum": np.full_like(x, self.initial_accumulator_value)}

    def step(self, x, g, state, t, lr):
        x, state["sum"] = adagrad_rule(x, g, state["sum"], t, lr, self.lr_decay,
                                       self.weight_decay, self.eps)
        return x


class RMSprop(Optimizer):
    """Steps scaled by a running mean of squared gradients (torch.optim.RMSprop)."""

    defaults = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                    centered=False)
    state_names = ("square_avg", "grad_avg", "velocity")

    def step(self, x, g, state, t, lr):
        x, state["square_avg"], state["grad_avg"], state["velocity"] = rmsprop_rule(
            x, g, state["square_avg"], state["grad_avg"], state["velocity"], t, lr, self.alpha,
            self.eps, self.weight_decay, self.momentum, self.centered)
        return x


class Adam(Optimizer):
    """Momentum on the gradient (m) over the root of a running mean of its square (v), both
    bias-corrected (torch.optim.Adam). ``scale`` is the per-coordinate factor lr / denominator
    the step applies to m."""

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)
    state_names = ("m", "v", "v_max", "scale")
    decoupled = False

    def step(self, x, g, state, t, lr):
        beta1, beta2 = self.betas
        x, state["m"], state["v"], state["v_max"], state["scale"] = adam_rule(
            x, g, state["m"], state["v"], state["v_max"], t, lr, beta1, beta2, self.eps,
            self.weight_decay, self.amsgrad, self.decoupled)
        return x


class AdamW(Adam):
    """Adam with decoupled weight decay: x shrinks by lr * weight_decay before the Adam step
    (torch.optim.AdamW)."""

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)
    decoupled = True


class Newton(Optimizer):
    """x <- x - lr (H + damping I)^-1 g: one step to a quadratic's stationary point (a
    saddle's too: Newton does not know minima from saddles); damping blends towards gradient
    descent with step 1 / damping. Where H + damping I is singular the step is the least-norm
    one (the pseudo-inverse's). With two variables the solve is Cramer's rule (solve2)."""

    defaults = dict(lr=1.0, damping=0.0)
    state_names = ("direction",)
    uses_hessian = True

    def step(self, x, g, state, t, lr):
        a = state["hessian"] + self.damping * np.eye(x.shape[1])
        d = _solve_rows(a, g)
        state["direction"] = -d
        return x - lr * d


def solve2(a00, a01, a10, a11, b0, b1):
    """(d0, d1, det): [[a00, a01], [a10, a11]] d = (b0, b1) by Cramer's rule, elementwise
    (numbers or arrays: the fast path compiles this same function). Where ``det`` is 0 the
    matrix is singular and d is inf or NaN; a NaN entry makes both d0 and d1 NaN."""
    det = a00 * a11 - a01 * a10
    return (a11 * b0 - a01 * b1) / det, (a00 * b1 - a10 * b0) / det, det


def least_norm2(a00, a01, a10, a11, b0, b1):
    """The least-norm least-squares solution of A d = b for a singular 2 x 2 A (numbers):
    A has rank one, so its pseudo-inverse is A^T / |A|^2; 0 where A is 0."""
    total = a00 * a00 + a01 * a01 + a10 * a10 + a11 * a11
    if total == 0:
        return 0.0 * b0, 0.0 * b1
    return (a00 * b0 + a10 * b1) / total, (a01 * b0 + a11 * b1) / total


def _solve_rows(a, g):
    """d with a[r] d[r] = g[r] for each row r: where a[r] is singular the least-norm
    least-squares d[r] instead, NaN in a row with a NaN entry. One and two variables in closed
    form (as the fast path solves them), more with LAPACK."""
    n = g.shape[1]
    with np.errstate(all="ignore"):
        if n == 1:
            d = g / a[:, 0]
            singular = a[:, 0, 0] == 0
            d[singular] = 0.0 * g[singular]  # lstsq's 0 (NaN for a NaN gradient)
        elif n == 2:
            d0, d1, det = solve2(a[:, 0, 0], a[:, 0, 1], a[:, 1, 0], a[:, 1, 1], g[:, 0], g[:, 1])
            d = np.empty_like(g)
            d[:, 0], d[:, 1] = d0, d1
            for r in np.flatnonzero(det == 0):
                d[r] = least_norm2(*map(float, a[r].ravel()), *map(float, g[r]))
        else:
            finite = np.all(np.isfinite(a), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
            try:
                d = np.linalg.solve(a, g[..., None])[..., 0]
            except np.linalg.LinAlgError:  # a singular row: solve row by row
                d = np.empty_like(g)
                for r in np.flatnonzero(finite):
                    try:
                        d[r] = np.linalg.solve(a[r], g[r])
                    except np.linalg.LinAlgError:
                        d[r] = np.linalg.lstsq(a[r], g[r], rcond=None)[0]
            d[~finite] = np.nan
    return d


class LBFGS(Optimizer):
    """SciPy's L-BFGS-B (limited-memory quasi-Newton with a line search): the recorded path is
    its iterates. ``history_size`` is SciPy's ``maxcor``, ``max_line_search`` its ``maxls``."""

    defaults = dict(history_size=10, max_line_search=20)

    def group_key(self):
        return (type(self), id(self))


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__: cls for cls in (SGD, Adagrad, RMSprop, Adam, AdamW, Newton, LBFGS)
}


def make_optimizer(name: str, **hyperparameters) -> Optimizer:
    """An optimizer by its class name, any case (``"adam"``, ``"LBFGS"``)."""
    by_lower = {k.lower(): cls for k, cls in OPTIMIZERS.items()}
    cls = by_lower.get(str(name).strip().lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return cls(**hyperparameters)


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule with torch.optim.lr_scheduler's closed forms: ``constant``;
    ``step`` (StepLR: times ``gamma`` every ``step_size`` steps); ``exponential``
    (ExponentialLR: times ``gamma`` each step); ``cosine`` (CosineAnnealingLR: from lr down
    to ``eta_min`` over ``t_max`` steps)."""

    kind: str = "constant"
    step_size: int = 100
    gamma: float = 0.5
    t_max: int = 1000
    eta_min: float = 0.0

    def __post_init__(self):
        if self.kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.kind!r}; choose one of {', '.join(SCHEDULES)}")
        if int(self.step_size) < 1 or int(self.t_max) < 1:
            raise ValueError("schedule: step_size and t_max must be >= 1")
        if not (0 < float(self.gamma) <= 1.0) or not float(self.eta_min) >= 0:
            raise ValueError("schedule: gamma must be in (0, 1] and eta_min >= 0")

    def rates(self, lr, steps: int) -> np.ndarray:
        """The learning rate of steps 1..steps, shape (steps,)."""
        t = np.arange(steps, dtype=float)  # the scheduler has stepped t times before step t+1
        if self.kind == "constant":
            return np.full(steps, float(lr))
        if self.kind == "step":
            return lr * self.gamma ** np.floor(t / self.step_size)
        if self.kind == "exponential":
            return lr * self.gamma ** t
        return self.eta_min + (lr - self.eta_min) * (1 + np.cos(np.pi * t / self.t_max)) / 2

    def to_dict(self) -> dict:
        return {"kind": self.kind, "step_size": int(self.step_size), "gamma": float(self.gamma),
                "t_max": int(self.t_max), "eta_min": float(self.eta_min)}


SCHEDULES = ("constant", "step", "exponential", "cosine")


@dataclass
class Run:
    """One run of a race: where it starts, how it steps. ``clip`` is a maximum gradient norm
    (torch.nn.utils.clip_grad_norm_), ``noise`` the standard deviation of Gaussian noise added
    to each gradient component (seeded by ``seed``), as a stochastic gradient would be."""

    start: tuple
    optimizer: Optimizer
    clip: float | None = None
    schedule: Schedule | None = None
    noise: float = 0.0
    seed: int = 0


@dataclass
class Trajectory:
    """The points x_0..x_k of a run, f and the gradient there, and why it stopped.

    ``status`` is ``converged`` (the gradient norm reached ``tol`` at the last point),
    ``diverged`` (the last value is non-finite or above 1e12 in magnitude) or ``max_steps``.
    ``state`` holds the optimizer's buffers after each step (index 0: before the first), and
    ``rates`` the learning rate of each step.
    """

    points: np.ndarray
    values: np.ndarray
    gradients: np.ndarray
    status: str
    variables: tuple[str, ...] = ("x", "y")
    function: str = ""
    optimizer: Optimizer | None = None
    start: tuple = ()
    rates: np.ndarray | None = None
    state: dict = field(default_factory=dict)
    schedule: Schedule | None = None
    clip: float | None = None
    noise: float = 0.0
    seed: int = 0

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def final_value(self) -> float:
        return float(self.values[-1])

    @property
    def gradient_norms(self) -> np.ndarray:
        return np.linalg.norm(self.gradients, axis=1)

    def describe(self) -> str:
        """'converged at step 41', 'diverged at step 7' or '2,000 steps'."""
        if self.status == "max_steps":
            return f"{self.steps:,} steps"
        return f"{self.status} at step {self.steps:,}"

    # -- export ------------------------------------------------------------------------------
    def columns(self) -> list[str]:
        return ["step", *self.variables, "value", *(f"grad_{v}" for v in self.variables)]

    def rows(self) -> list[list]:
        steps = np.arange(len(self.points))
        table = np.column_stack([self.points, self.values, self.gradients])
        return [[int(k), *map(float, row)] for k, row in zip(steps, table, strict=True)]

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns())
        for row in self.rows():
            writer.writerow([row[0], *(repr(v) for v in row[1:])])
        return out.getvalue()

    def to_dict(self) -> dict:
        opt = self.optimizer
        columns = self.columns()
        return {
            "format": "calculus-explorer trajectory",
            "version": 1,
            "function": self.function,
            "variables": list(self.variables),
            "optimizer": opt.name if opt is not None else None,
            "hyperparameters": ({k: list(v) if isinstance(v, tuple) else v
                                 for k, v in opt.hyperparameters.items()} if opt else {}),
            "schedule": self.schedule.to_dict() if self.schedule else None,
            "clip": self.clip,
            "noise": self.noise,
            "seed": self.seed,
            "start": [float(v) for v in self.start],
            "status": self.status,
            "steps": self.steps,
            "rows": [dict(zip(columns, [r[0], *(_json_number(v) for v in r[1:])], strict=True))
                     for r in self.rows()],
        }

    def json_text(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=False)

    def to_csv(self, path) -> None:
        write_text(path, self.csv_text())

    def to_json(self, path) -> None:
        write_text(path, self.json_text())


def _json_number(v: float):
    """JSON has no NaN or infinity: a diverged run's last value is written as null."""
    return v if math.isfinite(v) else None


# -- running -------------------------------------------------------------------------------------
def optimize(f, start, optimizer: Optimizer, steps: int = 2000, tol: float = 1e-10,
             clip: float | None = None, schedule: Schedule | None = None, noise: float = 0.0,
             seed: int = 0, fast: bool | None = None) -> Trajectory:
    """Run ``optimizer`` on ``f`` from ``start`` for at most ``steps`` steps.

    Returns a :class:`Trajectory`; a run that diverges stops there and says so, it never
    raises for numeric reasons. ``fast`` is :func:`optimize_many`'s.
    """
    run = Run(tuple(start), optimizer, clip, schedule, noise, seed)
    return optimize_many(f, [run], steps=steps, tol=tol, fast=fast)[0]


def optimize_many(f, runs: list[Run], steps: int = 2000, tol: float = 1e-10,
                  fast: bool | None = None) -> list[Trajectory]:
    """Advance every run together; returns one :class:`Trajectory` per run, equal to what
    :func:`optimize` gives for it alone.

    ``fast``: None (the default) takes the compiled path when :func:`prepare` has already
    compiled ``f``, else steps with NumPy (one NumPy step per iteration for all runs); True
    prepares ``f`` first (blocking, a second or two the first time); False always uses NumPy.
    Either path gives the same runs; where numba or the expression cannot be compiled, NumPy
    steps them.
    """
    variables = tuple(f.variables)
    n = len(variables)
    steps = int(steps)
    if steps < 0:
        raise ValueError("steps must be >= 0")
    if not math.isfinite(tol) or tol < 0:
        raise ValueError("tol must be a finite number >= 0")
    starts = np.array([_start(r.start, n) for r in runs], dtype=float).reshape(len(runs), n)
    out: list[Trajectory | None] = [None] * len(runs)
    stepped = [i for i, r in enumerate(runs) if not isinstance(r.optimizer, LBFGS)]
    for i, r in enumerate(runs):
        if isinstance(r.optimizer, LBFGS):
            out[i] = _lbfgs(f, r, starts[i], steps, tol)
    if stepped:
        for i, t in zip(stepped, _run_rows(f, [runs[i] for i in stepped], starts[stepped],
                                           steps, tol, fast), strict=True):
            out[i] = t
    text = f.text if hasattr(f, "text") else str(f)  # (str of a Function prints SymPy: slow)
    for t, r in zip(out, runs, strict=True):
        t.variables, t.function, t.optimizer = variables, text, r.optimizer
        t.start, t.schedule, t.clip, t.noise, t.seed = (tuple(map(float, r.start)), r.schedule,
                                                        r.clip, float(r.noise), int(r.seed))
    return out


def prepare(f, hessian: bool = True) -> bool:
    """Compile ``f``'s gradient (and Hessian, for Newton) for the fast path of
    :func:`optimize_many`; blocking (importing numba, then compiling: a second or two the
    first time, a fraction of one per new expression), so call it from a worker thread.
    Compiled expressions are cached (parameter values are arguments: changing them needs no
    new compile). Returns whether the fast path is ready for ``f``; False, without raising,
    where numba is missing or cannot compile the expression."""
    from . import _fast

    return _fast.prepare(f, hessian=hessian)


def _start(start, n: int) -> np.ndarray:
    p = np.asarray(start, dtype=float).reshape(-1)
    if p.shape != (n,) or not np.all(np.isfinite(p)):
        raise ValueError(f"the start needs {n} finite coordinates, got {start!r}")
    return p


@dataclass
class _Rows:
    """What both runners share: the runs sorted by group (each group a contiguous slice of
    rows), their schedules as a table of rates (row, step), clips (inf: none), the pre-drawn
    noise of the noisy rows, and the arrays the runners fill, one run per row."""

    runs: list
    groups: list  # (optimizer, slice)
    rates: np.ndarray  # (rows, max(steps, 1))
    clips: np.ndarray  # (rows,)
    noisy: np.ndarray  # indices of the rows with noise
    noise: np.ndarray  # (steps, len(noisy), n): noise * standard normal, in the order drawn
    points: np.ndarray  # (rows, steps + 1, n)
    grads: np.ndarray  # (rows, steps + 1, n)
    history: np.ndarray  # (rows, slots, steps + 1, n): buffer s is state_names[s]
    states: list  # each group's buffers before the first step


def _rows(runs, starts, steps) -> tuple[_Rows, np.ndarray]:
    rows, n = starts.shape
    # Rows sorted by group, so that each group steps on a contiguous slice (views, no copies).
    keys: dict = {}
    for i, r in enumerate(runs):
        keys.setdefault(r.optimizer.group_key(), []).append(i)
    order = np.array([i for idx in keys.values() for i in idx])
    runs = [runs[i] for i in order]
    groups, begin = [], 0
    for idx in keys.values():
        groups.append((runs[begin].optimizer, slice(begin, begin + len(idx))))
        begin += len(idx)
    rates = np.empty((rows, max(steps, 1)))
    for i, r in enumerate(runs):
        lr = r.optimizer.hyperparameters.get("lr", 1.0)
        rates[i] = (r.schedule or Schedule()).rates(lr, max(steps, 1))
    clips = np.array([r.clip if r.clip is not None else np.inf for r in runs], dtype=float)
    # Drawn as the steps would draw them, n numbers a step from each run's own generator.
    noisy = np.array([i for i, r in enumerate(runs) if r.noise], dtype=np.int64)
    noise = np.empty((steps, len(noisy), n))
    for k, i in enumerate(noisy):
        rng = np.random.default_rng(runs[i].seed)
        noise[:, k] = runs[i].noise * rng.standard_normal((steps, n))
    points = np.empty((rows, steps + 1, n))
    points[:, 0] = starts[order]
    slots = max(len(opt.state_names) for opt, _ in groups) or 1
    history = np.zeros((rows, slots, steps + 1, n))
    states = [opt.init_state(points[sl, 0]) for opt, sl in groups]
    for (opt, sl), state in zip(groups, states, strict=True):
        for s, name in enumerate(opt.state_names):
            history[sl, s, 0] = state[name]
    return _Rows(runs, groups, rates, clips, noisy, noise, points, np.empty_like(points),
                 history, states), order


def _run_rows(f, runs, starts, steps, tol, fast) -> list[Trajectory]:
    rows, order = _rows(runs, starts, steps)
    last = None
    if fast is not False:
        from . import _fast

        if fast:
            _fast.prepare(f, hessian=any(opt.uses_hessian for opt, _ in rows.groups))
        last = _fast.run(f, rows, steps, tol, _CHECK_EVERY)
    if last is None:
        last = _step_with_numpy(f, rows, steps, tol)
    points = rows.points[:, : last + 1]
    with np.errstate(all="ignore"):
        values = np.broadcast_to(f(*np.moveaxis(points, -1, 0)), points.shape[:2])
    trajectories = _trajectories(rows, values, last, tol)
    back = np.empty(len(order), dtype=int)
    back[order] = np.arange(len(order))
    return [trajectories[i] for i in back]


def _step_with_numpy(f, rows: _Rows, steps, tol) -> int:
    """Step every row with NumPy, one call of each rule per group and step; returns the last
    step taken (the points, gradients and history up to it are filled in)."""
    gradient = f.gradient_function()
    uses_hessian = any(opt.uses_hessian for opt, _ in rows.groups)
    hessian = f.hessian_function() if uses_hessian else None
    points, grads, history = rows.points, rows.grads, rows.history
    rates = rows.rates[:, :, None]
    clipped = np.flatnonzero(np.isfinite(rows.clips))
    clips = rows.clips[clipped, None]
    last = steps
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            x = points[:, t - 1]
            g = grads[:, t - 1] = gradient(x)
            if len(rows.noisy) or len(clipped):
                g = g.copy()
            if len(rows.noisy):
                g[rows.noisy] += rows.noise[t - 1]
            if len(clipped):  # torch.nn.utils.clip_grad_norm_
                gc = g[clipped]
                g[clipped] = gc * np.minimum(clips / (_norms(gc)[:, None] + 1e-6), 1.0)
            lr_t = rates[:, t - 1]
            nxt = points[:, t]
            for (opt, sl), state in zip(rows.groups, rows.states, strict=True):
                if opt.uses_hessian:
                    state["hessian"] = hessian(x[sl])
                nxt[sl] = opt.step(x[sl], g[sl], state, t, lr_t[sl])
                for s, name in enumerate(opt.state_names):
                    history[sl, s, t] = state[name]
            if t % _CHECK_EVERY == 0 and _all_stopped(points, grads, t, tol):
                last = t
                break
        grads[:, last] = gradient(points[:, last])
    return last


def _trajectories(rows: _Rows, values, last, tol) -> list[Trajectory]:
    """Each row's trajectory, cut where it stopped: the first point with a non-finite
    coordinate or value, or |value| > DIVERGENCE_LIMIT (diverged), or else the first with
    gradient norm <= tol (converged); else at ``last`` (max_steps)."""
    points, grads = rows.points[:, : last + 1], rows.grads[:, : last + 1]
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(values) | (np.abs(values) > DIVERGENCE_LIMIT) | ~_finite(points)
        small = _norms(grads) <= tol
    any_bad, any_small = bad.any(axis=1), small.any(axis=1)
    first_bad, first_small = bad.argmax(axis=1), small.argmax(axis=1)
    out = []
    for i, run in enumerate(rows.runs):
        if any_bad[i] and (not any_small[i] or first_bad[i] <= first_small[i]):
            k, status = int(first_bad[i]), "diverged"
        elif any_small[i]:
            k, status = int(first_small[i]), "converged"
        else:
            k, status = last, "max_steps"
        out.append(Trajectory(
            points=points[i, : k + 1].copy(), values=np.array(values[i, : k + 1], dtype=float),
            gradients=grads[i, : k + 1].copy(), status=status, rates=rows.rates[i, :k].copy(),
            state={name: rows.history[i, s, : k + 1].copy()
                   for s, name in enumerate(run.optimizer.state_names)},
        ))
    return out


def _all_stopped(points, grads, t, tol) -> bool:
    """Whether every row has already converged or left the finite numbers by step t."""
    x = points[:, t]
    gone = ~_finite(x) | np.any(np.abs(x) > 1e150, axis=1)
    done = np.any(_norms(grads[:, :t]) <= tol, axis=1)
    return bool(np.all(gone | done))


def _norms(g):
    """The Euclidean norms along the last axis, summed in order (as the fast path sums):
    NumPy's reductions along a short last axis cost as much as a Python loop."""
    total = g[..., 0] * g[..., 0]
    for j in range(1, g.shape[-1]):
        total = total + g[..., j] * g[..., j]
    return np.sqrt(total)


def _finite(p):
    """Whether every coordinate along the last axis is finite."""
    ok = np.isfinite(p[..., 0])
    for j in range(1, p.shape[-1]):
        ok &= np.isfinite(p[..., j])
    return ok


def _lbfgs(f, run: Run, start, steps, tol) -> Trajectory:
    from scipy.optimize import minimize

    gradient = f.gradient_function()
    n = len(start)

    def fun(p):
        value = float(f(*p))
        g = gradient(p[None, :])[0]
        if not (math.isfinite(value) and np.all(np.isfinite(g))):
            return math.inf, np.zeros(n)
        return value, g

    path = [np.array(start, dtype=float)]
    opt = run.optimizer
    result = None
    if steps > 0:
        with np.errstate(all="ignore"):
            result = minimize(fun, start, jac=True, method="L-BFGS-B",
                              callback=lambda xk: path.append(np.array(xk, dtype=float)),
                              options={"maxiter": steps, "maxcor": opt.history_size,
                                       "maxls": opt.max_line_search, "gtol": tol})
    points = np.array(path)
    with np.errstate(all="ignore"):
        values = np.asarray(f(*points.T), dtype=float).reshape(len(points))
        grads = gradient(points)
    bad = ~np.isfinite(values) | (np.abs(values) > DIVERGENCE_LIMIT)
    if bad.any():
        k = int(np.argmax(bad))
        points, values, grads, status = points[: k + 1], values[: k + 1], grads[: k + 1], "diverged"
    elif np.linalg.norm(grads[-1]) <= tol or (result is not None and result.success
                                               and len(points) - 1 < steps):
        status = "converged"
    else:
        status = "max_steps"
    return Trajectory(points=points, values=values, gradients=grads, status=status,
                      rates=np.ones(len(points) - 1))


# -- analysis ------------------------------------------------------------------------------------
def lr_sweep(f, start, optimizer: Optimizer, rates, steps: int = 200, tol: float = 1e-10,
             fast: bool | None = None, **run_options) -> tuple[np.ndarray, list[Trajectory]]:
    """The final value of ``optimizer`` from ``start`` at each learning rate of ``rates``
    (one vectorised race); diverged runs give +inf. Returns (final values, trajectories).
    ``fast`` is :func:`optimize_many`'s."""
    rates = np.asarray(rates, dtype=float)
    runs = []
    for lr in rates:
        hyper = {**optimizer.hyperparameters}
        if "lr" not in hyper:
            raise ValueError(f"{optimizer.name} has no learning rate to sweep")
        hyper["lr"] = float(lr)
        runs.append(Run(tuple(start), type(optimizer)(**hyper), **run_options))
    trajectories = optimize_many(f, runs, steps=steps, tol=tol, fast=fast)
    finals = np.array([t.final_value if t.status != "diverged" else math.inf
                       for t in trajectories])
    return finals, trajectories


def stability_limit(f, point) -> float | None:
    """2 / lambda_max of the Hessian at ``point``: on a quadratic, gradient descent with a
    larger learning rate diverges. None where the largest eigenvalue is not positive."""
    h = np.asarray(f.hessian(point), dtype=float)
    if not np.all(np.isfinite(h)):
        return None
    top = float(np.linalg.eigvalsh(h)[-1])
    return 2.0 / top if top > 0 else None
