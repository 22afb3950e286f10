"""Soak: every dock open, thousands of random interactions, as a restless user would make them.

Drags on the curve, the landscape, the race's start, the regression data and J(w, b); valid,
invalid and hostile function text typed; sliders moved; runs added and removed; undo and redo;
the session saved and opened again. Each function of the pools is seen once first, and a
random warm-up follows (first sight of an expression compiles and caches: SymPy's derivatives,
the race's numba gradient; that is not growth). Then the test passes only with

- no unhandled exception (an excepthook that records them; pytest-qt fails on Qt's own too),
- memory growth under 10 % from after warm-up to the end (resident set of the app and its
  analysis and race processes, after a collection),
- no hang: no gap over 5 s between the ticks of a 10 ms heartbeat timer (what a user feels),
- no stall: no gap over 100 ms between its ticks. Asserted whenever the soak has the machine
  to itself; in a parallel run (``pytest -n auto``, as CI runs the suite) the other tests'
  processes share its two cores, so there the stalls are counted and printed, not asserted.
  SOAK_STALL_BAR=1 or 0 asserts or not, whatever the run,
- the window still answering: a last function typed goes through.

The long form is the one that finds slow leaks: 20,000 steps found mathtext's font sets kept
for good (12 % growth, ~3 MiB every 1,000 steps). The short form runs in CI with the suite;
the long form on demand::

    python -m pytest tests/ui/test_soak.py -s                       # short form, 150 steps
    SOAK_STEPS=20000 python -m pytest tests/ui/test_soak.py -s      # long form
    SOAK_STALL_BAR=0 ...                                            # count stalls, never fail
    SOAK_PROFILE=1 ...                                              # where the stalls went
    SOAK_TIMING=1 ...                  # what ran inside the stalls, timed (no stack sampling)
"""

from __future__ import annotations

import gc
import heapq
import os
import random
import sys
import threading
import time
import traceback

import pytest
from PySide6 import QtCore, QtWidgets

STEPS = int(os.environ.get("SOAK_STEPS", "150") or 150)
WARM_UP = max(40, STEPS // 5)
STALL_MS = 100.0  # the bar: counted always, asserted when the soak runs alone
HANG_MS = 5000.0  # asserted always
STALL_BAR = (os.environ["SOAK_STALL_BAR"] == "1" if os.environ.get("SOAK_STALL_BAR")
             else "PYTEST_XDIST_WORKER" not in os.environ)
PROFILE = bool(os.environ.get("SOAK_PROFILE"))  # where the stalls spent their time (Heartbeat)
TIMING = bool(os.environ.get("SOAK_TIMING"))  # what ran inside each stall (Timings)

ONE_D = ("a*sin(x) + x^2/4", "x^3 - 2x", "sigmoid(b*x)", "exp(-x^2/2)", "relu(x) - relu(x - 1)")
TWO_D = ("(1 - x)^2 + 100(y - x^2)^2", "x^2 - y^2 + y^4/4", "x^2 + 3y^2", "sin(x) cos(y)")
BAD = ("sin(x", "x +* 2", "__import__('os').system('true')", "9**9**9**9", "exp(", "")


def type_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in gc.get_objects():
        name = type(obj).__qualname__
        counts[name] = counts.get(name, 0) + 1
    return counts


def rss_bytes() -> int:
    """The app's resident memory: this process and its analysis and race processes."""
    from explorer.core import offload

    total = 0
    for pid in ["self", *offload.child_pids()]:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except FileNotFoundError:  # a child replaced meanwhile
            pass
    return total


class Heartbeat(QtCore.QObject):
    """A 10 ms timer; the longest gap between its ticks is the longest stall."""

    def __init__(self):
        super().__init__()
        self.timer = QtCore.QTimer(self, interval=10)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.last = None
        self.stalls: list[tuple[float, str]] = []
        self.doing = ""
        self.longest: list[tuple[float, str]] = []  # the 10 longest gaps, stalls or not: the margin

        self.where: list[str] = []  # the GUI thread's stack, sampled during each stall
        self._main = threading.get_ident()
        self._watching = False
        self.profile: dict[str, int] = {}
        self.timings: Timings | None = None

    def start(self):
        self.last = time.perf_counter()
        self.timer.start()
        if self.timings is not None:
            self.timings.recording = True
        self._watching = PROFILE
        if PROFILE:
            threading.Thread(target=self._watch, daemon=True).start()

    def stop(self):
        self.timer.stop()
        self._watching = False

    def tick(self):
        now = time.perf_counter()
        gap = (now - self.last) * 1000.0
        if gap > STALL_MS:
            self.stalls.append((gap, self.doing))
        (heapq.heappush if len(self.longest) < 10 else heapq.heappushpop)(
            self.longest, (gap, self.doing))
        if self.timings is not None:
            self.timings.tick(self.last, now, self.doing if gap > STALL_MS else None)
        self.last = now

    def _watch(self):
        """Where the GUI thread is while the heartbeat is late: a sampling profile of the stalls.

        Every 5 ms of a stall the GUI thread's stack is sampled; each function of the app or of
        pyqtgraph on it counts once per sample, so the report ranks what the stalls spent
        their time in (inclusive), and keeps the first stacks for reading. On demand only
        (SOAK_PROFILE=1): reading another thread's frames can crash CPython 3.11 (a segfault
        one run in three here; CPython issues 99110 and 111363), so CI runs without it.
        """
        sampled_for = None
        while self._watching:
            time.sleep(0.005)
            last = self.last
            if (time.perf_counter() - last) * 1000.0 <= STALL_MS * 0.5:
                continue
            frame = sys._current_frames().get(self._main)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)
            seen = set()
            for f in stack:
                if "/explorer/" in f.filename or "/pyqtgraph/" in f.filename:
                    key = f"{f.filename.split('/')[-1]}:{f.name}"
                    if key not in seen:
                        seen.add(key)
                        self.profile[key] = self.profile.get(key, 0) + 1
            if sampled_for != last:
                sampled_for = last
                self.where.append(f"{self.doing}\n" + "".join(
                    f"    {f.filename.split('/')[-1]}:{f.lineno} {f.name}\n" for f in stack[-14:]
                    if "/site-packages/_pytest" not in f.filename))

    def report(self, top=25):
        ranked = sorted(self.profile.items(), key=lambda kv: -kv[1])[:top]
        return "\n".join(f"    {n * 5:6d} ms  {k}" for k, n in ranked)


