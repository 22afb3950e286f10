"""Riemann sums, integrals, accumulation, expectations and Monte Carlo against independent
answers: sums worked by hand, closed forms, scipy.integrate.quad, scipy.stats, NumPy."""

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import quad
from scipy.special import erf, sici

import explorer.core as ec

NORMAL_1_2 = {"mu": 1.0, "sigma": 2.0}


def fx(f):
    """f as a plain float function, for scipy.integrate.quad (it must never see NaN)."""
    return lambda t: float(f(t))


# -- Riemann sums worked by hand ---------------------------------------------------------------

# x^2 on [0, 1], n = 4, width 1/4: ends 0, 1/4, 1/2, 3/4, 1; midpoints 1/8, 3/8, 5/8, 7/8
SQUARE_0_1 = {
    "left": Fraction(1, 4) * (0 + Fraction(1, 16) + Fraction(4, 16) + Fraction(9, 16)),
    "right": Fraction(1, 4) * (Fraction(1, 16) + Fraction(4, 16) + Fraction(9, 16) + 1),
    "midpoint": Fraction(1, 4) * Fraction(1 + 9 + 25 + 49, 64),
    "trapezoid": Fraction(1, 4) * (Fraction(0 + 1, 2) + Fraction(1, 16) + Fraction(4, 16)
                                   + Fraction(9, 16)),
    # x^2 increases on [0, 1]: its minimum on each piece is at the left end, maximum right
    "lower": Fraction(7, 32),
    "upper": Fraction(15, 32),
}
# x^2 on [1, 3], n = 4, width 1/2: ends 1, 3/2, 2, 5/2, 3; midpoints 5/4, 7/4, 9/4, 11/4
SQUARE_1_3 = {
    "left": Fraction(1, 2) * (1 + Fraction(9, 4) + 4 + Fraction(25, 4)),
    "right": Fraction(1, 2) * (Fraction(9, 4) + 4 + Fraction(25, 4) + 9),
    "midpoint": Fraction(1, 2) * Fraction(25 + 49 + 81 + 121, 16),
    "trapezoid": Fraction(1, 2) * (Fraction(1 + 9, 2) + Fraction(9, 4) + 4 + Fraction(25, 4)),
    "lower": Fraction(27, 4),
    "upper": Fraction(43, 4),
}


@pytest.mark.parametrize("rule", ec.RULES)
def test_every_rule_on_x_squared_matches_the_hand_sum(rule):
    f = ec.parse("x^2")
    assert ec.riemann_sum(f, 0, 1, 4, rule) == pytest.approx(float(SQUARE_0_1[rule]), abs=1e-15)
    assert ec.riemann_sum(f, 1, 3, 4, rule) == pytest.approx(float(SQUARE_1_3[rule]), abs=1e-14)


def test_hand_sums_are_the_textbook_values():
    # the fractions above, simplified: a check on the test's own arithmetic
    assert (SQUARE_0_1["left"], SQUARE_0_1["right"]) == (Fraction(7, 32), Fraction(15, 32))
    assert SQUARE_0_1["midpoint"] == Fraction(21, 64)
    assert SQUARE_0_1["trapezoid"] == Fraction(11, 32)
    assert (SQUARE_1_3["midpoint"], SQUARE_1_3["trapezoid"]) == (Fraction(69, 8), Fraction(35, 4))


@pytest.mark.parametrize("rule", ec.RULES)
def test_reversed_interval_negates(rule):
    f = ec.parse("sin(3x) + x^2")
    forward = ec.riemann_sum(f, -0.5, 2.0, 7, rule)
    assert ec.riemann_sum(f, 2.0, -0.5, 7, rule) == pytest.approx(-forward, rel=1e-13)


@pytest.mark.parametrize(("rule", "expected"), [
    ("left", 0.0), ("right", 8.0), ("midpoint", 2.0), ("trapezoid", 4.0),
    ("lower", 0.0), ("upper", 8.0),
])
def test_one_piece(rule, expected):
    # x^2 on [0, 2] as a single box of width 2
    assert ec.riemann_sum(ec.parse("x^2"), 0, 2, 1, rule) == pytest.approx(expected, abs=1e-14)


