"""Optimizers as small update rules, and a runner that advances many runs at once.

Each first-order rule follows ``torch.optim``'s single-tensor code line by line (its keyword
names, defaults and order of operations), so a trajectory reproduces PyTorch's in float64 to
rounding. The rules are written over arrays of shape (R, n), one row per run, so a whole race
(or a sweep over 40 learning rates) is one NumPy step per iteration: the runner evaluates every
run's gradient in one compiled call, then lets each group of runs sharing an optimizer class
and its hyper-parameters (all but the learning rate, which may differ per row) take its step.

Newton solves (H + damping I) d = g. L-BFGS is SciPy's L-BFGS-B, its iterates recorded.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np

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
    "lr_sweep",
    "stability_limit",
    "DIVERGENCE_LIMIT",
]

DIVERGENCE_LIMIT = 1e12  # |f| above this, or a non-finite value, ends a run as diverged
_CHECK_EVERY = 32  # steps between checks whether every run has stopped


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
        ``t`` (1 for the first), updating ``state`` in place; ``lr`` is a scalar or (R, 1)."""
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
        if self.weight_decay != 0:
            g = g + self.weight_decay * x
        if self.momentum != 0:
            buf = state["velocity"]
            if t == 1:
                buf[...] = g
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        return x - lr * g


class Adagrad(Optimizer):
    """Per-coordinate steps shrinking with the sum of squared gradients (torch.optim.Adagrad)."""

    defaults = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                    eps=1e-10)
    state_names = ("sum",)

    def init_state(self, x):
        return {"sum": np.full_like(x, self.initial_accumulator_value)}

    def step(self, x, g, state, t, lr):
        if self.weight_decay != 0:
            g = g + self.weight_decay * x
        clr = lr / (1 + (t - 1) * self.lr_decay)
        state["sum"] += g * g
        std = np.sqrt(state["sum"]) + self.eps
        return x - clr * (g / std)


class RMSprop(Optimizer):
    """Steps scaled by a running mean of squared gradients (torch.optim.RMSprop)."""

    defaults = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                    centered=False)
    state_names = ("square_avg", "grad_avg", "velocity")

    def step(self, x, g, state, t, lr):
        if self.weight_decay != 0:
            g = g + self.weight_decay * x
        sq = state["square_avg"]
        sq *= self.alpha
        sq += (1 - self.alpha) * (g * g)
        if self.centered:
            avg_g = state["grad_avg"]
            avg_g += (1 - self.alpha) * (g - avg_g)  # torch's lerp_
            avg = np.sqrt(sq - avg_g * avg_g)
        else:
            avg = np.sqrt(sq)
        avg = avg + self.eps
        if self.momentum > 0:
            buf = state["velocity"]
            buf *= self.momentum
            buf += g / avg
            return x - lr * buf
        return x - lr * (g / avg)


class Adam(Optimizer):
    """Momentum on the gradient (m) over the root of a running mean of its square (v), both
    bias-corrected (torch.optim.Adam). ``scale`` is the per-coordinate factor lr / denominator
    the step applies to m."""

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)
    state_names = ("m", "v", "v_max", "scale")
    decoupled = False

    def step(self, x, g, state, t, lr):
        beta1, beta2 = self.betas
        if self.decoupled:
            x = x * (1 - lr * self.weight_decay)
        elif self.weight_decay != 0:
            g = g + self.weight_decay * x
        m, v = state["m"], state["v"]
        m += (1 - beta1) * (g - m)  # torch's lerp_
        v *= beta2
        v += (1 - beta2) * (g * g)
        bias_correction1 = 1 - beta1 ** t
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** t)
        step_size = lr / bias_correction1
        if self.amsgrad:
            np.maximum(state["v_max"], v, out=state["v_max"])
            v = state["v_max"]
        denom = np.sqrt(v) / bias_correction2_sqrt + self.eps
        state["scale"][...] = step_size / denom
        return x - step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay: x shrinks by lr * weight_decay before the Adam step
    (torch.optim.AdamW)."""

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)
    decoupled = True


class Newton(Optimizer):
    """x <- x - lr (H + damping I)^-1 g: one step to a quadratic's stationary point (a
    saddle's too: Newton does not know minima from saddles); damping blends towards gradient
    descent with step 1 / damping."""

    defaults = dict(lr=1.0, damping=0.0)
    state_names = ("direction",)
    uses_hessian = True

    def step(self, x, g, state, t, lr):
        h = state["hessian"]
        a = h + self.damping * np.eye(x.shape[1])
        with np.errstate(all="ignore"):
            try:
                d = np.linalg.solve(a, g[..., None])[..., 0]
            except np.linalg.LinAlgError:  # a singular row: the least-norm step instead
                d = np.full_like(g, np.nan)
                for r in range(len(a)):
                    if np.all(np.isfinite(a[r])) and np.all(np.isfinite(g[r])):
                        d[r] = np.linalg.lstsq(a[r], g[r], rcond=None)[0]
        state["direction"][...] = -d
        return x - lr * d


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
        _write_atomically(path, self.csv_text())

    def to_json(self, path) -> None:
        _write_atomically(path, self.json_text())


def _json_number(v: float):
    """JSON has no NaN or infinity: a diverged run's last value is written as null."""
    return v if math.isfinite(v) else None


