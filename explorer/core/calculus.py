"""The derivative made visible: tangents, difference quotients, Taylor polynomials, critical points."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
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
EXACT_TIME_LIMIT = 1.0  # seconds of SymPy for the exact critical points of f(x, y)
GRID_SAMPLES_2D = 60  # seeds of the numeric search for f(x, y): a 60 x 60 grid


def critical_points(f: Function, bounds=((-3, 3), (-3, 3)),
                    samples: int | None = None) -> list[CriticalPoint]:
    """Critical points of ``f`` inside ``bounds``, sorted by position.

    One variable (``bounds`` = ``(a, b)`` or ``((a, b),)``; ``samples`` default 4001):
    exact roots of f' from SymPy where it finds them in time, else a numeric search (sign
    changes of f' refined by Brent's method, and touching zeros found as minima of |f'|).
    Kind by the first non-vanishing derivative of order n >= 2: even n gives a minimum or
    maximum by its sign, odd n an inflection, none up to order 8 degenerate.

    Two variables (``bounds`` = ``((x0, x1), (y0, y1))``, or one ``(a, b)`` for both):
    where the gradient's components are polynomials (after dropping factors such as exp(...)
    that never vanish), the exact real solutions of grad f = 0 from SymPy (Groebner bases
    and real-root isolation) within ``EXACT_TIME_LIMIT``; otherwise, or when the critical
    points form curves, a numeric search: seeds on a ``samples`` x ``samples`` grid (default
    60) where both partial derivatives change sign and where |grad f|^2 has a local minimum,
    refined by Newton's method on the gradient (vectorised over the seeds) and, where that
    fails, by ``scipy.optimize.root`` (hybr, Hessian as Jacobian); deduplicated. Kind by the
    Hessian's eigenvalues (see :func:`explorer.core.multivariate.classify_hessian`): all > 0
    minimum, all < 0 maximum, both signs saddle, else degenerate. On a curve of critical
    points (x^2 or (x - y)^2 as functions of x and y) the search returns the points its
    seeds reach, about one per grid cell along the curve, all degenerate.
    """
    if len(f.variables) == 2:
        return _critical_points_2d(f, _box(bounds), GRID_SAMPLES_2D if samples is None
                                   else int(samples))
    var = _one_variable(f, "critical_points")
    a, b = _interval(bounds)
    roots = _roots(f.derivative(var, 1), a, b, 4001 if samples is None else int(samples))
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


MARKED_POINTS_LISTED = 200  # a wildly oscillating f (sin(1/x)) lists the first ones only


def marked_points(f: Function, bounds) -> list[CriticalPoint]:
    """What the views mark on f over ``bounds``: for f(x) its critical points (kind by the
    rule above) and the inflection points that are not stationary, sorted by x, the first
    ``MARKED_POINTS_LISTED``; for f(x, y) its critical points. SymPy's caches are trimmed
    after the search (a session of slider moves would fill them for good). Runs in the
    analysis process (:mod:`.offload`)."""
    from .expression import trim_sympy_cache

    points = critical_points(f, bounds)
    if len(f.variables) == 1:
        tol = 1e-7 * max(1.0, bounds[1] - bounds[0])
        stationary = [float(p.point[0]) for p in points]
        for p in inflection_points(f, bounds):
            if all(abs(float(p.point[0]) - x) > tol for x in stationary):
                points.append(p)
        points = sorted(points, key=lambda p: float(p.point[0]))[:MARKED_POINTS_LISTED]
    trim_sympy_cache()
    return points


def _first_nonvanishing(f: Function, x: float, start: int) -> tuple[int, float] | None:
    """The first derivative of order >= ``start`` that does not vanish at x (relative to
    f(x) and n!), as (n, value); None when one is undefined or all vanish up to the bound."""
    scale = max(1.0, abs(float(f(x))))
    for n in range(start, MAX_DECIDING_ORDER + 1):
        value = float(f.derivative(order=n)(x))
        if not np.isfinite(value):
            return None
        if abs(value) > 1e-7 * scale * math.factorial(n):
            return n, value
    return None


def _changes_concavity(f: Function, x: float) -> bool:
    found = _first_nonvanishing(f, x, 3)
    return found is not None and found[0] % 2 == 1


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
    """DESIGN's rule: the first non-vanishing derivative of order n >= 2 decides."""
    found = _first_nonvanishing(f, x, 2)
    if found is None:
        return "degenerate"
    n, value = found
    if n % 2:
        return "inflection"
    return "minimum" if value > 0 else "maximum"


