"""Safe parsing of user text into SymPy, and :class:`Function`: compiled, cached, NaN-safe.

User text never reaches ``eval``, ``sympify`` or ``parse_expr`` (they execute Python). The text
is tokenised here (so implicit multiplication like ``2x`` or ``(x+1)(x-1)`` and ``^`` can be
supported with exact columns), rewritten as a Python expression, parsed with :mod:`ast`, and
every node is checked against a whitelist before the SymPy expression is built by hand.
Length, nesting, node count, integer size and exponents are bounded so that nothing the user
types can hang SymPy.
"""

from __future__ import annotations

import ast
import difflib
import functools
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .limits import TimeLimitExceeded, time_limit

__all__ = ["ExpressionError", "Function", "parse", "FUNCTIONS", "CONSTANTS"]

MAX_LENGTH = 1000  # characters of text
MAX_DEPTH = 60  # nested parentheses
MAX_NODES = 1500  # syntax-tree nodes (Python counts ~3 per name or number)
MAX_DIGITS = 40  # digits of one number
MAX_EXPONENT = 1000  # |n| in a power with a numeric exponent
MAX_MAGNITUDE_LOG10 = 300  # numeric powers must stay below 10**300
PARSE_TIME_LIMIT = 0.5  # seconds of SymPy work to build one expression


class ExpressionError(ValueError):
    """The text is not a valid expression.

    Attributes
    ----------
    message : str
        What is wrong, in words a person understands.
    column : int
        1-based column in the text where the problem is.
    length : int
        How many characters the problem spans (at least 1), for underlining.
    """

    def __init__(self, message: str, column: int = 1, length: int = 1):
        if len(message) > 200:
            message = message[:197] + "…"
        super().__init__(message, column)
        self.message = message
        self.column = max(1, int(column))
        self.length = max(1, int(length))

    def __str__(self) -> str:
        return f"{self.message} (column {self.column})"


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


# name -> (builder, minimum number of arguments, maximum number of arguments or None)
FUNCTIONS: dict[str, tuple] = {
    "sin": (sp.sin, 1, 1),
    "cos": (sp.cos, 1, 1),
    "tan": (sp.tan, 1, 1),
    "asin": (sp.asin, 1, 1),
    "acos": (sp.acos, 1, 1),
    "atan": (sp.atan, 1, 1),
    "arcsin": (sp.asin, 1, 1),
    "arccos": (sp.acos, 1, 1),
    "arctan": (sp.atan, 1, 1),
    "sinh": (sp.sinh, 1, 1),
    "cosh": (sp.cosh, 1, 1),
    "tanh": (sp.tanh, 1, 1),
    "asinh": (sp.asinh, 1, 1),
    "acosh": (sp.acosh, 1, 1),
    "atanh": (sp.atanh, 1, 1),
    "exp": (sp.exp, 1, 1),
    "log": (_log, 1, 2),
    "ln": (sp.log, 1, 1),
    "log10": (lambda z: sp.log(z, 10), 1, 1),
    "log2": (lambda z: sp.log(z, 2), 1, 1),
    "sqrt": (sp.sqrt, 1, 1),
    "abs": (sp.Abs, 1, 1),
    "sign": (sp.sign, 1, 1),
    "min": (min_, 2, None),
    "max": (max_, 2, None),
    "sigmoid": (sigmoid, 1, 1),
    "relu": (_relu, 1, 1),
    "softplus": (softplus, 1, 1),
    "gelu": (_gelu, 1, 1),
    "erf": (sp.erf, 1, 1),
}
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "e": sp.E}
_UNICODE = {"π": " pi ", "−": "-", "×": "*", "·": "*", "÷": "/", "²": "^2", "³": "^3"}


# --------------------------------------------------------------------------------------------
# Tokenising


@dataclass(frozen=True)
class _Token:
    kind: str  # number | name | op | lpar | rpar | comma
    text: str
    col: int  # 1-based column in the original text


_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|[-+*/^])"
    r"|(?P<lpar>\()|(?P<rpar>\))|(?P<comma>,)"
)


def _normalise_unicode(text: str) -> tuple[str, list[int]]:
    """Replace a few look-alike characters; return the new text and its column map."""
    out, cols = [], []
    for i, ch in enumerate(text):
        rep = _UNICODE.get(ch, ch)
        out.append(rep)
        cols.extend([i + 1] * len(rep))
    return "".join(out), cols


def _tokenise(text: str, variables: tuple[str, ...]) -> list[_Token]:
    norm, colmap = _normalise_unicode(text)
    tokens: list[_Token] = []
    pos = 0
    while pos < len(norm):
        m = _TOKEN_RE.match(norm, pos)
        if m is None:
            ch = norm[pos]
            raise ExpressionError(f"unexpected character {ch!r}", colmap[pos])
        kind = m.lastgroup
        col = colmap[pos]
        tok = m.group()
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "name":
            if tok.startswith("_"):
                raise ExpressionError(f"names cannot start with '_' ({tok!r})", col, len(tok))
            tokens.extend(_split_name(tok, col, variables))
            continue
        if kind == "number":
            digits = sum(c.isdigit() for c in tok.split("e")[0].split("E")[0])
            if digits > MAX_DIGITS:
                raise ExpressionError(
                    f"number too long ({digits} digits; the limit is {MAX_DIGITS})", col, len(tok)
                )
        tokens.append(_Token(kind, tok, col))
    return tokens