class Timings:
    """Every plot's paint, every worker result delivered and every session notification, timed
    on the GUI thread and charged to the stall it fell in, by the action under way.

    On demand (SOAK_TIMING=1), as SOAK_PROFILE, but safe: it reads no other thread's frames
    (SOAK_PROFILE's sampling crashed CPython 3.11 here in two runs of two). Made before the
    window, whose views subscribe to the session as they are built. It records once the
    heartbeat starts (after warm-up), and each tick charges what ran since the last one to
    the stall, if that was one, and lets it go: what it holds stays small however long the
    soak, and the memory measured is the app's."""

    def __init__(self, monkeypatch):
        import pyqtgraph as pg

        from explorer.core.session import Session
        from explorer.ui.worker import Worker

        self.events: list[tuple[float, float, str]] = []  # since the last tick: start, ms, what
        self.stalls: dict[str, list[float]] = {}  # action -> its stalls (ms)
        self.inside: dict[str, dict[str, float]] = {}  # action -> what ran in them -> ms
        self.recording = False
        timed = self._timed
        monkeypatch.setattr(pg.GraphicsView, "paintEvent", timed(
            pg.GraphicsView.paintEvent,
            lambda view, _event: f"paint {type(view).__name__} {view.parent().objectName()}"))
        deliver = Worker._deliver
        monkeypatch.setattr(Worker, "_deliver", lambda worker, message: timed(
            deliver, lambda *_: "result " + worker._callbacks.get(message[0], ("?",))[0])(
                worker, message))
        connect = Session.connect

        def connect_timed(session, fields, callback):
            code = getattr(callback, "__code__", None)
            where = (f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_firstlineno}" if code
                     else type(callback).__name__)
            return connect(session, fields, timed(callback, lambda *_: f"notify {where}"))

        monkeypatch.setattr(Session, "connect", connect_timed)

    def _timed(self, function, name):
        def call(*args):
            label = name(*args)  # before: a delivered result leaves its worker's books
            start = time.perf_counter() * 1000.0
            try:
                return function(*args)
            finally:
                if self.recording:
                    self.events.append((start, time.perf_counter() * 1000.0 - start, label))
        return call

    def tick(self, start_s: float, end_s: float, stalled_in: str | None) -> None:
        """A heartbeat tick: what ran since the last goes to the stall, if that was one
        (nested calls each count: a result's notifications inside its delivery)."""
        if stalled_in is not None:
            action = stalled_in.split(": ")[-1]
            start, end = start_s * 1000.0, end_s * 1000.0
            self.stalls.setdefault(action, []).append(end - start)
            names = self.inside.setdefault(action, {})
            for t, duration, name in self.events:
                if start <= t <= end:
                    names[name] = names.get(name, 0.0) + min(duration, end - t)
        self.events.clear()

    def report(self, top: int = 12) -> str:
        """Per action: its stalls, their time, and what ran inside them."""
        lines = []
        for action, gaps in sorted(self.stalls.items(), key=lambda kv: -sum(kv[1])):
            lines.append(f"  {action}: {len(gaps)} stalls, {sum(gaps):.0f} ms in them")
            ranked = sorted(self.inside[action].items(), key=lambda kv: -kv[1])[:top]
            lines += [f"    {ms:7.0f} ms  {name}" for name, ms in ranked if ms >= 1.0]
        return "\n".join(lines)


