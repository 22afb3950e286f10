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
}


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options; call once before any view is built."""
    import pyqtgraph as pg

    pg.setConfigOptions(background=COLORS["background"], foreground=COLORS["axis_text"],
                        antialias=True)


def pen(key: str, width: float = 2.0, style=QtCore.Qt.PenStyle.SolidLine):
    import pyqtgraph as pg

    p = pg.mkPen(COLORS[key], width=width, style=style)
    p.setCosmetic(True)
    return p
