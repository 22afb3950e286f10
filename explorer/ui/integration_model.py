"""IntegrationModel: the Riemann sum, the integral, F(x) and the convergence data, shared by
the integration lab's views and computed once per change.

SymPy's antiderivative (the exact integral and F) is found once per function off the GUI thread
under a time limit; afterwards a drag of a, b or x costs numeric work only. The sums against n
(six rules, ~40 values of n up to 10,000) are NumPy work of ~0.1 s, also off the GUI thread.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PySide6 import QtCore

from ..core.session import MAX_RIEMANN_N, RULES, Session
from .bindings import Throttle
from .worker import Worker

ANTIDERIVATIVE_TIME_LIMIT = 2.0  # seconds of SymPy per function, off the GUI thread
CONVERGENCE_NS = np.unique(np.round(np.logspace(0, np.log10(MAX_RIEMANN_N), 41)).astype(int))
CONVERGENCE_PAUSE_MS = 200
SLOPE_H = 1e-4  # step of the central difference that measures F's slope at x0


class Convergence(NamedTuple):
    """Sums against n for one (f, a, b): ``sums[rule][k]`` is the sum with ``ns[k]`` pieces."""

    key: tuple
    ns: np.ndarray
    sums: dict[str, np.ndarray]


class Numbers(NamedTuple):
    """The integral over [a, b] (or why there is none) and the theorem's numbers at x0."""

    key: tuple  # (f, a, b)
    integral: object  # core Integral (a float with .method and .error), or None
    error: str | None
    x0: float
    theorem: tuple[float, float, float] | None  # F(x0), slope of F at x0, f(x0)


def _numbers(f, a: float, b: float, x0: float, previous: Numbers | None) -> Numbers:
    from ..core.integration import accumulation, integral

    key = (f, a, b)
    if previous is not None and previous.key == key:
        value, error = previous.integral, previous.error
    else:
        value, error = None, None
        try:
            value = integral(f, a, b, seconds=ANTIDERIVATIVE_TIME_LIMIT)
        except ValueError as exc:
            error = str(exc)
    h = SLOPE_H * max(1.0, abs(x0))
    theorem = None
    try:
        F = accumulation(f, a, np.array([x0 - h, x0, x0 + h]),
                         seconds=ANTIDERIVATIVE_TIME_LIMIT).values
        if np.all(np.isfinite(F)):
            theorem = (float(F[1]), float((F[2] - F[0]) / (2 * h)), float(f(x0)))
    except ValueError:
        pass
    return Numbers(key, value, error, x0, theorem)


def _accumulate(f, a: float, lo: float, hi: float, samples: int):
    from ..core.integration import accumulation

    try:
        return accumulation(f, a, np.linspace(lo, hi, samples), seconds=ANTIDERIVATIVE_TIME_LIMIT)
    except ValueError:
        return None


def _convergence(f, a: float, b: float) -> Convergence:
    from ..core.integration import riemann_sum

    sums = {rule: np.array([riemann_sum(f, a, b, int(n), rule) for n in CONVERGENCE_NS])
            for rule in RULES}
    return Convergence((f, a, b), CONVERGENCE_NS, sums)


