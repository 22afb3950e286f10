"""Safe parsing of user text into SymPy, and :class:`Function`: compiled, cached, NaN-safe.

User text never reaches ``eval``, ``sympify`` or ``parse_expr`` (they execute Python).
:mod:`.syntax` tokenises it and parses it with :mod:`ast`; here every node is checked against a
whitelist while the SymPy expression is built by hand. Length, nesting, node count, integer
size and exponents are bounded, and SymPy's work has a time limit, so that nothing the user
types can hang it.
"""

from __future__ import annotations

import ast
import functools
import math
import threading
from collections import OrderedDict

import numpy as np
import sympy as sp

from . import numeric
from .limits import TimeLimitExceeded, time_limit
from .syntax import (  # noqa: F401 - MAX_* and ExpressionError are part of this module's API
    ARITY,
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_LENGTH,
    MAX_NODES,
    ExpressionError,
    chain,
    read,
    user_name,
)

__all__ = ["ExpressionError", "Function", "parse", "FUNCTIONS", "CONSTANTS"]

MAX_EXPONENT = 1000  # |n| in a power with a numeric exponent
MAX_MAGNITUDE_LOG10 = 300  # numeric powers must stay below 10**300
PARSE_TIME_LIMIT = 0.5  # seconds of SymPy work to build one expression


# --------------------------------------------------------------------------------------------
# Functions the user may call. Custom SymPy functions keep the ML names visible in the
# typeset formula and give numerically stable evaluation.


def _latex_call(tex: str, printer, args, exp=None) -> str:
    inner = ", ".join(printer._print(a) for a in args)
    base = rf"{tex}\left({inner}\right)"
    return rf"{base}^{{{exp}}}" if exp else base


class _Activation(sp.Function):
    """A one-argument function SymPy keeps by name (typeset as such, evaluated stably by
    NumPy), with its closed form for evalf and ``rewrite(exp)``."""

    nargs = 1
    _tex = ""

    @staticmethod
    def _closed_form(z):
        raise NotImplementedError

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return self._closed_form(arg)

    def _eval_evalf(self, prec):
        return self._closed_form(self.args[0])._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        return _latex_call(self._tex, printer, self.args, exp)


class sigmoid(_Activation):  # noqa: N801 - the name the user types and sees
    """Logistic sigmoid 1 / (1 + exp(-z)), with derivative sigmoid(z) (1 - sigmoid(z))."""

    _tex = r"\sigma"

    @staticmethod
    def _closed_form(z):
        return 1 / (1 + sp.exp(-z))

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, arg):  # safe: SymPy's Function.eval hook, not Python's eval
        if arg.is_zero:
            return sp.Rational(1, 2)
        return None


class softplus(_Activation):  # noqa: N801
    """log(1 + exp(z)), whose derivative is sigmoid(z)."""

    _tex = r"\operatorname{softplus}"

    @staticmethod
    def _closed_form(z):
        return sp.log(1 + sp.exp(z))

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])


