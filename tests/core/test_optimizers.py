"""Optimizers against independent answers: torch.optim's own steps (float64), SciPy's L-BFGS-B
iterates, closed forms for Newton and the stability limit, and the files they write; the
compiled fast path (numba) against the NumPy path and torch."""

import csv
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest

import explorer.core as ec
from explorer.core import _fast, optimizers

ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"
STARTS = [(-1.5, 2.0), (0.5, -0.5), (1.8, 2.5)]

# (torch class name, our class, hyper-parameters): every optimizer, defaults and variants.
CASES = [
    ("SGD", ec.SGD, dict(lr=1e-4)),
    ("SGD", ec.SGD, dict(lr=2e-4, momentum=0.9)),
    ("SGD", ec.SGD, dict(lr=1e-4, momentum=0.8, dampening=0.3, weight_decay=0.05)),
    ("SGD", ec.SGD, dict(lr=1e-4, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adagrad", ec.Adagrad, dict()),
    ("Adagrad", ec.Adagrad, dict(lr=0.3, lr_decay=0.01, initial_accumulator_value=0.1,
                                 weight_decay=0.02)),
    ("RMSprop", ec.RMSprop, dict(lr=1e-3)),
    # With alpha 0.9 and lr 1e-3 RMSprop hops across Rosenbrock's valley: a last-bit
    # difference from torch's kernels then grows chaotically after ~100 steps (seen from two
    # starts), so the short-memory variant is compared at a step size where the path is smooth.
    ("RMSprop", ec.RMSprop, dict(lr=3e-4, alpha=0.9, weight_decay=0.01)),
    ("RMSprop", ec.RMSprop, dict(lr=1e-3, momentum=0.5, centered=True, weight_decay=0.01)),
    ("Adam", ec.Adam, dict()),
    ("Adam", ec.Adam, dict(lr=2e-2, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1)),
    ("AdamW", ec.AdamW, dict(lr=1e-2)),
    ("AdamW", ec.AdamW, dict(lr=3e-2, weight_decay=0.2, eps=1e-6, amsgrad=True)),
]


def torch_path(name, hyper, start, steps, scheduler=None, clip=None):
    torch = pytest.importorskip("torch")
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, name)([p], **hyper)
    sched = scheduler(torch, opt) if scheduler else None
    points = [p.detach().clone().numpy()]
    for _ in range(steps):
        opt.zero_grad()
        loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_([p], clip)
        opt.step()
        if sched:
            sched.step()
        points.append(p.detach().clone().numpy())
    return np.array(points)


@pytest.fixture(scope="module")
def rosenbrock():
    return ec.parse(ROSENBROCK)


def prepared(f, fast=True):
    """``fast`` after making sure the compiled path really serves ``f`` when it is True."""
    if fast:
        pytest.importorskip("numba")
        assert optimizers.prepare(f), repr(_fast.last_error)
    return fast


PATHS = pytest.mark.parametrize("fast", [False, True], ids=["numpy", "fast"])


@PATHS
@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("name, cls, hyper", CASES, ids=lambda c: str(c))
def test_trajectory_matches_torch(rosenbrock, name, cls, hyper, start, fast):
    ours = ec.optimize(rosenbrock, start, cls(**hyper), steps=300, tol=0,
                       fast=prepared(rosenbrock, fast))
    theirs = torch_path(name, hyper, start, 300)
    assert ours.status == "max_steps"
    assert ours.points.shape == theirs.shape == (301, 2)
    assert np.max(np.abs(ours.points - theirs)) <= 1e-8


def test_defaults_and_keywords_are_torch_s():
    torch = pytest.importorskip("torch")
    import inspect

    for name in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW"):
        sig = inspect.signature(getattr(torch.optim, name).__init__)
        ours = ec.OPTIMIZERS[name].defaults
        for key, value in ours.items():
            assert key in sig.parameters, (name, key)
            expected = sig.parameters[key].default
            if isinstance(expected, tuple):
                assert tuple(value) == expected
            else:
                assert value == expected, (name, key)


@PATHS
@pytest.mark.parametrize("kind, make", [
    ("cosine", lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=80, eta_min=1e-3)),
    ("step", lambda t, o: t.optim.lr_scheduler.StepLR(o, step_size=40, gamma=0.5)),
    ("exponential", lambda t, o: t.optim.lr_scheduler.ExponentialLR(o, gamma=0.99)),
])
def test_schedules_match_torch_schedulers(rosenbrock, kind, make, fast):
    schedule = ec.Schedule(kind, step_size=40, gamma=0.5 if kind == "step" else 0.99,
                           t_max=80, eta_min=1e-3)
    ours = ec.optimize(rosenbrock, (-1.5, 2.0), ec.Adam(lr=0.05), steps=200, tol=0,
                       schedule=schedule, fast=prepared(rosenbrock, fast))
    theirs = torch_path("Adam", dict(lr=0.05), (-1.5, 2.0), 200, scheduler=make)
    assert np.max(np.abs(ours.points - theirs)) <= 1e-8
    assert ours.rates[0] == 0.05 and ours.rates.shape == (200,)