def test_boxes_hold_edges_and_heights():
    f = ec.parse("x^2")
    trap = ec.riemann_boxes(f, 1, 3, 4, "trapezoid")
    np.testing.assert_allclose(trap.edges, [1.0, 1.5, 2.0, 2.5, 3.0])
    np.testing.assert_allclose(trap.left, [1.0, 2.25, 4.0, 6.25])
    np.testing.assert_allclose(trap.right, [2.25, 4.0, 6.25, 9.0])
    assert trap.total == pytest.approx(8.75)
    mid = ec.riemann_boxes(f, 1, 3, 4, "midpoint")
    np.testing.assert_allclose(mid.left, [1.5625, 3.0625, 5.0625, 7.5625])
    np.testing.assert_array_equal(mid.left, mid.right)
    assert mid.total == ec.riemann_sum(f, 1, 3, 4, "midpoint")


def test_undefined_points_propagate_nan():
    boxes = ec.riemann_boxes(ec.parse("sqrt(x)"), -1, 1, 4, "right")  # at -1/2, 0, 1/2, 1
    assert np.isnan(boxes.left[0]) and boxes.left[1] == 0.0
    assert boxes.left[3] == pytest.approx(1.0)
    assert math.isnan(boxes.total)
    assert math.isnan(ec.riemann_sum(ec.parse("log(x)"), 0, 1, 8, "left"))
    assert math.isnan(ec.riemann_sum(ec.parse("sqrt(x)"), -1, 1, 3, "lower"))


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "4"])
def test_bad_piece_count_is_refused(n):
    with pytest.raises(ValueError, match="n must"):
        ec.riemann_sum(ec.parse("x"), 0, 1, n)


def test_bad_rule_and_two_variables_are_refused():
    with pytest.raises(ValueError, match="left, right, midpoint, trapezoid, lower, upper"):
        ec.riemann_sum(ec.parse("x"), 0, 1, 4, "simpson")
    with pytest.raises(ValueError, match="one variable"):
        ec.riemann_sum(ec.parse("x*y"), 0, 1, 4)


# -- Darboux sums ------------------------------------------------------------------------------

def test_darboux_of_sine_over_half_period():
    f = ec.parse("sin(x)")
    assert ec.riemann_sum(f, 0, math.pi, 1, "upper") == pytest.approx(math.pi, abs=1e-12)
    assert ec.riemann_sum(f, 0, math.pi, 1, "lower") == pytest.approx(0.0, abs=1e-12)


def test_darboux_takes_interior_extremes():
    f = ec.parse("x^2")
    assert ec.riemann_sum(f, -1, 1, 1, "lower") == pytest.approx(0.0, abs=1e-12)
    assert ec.riemann_sum(f, -1, 1, 1, "upper") == pytest.approx(2.0, abs=1e-12)
    # a minimum between sub-grid points: sampling alone would give about 1e-8, not 0
    g = ec.parse("(x - 0.1234567)^2 + 1")
    assert ec.riemann_sum(g, 0, 1, 1, "lower") == pytest.approx(1.0, abs=1e-14)
    assert ec.riemann_sum(ec.parse("-(x - 0.7654321)^2"), 0, 1, 1, "upper") == pytest.approx(
        0.0, abs=1e-14)


def test_darboux_at_a_kink():
    f = ec.parse("abs(x - 0.3)")
    assert ec.riemann_sum(f, 0, 1, 1, "lower") == pytest.approx(0.0, abs=1e-12)
    assert ec.riemann_sum(f, 0, 1, 1, "upper") == pytest.approx(0.7, abs=1e-12)
    assert ec.riemann_sum(ec.parse("-abs(x - 0.3)"), 0, 1, 1, "upper") == pytest.approx(
        0.0, abs=1e-12)
    # a cusp, where f' is unbounded: the nearest sub-grid sample alone gives about 0.01
    cusp = ec.parse("sqrt(abs(x - 0.3))")
    assert ec.riemann_sum(cusp, 0, 1, 1, "lower") == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("n", [1, 3, 10, 100])
