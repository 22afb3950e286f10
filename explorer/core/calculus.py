"""Derivatives made visible: tangent lines (more of the derivative lab lands here)."""

from __future__ import annotations

import numpy as np

from .expression import Function

__all__ = ["tangent"]


def tangent(f: Function, x0: float) -> tuple[float, float]:
    """Slope and intercept of the tangent to a one-variable ``f`` at ``x0``.

    Returns ``(slope, intercept)`` so that the line is ``y = slope * x + intercept``; both are
    NaN where ``f`` or ``f'`` is undefined at ``x0``.
    """
    if len(f.variables) != 1:
        raise ValueError(f"tangent needs a function of one variable, not {f.variables}")
    x0 = float(x0)
    y0 = float(f(x0))
    slope = float(f.derivative(f.variables[0], 1)(x0))
    if not (np.isfinite(y0) and np.isfinite(slope)):
        return float("nan"), float("nan")
    return slope, y0 - slope * x0
