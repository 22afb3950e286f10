"""TaylorModel: the current Taylor polynomial, computed once per change and shared by its views.

The symbolic part (SymPy derivatives up to order 30, compiled) runs once per function off the
GUI thread under a time limit (:func:`explorer.core.calculus.plan_taylor`); a drag or an order
change then costs numeric work only: derivatives evaluated at the centre, or Cauchy's formula
by FFT where SymPy was too slow.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from ..core.session import Session
from .worker import Worker

PLAN_TIME_LIMIT = 1.5  # seconds of SymPy per function, off the GUI thread
SAMPLES = 801  # a polynomial of order <= 30 is smooth at this many points across the view


class TaylorModel(QtCore.QObject):
    """Holds the plan of the current function and the polynomial for the session's order and
    centre. ``changed`` fires when a plan arrives (views then redraw)."""

    changed = QtCore.Signal()

    def __init__(self, session: Session, worker: Worker, parent=None):
        super().__init__(parent)
        self.session = session
        self.worker = worker
        self._plan = None
        self._plan_for = None  # the Function (parameters aside) the plan belongs to
        self._cache_key = None
        self._cache = None
        self._fx_key = self._fx = self._sampled_for = self._sampled = None
        self._interval_for = self._interval_tolerance = self._interval = None
        self.error: str | None = None  # why there is no polynomial, for the panel
        session.connect(("function", "show_taylor"), lambda s, f: self._request_plan())

    # -- the plan (off the GUI thread) -----------------------------------------------------------
    def _request_plan(self) -> None:
        s = self.session
        function = s.function
        if not s.show_taylor or function is None or len(function.variables) != 1:
            return
        if self._plan_for is function:
            return
        self._plan, self._plan_for = None, None
        from ..core.calculus import plan_taylor  # SymPy is loaded once a function is parsed

        self.worker.submit("taylor-plan", lambda: (function, plan_taylor(function, seconds=PLAN_TIME_LIMIT)),
                           self._plan_ready, self._plan_failed)

    def _plan_ready(self, result) -> None:
        function, plan = result
        if function is not self.session.function:
            return
        self._plan, self._plan_for = plan, function
        self._cache_key = None
        self.changed.emit()

    def _plan_failed(self, exc: BaseException) -> None:
        self.error = f"The series could not be prepared: {exc}"
        self.changed.emit()

    @property
    def ready(self) -> bool:
        return self._plan is not None and self._plan_for is self.session.function

    # -- the polynomial --------------------------------------------------------------------------
    def series(self):
        """The Taylor polynomial for the session's function, order and centre, or None (no
        plan yet, or no series there: ``error`` says why). Cached until one of them changes."""
        s = self.session
        f = s.f1
        if f is None or not self.ready:
            self.error = None if f is not None else "f is not a function of x alone"
            return None
        key = (f, s.taylor_order, s.taylor_x0)  # f compares by identity first: cheap
        if key == self._cache_key:
            return self._cache

        from ..core.calculus import taylor

        self._cache_key, self._cache, self.error = key, None, None
        try:
            self._cache = taylor(f, s.taylor_x0, s.taylor_order, plan=self._plan)
        except ValueError as exc:
            self.error = str(exc)
        if self._cache is not None and not (self._cache.coefficients == self._cache.coefficients).all():
            self.error, self._cache = "f or its derivatives are undefined at the centre", None
        return self._cache


    def sampled(self):
        """Over the session's x range: ``(xs, f(xs), partial, err)`` where ``partial[k]`` is
        T_k(xs) for k = 0..n (row n the polynomial itself) and ``err`` = |f - T_n|; or None.
        Cached: the views drawing the polynomial and its error share one computation."""
        series = self.series()
        if series is None:
            return None
        f = self.session.f1
        lo, hi = self.session.x_range
        if self._fx_key != (f, lo, hi):
            xs = np.linspace(lo, hi, SAMPLES)
            self._fx_key, self._fx = (f, lo, hi), (xs, f(xs))
            self._sampled_for = None
        if self._sampled_for is series:
            return self._sampled
        xs, fx = self._fx
        t = xs - series.x0
        c = series.coefficients
        with np.errstate(all="ignore"):
            terms = c[:, None] * t[None, :] ** np.arange(c.size)[:, None]
            partial = np.cumsum(terms, axis=0)
            err = np.abs(fx - partial[-1])
        self._sampled_for, self._sampled = series, (xs, fx, partial, err)
        return self._sampled

    def interval(self):
        """Where |f - T_n| <= the session's tolerance around the centre, within the x range."""
        data = self.sampled()
        if data is None:
            return None
        from ..core.calculus import interval_within

        tolerance = self.session.taylor_tolerance
        if data is not self._interval_for or tolerance != self._interval_tolerance:
            xs, _, _, err = data
            self._interval_for, self._interval_tolerance = data, tolerance
            self._interval = interval_within(xs, err, self.session.taylor_x0,
                                             self.session.taylor_tolerance)
        return self._interval