def test_darboux_brackets_every_rule_and_the_integral(n):
    f = ec.parse("sin(5x) + x^2")
    a, b = -2.0, 3.0
    lower = ec.riemann_sum(f, a, b, n, "lower")
    upper = ec.riemann_sum(f, a, b, n, "upper")
    for rule in ("left", "right", "midpoint", "trapezoid"):
        value = ec.riemann_sum(f, a, b, n, rule)
        assert lower - 1e-12 <= value <= upper + 1e-12
    exact = (b**3 - a**3) / 3 + (math.cos(5 * a) - math.cos(5 * b)) / 5
    assert lower - 1e-12 <= exact <= upper + 1e-12


def test_darboux_heights_are_the_true_extremes_per_piece():
    # against brute force: the extremes of 20,001 samples per piece, which bound the true
    # ones from inside and come within (spacing^2 * max|f''| / 8) ~ 1e-8 of them
    f = ec.parse("sin(5x) + x^2")
    lower = ec.riemann_boxes(f, -2, 3, 10, "lower")
    upper = ec.riemann_boxes(f, -2, 3, 10, "upper")
    dense = np.linspace(lower.edges[:-1], lower.edges[1:], 20_001, axis=1)
    values = np.sin(5 * dense) + dense**2
    assert np.all(lower.left <= values.min(axis=1) + 1e-15)
    assert np.all(upper.left >= values.max(axis=1) - 1e-15)
    np.testing.assert_allclose(lower.left, values.min(axis=1), atol=1e-7)
    np.testing.assert_allclose(upper.left, values.max(axis=1), atol=1e-7)


@pytest.mark.parametrize(("rule", "order"), [
    ("left", 1), ("right", 1), ("lower", 1), ("upper", 1), ("midpoint", 2), ("trapezoid", 2),
])
def test_convergence_order(rule, order):
    f = ec.parse("exp(x)")
    ns = 2 ** np.arange(4, 11)
    errors = [abs(ec.riemann_sum(f, 0, 1, int(n), rule) - (math.e - 1)) for n in ns]
    slope = np.polyfit(np.log(ns), np.log(errors), 1)[0]
    assert slope == pytest.approx(-order, abs=0.15)


# -- definite integrals ------------------------------------------------------------------------

def test_exact_integrals():
    result = ec.integral(ec.parse("x^2"), 0, 1)
    assert isinstance(result, float)
    assert result == pytest.approx(1 / 3, rel=1e-15)
    assert (result.method, result.error) == ("exact", 0.0)
    sine = ec.integral(ec.parse("sin(x)"), 0, math.pi)
    assert sine == pytest.approx(2.0, rel=1e-14) and sine.method == "exact"
    assert ec.integral(ec.parse("x^2"), 1, 0) == pytest.approx(-1 / 3, rel=1e-15)
    assert ec.integral(ec.parse("x^2"), 2, 2) == 0.0
    assert ec.integral(ec.parse("exp(-x^2)"), -math.inf, math.inf) == pytest.approx(
        math.sqrt(math.pi), rel=1e-12)


def test_integral_without_antiderivative_uses_quadrature():
    text = "exp(-x^2)*cos(x^3)"
    result = ec.integral(ec.parse(text), 0, 2, seconds=0.3)
    assert result.method == "quadrature"
    reference, _ = quad(lambda t: math.exp(-t * t) * math.cos(t**3), 0, 2, limit=200,
                        epsabs=1e-13)
    assert result == pytest.approx(reference, abs=1e-10)
    assert 0 < result.error < 1e-6


def test_integral_with_a_parameter():
    f = ec.parse("a*x**2").with_parameters(a=3)
    result = ec.integral(f, 0, 2)
    assert result == pytest.approx(8.0, rel=1e-14) and result.method == "exact"
    assert ec.integral(f.with_parameters(a=-0.5), 0, 2) == pytest.approx(-4 / 3, rel=1e-14)