def widget_pos(view, x, y):
    """Data coordinates -> viewport coordinates of a PlotWidget."""
    scene = view.getPlotItem().vb.mapViewToScene(QtCore.QPointF(x, y))
    return QtCore.QPointF(view.mapFromScene(scene))


class Soak:
    def __init__(self, window, qtbot, ui, tmp_path, rng):
        self.w, self.qtbot, self.ui, self.rng = window, qtbot, ui, rng
        self.path = tmp_path / "soak.json"
        self.saved = False

    @property
    def two_d(self):
        f = self.w.session.function
        return f is not None and len(f.variables) == 2

    def pause(self):
        self.qtbot.wait(self.rng.choice((1, 5, 20, 60)))

    # -- the interactions ----------------------------------------------------------------------
    def type_function(self):
        pool = TWO_D if self.rng.random() < 0.4 else ONE_D
        text = self.rng.choice(BAD) if self.rng.random() < 0.25 else self.rng.choice(pool)
        edit = self.w.function_panel.edit
        edit.setFocus()
        edit.selectAll()
        self.qtbot.keyClicks(edit, text) if text else edit.clear()
        self.qtbot.keyClick(edit, QtCore.Qt.Key.Key_Return)

    def drag_curve_point(self):
        if self.two_d or self.w.curve_view is None or not self.w.curve_view.isVisible():
            return
        view, s = self.w.curve_view, self.w.session
        if s.f is None:
            return
        x1 = s.x0 + self.rng.uniform(-1.5, 1.5)
        y0 = float(s.f(s.x0))
        if y0 != y0:
            return
        self.ui.drag(view.viewport(), widget_pos(view, s.x0, y0),
                     widget_pos(view, x1, y0), steps=self.rng.randint(3, 12))

    def drag_landscape(self):
        view = self.w.landscape_view
        if not self.two_d or view is None or not view.isVisible():
            return
        s = self.w.session
        target = s.race_start if (s.show_race and self.rng.random() < 0.5) else s.point
        (x0, x1), (y0, y1) = s.xy_range
        end = (self.rng.uniform(x0, x1), self.rng.uniform(y0, y1))
        start = QtCore.QPointF(view.mapFromScene(view.scene_pos(*target)))
        stop = QtCore.QPointF(view.mapFromScene(view.scene_pos(*end)))
        self.ui.drag(view.viewport(), start, stop, steps=self.rng.randint(3, 10))

    def move_slider(self):
        s = self.w.session
        if not s.parameters:
            return
        name = self.rng.choice(sorted(s.parameters))
        low, high, _step = s.parameter_ranges[name]
        s.set_parameter(name, self.rng.uniform(low, high))

    def race_runs(self):
        panel = self.w.race_panel
        if panel is None or not self.w.docks["race"].isVisible():
            self.w.session.set_option("show_race", True)
            return
        if self.rng.random() < 0.5 and len(self.w.session.race_runs) > 1:
            table = panel.findChild(QtWidgets.QTableWidget) or panel.findChild(QtWidgets.QTableView)
            if table is not None:
                table.selectRow(self.rng.randrange(len(self.w.session.race_runs)))
            self.qtbot.mouseClick(panel.remove_button, QtCore.Qt.MouseButton.LeftButton)
        else:
            actions = [a for a in panel.add_button.menu().actions() if a.text()]
            if actions and len(self.w.session.race_runs) < 8:
                self.rng.choice(actions).trigger()

    def regression_data(self):
        view = self.w.regression_data_view
        if view is None or not view.isVisible():
            return
        m = self.w.regression_model
        if len(m.data) == 0 or self.rng.random() < 0.3:
            x, y = self.rng.uniform(-2, 2), self.rng.uniform(-2, 2)
            pos = widget_pos(view, x, y)
            self.ui.send_mouse(view.viewport(), "press", pos)
            self.ui.send_mouse(view.viewport(), "release", pos)
            return
        i = self.rng.randrange(len(m.data))
        x, y = float(m.data.xs[i]), float(m.data.ys[i])
        self.ui.drag(view.viewport(), widget_pos(view, x, y),
                     widget_pos(view, x + self.rng.uniform(-0.5, 0.5), y + self.rng.uniform(-1, 1)),
                     steps=self.rng.randint(3, 10))

    def drag_loss_view(self):
        view = self.w.regression_loss_view
        if view is None or not view.isVisible() or len(self.w.regression_model.data) < 2:
            return
        m = self.w.regression_model
        (w0, w1), (b0, b1) = m.ranges()
        start = QtCore.QPointF(view.mapFromScene(view.scene_pos(m.w, m.b)))
        end = QtCore.QPointF(view.mapFromScene(view.scene_pos(self.rng.uniform(w0, w1),
                                                              self.rng.uniform(b0, b1))))
        self.ui.drag(view.viewport(), start, end, steps=self.rng.randint(3, 8))

    def small_edits(self):
        s = self.w.session
        choice = self.rng.randrange(4)
        if choice == 0:
            s.set_taylor_order(self.rng.randint(0, 12))
        elif choice == 1:
            a = self.rng.uniform(-3, 1)
            s.set_integral_bounds(a, a + self.rng.uniform(0.1, 4))
        elif choice == 2:
            s.set_mc_seed(self.rng.randint(0, 1000))
        else:
            s.set_h(10 ** self.rng.uniform(-8, 0))

    def undo_redo(self):
        for _ in range(self.rng.randint(1, 4)):
            action = self.w.undo_action if self.rng.random() < 0.6 else self.w.redo_action
            if action.isEnabled():
                action.trigger()
                self.pause()

    def save_and_open(self):
        if not self.saved or self.rng.random() < 0.5:
            assert self.w._write(str(self.path))
            self.saved = True
        else:
            assert self.w.open_file(str(self.path))

    def every_function(self):
        """Each function of the pools once, with the race shown: what the first sight of an
        expression costs (SymPy's derivatives, the race's compiled gradient) is warm-up."""
        for text in ONE_D + TWO_D:
            self.ui.type_expression(self.w, text)
            self.ui.wait_idle(self.w, timeout=60000)

    def run(self, steps, heartbeat, errors):
        actions = [(self.type_function, 3), (self.drag_curve_point, 4), (self.drag_landscape, 4),
                   (self.move_slider, 3), (self.race_runs, 2), (self.regression_data, 3),
                   (self.drag_loss_view, 2), (self.small_edits, 3), (self.undo_redo, 2),
                   (self.save_and_open, 1)]
        funcs, weights = zip(*actions, strict=True)
        counts: dict[str, int] = {}
        self.memory = []  # (step, resident MiB) every 25 steps: a leak climbs, a cache levels
        for step in range(steps):
            if step % 25 == 0:
                self.memory.append((step, round(rss_bytes() / 2**20)))
            act = self.rng.choices(funcs, weights)[0]
            heartbeat.doing = f"step {step}: {act.__name__}"
            act()
            counts[act.__name__] = counts.get(act.__name__, 0) + 1
            self.pause()
            assert not errors, f"{heartbeat.doing}:\n{errors[0]}"
        return counts