class tie_step(sp.Function):  # noqa: N801
    """Step function with value 1/2 at 0: where max(a, b) has a tie, its derivative splits
    evenly between a and b (so max(x, x)' = 1), as PyTorch's maximum does."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.S.Zero  # its Dirac part is dropped, as for Heaviside in numeric use

    def _latex(self, printer, exp=None):
        return _latex_call(r"\theta", printer, self.args, exp)


class _Extremum(sp.Function):
    """max(a, b, ...) / min(a, b, ...) that SymPy does not try to simplify.

    SymPy's own Max compares every pair of arguments symbolically: max of a dozen parameters
    took seconds to build and seconds more to compile. Here the arguments stay as typed;
    the derivative along argument i is 1 where it is the strict extreme, else 0 (a tie between
    two splits it evenly), and NumPy evaluates it with one reduce.
    """

    _tex = ""  # \max or \min

    @classmethod
    def eval(cls, *args):  # safe: SymPy's Function.eval hook, not Python's eval
        return None

    def fdiff(self, argindex=1):
        i = argindex - 1
        sign = 1 if self._tex == r"\max" else -1
        indicator = sp.S.One
        for j, other in enumerate(self.args):
            if j != i:
                indicator *= tie_step(sign * (self.args[i] - other))
        return indicator

    def _eval_is_real(self):
        return all(a.is_real for a in self.args) or None

    def _eval_evalf(self, prec):
        values = [a.evalf(prec) for a in self.args]
        if all(v.is_Number and v.is_real for v in values):
            return max(values) if self._tex == r"\max" else min(values)
        return None

    def _latex(self, printer, exp=None):
        return _latex_call(self._tex, printer, self.args, exp)

    def _sympystr(self, printer):
        return f"{self._tex[1:]}({', '.join(printer._print(a) for a in self.args)})"


class max_(_Extremum):  # noqa: N801 - printed as max(...)
    _tex = r"\max"


class min_(_Extremum):  # noqa: N801 - printed as min(...)
    _tex = r"\min"


def _relu(z):
    return sp.Max(0, z)


def _gelu(z):
    return z / 2 * (1 + sp.erf(z / sp.sqrt(2)))


def _log(z, base=None):
    if base is None:
        return sp.log(z)
    if base.is_number and (base.is_zero or base == 1 or base.is_negative):
        raise ValueError("the base of a logarithm must be positive and not 1")
    return sp.log(z, base)


# name -> SymPy builder
_BUILDERS = {
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "arcsin": sp.asin,
    "arccos": sp.acos,
    "arctan": sp.atan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "asinh": sp.asinh,
    "acosh": sp.acosh,
    "atanh": sp.atanh,
    "exp": sp.exp,
    "log": _log,
    "ln": sp.log,
    "log10": lambda z: sp.log(z, 10),
    "log2": lambda z: sp.log(z, 2),
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "sign": sp.sign,
    "min": min_,
    "max": max_,
    "sigmoid": sigmoid,
    "relu": _relu,
    "softplus": softplus,
    "gelu": _gelu,
    "erf": sp.erf,
}
# name -> (builder, minimum number of arguments, maximum number of arguments or None)
FUNCTIONS: dict[str, tuple] = {name: (_BUILDERS[name], *ARITY[name]) for name in ARITY}
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "e": sp.E}
# --------------------------------------------------------------------------------------------
# Building SymPy from the checked syntax tree

class _Builder:
    def __init__(self, syntax):
        self.col = syntax.col
        self.names: dict[str, sp.Symbol] = {}
        self.order: list[str] = []

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ExpressionError("only numbers are allowed here", self.col(node))
            if isinstance(value, int):
                return sp.Integer(value)
            if not math.isfinite(value):
                raise ExpressionError("number too large", self.col(node))
            return sp.Float(value)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            # a + b - c + ... as one n-ary Add: SymPy re-flattens on every binary +, which
            # makes long sums quadratic
            items = chain(node, (ast.Add, ast.Sub))
            return sp.Add(*[(-1 if isinstance(op, ast.Sub) else 1) * self.build(operand)
                            for op, operand in items])
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
            factors = []
            for op, operand in chain(node, (ast.Mult, ast.Div)):
                value = self.build(operand)
                if isinstance(op, ast.Div):
                    if value.is_zero:
                        raise ExpressionError("division by zero", self.col(operand))
                    value = sp.Pow(value, -1)
                factors.append(value)
            return sp.Mul(*factors)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self.power(self.build(node.left), self.build(node.right), node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise ExpressionError("this is not part of a mathematical expression", self.col(node))

    def name(self, node: ast.Name) -> sp.Expr:
        name = user_name(node)
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise ExpressionError(f"{name} needs parentheses, as {name}(x)", self.col(node))
        if name not in self.names:
            self.names[name] = sp.Symbol(name, real=True)
            self.order.append(name)
        return self.names[name]

    def power(self, base: sp.Expr, exponent: sp.Expr, node: ast.BinOp) -> sp.Expr:
        # Numeric exponents are bounded before SymPy evaluates anything: 9**9**9**9 and
        # (2x)**(10**9) would otherwise compute enormous integers.
        if exponent.is_Number:
            if abs(float(exponent)) > MAX_EXPONENT:
                raise ExpressionError(
                    f"exponent {_short(exponent)} is too large (the limit is {MAX_EXPONENT})",
                    self.col(node.right),
                )
            if base.is_Number and not base.is_zero:
                try:
                    mag = abs(float(exponent)) * math.log10(abs(float(base)))
                except (OverflowError, ValueError):
                    mag = math.inf
                if mag > MAX_MAGNITUDE_LOG10:
                    raise ExpressionError(
                        f"number too large ({_short(base)}^{_short(exponent)} exceeds 10^{MAX_MAGNITUDE_LOG10})",
                        self.col(node.left),
                    )
            if base.is_zero and exponent.is_negative:
                raise ExpressionError("division by zero (0 to a negative power)", self.col(node))
        return base**exponent

    def call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ExpressionError("only functions like sin(x) can be called", self.col(node))
        fname = node.func.id
        if fname not in FUNCTIONS:
            raise ExpressionError(f"unknown function {fname!r}", self.col(node))
        builder, lo, hi = FUNCTIONS[fname]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else (f"{lo} or more" if hi is None else f"{lo} to {hi}")
            raise ExpressionError(
                f"{fname} takes {want} argument{'s' if want != '1' else ''}, got {n}",
                self.col(node),
                len(fname),
            )
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError("'*' is not allowed here", self.col(node))
        args = [self.build(a) for a in node.args]
        try:
            return builder(*args)
        except ValueError as exc:
            raise ExpressionError(f"{fname}: {exc}", self.col(node), len(fname)) from None


SYMPY_CACHE_ENTRIES = 20_000  # entries over all of SymPy's caches before they are emptied


def _sympy_caches():
    """SymPy's cached functions (``sympy.core.cache.CACHE``), each as the lru_cache that has
    ``cache_info``."""
    from sympy.core import cache

    for item in cache.CACHE:
        while not hasattr(item, "cache_info") and hasattr(item, "__wrapped__"):
            item = item.__wrapped__
        if hasattr(item, "cache_info"):
            yield item


def sympy_cache_entries() -> int:
    """How many results SymPy's caches hold now."""
    return sum(f.cache_info().currsize for f in _sympy_caches())


