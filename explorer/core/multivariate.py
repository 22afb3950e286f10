"""Functions of two variables made visible: gradients and directional derivatives, Hessians
and their eigenvectors, Jacobians of maps, contour maps, gradient fields and the local
quadratic model that Newton's method minimizes.

Everything here is numeric and vectorised over the compiled forms a :class:`Function` caches
(f, its partial derivatives), so that a contour map of a 400 x 400 grid costs a few
milliseconds. SymPy is not imported by this module (the app imports ``explorer.core``
modules before its window paints); contourpy is imported where contours are traced.

Conventions: a function of two variables has them in the order (horizontal, vertical),
``("x", "y")`` for what :func:`~explorer.core.expression.parse` infers. A :class:`Grid` is
indexed like an image, ``z[i, j] = f(xs[j], ys[i])``: rows follow y, columns follow x.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # importing expression at run time would import SymPy
    from .expression import Function

__all__ = [
    "KINDS",
    "LANDSCAPES",
    "classify_hessian",
    "directional_derivative",
    "HessianInfo",
    "hessian_info",
    "Grid",
    "evaluate_grid",
    "contour_levels",
    "contour_lines",
    "contour_through",
    "gradient_field",
    "QuadraticModel",
    "quadratic_model",
    "quadratic_model_grid",
    "cross_section",
    "jacobian",
]

KINDS = ("minimum", "maximum", "saddle", "degenerate")

# name -> (expression text for parse(), ((x0, x1), (y0, y1))): classic test landscapes of
# optimization, each on the range where its character shows.
LANDSCAPES: dict[str, tuple[str, tuple[tuple[float, float], tuple[float, float]]]] = {
    "quadratic bowl": ("x^2 + y^2", ((-3.0, 3.0), (-3.0, 3.0))),
    # condition number 20: gradient descent zig-zags across the narrow direction
    "ill-conditioned ellipse": ("0.5x^2 + 10y^2", ((-3.0, 3.0), (-3.0, 3.0))),
    "Rosenbrock": ("(1 - x)^2 + 100(y - x^2)^2", ((-2.0, 2.0), (-1.0, 3.0))),
    "Himmelblau": ("(x^2 + y - 11)^2 + (x + y^2 - 7)^2", ((-5.0, 5.0), (-5.0, 5.0))),
    "Beale": ("(1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 + (2.625 - x + x y^3)^2",
              ((-4.5, 4.5), (-4.5, 4.5))),
    "saddle": ("x^2 - y^2", ((-2.0, 2.0), (-2.0, 2.0))),
    "monkey saddle": ("x^3 - 3x y^2", ((-2.0, 2.0), (-2.0, 2.0))),
    "Rastrigin": ("20 + x^2 - 10cos(2 pi x) + y^2 - 10cos(2 pi y)",
                  ((-5.12, 5.12), (-5.12, 5.12))),
    "sin/cos landscape": ("sin(x) cos(y) + 0.1(x^2 + y^2)", ((-6.0, 6.0), (-6.0, 6.0))),
}


def _variables(f, n: int | None = None, what: str = "this") -> tuple[str, ...]:
    variables = tuple(getattr(f, "variables", ()))
    if not variables or (n is not None and len(variables) != n):
        want = "a function" if n is None else f"a function of {n} variables"
        raise ValueError(f"{what} needs {want}, not one of {variables}")
    return variables


def _point(point, n: int) -> np.ndarray:
    p = np.asarray(point, dtype=float).reshape(-1)
    if p.shape != (n,):
        raise ValueError(f"the point needs {n} coordinates, got {p.size}")
    return p


def _unit(u, n: int) -> np.ndarray:
    u = np.asarray(u, dtype=float).reshape(-1)
    if u.shape != (n,):
        raise ValueError(f"the direction needs {n} components, got {u.size}")
    norm = float(np.linalg.norm(u))
    if not (np.isfinite(norm) and norm > 0):
        raise ValueError("the direction must be a finite, non-zero vector")
    return u / norm


def _range(r, what: str) -> tuple[float, float]:
    lo, hi = (float(v) for v in np.asarray(r, dtype=float).reshape(-1)[:2])
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{what} must be (low, high) with finite low < high")
    return lo, hi


# --------------------------------------------------------------------------------------------
# Gradient, directional derivative, Hessian, Jacobian


def classify_hessian(H, tol: float = 1e-9, atol: float = 0.0) -> str:
    """The second-derivative test at a critical point, by the eigenvalues of the Hessian.

    Parameters
    ----------
    H : array_like, shape (n, n)
        The Hessian (symmetrised before use).
    tol : float
        An eigenvalue counts as zero when ``|lambda| <= tol * max |lambda|`` ...
    atol : float
        ... or ``|lambda| <= atol`` (a floor for Hessians computed at a point known only
        approximately, where round-off makes every eigenvalue small but not zero).

    Returns
    -------
    str
        ``"saddle"`` when eigenvalues of both signs exist (a zero eigenvalue beside them does
        not matter: there are directions up and down); else ``"degenerate"`` when one is zero
        (the test cannot decide: x^4 + y^4 and x^4 - y^4 both have H = 0); else ``"minimum"``
        (all > 0) or ``"maximum"`` (all < 0). A Hessian with NaN or inf entries (f undefined
        there) is ``"degenerate"`` too.
    """
    H = np.asarray(H, dtype=float)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.size == 0:
        raise ValueError(f"a Hessian is a square matrix, not of shape {H.shape}")
    if not np.all(np.isfinite(H)):
        return "degenerate"
    return _kind(np.linalg.eigvalsh((H + H.T) / 2), tol, atol)


def _kind(eigenvalues: np.ndarray, tol: float, atol: float = 0.0) -> str:
    if not np.all(np.isfinite(eigenvalues)):
        return "degenerate"
    zero = max(tol * float(np.max(np.abs(eigenvalues))), atol)
    up = eigenvalues > zero
    down = eigenvalues < -zero
    if up.any() and down.any():
        return "saddle"
    if up.all():
        return "minimum"
    if down.all():
        return "maximum"
    return "degenerate"


def directional_derivative(f: Function, point, u) -> float:
    """The slope of ``f`` at ``point`` along the direction ``u``: grad f(p) . u / |u|.

    Raises ValueError for ``u = 0``. NaN where a partial derivative is undefined.
    """
    n = len(_variables(f, what="directional_derivative"))
    p = _point(point, n)
    return float(np.dot(f.gradient(p), _unit(u, n)))


class HessianInfo(NamedTuple):
    """The Hessian at a point and what it says about the local shape of ``f``.

    ``eigenvalues`` ascending; ``eigenvectors[:, k]`` the unit vector of ``eigenvalues[k]``
    (the principal curvature directions), each with its first non-zero component positive
    so that it does not flip sign between nearby points; ``condition`` = max |lambda| /
    min |lambda| (inf when H is singular: how elongated the contours are, and how slowly
    gradient descent crawls); ``kind`` from :func:`classify_hessian`. All NaN (kind
    degenerate) where the Hessian is undefined.
    """

    matrix: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    condition: float
    kind: str


def hessian_info(f: Function, point, tol: float = 1e-9) -> HessianInfo:
    """Hessian of ``f`` at ``point`` with its eigen-decomposition, condition number and kind."""
    n = len(_variables(f, what="hessian_info"))
    H = np.asarray(f.hessian(_point(point, n)), dtype=float)
    if not np.all(np.isfinite(H)):
        nan = np.full(n, np.nan)
        return HessianInfo(H, nan, np.full((n, n), np.nan), float("nan"), "degenerate")
    eigenvalues, eigenvectors = np.linalg.eigh((H + H.T) / 2)
    for k in range(n):
        v = eigenvectors[:, k]
        first = v[np.flatnonzero(np.abs(v) > 1e-12)[0]]
        if first < 0:
            eigenvectors[:, k] = -v
    magnitudes = np.abs(eigenvalues)
    largest, smallest = float(magnitudes.max()), float(magnitudes.min())
    # below round-off of the largest eigenvalue, the smallest one is indistinguishable from 0
    if largest == 0 or smallest <= np.finfo(float).eps * largest:
        condition = float("inf")
    else:
        condition = largest / smallest
    return HessianInfo(H, eigenvalues, eigenvectors, condition, _kind(eigenvalues, tol))


def jacobian(fs: Sequence[Function], point) -> np.ndarray:
    """The Jacobian matrix, shape (m, n), of the map p -> (f_1(p), ..., f_m(p)) at ``point``.

    Row i is the gradient of ``fs[i]``. All functions must have the same variables in the
    same order (a map R^2 -> R^2 typed as two expressions u(x, y), v(x, y)); ValueError if
    not. Parse a component that lacks a variable with ``variables=`` to keep them equal.
    """
    fs = list(fs)
    if not fs:
        raise ValueError("jacobian needs at least one function")
    variables = _variables(fs[0], what="jacobian")
    for k, g in enumerate(fs[1:], start=2):
        if tuple(getattr(g, "variables", ())) != variables:
            raise ValueError(
                f"the functions of a map must share their variables: function 1 has "
                f"{variables}, function {k} has {tuple(getattr(g, 'variables', ()))}")
    p = _point(point, len(variables))
    return np.vstack([np.asarray(g.gradient(p), dtype=float) for g in fs])


def cross_section(f: Function, point, u, ts) -> tuple[np.ndarray, float]:
    """``f`` along the line through ``point`` in direction ``u``: f(p + t u/|u|) at ``ts``.

    Returns ``(values, slope)``: values shaped like ``ts`` (NaN where undefined), and the
    slope of that curve at t = 0, the directional derivative. Raises ValueError for u = 0.
    """
    n = len(_variables(f, what="cross_section"))
    p = _point(point, n)
    unit = _unit(u, n)
    ts = np.asarray(ts, dtype=float)
    values = np.asarray(f(*[p[i] + ts * unit[i] for i in range(n)]), dtype=float)
    values = np.array(np.broadcast_to(values, ts.shape), dtype=float)
    return values, float(np.dot(f.gradient(p), unit))


# --------------------------------------------------------------------------------------------
# Grids, contours, gradient fields


class Grid(NamedTuple):
    """Samples of a function of two variables: ``z[i, j] = f(xs[j], ys[i])``, NaN where
    undefined. ``xs`` shape (nx,), ``ys`` shape (ny,), ``z`` shape (ny, nx)."""

    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray


def evaluate_grid(f: Function, x_range, y_range, nx: int = 200, ny: int | None = None) -> Grid:
    """``f`` on an ``nx`` x ``ny`` grid spanning ``x_range`` x ``y_range`` (ends included).

    One vectorised call of the compiled function over broadcast row and column vectors, so a
    400 x 400 grid of a typical landscape takes a few milliseconds. ``ny`` defaults to ``nx``.
    """
    _variables(f, 2, "evaluate_grid")
    nx = int(nx)
    ny = nx if ny is None else int(ny)
    if nx < 2 or ny < 2:
        raise ValueError("a grid needs at least 2 points along each axis")
    xs = np.linspace(*_range(x_range, "x_range"), nx)
    ys = np.linspace(*_range(y_range, "y_range"), ny)
    z = np.asarray(f(xs[np.newaxis, :], ys[:, np.newaxis]), dtype=float)
    z = np.array(np.broadcast_to(z, (ny, nx)), dtype=float)  # a constant comes back as ()
    z[~np.isfinite(z)] = np.nan
    return Grid(xs, ys, z)


TAME = 0.5  # a tail beyond the 2..98 percentiles this long (relative to them) is kept


def _robust_range(values: np.ndarray) -> tuple[float, float]:
    """The span a person would contour: the 2nd to 98th percentiles, widened to the minimum
    (maximum) when the tail beyond is short, so that one pole or one steep corner does not
    squeeze every level into a sliver of the picture, while a tame function keeps all of it."""
    vmin, vmax = float(values.min()), float(values.max())
    p2, p98 = (float(v) for v in np.percentile(values, [2.0, 98.0]))
    width = p98 - p2
    if width <= 0:
        return vmin, vmax
    lo = vmin if p2 - vmin <= TAME * width else p2
    hi = vmax if vmax - p98 <= TAME * width else p98
    return lo, hi


LOG_FLOOR = 1e-6  # log levels start no lower than this fraction of their top


def contour_levels(z, count: int, log: bool = False) -> np.ndarray:
    """``count`` increasing contour levels for the finite values of ``z``.

    Linear: evenly spaced strictly inside the robust span of the values (the 2..98
    percentiles, widened to the minimum and maximum when the tails are tame), so that no
    level is a single point at the extreme. ``log=True``, for valley functions such as
    Rosenbrock whose interesting contours all lie near the minimum: ``levels - min(z)`` are
    geometrically spaced strictly inside [b, t], with b the 0.1st percentile of the positive
    ``z - min(z)`` (at least ``LOG_FLOOR * t``: the rings around the minimum that a grid can
    still resolve) and t its robust top.

    Returns an empty array when ``z`` has no finite value, and the one value when it is
    constant.
    """
    count = int(count)
    if count < 1:
        raise ValueError("count must be at least 1")
    values = np.asarray(z, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.empty(0)
    vmin = float(values.min())
    if not log:
        lo, hi = _robust_range(values)
        if not hi > lo:
            return np.array([lo])
        return np.linspace(lo, hi, count + 2)[1:-1]
    rise = values - vmin
    positive = rise[rise > 0]
    if positive.size == 0:
        return np.array([vmin])
    top = _robust_range(rise)[1]
    bottom = max(float(np.percentile(positive, 0.1)), LOG_FLOOR * top)
    if not top > bottom:
        bottom = LOG_FLOOR * top
    return vmin + np.geomspace(bottom, top, count + 2)[1:-1]


def contour_lines(grid: Grid, levels) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Contour lines of a grid by marching squares (contourpy).

    Returns one ``(level, xs, ys)`` per level, in the order given: all the pieces of that
    level set in one pair of arrays, separated by NaN (a closed loop repeats its first
    point), so a view can draw one item per level, or concatenate all. Levels with no line
    come back with empty arrays. Cells touching a NaN of ``z`` are left out.

    Traced one level per call: contourpy holds the GIL for a whole call, and all levels in
    one call (``multi_lines``) held it ~50 ms for 15 levels on a 400x400 grid. A window's GUI
    thread, which needs the GIL for each Python call of a paint, waited that long behind a
    worker contouring; between two levels it gets its turn (tests/benchmarks/bench_stalls.py).
    contourpy's "threaded" algorithm lets go of the GIL, but crashed the app when its first
    use was in a worker thread, so it is not used.
    """
    import contourpy

    levels = np.atleast_1d(np.asarray(levels, dtype=float))
    if levels.ndim != 1:
        raise ValueError("levels must be a sequence of numbers")
    z = grid.z
    if not np.all(np.isfinite(z)):
        z = np.ma.masked_invalid(z)
    generator = contourpy.contour_generator(
        grid.xs, grid.ys, z, name="serial", line_type=contourpy.LineType.ChunkCombinedNan)
    out = []
    for level in levels:
        lines = generator.lines(level)
        pieces = [p for p in lines[0] if p is not None and len(p)]
        if not pieces:
            out.append((float(level), np.empty(0), np.empty(0)))
            continue
        points = pieces[0] if len(pieces) == 1 else np.concatenate(
            [np.vstack([p, [[np.nan, np.nan]]]) for p in pieces])[:-1]
        out.append((float(level), np.ascontiguousarray(points[:, 0]),
                    np.ascontiguousarray(points[:, 1])))
    return out


