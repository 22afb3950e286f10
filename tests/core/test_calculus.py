"""Difference quotients, Taylor coefficients and critical points against independent answers."""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy.optimize import brentq

import explorer.core as ec

mp.mp.dps = 50


# -- difference quotients -------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["forward", "backward", "central"])
def test_quotient_is_the_textbook_formula(scheme):
    f = ec.parse("x^3 - 2x")
    x0, h = 1.3, 0.25
    g = lambda x: x**3 - 2 * x  # noqa: E731
    expected = {"forward": (g(x0 + h) - g(x0)) / h,
                "backward": (g(x0) - g(x0 - h)) / h,
                "central": (g(x0 + h) - g(x0 - h)) / (2 * h)}[scheme]
    assert ec.difference_quotient(f, x0, h, scheme) == pytest.approx(expected, rel=1e-14)


def test_truncation_orders_one_and_two():
    f = ec.parse("sin(x)")
    hs = np.array([1e-2, 1e-3])
    forward = np.abs(ec.difference_quotient(f, 1.0, hs, "forward") - math.cos(1.0))
    central = np.abs(ec.difference_quotient(f, 1.0, hs, "central") - math.cos(1.0))
    assert forward[0] / forward[1] == pytest.approx(10, rel=0.05)   # error ~ h
    assert central[0] / central[1] == pytest.approx(100, rel=0.05)  # error ~ h^2


def test_error_versus_h_falls_then_rises():
    # the V that floating point makes: truncation error for large h, round-off for tiny h
    f = ec.parse("exp(x)")
    hs = np.logspace(0, -16, 65)
    err = np.abs(ec.difference_quotient(f, 1.0, hs, "forward") - math.e)
    best = int(np.nanargmin(err))
    assert 0 < best < len(hs) - 1
    assert 1e-10 < hs[best] < 1e-6  # near sqrt(eps) for a one-sided quotient
    assert err[0] > 100 * err[best] and err[-1] > 100 * err[best]


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="scheme"):
        ec.difference_quotient(ec.parse("x"), 0.0, 0.1, "sideways")


# -- Taylor ------------------------------------------------------------------------------------

ANALYTIC = [
    ("sin(x)*exp(-x^2/5)", lambda x: mp.sin(x) * mp.exp(-x**2 / 5), (0.0, 0.7, -2.0)),
    ("log(1+x)", lambda x: mp.log(1 + x), (0.0, 1.0)),
    ("1/(1+x^2)", lambda x: 1 / (1 + x**2), (0.0, 1.5)),
    ("sigmoid(x)", lambda x: 1 / (1 + mp.exp(-x)), (0.0, 1.0)),
    ("tanh(x)", mp.tanh, (0.3,)),
    ("gelu(x)", lambda x: x / 2 * (1 + mp.erf(x / mp.sqrt(2))), (0.5,)),
    ("softplus(x)", lambda x: mp.log(1 + mp.exp(x)), (-1.0, 2.0)),
]


@pytest.mark.parametrize("text, ref, centres", ANALYTIC)
def test_cauchy_coefficients_match_mpmath_to_order_20(text, ref, centres):
    f = ec.parse(text)
    for x0 in centres:
        expected = np.array([float(c) for c in mp.taylor(ref, mp.mpf(x0), 20)])
        t = ec.taylor(f, x0, 20, method="cauchy")
        assert t.method == "cauchy" and t.radius > 0
        scale = np.abs(expected).max()
        np.testing.assert_allclose(t.coefficients, expected, rtol=0, atol=1e-10 * scale)


@pytest.mark.parametrize("text, ref, x0", [("x^3 - 2x + 1", lambda x: x**3 - 2 * x + 1, 0.5),
                                            ("exp(2x)", lambda x: mp.exp(2 * x), -0.3),
                                            ("cos(x)", mp.cos, 1.0)])