def _write_atomically(path, text: str) -> None:
    import os
    import tempfile

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".trajectory-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# -- running -------------------------------------------------------------------------------------
def optimize(f, start, optimizer: Optimizer, steps: int = 2000, tol: float = 1e-10,
             clip: float | None = None, schedule: Schedule | None = None, noise: float = 0.0,
             seed: int = 0) -> Trajectory:
    """Run ``optimizer`` on ``f`` from ``start`` for at most ``steps`` steps.

    Returns a :class:`Trajectory`; a run that diverges stops there and says so, it never
    raises for numeric reasons.
    """
    run = Run(tuple(start), optimizer, clip, schedule, noise, seed)
    return optimize_many(f, [run], steps=steps, tol=tol)[0]


def optimize_many(f, runs: list[Run], steps: int = 2000, tol: float = 1e-10) -> list[Trajectory]:
    """Advance every run together, one NumPy step per iteration for all of them; returns one
    :class:`Trajectory` per run, equal to what :func:`optimize` gives for it alone."""
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
                                           steps, tol), strict=True):
            out[i] = t
    for t, r in zip(out, runs, strict=True):
        t.variables, t.function, t.optimizer = variables, getattr(f, "text", str(f)), r.optimizer
        t.start, t.schedule, t.clip, t.noise, t.seed = (tuple(map(float, r.start)), r.schedule,
                                                        r.clip, float(r.noise), int(r.seed))
    return out


def _start(start, n: int) -> np.ndarray:
    p = np.asarray(start, dtype=float).reshape(-1)
    if p.shape != (n,) or not np.all(np.isfinite(p)):
        raise ValueError(f"the start needs {n} finite coordinates, got {start!r}")
    return p


