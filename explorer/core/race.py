"""The optimizer race as the user sets it up: runs (an optimizer, its hyper-parameters, a
schedule, clipping, gradient noise, a colour), validated plain data the Session holds and
saves. Building the runs for :mod:`.optimizers` happens here too.

Importing this module costs nothing (no NumPy): the Session holds the default race at start-up.
The runs themselves and the learning-rate sweep are computed by :func:`race_runs` and
:func:`sweep`, in the race process (:mod:`.offload`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["RunSpec", "DEFAULT_RUNS", "PALETTE", "MAX_RUNS", "MAX_STEPS", "OPTIMIZER_NAMES",
           "run_from_data", "next_color"]

# Okabe and Ito's colour-blind-safe palette (without black, which vanishes in the landscape's
# dark valleys), then two more that stay apart from it
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
           "#FFFFFF", "#999999", "#882255")
OPTIMIZER_NAMES = ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Newton", "LBFGS")
MAX_RUNS = 16
MAX_STEPS = 20_000
SCHEDULE_KINDS = ("constant", "step", "exponential", "cosine")


@dataclass(frozen=True)
class RunSpec:
    """One run of the race. ``hyper`` holds the hyper-parameters that differ from the
    optimizer's defaults (torch.optim's names); ``schedule`` is None or a dict of
    :class:`~.optimizers.Schedule`'s fields; ``clip`` a maximum gradient norm or None; ``noise``
    the standard deviation of Gaussian gradient noise, seeded by ``seed``."""

    optimizer: str = "SGD"
    hyper: dict = field(default_factory=dict)
    enabled: bool = True
    color: int = 0
    clip: float | None = None
    schedule: dict | None = None
    noise: float = 0.0
    seed: int = 0

    def __hash__(self) -> int:
        return hash((self.optimizer, tuple(sorted((k, str(v)) for k, v in self.hyper.items())),
                     self.enabled, self.color, self.clip, str(self.schedule), self.noise, self.seed))

    @property
    def color_hex(self) -> str:
        return PALETTE[self.color % len(PALETTE)]

    @property
    def label(self) -> str:
        """A short name: 'GD', 'Momentum 0.9', 'Nesterov 0.9', 'Adam', ... and the lr."""
        h = self.hyper
        name = self.optimizer
        if name == "SGD":
            momentum = h.get("momentum", 0.0)
            name = ("Nesterov" if h.get("nesterov") else "Momentum") + f" {momentum:g}" \
                if momentum else "GD"
        elif name == "LBFGS":
            name = "L-BFGS"
        elif name == "Newton" and h.get("damping"):
            name = f"Newton (damping {h['damping']:g})"
        lr = h.get("lr", self.optimizer_object().hyperparameters.get("lr"))
        if lr is not None and self.optimizer not in ("LBFGS",) and not (
                self.optimizer == "Newton" and lr == 1.0):
            name += f", lr {lr:g}"
        return name

    def optimizer_object(self):
        from .optimizers import OPTIMIZERS

        hyper = {k: tuple(v) if isinstance(v, list) else v for k, v in self.hyper.items()}
        return OPTIMIZERS[self.optimizer](**hyper)

    def make_run(self, start):
        from .optimizers import Run, Schedule

        schedule = Schedule(**self.schedule) if self.schedule else None
        return Run(tuple(start), self.optimizer_object(), clip=self.clip, schedule=schedule,
                   noise=self.noise, seed=self.seed)

    def with_(self, **changes) -> RunSpec:
        """A copy with some fields changed, validated (ValueError or TypeError naming what)."""
        spec = replace(self, **changes)
        return run_from_data(spec.to_dict(), "run")

    def to_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer,
                "hyper": {k: list(v) if isinstance(v, tuple) else v for k, v in self.hyper.items()},
                "enabled": self.enabled, "color": self.color, "clip": self.clip,
                "schedule": dict(self.schedule) if self.schedule else None,
                "noise": self.noise, "seed": self.seed}


def run_from_data(data, where: str) -> RunSpec:
    """A validated :class:`RunSpec` from plain data; ValueError('<where>.<field>: ...')."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    unknown = set(data) - {"optimizer", "hyper", "enabled", "color", "clip", "schedule", "noise",
                           "seed"}
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = data.get("optimizer", "SGD")
    if name not in OPTIMIZER_NAMES:
        raise ValueError(f"{where}.optimizer: expected one of {', '.join(OPTIMIZER_NAMES)}")
    hyper = data.get("hyper", {})
    if not isinstance(hyper, dict):
        raise ValueError(f"{where}.hyper: expected an object of name: value")
    hyper = {str(k): (list(v) if isinstance(v, (list, tuple)) else v) for k, v in hyper.items()}
    for key, value in hyper.items():
        ok = (isinstance(value, (bool, int, float)) or
              (isinstance(value, list) and len(value) <= 4
               and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)))
        if not ok:
            raise ValueError(f"{where}.hyper.{key}: expected a number, true/false or a pair")
    from .optimizers import OPTIMIZERS

    try:
        built = OPTIMIZERS[name](**{k: tuple(v) if isinstance(v, list) else v
                                    for k, v in hyper.items()})
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}.hyper: {exc}") from None
    # the values the optimizer checked, for the keys given
    hyper = {k: (list(v) if isinstance(v, tuple) else v) for k, v in built.hyperparameters.items()
             if k in hyper}
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError(f"{where}.enabled: expected true or false")
    color = _whole(data.get("color", 0), f"{where}.color", 0, len(PALETTE) - 1)
    clip = data.get("clip")
    if clip is not None:
        clip = _positive(clip, f"{where}.clip")
    schedule = data.get("schedule")
    if schedule is not None:
        schedule = _schedule(schedule, f"{where}.schedule")
    noise = _number(data.get("noise", 0.0), f"{where}.noise")
    if noise < 0:
        raise ValueError(f"{where}.noise: expected a number >= 0")
    seed = _whole(data.get("seed", 0), f"{where}.seed", 0, 2**32 - 1)
    return RunSpec(name, hyper, enabled, color, clip, schedule, noise, seed)


