"""Typeset formulas with matplotlib's mathtext (no LaTeX install needed). Runs off the GUI thread."""

from __future__ import annotations

MAX_LATEX = 700  # longer formulas are shown as plain text: mathtext gets slow and unreadable
FONTS_KEPT_FOR = 25  # formulas typeset before matplotlib's open fonts (and their glyphs) go
_since_fonts_opened = 0


def render(latex: str, color: str = "#202124", fontsize: float = 13,
           dpi: int = 200) -> tuple[int, int, bytes] | None:
    """Rasterise ``$latex$`` with mathtext: (width, height, premultiplied ARGB32 bytes).

    mathtext's own rasteriser gives an alpha mask directly, without a matplotlib Figure or
    a PNG round trip (less memory, less time). None when mathtext cannot typeset it.
    """
    if len(latex) > MAX_LATEX:
        return None
    import numpy as np
    from matplotlib import colors, font_manager, mathtext

    try:
        prop = font_manager.FontProperties(size=fontsize)
        parsed = mathtext.MathTextParser("agg").parse(f"${latex}$", dpi=dpi, prop=prop)
    except Exception:  # mathtext raises ValueError and friends on constructs it lacks
        return None
    finally:
        _forget_font_sets()
    alpha = np.asarray(parsed.image, dtype=np.float32) / 255.0
    height, width = alpha.shape
    red, green, blue = (np.float32(c) for c in colors.to_rgb(color))
    # QImage.Format_ARGB32_Premultiplied is B, G, R, A in memory on little-endian machines.
    argb = np.empty((height, width, 4), dtype=np.uint8)
    for channel, value in ((0, blue), (1, green), (2, red)):
        argb[..., channel] = np.round(alpha * value * 255)
    argb[..., 3] = np.round(alpha * 255)
    return width, height, argb.tobytes()


def _forget_font_sets() -> None:
    """Let mathtext free the font sets and the fonts of the formulas it has typeset.

    matplotlib (3.11) caches ``StixFonts.get_sized_alternatives_for_symbol`` for the whole
    class (``functools.cache``, unbounded) with the font set in its key, and each formula is
    typeset with new font sets: every formula with a sized delimiter (``\\left(``, which
    SymPy writes around most arguments) kept its fonts alive for good. In the soak the
    resident memory grew ~3 MiB every 1,000 steps.

    It also keeps each font file it opens (``font_manager._get_font``, per file and thread),
    and a font keeps every glyph loaded into it until it is cleared, which mathtext never
    does: DejaVu Sans held 1,243 glyphs after 100 formulas, ~9 KB of C heap per formula for
    good.

    The first cache is emptied after each formula (it only helps within one); the fonts
    after every ``FONTS_KEPT_FOR`` formulas: opening them again made each function's
    formulas ~6 ms slower (27.5 against 22 ms), so they are kept while their glyphs are few
    (~0.2 MiB)."""
    global _since_fonts_opened
    from matplotlib import _mathtext, font_manager

    caches = [getattr(getattr(_mathtext, "StixFonts", None), "get_sized_alternatives_for_symbol",
                      None)]
    _since_fonts_opened += 1
    if _since_fonts_opened >= FONTS_KEPT_FOR:
        _since_fonts_opened = 0
        caches.append(getattr(font_manager, "_get_font", None))
    for cached in caches:
        clear = getattr(cached, "cache_clear", None)
        if clear is not None:
            clear()


def typeset_function(function, color: str = "#202124") -> dict[str, tuple | str]:
    """Rendered f and f' of a one- or two-variable Function, with plain-text fallbacks."""
    import sympy as sp

    var = function.variables[0]
    args = ", ".join(function.variables)
    out: dict[str, tuple | str] = {}
    d1 = function.derivative(var, 1)
    prime = "f'" if len(function.variables) == 1 else rf"\partial f/\partial {var}"
    for key, name, fn in (("f", "f", function), ("d1", prime, d1)):
        latex = sp.latex(fn.expr)
        image = render(rf"{name}({args}) = {latex}", color=color)
        text = f"{'f′' if key == 'd1' else 'f'}({args}) = {sp.sstr(fn.expr)}"
        out[key] = image if image is not None else text
        out[key + "_text"] = text
    return out
