"""LandscapeModel: the sampled landscape of f(x, y) over the view (grid, contour levels and
lines, gradient field) and its critical points, shared by the landscape's views.

The grid, contours and field are NumPy and contourpy work of ~20-80 ms, redone when f, its
parameters or the range change: a coarse grid at once on the GUI thread, the full grid off it;
the point's drag reuses them, and a change of the settings only (levels, log colours, the
field) re-contours the grid drawn, off the GUI thread. Critical points
(SymPy's solve within a time limit, a numeric search otherwise) come from the analysis worker.
"""

from __future__ import annotations

from PySide6 import QtCore

from ..core.session import Session
from .worker import Worker

GRID = 400  # samples a side: contours smooth at any window size
DRAG_GRID = 160  # while a slider or a pan is moving; the full grid follows when it pauses
REFINE_MS = 150
HIGHLIGHT_GRID = 160  # the contour through the point is re-traced per drag frame on this grid


def sample(f, xy_range, contour_count, log_colors, field_density, show_field, field_normalized,
           size, grids=None):
    """f over ``xy_range`` on a ``size`` x ``size`` grid: ``(grid, coarse, levels, lines, field,
    error)`` (any thread: NumPy and contourpy only). ``grids``, the ``(grid, coarse)`` of the
    same f, range and size, are re-used instead of sampled again: a change of the settings
    only (levels, log colours, the field) re-contours what is already sampled."""
    from ..core.multivariate import contour_levels, contour_lines, evaluate_grid, gradient_field

    (x0, x1), (y0, y1) = xy_range
    if grids is not None:
        grid, coarse = grids
    else:
        grid = evaluate_grid(f, (x0, x1), (y0, y1), size, size)
        coarse = (grid if size <= HIGHLIGHT_GRID else
                  evaluate_grid(f, (x0, x1), (y0, y1), HIGHLIGHT_GRID, HIGHLIGHT_GRID))
    finite = grid.z[grid.z == grid.z]
    if finite.size == 0:
        error, levels, lines = "f is undefined everywhere in view", None, []
    else:
        error = None
        levels = contour_levels(grid.z, contour_count, log=log_colors)
        lines = contour_lines(grid, levels)
    field = (gradient_field(f, (x0, x1), (y0, y1), field_density) if show_field else None)
    return grid, coarse, levels, lines, field, error


