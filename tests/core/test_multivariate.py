"""Functions of two variables against independent answers: SymPy's own derivatives, closed
forms, finite differences, and brute-force searches."""

import itertools
import math

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq

import explorer.core as ec
from explorer.core import calculus, multivariate

x, y = sp.symbols("x y", real=True)

# The presets written out by hand in SymPy: an independent statement of what each text means.
REFERENCE = {
    "quadratic bowl": x**2 + y**2,
    "ill-conditioned ellipse": x**2 / 2 + 10 * y**2,
    "Rosenbrock": (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "Himmelblau": (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
    "Beale": (sp.Rational(3, 2) - x + x * y) ** 2 + (sp.Rational(9, 4) - x + x * y**2) ** 2
    + (sp.Rational(21, 8) - x + x * y**3) ** 2,
    "saddle": x**2 - y**2,
    "monkey saddle": x**3 - 3 * x * y**2,
    "Rastrigin": 20 + x**2 - 10 * sp.cos(2 * sp.pi * x) + y**2 - 10 * sp.cos(2 * sp.pi * y),
    "sin/cos landscape": sp.sin(x) * sp.cos(y) + (x**2 + y**2) / 10,
}


def preset(name):
    text, bounds = ec.LANDSCAPES[name]
    return ec.parse(text), bounds


def sample_points(bounds, n=5, seed=0):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = bounds
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


def numeric(expr):
    return sp.lambdify((x, y), expr, "numpy")


# -- presets --------------------------------------------------------------------------------

def test_presets_are_the_reference_functions():
    assert set(ec.LANDSCAPES) == set(REFERENCE)
    for name, (text, bounds) in ec.LANDSCAPES.items():
        f = ec.parse(text)
        assert f.variables == ("x", "y"), name
        assert not f.parameters, name
        (x0, x1), (y0, y1) = bounds
        assert x0 < x1 and y0 < y1
        assert np.isfinite(f((x0 + x1) / 2, (y0 + y1) / 2)), name
        pts = sample_points(bounds, 20)
        np.testing.assert_allclose(f(pts[:, 0], pts[:, 1]),
                                   numeric(REFERENCE[name])(pts[:, 0], pts[:, 1]),
                                   rtol=1e-12, atol=1e-12, err_msg=name)


# -- gradient, Hessian, directional derivative ----------------------------------------------

@pytest.mark.parametrize("name", ["Rosenbrock", "Himmelblau", "Beale", "Rastrigin",
                                  "sin/cos landscape", "monkey saddle"])
def test_gradient_and_hessian_against_sympy(name):
    f, bounds = preset(name)
    expr = REFERENCE[name]
    grad = [numeric(sp.diff(expr, v)) for v in (x, y)]
    hess = numeric(sp.hessian(expr, (x, y)))
    for p in sample_points(bounds, 6, seed=1):
        want_g = np.array([g(*p) for g in grad], dtype=float)
        want_h = np.array(hess(*p), dtype=float)
        np.testing.assert_allclose(f.gradient(p), want_g, rtol=1e-10, atol=1e-9)
        info = ec.hessian_info(f, p)
        np.testing.assert_allclose(info.matrix, want_h, rtol=1e-10, atol=1e-9)
        # the eigen-decomposition: H v = lambda v, unit columns, ascending
        lam = np.linalg.eigvalsh(want_h)
        np.testing.assert_allclose(info.eigenvalues, lam, rtol=1e-9, atol=1e-9)
        for k in range(2):
            v = info.eigenvectors[:, k]
            assert np.linalg.norm(v) == pytest.approx(1.0)
            np.testing.assert_allclose(want_h @ v, lam[k] * v, atol=1e-8 * max(1, abs(lam).max()))
        assert info.condition == pytest.approx(abs(lam).max() / abs(lam).min(), rel=1e-8)
        signs = set(np.sign(lam))
        assert info.kind == ("saddle" if signs == {-1, 1} else
                             "minimum" if signs == {1} else "maximum")


def test_rosenbrock_hessian_and_critical_point():
    f, bounds = preset("Rosenbrock")
    info = ec.hessian_info(f, (1.0, 1.0))
    np.testing.assert_array_equal(info.matrix, [[802, -400], [-400, 200]])
    # closed form of a symmetric 2x2: 501 -+ sqrt(301^2 + 400^2)
    root = math.sqrt(301**2 + 400**2)
    np.testing.assert_allclose(info.eigenvalues, [501 - root, 501 + root], rtol=1e-12)
    assert info.condition == pytest.approx((501 + root) / (501 - root), rel=1e-9)
    assert info.kind == "minimum"
    (c,) = ec.critical_points(f, bounds)
    np.testing.assert_allclose(c.point, [1.0, 1.0], atol=1e-12)
    assert c.kind == "minimum" and c.value == pytest.approx(0.0, abs=1e-20)


def test_hessian_info_condition_and_singular():
    f = ec.parse("0.5x^2 + 10y^2")
    info = ec.hessian_info(f, (0.3, -2.0))
    np.testing.assert_allclose(info.eigenvalues, [1.0, 20.0])
    np.testing.assert_allclose(np.abs(info.eigenvectors), np.eye(2), atol=1e-15)
    assert info.condition == pytest.approx(20.0)
    flat = ec.hessian_info(ec.parse("x^2", variables=("x", "y")), (1.0, 2.0))
    assert flat.condition == math.inf and flat.kind == "degenerate"
    undefined = ec.hessian_info(ec.parse("sqrt(x) + y^2"), (-1.0, 0.0))
    assert undefined.kind == "degenerate" and np.isnan(undefined.condition)


def test_directional_derivative_against_gradient_and_finite_difference():
    f, bounds = preset("Himmelblau")
    expr = REFERENCE["Himmelblau"]
    grad = [numeric(sp.diff(expr, v)) for v in (x, y)]
    t = 1e-5
    for p, u in zip(sample_points(bounds, 5, seed=2),
                    np.random.default_rng(3).normal(size=(5, 2)), strict=True):
        unit = u / np.linalg.norm(u)
        want = float(np.dot([g(*p) for g in grad], unit))
        assert ec.directional_derivative(f, p, u) == pytest.approx(want, rel=1e-12, abs=1e-9)
        assert ec.directional_derivative(f, p, 7.5 * u) == pytest.approx(want, rel=1e-12,
                                                                         abs=1e-9)
        central = (f(*(p + t * unit)) - f(*(p - t * unit))) / (2 * t)
        assert ec.directional_derivative(f, p, u) == pytest.approx(central, rel=1e-7, abs=1e-6)
    with pytest.raises(ValueError):
        ec.directional_derivative(f, (1.0, 1.0), (0.0, 0.0))


def test_cross_section_values_and_slope():
    f, _ = preset("sin/cos landscape")
    p, u = np.array([0.7, -1.2]), np.array([3.0, 4.0])
    ts = np.linspace(-2, 2, 41)
    values, slope = ec.cross_section(f, p, u, ts)
    unit = u / 5.0
    want = numeric(REFERENCE["sin/cos landscape"])(p[0] + ts * unit[0], p[1] + ts * unit[1])
    np.testing.assert_allclose(values, want, rtol=1e-13, atol=1e-14)
    assert values.shape == ts.shape
    assert slope == pytest.approx(ec.directional_derivative(f, p, u), rel=1e-14)
    h = 1e-5
    vals, _ = ec.cross_section(f, p, u, [-h, h])
    assert slope == pytest.approx((vals[1] - vals[0]) / (2 * h), rel=1e-7)
    with pytest.raises(ValueError):
        ec.cross_section(f, p, (0, 0), ts)


# -- Jacobian -------------------------------------------------------------------------------

def test_jacobian_of_a_linear_map_is_its_matrix():
    fs = [ec.parse("2x + 3y"), ec.parse("-x + 4y")]
    for p in [(0.0, 0.0), (1.5, -2.0), (100.0, 3.0)]:
        np.testing.assert_array_equal(ec.jacobian(fs, p), [[2, 3], [-1, 4]])


def test_jacobian_of_a_nonlinear_map_against_finite_differences():
    fs = [ec.parse("x^2 y"), ec.parse("5x + sin(y)"), ec.parse("exp(x y)")]
    h = 1e-6
    for p in sample_points(((-1, 1), (-1, 1)), 4, seed=4):
        J = ec.jacobian(fs, p)
        assert J.shape == (3, 2)
        for i, g in enumerate(fs):
            for j, e in enumerate(np.eye(2)):
                fd = (g(*(p + h * e)) - g(*(p - h * e))) / (2 * h)
                assert J[i, j] == pytest.approx(fd, rel=1e-7, abs=1e-8)


def test_jacobian_needs_the_same_variables():
    with pytest.raises(ValueError, match="variables"):
        ec.jacobian([ec.parse("x^2 + y"), ec.parse("x^3")], (1.0, 2.0))
    with pytest.raises(ValueError):
        ec.jacobian([], (1.0, 2.0))
    # a component that lacks a variable, parsed with both, is fine
    J = ec.jacobian([ec.parse("x y"), ec.parse("x^3", variables=("x", "y"))], (2.0, 5.0))
    np.testing.assert_array_equal(J, [[5, 2], [12, 0]])


# -- classification ---------------------------------------------------------------------------

@pytest.mark.parametrize("H, kind", [
    ([[1, 0], [0, 2]], "minimum"),
    ([[2, 1], [1, 2]], "minimum"),  # eigenvalues 1, 3
    ([[-1, 0], [0, -3]], "maximum"),
    ([[1, 0], [0, -1]], "saddle"),
    ([[1, 2], [2, 1]], "saddle"),  # eigenvalues 3, -1: positive diagonal, still a saddle
    ([[1, 0], [0, 0]], "degenerate"),
    ([[0, 0], [0, 0]], "degenerate"),
    ([[1, 1], [1, 1]], "degenerate"),  # eigenvalues 2, 0
    ([[1, 0], [0, 1e-12]], "degenerate"),  # zero relative to the largest
    ([[1e-12, 0], [0, 2e-12]], "minimum"),  # tiny but well-conditioned: scale-free
    ([[1, 0, 0], [0, 0, 0], [0, 0, -1]], "saddle"),  # up and down directions exist
    ([[np.nan, 0], [0, 1]], "degenerate"),
])
def test_classify_hessian(H, kind):
    assert ec.classify_hessian(H) == kind


def test_classify_hessian_floor_and_shape():
    assert ec.classify_hessian([[1e-9, 0], [0, 2e-9]], atol=1e-7) == "degenerate"
    with pytest.raises(ValueError):
        ec.classify_hessian([[1, 2, 3]])


# -- critical points of f(x, y) --------------------------------------------------------------

HIMMELBLAU_MINIMA = [(-3.779310, -3.283186), (-2.805118, 3.131312), (3.0, 2.0),
                     (3.584428, -1.848126)]


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "numeric"])
def test_himmelblau_critical_points(exact):
    f, bounds = preset("Himmelblau")
    found = calculus._critical_points_2d(f, calculus._box(bounds), 60, exact=exact)
    if exact:
        assert [(c.point.tolist(), c.kind) for c in found] == \
            [(c.point.tolist(), c.kind) for c in ec.critical_points(f, bounds)]
    assert len(found) == 9
    assert [tuple(c.point) for c in found] == sorted(tuple(c.point) for c in found)
    minima = [c for c in found if c.kind == "minimum"]
    np.testing.assert_allclose([c.point for c in minima], HIMMELBLAU_MINIMA, atol=1e-6)
    np.testing.assert_allclose([c.value for c in minima], 0.0, atol=1e-20)
    assert sum(c.kind == "maximum" for c in found) == 1
    assert sum(c.kind == "saddle" for c in found) == 4
    expr = REFERENCE["Himmelblau"]
    grad = [numeric(sp.diff(expr, v)) for v in (x, y)]
    hess = numeric(sp.hessian(expr, (x, y)))
    for c in found:
        assert np.hypot(*[g(*c.point) for g in grad]) < 1e-9
        lam = np.linalg.eigvalsh(np.array(hess(*c.point), dtype=float))
        want = "minimum" if lam.min() > 0 else "maximum" if lam.max() < 0 else "saddle"
        assert c.kind == want
        assert c.value == pytest.approx(float(expr.subs({x: c.point[0], y: c.point[1]})),
                                        rel=1e-12, abs=1e-12)