def trim_sympy_cache(limit: int | None = None) -> bool:
    """Empty SymPy's caches once they hold more than ``limit`` results (default
    ``SYMPY_CACHE_ENTRIES``); True if they were emptied.

    Each of its ~125 cached functions keeps up to 1,000 results, and a long session fills
    them: every value a parameter slider passes through makes new expressions (the critical
    points are solved with the values put in). In the soak that was ~45,000 objects after
    300 steps and still growing. Emptying them costs a few recomputations, once. Looking
    costs ~0.5 ms."""
    limit = SYMPY_CACHE_ENTRIES if limit is None else limit
    if sympy_cache_entries() <= limit:
        return False
    from sympy.core.cache import clear_cache

    clear_cache()
    return True


def _short(value: sp.Expr) -> str:
    s = str(value)
    return s if len(s) <= 12 else s[:10] + "…"


def parse(text: str, variables: tuple[str, ...] | list[str] | None = None) -> Function:
    """Parse user text into a :class:`Function`, safely.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"sin(x)*exp(-x^2/5)"``, ``"2x + 3(x+1)"``, ``"a x^2 + b y^2"``.
    variables : sequence of str, optional
        The variables, in order. By default ``x`` and ``y`` where they occur (``("x",)`` when
        neither does). Every other name is a parameter with default value 1.0.

    Returns
    -------
    Function

    Raises
    ------
    ExpressionError
        With a message and the 1-based column of the problem.
    """
    syntax = read(text, variables)
    variables = syntax.variables
    builder = _Builder(syntax)
    try:
        with time_limit(PARSE_TIME_LIMIT):
            expr = builder.build(syntax.tree)
            undefined = expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.AccumBounds)
    except ExpressionError:
        raise
    except TimeLimitExceeded:
        raise ExpressionError(
            f"this takes too long to simplify (over {PARSE_TIME_LIMIT:g} s); "
            "try a simpler or shorter form", 1) from None
    except RecursionError:
        raise ExpressionError("expression too complex", 1) from None
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, ArithmeticError) as exc:
        raise ExpressionError(f"cannot evaluate: {exc}", 1) from None

    if variables is None:
        found = [v for v in ("x", "y") if v in builder.names]
        variables = tuple(found) or ("x",)
    symbols = {name: builder.names.get(name) or sp.Symbol(name, real=True) for name in variables}
    params = {name: 1.0 for name in builder.order if name not in variables}
    param_symbols = {name: builder.names[name] for name in params}
    if undefined:
        raise ExpressionError(
            "the expression is undefined (it contains something like 1/0, log(0) or atan(ln(0)))", 1)
    return Function(text, expr, symbols, param_symbols, params)


# --------------------------------------------------------------------------------------------
# Compiled, NaN-safe evaluation


_NUMERIC = {
    "sigmoid": numeric.sigmoid,
    "softplus": numeric.softplus,
    "erf": numeric.erf,
    "Heaviside": numeric.heaviside,
    "tie_step": lambda z: np.heaviside(z, 0.5),
    "max_": lambda *a: functools.reduce(np.maximum, a),
    "min_": lambda *a: functools.reduce(np.minimum, a),
    "DiracDelta": lambda *a: np.zeros_like(np.asarray(a[0], dtype=float)),
}

