"""RaceModel: the optimizer race on the session's f(x, y), recomputed off the GUI thread.

Every run of the session's race advances from the same start in one vectorised call
(:func:`explorer.core.optimizers.optimize_many`); a start dragged over the landscape asks for a
new race per frame and the worker's "latest request wins" drops the stale ones. The playback
cursor (the step shown), the selected run and the learning-rate sweep of that run live here:
they are what the user is looking at, not what they set up.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from ..core import offload
from ..core.race import SWEEP_MAX_STEPS, SWEEP_POINTS, Sweep, race_runs, sweep  # noqa: F401
from ..core.session import Session
from .worker import Worker

SPEEDS = (5, 20, 60, 200, 1000)  # steps per second
PLAY_INTERVAL_MS = 30


class RaceModel(QtCore.QObject):
    """``changed`` when new trajectories arrive (``trajectories``: one per session run, None for
    a disabled one); ``cursor_changed`` when the step shown moves; ``selected_changed``;
    ``sweep_changed`` when the learning-rate sweep of the selected run arrives."""

    changed = QtCore.Signal()
    cursor_changed = QtCore.Signal(int)
    selected_changed = QtCore.Signal(int)
    sweep_changed = QtCore.Signal()
    playing_changed = QtCore.Signal(bool)
    drag_finished = QtCore.Signal()

    def __init__(self, session: Session, landscape_model=None, parent=None):
        super().__init__(parent)
        self.session, self.landscape_model = session, landscape_model
        self.worker = Worker(self)
        self.sweep_worker = Worker(self)
        # Compiling f for the fast runner (numba: seconds the first time, ~0.7 s per new
        # expression) happens beside the races, which run on NumPy until it is ready.
        self.compile_worker = Worker(self)
        self._compiled_for = None
        # which runner steps the races, in the race process: None the compiled one once it is
        # ready (NumPy before); False always NumPy (what a benchmark compares against)
        self.fast: bool | None = None
        self.lane = offload.lane("race")  # where the runs, the sweep and the compile run
        self.trajectories: list = []
        self.runs: tuple = ()
        self.start = None  # the start the trajectories were computed from
        self._running = False
        self._owed_request = False
        self.error: str | None = None
        self.cursor = 0
        self.follow_end = True  # the cursor sits on the last step until the user moves it
        # True while the start is dragged: the paths follow every frame; the loss curves and
        # the table wait for the release (drag_finished), as DESIGN's drags do
        self.dragging = False
        self.selected = 0
        self.sweep: Sweep | None = None
        self.sweep_error: str | None = None
        self._sweep_active = False
        self.speed = SPEEDS[1]
        self._play = QtCore.QTimer(self, interval=PLAY_INTERVAL_MS)
        self._play.timeout.connect(self._advance)
        self._clock = QtCore.QElapsedTimer()
        self._owed = 0.0
        self._key = None
        session.connect(("function", "parameters", "race_start", "race_runs", "race_steps",
                         "race_tol", "show_race"), lambda s, f: self.request())
        session.connect(("function", "parameters", "race_start", "race_runs", "race_steps"),
                        lambda s, f: self._sweep_soon())
        self._sweep_timer = QtCore.QTimer(self, singleShot=True, interval=250)
        self._sweep_timer.timeout.connect(self.request_sweep)

    # -- the race ------------------------------------------------------------------------------
    @property
    def f2(self):
        f = self.session.f
        return f if f is not None and len(f.variables) == 2 else None

    @property
    def active(self) -> bool:
        return self.session.show_race and self.f2 is not None

    def is_busy(self) -> bool:
        return (self.worker.is_busy() or self.sweep_worker.is_busy()
                or self.compile_worker.is_busy())

    def _prepare_fast(self, f) -> None:
        """Compile f's gradient and Hessian off the GUI thread, once per expression; the next
        race after it uses the compiled runner (~100x faster)."""
        if f.expr == self._compiled_for:
            return
        self._compiled_for = f.expr
        from ..core.optimizers import prepare

        race = self.lane
        self.compile_worker.submit("prepare", lambda: race.call(prepare, f), self._prepared,
                                   lambda exc: None)

    def _prepared(self, ready: bool) -> None:
        if ready and self.active:
            self._key = None  # the same race again, now on the compiled path
            self.request()

    def request(self) -> None:
        """Recompute the race off the GUI thread (no-op when nothing it depends on changed).

        One race at a time: a request while one runs waits for it, and is then computed from
        the latest state. So during a drag every finished race is shown (the newest there is)
        instead of each being dropped as stale by the next frame's request."""
        if not self.active:
            self._key = None
            if self.trajectories:
                self.trajectories, self.runs = [], ()
                self.changed.emit()
            return
        s = self.session
        key = (self.f2, s.race_start, s.race_runs, s.race_steps, s.race_tol)
        if key == self._key:
            return
        self._key = key
        self._prepare_fast(self.f2)
        if self._running:
            self._owed_request = True
            return
        self._submit(key)

    def _submit(self, key) -> None:
        f, start, runs, steps, tol = key
        specs = [r for r in runs if r.enabled]
        self._running = True
        self._owed_request = False
        race = self.lane
        fast = self.fast
        self.worker.submit("race", lambda: (key, race.call(race_runs, f, specs, start, steps, tol,
                                                           fast)),
                           self._race_ready, self._race_failed)

    def _race_ready(self, result) -> None:
        key, computed = result
        self._running = False
        if self._owed_request and self._key is not None:
            self._submit(self._key)
        if not self.active:
            return
        runs = key[2]
        it = iter(computed)
        self.trajectories = [next(it) if r.enabled else None for r in runs]
        self.runs, self.start, self.error = runs, key[1], None
        if self.selected >= len(runs):
            self.selected = max(0, len(runs) - 1)
        last = self.max_step()
        if self.follow_end or self.cursor > last:
            self.cursor = last
        self.changed.emit()
        self.cursor_changed.emit(self.cursor)

    def set_dragging(self, dragging: bool) -> None:
        if dragging != self.dragging:
            self.dragging = dragging
            if not dragging:
                self.drag_finished.emit()

    def _race_failed(self, exc: BaseException) -> None:
        self._running = False
        if self._owed_request and self._key is not None:
            self._submit(self._key)
        self.trajectories, self.runs, self.error = [], (), f"the race could not run: {exc}"
        self.changed.emit()

    def is_current(self) -> bool:
        """Whether the trajectories shown are those of the session's race as it is now."""
        s = self.session
        return (not self._running and self._key is not None
                and self._key == (self.f2, s.race_start, s.race_runs, s.race_steps, s.race_tol)
                and self.runs == s.race_runs and self.start == s.race_start)

    def wait(self, msecs: int = 30000) -> None:
        self.compile_worker.wait(msecs)
        self.worker.wait(msecs)
        self.sweep_worker.wait(msecs)

    # -- read-outs -----------------------------------------------------------------------------
    def max_step(self) -> int:
        return max((t.steps for t in self.trajectories if t is not None), default=0)

    def iterate(self, index: int, step: int | None = None):
        """The point of run ``index`` at the cursor (its last point when it stopped earlier)."""
        t = self.trajectories[index] if 0 <= index < len(self.trajectories) else None
        if t is None:
            return None
        k = min(self.cursor if step is None else step, t.steps)
        return k, t.points[k]

    def minima(self) -> list:
        m = self.landscape_model
        if m is None:
            return []
        return [p for p in m.critical if p.kind == "minimum"]

    def distance_to_minimum(self, index: int) -> float | None:
        """Distance from the run's last point to the nearest minimum found in view."""
        t = self.trajectories[index] if 0 <= index < len(self.trajectories) else None
        minima = self.minima()
        if t is None or not minima or not np.all(np.isfinite(t.points[-1])):
            return None
        return min(float(np.hypot(*(t.points[-1] - np.asarray(p.point, dtype=float))))
                   for p in minima)

    # -- selection and playback ----------------------------------------------------------------
    def select(self, index: int) -> None:
        if index != self.selected:
            self.selected = index
            self.selected_changed.emit(index)
            self._sweep_soon()

    def set_cursor(self, step: int, follow_end: bool = False) -> None:
        step = int(min(max(step, 0), self.max_step()))
        self.follow_end = follow_end or (step == self.max_step() and not self.playing)
        if step != self.cursor:
            self.cursor = step
            self.cursor_changed.emit(step)

    @property
    def playing(self) -> bool:
        return self._play.isActive()

    def play(self) -> None:
        if self.cursor >= self.max_step():
            self.set_cursor(0)
        self.follow_end = False
        self._owed = 0.0
        self._clock.start()
        self._play.start()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if self._play.isActive():
            self._play.stop()
            self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def step_by(self, delta: int) -> None:
        self.pause()
        self.set_cursor(self.cursor + delta)

    def reset(self) -> None:
        self.pause()
        self.set_cursor(0)

    def to_end(self) -> None:
        self.pause()
        self.set_cursor(self.max_step(), follow_end=True)

    def set_speed(self, steps_per_second: float) -> None:
        self.speed = float(steps_per_second)

    def _advance(self) -> None:
        elapsed = self._clock.restart() / 1000.0
        self._owed += elapsed * self.speed
        whole = int(self._owed)
        if whole < 1:
            return
        self._owed -= whole
        nxt = min(self.cursor + whole, self.max_step())
        if nxt != self.cursor:
            self.cursor = nxt
            self.cursor_changed.emit(nxt)
        if nxt >= self.max_step():
            self.pause()

    # -- the learning-rate sweep of the selected run ---------------------------------------------
    def set_sweep_active(self, active: bool) -> None:
        self._sweep_active = bool(active)
        if active:
            self.request_sweep()

    def _sweep_soon(self) -> None:
        if self._sweep_active:
            self._sweep_timer.start()

    def request_sweep(self) -> None:
        s = self.session
        f = self.f2
        runs = s.race_runs
        index = self.selected
        if f is None or not (0 <= index < len(runs)):
            self.sweep, self.sweep_error = None, "no run selected" if f is not None else None
            self.sweep_changed.emit()
            return
        spec = runs[index]
        if spec.optimizer in ("LBFGS",):
            self.sweep, self.sweep_error = None, "L-BFGS has no learning rate to sweep"
            self.sweep_changed.emit()
            return
        start, steps = s.race_start, s.race_steps
        race = self.lane
        self.sweep_worker.submit("sweep", lambda: race.call(sweep, f, spec, index, start, steps),
                                 self._sweep_ready, self._sweep_failed)

    def _sweep_ready(self, sweep: Sweep) -> None:
        self.sweep, self.sweep_error = sweep, None
        self.sweep_changed.emit()

    def _sweep_failed(self, exc: BaseException) -> None:
        self.sweep, self.sweep_error = None, f"the sweep could not run: {exc}"
        self.sweep_changed.emit()