def _run_rows(f, runs, starts, steps, tol) -> list[Trajectory]:
    rows, n = starts.shape
    # Rows sorted by group, so that each group steps on a contiguous slice (views, no copies).
    keys: dict = {}
    for i, r in enumerate(runs):
        keys.setdefault(r.optimizer.group_key(), []).append(i)
    order = np.array([i for idx in keys.values() for i in idx])
    runs = [runs[i] for i in order]
    starts = starts[order]
    groups, begin = [], 0
    for idx in keys.values():
        groups.append((runs[begin].optimizer, slice(begin, begin + len(idx))))
        begin += len(idx)

    gradient = f.gradient_function()
    hessian = f.hessian_function() if any(r.optimizer.uses_hessian for r in runs) else None
    rates = np.empty((max(steps, 1), rows))
    for i, r in enumerate(runs):
        lr = r.optimizer.hyperparameters.get("lr", 1.0)
        rates[:, i] = (r.schedule or Schedule()).rates(lr, max(steps, 1))
    rates = rates[:, :, None]
    states = [opt.init_state(starts[sl]) for opt, sl in groups]
    recorded = [(name, sl, state) for (opt, sl), state in zip(groups, states, strict=True)
                for name in opt.state_names]
    history = {name: np.zeros((steps + 1, rows, n)) for name, _, _ in recorded}
    clips = np.array([r.clip if r.clip is not None else np.inf for r in runs])[:, None]
    clipped = bool(np.isfinite(clips).any())
    noisy = [(i, r.noise, np.random.default_rng(r.seed)) for i, r in enumerate(runs) if r.noise]

    points = np.empty((steps + 1, rows, n))
    grads = np.empty((steps + 1, rows, n))
    points[0] = starts
    last = steps
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            x = points[t - 1]
            g = grads[t - 1] = gradient(x)
            if noisy:
                g = g.copy()
                for i, sigma, rng in noisy:
                    g[i] += sigma * rng.standard_normal(n)
            if clipped:
                norm = np.sqrt(np.sum(g * g, axis=1, keepdims=True))
                g = g * np.minimum(clips / (norm + 1e-6), 1.0)
            lr_t = rates[t - 1]
            nxt = points[t]
            for (opt, sl), state in zip(groups, states, strict=True):
                if opt.uses_hessian:
                    state["hessian"] = hessian(x[sl])
                nxt[sl] = opt.step(x[sl], g[sl], state, t, lr_t[sl])
            for name, sl, state in recorded:
                history[name][t, sl] = state[name]
            if t % _CHECK_EVERY == 0 and _all_stopped(points, grads, t, tol):
                last = t
                break
        grads[last] = gradient(points[last])
        values = f(*np.moveaxis(points[: last + 1], -1, 0))
        values = np.broadcast_to(values, points[: last + 1].shape[:2])
        trajectories = _trajectories(runs, points, grads, values, rates, history, last, tol)
    back = np.empty(rows, dtype=int)
    back[order] = np.arange(rows)
    return [trajectories[i] for i in back]


def _trajectories(runs, points, grads, values, rates, history, last, tol):
    out = []
    for i in range(len(runs)):
        v = values[:, i]
        bad = ~np.isfinite(v) | (np.abs(v) > DIVERGENCE_LIMIT) | ~np.all(
            np.isfinite(points[: last + 1, i]), axis=1)
        small = np.sqrt(np.sum(grads[: last + 1, i] ** 2, axis=1)) <= tol
        k_bad = int(np.argmax(bad)) if bad.any() else None
        k_small = int(np.argmax(small)) if small.any() else None
        if k_bad is not None and (k_small is None or k_bad <= k_small):
            k, status = k_bad, "diverged"
        elif k_small is not None:
            k, status = k_small, "converged"
        else:
            k, status = last, "max_steps"
        out.append(Trajectory(
            points=points[: k + 1, i].copy(), values=np.array(v[: k + 1], dtype=float),
            gradients=grads[: k + 1, i].copy(), status=status,
            rates=rates[:k, i, 0].copy(),
            state={name: history[name][: k + 1, i].copy() for name in runs[i].optimizer.state_names},
        ))
    return out


def _all_stopped(points, grads, t, tol) -> bool:
    """Whether every row has already converged or left the finite numbers by step t."""
    x = points[t]
    gone = ~np.all(np.isfinite(x), axis=1) | np.any(np.abs(x) > 1e150, axis=1)
    norms = np.sqrt(np.sum(grads[:t] ** 2, axis=2))
    done = np.any(norms <= tol, axis=0)
    return bool(np.all(gone | done))


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
             **run_options) -> tuple[np.ndarray, list[Trajectory]]:
    """The final value of ``optimizer`` from ``start`` at each learning rate of ``rates``
    (one vectorised race); diverged runs give +inf. Returns (final values, trajectories)."""
    rates = np.asarray(rates, dtype=float)
    runs = []
    for lr in rates:
        hyper = {**optimizer.hyperparameters}
        if "lr" not in hyper:
            raise ValueError(f"{optimizer.name} has no learning rate to sweep")
        hyper["lr"] = float(lr)
        runs.append(Run(tuple(start), type(optimizer)(**hyper), **run_options))
    trajectories = optimize_many(f, runs, steps=steps, tol=tol)
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