# Analytic continuations, for evaluating on complex points (Cauchy's formula for Taylor
# coefficients). Functions that are not analytic have no entry: see Function.is_analytic.
_NUMERIC_COMPLEX = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "softplus": lambda z: np.log(1.0 + np.exp(z)),
    "erf": numeric.erf,
}
_NON_ANALYTIC = (sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta, sp.Max, sp.Min)

_COMPILE_CACHE: OrderedDict = OrderedDict()
_COMPILE_LOCK = threading.Lock()
_COMPILE_CACHE_SIZE = 512


def _numeric_form(expr: sp.Expr) -> sp.Expr:
    """The expression NumPy evaluates: Dirac deltas vanish, step functions take H(0) = 0."""
    if expr.has(sp.DiracDelta):
        expr = expr.replace(sp.DiracDelta, lambda *a: sp.S.Zero)
    if expr.has(sp.Heaviside):
        # relu'(0) = abs'(0) = 0 as in PyTorch (SymPy's default H(0) is 1/2)
        expr = expr.replace(sp.Heaviside, lambda a, *h0: sp.Heaviside(a, 0))
    return expr


def _compile(expr: sp.Expr, symbols: tuple[sp.Symbol, ...], complex_: bool = False):
    key = (expr, symbols, complex_)
    with _COMPILE_LOCK:
        fn = _COMPILE_CACHE.get(key)
        if fn is not None:
            _COMPILE_CACHE.move_to_end(key)
            return fn
    # The generated code sees the symbols as _s0, _s1, ...: a parameter the user named like
    # a function of the generated code (Heaviside, select, exp...) must not shadow it, and
    # user names never start with "_".
    safe = [sp.Symbol(f"_s{i}", real=True) for i in range(len(symbols))]
    numeric_expr = _numeric_form(expr).xreplace(dict(zip(symbols, safe, strict=True)))
    namespace = {**_NUMERIC, **_NUMERIC_COMPLEX} if complex_ else _NUMERIC
    try:
        fn = sp.lambdify(safe, numeric_expr, modules=[namespace, "numpy"])
    except Exception:  # SymPy objects NumPy cannot print: the function is undefined there
        def fn(*args):
            return np.nan
    with _COMPILE_LOCK:
        _COMPILE_CACHE[key] = fn
        while len(_COMPILE_CACHE) > _COMPILE_CACHE_SIZE:
            _COMPILE_CACHE.popitem(last=False)
    return fn


_SCALARS = frozenset({float, int, np.float64, np.float32, np.int64, np.int32})


class _Shared:
    """What every parameter variant and derivative of one parsed expression shares.

    ``derivatives`` maps a path of variables, e.g. ``("x", "x")`` for f'', to its expression.
    """

    def __init__(self):
        self.derivatives: dict[tuple[str, ...], sp.Expr] = {}
        self.lock = threading.Lock()