def test_bounds_keep_only_the_points_inside():
    f, bounds = preset("Himmelblau")
    every = ec.critical_points(f, bounds)
    box = ((0, 5), (-1, 5))
    inside = [c for c in every if 0 <= c.point[0] <= 5 and -1 <= c.point[1] <= 5]
    got = ec.critical_points(f, box)
    assert len(got) == 3
    assert [(c.point.tolist(), c.kind) for c in got] == \
        [(c.point.tolist(), c.kind) for c in inside]


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "numeric"])
@pytest.mark.parametrize("text, kind", [
    ("x^2 - y^2", "saddle"),
    ("x^2 + y^2", "minimum"),
    ("-(x^2 + 3y^2) + x y", "maximum"),
    ("x^3 - 3x y^2", "degenerate"),
    ("x^4 + y^4", "degenerate"),
])
def test_single_critical_point_at_origin(text, kind, exact):
    f = ec.parse(text)
    found = calculus._critical_points_2d(f, calculus._box(((-3, 3), (-3, 3))), 60, exact=exact)
    assert [c.kind for c in found] == [kind]
    np.testing.assert_allclose(found[0].point, [0.0, 0.0], atol=1e-6)


def test_default_bounds_and_parameters():
    (c,) = ec.critical_points(ec.parse("x^2 - y^2"))
    assert c.kind == "saddle" and c.point.shape == (2,)
    f = ec.parse("a x^2 + b y^2 - x").with_parameters(a=2.0, b=1.0)
    (c,) = ec.critical_points(f)
    np.testing.assert_allclose(c.point, [0.25, 0.0], atol=1e-12)
    assert c.kind == "minimum"
    # one variable: unchanged, and the default bounds work there too
    (c,) = ec.critical_points(ec.parse("x^2 - 1"))
    assert c.point.tolist() == [0.0] and c.kind == "minimum"


