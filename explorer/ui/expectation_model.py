"""ExpectationModel: E_p[g(X)] for g = f, exactly and by Monte Carlo, shared by the lab's panel
and plots.

The exact expectation (SymPy under a time limit, else adaptive quadrature) runs on the analysis
worker; the Monte Carlo run (NumPy only: N samples, their histogram, the running estimate) on a
worker of its own, so a reseed or a new N never waits behind SymPy. Both happen only while the
lab is shown (:meth:`ExpectationModel.set_active`); showing it catches up at once.
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple

import numpy as np
from PySide6 import QtCore

from ..core.session import Session
from .worker import Worker

EXACT_TIME_LIMIT = 2.0  # seconds of SymPy per expectation, off the GUI thread
DENSITY_SAMPLES = 600  # p(x) and g(x) p(x) across the distribution's plot range
MC_BINS = 60
MC_CHECKPOINTS = 80
RESEED_RANGE = 1_000_000  # new seeds are short enough to read and type back (any up to 2^32 works)


class Density(NamedTuple):
    """What the density plot draws: p and g p on ``xs``, and the distribution's mean."""

    xs: np.ndarray
    pdf: np.ndarray
    gp: np.ndarray
    mean: float


def one_variable_message(session: Session) -> str | None:
    """Why there is no g to take the expectation of, or None."""
    if session.function is None:
        return "no function yet"
    if session.f1 is None:
        names = ", ".join(session.function.variables)
        return f"g must be a function of x alone; f has the variables {names}"
    return None


def _variance(g, name: str, params: dict, mean: float) -> float:
    """Var g(X) = E[g(X)^2] - E[g(X)]^2 exactly where possible (the 1/sqrt(N) law's sigma_g^2).

    Raises ValueError when E[g^2] is undefined or infinite (then the law does not hold)."""
    from ..core.expression import ExpressionError, parse
    from ..core.integration import expectation

    try:
        squared = parse(f"({g.text})^2", variables=g.variables)
    except ExpressionError as exc:
        raise ValueError(f"g² could not be formed: {exc}") from None
    squared = squared.with_parameters(**{k: v for k, v in g.parameters.items()
                                         if k in squared.parameters})
    second = float(expectation(squared, name, params, seconds=EXACT_TIME_LIMIT))
    if not math.isfinite(second):
        raise ValueError("E[g(X)²] is infinite")
    # round-off can leave a tiny negative for a constant g
    return max(second - mean * mean, 0.0)


