"""CriticalModel: minima, maxima and inflection points of f in the visible range, found off the
GUI thread (SymPy's solveset within a time limit, a numeric search otherwise)."""

from __future__ import annotations

from PySide6 import QtCore

from ..core.session import Session
from .worker import Worker

MAX_POINTS = 200  # a wildly oscillating f (sin(1/x)) lists the first ones only


def find_points(f, bounds) -> list:
    """Critical points (kind by DESIGN's rule) and the inflection points that are not
    stationary, sorted by x."""
    from ..core.calculus import critical_points, inflection_points
    from ..core.expression import trim_sympy_cache

    points = critical_points(f, bounds)
    tol = 1e-7 * max(1.0, bounds[1] - bounds[0])
    stationary = [float(p.point[0]) for p in points]
    for p in inflection_points(f, bounds):
        if all(abs(float(p.point[0]) - x) > tol for x in stationary):
            points.append(p)
    points.sort(key=lambda p: float(p.point[0]))
    trim_sympy_cache()  # a session of slider moves would fill SymPy's caches for good
    return points[:MAX_POINTS]


class CriticalModel(QtCore.QObject):
    """``points`` for the session's function over its x range; ``changed`` when they arrive."""

    changed = QtCore.Signal()

    def __init__(self, session: Session, worker: Worker, parent=None):
        super().__init__(parent)
        self.session = session
        self.worker = worker
        self.points: list = []
        self.bounds: tuple[float, float] | None = None
        self.error: str | None = None
        # Panning asks again when the hand pauses: a search per frame would queue up.
        self._pause = QtCore.QTimer(self, singleShot=True, interval=200)
        self._pause.timeout.connect(self.request)
        session.connect(("function", "parameters"), lambda s, f: self.request())
        session.connect("x_range", lambda s, f: self._pause.start())

    def is_busy(self) -> bool:
        return self._pause.isActive()

    def request(self) -> None:
        f = self.session.f1
        if f is None:
            self.points, self.bounds = [], None
            self.changed.emit()
            return
        bounds = tuple(self.session.x_range)
        self.worker.submit("critical", lambda: (f, bounds, find_points(f, bounds)),
                           self._ready, self._failed)

    def _ready(self, result) -> None:
        f, bounds, points = result
        if f is not self.session.f1:
            return
        self.points, self.bounds, self.error = points, bounds, None
        self.changed.emit()

    def _failed(self, exc: BaseException) -> None:
        self.points, self.error = [], f"The search failed: {exc}"
        self.changed.emit()