def test_integral_checks_the_antiderivative():
    # SymPy's antiderivative of |sin x| is -cos(x) sign(sin x)-like: it jumps at multiples of
    # pi, so F(10) - F(0) is wrong; the quadrature cross-check catches it
    result = ec.integral(ec.parse("abs(sin(x))"), 0, 10)
    assert result == pytest.approx(6 + 1 + math.cos(10), abs=1e-7)
    # a removable singularity at 0 (the midpoint quad would evaluate first)
    assert ec.integral(ec.parse("sin(x)/x"), -1, 1) == pytest.approx(2 * sici(1.0)[0], abs=1e-12)


# 1/x over [-1, 1] also guards against a crash: quad on an integrand that returns NaN (here
# at the midpoint 0) can kill the interpreter with a bus error (scipy/scipy#14945)
@pytest.mark.parametrize(("text", "a", "b", "match"), [
    ("1/x", 0, 1, "does not converge"),
    ("1/x", -1, 1, "does not converge"),
    ("1/x", 1, math.inf, "does not decay fast enough"),
    ("1/x^2", -1, 1, "does not converge"),   # F(1) - F(-1) = -2 is finite, and wrong
    ("tan(x)", 0, 3, "does not converge"),
    ("sqrt(x)", -1, 1, "undefined"),
    ("exp(x^2)", 0, 30, "floating-point range"),
])
def test_integrals_that_do_not_exist_raise(text, a, b, match):
    with pytest.raises(ValueError, match=match):
        ec.integral(ec.parse(text), a, b)


def test_integrable_singularities():
    assert ec.integral(ec.parse("1/sqrt(abs(x))"), -1, 1) == pytest.approx(4.0, rel=1e-10)
    assert ec.integral(ec.parse("log(x)"), 0, 1) == pytest.approx(-1.0, rel=1e-10)


def test_antiderivative_is_cached_and_differentiates_back():
    f = ec.parse("x*cos(x) + c")
    first = ec.antiderivative(f)
    assert first is not None
    assert ec.antiderivative(f) is first
    g = f.with_parameters(c=2.5)
    G = ec.antiderivative(g)
    assert G.parameters == {"c": 2.5}
    # F' = f by central differences, with the parameter's value
    xs, h = np.linspace(-2, 3, 11), 1e-5
    np.testing.assert_allclose((G(xs + h) - G(xs - h)) / (2 * h), g(xs), atol=1e-8)


def test_antiderivative_none_when_sympy_cannot():
    assert ec.antiderivative(ec.parse("exp(-x^2)*cos(x^3)"), seconds=0.3) is None
    # Si(x) is what SymPy gives for sin(x)/x, and NumPy cannot evaluate it
    assert ec.antiderivative(ec.parse("sin(x)/x")) is None


# -- accumulation ------------------------------------------------------------------------------

def test_accumulation_of_sine():
    xs = np.linspace(-4, 7, 301)
    acc = ec.accumulation(ec.parse("sin(x)"), 0.0, xs)
    assert acc.method == "exact"
    np.testing.assert_array_equal(acc.xs, xs)
    np.testing.assert_allclose(acc.values, 1 - np.cos(xs), atol=1e-12)


def test_accumulation_of_gaussian_is_erf():
    xs = np.linspace(-3, 3, 121)
    acc = ec.accumulation(ec.parse("exp(-x^2)"), 0.0, xs)
    np.testing.assert_allclose(acc.values, math.sqrt(math.pi) / 2 * erf(xs), atol=1e-7)


def test_accumulation_by_quadrature_matches_quad_point_by_point():
    f = ec.parse("exp(-x^2)*cos(x^3)")
    xs = np.linspace(-1.5, 2.5, 57)
    acc = ec.accumulation(f, 0.3, xs, seconds=0.3)
    assert acc.method == "quadrature"
    reference = [quad(fx(f), 0.3, x, limit=200, epsabs=1e-13)[0] for x in xs]
    np.testing.assert_allclose(acc.values, reference, atol=1e-9)


