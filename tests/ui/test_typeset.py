"""Typeset formulas: mathtext's output, and the font sets it leaves behind."""

from __future__ import annotations

import gc

import numpy as np

from explorer.ui.typeset import render


def live_font_sets() -> int:
    from matplotlib import _mathtext

    gc.collect()
    return sum(isinstance(o, _mathtext.Fonts) for o in gc.get_objects())


def test_formulas_with_sized_delimiters_leave_no_font_sets_behind():
    """matplotlib caches a method of its STIX fonts for the whole class, keyed by the font
    set: each formula with \\left( ... \\right) kept its font sets alive (the soak's memory grew
    ~3 MiB every 1,000 steps). Forty such formulas leave none now."""
    before = live_font_sets()
    first = render(r"\left(\frac{x}{2}\right)^{2} + \sin{\left(x \right)}")
    for i in range(40):
        assert render(rf"\left(\frac{{x}}{{{i + 3}}}\right)^{{2}}") is not None
    assert live_font_sets() <= before
    # emptying the cache between formulas changes nothing drawn: the same pixels again
    again = render(r"\left(\frac{x}{2}\right)^{2} + \sin{\left(x \right)}")
    assert first == again
    width, height, pixels = first
    alpha = np.frombuffer(pixels, np.uint8).reshape(height, width, 4)[..., 3]
    assert width > 3 * height > 0 and (alpha > 128).sum() > 200  # a wide formula, inked