def _split_name(name: str, col: int, variables: tuple[str, ...]) -> list[_Token]:
    """``xy`` means x*y when every letter is a one-letter variable and the name means nothing."""
    if (
        len(name) > 1
        and name not in FUNCTIONS
        and name not in CONSTANTS
        and name not in variables
        and all(ch in variables for ch in name)
    ):
        return [_Token("name", ch, col + i) for i, ch in enumerate(name)]
    return [_Token("name", name, col)]


def _check_structure(tokens: list[_Token], text: str, variables: tuple[str, ...]) -> None:
    """Friendly errors for the common mistakes, before Python's parser sees anything."""
    if not tokens:
        raise ExpressionError("type an expression, for example sin(x) or x^2 - 2x + 2", 1)
    stack: list[_Token] = []
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.kind == "lpar":
            stack.append(tok)
            if len(stack) > MAX_DEPTH:
                raise ExpressionError(f"too deeply nested (more than {MAX_DEPTH} parentheses)", tok.col)
            if nxt is not None and nxt.kind == "rpar":
                raise ExpressionError("empty parentheses", tok.col, 2)
        elif tok.kind == "rpar":
            if not stack:
                raise ExpressionError("')' without a matching '('", tok.col)
            stack.pop()
        elif tok.kind == "name":
            if tok.text in FUNCTIONS:
                if nxt is None or nxt.kind != "lpar":
                    raise ExpressionError(
                        f"{tok.text} needs its argument in parentheses, as {tok.text}(x)",
                        tok.col,
                        len(tok.text),
                    )
            elif (
                nxt is not None
                and nxt.kind == "lpar"
                and len(tok.text) > 1
                and tok.text not in CONSTANTS
                and tok.text not in variables
                and nxt.col == tok.col + len(tok.text)
            ):
                # "sinn(x)" is far more often a typo than a parameter times a bracket.
                close = difflib.get_close_matches(tok.text, list(FUNCTIONS), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise ExpressionError(
                    f"unknown function {tok.text!r}{hint} (for a product write {tok.text}*(...))",
                    tok.col,
                    len(tok.text),
                )
        elif tok.kind == "number":
            if prev is not None and prev.kind == "number":
                raise ExpressionError("two numbers in a row; is an operator missing?", tok.col)
        elif tok.kind == "comma":
            if not stack:
                raise ExpressionError("',' outside a function's parentheses", tok.col)
        if tok.kind in ("op", "comma") and nxt is None:
            raise ExpressionError(f"{tok.text!r} at the end needs something after it", tok.col)
        if tok.kind == "op" and nxt is not None and nxt.kind in ("op", "rpar", "comma"):
            if not (nxt.kind == "op" and nxt.text in "+-"):
                raise ExpressionError(
                    f"{tok.text!r} is followed by {nxt.text!r}; something is missing between them",
                    nxt.col,
                )
        if tok.kind == "op" and tok.text not in "+-" and (prev is None or prev.kind in ("lpar", "comma")):
            raise ExpressionError(f"{tok.text!r} needs something before it", tok.col)
    if stack:
        raise ExpressionError("'(' is never closed", stack[-1].col)


def _is_value_end(tok: _Token) -> bool:
    return tok.kind in ("number", "rpar") or (tok.kind == "name" and tok.text not in FUNCTIONS)


def _is_value_start(tok: _Token) -> bool:
    return tok.kind in ("number", "name", "lpar")


def _to_python(tokens: list[_Token]) -> tuple[str, list[int]]:
    """Python source for the tokens, with implicit ``*`` and ``^`` as ``**``; plus a column map."""
    parts: list[str] = []
    cols: list[int] = []

    def emit(s: str, col: int) -> None:
        parts.append(s)
        cols.extend([col] * len(s))

    for i, tok in enumerate(tokens):
        if i and _is_value_end(tokens[i - 1]) and _is_value_start(tok):
            emit("*", tok.col)
        text = "**" if tok.text == "^" else tok.text
        if tok.kind == "name" and tok.text not in FUNCTIONS:
            text = "_n_" + text  # keeps user names apart from anything Python knows
        emit(text, tok.col)
        emit(" ", tok.col + len(tok.text))
    return "".join(parts), cols


# --------------------------------------------------------------------------------------------
# Building SymPy from the checked syntax tree

class _Builder:
    def __init__(self, colmap: list[int], variables: tuple[str, ...]):
        self.colmap = colmap
        self.variables = variables
        self.names: dict[str, sp.Symbol] = {}
        self.order: list[str] = []

    def col(self, node: ast.AST) -> int:
        off = getattr(node, "col_offset", 0)
        return self.colmap[min(off, len(self.colmap) - 1)] if self.colmap else 1

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
            items = self._chain(node, (ast.Add, ast.Sub))
            return sp.Add(*[(-1 if isinstance(op, ast.Sub) else 1) * self.build(operand)
                            for op, operand in items])
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
            factors = []
            for op, operand in self._chain(node, (ast.Mult, ast.Div)):
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

    @staticmethod
    def _chain(node: ast.AST, ops: tuple) -> list[tuple[ast.AST | None, ast.AST]]:
        """The operands of a left-nested chain like a + b - c, with the operator before each."""
        items = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, ops):
            items.append((node.op, node.right))
            node = node.left
        items.append((None, node))
        items.reverse()
        return items

    def name(self, node: ast.Name) -> sp.Expr:
        name = node.id[len("_n_"):] if node.id.startswith("_n_") else node.id
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


