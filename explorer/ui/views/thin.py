"""A curve's vertices thinned in pixels before Qt strokes it.

Qt's raster engine strokes an antialiased line wider than one pixel through its general
stroker, whose cost grows with the vertices and the sharpness of their joins: 2,000 samples
of f(x) across 480 pixels, at 2.5 px, cost ~2 ms to stroke, and the 8 loss curves of a race
plot (2,000 steps each, peak-downsampled into zig-zags) ~13 ms a repaint. Most of those
vertices are invisible: on a smooth stretch the middle one of three lies within a fraction
of a pixel of the chord of the other two. Dropping those keeps the drawn line within
``PASSES * TOLERANCE_PX`` = 0.5 px of the full one and leaves ~150 vertices of a smooth
curve of 2,000 (tests/ui/test_thin.py).
"""

from __future__ import annotations

import numpy as np

TOLERANCE_PX = 0.1  # how far a dropped vertex may lie from the chord that replaces it
PASSES = 5  # each drops at most every other vertex: 2,000 smooth samples -> ~150


def thin_polyline(px: np.ndarray, py: np.ndarray, tol: float = TOLERANCE_PX,
                  passes: int = PASSES) -> tuple[np.ndarray, np.ndarray]:
    """The vertices of the polyline (``px``, ``py``), in pixels, that a stroke needs.

    ``passes`` times, a vertex within ``tol`` px of the chord of its neighbours, and between
    them along it, goes; never two neighbours in one pass, so each chord joins vertices that
    stay, and the line moves at most ``tol`` a pass. A non-finite vertex is a break (what
    ``connect="finite"`` draws): it stays, and so do the vertices either side of it.
    """
    x, y = np.asarray(px, dtype=float), np.asarray(py, dtype=float)
    for _ in range(passes):
        if x.size < 3:
            break
        x0, y0, x1, y1, x2, y2 = x[:-2], y[:-2], x[1:-1], y[1:-1], x[2:], y[2:]
        with np.errstate(all="ignore"):  # inf - inf: NaN, a vertex that stays
            dx, dy = x2 - x0, y2 - y0
            cross = np.abs(dx * (y1 - y0) - dy * (x1 - x0))  # |chord| x distance from it
            chord2 = dx * dx + dy * dy
            along = (x1 - x0) * dx + (y1 - y0) * dy  # |chord| x the projection's position
            drop = (cross * cross <= tol * tol * chord2) & (along >= 0.0) & (along <= chord2)
        drop &= np.isfinite(cross)  # NaN: a break, or a vertex beside one
        drop[1::2] = False
        if not drop.any():
            break
        keep = np.ones(x.size, dtype=bool)
        keep[1:-1] = ~drop
        x, y = x[keep], y[keep]
    return x, y
