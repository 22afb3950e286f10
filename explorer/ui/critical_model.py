"""CriticalModel: minima, maxima and inflection points of f in the visible range, found in the
analysis process (SymPy's solveset within a time limit, a numeric search otherwise)."""

from __future__ import annotations

from PySide6 import QtCore

from ..core import offload
from ..core.session import Session
from .worker import Worker


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
        from ..core.calculus import marked_points  # SymPy loads after the window paints

        analysis = offload.lane("analysis")  # SymPy's search never holds the GUI's GIL
        self.worker.submit("critical", lambda: (f, bounds, analysis.call(marked_points, f, bounds)),
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