# --------------------------------------------------------------------------------------------
# Critical points of f(x, y)


def _box(bounds) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((x0, x1), (y0, y1))``, or ``(a, b)`` for both axes, as floats with low < high."""
    values = np.asarray(bounds, dtype=float).reshape(-1)
    if values.size == 2:
        values = np.concatenate([values, values])
    if values.size != 4:
        raise ValueError("bounds for f(x, y) must be ((x0, x1), (y0, y1))")
    (x0, x1), (y0, y1) = values.reshape(2, 2).tolist()
    if not (x0 < x1 and y0 < y1 and np.all(np.isfinite(values))):
        raise ValueError("bounds must be (low, high) pairs with finite low < high")
    return (x0, x1), (y0, y1)


def _critical_points_2d(f: Function, box, samples: int, exact: bool = True
                        ) -> list[CriticalPoint]:
    from .multivariate import classify_hessian

    points = _exact_critical_2d(f, box) if exact else None
    if points is None:
        points = _numeric_critical_2d(f, box, samples)
    (x0, x1), (y0, y1) = box
    out = []
    # sorted by (x, y), with x rounded: points on one vertical line, found with round-off
    # apart, stay together in order of y
    for p in sorted(points, key=lambda q: (round(q[0], 9), q[1])):
        if not (x0 <= p[0] <= x1 and y0 <= p[1] <= y1):
            continue
        value = float(f(*p))
        if not np.isfinite(value):
            continue
        # The floor matches the one-variable test (a second derivative below 1e-7 * 2! of
        # max(1, |f|) counts as zero): the Hessian at a numerically found point is off by
        # round-off times the third derivatives.
        kind = classify_hessian(f.hessian(p), atol=2e-7 * max(1.0, abs(value)))
        out.append(CriticalPoint(np.array(p, dtype=float), value, kind))
    return out


def _vanishing_part(g, x, y):
    """A polynomial with the same real zeros as ``g`` where ``g`` is defined, or None.

    The numerator of ``g`` without factors that never vanish (exp(...), numbers):
    x exp(-x^2 - y^2) has the partial derivative (1 - 2x^2) exp(-x^2 - y^2).
    """
    import sympy as sp

    numerator, _ = sp.fraction(sp.factor_terms(sp.together(g)))
    if numerator == 0:
        return sp.S.Zero
    kept = []
    for factor in sp.Mul.make_args(sp.factor_terms(numerator)):
        base, _ = factor.as_base_exp()
        if factor.is_number or isinstance(base, sp.exp) or base == sp.E:
            continue
        kept.append(factor)
    part = sp.Mul(*kept)
    if not part.is_polynomial(x, y):
        return None
    return sp.expand(part)


_EXACT_CACHE: OrderedDict = OrderedDict()  # (expr, variables, parameters) -> solutions
_EXACT_CACHE_LOCK = threading.Lock()
_EXACT_CACHE_SIZE = 64


def _exact_critical_2d(f: Function, box) -> list[tuple[float, float]] | None:
    """The exact critical points of f(x, y) inside ``box`` (with 1e-9 of slack for points on
    its edge), or None when SymPy cannot give them all; see :func:`_exact_solutions_2d`.

    The solutions do not depend on the box and are cached per expression and parameter
    values: panning the view costs no SymPy work.
    """
    key = (f.expr, f.variables, tuple(sorted(f.parameters.items())))
    with _EXACT_CACHE_LOCK:
        hit = key in _EXACT_CACHE
        solutions = _EXACT_CACHE.get(key)
        if hit:
            _EXACT_CACHE.move_to_end(key)
    if not hit:
        solutions = _exact_solutions_2d(f)
        with _EXACT_CACHE_LOCK:
            _EXACT_CACHE[key] = solutions
            while len(_EXACT_CACHE) > _EXACT_CACHE_SIZE:
                _EXACT_CACHE.popitem(last=False)
    if solutions is None:
        return None
    (xa, xb), (ya, yb) = box
    slack_x, slack_y = 1e-9 * (xb - xa), 1e-9 * (yb - ya)
    return [(min(max(px, xa), xb) + 0.0, min(max(py, ya), yb) + 0.0) for px, py in solutions
            if xa - slack_x <= px <= xb + slack_x and ya - slack_y <= py <= yb + slack_y]


def _exact_solutions_2d(f: Function) -> list[tuple[float, float]] | None:
    """All real solutions of grad f = 0 when its components are polynomial (up to factors
    that never vanish) and have finitely many common zeros; None when SymPy cannot tell in
    ``EXACT_TIME_LIMIT`` seconds, or the critical points form curves.

    ``solve`` itself is slow here (for Himmelblau it looks for radicals of a degree-9
    polynomial and runs for more than 3 s). Instead: lex Groebner bases in both variable
    orders give a univariate polynomial in y and one in x; their real roots, isolated
    exactly and rounded to float, are the candidate coordinates, and a pair is a solution
    when every polynomial of the system vanishes there to round-off.
    """
    import sympy as sp

    x, y = f.symbols
    values = {sp.Symbol(n, real=True): v for n, v in f.parameters.items()}
    try:
        with time_limit(EXACT_TIME_LIMIT):
            expr = sp.nsimplify(f.expr.subs(values), rational=True)
            system = []
            for s in (x, y):
                part = _vanishing_part(sp.diff(expr, s), x, y)
                if part is None:
                    return None
                if part != 0:
                    system.append(part)
            if not system:
                return None  # constant: every point is critical
            polys = [sp.Poly(p, x, y) for p in system]
            coordinates = []
            for var, order in ((y, (x, y)), (x, (y, x))):
                basis = sp.groebner(system, *order, order="lex")
                if any(p.is_number and p != 0 for p in basis.exprs):
                    return []  # 1 in the ideal: no common zero at all
                if not basis.is_zero_dimensional:
                    return None  # curves of critical points
                # in a zero-dimensional ideal, the lex basis ends with a polynomial in `var`
                last = basis.exprs[-1]
                if not last.free_symbols <= {var}:
                    return None
                roots = {float(r.evalf(30)) for r in sp.real_roots(sp.Poly(last, var))}
                coordinates.append(sorted(roots))
    except (TimeLimitExceeded, NotImplementedError, TypeError, ValueError,
            sp.polys.polyerrors.BasePolynomialError):
        return None
    ys, xs = coordinates
    return [(px, py) for px in xs for py in ys if all(_vanishes(p, px, py) for p in polys)]


def _vanishes(poly, px: float, py: float) -> bool:
    """Whether a polynomial is zero at (px, py) up to the round-off of summing its terms."""
    terms = np.array([float(c) * px**i * py**j for (i, j), c in poly.terms()])
    return bool(abs(terms.sum()) <= 1e-9 * np.abs(terms).sum())


def _numeric_critical_2d(f: Function, box, samples: int) -> list[tuple[float, float]]:
    """Critical points of f(x, y) in ``box`` by a numeric search (see :func:`critical_points`).

    Seeds are refined first by Newton's method on the gradient, vectorised over all seeds at
    once (a few NumPy calls per iteration instead of a SciPy call per seed: Rastrigin has
    ~900 seeds); seeds where Newton fails (a singular Hessian, a jump out of the box, no
    convergence) go to ``scipy.optimize.root`` (hybr, the Hessian as Jacobian), which is
    slower but keeps to the neighbourhood of its start.
    """
    from scipy.optimize import root

    vx, vy = f.variables
    fx, fy = f.diff(vx), f.diff(vy)
    fxx, fxy, fyy = f.diff(vx, vx), f.diff(vx, vy), f.diff(vy, vy)
    (xa, xb), (ya, yb) = box
    n = max(int(samples), 3)
    xs, ys = np.linspace(xa, xb, n), np.linspace(ya, yb, n)
    X, Y = np.meshgrid(xs, ys)

    def grad(x, y):
        return (np.broadcast_to(fx(x, y), np.shape(x)), np.broadcast_to(fy(x, y), np.shape(x)))

    gx, gy = grad(X, Y)

    def straddles(g):
        corners = np.stack([g[:-1, :-1], g[1:, :-1], g[:-1, 1:], g[1:, 1:]])
        with np.errstate(invalid="ignore"):
            return (corners.min(axis=0) <= 0) & (corners.max(axis=0) >= 0)

    # Seeds: cells where both partial derivatives change sign (or touch zero) ...
    cells = straddles(gx) & straddles(gy)
    i, j = np.nonzero(cells)
    seed_x = [(xs[j] + xs[j + 1]) / 2]
    seed_y = [(ys[i] + ys[i + 1]) / 2]
    # ... and grid points where |grad|^2 has a local minimum outside those cells (a gradient
    # component that touches zero without changing sign, as 3x^2 at x = 0)
    m = gx**2 + gy**2
    m = np.where(np.isfinite(m), m, np.inf)
    padded = np.pad(m, 1, constant_values=np.inf)
    minimum = np.isfinite(m)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                minimum &= m <= padded[1 + di:1 + di + n, 1 + dj:1 + dj + n]
    near = np.zeros((n, n), dtype=bool)
    near[:-1, :-1] |= cells
    near[1:, :-1] |= cells
    near[:-1, 1:] |= cells
    near[1:, 1:] |= cells
    i, j = np.nonzero(minimum & ~near)
    seed_x.append(xs[j])
    seed_y.append(ys[i])
    seeds = np.column_stack([np.concatenate(seed_x), np.concatenate(seed_y)])

    finite = m[np.isfinite(m)]
    scale = max(1.0, float(np.sqrt(np.median(finite)))) if finite.size else 1.0
    accept = 1e-8 * scale  # |grad| at an accepted point
    span = max(xb - xa, yb - ya)

    # Newton, all seeds at once
    P = seeds.copy()
    active = np.ones(len(P), dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(60):
            idx = np.flatnonzero(active)
            if not idx.size:
                break
            x, y = P[idx, 0], P[idx, 1]
            g1, g2 = grad(x, y)
            a, b, d = (np.broadcast_to(h(x, y), x.shape) for h in (fxx, fxy, fyy))
            det = a * d - b * b
            dx = (d * g1 - b * g2) / det
            dy = (a * g2 - b * g1) / det
            ok = np.isfinite(dx) & np.isfinite(dy) & (np.hypot(dx, dy) < 2 * span)
            P[idx[ok], 0] -= dx[ok]
            P[idx[ok], 1] -= dy[ok]
            P[idx[~ok]] = np.nan
            done = ~ok | (np.hypot(dx, dy) <= 1e-15 * (span + np.hypot(x, y)))
            active[idx[done]] = False
        g1, g2 = grad(P[:, 0], P[:, 1])
        residual = np.hypot(g1, g2)
    converged = (residual <= accept) & (P[:, 0] >= xa - span) & (P[:, 0] <= xb + span) \
        & (P[:, 1] >= ya - span) & (P[:, 1] <= yb + span)
    found = list(P[converged])
    residuals = list(residual[converged])

    # hybr for the rest, from their seeds
    def gradient(p):
        return np.array([fx(p[0], p[1]), fy(p[0], p[1])], dtype=float)

    def hessian(p):
        h = float(fxy(p[0], p[1]))
        return np.array([[fxx(p[0], p[1]), h], [h, fyy(p[0], p[1])]], dtype=float)

    with np.errstate(all="ignore"):
        for seed in seeds[~converged]:
            try:
                res = root(gradient, seed, jac=hessian, method="hybr",
                           options={"xtol": 1e-13, "maxfev": 100})
            except (ValueError, np.linalg.LinAlgError):
                continue
            p = res.x
            r = float(np.hypot(*gradient(p)))
            if np.all(np.isfinite(p)) and r <= accept:
                found.append(p)
                residuals.append(r)
    # one point per critical point: the best-converged of those within tol of each other
    tol = 1e-6 * span
    kept = np.empty((0, 2))
    for k in np.argsort(residuals, kind="stable"):
        p = found[k]
        if not np.any(np.max(np.abs(kept - p), axis=1) <= tol):
            kept = np.vstack([kept, p])
    return [(float(p[0]) + 0.0, float(p[1]) + 0.0) for p in kept]  # + 0.0: no -0.0
