"""The derivative made visible: tangents, difference quotients, Taylor polynomials, critical points."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .expression import Function
from .limits import TimeLimitExceeded, time_limit

__all__ = [
    "tangent",
    "difference_quotient",
    "Taylor",
    "taylor",
    "taylor_coefficients",
    "TaylorPlan",
    "plan_taylor",
    "tolerance_interval",
    "CriticalPoint",
    "critical_points",
    "inflection_points",
]

SCHEMES = ("forward", "backward", "central")


def _one_variable(f: Function, what: str) -> str:
    if len(f.variables) != 1:
        raise ValueError(f"{what} needs a function of one variable, not {f.variables}")
    return f.variables[0]


def tangent(f: Function, x0: float) -> tuple[float, float]:
    """Slope and intercept of the tangent to a one-variable ``f`` at ``x0``.

    Returns ``(slope, intercept)`` so that the line is ``y = slope * x + intercept``; both are
    NaN where ``f`` or ``f'`` is undefined at ``x0``.
    """
    _one_variable(f, "tangent")
    x0 = float(x0)
    y0 = float(f(x0))
    slope = float(f.derivative(order=1)(x0))
    if not (np.isfinite(y0) and np.isfinite(slope)):
        return float("nan"), float("nan")
    return slope, y0 - slope * x0


def difference_quotient(f: Function, x0: float, h, scheme: str = "central"):
    """The difference quotient of ``f`` at ``x0`` with step ``h`` (a number or an array).

    ``forward``: (f(x0+h) - f(x0)) / h; ``backward``: (f(x0) - f(x0-h)) / h;
    ``central``: (f(x0+h) - f(x0-h)) / (2h). Computed in float64 exactly as written, so that
    round-off shows for tiny h: that is the point of the plot.
    """
    _one_variable(f, "difference_quotient")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
    h = np.asarray(h, dtype=float)
    x0 = np.float64(x0)
    with np.errstate(all="ignore"):
        if scheme == "forward":
            q = (f(x0 + h) - f(np.full_like(h, x0))) / h
        elif scheme == "backward":
            q = (f(np.full_like(h, x0)) - f(x0 - h)) / h
        else:
            q = (f(x0 + h) - f(x0 - h)) / (2 * h)
    return float(q) if np.ndim(q) == 0 else q


# --------------------------------------------------------------------------------------------
# Taylor coefficients


@dataclass(frozen=True)
class Taylor:
    """Taylor coefficients c_k with f(x0 + t) ~ sum c_k t^k, and how they were computed.

    ``method`` is ``"symbolic"`` (SymPy derivatives evaluated at x0) or ``"cauchy"`` (Cauchy's
    integral formula on a circle of ``radius`` in the complex plane, by FFT).
    """

    x0: float
    coefficients: np.ndarray
    method: str
    radius: float | None = None

    def __call__(self, x):
        """The Taylor polynomial at x (Horner's rule)."""
        t = np.asarray(x, dtype=float) - self.x0
        out = np.zeros_like(t)
        for c in self.coefficients[::-1]:
            out = out * t + c
        return out


SYMBOLIC_TIME_LIMIT = 1.0  # seconds for the derivatives SymPy has not computed yet
MAX_TAYLOR_ORDER = 30
_CAUCHY_POINTS = 128
_CAUCHY_RADII = (2.0, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125)


@dataclass(frozen=True)
class TaylorPlan:
    """How one function's Taylor coefficients are computed, decided once per function.

    ``symbolic_order``: SymPy produced (and NumPy compiled) the derivatives up to this order
    within the time limit; higher orders use Cauchy's formula when ``analytic``, and are not
    available otherwise.
    """

    symbolic_order: int
    analytic: bool

    def method(self, order: int) -> str | None:
        if order <= self.symbolic_order:
            return "symbolic"
        return "cauchy" if self.analytic else None


def plan_taylor(f: Function, max_order: int = MAX_TAYLOR_ORDER,
                seconds: float = SYMBOLIC_TIME_LIMIT) -> TaylorPlan:
    """Differentiate ``f`` symbolically up to ``max_order`` within ``seconds`` and compile each
    derivative: the slow part of a Taylor polynomial, done once (the app runs it off the GUI
    thread). Afterwards :func:`taylor` with this plan does numeric work only."""
    _one_variable(f, "plan_taylor")
    probe = np.array([0.25, 0.5])
    done = 0
    try:
        with time_limit(seconds):
            f(probe)
            for k in range(1, int(max_order) + 1):
                f.derivative(order=k)(probe)  # symbolic derivative, then its compiled form
                done = k
    except TimeLimitExceeded:
        pass
    analytic = f.is_analytic
    if analytic:
        f.evaluate_complex(probe + 0.5j)  # compile the complex form Cauchy's formula uses
    return TaylorPlan(done, analytic)


def taylor(f: Function, x0: float, order: int, method: str = "auto",
           plan: TaylorPlan | None = None) -> Taylor:
    """Taylor coefficients of ``f`` at ``x0`` up to ``order``.

    ``method="auto"`` differentiates symbolically (derivatives are cached per function, so only
    new orders cost) within :data:`SYMBOLIC_TIME_LIMIT`, and falls back to Cauchy's formula
    when SymPy is too slow and ``f`` is analytic; with a ``plan`` (see :func:`plan_taylor`) the
    choice is the plan's, and no symbolic work runs. ``"symbolic"`` and ``"cauchy"`` force one.
    """
    _one_variable(f, "taylor")
    order = int(order)
    if order < 0:
        raise ValueError("order must be >= 0")
    if method not in ("auto", "symbolic", "cauchy"):
        raise ValueError(f"method must be auto, symbolic or cauchy, not {method!r}")
    x0 = float(x0)
    if method == "auto" and plan is not None:
        method = plan.method(order)
        if method is None:
            raise ValueError(
                f"SymPy reached order {plan.symbolic_order} in time, and a function with kinks "
                "(abs, min, max, relu) has no numeric series")
    if method in ("auto", "symbolic"):
        if f.derivative_ready(order):
            return _taylor_symbolic(f, x0, order)
        try:
            with time_limit(SYMBOLIC_TIME_LIMIT if method == "auto" else 3600.0):
                for k in range(order + 1):
                    f.derivative(order=k)
            return _taylor_symbolic(f, x0, order)
        except TimeLimitExceeded:
            if not f.is_analytic:
                raise ValueError(
                    "SymPy could not differentiate this in time, and a function with kinks "
                    "(abs, min, max, relu) has no numeric series") from None
    return _taylor_cauchy(f, x0, order)


def _taylor_symbolic(f: Function, x0: float, order: int) -> Taylor:
    values = np.array([float(f.derivative(order=k)(x0)) for k in range(order + 1)])
    return Taylor(x0, values / _factorials(order + 1), "symbolic")


_FACTORIALS = np.array([math.factorial(k) for k in range(171)], dtype=float)  # 171! > 1e308


def _factorials(n: int) -> np.ndarray:
    if n <= _FACTORIALS.size:
        return _FACTORIALS[:n]
    return np.concatenate([_FACTORIALS, np.full(n - _FACTORIALS.size, np.inf)])


def taylor_coefficients(f: Function, x0: float, order: int, method: str = "auto") -> np.ndarray:
    """c_k with f(x0 + t) ~ sum c_k t^k, k = 0..order (see :func:`taylor`)."""
    return taylor(f, x0, order, method).coefficients


def _taylor_cauchy(f: Function, x0: float, order: int) -> Taylor:
    """c_k = (1 / 2 pi i) * contour integral of f(z) / (z - x0)^(k+1): the trapezoid rule on a
    circle is spectrally accurate, and is an FFT of f at N points on the circle.

    The radius trades round-off (c_k r^k must not be tiny against max |f|) against aliasing
    and singularities (the circle must stay inside the disc of convergence): take the largest
    radius whose aliased tail is negligible.
    """
    if not f.is_analytic:
        raise ValueError("Cauchy's formula needs an analytic function (no abs, min, max, relu)")
    if not np.isfinite(f(x0)):
        raise ValueError("f is undefined at the centre")
    n = max(_CAUCHY_POINTS, 4 * (order + 1))
    theta = 2 * np.pi * np.arange(n) / n
    best = None
    for r in _CAUCHY_RADII:
        values = f.evaluate_complex(x0 + r * np.exp(1j * theta))
        if not np.all(np.isfinite(values)):
            continue
        scaled = np.fft.fft(values) / n  # c_k r^k for k < n/2; index n - k holds c_-k r^-k
        size = np.max(np.abs(scaled))
        # A Taylor series has no negative powers: weight there (and at the aliased middle)
        # means a singularity inside the circle or too few points.
        tail = np.max(np.abs(scaled[n // 2 - n // 8:])) / max(size, 1e-300)
        if best is None or tail < best[0]:
            best = (tail, r, scaled)
        if tail < 1e-14:
            break
    if best is None:
        raise ValueError("f is undefined near x0 in the complex plane")
    _, r, scaled = best
    k = np.arange(order + 1)
    coefficients = (scaled[: order + 1] / r**k).real
    return Taylor(x0, coefficients, "cauchy", r)


def tolerance_interval(f: Function, series: Taylor, tolerance: float, bounds,
                       samples: int = 2001) -> tuple[float, float] | None:
    """The interval around the centre, within ``bounds``, where |f - T_n| <= ``tolerance``.

    Found on ``samples`` points and refined by interpolating log |f - T_n| between the last
    point inside and the first outside. An end equal to a bound means the interval may go on
    past it. None when the centre lies outside ``bounds`` or the error there exceeds the
    tolerance (f undefined at the centre).
    """
    lo, hi = _interval(bounds)
    xs = np.linspace(lo, hi, int(samples))
    with np.errstate(all="ignore"):
        err = np.abs(f(xs) - series(xs))
    return interval_within(xs, err, series.x0, tolerance)


def interval_within(xs: np.ndarray, err: np.ndarray, center: float,
                    tolerance: float) -> tuple[float, float] | None:
    """The run of samples around ``center`` where ``err <= tolerance`` (NaN counts as above),
    with ends interpolated on log(err): the core of :func:`tolerance_interval`."""
    if not xs.size or not xs[0] <= center <= xs[-1] or not tolerance > 0:
        return None
    ok = err <= tolerance
    i = int(np.clip(np.searchsorted(xs, center), 0, xs.size - 1))
    if not ok[i]:
        if i > 0 and ok[i - 1]:
            i -= 1
        else:
            return None
    bad = np.flatnonzero(~ok)
    right_bad = bad[bad > i]
    left_bad = bad[bad < i]
    log_tol = math.log(tolerance)

    def edge(inside: int, outside: int) -> float:
        with np.errstate(all="ignore"):
            a, b = np.log(max(err[inside], 1e-300)), np.log(err[outside])
        t = 0.0 if not np.isfinite(b) or b <= a else float(np.clip((log_tol - a) / (b - a), 0, 1))
        return float(xs[inside] + t * (xs[outside] - xs[inside]))

    right = edge(right_bad[0] - 1, right_bad[0]) if right_bad.size else float(xs[-1])
    left = edge(left_bad[-1] + 1, left_bad[-1]) if left_bad.size else float(xs[0])
    return left, right


# --------------------------------------------------------------------------------------------
# Critical points


@dataclass(frozen=True)
class CriticalPoint:
    """A point where the gradient vanishes; ``kind`` is minimum, maximum, saddle, inflection
    or degenerate."""

    point: np.ndarray
    value: float
    kind: str


MAX_DECIDING_ORDER = 8  # highest derivative asked to decide a 1D critical point


def critical_points(f: Function, bounds, samples: int = 4001) -> list[CriticalPoint]:
    """Critical points of ``f`` inside ``bounds`` (``(a, b)`` or ``((a, b),)`` for f(x)).

    One variable: exact roots of f' from SymPy where it finds them in time, else a numeric
    search (sign changes of f' refined by Brent's method, and touching zeros found as minima
    of |f'|). Kind by the first non-vanishing derivative of order n >= 2: even n gives a
    minimum or maximum by its sign, odd n an inflection, none up to order 8 degenerate.
    """
    var = _one_variable(f, "critical_points")
    a, b = _interval(bounds)
    roots = _roots(f.derivative(var, 1), a, b, samples)
    out = []
    for x in sorted(roots):
        value = float(f(x))
        if np.isfinite(value):
            out.append(CriticalPoint(np.array([x]), value, _kind_1d(f, x)))
    return out


def inflection_points(f: Function, bounds, samples: int = 4001) -> list[CriticalPoint]:
    """Points inside ``bounds`` where f'' changes sign (the curve turns from concave up to
    down or back), stationary or not: the zeros of f'' whose first non-vanishing higher
    derivative has odd order. x**3 has one at 0; x**4, whose f'' only touches zero, none."""
    var = _one_variable(f, "inflection_points")
    a, b = _interval(bounds)
    roots = _roots(f.derivative(var, 2), a, b, samples)
    out = []
    for x in sorted(roots):
        value = float(f(x))
        if np.isfinite(value) and _changes_concavity(f, x):
            out.append(CriticalPoint(np.array([x]), value, "inflection"))
    return out


def _changes_concavity(f: Function, x: float) -> bool:
    scale = max(1.0, abs(float(f(x))))
    for n in range(3, MAX_DECIDING_ORDER + 1):
        value = float(f.derivative(order=n)(x))
        if not np.isfinite(value):
            return False
        if abs(value) > 1e-7 * scale * math.factorial(n):
            return n % 2 == 1
    return False


def _interval(bounds) -> tuple[float, float]:
    """``(a, b)`` or ``((a, b),)`` as two floats with a < b."""
    a, b = (float(v) for v in np.asarray(bounds, dtype=float).reshape(-1)[:2])
    if not a < b:
        raise ValueError("bounds must be (low, high) with low < high")
    return a, b


def _roots(d: Function, a: float, b: float, samples: int) -> list[float]:
    """Zeros of ``d`` in [a, b]: exact from SymPy when it finds them in time, else numeric."""
    roots = _exact_roots(d, a, b)
    return _numeric_roots(d, a, b, samples) if roots is None else roots


def _exact_roots(d1: Function, a: float, b: float) -> list[float] | None:
    import sympy as sp

    x = d1.symbols[0]
    expr = d1.expr.subs({sp.Symbol(n, real=True): v for n, v in d1.parameters.items()})
    try:
        with time_limit(1.0):
            solutions = sp.solveset(expr, x, domain=sp.Interval(a, b))
            if not isinstance(solutions, sp.FiniteSet):
                return None
            roots = [float(s.evalf()) for s in solutions if s.is_real]
    except (TimeLimitExceeded, NotImplementedError, TypeError, ValueError):
        return None
    return [r for r in roots if a <= r <= b]


def _numeric_roots(d1: Function, a: float, b: float, samples: int) -> list[float]:
    from scipy.optimize import brentq, minimize_scalar

    xs = np.linspace(a, b, samples)
    ys = d1(xs)
    roots = []
    finite = np.isfinite(ys)
    for i in np.flatnonzero(finite[:-1] & finite[1:] & (np.sign(ys[:-1]) * np.sign(ys[1:]) < 0)):
        # a sign change of f' across a pole of f is not a critical point: f must be finite
        root = brentq(d1, xs[i], xs[i + 1], xtol=1e-14, rtol=1e-14)
        roots.append(root)
    exact = np.flatnonzero(finite & (ys == 0))
    roots.extend(xs[exact])
    # touching zeros (x^3 at 0: f' >= 0 on both sides): local minima of |f'| that reach ~0
    mag = np.abs(ys)
    scale = max(np.nanmax(mag[finite]), 1.0) if finite.any() else 1.0
    inner = finite[:-2] & finite[1:-1] & finite[2:]
    dips = np.flatnonzero(inner & (mag[1:-1] <= mag[:-2]) & (mag[1:-1] < mag[2:])
                          & (mag[1:-1] < 1e-3 * scale)) + 1
    for i in dips:
        res = minimize_scalar(lambda t: abs(float(d1(t))), bounds=(xs[i - 1], xs[i + 1]),
                              method="bounded", options={"xatol": 1e-12})
        if res.fun <= 1e-9 * scale:
            roots.append(float(res.x))
    return _dedupe(roots, tol=1e-7 * max(1.0, b - a))


def _dedupe(values, tol: float) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or abs(v - out[-1]) > tol:
            out.append(float(v))
    return out


def _kind_1d(f: Function, x: float) -> str:
    scale = max(1.0, abs(float(f(x))))
    for n in range(2, MAX_DECIDING_ORDER + 1):
        value = float(f.derivative(order=n)(x))
        if not np.isfinite(value):
            return "degenerate"
        if abs(value) > 1e-7 * scale * math.factorial(n):
            if n % 2:
                return "inflection"
            return "minimum" if value > 0 else "maximum"
    return "degenerate"