def _schedule(data, where: str) -> dict | None:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    kind = data.get("kind", "constant")
    if kind not in SCHEDULE_KINDS:
        raise ValueError(f"{where}.kind: expected one of {', '.join(SCHEDULE_KINDS)}")
    if kind == "constant":
        return None
    out = {"kind": kind,
           "step_size": _whole(data.get("step_size", 100), f"{where}.step_size", 1, MAX_STEPS),
           "gamma": _number(data.get("gamma", 0.5), f"{where}.gamma"),
           "t_max": _whole(data.get("t_max", 1000), f"{where}.t_max", 1, MAX_STEPS),
           "eta_min": _number(data.get("eta_min", 0.0), f"{where}.eta_min")}
    if not 0 < out["gamma"] <= 1:
        raise ValueError(f"{where}.gamma: expected a number in (0, 1]")
    if out["eta_min"] < 0:
        raise ValueError(f"{where}.eta_min: expected a number >= 0")
    return out


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected a number, got {value!r}"[:200])
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"{where}: number too large") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number")
    return value


def _positive(value, where: str) -> float:
    value = _number(value, where)
    if not value > 0:
        raise ValueError(f"{where}: expected a positive number")
    return value


def _whole(value, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"{where}: expected a whole number")
    if value != int(value) or not low <= value <= high:
        raise ValueError(f"{where}: expected a whole number from {low} to {high}")
    return int(value)


def next_color(runs) -> int:
    """The first palette colour no run uses (or the least used)."""
    used = [r.color for r in runs]
    return min(range(len(PALETTE)), key=lambda c: (used.count(c), c))