def test_closed_forms_through_nonvanishing_factors():
    # grad = exp(-x^2 - y^2) (1 - 2x^2, -2xy): extrema at (+-1/sqrt 2, 0)
    found = ec.critical_points(ec.parse("x exp(-x^2 - y^2)"), ((-2, 2), (-2, 2)))
    r = 1 / math.sqrt(2)
    assert [c.kind for c in found] == ["minimum", "maximum"]
    np.testing.assert_allclose([c.point for c in found], [[-r, 0], [r, 0]], atol=1e-12)
    np.testing.assert_allclose([c.value for c in found], [-r * math.exp(-0.5), r * math.exp(-0.5)])


def test_numeric_search_on_a_periodic_function():
    # sin x sin y on (-3, 3)^2: a saddle at 0 and extrema at (+-pi/2, +-pi/2), no other
    found = ec.critical_points(ec.parse("sin(x) sin(y)"), ((-3, 3), (-3, 3)))
    h = math.pi / 2
    want = [((-h, -h), "maximum"), ((-h, h), "minimum"), ((0, 0), "saddle"),
            ((h, -h), "minimum"), ((h, h), "maximum")]
    assert [c.kind for c in found] == [k for _, k in want]
    np.testing.assert_allclose([c.point for c in found], [p for p, _ in want], atol=1e-10)