@PATHS
def test_gradient_clipping_matches_torch(rosenbrock, fast):
    ours = ec.optimize(rosenbrock, (-1.5, 2.0), ec.SGD(lr=1e-2, momentum=0.5), steps=200,
                       tol=0, clip=1.0, fast=prepared(rosenbrock, fast))
    theirs = torch_path("SGD", dict(lr=1e-2, momentum=0.5), (-1.5, 2.0), 200, clip=1.0)
    assert np.max(np.abs(ours.points - theirs)) <= 1e-8
    # every step with a clipped gradient moves by at most lr * 1
    assert np.all(np.linalg.norm(np.diff(ours.points[:2], axis=0), axis=1) <= 1e-2 + 1e-12)


def test_lbfgs_iterates_are_scipy_s(rosenbrock):
    from scipy.optimize import minimize, rosen, rosen_der

    for start in STARTS:
        seen = [np.array(start)]
        minimize(rosen, np.array(start), jac=rosen_der, method="L-BFGS-B",
                 callback=lambda xk, seen=seen: seen.append(np.array(xk)),
                 options={"maxiter": 200, "maxcor": 10, "gtol": 1e-10})
        ours = ec.optimize(rosenbrock, start, ec.LBFGS(), steps=200, tol=1e-10)
        assert ours.points.shape == np.array(seen).shape
        assert np.max(np.abs(ours.points - np.array(seen))) <= 1e-8
        assert ours.status == "converged"
        assert np.allclose(ours.points[-1], [1, 1], atol=1e-6)


def test_newton_reaches_a_quadratic_s_minimum_in_one_step():
    f = ec.parse("3x^2 + x y + 2y^2 - x + 4y")
    # grad = (6x + y - 1, x + 4y + 4) = 0  ->  solved by hand
    exact = np.linalg.solve([[6, 1], [1, 4]], [1, -4])
    t = ec.optimize(f, (5.0, -7.0), ec.Newton(), steps=50)
    assert t.status == "converged" and t.steps == 1
    assert np.allclose(t.points[1], exact, atol=1e-12)


def test_newton_damping_formula():
    f = ec.parse(ROSENBROCK)
    x0 = np.array([-1.2, 1.0])
    t = ec.optimize(f, x0, ec.Newton(damping=10.0, lr=0.5), steps=1, tol=0)
    h, g = f.hessian(x0), f.gradient(x0)
    expected = x0 - 0.5 * np.linalg.solve(h + 10 * np.eye(2), g)
    assert np.allclose(t.points[1], expected, rtol=1e-13)


def test_newton_on_a_saddle_goes_to_the_saddle():
    t = ec.optimize(ec.parse("x^2 - y^2"), (1.0, 0.5), ec.Newton(), steps=10)
    assert t.status == "converged" and np.allclose(t.points[-1], [0, 0])


