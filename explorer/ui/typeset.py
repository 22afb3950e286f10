"""Typeset formulas with matplotlib's mathtext (no LaTeX install needed). Runs off the GUI thread."""

from __future__ import annotations

import io

MAX_LATEX = 700  # longer formulas are shown as plain text: mathtext gets slow and unreadable


def render(latex: str, color: str = "#202124", fontsize: float = 13, dpi: int = 200) -> bytes | None:
    """PNG bytes of ``$latex$``, or None when mathtext cannot typeset it."""
    if len(latex) > MAX_LATEX:
        return None
    from matplotlib import figure, font_manager, mathtext

    # mathtext.math_to_image, but with a transparent background so the panel's colour shows.
    text = f"${latex}$"
    buffer = io.BytesIO()
    try:
        prop = font_manager.FontProperties(size=fontsize)
        width, height, depth, _, _ = mathtext.MathTextParser("path").parse(text, dpi=72, prop=prop)
        fig = figure.Figure(figsize=(width / 72.0, height / 72.0))
        fig.text(0, depth / height, text, fontproperties=prop, color=color)
        fig.savefig(buffer, dpi=dpi, format="png", transparent=True)
    except Exception:  # mathtext raises ValueError and friends on constructs it lacks
        return None
    return buffer.getvalue()


def typeset_function(function, color: str = "#202124") -> dict[str, bytes | str]:
    """Rendered f and f' of a one- or two-variable Function, with plain-text fallbacks."""
    import sympy as sp

    var = function.variables[0]
    args = ", ".join(function.variables)
    out: dict[str, bytes | str] = {}
    d1 = function.derivative(var, 1)
    prime = "f'" if len(function.variables) == 1 else rf"\partial f/\partial {var}"
    for key, name, fn in (("f", "f", function), ("d1", prime, d1)):
        latex = sp.latex(fn.expr)
        png = render(rf"{name}({args}) = {latex}", color=color)
        text = f"{'f′' if key == 'd1' else 'f'}({args}) = {sp.sstr(fn.expr)}"
        out[key] = png if png is not None else text
        out[key + "_text"] = text
    return out