class Function:
    """A parsed expression: SymPy form, compiled NumPy form, derivatives.

    Evaluation broadcasts like NumPy, returns float64, and gives NaN where the function is
    undefined, complex or overflows; it never raises for numeric reasons.
    """

    def __init__(self, text, expr, symbols, param_symbols, parameters, _shared=None, _path=()):
        self.text = text
        self.expr = expr
        self._symbols: dict[str, sp.Symbol] = dict(symbols)
        self._param_symbols: dict[str, sp.Symbol] = dict(param_symbols)
        self._parameters: dict[str, float] = {k: float(v) for k, v in parameters.items()}
        self._shared = _shared or _Shared()
        self._path: tuple[str, ...] = tuple(_path)  # derivative of the parsed text along these
        self._all_symbols = tuple(self._symbols.values()) + tuple(self._param_symbols.values())
        self._compiled = None
        self._derived: dict[tuple[str, ...], Function] = {}  # diff() results, same parameters

    # -- description -------------------------------------------------------------------------
    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(self._symbols)

    @property
    def parameters(self) -> dict[str, float]:
        return dict(self._parameters)

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The SymPy symbols of the variables, in order."""
        return tuple(self._symbols.values())

    @property
    def latex(self) -> str:
        return sp.latex(self.expr)

    def __repr__(self) -> str:
        params = f", parameters={self._parameters}" if self._parameters else ""
        return f"Function({str(self.expr)!r}, variables={self.variables}{params})"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Function)
            and self.expr == other.expr
            and self.variables == other.variables
            and self._parameters == other._parameters
        )

    def __hash__(self) -> int:
        return hash((self.expr, self.variables, tuple(sorted(self._parameters.items()))))

    def __reduce__(self):
        """Pickled as its expression, names and parameter values (for a child process, see
        :mod:`.offload`); compiled code and derivatives are made again where it is loaded."""
        return (_unpickle_function, (self.text, self.expr, tuple(self._symbols.items()),
                                     tuple(self._param_symbols.items()), self._parameters))

    def with_parameters(self, **values: float) -> Function:
        """A new Function with some parameter values replaced (unknown names raise KeyError)."""
        unknown = set(values) - set(self._parameters)
        if unknown:
            raise KeyError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        params = {**self._parameters, **{k: float(v) for k, v in values.items()}}
        clone = Function(
            self.text, self.expr, self._symbols, self._param_symbols, params, self._shared,
            self._path,
        )
        clone._compiled = self._compiled
        return clone

    # -- evaluation --------------------------------------------------------------------------
    def __call__(self, *args):
        if len(args) != len(self._symbols):
            raise TypeError(
                f"this function takes {len(self._symbols)} argument(s) "
                f"({', '.join(self.variables)}), got {len(args)}"
            )
        if self._compiled is None:
            self._compiled = _compile(self.expr, self._all_symbols)
        if all(type(a) in _SCALARS for a in args):
            return self._call_scalar(args)
        arrays = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
        shape = arrays[0].shape if arrays else ()
        with np.errstate(all="ignore"):
            try:
                out = self._compiled(*arrays, *self._parameters.values())
                out = np.asarray(out)
                if np.iscomplexobj(out):
                    real = out.real.astype(float)
                    real[np.abs(out.imag) > 1e-12 * np.maximum(1.0, np.abs(out.real))] = np.nan
                    out = real
                out = np.array(np.broadcast_to(out.astype(float), shape), dtype=float)
            except (ArithmeticError, ValueError, TypeError, AttributeError, NameError):
                out = np.full(shape, np.nan)
        out[~np.isfinite(out)] = np.nan
        return out[()] if out.ndim == 0 else out

    @property
    def is_analytic(self) -> bool:
        """True unless the expression uses abs, sign, min, max, relu or steps (kinks)."""
        return not (self.expr.has(*_NON_ANALYTIC) or self.expr.has(_Extremum, tie_step))

    def evaluate_complex(self, *args) -> np.ndarray:
        """Evaluate the analytic continuation at complex points (complex128, NaN-free only
        where the function is defined there). Raises ValueError for a non-analytic f."""
        if not self.is_analytic:
            raise ValueError("this function is not analytic (abs, sign, min, max or relu)")
        fn = _compile(self.expr, self._all_symbols, complex_=True)
        arrays = np.broadcast_arrays(*[np.asarray(a, dtype=complex) for a in args])
        with np.errstate(all="ignore"):
            out = fn(*arrays, *self._parameters.values())
        return np.array(np.broadcast_to(np.asarray(out, dtype=complex), arrays[0].shape))

    def _call_scalar(self, args) -> np.float64:
        # The drag path evaluates f, f', f'' at one point several times a frame: skip the
        # array machinery (broadcasting, masks), keep the same NaN rules.
        with np.errstate(all="ignore"):
            try:
                out = np.asarray(self._compiled(*map(np.float64, args), *self._parameters.values()))
                if out.size != 1:
                    return np.float64(np.nan)
                if np.iscomplexobj(out):
                    z = complex(out.reshape(()))
                    if abs(z.imag) > 1e-12 * max(1.0, abs(z.real)):
                        return np.float64(np.nan)
                    out = np.asarray(z.real)
                value = np.float64(out.reshape(()))
            except (ArithmeticError, ValueError, TypeError, AttributeError, NameError):
                return np.float64(np.nan)
        return value if np.isfinite(value) else np.float64(np.nan)

    # -- derivatives -------------------------------------------------------------------------
    def diff(self, *variables: str) -> Function:
        """Partial derivative along the given variables in turn (cached per expression)."""
        for v in variables:
            if v not in self._symbols:
                raise KeyError(f"{v!r} is not a variable of this function ({', '.join(self.variables)})")
        if not variables:
            return self
        derived = self._derived.get(variables)
        if derived is None:
            path = self._path + tuple(variables)
            derived = Function(
                self.text, self._expr_at(path), self._symbols, self._param_symbols,
                self._parameters, self._shared, path,
            )
            self._derived[variables] = derived
        return derived

    def _expr_at(self, path: tuple[str, ...]) -> sp.Expr:
        if len(path) == len(self._path) and path == self._path:
            return self.expr
        with self._shared.lock:
            expr = self._shared.derivatives.get(path)
        if expr is None:
            expr = sp.diff(self._expr_at(path[:-1]), self._symbols[path[-1]])
            with self._shared.lock:
                expr = self._shared.derivatives.setdefault(path, expr)
        return expr

    def derivative(self, variable: str | None = None, order: int = 1) -> Function:
        """The ``order``-th derivative along ``variable`` (the first variable by default)."""
        if variable is None:
            variable = self.variables[0]
        if order < 0:
            raise ValueError("order must be >= 0")
        if order == 0:
            return self
        return self.diff(*([variable] * int(order)))

    def derivative_ready(self, order: int, variable: str | None = None) -> bool:
        """Whether SymPy has already produced the ``order``-th derivative (then asking for it
        costs no symbolic work)."""
        if order <= 0:
            return True
        path = self._path + ((variable or self.variables[0]),) * int(order)
        with self._shared.lock:
            return path in self._shared.derivatives

    def gradient(self, point) -> np.ndarray:
        """Gradient at a point, shape (n,)."""
        point = np.asarray(point, dtype=float).reshape(-1)
        return np.array([float(self.diff(v)(*point)) for v in self.variables])

    def gradient_function(self):
        """A callable ``g(X) -> G`` over many points at once: ``X`` of shape (R, n), the
        gradients (R, n). All partials are one compiled NumPy function with shared
        sub-expressions, so an optimizer step of many runs costs one call (NaN where undefined).
        """
        return self._partials_function(tuple((v,) for v in self.variables), (len(self._symbols),))

    def hessian_function(self):
        """Like :meth:`gradient_function`, the Hessians (R, n, n) of many points."""
        n = len(self._symbols)
        paths = tuple((vi, vj) for vi in self.variables for vj in self.variables)
        return self._partials_function(paths, (n, n))

    def _partials_function(self, paths, shape):
        exprs = sp.Tuple(*(self.diff(*p).expr for p in paths))
        compiled = _compile(exprs, self._all_symbols)
        params = tuple(self._parameters.values())

        def evaluate(points):
            points = np.asarray(points, dtype=float)
            rows = points.shape[0]
            with np.errstate(all="ignore"):
                try:
                    parts = compiled(*points.T, *params)
                    out = np.empty((rows, len(paths)))
                    for k, part in enumerate(parts):
                        out[:, k] = np.real_if_close(part) if np.iscomplexobj(part) else part
                except (ArithmeticError, ValueError, TypeError, AttributeError, NameError):
                    out = np.full((rows, len(paths)), np.nan)
            out[~np.isfinite(out)] = np.nan
            return out.reshape((rows, *shape))

        return evaluate

    def hessian(self, point) -> np.ndarray:
        """Hessian at a point, shape (n, n), symmetric."""
        point = np.asarray(point, dtype=float).reshape(-1)
        n = len(self.variables)
        out = np.empty((n, n))
        for i, vi in enumerate(self.variables):
            for j in range(i, n):
                out[i, j] = out[j, i] = float(self.diff(vi, self.variables[j])(*point))
        return out


_UNPICKLED: OrderedDict = OrderedDict()  # (expr, symbols, parameter symbols) -> Function
_UNPICKLED_LOCK = threading.Lock()
UNPICKLED_KEPT = 16


def _unpickle_function(text, expr, symbols, param_symbols, parameters) -> Function:
    """A pickled :class:`Function` loaded again. The functions loaded are kept (the last
    ``UNPICKLED_KEPT`` expressions), so that the same expression with new parameter values (a
    slider moved) shares the derivatives SymPy already made for it."""
    key = (expr, symbols, param_symbols)
    with _UNPICKLED_LOCK:
        base = _UNPICKLED.get(key)
        if base is None:
            base = _UNPICKLED[key] = Function(text, expr, dict(symbols), dict(param_symbols),
                                              parameters)
            while len(_UNPICKLED) > UNPICKLED_KEPT:
                _UNPICKLED.popitem(last=False)
        else:
            _UNPICKLED.move_to_end(key)
    loaded = base.with_parameters(**parameters)
    loaded.text = text
    return loaded
