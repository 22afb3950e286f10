"""Stable NumPy implementations of the functions NumPy lacks (no SymPy, no SciPy at import)."""

from __future__ import annotations

import numpy as np

_scipy_special = None


def sigmoid(z):
    """1 / (1 + exp(-z)) without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(z):
    """log(1 + exp(z)) without overflow."""
    return np.logaddexp(0.0, z)


def erf(z):
    global _scipy_special
    if _scipy_special is None:  # scipy is slow to import; only functions using erf pay for it
        import scipy.special

        _scipy_special = scipy.special
    return _scipy_special.erf(z)


def heaviside(z, h0=0.0):
    """Step function; relu'(0) = abs'(0) = 0 as in PyTorch unless ``h0`` says otherwise."""
    return np.heaviside(z, h0)