def test_accumulation_from_a_point_outside_the_grid():
    xs = np.linspace(0, 3, 31)
    acc = ec.accumulation(ec.parse("sin(x)"), -5.0, xs)
    np.testing.assert_allclose(acc.values, math.cos(-5.0) - np.cos(xs), atol=1e-12)
    f = ec.parse("exp(-x^2)*cos(x^3)")
    numeric = ec.accumulation(f, 4.0, xs, seconds=0.3)
    reference = [quad(fx(f), 4.0, x, limit=200, epsabs=1e-13)[0] for x in xs]
    np.testing.assert_allclose(numeric.values, reference, atol=1e-9)


def test_accumulation_stops_at_a_pole_and_crosses_an_integrable_spike():
    xs = np.linspace(-2, 2, 250)  # misses 0: the pole of 1/x lies between grid points
    acc = ec.accumulation(ec.parse("1/x"), 1.0, xs)
    assert np.all(np.isnan(acc.values[xs < 0]))
    np.testing.assert_allclose(acc.values[xs > 0], np.log(xs[xs > 0]), atol=1e-9)
    spike = ec.accumulation(ec.parse("1/sqrt(abs(x))"), 1.0, xs)
    expected = np.sign(xs) * 2 * np.sqrt(np.abs(xs)) - 2
    np.testing.assert_allclose(spike.values, expected, atol=1e-6)


def test_accumulation_refuses_unsorted_points():
    with pytest.raises(ValueError, match="sorted"):
        ec.accumulation(ec.parse("x"), 0.0, [0.0, 2.0, 1.0])


# -- distributions -----------------------------------------------------------------------------

CASES = [
    ("normal", {"mu": 1.0, "sigma": 2.0}, stats.norm(loc=1.0, scale=2.0)),
    ("uniform", {"low": 2.0, "high": 5.0}, stats.uniform(loc=2.0, scale=3.0)),
    ("exponential", {"rate": 2.0}, stats.expon(scale=0.5)),
    ("laplace", {"mu": -0.5, "b": 0.7}, stats.laplace(loc=-0.5, scale=0.7)),
]


@pytest.mark.parametrize(("name", "params", "reference"), CASES)
def test_density_matches_scipy_and_integrates_to_one(name, params, reference):
    d = ec.distribution(name, params)
    lo, hi = d.support
    cuts = [p for p in (params.get("mu"),) if p is not None]
    pieces = [lo, *cuts, hi]
    total = sum(quad(d.pdf, p, q)[0] for p, q in zip(pieces[:-1], pieces[1:], strict=True))
    assert total == pytest.approx(1.0, abs=1e-9)
    xs = np.linspace(-4, 7, 45)
    np.testing.assert_allclose(d.pdf(xs), reference.pdf(xs), rtol=1e-12, atol=1e-300)
    assert d.mean == pytest.approx(reference.mean(), rel=1e-14)
    assert d.variance == pytest.approx(reference.var(), rel=1e-14)
    assert tuple(d.support) == pytest.approx(reference.support())


@pytest.mark.parametrize(("name", "params", "reference"), CASES)
def test_samples_have_the_right_moments(name, params, reference):
    n = 200_000
    x = ec.distribution(name, params).sample(n, seed=7)
    assert x.shape == (n,)
    assert abs(x.mean() - reference.mean()) < 5 * reference.std() / math.sqrt(n)
    assert x.var() == pytest.approx(reference.var(), rel=0.03)
    np.testing.assert_array_equal(x, ec.distribution(name, params).sample(n, seed=7))


def test_plot_ranges():
    assert ec.distribution("normal", NORMAL_1_2).plot_range() == pytest.approx((-8.0, 10.0))
    assert ec.distribution("exponential", {"rate": 2}).plot_range() == pytest.approx((0, 2.75))
    assert ec.distribution("uniform", {"low": 2, "high": 5}).plot_range() == pytest.approx(
        (1.55, 5.45))
    assert ec.distribution("laplace", {"mu": 1, "b": 1}).plot_range() == pytest.approx(
        (1 - 4.5 * math.sqrt(2), 1 + 4.5 * math.sqrt(2)))