def test_symbolic_coefficients_match_mpmath(text, ref, x0):
    expected = np.array([float(c) for c in mp.taylor(ref, mp.mpf(x0), 8)])
    t = ec.taylor(ec.parse(text), x0, 8, method="symbolic")
    assert t.method == "symbolic"
    np.testing.assert_allclose(t.coefficients, expected, rtol=1e-12, atol=1e-14)


def test_auto_reports_its_method_and_falls_back_when_sympy_is_slow(monkeypatch):
    from explorer.core import calculus

    f = ec.parse("x^2 + 1")
    assert ec.taylor(f, 0.0, 4).method == "symbolic"
    monkeypatch.setattr(calculus, "SYMBOLIC_TIME_LIMIT", 1e-4)
    slow = ec.parse("sin(x)*exp(-x^2/5)*tanh(x/3)")  # fresh: no derivative cached
    t = ec.taylor(slow, 0.4, 20)
    assert t.method == "cauchy"


def test_polynomial_evaluates_by_horner():
    t = ec.taylor(ec.parse("exp(x)"), 0.5, 12)
    xs = np.linspace(0.0, 1.0, 7)
    direct = sum(c * (xs - 0.5) ** k for k, c in enumerate(t.coefficients))
    np.testing.assert_allclose(t(xs), direct, rtol=1e-14)
    np.testing.assert_allclose(t(xs), np.exp(xs), rtol=1e-9)


def test_kinks_have_no_numeric_series():
    with pytest.raises(ValueError, match="analytic"):
        ec.taylor(ec.parse("relu(x)"), 0.5, 3, method="cauchy")
    t = ec.taylor(ec.parse("relu(x)"), 0.5, 3)  # symbolic works: x on the right of the kink
    np.testing.assert_allclose(t.coefficients, [0.5, 1.0, 0.0, 0.0])


# -- critical points ---------------------------------------------------------------------------

def kinds(text, bounds=(-3, 3)):
    return [(round(float(c.point[0]), 6), c.kind) for c in ec.critical_points(ec.parse(text), bounds)]


@pytest.mark.parametrize("text, expected", [
    ("x^4", [(0.0, "minimum")]),
    ("-x^4", [(0.0, "maximum")]),
    ("x^3", [(0.0, "inflection")]),
    ("x^5", [(0.0, "inflection")]),
    ("x^3 - 3x", [(-1.0, "maximum"), (1.0, "minimum")]),
    ("x^4 - 2x^2", [(-1.0, "minimum"), (0.0, "maximum"), (1.0, "minimum")]),
    ("x^2 exp(-x)", [(0.0, "minimum"), (2.0, "maximum")]),
    ("sin(x)", [(-1.570796, "minimum"), (1.570796, "maximum")]),
    ("1/x", []),
    ("x", []),
])
def test_kinds_follow_the_first_non_vanishing_derivative(text, expected):
    assert kinds(text) == expected


def test_transcendental_roots_match_an_independent_search():
    # f = exp(-x^2) sin(3x): f' = exp(-x^2) (3 cos 3x - 2x sin 3x)
    g = lambda x: 3 * math.cos(3 * x) - 2 * x * math.sin(3 * x)  # noqa: E731
    grid = np.linspace(-3, 3, 3001)
    values = [g(x) for x in grid]
    expected = [brentq(g, grid[i], grid[i + 1]) for i in range(len(grid) - 1)
                if values[i] * values[i + 1] < 0]
    found = ec.critical_points(ec.parse("exp(-x^2) sin(3x)"), (-3, 3))
    np.testing.assert_allclose([c.point[0] for c in found], expected, atol=1e-9)
    for c in found:
        second = ec.parse("exp(-x^2) sin(3x)").derivative(order=2)(c.point[0])
        assert c.kind == ("minimum" if second > 0 else "maximum")
        assert c.value == pytest.approx(math.exp(-c.point[0] ** 2) * math.sin(3 * c.point[0]))


def test_parameters_take_their_values():
    f = ec.parse("a x^2 + b x").with_parameters(a=2.0, b=1.0)
    (c,) = ec.critical_points(f, (-3, 3))
    assert c.point[0] == pytest.approx(-0.25) and c.kind == "minimum"
