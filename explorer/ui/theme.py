"""Colours and pens shared by the views: a light theme, Okabe-Ito colours (colour-blind safe)."""

from __future__ import annotations

from PySide6 import QtCore

# pyqtgraph is imported inside the functions: the window paints before it is loaded (its
# import makes PySide6 build every Qt class, ~0.5-1 s).

COLORS = {
    "background": "#ffffff",
    "axis": "#8a8f98",
    "axis_text": "#3c4048",
    "grid": "#e6e8ec",
    "zero_axis": "#b8bcc4",
    "f": "#0072B2",  # blue
    "d1": "#E69F00",  # orange
    "d2": "#009E73",  # bluish green
    "tangent": "#D55E00",  # vermillion
    "secant": "#CC79A7",  # reddish purple
    "point": "#D55E00",
    "point_edge": "#ffffff",
    "point_hover": "#F0A060",
    "error": "#C0392B",
    "taylor": "#6A3D9A",  # purple: apart from f, f', f'', the tangent and the secant
    "taylor_hover": "#9E7BC4",
    "minimum": "#009E73",
    "maximum": "#D55E00",
    "inflection": "#3C3C3C",
    "degenerate": "#7F7F7F",
    "positive": "#009E73",  # f' > 0 (increasing), f'' > 0 (concave up)
    "negative": "#D55E00",
    "riemann": "#56B4E9",  # sky blue: the boxes of a Riemann sum
    "riemann_bound": "#1F5F8B",
    "accumulation": "#882255",  # wine: F(x) and the area it measures
    "lower": "#009E73",
    "upper": "#D55E00",
    # expectations and Monte Carlo (Paul Tol's muted scheme: apart from the curve's colours)
    "density": "#332288",  # indigo: p(x)
    "gp": "#44AA99",  # teal: g(x) p(x), whose area is E[g(X)]
    "samples": "#88CCEE",  # light cyan: the histogram of the samples
    "mc": "#CC6677",  # rose: the Monte Carlo estimate and its band
    "exact": "#3C3C3C",  # the exact value
    "law": "#117733",  # green: the 1/sqrt(N) law
}


# Plots stacked on one x axis (the curve and the sign plots) need equal left axes: pyqtgraph
# links x ranges by screen position.
LEFT_AXIS_WIDTH = 60


def with_alpha(key: str, alpha: int):
    """A QColor of ``COLORS[key]`` with ``alpha`` (0-255)."""
    from PySide6 import QtGui

    color = QtGui.QColor(COLORS[key])
    color.setAlpha(alpha)
    return color


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options; call once before any view is built."""
    import pyqtgraph as pg

    pg.setConfigOptions(background=COLORS["background"], foreground=COLORS["axis_text"],
                        antialias=True)


def style_plot(plot, left: str | None = None, bottom: str | None = None,
               si_prefix: bool = True) -> None:
    """The house style of a PlotItem: no context menu or auto-range button, axes in the
    theme's greys, optional axis labels; ``si_prefix=False`` keeps "y (x0.001)" off."""
    plot.setMenuEnabled(False)
    plot.hideButtons()
    for side, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(side)
        axis.setTextPen(COLORS["axis_text"])
        axis.setPen(COLORS["axis"])
        if not si_prefix:
            axis.enableAutoSIPrefix(False)
        if label is not None:
            plot.setLabel(side, label)


def pen(key: str, width: float = 2.0, style=QtCore.Qt.PenStyle.SolidLine):
    import pyqtgraph as pg

    p = pg.mkPen(COLORS[key], width=width, style=style)
    p.setCosmetic(True)
    return p