def test_divergence_is_reported_not_raised(rosenbrock):
    t = ec.optimize(rosenbrock, (-1.5, 2.0), ec.SGD(lr=0.01), steps=2000)
    assert t.status == "diverged"
    assert t.steps < 50
    last = t.values[-1]
    assert not math.isfinite(last) or abs(last) > ec.optimizers.DIVERGENCE_LIMIT
    assert np.all(np.abs(t.values[:-1]) <= ec.optimizers.DIVERGENCE_LIMIT)
    assert t.describe() == f"diverged at step {t.steps}"
    # undefined territory diverges too
    t = ec.optimize(ec.parse("log(x) + y^2"), (0.5, 1.0), ec.SGD(lr=1.0), steps=100)
    assert t.status == "diverged"


def test_convergence_at_tol():
    f = ec.parse("x^2 + y^2")
    t = ec.optimize(f, (1.0, -2.0), ec.SGD(lr=0.25), steps=1000, tol=1e-6)
    norms = t.gradient_norms
    assert t.status == "converged"
    assert norms[-1] <= 1e-6 < norms[-2]
    # GD on x^2 + y^2 with lr 1/4 halves the point each step: closed form
    k = np.arange(t.steps + 1)[:, None]
    assert np.allclose(t.points, np.array([1.0, -2.0]) * 0.5 ** k, rtol=1e-14)
    assert np.allclose(t.values, (1 + 4) * 0.25 ** k.ravel(), rtol=1e-12)


def test_gradients_and_values_recorded(rosenbrock):
    t = ec.optimize(rosenbrock, (0.3, 0.7), ec.Adam(lr=0.01), steps=50, tol=0)
    for p, v, g in zip(t.points, t.values, t.gradients, strict=True):
        assert v == pytest.approx(float(rosenbrock(*p)), rel=1e-14)
        assert np.allclose(g, rosenbrock.gradient(p), rtol=1e-13)


def test_vectorised_runner_equals_single_runs(rosenbrock):
    optimizers = [ec.SGD(lr=1e-4), ec.SGD(lr=3e-4, momentum=0.9), ec.Adam(lr=0.02),
                  ec.Adam(lr=0.05), ec.RMSprop(lr=1e-3), ec.Newton(damping=1.0),
                  ec.Adagrad(lr=0.2), ec.LBFGS(), ec.AdamW(lr=0.01), ec.SGD(lr=0.01)]
    runs = [ec.Run(STARTS[i % 3], opt, clip=5.0 if i == 4 else None, noise=0.3 if i == 2 else 0,
                   seed=i, schedule=ec.Schedule("cosine", t_max=300) if i == 3 else None)
            for i, opt in enumerate(optimizers)]
    together = ec.optimize_many(rosenbrock, runs, steps=400, tol=1e-10)
    for run, t in zip(runs, together, strict=True):
        alone = ec.optimize(rosenbrock, run.start, run.optimizer, steps=400, tol=1e-10,
                            clip=run.clip, schedule=run.schedule, noise=run.noise, seed=run.seed)
        assert t.status == alone.status
        assert np.array_equal(t.points, alone.points)
        assert np.array_equal(t.gradients, alone.gradients)
    assert together[-1].status == "diverged"


def test_noise_is_seeded_and_escapes_a_saddle():
    f = ec.parse("x^2 - y^2 + y^4 / 4")
    still = ec.optimize(f, (1.0, 0.0), ec.SGD(lr=0.05), steps=300, tol=0)
    assert abs(still.points[-1, 1]) < 1e-12  # on the ridge line y = 0 the gradient has no y part
    a = ec.optimize(f, (1.0, 0.0), ec.SGD(lr=0.05), steps=300, tol=0, noise=0.1, seed=3)
    b = ec.optimize(f, (1.0, 0.0), ec.SGD(lr=0.05), steps=300, tol=0, noise=0.1, seed=3)
    assert np.array_equal(a.points, b.points)
    assert abs(abs(a.points[-1, 1]) - math.sqrt(2)) < 0.3  # fell into one of the two minima


