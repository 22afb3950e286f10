"""The race's plots (loss and gradient norm against the step, with the playback cursor) and the
learning-rate sweep, checked against the core's trajectories and closed forms; the cursor
dragged with real mouse events."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from explorer.core import optimize
from explorer.core.race import RunSpec
from explorer.core.session import Session
from explorer.ui.race_model import RaceModel
from explorer.ui.theme import configure_pyqtgraph
from explorer.ui.views.race_plots import RacePlots
from explorer.ui.views.sweep_view import SweepView

BOWL = "0.5x^2 + 10y^2"  # Hessian diag(1, 20): gradient descent is stable for lr < 2/20


def bowl(points):
    return 0.5 * points[:, 0] ** 2 + 10 * points[:, 1] ** 2


def bowl_gradient_norm(points):
    return np.hypot(points[:, 0], 20 * points[:, 1])


@pytest.fixture
def race(qtbot):
    """``race(expression, runs)``: a session racing on f, its RaceModel, the first race in."""
    configure_pyqtgraph()
    models = []

    def make(expression=BOWL, runs=None):
        session = Session(expression)
        session.set_option("show_race", True)
        if runs is not None:
            session.set_race_runs(runs)
        model = RaceModel(session)
        model.request()
        qtbot.waitUntil(lambda: bool(model.trajectories), timeout=20000)
        models.append(model)
        return session, model

    yield make
    for model in models:
        model.set_sweep_active(False)
        model.pause()
        model.wait()


def shown(qtbot, widget):
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(50)  # the plots range themselves on their first paint
    return widget


def core_trajectory(session, spec):
    """The run computed by the core alone, from the RunSpec."""
    run = spec.make_run(session.race_start)
    return optimize(session.f, run.start, run.optimizer, steps=session.race_steps,
                    tol=session.race_tol, clip=run.clip, schedule=run.schedule, noise=run.noise,
                    seed=run.seed)


def to_widget(plot_widget, x, y):
    """Widget coordinates of view point (x, y) (y in the log10 units of a log axis)."""
    scene = plot_widget.getPlotItem().vb.mapViewToScene(QtCore.QPointF(x, y))
    return QtCore.QPointF(plot_widget.mapFromScene(scene))


def middle_y(plot_widget):
    low, high = plot_widget.getPlotItem().vb.viewRange()[1]
    return (low + high) / 2


# -- the loss and gradient-norm plots -------------------------------------------------------------
def test_loss_curves_are_f_along_the_core_trajectories(race, qtbot):
    session, model = race()
    view = shown(qtbot, RacePlots(session, model))
    assert view.objectName() == "RacePlots"
    assert view.loss_shift is None  # f > 0 along every run: plotted as it is
    for i, spec in enumerate(session.race_runs):
        t = core_trajectory(session, spec)
        xs, ys = view.curve_data(i)
        np.testing.assert_array_equal(xs, np.arange(t.steps + 1))
        np.testing.assert_allclose(ys, bowl(t.points), rtol=1e-12, atol=0)
        gx, gy = view.gradient_data(i)
        np.testing.assert_array_equal(gx, np.arange(t.steps + 1))
        np.testing.assert_allclose(gy, bowl_gradient_norm(t.points), rtol=1e-9, atol=1e-300)
        mark = view.end_mark(i)
        if t.status == "converged":  # Adam, Newton and L-BFGS: a dot at the last step
            assert mark is not None and mark[0] == t.steps and mark[2] == "o"
            assert mark[1] == pytest.approx(bowl(t.points[-1:])[0], rel=1e-12)
        else:
            assert t.status == "max_steps" and mark is None
    title = view.loss_plot.getPlotItem().titleLabel.text
    assert "GD, lr 0.001" in title and session.race_runs[0].color_hex in title
    # the selected run: thicker, on top, named in the title
    model.select(4)
    widths = [view.loss.curves[i].opts["pen"].widthF() for i in range(len(session.race_runs))]
    assert widths[4] > max(widths[:4] + widths[5:])
    assert view.loss.curves[4].zValue() > max(c.zValue() for c in view.loss.curves[:4])
    assert session.race_runs[4].label in view.loss_plot.getPlotItem().titleLabel.text


def test_the_same_race_again_draws_no_curve_again(race, qtbot, monkeypatch):
    """A refresh with the race unchanged (the compiled runner's rerun, a drag released) leaves
    every curve's cached pixels alone; a new selection re-draws the two curves it restyles,
    and a new race every curve, with f along the new trajectories."""
    from explorer.ui.views import curve_view

    painted = []
    paint = curve_view.Curve.paint
    monkeypatch.setattr(curve_view.Curve, "paint", lambda item, *a: (
        painted.append(item), paint(item, *a))[1])
    session, model = race()
    view = shown(qtbot, RacePlots(session, model))
    n_runs = len(session.race_runs)
    assert {id(c) for c in painted} >= {id(c) for c in view.loss.curves + view.grad.curves}
    painted.clear()
    view.refresh()
    model.changed.emit()
    qtbot.wait(200)  # past the refresh throttle
    assert painted == []
    model.select(3)  # from run 0: runs 0 and 3 restyled, in both plots
    qtbot.wait(100)
    assert {id(c) for c in painted} == {id(layer.curves[i]) for layer in (view.loss, view.grad)
                                        for i in (0, 3)}
    painted.clear()
    session.set_race_start((1.5, -0.4))
    qtbot.waitUntil(lambda: model.start == (1.5, -0.4), timeout=20000)
    qtbot.wait(200)
    assert {id(c) for c in painted} == {id(c) for c in view.loss.curves + view.grad.curves}
    assert len(view.loss.curves) == n_runs
    for i, spec in enumerate(session.race_runs):
        np.testing.assert_allclose(view.curve_data(i)[1], bowl(core_trajectory(session, spec).points),
                                   rtol=1e-12, atol=0)


class PaintCounter(QtCore.QObject):
    """Counts the paint events of the widgets it is installed on."""

    def __init__(self, *widgets):
        super().__init__()
        self.counts = {id(w): 0 for w in widgets}
        for w in widgets:
            w.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
        if event.type() == QtCore.QEvent.Type.Paint and id(obj) in self.counts:
            self.counts[id(obj)] += 1
        return False


def test_a_new_race_paints_each_plot_once(race, qtbot):
    """A race on other decades re-ranges both log axes: each plot is painted once for it (the
    view's new transform applied at once, not in the paint, which then painted again), with
    the cursor's dots on the new curves."""
    session, model = race()
    view = shown(qtbot, RacePlots(session, model))
    ports = (view.loss_plot.viewport(), view.grad_plot.viewport())
    counter = PaintCounter(*ports)
    ranges = view.loss.plot.getViewBox().viewRange()[1]
    session.set_race_start((40.0, -12.0))  # f ~ 2,000 against ~7: three decades more
    qtbot.waitUntil(lambda: model.start == (40.0, -12.0), timeout=20000)
    qtbot.wait(300)
    assert view.loss.plot.getViewBox().viewRange()[1][1] > ranges[1] + 2
    assert list(counter.counts.values()) == [1, 1]
    xs, vs = view.cursor_dots()  # on the new curves (at their ends: the cursor follows them)
    drawn = [view.curve_data(i) for i in range(len(session.race_runs))]
    assert vs.size == len(drawn)
    for k, v, (steps, values) in zip(xs, vs, drawn, strict=True):
        assert k == steps[-1] and v == pytest.approx(values[-1], rel=1e-12)


def test_hiding_the_tick_values_keeps_the_plots_where_they_are(race, qtbot):
    """A function of x alone empties the race: the log plots hide their tick values (they
    would number an empty range) and keep their layout, so they paint once, not once more
    after a relayout; a function of (x, y) again shows the values, still in place."""
    session, model = race()
    view = shown(qtbot, RacePlots(session, model))
    boxes = [layer.plot.getViewBox() for layer in (view.loss, view.grad)]
    where = [box.geometry() for box in boxes]
    counter = PaintCounter(view.loss_plot.viewport(), view.grad_plot.viewport())
    session.set_expression("x^2")
    qtbot.waitUntil(lambda: not model.trajectories, timeout=20000)
    qtbot.wait(300)
    assert view.message.shown_text() and not view.loss.plot.getAxis("bottom").style["showValues"]
    assert [box.geometry() for box in boxes] == where
    assert list(counter.counts.values()) == [1, 1]
    session.set_expression(BOWL)
    qtbot.waitUntil(lambda: bool(model.trajectories), timeout=20000)
    qtbot.wait(300)
    assert view.loss.plot.getAxis("bottom").style["showValues"]
    assert [box.geometry() for box in boxes] == where
    assert list(counter.counts.values()) == [2, 2]


def test_cursor_follows_the_model(race, qtbot):
    session, model = race()
    view = shown(qtbot, RacePlots(session, model))
    assert view.cursor_x() == model.max_step() == session.race_steps  # follows the end
    model.set_cursor(37)
    assert view.cursor_x() == 37
    assert view.grad.cursor.value() == 37
    # one dot per run at the cursor, or at the last step of a run that stopped before it
    xs, ys = view.cursor_dots()
    steps = [min(37, t.steps) for t in model.trajectories]
    assert list(xs) == steps
    assert min(steps) < 37  # Newton and L-BFGS converged before step 37
    points = np.array([t.points[k] for t, k in zip(model.trajectories, steps, strict=True)])
    np.testing.assert_allclose(ys, bowl(points), rtol=1e-12)


def test_dragging_the_cursor_line(race, qtbot, ui):
    session, model = race()
    view = shown(qtbot, RacePlots(session, model))
    model.set_cursor(37)
    loss = view.loss_plot
    assert loss.getPlotItem().vb.viewRange()[0][1] >= session.race_steps  # ranged on the race
    y = middle_y(loss)
    ui.drag(loss.viewport(), to_widget(loss, 37, y), to_widget(loss, 200, y))
    assert model.cursor == pytest.approx(200, abs=3)  # a pixel is ~1 step at 600 px
    assert view.cursor_x() == model.cursor and view.grad.cursor.value() == model.cursor
    assert not model.follow_end
    # the line in the gradient plot drags the same cursor
    grad = view.grad_plot
    y = middle_y(grad)
    before = model.cursor
    ui.drag(grad.viewport(), to_widget(grad, before, y), to_widget(grad, 120, y))
    assert model.cursor == pytest.approx(120, abs=3)
    assert view.cursor_x() == model.cursor
    # a click elsewhere in a plot moves the cursor there
    target = to_widget(loss, 320, middle_y(loss))
    ui.send_mouse(loss.viewport(), "move", target, buttons=QtCore.Qt.MouseButton.NoButton)
    ui.send_mouse(loss.viewport(), "press", target)
    ui.send_mouse(loss.viewport(), "release", target)
    assert model.cursor == pytest.approx(320, abs=3)
    assert view.cursor_x() == model.cursor


def test_diverged_run_ends_in_a_cross(race, qtbot):
    runs = (RunSpec("SGD", {"lr": 0.2}, color=0), RunSpec("SGD", {"lr": 0.01}, color=1))
    session, model = race(runs=runs)
    view = shown(qtbot, RacePlots(session, model))
    t = core_trajectory(session, runs[0])
    assert t.status == "diverged"  # |1 - 20 lr| = 3: y triples each step
    xs, ys = view.curve_data(0)
    finite = np.isfinite(bowl(t.points))
    last = int(np.flatnonzero(finite)[-1])
    step, value, symbol = view.end_mark(0)
    assert symbol == "x" and step == last and value == pytest.approx(bowl(t.points)[last])
    assert np.isfinite(ys[last]) and not np.isfinite(ys[last + 1:]).any()
    assert view.end_mark(1) is None  # ran all its steps
    # the cursor at the end: the diverged run's dot sits on its cross
    dots_x, dots_y = view.cursor_dots()
    assert list(dots_x) == [last, session.race_steps]
    assert dots_y[0] == pytest.approx(value)


def test_negative_loss_is_shifted_onto_the_log_axis(race, qtbot):
    session, model = race("x^2 + y^2 - 1")  # minimum -1 at the origin
    view = shown(qtbot, RacePlots(session, model))
    values = [t.values for t in model.trajectories]
    m = min(float(np.nanmin(v)) for v in values)
    assert m < 0 and view.loss_shift == m
    for i, t in enumerate(model.trajectories):
        _, ys = view.curve_data(i)
        exact = t.points[:, 0] ** 2 + t.points[:, 1] ** 2 - 1
        np.testing.assert_allclose(ys - view.loss_eps, exact - m, rtol=1e-9, atol=1e-12)
        assert np.all(ys > 0)
    assert "m =" in view.loss_plot.getPlotItem().titleLabel.text


# -- the learning-rate sweep -------------------------------------------------------------------------
def test_sweep_of_gradient_descent_on_the_bowl(race, qtbot):
    session, model = race()
    assert model.selected == 0 and session.race_runs[0].label == "GD, lr 0.001"
    view = shown(qtbot, SweepView(session, model))
    assert view.objectName() == "SweepView"
    qtbot.waitUntil(lambda: len(view.finite_points()[0]) > 0, timeout=30000)
    assert view.message_text() == ""
    assert view.limit_x() == pytest.approx(2 / 20, rel=1e-9)  # 2/λ_max, λ_max = 20
    assert view.lr_x() == pytest.approx(1e-3)
    label = view.limit_line.label.format
    assert "2/λ_max = 0.1" in label and "at start" not in label  # exact on a quadratic
    start = 0.5 * (-1.5) ** 2 + 10 * 2.0**2
    rates, finals = view.finite_points()
    diverged = view.diverged_rates()
    assert diverged and min(diverged) >= 0.1 * 0.97
    for r, v in zip(rates, finals, strict=True):
        assert r <= 0.1 * 1.03 or v > start  # above the limit: diverged or worse than the start
    # closed form: each coordinate shrinks by (1 - lr λ) per step, for 500 steps (the runs that
    # converged earlier stopped below 1e-20)
    n = session.race_steps
    exact = 0.5 * (1 - rates) ** (2 * n) * 1.5**2 + 10 * (1 - 20 * rates) ** (2 * n) * 2.0**2
    np.testing.assert_allclose(finals, exact, rtol=1e-9, atol=1e-20)
    assert "GD, lr 0.001" in view.plot.titleLabel.text


def test_sweep_says_why_for_lbfgs_and_stops_when_hidden(race, qtbot):
    session, model = race()
    view = shown(qtbot, SweepView(session, model))
    qtbot.waitUntil(lambda: len(view.finite_points()[0]) > 0, timeout=30000)
    lbfgs = next(i for i, r in enumerate(session.race_runs) if r.optimizer == "LBFGS")
    model.select(lbfgs)
    qtbot.waitUntil(lambda: "no learning rate" in view.message_text(), timeout=10000)
    assert view.limit_x() is None and view.diverged_rates() == []
    assert len(view.finite_points()[0]) == 0
    # hidden, it asks for no sweep: selecting another run leaves the message as it was
    view.hide()
    model.select(0)
    qtbot.wait(600)  # the model waits 250 ms before sweeping a new selection
    model.wait()
    assert model.sweep is None and model.sweep_error is not None
    view.show()  # shown again: the sweep of the selected run comes in
    qtbot.waitUntil(lambda: len(view.finite_points()[0]) > 0, timeout=30000)
    assert model.sweep.run_index == 0 and view.message_text() == ""
