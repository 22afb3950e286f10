"""Typeset formulas: mathtext's output, and the font sets it leaves behind."""

from __future__ import annotations

import ctypes
import gc
import sys

import numpy as np
import pytest

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


def c_heap_in_use_mib() -> float:
    """Bytes the C heap has handed out and not had back (glibc's ``mallinfo2``)."""

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
            "fordblks", "keepcost")]

    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = MallInfo2
    return mallinfo2().uordblks / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux")
                    or not hasattr(ctypes.CDLL(None), "mallinfo2"), reason="glibc's mallinfo2")
def test_typesetting_keeps_no_glyphs_behind():
    """Each font matplotlib opens keeps every glyph loaded into it: 600 formulas held ~5 MiB
    more of the C heap than 100 did; the fonts now go every ``FONTS_KEPT_FOR`` formulas."""
    formula = r"\frac{{\partial f}}{{\partial x}} = 2 x - 400 x \left(- x^{{2}} + y\right) - {}"
    for i in range(100):
        render(formula.format(i))
    gc.collect()
    warm = c_heap_in_use_mib()
    for i in range(100, 600):
        assert render(formula.format(i)) is not None
    gc.collect()
    assert c_heap_in_use_mib() - warm < 1.5
