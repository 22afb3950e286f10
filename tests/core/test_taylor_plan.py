"""Taylor plans (symbolic once, numeric per centre), tolerance intervals and inflection points,
against independent answers: mpmath's high-precision derivatives, SymPy's series, brentq."""

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq

import explorer.core as ec
from explorer.core.calculus import interval_within

mp.mp.dps = 50


def mp_coefficients(g, x0, order):
    """c_k by mpmath's high-precision numerical differentiation (independent of our code)."""
    return np.array([float(c) for c in mp.taylor(g, mp.mpf(x0), order)])


def test_plan_of_a_polynomial_is_symbolic_to_the_top():
    f = ec.parse("x^4/4 - x^2 + x/4")
    plan = ec.plan_taylor(f, max_order=12)
    assert plan.symbolic_order == 12 and plan.analytic
    assert plan.method(12) == "symbolic"
    c = ec.taylor(f, 1.5, 6, plan=plan)
    x = sp.Symbol("x")
    series = sp.series(x**4 / 4 - x**2 + x / 4, x, sp.Rational(3, 2), 7).removeO()
    expected = [float(series.subs(x, x + sp.Rational(3, 2)).expand().coeff(x, k)) for k in range(7)]
    assert c.method == "symbolic"
    np.testing.assert_allclose(c.coefficients, expected, atol=1e-13)


@pytest.mark.parametrize("x0", [-1.2, 0.3, 2.0])
def test_planned_series_matches_mpmath_at_order_20(x0):
    # SymPy needs seconds for order 20 of this product; the plan stops in time and the
    # orders above go to Cauchy's formula, which must still match.
    f = ec.parse("sin(x)*exp(-x^2/5)")
    plan = ec.plan_taylor(f, max_order=30, seconds=0.3)
    assert plan.symbolic_order < 20
    series = ec.taylor(f, x0, 20, plan=plan)
    assert series.method == "cauchy"
    expected = mp_coefficients(lambda t: mp.sin(t) * mp.exp(-t**2 / 5), x0, 20)
    np.testing.assert_allclose(series.coefficients[:13], expected[:13], rtol=1e-8, atol=1e-14)
    # the polynomial itself, inside the disc the circle sampled
    ts = np.linspace(-0.8, 0.8, 9)
    poly = lambda c: np.polyval(c[::-1], ts)  # noqa: E731
    np.testing.assert_allclose(poly(series.coefficients), poly(expected), atol=1e-12)


def test_planned_low_orders_stay_symbolic():
    f = ec.parse("sin(x)*exp(-x^2/5)")
    plan = ec.plan_taylor(f, max_order=30, seconds=0.3)
    low = ec.taylor(f, 0.5, min(plan.symbolic_order, 3), plan=plan)
    assert low.method == "symbolic"
    np.testing.assert_allclose(
        low.coefficients, mp_coefficients(lambda t: mp.sin(t) * mp.exp(-t**2 / 5), 0.5, low.coefficients.size - 1),
        rtol=1e-12, atol=1e-15)


def test_planned_series_of_a_kink_beyond_the_symbolic_order_is_refused():
    plan = ec.TaylorPlan(symbolic_order=2, analytic=False)
    with pytest.raises(ValueError, match="kinks"):
        ec.taylor(ec.parse("abs(x - 1)"), 0.0, 5, plan=plan)


def test_cauchy_refuses_a_centre_where_f_is_undefined():
    with pytest.raises(ValueError, match="undefined at the centre"):
        ec.taylor(ec.parse("log(1 + x)"), -2.0, 5, method="cauchy")


def test_plan_makes_no_symbolic_work_afterwards(monkeypatch):
    f = ec.parse("x^2 exp(-x)")
    plan = ec.plan_taylor(f, max_order=8, seconds=10)
    assert plan.symbolic_order == 8
    monkeypatch.setattr(sp, "diff", lambda *a, **k: pytest.fail("symbolic work after the plan"))
    ec.taylor(f, 0.7, 8, plan=plan)


def test_tolerance_interval_of_sine_matches_brentq():
    f = ec.parse("sin(x)")
    series = ec.taylor(f, 0.0, 3)
    tol = 1e-3
    err = lambda x: abs(math.sin(x) - (x - x**3 / 6)) - tol  # noqa: E731
    right = brentq(err, 0.1, 2.0)
    lo, hi = ec.tolerance_interval(f, series, tol, (-3, 3))
    assert hi == pytest.approx(right, abs=2e-3)
    assert lo == pytest.approx(-right, abs=2e-3)  # sine is odd, so is the error


def test_tolerance_interval_reaches_the_bounds_for_a_polynomial():
    f = ec.parse("x^2 - 2x + 2")
    series = ec.taylor(f, 1.0, 2)
    assert ec.tolerance_interval(f, series, 1e-9, (-4, 5)) == (-4.0, 5.0)


def test_interval_within_edge_cases():
    xs = np.linspace(0, 1, 11)
    err = np.array([1, 1, 1, 0.1, 0.01, 0, 0.01, 0.1, 1, np.nan, 1.0])
    lo, hi = interval_within(xs, err, 0.5, 0.1)
    assert 0.2 < lo <= 0.3 + 1e-12 and 0.7 - 1e-12 <= hi < 0.8
    assert interval_within(xs, err, 2.0, 0.1) is None       # centre outside
    assert interval_within(xs, err, 0.0, 0.1) is None       # error above the tolerance there
    assert interval_within(xs, err, 0.5, 0.0) is None       # no tolerance


@pytest.mark.parametrize("text, expected", [
    ("x^3", [0.0]),
    ("x^4", []),
    ("x^3 - 3x", [0.0]),
    ("sin(x)", [-math.pi, 0.0, math.pi]),
])
def test_inflection_points_of_known_curves(text, expected):
    points = ec.inflection_points(ec.parse(text), (-4, 4))
    assert [p.kind for p in points] == ["inflection"] * len(expected)
    np.testing.assert_allclose([float(p.point[0]) for p in points], expected, atol=1e-9)


def test_inflection_points_of_a_transcendental_function_match_sign_changes():
    f = ec.parse("sin(x)*exp(-x^2/5)")
    xs = np.linspace(-4, 4, 200001)
    ys = np.sin(xs) * np.exp(-xs**2 / 5)
    d2 = np.gradient(np.gradient(ys, xs), xs)  # finite differences, not our derivatives
    inner = d2[2:-2]  # one-sided ends of np.gradient left out
    changes = xs[2:-3][np.sign(inner[:-1]) != np.sign(inner[1:])]
    found = [float(p.point[0]) for p in ec.inflection_points(f, (-4, 4))]
    assert len(found) == len(changes)
    np.testing.assert_allclose(found, changes, atol=1e-3)