class LandscapeModel(QtCore.QObject):
    """``changed`` when the sampled landscape is new; ``critical_changed`` when the critical
    points arrive. Attributes: ``grid``, ``levels``, ``lines`` (level, xs, ys), ``field``
    (X, Y, U, V), ``critical`` (list of CriticalPoint), ``error``."""

    changed = QtCore.Signal()
    critical_changed = QtCore.Signal()

    def __init__(self, session: Session, worker: Worker, parent=None):
        super().__init__(parent)
        self.session, self.worker = session, worker
        self.grid = self.coarse = None
        self.levels = None
        self.lines: list = []
        self.field = None
        self.critical: list = []
        self.critical_for = None
        self.error: str | None = None
        self._key = self._shown = (None,)
        self.sampler = Worker(self)  # its own thread: SymPy's critical points may take seconds
        self._pause = QtCore.QTimer(self, singleShot=True, interval=200)
        self._pause.timeout.connect(self._request_critical)
        # A parameter slider or a pan changes the landscape many times a second: each change
        # is drawn at once on a coarse grid, the full grid follows when the hand pauses.
        self._refine = QtCore.QTimer(self, singleShot=True, interval=REFINE_MS)
        self._refine.timeout.connect(self.update)
        session.connect(("function", "contour_count", "log_colors", "field_density",
                         "show_field", "field_normalized"), lambda s, f: self.update())
        session.connect(("parameters", "xy_range"), lambda s, f: self._update_moving())
        session.connect(("function", "parameters", "xy_range"), lambda s, f: self._pause.start())

    @property
    def f2(self):
        """The session's function when it has two variables, else None."""
        f = self.session.f
        return f if f is not None and len(f.variables) == 2 else None

    def is_busy(self) -> bool:
        return self._pause.isActive() or self._refine.isActive() or self.sampler.is_busy()

    def _update_moving(self) -> None:
        if not self._moved_within():
            self.update(DRAG_GRID)
        self._refine.start()

    def _moved_within(self) -> bool:
        """Whether only the range changed (a pan or a zoom) and the grid drawn still covers
        three quarters of it at no less than half its resolution. The drawn grid then moves
        with the view (it is drawn in data coordinates) and is sampled again, off the GUI
        thread, when the hand pauses: a pan frame no longer samples f on the GUI thread and
        re-draws the landscape's layers (bench_landscape: 35-39 ms a frame against 78-91)."""
        shown, s = self._shown, self.session
        f = self.f2
        if f is None or shown[0] is not f or self.grid is None:
            return False
        if shown[2:-1] != (s.contour_count, s.log_colors, s.field_density, s.show_field,
                           s.field_normalized):
            return False
        (a0, a1), (b0, b1) = shown[1]
        (x0, x1), (y0, y1) = s.xy_range
        area = (x1 - x0) * (y1 - y0)
        overlap = max(0.0, min(a1, x1) - max(a0, x0)) * max(0.0, min(b1, y1) - max(b0, y0))
        return overlap >= 0.75 * area and area >= 0.25 * (a1 - a0) * (b1 - b0)

    def update(self, size: int = GRID) -> None:
        """Sample f over the session's range on a ``size`` x ``size`` grid (no-op when nothing
        it depends on changed). The coarse grid of a moving slider or pan (``DRAG_GRID``) is
        drawn at once; a finer one (~20-80 ms of NumPy and contourpy) is sampled off the GUI
        thread and replaces what is drawn when it is ready."""
        s = self.session
        f = self.f2
        settings = (s.xy_range, s.contour_count, s.log_colors, s.field_density, s.show_field,
                    s.field_normalized)
        key = (f, *settings, size)
        if key == self._key:
            return
        self._key = key
        if f is None:
            self._shown = (None,)
            self.grid = self.coarse = self.levels = self.field = None
            self.lines = []
            self.changed.emit()
            return
        shown = self._shown
        # only the settings changed: the grid drawn is re-contoured off the GUI thread
        grids = ((self.grid, self.coarse) if self.grid is not None and shown[0] is f
                 and shown[1] == s.xy_range and shown[-1] == size else None)
        # while a slider or a pan moves, a coarse grid at once follows the hand; a new function
        # or range waits for the full grid instead (a coarse one drawn first cost the GUI
        # thread a second sampling, contouring and repaint of the landscape: ~100 ms)
        if (grids is None and size <= DRAG_GRID and (f, *settings) != shown[:-1]
                and not self._moved_within()):
            self._apply(key, sample(f, *settings, size))
        if size > DRAG_GRID or grids is not None:
            self.sampler.submit("landscape", lambda: (key, sample(f, *settings, size, grids)),
                                lambda result: self._apply(*result) if result[0] == self._key
                                else None, lambda exc: None)  # the coarse grid stays

    def _apply(self, key, sampled) -> None:
        self._shown = key
        self.grid, self.coarse, self.levels, self.lines, self.field, self.error = sampled
        self.changed.emit()

    # -- critical points (off the GUI thread) ----------------------------------------------------
    def _request_critical(self) -> None:
        f = self.f2
        if f is None:
            self.critical, self.critical_for = [], None
            self.critical_changed.emit()
            return
        bounds = tuple(self.session.xy_range)
        from ..core import offload
        from ..core.calculus import marked_points

        analysis = offload.lane("analysis")  # SymPy's search never holds the GUI's GIL
        self.worker.submit("critical-2d", lambda: (f, bounds, analysis.call(marked_points, f, bounds)),
                           self._critical_ready, self._critical_failed)

    def _critical_ready(self, result) -> None:
        f, bounds, points = result
        if f is not self.f2:
            return
        self.critical, self.critical_for = points, bounds
        self.critical_changed.emit()

    def _critical_failed(self, exc: BaseException) -> None:
        self.critical, self.critical_for = [], None
        self.critical_changed.emit()