class ExpectationModel(QtCore.QObject):
    """``exact`` (an :class:`~explorer.core.integration.Integral`) or ``exact_error``; ``run``
    (a :class:`~explorer.core.integration.MonteCarloRun`) or ``run_error``; ``variance`` of
    g(X) (exact, for the 1/sqrt(N) law) or ``variance_error``. Signals fire when results
    arrive: ``exact_changed`` (the mean or the variance), ``run_changed``."""

    exact_changed = QtCore.Signal()
    run_changed = QtCore.Signal()
    busy_changed = QtCore.Signal(bool)  # after a result is in (the workers report before)

    def __init__(self, session: Session, analysis_worker: Worker, sampling_worker: Worker,
                 parent=None):
        super().__init__(parent)
        self.session = session
        self.analysis_worker = analysis_worker
        self.sampling_worker = sampling_worker
        self.active = False
        self.exact = None
        self.exact_error: str | None = None
        self.variance: float | None = None
        self.variance_error: str | None = None
        self.run = None
        self.run_error: str | None = None
        # the inputs each result (or request in flight) belongs to
        self.exact_key = self.run_key = None
        self._exact_asked = self._run_asked = None
        self._exact_pending = self._variance_pending = self._run_pending = False
        self._density_key = self._density = None
        session.connect(("function", "parameters", "distribution", "distribution_parameters"),
                        lambda s, f: self.request())
        session.connect(("mc_n", "mc_seed"), lambda s, f: self._request_run())

    # -- keys --------------------------------------------------------------------------------------
    def _exact_inputs(self):
        s = self.session
        return (s.f1, s.distribution, tuple(sorted(s.distribution_params.items())))

    def _run_inputs(self):
        s = self.session
        return self._exact_inputs() + (s.mc_n, s.mc_seed)

    @property
    def exact_stale(self) -> bool:
        """The shown exact value belongs to earlier inputs (a new one is on its way)."""
        return self.exact_key != self._exact_inputs()

    @property
    def run_stale(self) -> bool:
        return self.run_key != self._run_inputs()

    # -- activity ----------------------------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        """Compute only while the lab is on screen; becoming active computes at once."""
        active = bool(active)
        if active == self.active:
            return
        self.active = active
        if active:
            self.request()

    def is_busy(self) -> bool:
        return self._exact_pending or self._variance_pending or self._run_pending

    def _pending(self, **flags: bool) -> None:
        """Set ``_exact_pending`` etc.; ``busy_changed`` when is_busy() changes."""
        was = self.is_busy()
        for name, value in flags.items():
            setattr(self, f"_{name}_pending", value)
        if self.is_busy() != was:
            self.busy_changed.emit(self.is_busy())

    def request(self) -> None:
        self._request_exact()
        self._request_run()

    def reseed(self) -> None:
        """A fresh random seed below a million (never the current one): new samples."""
        seed = self.session.mc_seed
        while seed == self.session.mc_seed:
            seed = random.SystemRandom().randrange(RESEED_RANGE)
        self.session.set_mc_seed(seed)

    # -- the exact expectation (analysis worker) ---------------------------------------------------
    def _request_exact(self) -> None:
        if not self.active:
            return
        key = self._exact_inputs()
        if key == self._exact_asked:
            return
        self._exact_asked = key
        message = one_variable_message(self.session)
        if message is not None:
            self.exact, self.exact_error, self.exact_key = None, message, key
            self.variance, self.variance_error = None, message
            self._pending(exact=False, variance=False)
            self.exact_changed.emit()
            return
        g, name, params = key[0], key[1], dict(key[2])

        def mean():
            from ..core.integration import expectation

            return key, expectation(g, name, params, seconds=EXACT_TIME_LIMIT)

        def variance(value):
            return key, _variance(g, name, params, value)

        self._pending(exact=True, variance=True)
        self.analysis_worker.submit(
            "expectation", mean,
            lambda result: self._exact_ready(result, variance),
            lambda exc: self._exact_failed(key, exc))

    def _exact_ready(self, result, variance_job) -> None:
        key, value = result
        self.exact, self.exact_error, self.exact_key = value, None, key
        self.variance = self.variance_error = None
        # The variance (for sigma_g / sqrt(N)) follows on the same worker: the mean shows first.
        self.analysis_worker.submit(
            "expectation-variance", lambda: variance_job(float(value)),
            self._variance_ready, lambda exc: self._variance_failed(key, exc))
        self.exact_changed.emit()
        self._pending(exact=False, variance=True)

    def _exact_failed(self, key, exc: BaseException) -> None:
        self.exact, self.exact_error, self.exact_key = None, _message(exc), key
        self.variance, self.variance_error = None, self.exact_error
        self.exact_changed.emit()
        self._pending(exact=False, variance=False)

    def _variance_ready(self, result) -> None:
        key, value = result
        if key == self.exact_key:
            self.variance, self.variance_error = value, None
            self.exact_changed.emit()
        if key == self._exact_asked:  # else a newer mean, then its variance, are on their way
            self._pending(variance=False)

    def _variance_failed(self, key, exc: BaseException) -> None:
        if key == self.exact_key:
            self.variance, self.variance_error = None, _message(exc)
            self.exact_changed.emit()
        if key == self._exact_asked:
            self._pending(variance=False)

    # -- the Monte Carlo run (sampling worker) -----------------------------------------------------
    def _request_run(self) -> None:
        if not self.active:
            return
        key = self._run_inputs()
        if key == self._run_asked:
            return
        self._run_asked = key
        message = one_variable_message(self.session)
        if message is not None:
            self.run, self.run_error, self.run_key = None, message, key
            self._pending(run=False)
            self.run_changed.emit()
            return
        g, name, params, n, seed = key[0], key[1], dict(key[2]), key[3], key[4]

        def job():
            from ..core.integration import monte_carlo_run

            return key, monte_carlo_run(g, name, params, n, seed=seed, bins=MC_BINS,
                                        checkpoints=MC_CHECKPOINTS)

        self._pending(run=True)
        self.sampling_worker.submit("monte-carlo", job, self._run_ready,
                                    lambda exc: self._run_failed(key, exc))

    def _run_ready(self, result) -> None:
        key, run = result
        self.run, self.run_error, self.run_key = run, None, key
        self.run_changed.emit()
        self._pending(run=False)

    def _run_failed(self, key, exc: BaseException) -> None:
        self.run, self.run_error, self.run_key = None, _message(exc), key
        self.run_changed.emit()
        self._pending(run=False)

    # -- derived values ----------------------------------------------------------------------------
    @property
    def sigma_g(self) -> float | None:
        """The standard deviation of g(X): exact when known, else the samples'."""
        if self.variance is not None:
            return math.sqrt(self.variance)
        if self.run is not None and self.variance_error is None:
            return float(self.run.standard_error) * math.sqrt(self.run.n)
        return None

    @property
    def sigma_g_is_exact(self) -> bool:
        return self.variance is not None

    def density(self) -> Density | None:
        """p(x) and g(x) p(x) over the distribution's plot range (cheap: NumPy on the GUI
        thread, so a parameter drag redraws the density at once); None without a distribution."""
        s = self.session
        key = (s.f1, s.distribution, tuple(sorted(s.distribution_params.items())))
        if key == self._density_key:
            return self._density
        from ..core.integration import distribution

        try:
            dist = distribution(s.distribution, s.distribution_params)
            lo, hi = dist.plot_range()
        except ValueError:
            self._density_key, self._density = key, None
            return None
        xs = np.linspace(lo, hi, DENSITY_SAMPLES)
        if s.distribution == "uniform":  # the jumps at low and high drawn upright
            xs = np.sort(np.concatenate([xs, np.nextafter([dist.params["low"], dist.params["high"]],
                                                          [-np.inf, np.inf]),
                                         [dist.params["low"], dist.params["high"]]]))
        elif s.distribution == "exponential":  # the jump at 0
            xs = np.sort(np.concatenate([xs, [np.nextafter(0.0, -1.0), 0.0]]))
        with np.errstate(all="ignore"):
            pdf = np.asarray(dist.pdf(xs), dtype=float)
            g = s.f1
            gp = g(xs) * pdf if g is not None else np.full_like(xs, np.nan)
            gp = np.where(pdf == 0, 0.0, gp)  # g need not be defined where p vanishes
        self._density_key = key
        self._density = Density(xs, pdf, gp, float(dist.mean))
        return self._density


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:400]