def _short(value: sp.Expr) -> str:
    s = str(value)
    return s if len(s) <= 12 else s[:10] + "…"


def _count_nodes(tree: ast.AST) -> int:
    return sum(1 for _ in ast.walk(tree))


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
    if not isinstance(text, str):
        raise ExpressionError("the expression must be text", 1)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression too long ({len(text):,} characters; the limit is {MAX_LENGTH:,})",
            MAX_LENGTH + 1,
        )
    if variables is not None:
        variables = tuple(variables)
        for v in variables:
            if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", v):
                raise ValueError(f"invalid variable name {v!r}")
            if v in FUNCTIONS or v in CONSTANTS:
                raise ValueError(f"{v!r} is a function or constant, not a variable name")
    split_vars = variables if variables is not None else ("x", "y")
    tokens = _tokenise(text, split_vars)
    _check_structure(tokens, text, split_vars)
    source, colmap = _to_python(tokens)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        off = (exc.offset or 1) - 1
        col = colmap[min(max(off, 0), len(colmap) - 1)] if colmap else 1
        raise ExpressionError("cannot read the expression here", col) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression too complex", 1) from None
    if _count_nodes(tree) > MAX_NODES:
        raise ExpressionError(f"expression too complex (more than {MAX_NODES} parts)", 1)
    builder = _Builder(colmap, split_vars)
    try:
        with time_limit(PARSE_TIME_LIMIT):
            expr = builder.build(tree)
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


def _np_sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _np_softplus(z):
    return np.logaddexp(0.0, z)


_scipy_special = None


def _np_erf(z):
    global _scipy_special
    if _scipy_special is None:  # scipy is slow to import; only functions using erf pay for it
        import scipy.special

        _scipy_special = scipy.special
    return _scipy_special.erf(z)


def _np_heaviside(z, h0=0.0):
    # PyTorch's subgradient convention: relu'(0) = 0, abs'(0) = 0.
    return np.heaviside(z, 0.0)


_NUMERIC = {
    "sigmoid": _np_sigmoid,
    "softplus": _np_softplus,
    "erf": _np_erf,
    "Heaviside": _np_heaviside,
    "tie_step": lambda z: np.heaviside(z, 0.5),
    "max_": lambda *a: functools.reduce(np.maximum, a),
    "min_": lambda *a: functools.reduce(np.minimum, a),
    "DiracDelta": lambda *a: np.zeros_like(np.asarray(a[0], dtype=float)),
}

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


def _compile(expr: sp.Expr, symbols: tuple[sp.Symbol, ...]):
    key = (expr, symbols)
    with _COMPILE_LOCK:
        fn = _COMPILE_CACHE.get(key)
        if fn is not None:
            _COMPILE_CACHE.move_to_end(key)
            return fn
    # The generated code sees the symbols as _s0, _s1, ...: a parameter the user named like
    # a function of the generated code (Heaviside, select, exp...) must not shadow it, and
    # user names never start with "_".
    safe = [sp.Symbol(f"_s{i}", real=True) for i in range(len(symbols))]
    numeric = _numeric_form(expr).xreplace(dict(zip(symbols, safe, strict=True)))
    try:
        fn = sp.lambdify(safe, numeric, modules=[_NUMERIC, "numpy"])
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

    def gradient(self, point) -> np.ndarray:
        """Gradient at a point, shape (n,)."""
        point = np.asarray(point, dtype=float).reshape(-1)
        return np.array([float(self.diff(v)(*point)) for v in self.variables])

    def hessian(self, point) -> np.ndarray:
        """Hessian at a point, shape (n, n), symmetric."""
        point = np.asarray(point, dtype=float).reshape(-1)
        n = len(self.variables)
        out = np.empty((n, n))
        for i, vi in enumerate(self.variables):
            for j in range(i, n):
                out[i, j] = out[j, i] = float(self.diff(vi, self.variables[j])(*point))
        return out