def contour_through(grid: Grid, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The level set f = ``level`` (e.g. through the current point), NaN-separated pieces."""
    _, xs, ys = contour_lines(grid, [level])[0]
    return xs, ys


def gradient_field(f: Function, x_range, y_range, n: int = 25
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The gradient of ``f`` on an ``n`` x ``n`` grid: ``(X, Y, U, V)``, each (n, n).

    ``X[i, j] = xs[j]``, ``Y[i, j] = ys[i]`` (as :class:`Grid`), ``U`` and ``V`` the partial
    derivatives there (NaN where undefined), from the compiled derivatives in two calls.
    """
    vx, vy = _variables(f, 2, "gradient_field")
    n = int(n)
    if n < 2:
        raise ValueError("a field needs at least 2 points along each axis")
    X, Y = np.meshgrid(np.linspace(*_range(x_range, "x_range"), n),
                       np.linspace(*_range(y_range, "y_range"), n))
    U, V = (np.array(np.broadcast_to(np.asarray(f.diff(v)(X, Y), dtype=float), X.shape),
                     dtype=float) for v in (vx, vy))
    return X, Y, U, V


# --------------------------------------------------------------------------------------------
# The quadratic model


class QuadraticModel:
    """The second-order Taylor model of ``f`` at ``point``:
    q(p + d) = f(p) + g . d + 1/2 d^T H d, with g and H the gradient and Hessian at p.

    Callable like a :class:`Function` (vectorised, one array per variable) and with the same
    ``variables``, ``gradient`` and ``hessian``, so the functions of this module accept it.
    ``stationary_point`` is p - H^-1 g, where Newton's method steps (None when H is singular).
    """

    __slots__ = ("variables", "point", "value", "grad", "matrix")

    def __init__(self, variables, point, value, grad, matrix):
        self.variables = tuple(variables)
        self.point = np.asarray(point, dtype=float)
        self.value = float(value)
        self.grad = np.asarray(grad, dtype=float)
        self.matrix = np.asarray(matrix, dtype=float)

    def __repr__(self) -> str:
        return (f"QuadraticModel(point={self.point.tolist()}, value={self.value!r}, "
                f"gradient={self.grad.tolist()}, hessian={self.matrix.tolist()})")

    def __call__(self, *coords):
        if len(coords) != len(self.variables):
            raise TypeError(f"the model takes {len(self.variables)} argument(s), got {len(coords)}")
        ds = np.broadcast_arrays(*[np.asarray(c, dtype=float) - p
                                   for c, p in zip(coords, self.point, strict=True)])
        with np.errstate(all="ignore"):
            out = np.full(ds[0].shape, self.value)
            for i, di in enumerate(ds):
                out = out + self.grad[i] * di
                for j, dj in enumerate(ds):
                    out = out + 0.5 * self.matrix[i, j] * di * dj
        out = np.asarray(out, dtype=float)
        out[~np.isfinite(out)] = np.nan
        return out[()] if out.ndim == 0 else out

    def gradient(self, point) -> np.ndarray:
        return self.grad + self.matrix @ (_point(point, len(self.variables)) - self.point)

    def hessian(self, point) -> np.ndarray:
        return self.matrix.copy()

    @property
    def stationary_point(self) -> np.ndarray | None:
        if not (np.all(np.isfinite(self.matrix)) and np.all(np.isfinite(self.grad))):
            return None
        if np.linalg.cond(self.matrix) > 1e12:
            return None
        return self.point - np.linalg.solve(self.matrix, self.grad)


def quadratic_model(f: Function, point) -> QuadraticModel:
    """The quadratic (second-order Taylor) model of ``f`` at ``point``, see
    :class:`QuadraticModel`. It is NaN everywhere when f is undefined at the point."""
    variables = _variables(f, what="quadratic_model")
    p = _point(point, len(variables))
    return QuadraticModel(variables, p, float(f(*p)), f.gradient(p), f.hessian(p))


def quadratic_model_grid(f: Function, point, x_range, y_range, nx: int = 200,
                         ny: int | None = None) -> Grid:
    """The quadratic model of ``f`` at ``point`` on a grid, for contouring beside f."""
    return evaluate_grid(quadratic_model(f, point), x_range, y_range, nx, ny)
