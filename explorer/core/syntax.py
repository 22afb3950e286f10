"""Reading user text: tokens, structure checks and a Python syntax tree. No SymPy.

The text is tokenised here (so implicit multiplication like ``2x`` or ``(x+1)(x-1)`` and ``^``
keep exact columns), rewritten as a Python expression and parsed with :mod:`ast`; nothing is
ever evaluated as Python. :mod:`.expression` turns the checked tree into SymPy;
:func:`numeric_preview` turns it straight into NumPy, which lets the app draw f before SymPy
(~0.7 s to import) has loaded.
"""

from __future__ import annotations

import ast
import difflib
import functools
import re
from dataclasses import dataclass

import numpy as np

from . import numeric

__all__ = ["ExpressionError", "Syntax", "read", "numeric_preview", "ARITY", "CONSTANT_NAMES"]

MAX_LENGTH = 1000  # characters of text
MAX_DEPTH = 60  # nested parentheses
MAX_NODES = 1500  # syntax-tree nodes (Python counts ~3 per name or number)
MAX_DIGITS = 40  # digits of one number

# name -> (minimum number of arguments, maximum number of arguments or None)
ARITY: dict[str, tuple[int, int | None]] = {
    **{name: (1, 1) for name in (
        "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh",
        "cosh", "tanh", "asinh", "acosh", "atanh", "exp", "ln", "log10", "log2", "sqrt",
        "abs", "sign", "sigmoid", "relu", "softplus", "gelu", "erf")},
    "log": (1, 2),
    "min": (2, None),
    "max": (2, None),
}
CONSTANT_NAMES = ("pi", "e")
USER_PREFIX = "_n_"  # user names in the Python source: apart from anything Python knows


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
        and name not in ARITY
        and name not in CONSTANT_NAMES
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
            if tok.text in ARITY:
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
                and tok.text not in CONSTANT_NAMES
                and tok.text not in variables
                and nxt.col == tok.col + len(tok.text)
            ):
                # "sinn(x)" is far more often a typo than a parameter times a bracket.
                close = difflib.get_close_matches(tok.text, list(ARITY), n=1)
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
    return tok.kind in ("number", "rpar") or (tok.kind == "name" and tok.text not in ARITY)


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
        if tok.kind == "name" and tok.text not in ARITY:
            text = USER_PREFIX + text
        emit(text, tok.col)
        emit(" ", tok.col + len(tok.text))
    return "".join(parts), cols




# --------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class Syntax:
    """A checked syntax tree and what is needed to map it back to the text."""

    tree: ast.Expression
    colmap: list[int]  # column in the text of each character of the Python source
    split_vars: tuple[str, ...]  # one-letter variables that "xy" splits into
    variables: tuple[str, ...] | None  # as given by the caller (None: infer x, y)

    def col(self, node: ast.AST) -> int:
        off = getattr(node, "col_offset", 0)
        return self.colmap[min(off, len(self.colmap) - 1)] if self.colmap else 1


def user_name(node: ast.Name) -> str:
    return node.id[len(USER_PREFIX):] if node.id.startswith(USER_PREFIX) else node.id


def read(text: str, variables=None) -> Syntax:
    """Check ``text`` and parse it into a Python syntax tree; raise :class:`ExpressionError`."""
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
            if v in ARITY or v in CONSTANT_NAMES:
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
    return Syntax(tree, colmap, split_vars, variables)


def _count_nodes(tree: ast.AST) -> int:
    return sum(1 for _ in ast.walk(tree))



def chain(node: ast.AST, ops: tuple) -> list[tuple[ast.AST | None, ast.AST]]:
    """The operands of a left-nested chain like a + b - c, with the operator before each."""
    items = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, ops):
        items.append((node.op, node.right))
        node = node.left
    items.append((None, node))
    items.reverse()
    return items


# --------------------------------------------------------------------------------------------
# A NumPy preview, without SymPy


def _log(z, base=None):
    return np.log(z) if base is None else np.log(z) / np.log(base)


_NUMPY_FUNCTIONS = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh,
    "acosh": np.arccosh, "atanh": np.arctanh, "exp": np.exp, "log": _log, "ln": np.log,
    "log10": np.log10, "log2": np.log2, "sqrt": np.sqrt, "abs": np.abs, "sign": np.sign,
    "min": lambda *a: functools.reduce(np.minimum, a),
    "max": lambda *a: functools.reduce(np.maximum, a),
    "sigmoid": numeric.sigmoid, "relu": lambda z: np.maximum(z, 0.0),
    "softplus": numeric.softplus,
    # erf and gelu need SciPy, slower to import than SymPy: no preview for them
}
_NUMPY_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
                 ast.Div: np.divide, ast.Pow: np.power}


def numeric_preview(text: str, parameters: dict[str, float] | None = None):
    """f(x) straight from the syntax tree with NumPy, for drawing before SymPy has loaded.

    Returns a function of one array, or None when the text is invalid, has other than one
    variable, or uses a function the preview lacks. The parsed Function is the reference;
    tests hold the preview to it.
    """
    parameters = parameters or {}
    try:
        syntax = read(text)
    except (ExpressionError, ValueError):
        return None
    names = {user_name(n) for n in ast.walk(syntax.tree) if isinstance(n, ast.Name)}
    calls = {n.func.id for n in ast.walk(syntax.tree)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    if "y" in names or not calls <= set(_NUMPY_FUNCTIONS):
        return None
    constants = {"pi": np.pi, "e": np.e}

    def build(node):
        if isinstance(node, ast.Expression):
            return build(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            value = float(node.value)
            return lambda x: value
        if isinstance(node, ast.Name):
            name = user_name(node)
            if name == "x":
                return lambda x: x
            value = constants.get(name, parameters.get(name, 1.0))
            return lambda x: value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = build(node.operand)
            return (lambda x: -inner(x)) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _NUMPY_BINOPS:
            op, left, right = _NUMPY_BINOPS[type(node.op)], build(node.left), build(node.right)
            return lambda x: op(left(x), right(x))
        if isinstance(node, ast.Call) and not node.keywords:
            fn = _NUMPY_FUNCTIONS[node.func.id]
            args = [build(a) for a in node.args]
            return lambda x: fn(*(a(x) for a in args))
        raise ExpressionError("not previewable", 1)

    try:
        inner = build(syntax.tree)
    except (ExpressionError, RecursionError, KeyError):
        return None

    def f(xs):
        xs = np.asarray(xs, dtype=float)
        with np.errstate(all="ignore"):
            try:
                out = np.broadcast_to(np.asarray(inner(xs), dtype=float), xs.shape).copy()
            except (ArithmeticError, ValueError, TypeError):
                out = np.full(xs.shape, np.nan)
        out[~np.isfinite(out)] = np.nan
        return out

    return f