def test_state_history(rosenbrock):
    t = ec.optimize(rosenbrock, (-1.5, 2.0), ec.SGD(lr=1e-4, momentum=0.9), steps=20, tol=0)
    # the velocity buffer after step k is (x_{k-1} - x_k) / lr for heavy-ball SGD
    v = t.state["velocity"]
    assert np.allclose(v[1:], -np.diff(t.points, axis=0) / 1e-4, rtol=1e-9)
    a = ec.optimize(rosenbrock, (-1.5, 2.0), ec.Adam(lr=0.01), steps=20, tol=0)
    # Adam's step is scale * m, coordinate by coordinate
    step = -np.diff(a.points, axis=0)
    assert np.allclose(step, a.state["scale"][1:] * a.state["m"][1:], rtol=1e-10)


def test_lr_sweep_and_stability_limit():
    f = ec.parse("0.5x^2 + 10y^2")
    limit = ec.stability_limit(f, (1.0, 1.0))
    assert limit == pytest.approx(2 / 20)
    rates = np.geomspace(1e-3, 1.0, 40)
    finals, trajectories = ec.lr_sweep(f, (2.0, 1.5), ec.SGD(), rates, steps=300)
    assert finals.shape == (40,)
    # gradient descent on a quadratic: |1 - lr * lambda| < 1 for every eigenvalue is stable
    for lr, final, t in zip(rates, finals, trajectories, strict=True):
        start_value = t.values[0]
        if lr < limit * 0.97:
            assert t.status != "diverged" and final < start_value
        elif lr > limit * 1.03:
            assert t.status == "diverged" or final > start_value * 1e3


