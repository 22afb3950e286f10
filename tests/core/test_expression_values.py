"""Values, derivatives, gradients and Hessians of parsed functions against independent SymPy.

Every reference here is built directly with SymPy (never through ``explorer.core.parse``),
differentiated with ``sp.diff`` and evaluated with 30-digit ``evalf``; the core's compiled NumPy
evaluation must agree to ~1e-9.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp

import explorer.core as ec
from explorer.core import ExpressionError, Function, parse

X = sp.Symbol("x", real=True)
Y = sp.Symbol("y", real=True)

RTOL = 1e-9
ATOL = 1e-12

# Sample points (floats exactly as NumPy sees them). Kinked functions use points away from kinks.
SMOOTH = [-2.5, -1.0, -0.3, 0.0, 0.7, 1.9, 3.2]
WIDE = [-30.0, -3.5, -0.5, 0.0, 0.8, 4.0, 30.0]
AWAY_FROM_0 = [-2.5, -1.0, -0.3, 0.4, 1.9, 3.2]
POSITIVE = [0.05, 0.3, 1.0, 2.5, 7.0]
INSIDE_1 = [-0.9, -0.5, 0.0, 0.3, 0.8]


def ref_number(expr: sp.Expr, subs: dict) -> float:
    """Evaluate a SymPy expression at a point with 30 digits; NaN where undefined or complex."""
    exact = {s: sp.Float(float(v), 40) for s, v in subs.items()}
    try:
        value = complex(expr.subs(exact).evalf(30))
    except (TypeError, ValueError):
        return math.nan
    if not (math.isfinite(value.real) and math.isfinite(value.imag)):
        return math.nan
    if abs(value.imag) > 1e-20 * max(1.0, abs(value.real)):
        return math.nan
    return value.real


def ref_values(expr: sp.Expr, points, symbols=(X,)) -> np.ndarray:
    rows = []
    for p in points:
        coords = np.atleast_1d(p)
        rows.append(ref_number(expr, dict(zip(symbols, coords, strict=True))))
    return np.array(rows)


# (text typed by the user, SymPy reference built independently, sample points)
ONE_VARIABLE = [
    ("sin(x)*exp(-x**2/5)", lambda x: sp.sin(x) * sp.exp(-(x**2) / 5), SMOOTH),
    ("sigmoid(x)", lambda x: 1 / (1 + sp.exp(-x)), WIDE),
    ("softplus(x)", lambda x: sp.log(1 + sp.exp(x)), WIDE),
    ("gelu(x)", lambda x: x / 2 * (1 + sp.erf(x / sp.sqrt(2))), SMOOTH),
    ("relu(x)", lambda x: sp.Max(0, x), AWAY_FROM_0),
    ("abs(x)", lambda x: sp.Abs(x), AWAY_FROM_0),
    ("tanh(x)", lambda x: sp.tanh(x), SMOOTH),
    ("erf(x)", lambda x: sp.erf(x), SMOOTH),
    ("x^3 - 3x + 1", lambda x: x**3 - 3 * x + 1, SMOOTH),
    # implicit multiplication, ^, e and unicode
    ("2x", lambda x: 2 * x, SMOOTH),
    ("3(x+1)", lambda x: 3 * (x + 1), SMOOTH),
    ("(x+1)(x-1)", lambda x: (x + 1) * (x - 1), SMOOTH),
    ("2 pi x", lambda x: 2 * sp.pi * x, SMOOTH),
    ("x^2 - 2x + 2", lambda x: x**2 - 2 * x + 2, SMOOTH),
    ("e^x", lambda x: sp.exp(x), SMOOTH),
    ("log(1 + e^x)", lambda x: sp.log(1 + sp.exp(x)), SMOOTH),
    ("2π x", lambda x: 2 * sp.pi * x, SMOOTH),
    ("π x^2", lambda x: sp.pi * x**2, SMOOTH),
    ("x²", lambda x: x**2, SMOOTH),
    ("x sin(x)", lambda x: x * sp.sin(x), SMOOTH),
    ("2sin(x)cos(x)", lambda x: 2 * sp.sin(x) * sp.cos(x), SMOOTH),
    ("sin(x)(x+1)", lambda x: sp.sin(x) * (x + 1), SMOOTH),
    # the rest of the function table
    ("sqrt(x^2 + 1)", lambda x: sp.sqrt(x**2 + 1), SMOOTH),
    ("atan(x) + arctan(2x)", lambda x: sp.atan(x) + sp.atan(2 * x), SMOOTH),
    ("asin(x) + arccos(x/2)", lambda x: sp.asin(x) + sp.acos(x / 2), INSIDE_1),
    ("tan(x)", lambda x: sp.tan(x), [-1.4, -0.6, 0.0, 0.5, 1.2]),
    ("log(x)", lambda x: sp.log(x), POSITIVE),
    ("x ln(x)", lambda x: x * sp.log(x), POSITIVE),
    (
        "log10(x) + log2(x) + log(x, 3)",
        lambda x: sp.log(x) * (1 / sp.log(10) + 1 / sp.log(2) + 1 / sp.log(3)),
        POSITIVE,
    ),
    ("x^(1/3)", lambda x: sp.root(x, 3), POSITIVE),
    ("2^x", lambda x: 2**x, SMOOTH),
    ("1/(1 + x^2)", lambda x: 1 / (1 + x**2), SMOOTH),
    ("cosh(x) - sinh(x/2)", lambda x: sp.cosh(x) - sp.sinh(x / 2), SMOOTH),
    (
        "asinh(x) + acosh(x^2 + 2) + atanh(x/4)",
        lambda x: sp.asinh(x) + sp.acosh(x**2 + 2) + sp.atanh(x / 4),
        SMOOTH,
    ),
    ("exp(-x^2)", lambda x: sp.exp(-(x**2)), SMOOTH),
    ("max(x, 1) + min(x, -1)", lambda x: sp.Max(x, 1) + sp.Min(x, -1), [-2.5, -0.5, 0.0, 0.5, 1.9]),
    ("sign(x) x^2", lambda x: sp.sign(x) * x**2, AWAY_FROM_0),
    (
        "sigmoid(2x - 1) softplus(x)",
        lambda x: sp.log(1 + sp.exp(x)) / (1 + sp.exp(1 - 2 * x)),
        SMOOTH,
    ),
]


@pytest.mark.parametrize("text, build, points", ONE_VARIABLE, ids=[c[0] for c in ONE_VARIABLE])
@pytest.mark.parametrize("order", [0, 1, 2])
def test_values_and_derivatives_match_sympy(text, build, points, order):
    f = parse(text)
    assert isinstance(f, Function)
    assert f.variables == ("x",)
    assert f.parameters == {}
    reference = sp.diff(build(X), X, order) if order else build(X)
    expected = ref_values(reference, points)
    assert np.all(np.isfinite(expected)), (
        "the sample points must lie where the reference is defined"
    )
    g = f.derivative("x", order) if order else f
    actual = g(np.array(points))
    assert actual.dtype == np.float64
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)
    # the default variable is the first one
    if order:
        np.testing.assert_allclose(
            f.derivative(order=order)(np.array(points)), expected, rtol=RTOL, atol=ATOL
        )


@pytest.mark.parametrize("text", ["2πx", "πx", "sin(πx)"])
def test_unicode_pi_glued_to_a_variable(text):
    # regression: "πx" used to read as one parameter named "pix"
    f = parse(text)
    assert f.parameters == {}
    reference = {"2πx": 2 * sp.pi * X, "πx": sp.pi * X, "sin(πx)": sp.sin(sp.pi * X)}[text]
    np.testing.assert_allclose(
        f(np.array(SMOOTH)), ref_values(reference, SMOOTH), rtol=RTOL, atol=ATOL
    )


def test_implicit_product_of_two_letters_is_x_times_y():
    f = parse("xy + 2x y")
    assert f.variables == ("x", "y")
    assert f.parameters == {}
    pts = [(1.5, -2.0), (0.25, 3.0)]
    expected = ref_values(3 * X * Y, pts, (X, Y))
    np.testing.assert_allclose(f(*np.array(pts).T), expected, rtol=RTOL)


# --------------------------------------------------------------------------------------------
# Parameters and explicit variables


def test_parameters_are_inferred_with_default_one():
    h = parse("a*x**2 + b*y**2")
    assert h.variables == ("x", "y")
    assert h.parameters == {"a": 1.0, "b": 1.0}
    assert all(type(v) is float for v in h.parameters.values())
    np.testing.assert_allclose(h(1.5, -2.0), 1.5**2 + (-2.0) ** 2, rtol=RTOL)


def test_with_parameters_returns_a_new_function():
    h = parse("a*x**2 + b*y**2")
    h2 = h.with_parameters(a=2.0)
    assert isinstance(h2, Function)
    assert h2.parameters == {"a": 2.0, "b": 1.0}
    assert h.parameters == {"a": 1.0, "b": 1.0}, "the original is unchanged"
    a, b = sp.symbols("a b", real=True)
    reference = (a * X**2 + b * Y**2).subs({a: 2, b: 1})
    pts = [(1.5, -2.0), (-0.5, 0.25), (0.0, 3.0)]
    np.testing.assert_allclose(h2(*np.array(pts).T), ref_values(reference, pts, (X, Y)), rtol=RTOL)
    unchanged = (a * X**2 + b * Y**2).subs({a: 1, b: 1})
    np.testing.assert_allclose(h(*np.array(pts).T), ref_values(unchanged, pts, (X, Y)), rtol=RTOL)
    # parameter values flow into derivatives, gradient and Hessian
    np.testing.assert_allclose(h2.derivative("x", 2)(0.3, 0.1), 4.0, rtol=RTOL)
    np.testing.assert_allclose(h2.gradient((1.0, 2.0)), [4.0, 4.0], rtol=RTOL)
    np.testing.assert_allclose(h2.hessian((1.0, 2.0)), [[4.0, 0.0], [0.0, 2.0]], rtol=RTOL)
    np.testing.assert_allclose(
        h.with_parameters(b=-3.0).gradient((1.0, 2.0)), [2.0, -12.0], rtol=RTOL
    )


def test_with_parameters_rejects_unknown_names():
    with pytest.raises(KeyError):
        parse("a*x").with_parameters(c=1.0)


def test_parameters_property_is_a_copy():
    h = parse("a*x")
    h.parameters["a"] = 5.0
    assert h.parameters == {"a": 1.0}
    assert h(2.0) == 2.0


def test_explicit_variables():
    f = parse("(w*2 + b - 1)**2", variables=("w", "b"))
    assert f.variables == ("w", "b")
    assert f.parameters == {}
    w, b = sp.symbols("w b", real=True)
    reference = (w * 2 + b - 1) ** 2
    pts = [(1.0, 2.0), (-0.5, 0.3), (0.25, -1.0)]
    np.testing.assert_allclose(f(*np.array(pts).T), ref_values(reference, pts, (w, b)), rtol=RTOL)
    for p in pts:
        grad = [
            ref_number(sp.diff(reference, v), dict(zip((w, b), p, strict=True))) for v in (w, b)
        ]
        np.testing.assert_allclose(f.gradient(p), grad, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(f.hessian((1.0, 2.0)), [[8.0, 4.0], [4.0, 2.0]], rtol=RTOL)


def test_without_explicit_variables_other_names_are_parameters():
    f = parse("(w*2 + b - 1)**2")
    assert f.variables == ("x",)
    assert f.parameters == {"w": 1.0, "b": 1.0}
    assert f(123.0) == pytest.approx(4.0)  # (2 + 1 - 1)**2, constant in x


# --------------------------------------------------------------------------------------------
# Gradient and Hessian of two-variable functions

TWO_VARIABLES = [
    ("(1-x)^2 + 100(y-x^2)^2", (1 - X) ** 2 + 100 * (Y - X**2) ** 2),
    ("sin(x)cos(y)", sp.sin(X) * sp.cos(Y)),
    ("x^2 y + exp(x y)", X**2 * Y + sp.exp(X * Y)),
    ("log(1 + x^2 + y^2)", sp.log(1 + X**2 + Y**2)),
    ("sigmoid(x y) + softplus(x - y)", 1 / (1 + sp.exp(-X * Y)) + sp.log(1 + sp.exp(X - Y))),
    (
        "sqrt(x^2 + y^2 + 1) - gelu(y)",
        sp.sqrt(X**2 + Y**2 + 1) - Y / 2 * (1 + sp.erf(Y / sp.sqrt(2))),
    ),
]
POINTS_2D = [(1.0, 2.0), (-1.5, 0.5), (0.3, -0.7)]


@pytest.mark.parametrize("text, reference", TWO_VARIABLES, ids=[c[0] for c in TWO_VARIABLES])
def test_gradient_and_hessian_match_sympy(text, reference):
    h = parse(text)
    assert h.variables == ("x", "y")
    np.testing.assert_allclose(
        h(*np.array(POINTS_2D).T), ref_values(reference, POINTS_2D, (X, Y)), rtol=RTOL
    )
    grad_ref = [sp.diff(reference, v) for v in (X, Y)]
    hess_ref = sp.hessian(reference, (X, Y))
    for p in POINTS_2D:
        at = dict(zip((X, Y), p, strict=True))
        g = h.gradient(p)
        assert g.shape == (2,) and g.dtype == np.float64
        np.testing.assert_allclose(g, [ref_number(e, at) for e in grad_ref], rtol=RTOL, atol=ATOL)
        H = h.hessian(p)
        assert H.shape == (2, 2) and H.dtype == np.float64
        expected = [[ref_number(hess_ref[i, j], at) for j in range(2)] for i in range(2)]
        np.testing.assert_allclose(H, expected, rtol=RTOL, atol=ATOL)
        np.testing.assert_array_equal(H, H.T)
    # mixed partials through the public diff as well
    np.testing.assert_allclose(
        h.diff("x", "y")(*np.array(POINTS_2D).T),
        ref_values(sp.diff(reference, X, Y), POINTS_2D, (X, Y)),
        rtol=RTOL,
        atol=ATOL,
    )


def test_gradient_accepts_lists_and_arrays():
    h = parse("x^2 + 3y")
    np.testing.assert_allclose(h.gradient([2.0, 5.0]), [4.0, 3.0])
    np.testing.assert_allclose(h.gradient(np.array([2.0, 5.0])), [4.0, 3.0])
    np.testing.assert_allclose(parse("x^3").gradient((2.0,)), [12.0])
    np.testing.assert_allclose(parse("x^3").hessian((2.0,)), [[12.0]])


# --------------------------------------------------------------------------------------------
# NaN where undefined, complex or overflowing; never an exception, never a warning


@pytest.mark.parametrize(
    "text, x",
    [
        ("sqrt(x)", -1.0),
        ("log(x)", -1.0),
        ("log(x)", 0.0),
        ("1/x", 0.0),
        ("1/x", -0.0),
        ("x^0.5", -4.0),
        ("x^(1/3)", -8.0),
        ("asin(x)", 2.0),
        ("acosh(x)", 0.5),
        ("atanh(x)", 1.0),
        ("exp(x)", 1000.0),
        ("x^1000", 10.0),
        ("sqrt(x)", math.inf),
        ("sin(x)", math.nan),
    ],
)
def test_nan_where_undefined(text, x):
    f = parse(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = f(x)
        array = f(np.array([x, x]))
    assert np.isnan(value)
    assert np.all(np.isnan(array)) and array.shape == (2,)


def test_nan_only_where_undefined_in_an_array():
    xs = np.array([-4.0, -1.0, 0.0, 0.25, 4.0])
    np.testing.assert_array_equal(parse("sqrt(x)")(xs), [np.nan, np.nan, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(
        parse("log(x)")(np.array([-1.0, 0.0, 1.0])), [np.nan, np.nan, 0.0]
    )
    np.testing.assert_array_equal(parse("1/x")(np.array([-2.0, 0.0, 4.0])), [-0.5, np.nan, 0.25])
    # derivative of sqrt is infinite at 0 and undefined below: NaN both
    np.testing.assert_array_equal(
        parse("sqrt(x)").derivative()(np.array([-1.0, 0.0, 4.0])), [np.nan, np.nan, 0.25]
    )


@pytest.mark.parametrize("text", ["sqrt(-1)", "log(-1)", "(-8)^(1/3)", "asin(2)", "sqrt(-1) + x"])
def test_complex_results_are_nan(text):
    f = parse(text)
    xs = np.linspace(-2, 2, 7)
    out = f(xs)
    assert out.shape == xs.shape and out.dtype == np.float64
    assert np.all(np.isnan(out))
    assert np.isnan(f(0.5))


def test_literal_division_by_zero_is_refused_at_parse_time():
    # "1/0" is undefined everywhere: the parser says so rather than returning all-NaN
    with pytest.raises(ExpressionError) as info:
        parse("1/0")
    assert "zero" in info.value.message
    assert info.value.column == 3


# --------------------------------------------------------------------------------------------
# Broadcasting and dtype


def test_scalar_in_scalar_out():
    f = parse("sin(x)*exp(-x**2/5)")
    out = f(0.5)
    assert np.ndim(out) == 0
    assert np.asarray(out).dtype == np.float64
    assert float(out) == pytest.approx(math.sin(0.5) * math.exp(-0.05), rel=1e-14)
    assert np.asarray(f(2)).dtype == np.float64  # int in, float64 out
    assert np.asarray(f(np.float32(0.5))).dtype == np.float64


@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (3, 4), (2, 3, 4)])
def test_array_shapes_are_kept(shape):
    f = parse("x^2 - 2x + 2")
    xs = np.random.default_rng(0).normal(size=shape)
    for g in (f, f.derivative("x"), f.derivative("x", 2), parse("5"), parse("x")):
        out = g(xs)
        assert out.shape == shape
        assert out.dtype == np.float64
    np.testing.assert_allclose(f(xs), xs**2 - 2 * xs + 2, rtol=1e-14)
    np.testing.assert_array_equal(f.derivative("x", 2)(xs), np.full(shape, 2.0))
    np.testing.assert_array_equal(parse("5")(xs), np.full(shape, 5.0))


def test_list_input_becomes_float64_array():
    out = parse("x/2")([1, 2, 3])
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.5, 1.0, 1.5])


def test_two_variable_mesh_and_broadcasting():
    h = parse("sin(x)cos(y) + x y^2")
    reference = sp.sin(X) * sp.cos(Y) + X * Y**2
    xs = np.linspace(-2, 2, 9)
    ys = np.linspace(-1, 3, 5)
    XX, YY = np.meshgrid(xs, ys)
    mesh = h(XX, YY)
    assert mesh.shape == (5, 9) and mesh.dtype == np.float64
    broadcast = h(xs[None, :], ys[:, None])
    assert broadcast.shape == (5, 9)
    np.testing.assert_array_equal(mesh, broadcast)
    scalar_y = h(xs, 0.5)
    assert scalar_y.shape == (9,)
    for i, j in [(0, 0), (2, 7), (4, 8), (3, 4)]:
        expected = ref_number(reference, {X: xs[j], Y: ys[i]})
        assert mesh[i, j] == pytest.approx(expected, rel=RTOL, abs=ATOL)
    np.testing.assert_allclose(
        scalar_y, ref_values(reference, [(x, 0.5) for x in xs], (X, Y)), rtol=RTOL
    )
    dx = h.derivative("x")(XX, YY)
    assert dx.shape == (5, 9)
    np.testing.assert_allclose(dx, np.cos(XX) * np.cos(YY) + YY**2, rtol=1e-12, atol=1e-14)
    # a constant of two variables still broadcasts to the full mesh
    assert parse("x + y - x - y + 3").__call__(XX, YY).shape == (5, 9)


def test_wrong_number_of_arguments_is_a_type_error():
    with pytest.raises(TypeError):
        parse("x*y")(1.0)
    with pytest.raises(TypeError):
        parse("sin(x)")(1.0, 2.0)


# --------------------------------------------------------------------------------------------
# Non-smooth points: PyTorch's subgradient convention


@pytest.mark.parametrize("text", ["relu(x)", "abs(x)"])
def test_subgradient_at_zero_is_zero(text):
    f = parse(text)
    assert f.derivative("x")(0.0) == 0.0
    np.testing.assert_array_equal(f.derivative("x")(np.array([0.0, -0.0])), [0.0, 0.0])


@pytest.mark.parametrize("text", ["max(x, 0)", "max(0, x)", "min(x, 0)"])
def test_ties_split_the_gradient_as_torch_maximum_does(text):
    # torch.maximum / torch.minimum pass grad/2 to each side where the two are equal
    f = parse(text)
    assert f.derivative("x")(0.0) == 0.5
    np.testing.assert_array_equal(f.derivative("x")(np.array([-1.0, 1.0])),
                                  [0.0, 1.0] if text.startswith("max") else [1.0, 0.0])


def test_max_of_equal_arguments_has_their_derivative():
    f = parse("max(x, x)")
    np.testing.assert_array_equal(f.derivative("x")(np.array([-1.0, 0.0, 2.0])), [1.0, 1.0, 1.0])


def test_subgradient_away_from_zero():
    xs = np.array([-2.0, -1e-9, 0.0, 1e-9, 2.0])
    np.testing.assert_array_equal(parse("relu(x)").derivative()(xs), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(parse("abs(x)").derivative()(xs), [-1, -1, 0, 1, 1])
    # second derivatives of the kinks vanish everywhere (the Dirac delta is not drawn)
    np.testing.assert_array_equal(parse("relu(x)").derivative("x", 2)(xs), np.zeros(5))
    np.testing.assert_array_equal(parse("abs(x)").derivative("x", 2)(xs), np.zeros(5))


def test_subgradient_inside_a_composition():
    # d/dx relu(x^2 - 1) = 2x H(x^2 - 1), with H(0) = 0: zero at x = +-1
    f = parse("relu(x^2 - 1)").derivative()
    np.testing.assert_array_equal(
        f(np.array([-2.0, -1.0, 0.0, 1.0, 2.0])), [-4.0, 0.0, 0.0, 0.0, 4.0]
    )
    g = parse("abs(x - 1)").derivative()
    np.testing.assert_array_equal(g(np.array([0.0, 1.0, 2.0])), [-1.0, 0.0, 1.0])


# --------------------------------------------------------------------------------------------
# Derivative API


def test_derivative_order_zero_and_errors():
    f = parse("x^3")
    assert f.derivative("x", 0)(2.0) == 8.0
    with pytest.raises(ValueError):
        f.derivative("x", -1)
    with pytest.raises(KeyError):
        f.derivative("y")
    np.testing.assert_allclose(f.derivative("x", 3)(np.array([-1.0, 5.0])), [6.0, 6.0])
    np.testing.assert_array_equal(f.derivative("x", 4)(np.array([-1.0, 5.0])), [0.0, 0.0])


def test_derivative_of_derivative_is_the_higher_derivative():
    f = parse("sin(x)*exp(-x**2/5)")
    xs = np.array(SMOOTH)
    np.testing.assert_allclose(
        f.derivative().derivative().derivative()(xs),
        f.derivative("x", 3)(xs),
        rtol=1e-12,
        atol=1e-14,
    )
    expected = ref_values(sp.diff(sp.sin(X) * sp.exp(-(X**2) / 5), X, 3), SMOOTH)
    np.testing.assert_allclose(f.derivative("x", 3)(xs), expected, rtol=RTOL, atol=ATOL)


def test_derivative_keeps_parameter_values():
    f = parse("a*x^3 + b").with_parameters(a=2.0, b=7.0)
    np.testing.assert_allclose(f.derivative("x", 2)(1.5), 2.0 * 6 * 1.5)
    np.testing.assert_allclose(f.derivative("x").with_parameters(a=-1.0)(2.0), -12.0)
    np.testing.assert_allclose(f.with_parameters(a=-1.0).derivative("x")(2.0), -12.0)


# --------------------------------------------------------------------------------------------
# tangent


@pytest.mark.parametrize("x0", [-1.3, 0.0, 0.5, 2.2])
def test_tangent_against_closed_form(x0):
    f = parse("sin(x)*exp(-x**2/5)")
    reference = sp.sin(X) * sp.exp(-(X**2) / 5)
    slope_ref = ref_number(sp.diff(reference, X), {X: x0})
    intercept_ref = ref_number(reference, {X: x0}) - slope_ref * x0
    slope, intercept = ec.tangent(f, x0)
    assert isinstance(slope, float) and isinstance(intercept, float)
    assert slope == pytest.approx(slope_ref, rel=RTOL, abs=ATOL)
    assert intercept == pytest.approx(intercept_ref, rel=RTOL, abs=ATOL)


def test_tangent_simple_cases():
    assert ec.tangent(parse("x^2"), 3) == pytest.approx((6.0, -9.0))
    assert ec.tangent(parse("a x^2").with_parameters(a=3.0), 1.0) == pytest.approx((6.0, -3.0))
    assert ec.tangent(parse("relu(x)"), 0.0) == (0.0, 0.0)
    assert ec.tangent(parse("2x + 1"), -7.5) == pytest.approx((2.0, 1.0))


def test_tangent_where_undefined_is_nan():
    slope, intercept = ec.tangent(parse("sqrt(x)"), -1.0)
    assert math.isnan(slope) and math.isnan(intercept)
    slope, intercept = ec.tangent(parse("sqrt(x)"), 0.0)  # vertical tangent
    assert math.isnan(slope) and math.isnan(intercept)


def test_tangent_needs_one_variable():
    with pytest.raises(ValueError):
        ec.tangent(parse("x*y"), 1.0)


# --------------------------------------------------------------------------------------------
# The SymPy form and LaTeX


def test_latex_is_sympy_latex():
    f = parse("sin(x)*exp(-x**2/5)")
    assert isinstance(f.latex, str) and f.latex
    assert "\\sin" in f.latex
    assert f.latex == sp.latex(sp.sin(X) * sp.exp(-(X**2) / 5))


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("sin(x)", "\\sin"),
        ("cos(x)", "\\cos"),
        ("sqrt(x)", "\\sqrt"),
        ("2 pi x", "\\pi"),
        ("x^2/3", "\\frac"),
        ("log(x)", "\\log"),
        ("sigmoid(x)", "\\sigma"),
        ("softplus(x)", "softplus"),
    ],
)
def test_latex_fragments(text, fragment):
    latex = parse(text).latex
    assert isinstance(latex, str) and latex.strip()
    assert fragment in latex


def test_expr_is_the_sympy_expression():
    f = parse("x^2 - 2x + 2")
    assert isinstance(f.expr, sp.Expr)
    assert sp.expand(f.expr - (X**2 - 2 * X + 2)) == 0
    assert parse("e^x").expr == sp.exp(X)
    assert parse("2 pi x").expr == 2 * sp.pi * X


def test_sympy_caches_are_emptied_past_their_limit_and_parsing_still_works():
    """A long session fills SymPy's caches (every slider value makes new expressions):
    trim_sympy_cache empties them once they hold more than the limit, and only then."""
    from explorer.core.expression import parse, sympy_cache_entries, trim_sympy_cache

    for i in range(20):
        parse(f"x^2 + {i}.25*sin(x)")
    held = sympy_cache_entries()
    assert held > 50
    assert not trim_sympy_cache(held)  # at the limit: kept
    assert sympy_cache_entries() == held
    assert trim_sympy_cache(held - 1)  # past it: emptied
    assert sympy_cache_entries() == 0
    f = parse("x^2 + 3.25*sin(x)")  # and SymPy works as before, from a cold cache
    assert f(0.7) == pytest.approx(0.49 + 3.25 * math.sin(0.7), rel=1e-15)
    assert f.diff("x")(0.7) == pytest.approx(1.4 + 3.25 * math.cos(0.7), rel=1e-15)