@pytest.mark.parametrize(("name", "params", "word"), [
    ("gamma", {"k": 1}, "normal, uniform, exponential, laplace"),
    ("normal", {"mu": 0}, "sigma"),
    ("normal", {"mu": 0, "sigma": 1, "scale": 2}, "scale"),
    ("normal", {"mu": float("nan"), "sigma": 1}, "mu"),
    ("normal", {"mu": 0, "sigma": 0}, "sigma"),
    ("normal", {"mu": 0, "sigma": math.inf}, "sigma"),
    ("laplace", {"mu": 0, "b": -1}, "b must"),
    ("exponential", {"rate": 0}, "rate"),
    ("exponential", {"rate": "fast"}, "rate"),
    ("uniform", {"low": 2, "high": 2}, "low must be less than high"),
])
def test_distribution_validation(name, params, word):
    with pytest.raises(ValueError, match=word):
        ec.distribution(name, params)


# -- expectations ------------------------------------------------------------------------------

@pytest.mark.parametrize(("g", "name", "params", "expected"), [
    ("x^2", "normal", NORMAL_1_2, 5.0),                     # sigma^2 + mu^2
    ("x", "uniform", {"low": 2, "high": 5}, 3.5),
    ("x^2", "exponential", {"rate": 2}, 0.5),               # 2 / rate^2
    ("abs(x - 1.5)", "laplace", {"mu": 1.5, "b": 0.7}, 0.7),  # E|X - mu| = b
    ("exp(x)", "normal", {"mu": 0.3, "sigma": 0.5}, math.exp(0.3 + 0.5**2 / 2)),
])
def test_expectation_closed_forms(g, name, params, expected):
    result = ec.expectation(ec.parse(g), name, params, seconds=0.5)
    assert result == pytest.approx(expected, rel=1e-9)
    assert result.method in ("exact", "quadrature")


def test_expectation_by_quadrature_when_sympy_fails():
    g = ec.parse("cos(x^3)/(2 + sin(x))")
    result = ec.expectation(g, "normal", {"mu": 0.5, "sigma": 1.0}, seconds=0.3)
    assert result.method == "quadrature"
    p = stats.norm(0.5, 1.0).pdf
    reference = sum(quad(lambda t: float(g(t)) * p(t), lo, hi, limit=200, epsabs=1e-13)[0]
                    for lo, hi in ((-math.inf, 0.5), (0.5, math.inf)))
    assert result == pytest.approx(reference, abs=1e-9)


@pytest.mark.parametrize(("g", "name", "params", "match"), [
    ("log(x)", "normal", {"mu": 0, "sigma": 1}, "undefined"),
    ("exp(x)", "exponential", {"rate": 1}, "does not converge"),
    ("1/x", "uniform", {"low": 0, "high": 1}, "does not converge"),
])
def test_expectations_that_do_not_exist_raise(g, name, params, match):
    with pytest.raises(ValueError, match=match):
        ec.expectation(ec.parse(g), name, params, seconds=0.5)


# -- Monte Carlo -------------------------------------------------------------------------------

def test_monte_carlo_is_reproducible():
    g = ec.parse("x^2")
    first = ec.monte_carlo(g, "normal", NORMAL_1_2, n=5000, seed=3)
    estimate, se = first
    assert ec.monte_carlo(g, "normal", NORMAL_1_2, n=5000, seed=3) == first
    assert ec.monte_carlo(g, "normal", NORMAL_1_2, n=5000, seed=4).estimate != estimate
    # the estimate is the mean of g over np.random.default_rng(seed)'s samples
    x = np.random.default_rng(3).normal(1.0, 2.0, 5000)
    assert estimate == pytest.approx(np.mean(x**2), rel=1e-13)
    assert se == pytest.approx(np.std(x**2, ddof=1) / math.sqrt(5000), rel=1e-12)


def test_standard_error_matches_theory():
    n = 100_000
    _, se = ec.monte_carlo(ec.parse("x^2"), "normal", {"mu": 0, "sigma": 1}, n=n, seed=1)
    assert se == pytest.approx(math.sqrt(2 / n), rel=0.05)  # Var[X^2] = 2


