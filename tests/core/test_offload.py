"""The analysis process (explorer.core.offload): jobs run in a child, values and errors come
back, a child that dies or runs too long is replaced, and Functions cross as expressions."""

import math
import os
import pickle
import threading
import time
import traceback

import numpy as np
import pytest

import explorer.core as ec
from explorer.core import calculus, expression, offload


@pytest.fixture
def lane():
    made = offload.Lane("test lane")
    yield made
    made.close()


def test_a_job_runs_in_another_process_and_its_value_comes_back(lane):
    assert lane.call(os.getpid) not in (None, os.getpid())
    assert lane.pid is not None and lane.pid != os.getpid()
    assert lane.call(math.hypot, 3.0, 4.0) == 5.0
    values = lane.call(np.linspace, 0.0, 1.0, 5)
    np.testing.assert_array_equal(values, [0.0, 0.25, 0.5, 0.75, 1.0])


def test_the_marked_points_found_in_the_child_are_those_found_here(lane):
    """x^3 - 3x: a maximum at -1, a minimum at 1, the inflection at 0 (f'' = 6x); and the
    saddle of x^2 - y^2 at the origin."""
    f = ec.parse("a*x^3 - 3x").with_parameters(a=1.0)
    there = lane.call(calculus.marked_points, f, (-3.0, 3.0))
    here = calculus.marked_points(f, (-3.0, 3.0))
    assert [(p.kind, float(p.point[0])) for p in there] == \
        [(p.kind, float(p.point[0])) for p in here]
    assert [p.kind for p in there] == ["maximum", "inflection", "minimum"]
    np.testing.assert_allclose([float(p.point[0]) for p in there], [-1.0, 0.0, 1.0], atol=1e-12)
    (saddle,) = lane.call(calculus.marked_points, ec.parse("x^2 - y^2"), ((-2, 2), (-2, 2)))
    assert saddle.kind == "saddle"
    np.testing.assert_allclose(saddle.point, [0.0, 0.0], atol=1e-12)


def test_every_search_trims_sympys_caches(monkeypatch):
    """A session of slider moves makes new expressions for SymPy's caches at every value:
    each search, of a curve or a landscape, trims them after it."""
    trims = []
    monkeypatch.setattr(expression, "trim_sympy_cache", lambda limit=None: trims.append(limit))
    calculus.marked_points(ec.parse("x^2 - 2x"), (-3.0, 3.0))
    calculus.marked_points(ec.parse("x^2 + y^2"), ((-3.0, 3.0), (-3.0, 3.0)))
    assert trims == [None, None]


def test_an_error_in_the_child_is_raised_here_with_the_childs_traceback(lane):
    with pytest.raises(ValueError, match="math domain error") as caught:
        lane.call(math.sqrt, -1.0)
    cause = caught.value.__cause__
    assert isinstance(cause, offload.ChildTraceback)
    assert "ValueError: math domain error" in str(cause)
    shown = "".join(traceback.format_exception(caught.value))
    assert "in run\n" in shown and "math.sqrt(" not in shown  # the child's frame, logged
    assert lane.call(math.sqrt, 4.0) == 2.0  # the same child goes on
    assert lane.restarts == 0


def test_an_error_pickle_cannot_carry_comes_back_by_its_type_and_message():
    """(SymPy raises some whose arguments do not rebuild them.)"""
    error = offload._portable(_Unpicklable("Job failed: with a lock"))
    assert type(error) is RuntimeError
    assert str(error) == "_Unpicklable: Job failed: with a lock"
    plain = ValueError("math domain error")
    assert offload._portable(plain) is plain