@pytest.mark.soak
def test_soak(make_window, qtbot, ui, tmp_path, monkeypatch):
    errors = []
    monkeypatch.setattr(sys, "excepthook",
                        lambda t, e, tb: errors.append(f"{t.__name__}: {e}"))
    # Opening a saved file and the restore prompt never block a scripted user.
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda *a, **k: None)
    timings = Timings(monkeypatch) if TIMING else None
    window = make_window(expression=ONE_D[0], restore=False)
    qtbot.waitUntil(lambda: window.regression_loss_view is not None, timeout=30000)
    # every dock open: the labs through their actions, then every dock shown
    for name in ("expectation", "jacobian", "backprop", "regression"):
        getattr(window, f"{name}_action").setChecked(True)
    window.session.set_option("show_race", True)
    for dock in window.docks.values():
        dock.show()
    ui.wait_idle(window, timeout=60000)
    rng = random.Random(int(os.environ.get("SOAK_SEED", "20261122")))
    soak = Soak(window, qtbot, ui, tmp_path, rng)
    heartbeat = Heartbeat()
    heartbeat.timings = timings
    soak.every_function()
    soak.run(WARM_UP, heartbeat, errors)  # every path once: compiles, caches, first views
    ui.wait_idle(window, timeout=60000)
    gc.collect()
    tracing = bool(os.environ.get("SOAK_TRACE"))  # where Python memory grew, on demand
    if tracing:
        import tracemalloc
        tracemalloc.start(6)
        first = tracemalloc.take_snapshot()
    types_before = type_counts()
    before = rss_bytes()
    heartbeat.start()
    counts = soak.run(STEPS, heartbeat, errors)
    heartbeat.stop()
    ui.wait_idle(window, timeout=60000)
    gc.collect()
    after = rss_bytes()
    if tracing:
        diff = tracemalloc.take_snapshot().compare_to(first, "traceback")
        for stat in diff[:12]:
            print(f"{stat.size_diff / 2**20:+.1f} MiB ({stat.count_diff:+d} blocks)")
            print("\n".join("    " + line for line in stat.traceback.format()[-12:]))
        tracemalloc.stop()
    types_after = type_counts()
    grown = sorted(((types_after[k] - types_before.get(k, 0), k) for k in types_after),
                   reverse=True)[:12]
    print("Python objects grown, by type:", [(k, n) for n, k in grown if n > 0])
    growth = after / before - 1.0
    worst = sorted(heartbeat.stalls, reverse=True)[:5]
    gaps = sorted(g for g, _d in heartbeat.stalls)
    print(f"\nsoak: {STEPS} interactions {counts}; memory {before / 2**20:.0f} -> "
          f"{after / 2**20:.0f} MiB ({growth:+.1%}); stalls over {STALL_MS:.0f} ms: "
          f"{len(gaps)} (median {gaps[len(gaps) // 2] if gaps else 0:.0f} ms), the worst "
          f"{[(round(g), d) for g, d in worst]}")
    print("the longest gaps between heartbeats (ms):",
          [(round(g), d) for g, d in sorted(heartbeat.longest, reverse=True)])
    print("resident memory (step, MiB):", soak.memory + [(STEPS, round(after / 2**20))])
    if timings is not None:
        print("what ran inside the stalls (timed):")
        print(timings.report())
    if PROFILE:
        print("where the stalls spent their time (inclusive, sampled every 5 ms):")
        print(heartbeat.report())
    if os.environ.get("SOAK_REPORT"):  # every stall and the GUI thread's stack in it
        with open(os.environ["SOAK_REPORT"], "w") as fh:
            fh.write("\n".join(f"{g:.0f} ms {d}" for g, d in heartbeat.stalls) + "\n\n")
            fh.write("\n".join(heartbeat.where) + "\n\n" + heartbeat.report(200))
    assert not errors
    hangs = [(round(g), d) for g, d in worst if g > HANG_MS]
    assert not hangs, f"the window stopped answering: {hangs}"
    if STALL_BAR:
        assert not heartbeat.stalls, (f"the event loop stalled: {worst}; the GUI thread was "
                                      "in:\n" + "\n".join(heartbeat.where[:8]))
    assert growth < 0.10, f"memory grew {growth:.1%}"
    # and the app is still usable: a last edit goes through
    ui.type_expression(window, "x^2")
    assert window.session.function.text == "x^2"