def test_confidence_intervals_cover_about_95_percent():
    g = ec.parse("x^2")
    hits = 0
    for seed in range(200):
        estimate, se = ec.monte_carlo(g, "normal", {"mu": 0, "sigma": 1}, n=1000, seed=seed)
        hits += abs(estimate - 1.0) <= 1.96 * se
    assert 0.90 <= hits / 200 <= 0.99


def test_run_agrees_with_monte_carlo():
    g = ec.parse("sin(x) + x")
    params = {"rate": 1.5}
    mc = ec.monte_carlo(g, "exponential", params, n=20_000, seed=11)
    run = ec.monte_carlo_run(g, "exponential", params, n=20_000, seed=11, bins=40,
                             checkpoints=30)
    assert (run.estimate, run.standard_error, run.n) == (mc.estimate, mc.standard_error, 20_000)
    assert run.ns[0] == 10 and run.ns[-1] == 20_000
    assert np.all(np.diff(run.ns) > 0) and run.ns.size <= 30
    assert run.running[-1] == run.estimate and run.running_se[-1] == run.standard_error
    # running values against the samples themselves
    x = np.random.default_rng(11).exponential(1 / 1.5, 20_000)
    gx = np.sin(x) + x
    for i in (0, 7, run.ns.size // 2, run.ns.size - 2):
        k = int(run.ns[i])
        assert run.running[i] == pytest.approx(gx[:k].mean(), rel=1e-12)
        assert run.running_se[i] == pytest.approx(gx[:k].std(ddof=1) / math.sqrt(k), rel=1e-9)
    # the histogram is a density over the plot range: count / (n * width)
    lo, hi = ec.distribution("exponential", params).plot_range()
    counts, edges = np.histogram(x, bins=40, range=(lo, hi))
    np.testing.assert_allclose(run.hist_edges, edges)
    np.testing.assert_allclose(run.hist_density * 20_000 * np.diff(edges), counts, atol=1e-9)
    inside = np.mean((x >= lo) & (x <= hi))
    assert inside < 1
    assert np.sum(run.hist_density * np.diff(edges)) == pytest.approx(inside, abs=1e-12)


def test_small_runs_and_bad_input():
    run = ec.monte_carlo_run(ec.parse("x"), "uniform", {"low": 0, "high": 1}, n=5, seed=0)
    assert run.ns.tolist() == [5]  # fewer than 10 samples: the only checkpoint is n
    x = np.random.default_rng(0).uniform(0, 1, 5)
    assert run.running.tolist() == [run.estimate]
    assert run.estimate == pytest.approx(x.mean(), rel=1e-14)
    with pytest.raises(ValueError, match="n must"):
        ec.monte_carlo(ec.parse("x"), "uniform", {"low": 0, "high": 1}, n=1)
    with pytest.raises(ValueError, match=r"g is undefined at \d+ of the 1000 samples"):
        ec.monte_carlo(ec.parse("log(x)"), "normal", {"mu": 0, "sigma": 1}, n=1000)
    with pytest.raises(ValueError, match="sigma"):
        ec.monte_carlo_run(ec.parse("x"), "normal", {"mu": 0, "sigma": -1}, n=100)


def test_polynomial_expectations_are_exact():
    # closed forms: E[(X - 1)^2] = Var X + (E X - 1)^2 = 2 under normal(0, 1); the third
    # central moment of an exponential is 2 / rate^3 = 16 for rate 1/2 (its mean is 2).
    # "exact": SymPy finished within its time limit (unexpanded, (x - 1)^2 took it over 2 s)
    r = ec.expectation(ec.parse("(x-1)^2"), "normal", {"mu": 0.0, "sigma": 1.0})
    assert r.method == "exact" and float(r) == pytest.approx(2.0, abs=1e-12)
    r = ec.expectation(ec.parse("(x-2)^3"), "exponential", {"rate": 0.5})
    assert r.method == "exact" and float(r) == pytest.approx(16.0, abs=1e-10)