def test_hyperparameter_errors_name_what_is_wrong():
    with pytest.raises(TypeError, match="learning_rate"):
        ec.Adam(learning_rate=0.1)
    with pytest.raises(ValueError, match="lr"):
        ec.SGD(lr=-1)
    with pytest.raises(ValueError, match="nesterov"):
        ec.SGD(lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        ec.Adam(betas=(0.9, 1.5))
    with pytest.raises(ValueError, match="unknown optimizer"):
        ec.make_optimizer("adamax")
    assert ec.make_optimizer("adam", lr=0.1) == ec.Adam(lr=0.1)
    with pytest.raises(ValueError, match="start"):
        ec.optimize(ec.parse(ROSENBROCK), (1.0,), ec.Adam())


def test_csv_and_json_contents(tmp_path, rosenbrock):
    t = ec.optimize(rosenbrock, (-1.5, 2.0), ec.Adam(lr=0.05, betas=(0.8, 0.9)), steps=25,
                    tol=0)
    t.to_csv(tmp_path / "run.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "run.csv").read_text())))
    assert rows[0] == ["step", "x", "y", "value", "grad_x", "grad_y"]
    assert len(rows) == 27
    for k, row in enumerate(rows[1:]):
        assert int(row[0]) == k
        p = np.array([float(row[1]), float(row[2])])
        assert np.array_equal(p, t.points[k])  # written with full precision
        assert float(row[3]) == pytest.approx(float(rosenbrock(*p)), rel=1e-15)
        assert np.allclose([float(row[4]), float(row[5])], rosenbrock.gradient(p), rtol=1e-14)
    t.to_json(tmp_path / "run.json")
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["function"] == ROSENBROCK
    assert data["optimizer"] == "Adam"
    assert data["hyperparameters"] == {"lr": 0.05, "betas": [0.8, 0.9], "eps": 1e-8,
                                       "weight_decay": 0.0, "amsgrad": False}
    assert data["start"] == [-1.5, 2.0] and data["status"] == "max_steps"
    assert len(data["rows"]) == 26
    assert data["rows"][3] == dict(zip(rows[0], [3, *map(float, rows[4][1:])], strict=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.csv", "run.json"]


def test_json_of_a_diverged_run_is_valid(tmp_path, rosenbrock):
    t = ec.optimize(rosenbrock, (-1.5, 2.0), ec.SGD(lr=0.05), steps=100)
    assert t.status == "diverged"
    text = t.json_text()
    data = json.loads(text)  # strict JSON: no NaN or Infinity
    assert data["status"] == "diverged" and data["steps"] == t.steps


# -- the compiled fast path (numba) ----------------------------------------------------------------
def assert_same_runs(ours, reference, atol=1e-12):
    """Trajectories alike: status, length, learning rates, and points, values, gradients and
    every recorded buffer within ``atol`` (relative for large values; NaN where NaN)."""
    for a, b in zip(ours, reference, strict=True):
        assert (a.status, a.steps) == (b.status, b.steps), (a.optimizer, a.describe(), b.describe())
        assert np.array_equal(a.rates, b.rates)
        for name in ("points", "values", "gradients"):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=atol, atol=atol,
                                       err_msg=f"{a.optimizer} {name}")
        assert a.state.keys() == b.state.keys() == set(a.optimizer.state_names)
        for name in a.state:
            assert a.state[name].shape == (a.steps + 1, a.points.shape[1])
            np.testing.assert_allclose(a.state[name], b.state[name], rtol=atol, atol=atol,
                                       err_msg=f"{a.optimizer} state {name}")


def mixed_race(starts=STARTS):
    """Every optimizer and variant (CASES, Newton plain and damped), with schedules, clipping
    and noise spread over them, one diverging and one converging run among them."""
    race = [cls(**hyper) for _, cls, hyper in CASES] + [
        ec.Newton(), ec.Newton(lr=0.5, damping=2.0), ec.SGD(lr=0.01), ec.Adam(lr=0.1),
        ec.Adagrad(lr=0.5, initial_accumulator_value=0.3)]
    schedules = [None, ec.Schedule("cosine", t_max=250, eta_min=1e-4),
                 ec.Schedule("step", step_size=60, gamma=0.5),
                 ec.Schedule("exponential", gamma=0.995)]
    return [ec.Run(starts[i % len(starts)], opt, clip=(3.0 if i % 3 == 1 else None),
                   schedule=schedules[i % 4], noise=(0.2 if i % 5 == 2 else 0.0), seed=i)
            for i, opt in enumerate(race)]


@pytest.fixture
def kernel_runs(monkeypatch):
    """The last steps the compiled kernel reported, one per optimize_many that it ran (None
    where it declined and NumPy stepped)."""
    seen, run = [], _fast.run

    def spy(*args):
        seen.append(run(*args))
        return seen[-1]

    monkeypatch.setattr(_fast, "run", spy)
    return seen


def test_fast_path_equals_numpy_path(rosenbrock, kernel_runs):
    fast = prepared(rosenbrock)
    runs = mixed_race()
    quick = ec.optimize_many(rosenbrock, runs, steps=600, tol=1e-10, fast=fast)
    assert kernel_runs == [600]  # the kernel stepped them all
    slow = ec.optimize_many(rosenbrock, runs, steps=600, tol=1e-10, fast=False)
    assert kernel_runs == [600]  # (fast=False does not even ask it)
    assert_same_runs(quick, slow)
    statuses = {t.status for t in slow}
    assert statuses == {"max_steps", "converged", "diverged"}
    # each run alone gives what it gives in the race (the fast path steps rows independently)
    for run, t in zip(runs[::4], quick[::4], strict=True):
        alone = ec.optimize(rosenbrock, run.start, run.optimizer, steps=600, tol=1e-10,
                            clip=run.clip, schedule=run.schedule, noise=run.noise, seed=run.seed)
        assert_same_runs([alone], [t], atol=0)


def test_state_history_starts_at_the_initial_state(rosenbrock):
    for fast in (False, prepared(rosenbrock)):
        t = ec.optimize(rosenbrock, (0.5, -0.5), ec.Adagrad(lr=0.1, initial_accumulator_value=0.25),
                        steps=10, tol=0, fast=fast)
        assert np.array_equal(t.state["sum"][0], [0.25, 0.25])
        g = t.gradients[0]
        assert np.array_equal(t.state["sum"][1], 0.25 + g * g)


def test_fast_path_on_other_functions(kernel_runs):
    """Activations, trigonometry, logarithms, max/min and abs, and Newton through singular
    Hessians (least-norm steps) and undefined territory (NaN: diverged)."""
    newton, damped = ec.Newton(), ec.Newton(damping=0.5, lr=0.5)
    cases = [
        ("sin(3x) cos(2y) + (x^2 + y^2)/10", (0.3, -0.4), [newton, damped]),
        ("softplus(x - 1) + sigmoid(y) + relu(x - y) + (x^2 + y^2)/4", (1.5, -2.0),
         [newton, damped]),
        # (undamped Newton bounces between the kinks here: chaotic, so the last bits of
        # NumPy's tanh and log against libm's grow; damped it settles)
        ("log(1 + x^2 + y^2) + tanh(x y) + max(x, y, x y) / 3 + abs(x - 0.2)", (1.2, 0.7),
         [ec.Newton(damping=2.0, lr=0.5), ec.Newton(damping=5.0)]),
        ("x^4 + y^2 / 2", (0.0, 1.0), [newton, damped]),  # H = [[0, 0], [0, 1]] at the start
        ("x^2 + y", (1.0, 2.0), [newton, damped]),  # H singular everywhere
        ("sqrt(x) + y^2", (1.0, 1.0), [ec.Newton(lr=3.0), damped]),  # into x < 0: NaN
    ]
    for text, start, newtons in cases:
        f = ec.parse(text)
        fast = prepared(f)
        runs = [ec.Run(start, opt, clip=clip, noise=noise, seed=3) for opt, clip, noise in [
            (ec.SGD(lr=0.05, momentum=0.9), None, 0.0), (ec.Adam(lr=0.05), 1.0, 0.0),
            (ec.RMSprop(lr=0.01, centered=True, momentum=0.3), None, 0.1),
            (ec.AdamW(lr=0.05, amsgrad=True), None, 0.0), (ec.Adagrad(lr=0.3), 0.5, 0.0),
            (newtons[0], None, 0.0), (newtons[1], None, 0.05)]]
        quick = ec.optimize_many(f, runs, steps=400, tol=1e-10, fast=fast)
        assert kernel_runs[-1] is not None, text
        slow = ec.optimize_many(f, runs, steps=400, tol=1e-10, fast=False)
        # the same arithmetic, but NumPy's exp, log, tanh and pow are its own vectorised ones:
        # they may differ from libm's (numba's) in the last bit
        assert_same_runs(quick, slow, atol=1e-11)
    f = ec.parse("x^2 + y")
    t = ec.optimize(f, (1.0, 2.0), ec.Newton(), steps=3, tol=0, fast=prepared(f))
    # H = [[2, 0], [0, 0]]: the least-norm step pinv(H) g = (x, 0) takes x to 0, y stays
    assert np.array_equal(t.points, [[1.0, 2.0], [0.0, 2.0], [0.0, 2.0], [0.0, 2.0]])
    assert np.array_equal(t.state["direction"][1], [-1.0, 0.0])
    f = ec.parse("sqrt(x) + y^2")
    t = ec.optimize(f, (1.0, 1.0), ec.Newton(lr=3.0), steps=50, fast=prepared(f))
    assert t.status == "diverged"


def test_fast_path_for_one_variable(kernel_runs):
    f = ec.parse("x^4 - 3x^2 + x")
    fast = prepared(f)
    runs = [ec.Run((2.0,), opt) for opt in
            (ec.SGD(lr=0.01, momentum=0.9), ec.Adam(lr=0.1), ec.Newton(), ec.Newton(damping=1.0))]
    quick = ec.optimize_many(f, runs, steps=300, tol=1e-12, fast=fast)
    assert kernel_runs == [300]
    # (x^3 is a pow call in NumPy, two products in numba: the last bit may differ)
    assert_same_runs(quick, ec.optimize_many(f, runs, steps=300, tol=1e-12, fast=False),
                     atol=1e-12)
    x = quick[2].points[-1, 0]
    assert quick[2].status == "converged" and abs(4 * x**3 - 6 * x + 1) <= 1e-12


def test_fallback_when_the_expression_does_not_compile(kernel_runs):
    # 10^29 does not fit numba's 64-bit integers: the NumPy path steps it, silently
    f = ec.parse("x^2 + y^2 + exp(-123456789012345678901234567890 x^2)")
    assert optimizers.prepare(f) is False
    assert not _fast.ready(f)
    runs = [ec.Run((1.0, 2.0), ec.Newton()), ec.Run((1.0, 2.0), ec.Adam(lr=0.1))]
    quick = ec.optimize_many(f, runs, steps=100, tol=1e-12, fast=True)
    assert kernel_runs == [None]  # declined: NumPy stepped them
    assert_same_runs(quick, ec.optimize_many(f, runs, steps=100, tol=1e-12, fast=False), atol=0)
    # away from x = 0 the exponential is 0: Newton on x^2 + y^2 reaches (0, 0) in one step
    assert quick[0].status == "converged" and quick[0].steps == 1
    assert np.array_equal(quick[0].points[1], [0.0, 0.0]) and quick[0].values[1] == 1.0


def test_fallback_without_numba(rosenbrock, monkeypatch):
    monkeypatch.setattr(_fast, "_numba", False)  # as if it could not be imported
    assert optimizers.prepare(rosenbrock) is False
    t = ec.optimize(rosenbrock, (-1.5, 2.0), ec.Adam(lr=0.02), steps=300, tol=0, fast=True)
    theirs = torch_path("Adam", dict(lr=0.02), (-1.5, 2.0), 300)
    assert np.max(np.abs(t.points - theirs)) <= 1e-8


def test_prepare_a_parameterised_function(kernel_runs):
    f = ec.parse("a (x - b)^2 + c (y + b)^2 + x y / 4").with_parameters(a=2.0, b=0.5, c=3.0)
    assert optimizers.prepare(f)
    runs = [ec.Run((2.0, 1.0), opt) for opt in
            (ec.Adam(lr=0.05), ec.SGD(lr=0.05, momentum=0.5), ec.Newton(), ec.RMSprop(lr=0.01))]
    for b in (0.5, -1.5):
        g = f.with_parameters(b=b)
        # parameter values are arguments of the compiled gradient: no new compile
        assert _fast.ready(g, hessian=True)
        quick = ec.optimize_many(g, runs, steps=500, tol=1e-12)  # fast=None: prepared
        assert kernel_runs[-1] is not None
        assert_same_runs(quick, ec.optimize_many(g, runs, steps=500, tol=1e-12, fast=False),
                         atol=0)
        # grad = (4(x - b) + y/4, 6(y + b) + x/4) = 0, solved by hand
        exact = np.linalg.solve([[4, 0.25], [0.25, 6]], [4 * b, -6 * b])
        assert quick[2].status == "converged"
        assert np.allclose(quick[2].points[-1], exact, atol=1e-12)


def test_unprepared_function_is_not_compiled_on_the_way(monkeypatch):
    f = ec.parse("x^2 + 3y^2 + x y + 0.125 x")
    assert not _fast.ready(f)
    calls = []
    monkeypatch.setattr(_fast, "_compile", lambda *a: calls.append(a))
    t = ec.optimize(f, (1.0, 1.0), ec.Adam(lr=0.1), steps=50)  # fast=None
    assert t.steps == 50 and calls == [] and not _fast.ready(f)


def test_import_does_not_load_numba():
    code = ("import sys, explorer.core as ec\n"
            "t = ec.optimize(ec.parse('x^2 + y^2'), (1.0, 1.0), ec.Adam(lr=0.1), steps=20)\n"
            "assert t.steps == 20\n"
            "assert 'numba' not in sys.modules, 'numba imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
