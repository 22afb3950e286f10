"""Small helpers binding widgets to the Session without echoes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from PySide6 import QtCore

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@contextlib.contextmanager
def signals_blocked(*objects: QtCore.QObject) -> Iterator[None]:
    """Block the Qt signals of ``objects`` while writing model values into them."""
    previous = [obj.blockSignals(True) for obj in objects]
    try:
        yield
    finally:
        for obj, was in zip(objects, previous, strict=True):
            obj.blockSignals(was)


def format_number(value: float, digits: int = 6) -> str:
    """A compact, readable number: 6 significant digits, no noise, a proper minus sign."""
    if value is None or value != value:
        return "undefined"
    if value in (float("inf"), float("-inf")):
        return "∞" if value > 0 else "−∞"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}×10{str(int(exp)).translate(_SUPERSCRIPT)}"
    if text in ("-0", "0"):
        text = "0"
    return text.replace("-", "−")


def typed_constant(text: str, name: str) -> float:
    """A number the user typed for ``name``, through the safe parser (so pi/4 and 2e-3 work).
    Raises ValueError with a message for the user."""
    import math

    from ..core.expression import ExpressionError, parse

    try:
        f = parse(text, variables=())
    except ExpressionError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if f.parameters:
        raise ValueError(f"{name} must be a number; {', '.join(f.parameters)} has no value here")
    value = float(f())
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    return value
