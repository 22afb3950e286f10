"""The integral made visible: Riemann sums, exact and numeric integrals, the accumulation
function F(x), expectations under a few distributions, and Monte Carlo estimates of them.

SymPy and SciPy are imported inside the functions that need them: the app imports
``explorer.core`` modules before its window paints, and both are slow to import.

Two numeric hazards shape the code below:

* SciPy's ``quad`` (QUADPACK) can crash the interpreter outright (a bus error or segfault, not
  an exception) when the integrand returns NaN (scipy/scipy#14945; reproduced with SciPy 1.17
  on ``1/x`` over [-1, 1]). User functions are NaN wherever they are undefined, so quad only
  ever sees :class:`_Integrand`, which hands it finite numbers and records where the function
  was undefined instead.
* An antiderivative from SymPy can jump (branches of atan, log of a negative number, a pole in
  [a, b]): F(b) - F(a) is only trusted after it agrees with quadrature.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .limits import TimeLimitExceeded, time_limit

if TYPE_CHECKING:  # importing expression at run time would import SymPy
    from .expression import Function

__all__ = [
    "RULES",
    "DISTRIBUTIONS",
    "RiemannBoxes",
    "riemann_boxes",
    "riemann_sum",
    "Integral",
    "antiderivative",
    "integral",
    "Accumulation",
    "accumulation",
    "Distribution",
    "distribution",
    "expectation",
    "MonteCarlo",
    "monte_carlo",
    "MonteCarloRun",
    "monte_carlo_run",
]

RULES = ("left", "right", "midpoint", "trapezoid", "lower", "upper")
DISTRIBUTIONS = {
    "normal": ("mu", "sigma"),
    "uniform": ("low", "high"),
    "exponential": ("rate",),
    "laplace": ("mu", "b"),
}

MAX_PIECES = 10_000_000  # Riemann pieces: beyond this the arrays alone take gigabytes
MAX_SAMPLES = 100_000_000  # Monte Carlo samples (800 MB of float64 each for x and g(x))
DERIVATIVE_TIME_LIMIT = 1.0  # seconds of SymPy for f' (Darboux sums), once per expression
_DARBOUX_SUBGRID = 4096  # sub-grid points over [a, b] where f' is checked for sign changes
_BISECTIONS = 55  # halvings of a sub-grid interval: below float spacing for any sane width
_QUAD_LIMIT = 200  # quad's subinterval limit
# quad's tolerances: tighter than its defaults (1.5e-8), so that a value by quadrature is
# as good as one from an antiderivative for the functions people type
_QUAD_EPSABS = 1e-12
_QUAD_EPSREL = 1e-11
_HUGE = 1e150  # quad never sees |values| beyond this (QUADPACK's sums must not overflow)


def _one_variable(f: Function, what: str) -> str:
    variables = getattr(f, "variables", None)
    if variables is None or len(variables) != 1:
        raise ValueError(f"{what} needs a function of one variable, not {variables}")
    return variables[0]


def _count(value, what: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what} must be a whole number, not {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, not {value}")
    if value > maximum:
        raise ValueError(f"{what} must be at most {maximum:,}, not {value:,}")
    return value


def _number(value, what: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if math.isnan(value):
        raise ValueError(f"{what} must be a number, not NaN")
    return value


def _finite(value, what: str) -> float:
    value = _number(value, what)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return value


def _bound(value, what: str) -> float:
    """A bound of integration: a number, possibly infinite, never NaN."""
    return _number(value, what)


# --------------------------------------------------------------------------------------------
# Riemann and Darboux sums


class RiemannBoxes(NamedTuple):
    """The boxes of a Riemann sum, ready to draw.

    Piece i spans ``edges[i]`` to ``edges[i+1]``; ``left[i]`` is its height at ``edges[i]``
    and ``right[i]`` at ``edges[i+1]``. They differ only for the trapezoid rule (a slanted
    top); every other rule draws a flat box. ``total`` is the sum of (left + right) / 2 times
    the signed width, so b < a negates it.
    """

    edges: np.ndarray
    left: np.ndarray
    right: np.ndarray
    total: float


def riemann_boxes(f: Function, a: float, b: float, n: int, rule: str = "midpoint") -> RiemannBoxes:
    """The ``n`` boxes of a Riemann (or Darboux) sum of ``f`` over [a, b].

    Parameters
    ----------
    f : Function
        A function of one variable.
    a, b : float
        The bounds (finite). With b < a the pieces run from a down to b and the total is the
        negative of the sum over [b, a].
    n : int
        The number of equal pieces, >= 1.
    rule : {"left", "right", "midpoint", "trapezoid", "lower", "upper"}
        Where each piece takes its height. ``left``, ``right`` and ``midpoint`` sample f at
        that point of the piece (the left end is the smaller x, whatever the direction);
        ``trapezoid`` joins f at both ends; ``lower`` and ``upper`` (Darboux) take the true
        minimum and maximum of f on the closed piece, interior extrema included.

    Returns
    -------
    RiemannBoxes
        NaN heights (and a NaN total) where f is undefined.

    Notes
    -----
    The Darboux extremes come from f at the ends, f on a sub-grid of k = max(2, ceil(4096/n))
    points per piece (which catches kinks and corners, where f' is undefined or jumps), and f
    at the stationary points inside: sign changes of f' on the sub-grid, refined by bisection
    on all of them at once. A few milliseconds for n = 10,000: the app calls this on every
    frame of a drag.
    """
    _one_variable(f, "riemann_boxes")
    a = _finite(a, "a")
    b = _finite(b, "b")
    n = _count(n, "n", 1, MAX_PIECES)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, not {rule!r}")
    edges = np.linspace(a, b, n + 1)
    if rule in ("lower", "upper"):
        left = _darboux(f, edges, upper=rule == "upper")
        right = left.copy()
    elif rule == "midpoint":
        left = np.asarray(f(0.5 * (edges[:-1] + edges[1:])), dtype=float)
        right = left.copy()
    else:
        fe = np.asarray(f(edges), dtype=float)
        if rule == "trapezoid":
            left, right = fe[:-1].copy(), fe[1:].copy()
        else:
            # the left end of a piece is the smaller x: reversing [a, b] then negates the sum
            use_start = (rule == "left") == (b >= a)
            left = (fe[:-1] if use_start else fe[1:]).copy()
            right = left.copy()
    with np.errstate(all="ignore"):
        total = float(np.sum((0.5 * left + 0.5 * right) * np.diff(edges)))
    return RiemannBoxes(edges, left, right, total)


def riemann_sum(f: Function, a: float, b: float, n: int, rule: str = "midpoint") -> float:
    """The Riemann (or Darboux) sum of ``f`` over [a, b] with ``n`` pieces.

    See :func:`riemann_boxes` for the rules; this is its ``total``.
    """
    return riemann_boxes(f, a, b, n, rule).total


def _derivative(f: Function) -> Function | None:
    """f', or None when SymPy cannot produce it in time (the sub-grid alone then decides)."""
    if f.derivative_ready(1):
        return f.derivative(order=1)
    try:
        with time_limit(DERIVATIVE_TIME_LIMIT):
            return f.derivative(order=1)
    except TimeLimitExceeded:
        return None


def _darboux(f: Function, edges: np.ndarray, upper: bool) -> np.ndarray:
    if edges[0] > edges[-1]:
        # work left to right, where f' going from - to + means a minimum
        return _darboux(f, edges[::-1], upper)[::-1].copy()
    n = edges.size - 1
    m = max(1, math.ceil(_DARBOUX_SUBGRID / n) - 1)  # sub-intervals per piece (k - 1)
    t = np.linspace(edges[0], edges[-1], n * m + 1)
    t[::m] = edges  # the pieces' ends exactly where the other rules put them
    ft = np.asarray(f(t), dtype=float)
    # Heights over the sub-grid of each piece, both ends included; NaN anywhere in a piece
    # makes its height NaN (np.min/np.max propagate it), so an undefined f is reported.
    extreme = np.maximum if upper else np.minimum
    reduce = np.max if upper else np.min
    heights = extreme(reduce(ft[:-1].reshape(n, m), axis=1), ft[m::m])

    d1 = _derivative(f)
    if d1 is None:
        return heights
    sign = np.sign(np.asarray(d1(t), dtype=float))
    # f' from - to + is a local minimum, + to - a maximum; NaN compares False (kinks and
    # corners are left to the sub-grid)
    j = np.flatnonzero(sign[:-1] * sign[1:] < 0)
    j = j[(sign[j] > 0) if upper else (sign[j] < 0)]
    if j.size:
        lo, hi = _bracket_sign_change(d1, t[j], t[j + 1], sign[j])
        values = np.asarray(f(0.5 * (lo + hi)), dtype=float)
        extreme.at(heights, j // m, values)
    return heights


_SECTIONS = 64  # each pass splits every bracket in 64: 6 halvings per call of f'


def _bracket_sign_change(d1: Function, lo: np.ndarray, hi: np.ndarray,
                         s_lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shrink brackets [lo, hi] across which ``d1`` changes sign from ``s_lo``, all at once.

    Bisection in effect (about 55 halvings), but 6 halvings per call: splitting each bracket
    at 63 interior points costs little more than at its midpoint, since a call of a compiled
    function on a small array is mostly fixed overhead.
    """
    frac = np.arange(1, _SECTIONS) / _SECTIONS
    same = np.zeros((lo.size, _SECTIONS), dtype=bool)  # the last column stays False: hi
    for _ in range(math.ceil(_BISECTIONS / math.log2(_SECTIONS))):
        width = hi - lo
        inner = lo[:, None] + width[:, None] * frac
        np.equal(np.sign(np.asarray(d1(inner), dtype=float)), s_lo[:, None], out=same[:, :-1])
        # the sub-bracket where the sign first changes (NaN counts as a change)
        first = np.argmin(same, axis=1)
        lo, hi = lo + width * (first / _SECTIONS), lo + width * ((first + 1) / _SECTIONS)
    return lo, hi


# --------------------------------------------------------------------------------------------
# Definite integrals


class Integral(float):
    """The value of an integral (a float) and how it was obtained.

    Attributes
    ----------
    method : str
        ``"exact"`` (SymPy) or ``"quadrature"`` (SciPy's adaptive ``quad``).
    error : float
        Estimated absolute error: 0.0 for exact values.
    """

    method: str
    error: float

    def __new__(cls, value: float, method: str, error: float = 0.0):
        self = super().__new__(cls, value)
        self.method = method
        self.error = float(error)
        return self

    def __repr__(self) -> str:
        return f"Integral({float(self)!r}, method={self.method!r}, error={self.error:.3g})"

    def __str__(self) -> str:
        return float.__repr__(self)

    def __reduce__(self):
        return (Integral, (float(self), self.method, self.error))


# (expr, variables) -> (antiderivative Function or None, seconds it was given); a failure
# that was a timeout is retried with a longer limit, any other failure is final.
_ANTIDERIVATIVES: OrderedDict = OrderedDict()
_ANTIDERIVATIVES_LOCK = threading.Lock()
_ANTIDERIVATIVES_SIZE = 256


def antiderivative(f: Function, seconds: float = 2.0) -> Function | None:
    """An antiderivative F of ``f`` (F' = f) from SymPy, or None.

    The integration keeps the parameters as symbols, so the result serves every value of
    them: it is cached per expression, and a call for ``f.with_parameters(...)`` costs no
    symbolic work (results for parameters may be Piecewise, e.g. x**a).

    Parameters
    ----------
    f : Function
        A function of one variable.
    seconds : float
        Time limit for SymPy.

    Returns
    -------
    Function or None
        F with the same parameter values as ``f``; None when SymPy leaves an unevaluated
        integral, fails, runs out of time, or its result cannot be evaluated numerically
        (special functions NumPy lacks, such as Si).
    """
    var = _one_variable(f, "antiderivative")
    key = (f.expr, f.variables)
    with _ANTIDERIVATIVES_LOCK:
        hit = _ANTIDERIVATIVES.get(key)
        if hit is not None:
            _ANTIDERIVATIVES.move_to_end(key)
    if hit is not None:
        F, tried = hit
        if F is not None:
            return F if F.parameters == f.parameters else F.with_parameters(**f.parameters)
        if tried >= seconds:
            return None
    F, tried = _integrate(f, var, seconds)
    with _ANTIDERIVATIVES_LOCK:
        _ANTIDERIVATIVES[key] = (F, tried)
        while len(_ANTIDERIVATIVES) > _ANTIDERIVATIVES_SIZE:
            _ANTIDERIVATIVES.popitem(last=False)
    return F


def _integrate(f: Function, var: str, seconds: float) -> tuple[Function | None, float]:
    import sympy as sp

    from .expression import Function, sigmoid, softplus

    x = f.symbols[0]
    expr = f.expr
    if expr.has(sigmoid, softplus):
        # SymPy knows nothing about these by name; in terms of exp it integrates them
        expr = expr.replace(lambda e: isinstance(e, (sigmoid, softplus)),
                            lambda e: e.rewrite(sp.exp))
    try:
        with time_limit(seconds):
            result = sp.integrate(expr, x)
            if result.has(sp.Integral) or result.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                return None, math.inf
            text = sp.sstr(result)
    except TimeLimitExceeded:
        return None, seconds
    except Exception:  # noqa: BLE001 - SymPy fails in many ways on hard input; all mean "no"
        return None, math.inf
    params = f.parameters
    F = Function(text, result, {var: x}, {p: sp.Symbol(p, real=True) for p in params}, params)
    # A result NumPy cannot evaluate (Si, Ei, hypergeometric functions, ...) is NaN everywhere
    # and useless to plot or subtract: report it as no antiderivative.
    probe = np.linspace(-3.1, 3.3, 17)
    defined = np.isfinite(np.asarray(f(probe), dtype=float))
    if defined.any() and not np.isfinite(np.asarray(F(probe), dtype=float)[defined]).any():
        return None, math.inf
    return F, math.inf


class _Quad(NamedTuple):
    value: float
    error: float
    status: str  # "ok" | "undefined" (NaN on a set quad cannot avoid) | "divergent"
    where: float  # a point where the integrand was undefined (status "undefined")


class _Integrand:
    """What quad integrates: the user's function, made safe for QUADPACK.

    NaN would crash quad (see the module notes), so it gets 0.0 instead and the point is
    recorded. A NaN whose neighbours agree (sin(x)/x at 0: a removable singularity) is
    replaced by their value and not recorded; values are clipped at +-1e150.
    """

    def __init__(self, scalar: Callable[[float], float], vector: Callable):
        self.scalar = scalar
        self.vector = vector
        self.bad: list[float] = []

    def __call__(self, t: float) -> float:
        v = float(self.scalar(t))
        if not math.isfinite(v):
            v = float(_removable(self.vector, np.array([t]))[0])
            if not math.isfinite(v):
                self.bad.append(t)
                return 0.0
        return max(-_HUGE, min(_HUGE, v))


def _removable(vector: Callable, ts: np.ndarray) -> np.ndarray:
    """Values at points where the function is NaN but its neighbours at two tiny distances
    on both sides agree (a removable singularity); NaN elsewhere."""
    scale = np.maximum(1.0, np.abs(ts))
    near = np.concatenate([ts - 1e-7 * scale, ts + 1e-7 * scale,
                           ts - 1e-6 * scale, ts + 1e-6 * scale])
    with np.errstate(all="ignore"):
        v = np.asarray(vector(near), dtype=float).reshape(4, -1)
        spread = v.max(axis=0) - v.min(axis=0)
        ok = np.isfinite(spread) & (spread <= 1e-4 * np.maximum(1.0, np.abs(v).max(axis=0)))
        return np.where(ok, 0.5 * (v[0] + v[1]), np.nan)


def _quad(scalar: Callable[[float], float], vector: Callable, a: float, b: float,
          cuts=()) -> _Quad:
    """Adaptive quadrature of a function that may be NaN at points, over [a, b] (a > b and
    infinite bounds allowed), split at ``cuts``.

    Where the function was undefined, the interval is split there and integrated again (quad
    never evaluates the ends of its interval), so isolated points such as 0 for |x|^-0.5 are
    avoided; a function still undefined after a few rounds is undefined on a whole set.
    """
    from scipy.integrate import quad

    if a == b:
        return _Quad(0.0, 0.0, "ok", math.nan)
    sign = 1.0
    if b < a:
        a, b, sign = b, a, -1.0
    points = sorted({float(c) for c in cuts if a < c < b})
    for _ in range(4):
        total = error = 0.0
        bad: list[float] = []
        divergent = unsure = False
        ends = [a, *points, b]
        for lo, hi in zip(ends[:-1], ends[1:], strict=True):
            if hi - lo <= 64 * np.spacing(max(abs(lo), abs(hi))):
                continue  # a sliver next to a cut: its nodes would all round onto the cut
            w = _Integrand(scalar, vector)
            out = quad(w, lo, hi, limit=_QUAD_LIMIT, epsabs=_QUAD_EPSABS, epsrel=_QUAD_EPSREL,
                       full_output=1)
            total += out[0]
            error += out[1]
            bad.extend(w.bad)
            if len(out) > 3:  # quad reports trouble (ier > 0) with a message
                divergent |= "divergent" in str(out[3])
                unsure = True
        new = sorted({t for t in bad if a < t < b} - set(points))
        if not bad:
            break
        if not new:
            # quad halved its way down to a cut and met NaN there: f blows up at that point
            return _Quad(math.nan, math.nan, "divergent", bad[0])
        if len(points) + len(new) > 12:
            return _Quad(math.nan, math.nan, "undefined", bad[0])
        points = sorted(points + new)
    else:
        return _Quad(math.nan, math.nan, "undefined", bad[0])
    if not (math.isfinite(total) and math.isfinite(error)) or abs(total) > 1e100:
        divergent = True
    elif unsure and error > 1e-3 * max(1.0, abs(total)):
        divergent = True
    return _Quad(sign * total, error, "divergent" if divergent else "ok", math.nan)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _overflows(f: Function, t: float) -> bool:
    """Whether f is NaN at t only because its value is too large for float64 (exp(x**2) at
    30), as SymPy's arbitrary-precision evaluation tells: then "undefined" is the wrong word."""
    import sympy as sp

    try:
        with time_limit(0.5):
            subs = {sp.Symbol(k, real=True): sp.Float(v) for k, v in f.parameters.items()}
            subs[f.symbols[0]] = sp.Float(t)
            value = sp.N(f.expr.xreplace(subs), 20)
            re, im = value.as_real_imag()
            return bool(im == 0 and re.is_finite and abs(re) > sp.Float(1e300))
    except TimeLimitExceeded:
        return False
    except Exception:  # noqa: BLE001 - no verdict from SymPy means no claim of overflow
        return False


def integral(f: Function, a: float, b: float, seconds: float = 2.0) -> Integral:
    """The definite integral of ``f`` from ``a`` to ``b``.

    Exact (F(b) - F(a) with SymPy's antiderivative) when SymPy finds F within ``seconds`` and
    F(b) - F(a) agrees with adaptive quadrature; otherwise the quadrature. The check catches
    antiderivatives with a jump or a branch cut inside [a, b].

    Parameters
    ----------
    f : Function
        A function of one variable.
    a, b : float
        The bounds; infinite bounds are allowed, b < a negates.
    seconds : float
        Time limit for SymPy.

    Returns
    -------
    Integral
        A float with ``method`` ("exact" or "quadrature") and ``error``.

    Raises
    ------
    ValueError
        When the integral does not exist: f undefined on part of [a, b], or unbounded so that
        the integral diverges (1/x over [0, 1]).
    """
    _one_variable(f, "integral")
    a = _bound(a, "a")
    b = _bound(b, "b")
    if a == b:
        return Integral(0.0, "exact", 0.0)
    q = _quad(f, f, a, b)
    span = f"[{_fmt(min(a, b))}, {_fmt(max(a, b))}]"
    if q.status == "undefined":
        if _overflows(f, q.where):
            raise ValueError(f"the integral of f over {span} is beyond the floating-point range "
                             f"(f overflows near x = {_fmt(q.where)})")
        raise ValueError(f"f is undefined at x = {_fmt(q.where)}, inside {span}, so its "
                         "integral there does not exist")
    if q.status == "divergent":
        why = ("f is unbounded there, or does not decay fast enough"
               if math.isinf(a) or math.isinf(b) else "f is unbounded there")
        raise ValueError(f"the integral of f over {span} does not converge ({why})")
    F = antiderivative(f, seconds)
    if F is not None:
        with np.errstate(all="ignore"):
            exact = float(F(b)) - float(F(a))
        if math.isfinite(exact) and (abs(exact - q.value)
                                     <= 1e-7 * max(1.0, abs(q.value)) + 100 * q.error):
            return Integral(exact, "exact", 0.0)
    return Integral(q.value, "quadrature", q.error)


# --------------------------------------------------------------------------------------------
# The accumulation function


class Accumulation(NamedTuple):
    """F(x) = integral of f from a to x at the points ``xs``; ``method`` is "exact" or
    "quadrature"."""

    xs: np.ndarray
    values: np.ndarray
    method: str


_ACCUMULATION_POINTS = 8192  # steps of the refined grid for the cumulative quadrature
_MAX_TROUBLE = 16  # troubled stretches examined on each side of the anchor
_SPIKE_STEPS = 256  # steps of one stretch redone by quad, at most


def accumulation(f: Function, a: float, xs, seconds: float = 2.0) -> Accumulation:
    """The accumulation function F(x) = integral of ``f`` from ``a`` to x, at ``xs``.

    Parameters
    ----------
    f : Function
        A function of one variable.
    a : float
        The lower limit, F(a) = 0; it may lie inside or outside [xs[0], xs[-1]].
    xs : array_like
        Increasing points (repeats allowed).
    seconds : float
        Time limit for SymPy.

    Returns
    -------
    Accumulation
        ``values`` from SymPy's antiderivative when it agrees with the cumulative quadrature
        to 1e-6 (relative to the largest value), else from the quadrature. Values beyond
        (seen from a) a point where f is undefined or not integrable (1/x at 0) are NaN.

    Notes
    -----
    The cumulative quadrature: quad from a to the grid point nearest to it, then Simpson's
    rule on each step of a refined grid, its error estimated by halving the step (with
    Richardson's correction). Stretches where that estimate is poor (a spike, a pole, a point
    where f is undefined) are examined by quad, nearest to a first: redone when f is
    integrable there, NaN from there on when it is not.
    """
    _one_variable(f, "accumulation")
    a = _finite(a, "a")
    xs = np.array(xs, dtype=float)
    if xs.ndim != 1:
        raise ValueError("xs must be a one-dimensional sequence of points")
    if xs.size == 0:
        return Accumulation(xs, np.empty(0), "quadrature")
    if not np.all(np.isfinite(xs)):
        raise ValueError("xs must be finite numbers")
    if np.any(np.diff(xs) < 0):
        raise ValueError("xs must be sorted in increasing order")
    grid, inverse = np.unique(xs, return_inverse=True)
    numeric = _cumulative(f, a, grid)[inverse]
    F = antiderivative(f, seconds)
    if F is not None:
        with np.errstate(all="ignore"):
            exact = np.asarray(F(xs), dtype=float) - float(F(a))
        # Compare where quadrature has a value; where it has none (past a pole, or where f
        # is undefined), F(x) - F(a) would silently jump the gap, so those stay NaN.
        ok = np.isfinite(numeric)
        if ok.any() and np.all(np.isfinite(exact[ok])):
            scale = max(1.0, float(np.max(np.abs(numeric[ok]), initial=0.0)))
            if np.all(np.abs(exact[ok] - numeric[ok]) <= 1e-6 * scale):
                return Accumulation(xs, np.where(ok, exact, np.nan), "exact")
    return Accumulation(xs, numeric, "quadrature")


def _cumulative(f: Function, a: float, grid: np.ndarray) -> np.ndarray:
    """Integral of f from a to each point of an increasing grid (see :func:`accumulation`)."""
    size = grid.size
    j = int(np.clip(np.searchsorted(grid, a), 0, size - 1))
    if j > 0 and abs(grid[j - 1] - a) <= abs(grid[j] - a):
        j -= 1
    piece = _quad(f, f, a, float(grid[j]))
    offset = piece.value if piece.status == "ok" else math.nan
    if size == 1:
        return np.array([offset])

    m = int(np.clip(math.ceil(_ACCUMULATION_POINTS / (size - 1)), 1, 64))
    fine = np.append((grid[:-1, None] + np.diff(grid)[:, None] * (np.arange(m) / m)).ravel(),
                     grid[-1])
    h = np.diff(fine)
    # f at the fine points and at the quarter points of every step, in one call
    quarters = fine[:-1, None] + h[:, None] * np.array([0.25, 0.5, 0.75])
    values = np.asarray(f(np.concatenate([fine, quarters.ravel()])), dtype=float)
    y, (y1, ym, y3) = values[:fine.size], values[fine.size:].reshape(-1, 3).T
    nan = np.flatnonzero(np.isnan(y))
    if 0 < nan.size <= 64:  # isolated points such as sin(x)/x at 0
        y[nan] = _removable(f, fine[nan])
    with np.errstate(all="ignore"):
        coarse = h / 6 * (y[:-1] + 4 * ym + y[1:])
        halves = h / 12 * (y[:-1] + 4 * y1 + 2 * ym + 4 * y3 + y[1:])
        steps = halves + (halves - coarse) / 15  # Richardson: one order better
        error = np.abs(halves - coarse)
    k = j * m
    _repair(f, fine, steps, error, k)
    out = np.empty(fine.size)
    out[k] = 0.0
    out[k + 1:] = np.cumsum(steps[k:])
    out[:k] = -np.cumsum(steps[:k][::-1])[::-1]
    return out[::m] + offset


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the runs of True in a boolean array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


def _repair(f: Function, fine: np.ndarray, steps: np.ndarray, error: np.ndarray,
            k: int) -> None:
    """Examine, in place, the stretches of steps whose error estimate is poor or NaN.

    A pole between grid points (1/x on a grid that just misses 0) gives huge finite samples
    and a meaningless step; an integrable spike (1/sqrt|x|) a poor one; a point where f is
    undefined none. Nearest to the anchor ``k`` first, on each side, quad over the stretch
    with the peak of |f| as a break point (with a pole inside its interval, a node near it
    can make quad look converged) tells which: not integrable makes the steps NaN, and
    everything beyond accumulates NaN; integrable has quad redo them.
    """
    # |halves - coarse| is about 15 times the error of the halves, and the Richardson-
    # corrected steps are better still: this keeps the sum's error near 1e-8 of its size
    tol = 1e-10 * max(1.0, float(np.nansum(np.abs(steps))))
    poor = ~(error <= tol)  # NaN counts as poor
    if not poor.any():
        return
    left = _runs(poor[:k])[::-1]
    right = [(s + k, e + k) for s, e in _runs(poor[k:])]
    for side, outwards in ((left, -1), (right, 1)):
        for start, stop in side[:_MAX_TROUBLE]:
            if stop - start > _SPIKE_STEPS:
                # a long stretch: a steep or oscillating f that Simpson resolves well
                # enough, unless f is undefined somewhere in it; check the nearest such step
                bad = np.flatnonzero(~np.isfinite(steps[start:stop])) + start
                if not bad.size:
                    continue
                nearest = int(bad[0] if outwards > 0 else bad[-1])
                start, stop = max(nearest - 1, 0), min(nearest + 2, steps.size)
            lo, hi = float(fine[start]), float(fine[stop])
            peak = _locate_spike(f, lo, hi)
            if _pole(f, peak, lo, hi) or _quad(f, f, lo, hi, cuts=[peak]).status != "ok":
                # NaN from the step holding the peak outwards (everything beyond accumulates
                # NaN anyway); the steps before it are still integrable
                beyond = fine[start + 1:stop + 1] > peak if outwards > 0 else (
                    fine[start:stop] < peak)
                steps[start:stop][beyond] = np.nan
                for w in np.flatnonzero(~beyond) + start:
                    q = _quad(f, f, float(fine[w]), float(fine[w + 1]))
                    steps[w] = q.value if q.status == "ok" else np.nan
                break
            for w in range(start, stop):
                q = _quad(f, f, float(fine[w]), float(fine[w + 1]), cuts=[peak])
                steps[w] = q.value if q.status == "ok" else np.nan


def _pole(f: Function, peak: float, lo: float, hi: float) -> bool:
    """Whether |f| grows at least like 1/d at distance d from ``peak`` (on either side), so
    that f is not integrable there: |f(peak +- d)| d does not shrink over the last three
    decades of d down to 1e-10 of the span (well above the float spacing at the peak, which
    :func:`_locate_spike` found to that spacing).

    A quick answer for 1/x and worse, where quad would spend thousands of evaluations to
    report divergence; anything else (1/sqrt|x|, a sharp but finite peak) is left to quad.
    """
    floor = 1e3 * np.spacing(abs(peak)) + 1e-300
    for side, span in ((1.0, hi - peak), (-1.0, peak - lo)):
        d = span * np.logspace(-1, -10, 10)
        d = d[d > floor]
        if d.size < 4:
            continue
        with np.errstate(all="ignore"):
            v = np.abs(np.asarray(f(peak + side * d), dtype=float)) * d
        if np.all(np.isfinite(v[-4:])) and v[-4] > 0 and v[-1] >= 0.99 * v[-4]:
            return True
    return False


def _locate_spike(f: Function, lo: float, hi: float) -> float:
    """Where |f| peaks in [lo, hi], to float resolution: zoom in on the largest of 129
    samples (NaN counts as largest: the pole itself) until the bracket stops shrinking."""
    best = 0.5 * (lo + hi)
    for _ in range(12):
        s = np.linspace(lo, hi, 129)
        with np.errstate(invalid="ignore"):
            v = np.abs(np.asarray(f(s), dtype=float))
        v[np.isnan(v)] = np.inf
        p = int(np.argmax(v))
        best = float(s[p])
        new = float(s[max(p - 1, 0)]), float(s[min(p + 1, s.size - 1)])
        if new == (lo, hi):
            break
        lo, hi = new
    return best


# --------------------------------------------------------------------------------------------
# Distributions and expectations


class Distribution:
    """One of the distributions in :data:`DISTRIBUTIONS`, with validated parameters.

    Attributes
    ----------
    name : str
    params : dict
        Parameter name -> float.
    """

    __slots__ = ("name", "params")

    def __init__(self, name: str, params: Mapping[str, float]):
        if name not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {name!r}; choose one of "
                             f"{', '.join(DISTRIBUTIONS)}")
        names = DISTRIBUTIONS[name]
        if not isinstance(params, Mapping):
            raise ValueError(f"the parameters must be a mapping of {', '.join(names)} to numbers")
        missing = [p for p in names if p not in params]
        unknown = sorted(str(p) for p in params if p not in names)
        if unknown:
            raise ValueError(f"the {name} distribution has no parameter {', '.join(unknown)} "
                             f"(its parameters are {', '.join(names)})")
        if missing:
            raise ValueError(f"the {name} distribution needs parameter {', '.join(missing)}")
        values = {p: _finite(params[p], p) for p in names}
        for p in ("sigma", "b", "rate"):
            if p in values and not values[p] > 0:
                raise ValueError(f"{p} must be positive, not {values[p]:g}")
        if name == "uniform" and not values["low"] < values["high"]:
            raise ValueError(f"low must be less than high (low = {values['low']:g}, "
                             f"high = {values['high']:g})")
        self.name = name
        self.params = values

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"Distribution({self.name!r}, {args})"

    def __eq__(self, other) -> bool:
        return (isinstance(other, Distribution) and self.name == other.name
                and self.params == other.params)

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.params.items())))

    # -- moments and ranges ------------------------------------------------------------------
    @property
    def mean(self) -> float:
        p = self.params
        if self.name == "uniform":
            return 0.5 * (p["low"] + p["high"])
        if self.name == "exponential":
            return 1.0 / p["rate"]
        return p["mu"]

    @property
    def variance(self) -> float:
        p = self.params
        if self.name == "normal":
            return p["sigma"] ** 2
        if self.name == "uniform":
            return (p["high"] - p["low"]) ** 2 / 12.0
        if self.name == "exponential":
            return 1.0 / p["rate"] ** 2
        return 2.0 * p["b"] ** 2

    @property
    def support(self) -> tuple[float, float]:
        """Where the density is positive: (lo, hi), possibly infinite."""
        if self.name == "uniform":
            return self.params["low"], self.params["high"]
        if self.name == "exponential":
            return 0.0, math.inf
        return -math.inf, math.inf

    def plot_range(self) -> tuple[float, float]:
        """A finite range that shows the density: mean +- 4.5 sd clipped to the support (the
        uniform's interval padded by 15% of its width on each side)."""
        if self.name == "uniform":
            lo, hi = self.support
            pad = 0.15 * (hi - lo)
            return lo - pad, hi + pad
        sd = math.sqrt(self.variance)
        lo, hi = self.support
        return max(lo, self.mean - 4.5 * sd), min(hi, self.mean + 4.5 * sd)

    # -- density and samples -----------------------------------------------------------------
    def pdf(self, x):
        """The density at ``x`` (NumPy broadcasting; NaN for NaN input)."""
        x = np.asarray(x, dtype=float)
        p = self.params
        with np.errstate(all="ignore"):
            if self.name == "normal":
                z = (x - p["mu"]) / p["sigma"]
                out = np.exp(-0.5 * z * z) / (p["sigma"] * math.sqrt(2 * math.pi))
            elif self.name == "uniform":
                inside = (x >= p["low"]) & (x <= p["high"])
                out = np.where(inside, 1.0 / (p["high"] - p["low"]), 0.0)
            elif self.name == "exponential":
                r = p["rate"]
                out = np.where(x >= 0, r * np.exp(-r * np.maximum(x, 0.0)), 0.0)
            else:
                out = np.exp(-np.abs(x - p["mu"]) / p["b"]) / (2 * p["b"])
            out = np.where(np.isnan(x), np.nan, out)
        return out[()] if out.ndim == 0 else out

    def _pdf_scalar(self, t: float) -> float:
        # quad calls this hundreds of times: plain floats are several times faster than NumPy
        p = self.params
        if self.name == "normal":
            z = (t - p["mu"]) / p["sigma"]
            return math.exp(-0.5 * z * z) / (p["sigma"] * math.sqrt(2 * math.pi))
        if self.name == "uniform":
            return 1.0 / (p["high"] - p["low"]) if p["low"] <= t <= p["high"] else 0.0
        if self.name == "exponential":
            return p["rate"] * math.exp(-p["rate"] * t) if t >= 0 else 0.0
        return math.exp(-abs(t - p["mu"]) / p["b"]) / (2 * p["b"])

    def sample(self, n: int, seed=None) -> np.ndarray:
        """``n`` independent samples from ``np.random.default_rng(seed)``."""
        n = _count(n, "n", 0, MAX_SAMPLES)
        rng = np.random.default_rng(seed)
        p = self.params
        if self.name == "normal":
            return rng.normal(p["mu"], p["sigma"], n)
        if self.name == "uniform":
            return rng.uniform(p["low"], p["high"], n)
        if self.name == "exponential":
            return rng.exponential(1.0 / p["rate"], n)
        return rng.laplace(p["mu"], p["b"], n)

    def _sympy_pieces(self, x):
        """The density in SymPy, exactly, as [(expression, lo, hi)] (laplace in two pieces:
        SymPy integrates exponentials far better than abs)."""
        import sympy as sp

        p = {k: _rational(v) for k, v in self.params.items()}
        if self.name == "normal":
            mu, s = p["mu"], p["sigma"]
            return [(sp.exp(-(x - mu) ** 2 / (2 * s**2)) / (s * sp.sqrt(2 * sp.pi)), -sp.oo, sp.oo)]
        if self.name == "uniform":
            return [(1 / (p["high"] - p["low"]), p["low"], p["high"])]
        if self.name == "exponential":
            return [(p["rate"] * sp.exp(-p["rate"] * x), sp.S.Zero, sp.oo)]
        mu, b = p["mu"], p["b"]
        return [(sp.exp((x - mu) / b) / (2 * b), -sp.oo, mu),
                (sp.exp(-(x - mu) / b) / (2 * b), mu, sp.oo)]


def _rational(value: float):
    """The shortest decimal that round-trips, as an exact SymPy rational (2.0 -> 2, 0.1 ->
    1/10): exact arithmetic without the huge fractions of the binary value."""
    import sympy as sp

    return sp.Rational(repr(float(value)))


def distribution(name: str, params: Mapping[str, float]) -> Distribution:
    """A :class:`Distribution` by name, its parameters checked.

    Parameters
    ----------
    name : {"normal", "uniform", "exponential", "laplace"}
    params : mapping
        Exactly the parameters in ``DISTRIBUTIONS[name]``: normal (mu, sigma > 0), uniform
        (low < high), exponential (rate > 0; density rate exp(-rate x) on x >= 0), laplace
        (mu, b > 0; density exp(-|x - mu| / b) / (2 b)).

    Raises
    ------
    ValueError
        Naming the unknown distribution or the parameter at fault.
    """
    return Distribution(name, params)


def expectation(g: Function, name: str, params: Mapping[str, float],
                seconds: float = 2.0) -> Integral:
    """E[g(X)], the integral of g(x) p(x) dx, for X from the named distribution.

    Exact when SymPy evaluates the definite integral (g's parameters at their values) to a
    finite real number within ``seconds`` and adaptive quadrature agrees; otherwise the
    quadrature over the support (split at mu for normal and laplace).

    Parameters
    ----------
    g : Function
        A function of one variable.
    name, params
        The distribution, as for :func:`distribution`.
    seconds : float
        Time limit for SymPy.

    Returns
    -------
    Integral

    Raises
    ------
    ValueError
        For a bad distribution, when g is undefined where the density is positive (log(x)
        under a normal), or when the expectation diverges.
    """
    _one_variable(g, "expectation")
    dist = distribution(name, params)
    lo, hi = dist.support

    def scalar(t: float) -> float:
        p = dist._pdf_scalar(t)
        # where the density underflows to 0 the product is 0, even if g overflowed there
        # (exp(x) far in a normal's tail): otherwise E[exp(X)] would look undefined
        return 0.0 if p == 0.0 else float(g(t)) * p

    def vector(ts):
        p = dist.pdf(ts)
        with np.errstate(all="ignore"):
            return np.where(p == 0.0, 0.0, np.asarray(g(ts), dtype=float) * p)

    cuts = (dist.params["mu"],) if name in ("normal", "laplace") else ()
    q = _quad(scalar, vector, lo, hi, cuts)
    if q.status == "undefined":
        if _overflows(g, q.where):
            raise ValueError(f"E[g(X)] does not converge under this {name} distribution, or is "
                             f"beyond the floating-point range (g overflows near x = "
                             f"{_fmt(q.where)})")
        raise ValueError(f"g is undefined at x = {_fmt(q.where)}, where the {name} density is "
                         "positive, so E[g(X)] does not exist")
    exact = _exact_expectation(g, dist, seconds)
    if q.status == "divergent":
        if exact is None:
            raise ValueError(f"E[g(X)] does not converge under this {name} distribution "
                             "(g grows too fast in its tails, or is unbounded)")
        # quad struggled (a slow tail, a hard spike); SymPy's definite integral, which
        # decides convergence itself, found a finite value
        return Integral(exact, "exact", 0.0)
    if exact is not None and abs(exact - q.value) <= 1e-7 * max(1.0, abs(q.value)) + 100 * q.error:
        return Integral(exact, "exact", 0.0)
    return Integral(q.value, "quadrature", q.error)


# (g's expression and parameters, distribution) -> (value or None, seconds it was given)
_EXPECTATIONS: OrderedDict = OrderedDict()
_EXPECTATIONS_LOCK = threading.Lock()


def _exact_expectation(g: Function, dist: Distribution, seconds: float) -> float | None:
    key = (g.expr, g.variables, tuple(sorted(g.parameters.items())), dist)
    with _EXPECTATIONS_LOCK:
        hit = _EXPECTATIONS.get(key)
    if hit is not None and (hit[0] is not None or hit[1] >= seconds):
        return hit[0]
    result = _integrate_expectation(g, dist, seconds)
    with _EXPECTATIONS_LOCK:
        _EXPECTATIONS[key] = result
        while len(_EXPECTATIONS) > _ANTIDERIVATIVES_SIZE:
            _EXPECTATIONS.popitem(last=False)
    return result[0]


def _integrate_expectation(g: Function, dist: Distribution,
                           seconds: float) -> tuple[float | None, float]:
    import sympy as sp

    values = g.parameters
    if not all(math.isfinite(v) for v in values.values()):
        return None, math.inf
    x = g.symbols[0]
    try:
        with time_limit(seconds):
            body = g.expr.xreplace({sp.Symbol(k, real=True): _rational(v)
                                    for k, v in values.items()})
            if body.is_polynomial(x):
                # monomials times a density integrate in a tenth of a second; (x - 1)**2 as
                # it stands takes SymPy over 2 s against the normal density
                body = sp.expand(body)
            total = sp.S.Zero
            for density, lo, hi in dist._sympy_pieces(x):
                total += sp.integrate(body * density, (x, lo, hi))
            if total.has(sp.Integral) or not total.is_number:
                return None, math.inf
            value = complex(sp.N(total))
    except TimeLimitExceeded:
        return None, seconds  # a longer limit may succeed
    except Exception:  # noqa: BLE001 - any SymPy failure means "no exact value"
        return None, math.inf
    if abs(value.imag) > 1e-12 * max(1.0, abs(value.real)) or not math.isfinite(value.real):
        return None, math.inf
    return value.real, math.inf


# --------------------------------------------------------------------------------------------
# Monte Carlo


class MonteCarlo(NamedTuple):
    """A Monte Carlo estimate of E[g(X)] and its standard error."""

    estimate: float
    standard_error: float


class MonteCarloRun(NamedTuple):
    """A Monte Carlo run with what the app draws: the samples' histogram (a density, so that
    it overlays the pdf: it integrates to the fraction of samples inside the plot range)
    and the running estimate with its standard error at log-spaced sample counts ``ns``."""

    estimate: float
    standard_error: float
    n: int
    hist_edges: np.ndarray
    hist_density: np.ndarray
    ns: np.ndarray
    running: np.ndarray
    running_se: np.ndarray


_CHUNK = 1 << 16  # work in cache-sized chunks: 2-3x faster than on whole arrays of 10^6


class _Simulation(NamedTuple):
    estimate: float
    standard_error: float
    n: int
    running: np.ndarray | None  # at the checkpoints ns, when asked for
    running_se: np.ndarray | None
    counts: np.ndarray | None  # histogram counts, when asked for


def _simulate(g: Function, dist: Distribution, n: int, seed, ns=None, hist=None) -> _Simulation:
    """Draw ``n`` samples x from ``np.random.default_rng(seed)``, evaluate g(x), and reduce
    them chunk by chunk (while each chunk is in cache): the sums behind the estimate, the
    running sums at the checkpoints ``ns``, and the counts of ``hist`` = (lo, hi, bins).

    monte_carlo and monte_carlo_run both come here, with the same summation order for the
    estimate, so that they agree exactly. Sums are of g - c, with c the first value of g:
    sums of g and g^2 would cancel catastrophically in the variance when the mean is large
    against the spread.
    """
    xs = dist.sample(n, seed)
    c = math.nan
    s1 = s2 = 0.0
    undefined, example = 0, math.nan
    if ns is not None:
        run1, run2 = np.empty(ns.size), np.empty(ns.size)
    if hist is not None:
        lo, hi, bins = hist
        counts = np.zeros(bins + 2, dtype=np.int64)
        closed = 0
    for start in range(0, n, _CHUNK):
        x = xs[start:start + _CHUNK]
        v = np.asarray(g(x), dtype=float)
        nan = np.isnan(v)
        if nan.any():
            if not undefined:
                example = float(x[np.argmax(nan)])
            undefined += int(np.count_nonzero(nan))
        if undefined:
            continue  # the run will fail: only count the undefined samples
        if start == 0:
            c = float(v[0])
        d = v - c
        # einsum, not np.dot: OpenBLAS's threaded dot product of 65,536 numbers took 8 ms
        # (against 0.07 ms) on these 2-core machines whenever the other core was busy
        chunk1, chunk2 = float(np.sum(d)), float(np.einsum("i,i->", d, d))
        if ns is not None:
            inside = (ns > start) & (ns <= start + x.size)
            if inside.any():
                upto = ns[inside] - start  # checkpoint counts within this chunk
                cuts = np.concatenate([[0], upto[:-1]])
                head = d[:upto[-1]]
                run1[inside] = s1 + np.cumsum(np.add.reduceat(head, cuts))
                run2[inside] = s2 + np.cumsum(np.add.reduceat(head * head, cuts))
        s1 += chunk1
        s2 += chunk2
        if hist is not None:
            t = x - lo
            t *= bins / (hi - lo)
            np.clip(t, -1.0, bins + 1.0, out=t)
            np.floor(t, out=t)
            idx = t.astype(np.intp)
            idx += 1  # below lo -> 0, at or above hi -> bins + 1 and beyond
            counts += np.bincount(idx, minlength=bins + 3)[: bins + 2]
            closed += int(np.count_nonzero(x == hi))
    if undefined:
        raise ValueError(f"g is undefined at {undefined} of the {n} samples "
                         f"(for example x = {_fmt(example)})")
    estimate = c + s1 / n
    var = (s2 - s1 * s1 / n) / (n - 1)
    se = math.sqrt(max(var, 0.0) / n)
    running = running_se = out = None
    if ns is not None:
        k = ns.astype(float)
        running = c + run1 / k
        with np.errstate(all="ignore"):
            running_se = np.sqrt(np.maximum(run2 - run1 * run1 / k, 0.0) / (k - 1) / k)
        running[-1], running_se[-1] = estimate, se  # the same quantities, summed pairwise
    if hist is not None:
        out = counts[1:bins + 1].copy()
        out[-1] += closed  # np.histogram's last bin is closed
    return _Simulation(estimate, se, n, running, running_se, out)


def monte_carlo(g: Function, name: str, params: Mapping[str, float], n: int = 10_000,
                seed=0) -> MonteCarlo:
    """Estimate E[g(X)] by the mean of g over ``n`` samples of X.

    Parameters
    ----------
    g : Function
        A function of one variable.
    name, params
        The distribution, as for :func:`distribution`.
    n : int
        Number of samples, >= 2.
    seed : int or None
        Seed of ``np.random.default_rng``: the same seed gives the same samples (and the
        same estimate as :func:`monte_carlo_run`).

    Returns
    -------
    MonteCarlo
        ``(estimate, standard_error)``, the error being sd(g(X)) / sqrt(n) with ddof=1.

    Raises
    ------
    ValueError
        When g is undefined at some samples (the message says at how many, and one of them).
    """
    _one_variable(g, "monte_carlo")
    dist = distribution(name, params)
    n = _count(n, "n", 2, MAX_SAMPLES)
    sim = _simulate(g, dist, n, seed)
    return MonteCarlo(sim.estimate, sim.standard_error)


def monte_carlo_run(g: Function, name: str, params: Mapping[str, float], n: int, seed=0,
                    bins: int = 60, checkpoints: int = 80) -> MonteCarloRun:
    """A Monte Carlo estimate of E[g(X)] with its convergence and the samples' histogram.

    Parameters
    ----------
    g, name, params, n, seed
        As for :func:`monte_carlo` (same samples, same estimate).
    bins : int
        Histogram bins over the distribution's ``plot_range()``.
    checkpoints : int
        About this many log-spaced sample counts, from 10 (or n if smaller) to exactly n, at
        which the running estimate and its standard error are reported.

    Returns
    -------
    MonteCarloRun
        ``hist_density`` is count / (n * bin width): an estimate of the pdf, integrating to
        the fraction of samples inside the plot range. ``running[-1]`` and ``running_se[-1]``
        are ``estimate`` and ``standard_error``.
    """
    _one_variable(g, "monte_carlo_run")
    dist = distribution(name, params)
    n = _count(n, "n", 2, MAX_SAMPLES)
    bins = _count(bins, "bins", 1, 100_000)
    checkpoints = _count(checkpoints, "checkpoints", 2, 100_000)
    ns = np.unique(np.rint(np.geomspace(min(10, n), n, checkpoints)).astype(np.int64))
    ns[-1] = n
    lo, hi = dist.plot_range()
    sim = _simulate(g, dist, n, seed, ns=ns, hist=(lo, hi, bins))
    edges = np.linspace(lo, hi, bins + 1)
    density = sim.counts / (n * np.diff(edges))
    return MonteCarloRun(sim.estimate, sim.standard_error, n, edges, density, ns, sim.running,
                         sim.running_se)