def test_no_critical_points_and_curves_of_them():
    assert ec.critical_points(ec.parse("x + 2y")) == []
    assert ec.critical_points(ec.parse("exp(x) + y^2")) == []  # exp(x) never vanishes
    assert ec.critical_points(ec.parse("1/(x^2 + y^2)")) == []
    # every point of the line x = 0 is critical: the search reports points along it
    found = ec.critical_points(ec.parse("x^2", variables=("x", "y")), ((-3, 3), (-2, 2)))
    assert len(found) >= 20
    assert all(c.kind == "degenerate" and abs(c.point[0]) < 1e-9 for c in found)
    assert {round(c.point[1]) for c in found} == {-2, -1, 0, 1, 2}


def _critical_1d(g, dg, a, b):
    xs = np.linspace(a, b, 20000)  # even: 0, a critical point, is no sample
    v = dg(xs)
    assert np.all(v != 0)
    roots = [brentq(dg, xs[i], xs[i + 1], xtol=1e-14) for i in range(len(xs) - 1)
             if v[i] * v[i + 1] < 0]
    return [(r, "minimum" if g(r + 1e-4) > g(r) else "maximum") for r in roots]


def test_rastrigin_critical_points_are_products_of_the_one_dimensional_ones():
    # f(x, y) = g(x) + g(y): critical where both g' vanish; min x min = minimum,
    # max x max = maximum, mixed = saddle. g' is found independently by brentq.
    f, bounds = preset("Rastrigin")
    (a, b), _ = bounds

    def g(t):
        return 10 + t**2 - 10 * np.cos(2 * np.pi * t)

    def dg(t):
        return 2 * t + 20 * np.pi * np.sin(2 * np.pi * t)

    one = _critical_1d(g, dg, a, b)
    assert len(one) == 21
    want = sorted(((px, py), kx if kx == ky else "saddle")
                  for (px, kx), (py, ky) in itertools.product(one, one))
    found = ec.critical_points(f, bounds)
    assert len(found) == len(want) == 441
    np.testing.assert_allclose([c.point for c in found], [p for p, _ in want], atol=1e-9)
    assert [c.kind for c in found] == [k for _, k in want]