# Step sizes that show each method's character on the classic landscapes (Rosenbrock from
# (-1.5, 2), the quadratic bowls): plain GD crawls, momentum overshoots and recovers, Adam
# moves by ~lr per coordinate, Newton and L-BFGS take curvature into account.
DEFAULT_RUNS = (
    RunSpec("SGD", {"lr": 1e-3}, color=0),
    RunSpec("SGD", {"lr": 1e-3, "momentum": 0.9}, color=1),
    RunSpec("SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}, color=2),
    RunSpec("RMSprop", {"lr": 1e-2}, color=3),
    RunSpec("Adam", {"lr": 5e-2}, color=4),
    RunSpec("Newton", {"damping": 1.0}, color=5),
    RunSpec("LBFGS", {}, color=6),
)


# -- what the race process computes (explorer.ui.race_model asks) ------------------------------
SWEEP_POINTS = 40
SWEEP_MAX_STEPS = 2000


class Sweep:
    """Final values of one run's optimizer over ``rates``: ``finals`` (inf where diverged),
    ``statuses``, the stability ``limit`` (None when not positive) and what it is
    (``limit_text``), and whether f is a quadratic (the limit is then exact)."""

    def __init__(self, run_index, label, rates, finals, statuses, limit, limit_text, quadratic,
                 start=None, spec=None):
        self.run_index, self.label, self.start, self.spec = run_index, label, start, spec
        self.rates, self.finals, self.statuses = rates, finals, statuses
        self.limit, self.limit_text, self.quadratic = limit, limit_text, quadratic

    def first_divergence(self) -> float | None:
        """The smallest swept learning rate whose run diverged."""
        bad = [r for r, s in zip(self.rates, self.statuses, strict=True) if s == "diverged"]
        return float(min(bad)) if bad else None


def race_runs(f, specs, start, steps, tol, fast: bool | None = None):
    """The trajectories of the enabled ``specs`` from ``start`` (in the race process);
    ``fast`` as :func:`~.optimizers.optimize_many`'s."""
    from .optimizers import optimize_many

    runs = [spec.make_run(start) for spec in specs]
    return optimize_many(f, runs, steps=steps, tol=tol, fast=fast)


def stability_limit_for(spec, f, point) -> tuple[float | None, str]:
    """The largest stable learning rate of gradient descent (heavy ball, Nesterov) on the
    quadratic model at ``point``: 2/λ_max, 2(1+β)/λ_max, 2(1+β)/((1+2β)λ_max)."""
    from .optimizers import stability_limit

    limit = stability_limit(f, point)
    if limit is None:
        return None, "λ_max ≤ 0: no step size limit"
    h = spec.hyper
    if spec.optimizer == "SGD" and h.get("momentum", 0.0) > 0:
        beta = float(h["momentum"])
        if h.get("nesterov"):
            return limit * (1 + beta) / (1 + 2 * beta), "2(1+β)/((1+2β)λ_max)"
        return limit * (1 + beta), "2(1+β)/λ_max"
    if spec.optimizer == "SGD":
        return limit, "2/λ_max"
    return limit, "GD's 2/λ_max"


def _is_quadratic(f) -> bool:
    import sympy as sp

    try:
        poly = sp.Poly(f.expr, *f.symbols)
    except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError, TypeError):
        return False
    return poly.total_degree() <= 2


def sweep(f, spec, index, start, steps) -> Sweep:
    """The learning-rate sweep of run ``index`` (``spec``) from ``start`` (in the race
    process)."""
    import numpy as np

    from .optimizers import lr_sweep

    optimizer = spec.optimizer_object()
    lr = float(optimizer.hyperparameters["lr"])
    limit, limit_text = stability_limit_for(spec, f, start)
    low, high = lr / 100, lr * 10
    if limit is not None:
        low, high = min(low, limit / 100), max(high, limit * 4)
    rates = np.geomspace(low, high, SWEEP_POINTS)
    run = spec.make_run(start)
    finals, trajectories = lr_sweep(f, start, optimizer, rates, steps=min(steps, SWEEP_MAX_STEPS),
                                    clip=run.clip, schedule=run.schedule, noise=run.noise,
                                    seed=run.seed)
    return Sweep(index, spec.label, rates, finals, [t.status for t in trajectories], limit,
                 limit_text, _is_quadratic(f), start=tuple(start), spec=spec)