class _Unpicklable(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()


def test_a_job_the_child_cannot_load_is_an_error_and_the_child_goes_on(lane, tmp_path,
                                                                        monkeypatch):
    """A function of a module the child cannot import (here: one made after it started)."""
    import importlib

    pid = lane.call(os.getpid)
    (tmp_path / "made_after_the_child.py").write_text("def answer():\n    return 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("made_after_the_child")
    assert module.answer() == 42
    with pytest.raises(ModuleNotFoundError, match="made_after_the_child"):
        lane.call(module.answer)
    assert lane.call(os.getpid) == pid and lane.restarts == 0


def test_a_child_that_dies_is_replaced(lane):
    first = lane.call(os.getpid)
    with pytest.raises(offload.LaneStopped, match=r"test lane process stopped \(exit code 3\)"):
        lane.call(os._exit, 3)
    second = lane.call(os.getpid)
    assert second not in (first, os.getpid())
    assert lane.restarts == 1
    os.kill(second, 9)  # killed between jobs: the next job starts a new child
    deadline = time.monotonic() + 10
    while lane.pid is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lane.call(os.getpid) not in (first, second)
    assert lane.restarts == 2


def test_a_job_past_the_wall_limit_is_stopped_and_the_lane_goes_on():
    lane = offload.Lane("slow lane", wall_limit=1.0)
    try:
        lane.call(os.getpid)  # started (its imports are not the job's time)
        started = time.monotonic()
        with pytest.raises(offload.LaneStopped, match=r"took over 1 s and was stopped"):
            lane.call(time.sleep, 30)
        assert time.monotonic() - started < 5
        assert lane.call(math.hypot, 5.0, 12.0) == 13.0
    finally:
        lane.close()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
@pytest.mark.parametrize("threads", [1, 2])
def test_a_lanes_threads_run_its_jobs_side_by_side(tmp_path, threads):
    """A job that reads a named pipe waits for another job to write it: with a second thread
    both finish (the race's runs beside its compiler); with one, the writer queues behind
    the reader until the lane's limit ends them."""
    import pathlib

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    lane = offload.Lane("side by side", threads=threads, wall_limit=3.0)
    try:
        lane.call(os.getpid)
        read = []

        def reader():
            try:
                read.append(lane.call(pathlib.Path.read_text, pipe))
            except offload.LaneStopped as exc:
                read.append(exc)

        thread = threading.Thread(target=reader)
        thread.start()
        time.sleep(0.3)
        if threads == 2:
            assert lane.call(pathlib.Path.write_text, pipe, "written") == len("written")
            thread.join(20)
            assert read == ["written"]
        else:
            with pytest.raises(offload.LaneStopped):
                lane.call(pathlib.Path.write_text, pipe, "written")
            thread.join(20)
            assert isinstance(read[0], offload.LaneStopped)
    finally:
        lane.close()


def test_a_job_past_the_limit_ends_the_jobs_beside_it(tmp_path):
    lane = offload.Lane("two jobs", threads=2, wall_limit=1.0)
    try:
        first = lane.call(os.getpid)
        errors = []

        def other():
            try:
                lane.call(time.sleep, 30)
            except offload.LaneStopped as exc:
                errors.append(str(exc))

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(offload.LaneStopped,
                           match="^the two jobs process took over 1 s and was stopped$"):
            lane.call(time.sleep, 30)
        thread.join(20)
        assert time.monotonic() - started < 10
        assert errors == ["the two jobs process took over 1 s and was stopped"]
        assert lane.call(os.getpid) not in (first, None)
    finally:
        lane.close()


def test_jobs_from_several_threads_take_turns(lane):
    results = {}

    def job(i):
        results[i] = lane.call(math.factorial, i)

    threads = [threading.Thread(target=job, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {i: math.factorial(i) for i in range(8)}


def test_without_a_child_jobs_run_in_the_calling_thread(monkeypatch):
    def refuse(self):
        raise OSError("no processes here")

    monkeypatch.setattr(offload.multiprocessing.get_context("spawn").Process, "start", refuse)
    lane = offload.Lane("no children")
    assert lane.call(os.getpid) == os.getpid()
    assert lane.in_thread and lane.pid is None


def test_a_lane_by_name_is_made_once_with_its_threads():
    assert offload.lane("analysis") is offload.lane("analysis")
    assert offload.lane("analysis") is not offload.lane("race")
    assert (offload.lane("analysis").threads, offload.lane("race").threads) == (2, 3)
    with pytest.raises(KeyError):
        offload.lane("elsewhere")


# -- Functions cross as their expression -----------------------------------------------------

@pytest.mark.parametrize("text", ["sin(3x)*exp(-x^2/4)", "relu(x) - max(x, 1) + abs(x)*sign(x)",
                                  "a*x^2 + b*y^2 - x*y", "log(1 + exp(k*x))/k"])
def test_a_function_pickles_as_its_expression_and_parameters(text):
    f = ec.parse(text)
    f = f.with_parameters(**{name: 0.5 + i for i, name in enumerate(f.parameters)})
    g = pickle.loads(pickle.dumps(f))
    assert g == f and g.text == f.text and g.parameters == f.parameters
    points = np.linspace(-2, 2, 7)
    args = [points] * len(f.variables)
    np.testing.assert_array_equal(g(*args), f(*args))
    v = f.variables[0]
    np.testing.assert_array_equal(g.derivative(v, 2)(*args), f.derivative(v, 2)(*args))


def test_a_loaded_function_with_new_parameters_shares_its_derivatives():
    """A slider moved: the same expression with a new value reuses what SymPy derived."""
    f = ec.parse("a*x^4 - x^2")
    g1 = pickle.loads(pickle.dumps(f.with_parameters(a=1.0)))
    g1.derivative("x", 3)
    g2 = pickle.loads(pickle.dumps(f.with_parameters(a=2.0)))
    assert g2.parameters == {"a": 2.0}
    assert g2.derivative_ready(3)  # the third derivative was made for g1
    assert float(g2.derivative("x", 3)(1.0)) == pytest.approx(48.0)  # 24 a x


def test_closing_a_lane_with_a_job_running_ends_the_job_at_once():
    lane = offload.Lane("busy lane")
    lane.call(os.getpid)
    errors = []

    def job():
        try:
            lane.call(time.sleep, 30)
        except offload.LaneStopped as exc:
            errors.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    lane.close()
    thread.join(10)
    assert time.monotonic() - started < 5
    assert len(errors) == 1 and "process stopped" in str(errors[0])


def test_ctrl_c_in_a_terminal_is_left_to_the_app(lane):
    """SIGINT reaches every process of the terminal's group: the child ignores it (the app
    decides whether to quit; when it does, the child sees the pipe close and leaves)."""
    import signal

    pid = lane.call(os.getpid)
    os.kill(pid, signal.SIGINT)
    time.sleep(0.3)
    assert lane.call(os.getpid) == pid
    assert lane.restarts == 0


def test_a_child_yields_the_cpu_to_the_app(lane):
    """Its niceness is the app's plus NICENESS: where both want a core, the window's thread
    is served first."""
    assert lane.call(os.nice, 0) == min(19, os.nice(0) + offload.NICENESS)


def test_preload_and_nothing_pulls_qt_into_the_child(lane):
    """The child the app starts loads what its jobs need; Qt is not among it (the jobs'
    modules import no PySide6), read from the libraries mapped into the child."""
    assert lane.call(offload.preload, "explorer.core.calculus", "explorer.core.race",
                     "explorer.ui.typeset", "matplotlib.mathtext") is None
    f = ec.parse("x^2 - y^2")
    lane.call(calculus.marked_points, f, ((-1, 1), (-1, 1)))
    maps = f"/proc/{lane.pid}/maps"
    if os.path.exists(maps):
        with open(maps) as fh:
            mapped = fh.read()
        assert "libpython" in mapped or "python" in mapped
        assert "Qt6Core" not in mapped and "QtCore" not in mapped
    with pytest.raises(ModuleNotFoundError):
        lane.call(offload.preload, "no_such_module_here")