# -- grids ------------------------------------------------------------------------------------

def test_evaluate_grid_orientation_and_shape():
    f = ec.parse("x + 10y^3")
    grid = ec.evaluate_grid(f, (-1, 2), (0, 5), nx=7, ny=4)
    np.testing.assert_array_equal(grid.xs, np.linspace(-1, 2, 7))
    np.testing.assert_array_equal(grid.ys, np.linspace(0, 5, 4))
    assert grid.z.shape == (4, 7)
    for i, j in itertools.product(range(4), range(7)):
        assert grid.z[i, j] == pytest.approx(grid.xs[j] + 10 * grid.ys[i] ** 3, rel=1e-15)
    const = ec.evaluate_grid(ec.parse("3", variables=("x", "y")), (0, 1), (0, 1), 5, 3)
    np.testing.assert_array_equal(const.z, np.full((3, 5), 3.0))
    with pytest.raises(ValueError):
        ec.evaluate_grid(ec.parse("x^2"), (0, 1), (0, 1), 5)


def test_evaluate_grid_nan_where_undefined():
    grid = ec.evaluate_grid(ec.parse("log(x) + y"), (-1, 1), (-2, 2), nx=21, ny=11)
    X, Y = np.meshgrid(grid.xs, grid.ys)
    assert np.all(np.isnan(grid.z[X <= 0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(grid.z[X > 0], (np.log(X) + Y)[X > 0], rtol=1e-15)


def test_contour_lines_lie_on_their_levels():
    f = ec.parse("x^2 + y^2")
    grid = ec.evaluate_grid(f, (-2, 2), (-2, 2), 200)
    levels = [0.25, 1.0, 2.0, 5.0]
    lines = ec.contour_lines(grid, levels)
    assert [level for level, _, _ in lines] == levels
    for level, xs, ys in lines:
        ok = ~np.isnan(xs)
        assert ok.sum() > 50 and np.array_equal(ok, ~np.isnan(ys))
        np.testing.assert_allclose(f(xs[ok], ys[ok]), level, rtol=1e-3)
        np.testing.assert_allclose(np.hypot(xs[ok], ys[ok]), math.sqrt(level), rtol=1e-3)
    # circles of radius < 2 are one closed loop; radius sqrt(5) is cut by the square
    for _, xs, ys in lines[:3]:
        assert not np.isnan(xs).any()
        assert (xs[0], ys[0]) == (xs[-1], ys[-1])
    assert np.isnan(lines[3][1]).sum() == 3  # four arcs, one in each corner
    (level, xs, ys), = ec.contour_lines(grid, [100.0])
    assert xs.size == 0 and ys.size == 0
    through = ec.contour_through(grid, 1.0)
    np.testing.assert_array_equal(through[0], lines[1][1])
    np.testing.assert_array_equal(through[1], lines[1][2])


def test_contour_lines_of_a_saddle_and_around_nan():
    f = ec.parse("x^2 - y^2")
    grid = ec.evaluate_grid(f, (-2, 2), (-2, 2), 201)
    (_, xs, ys), = ec.contour_lines(grid, [1.0])
    assert np.isnan(xs).sum() == 1  # the hyperbola's two branches
    ok = ~np.isnan(xs)
    assert set(np.sign(xs[ok])) == {-1.0, 1.0}
    np.testing.assert_allclose(f(xs[ok], ys[ok]), 1.0, rtol=1e-3)
    g = ec.parse("log(x) + y")
    # the lines stay out of the undefined half; y <= 1 keeps them where log is resolved
    grid = ec.evaluate_grid(g, (-1, 3), (-3, 1), 400)
    for level, xs, ys in ec.contour_lines(grid, [-1.0, 0.0, 1.0]):
        ok = ~np.isnan(xs)
        assert ok.sum() > 20 and np.all(xs[ok] > 0)
        np.testing.assert_allclose(g(xs[ok], ys[ok]), level, atol=2e-3)


def test_contour_lines_equal_contourpys_in_one_call():
    """The lines are traced a level per call (the GUI thread gets the GIL between two): the
    same points, in the same pieces and order, as all levels traced in one call, also around
    NaN."""
    import contourpy

    for text, (xr, yr), n in (("(1 - x)^2 + 100(y - x^2)^2", ((-2, 2), (-1, 3)), 400),
                              ("log(x) + y", ((-1, 3), (-3, 1)), 150),
                              ("sin(3x) cos(2y)", ((-2, 2), (-2, 2)), 97)):
        grid = ec.evaluate_grid(ec.parse(text), xr, yr, n)
        levels = ec.contour_levels(grid.z, 15, log=text.startswith("(1"))
        z = grid.z if np.all(np.isfinite(grid.z)) else np.ma.masked_invalid(grid.z)
        serial = contourpy.contour_generator(grid.xs, grid.ys, z, name="serial",
                                             line_type=contourpy.LineType.SeparateCode)
        got = ec.contour_lines(grid, levels)
        assert len(got) == len(levels)
        drawn = 0
        for (level, xs, ys), want, wanted in zip(got, serial.multi_lines(levels), levels,
                                                  strict=True):
            assert level == wanted
            pieces = want[0]
            assert np.isnan(xs).sum() == max(len(pieces) - 1, 0)
            points = np.column_stack([xs, ys])
            mine = np.split(points, np.flatnonzero(np.isnan(xs)))
            mine = [m[~np.isnan(m[:, 0])] for m in mine] if xs.size else []
            assert len(mine) == len(pieces)
            for a, b in zip(mine, pieces, strict=True):
                np.testing.assert_array_equal(a, b)
                drawn += len(a)
        assert drawn > 500


def test_contour_levels_linear():
    grid = ec.evaluate_grid(ec.parse("x^2 + y^2"), (-1, 1), (-1, 1), 101)
    levels = ec.contour_levels(grid.z, 15)
    # tame: the whole range [0, 2], ends left out
    np.testing.assert_allclose(levels, np.linspace(0, 2, 17)[1:-1], rtol=1e-12)
    z = grid.z.copy()
    z[:3, :3] = np.nan
    assert len(ec.contour_levels(z, 7)) == 7 and np.all(np.isfinite(ec.contour_levels(z, 7)))
    # a pole does not squeeze the levels: they stay within the bulk of the values
    pole = ec.evaluate_grid(ec.parse("1/(x^2 + y^2)"), (-1, 1), (-1, 1), 100).z
    levels = ec.contour_levels(pole, 10)
    assert len(levels) == 10 and np.all(np.diff(levels) > 0)
    assert levels[-1] < np.percentile(pole, 98) < np.nanmax(pole) / 100
    assert levels[0] > np.nanmin(pole)
    assert ec.contour_levels(np.full((3, 3), 2.0), 5).tolist() == [2.0]
    assert ec.contour_levels(np.full((3, 3), np.nan), 5).size == 0
    with pytest.raises(ValueError):
        ec.contour_levels(grid.z, 0)


def test_contour_levels_log_for_rosenbrock():
    f, (xr, yr) = preset("Rosenbrock")
    z = ec.evaluate_grid(f, xr, yr, 300).z
    levels = ec.contour_levels(z, 15, log=True)
    assert len(levels) == 15 and np.all(np.diff(levels) > 0)
    rise = levels - z.min()
    ratios = rise[1:] / rise[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)  # geometric
    assert rise[0] < 1 and levels[-1] < z.max()  # rings near the valley floor, none at the top
    assert rise[-1] / rise[0] > 100
    # every level is crossed: each draws a line
    grid = ec.evaluate_grid(f, xr, yr, 300)
    assert all(xs.size for _, xs, _ in ec.contour_lines(grid, levels))


def test_gradient_field_against_gradient_and_sympy():
    f, bounds = preset("Beale")
    (xr, yr) = bounds
    X, Y, U, V = ec.gradient_field(f, xr, yr, 25)
    assert X.shape == Y.shape == U.shape == V.shape == (25, 25)
    np.testing.assert_array_equal(X[3], np.linspace(*xr, 25))
    np.testing.assert_array_equal(Y[:, 5], np.linspace(*yr, 25))
    gx, gy = (numeric(sp.diff(REFERENCE["Beale"], v)) for v in (x, y))
    np.testing.assert_allclose(U, gx(X, Y), rtol=1e-10)
    np.testing.assert_allclose(V, gy(X, Y), rtol=1e-10)
    for i, j in [(0, 0), (7, 19), (24, 24), (12, 3)]:
        np.testing.assert_allclose([U[i, j], V[i, j]], f.gradient((X[i, j], Y[i, j])),
                                   rtol=1e-12)
    _, _, U, V = ec.gradient_field(ec.parse("3x - y"), (0, 1), (0, 1), 4)
    np.testing.assert_array_equal(U, 3.0)
    np.testing.assert_array_equal(V, -1.0)


# -- quadratic model ----------------------------------------------------------------------------

def test_quadratic_model_of_a_quadratic_is_the_function():
    f = ec.parse("3x^2 - 2x y + y^2 + 4x - y + 7")
    for p in [(0.0, 0.0), (1.3, -2.2)]:
        q = ec.quadratic_model(f, p)
        pts = sample_points(((-5, 5), (-5, 5)), 30, seed=5)
        np.testing.assert_allclose(q(pts[:, 0], pts[:, 1]), f(pts[:, 0], pts[:, 1]), rtol=1e-12)
        grid = ec.quadratic_model_grid(f, p, (-2, 2), (-1, 3), 30, 20)
        np.testing.assert_allclose(grid.z, ec.evaluate_grid(f, (-2, 2), (-1, 3), 30, 20).z,
                                   rtol=1e-12)
        # its minimizer, solved by hand: 6x - 2y + 4 = 0, -2x + 2y - 1 = 0
        np.testing.assert_allclose(q.stationary_point, [-0.75, -0.25], atol=1e-12)


def test_quadratic_model_matches_to_second_order():
    f, _ = preset("sin/cos landscape")
    p, d = np.array([0.4, -0.9]), np.array([0.6, 0.8])
    q = ec.quadratic_model(f, p)
    assert q(*p) == pytest.approx(f(*p))
    np.testing.assert_allclose(q.gradient(p), f.gradient(p))
    np.testing.assert_allclose(q.hessian(p), f.hessian(p))
    errors = [abs(f(*(p + h * d)) - q(*(p + h * d))) for h in (0.02, 0.01)]
    assert errors[0] / errors[1] == pytest.approx(8, rel=0.05)  # the error is O(h^3)
    assert ec.quadratic_model(ec.parse("x^2", variables=("x", "y")), (1, 1)).stationary_point \
        is None


def test_every_new_name_is_exported():
    for name in multivariate.__all__:
        assert getattr(ec, name) is getattr(multivariate, name)
        assert name in ec.__all__