class IntegrationModel(QtCore.QObject):
    """``changed`` fires when the antiderivative has been tried (the integral and F can then
    be shown); ``convergence_changed`` when the sums against n arrive."""

    changed = QtCore.Signal()
    numbers_changed = QtCore.Signal()
    accumulation_changed = QtCore.Signal()
    convergence_changed = QtCore.Signal()

    def __init__(self, session: Session, worker: Worker, parent=None):
        super().__init__(parent)
        self.session = session
        self.worker = worker  # symbolic: the analysis worker, shared with Taylor and critical points
        self.numeric = Worker(self)  # the sums against n: never queued behind SymPy
        # The integral and F at x0: ~1 ms mostly, but quad gives up on a divergent integral
        # only after 0.1-0.4 s, which must not freeze a drag.
        self.quick = Worker(self)
        self._prepared_for = None
        self._boxes: dict[str, tuple] = {}
        self.numbers: Numbers | None = None
        self._accumulation_key = self._accumulation = None
        self.convergence: Convergence | None = None
        self._convergence_wanted = False
        session.connect(("function", "show_riemann", "show_accumulation"),
                        lambda s, f: self._prepare())
        # The sums against n (~0.3 s of NumPy) wait until a drag of a or b pauses: computed
        # per frame they would hold the GIL the drag needs.
        self._convergence_timer = QtCore.QTimer(self, singleShot=True, interval=CONVERGENCE_PAUSE_MS)
        self._convergence_timer.timeout.connect(self._request_convergence)
        session.connect(("function", "parameters", "integral_bounds"),
                        lambda s, f: self._convergence_wanted and self._convergence_timer.start())
        # during a drag of a, b or x0 the numbers are asked for at most every 50 ms: each
        # request is a few ms of quadrature holding the GIL the drag needs
        self._numbers_throttle = Throttle(self._request_numbers, parent=self)
        session.connect(("function", "parameters", "show_riemann", "show_accumulation"),
                        lambda s, f: self._request_numbers())
        session.connect(("integral_bounds", "x0"), lambda s, f: self._numbers_throttle())

    @property
    def active(self) -> bool:
        s = self.session
        return s.show_riemann or s.show_accumulation or self._convergence_wanted

    # -- the antiderivative (off the GUI thread) -------------------------------------------------
    def _prepare(self) -> None:
        function = self.session.function
        if not self.active or function is None or len(function.variables) != 1:
            return
        if self._prepared_for is function:
            return
        from ..core.integration import antiderivative

        self.worker.submit(
            "antiderivative",
            lambda: (function, antiderivative(function, seconds=ANTIDERIVATIVE_TIME_LIMIT)),
            self._prepared, self._failed)

    def _prepared(self, result) -> None:
        function, _ = result  # cached by the core: integral() and accumulation() reuse it
        if function is not self.session.function:
            return
        self._prepared_for = function
        self._accumulation_key = None
        self.changed.emit()
        self._request_numbers()
        self._request_convergence()

    def _failed(self, exc: BaseException) -> None:
        self._prepared_for = self.session.function  # quadrature alone from here on
        self.changed.emit()
        self._request_numbers()

    @property
    def ready(self) -> bool:
        """The antiderivative has been tried: the integral and F cost no symbolic work now."""
        return self._prepared_for is not None and self._prepared_for is self.session.function

    def is_busy(self) -> bool:
        return (self.numeric.is_busy() or self.quick.is_busy()
                or self._convergence_timer.isActive())

    # -- sums ------------------------------------------------------------------------------------
    def boxes(self, rule: str | None = None):
        """The session's Riemann sum (its rule, or ``rule``) as boxes, or None without an f(x)."""
        s = self.session
        f = s.f1
        if f is None:
            return None
        rule = rule or s.riemann_rule
        a, b = s.integral_bounds
        key = (f, a, b, s.riemann_n)
        cached = self._boxes.get(rule)
        if cached is None or cached[0] != key:
            from ..core.integration import riemann_boxes

            cached = (key, riemann_boxes(f, a, b, s.riemann_n, rule))
            self._boxes[rule] = cached
        return cached[1]

    def bracket(self) -> tuple[float, float] | None:
        """The lower and upper Darboux sums for the session's n."""
        lower, upper = self.boxes("lower"), self.boxes("upper")
        if lower is None:
            return None
        return lower.total, upper.total

    # -- the integral and F ----------------------------------------------------------------------
    def _request_numbers(self) -> None:
        s = self.session
        f = s.f1
        if f is None or not self.ready or not (s.show_riemann or s.show_accumulation
                                               or self._convergence_wanted):
            return
        a, b = s.integral_bounds
        x0, previous = s.x0, self.numbers
        self.quick.submit("integral", lambda: _numbers(f, a, b, x0, previous), self._numbers_ready)

    def _numbers_ready(self, numbers: Numbers) -> None:
        self.numbers = numbers
        self.numbers_changed.emit()

    def _current_numbers(self) -> Numbers | None:
        s = self.session
        n = self.numbers
        if n is None or s.f1 is None or n.key != (s.f1, *s.integral_bounds):
            return None
        return n

    def integral(self):
        """The integral of f from a to b (an ``Integral``: a float with ``method`` and
        ``error``) for the session's f, a and b, or None while it is computed or when there
        is none (``integral_error`` says why)."""
        n = self._current_numbers()
        return None if n is None else n.integral

    @property
    def integral_error(self) -> str | None:
        n = self._current_numbers()
        return None if n is None else n.error

    def theorem_at_x0(self) -> tuple[float, float, float] | None:
        """(F(x0), the slope of F at x0 by a central difference of F, f(x0)) for the last x0
        computed: the fundamental theorem says the last two agree."""
        n = self._current_numbers()
        return None if n is None else n.theorem

    def accumulation(self, lo: float, hi: float, samples: int = 1000):
        """F(x) = integral of f from a to x at ``samples`` points of [lo, hi]: the last one
        computed (it may lag a drag by a frame), or None. A new one is computed off the GUI
        thread when f, a or the range changed; ``accumulation_changed`` says it arrived."""
        s = self.session
        f = s.f1
        if f is None or not self.ready:
            return None
        key = (f, s.integral_bounds[0], lo, hi, samples)
        if key != self._accumulation_key:
            self._accumulation_key = key
            a = s.integral_bounds[0]
            self.quick.submit("accumulation", lambda: (key, _accumulate(f, a, lo, hi, samples)),
                              self._accumulated)
        if self._accumulation is None or self._accumulation[0][0] is not f:
            return None
        return self._accumulation[1]

    def accumulation_current(self) -> bool:
        """The accumulation held is for the session's f, a and the range last asked."""
        return self._accumulation is not None and self._accumulation[0] == self._accumulation_key

    def _accumulated(self, result) -> None:
        self._accumulation = result
        self.accumulation_changed.emit()

    # -- convergence (off the GUI thread) --------------------------------------------------------
    def want_convergence(self, wanted: bool) -> None:
        """The convergence plots are shown (or hidden): compute the sums against n, or stop."""
        self._convergence_wanted = wanted
        if wanted:
            self._prepare()
            self._request_convergence()

    def _request_convergence(self) -> None:
        s = self.session
        f = s.f1
        if not self._convergence_wanted or f is None:
            return
        a, b = s.integral_bounds
        if self.convergence is not None and self.convergence.key == (f, a, b):
            return
        self.numeric.submit("convergence", lambda: _convergence(f, a, b), self._converged,
                            lambda exc: None)

    def _converged(self, result: Convergence) -> None:
        self.convergence = result
        self.convergence_changed.emit()
