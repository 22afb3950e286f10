"""Regression core against independent answers: numpy.polyfit, the loss and its gradient
computed directly from the data, finite differences, and reproducible mini-batches."""

import numpy as np
import pytest

import explorer.core as ec


@pytest.fixture
def data():
    return ec.generate(n=200, slope=2.5, intercept=-1.0, noise=0.7, seed=4, x_range=(3.0, 9.0))


def direct_loss(data, w, b):
    return np.mean((w * data.xs + b - data.ys) ** 2)


def test_least_squares_against_polyfit(data):
    w, b = ec.least_squares(data.xs, data.ys)
    pw, pb = np.polyfit(data.xs, data.ys, 1)
    assert (w, b) == pytest.approx((pw, pb), rel=1e-12)
    assert data.stats.gradient(w, b) == pytest.approx([0, 0], abs=1e-9)
    with pytest.raises(ValueError, match="two different x"):
        ec.least_squares([1.0, 1.0], [2.0, 3.0])


@pytest.mark.parametrize("w, b", [(0.0, 0.0), (2.5, -1.0), (-3.0, 10.0), (1e3, -2e3)])
def test_loss_from_statistics_equals_the_direct_mean(data, w, b):
    assert data.stats.loss(w, b) == pytest.approx(direct_loss(data, w, b), rel=1e-10)
    # the gradient's terms as the lab writes them: (2/n) sum (y_p - y) x and (2/n) sum (y_p - y)
    r = w * data.xs + b - data.ys
    assert data.stats.gradient(w, b) == pytest.approx([2 * np.mean(r * data.xs),
                                                       2 * np.mean(r)], rel=1e-9, abs=1e-9)
    grid = data.stats.loss(np.full((3, 3), w), np.full((3, 3), b))
    assert grid.shape == (3, 3) and grid[1, 1] == pytest.approx(direct_loss(data, w, b))


def test_mse_loss_is_a_function_of_w_and_b(data):
    f = ec.mse_loss(data.xs, data.ys)
    assert f.variables == ("w", "b")
    for w, b in [(0.3, 0.2), (2.5, -1.0), (-1.0, 4.0)]:
        assert float(f(w, b)) == pytest.approx(direct_loss(data, w, b), rel=1e-10)
        h = 1e-6
        fd = [(direct_loss(data, w + h, b) - direct_loss(data, w - h, b)) / (2 * h),
              (direct_loss(data, w, b + h) - direct_loss(data, w, b - h)) / (2 * h)]
        assert f.gradient((w, b)) == pytest.approx(fd, rel=1e-6)
    # the optimizers take it like any typed function: Newton lands on least squares at once
    t = ec.optimize(f, (0.0, 0.0), ec.Newton(), steps=5)
    assert t.points[1] == pytest.approx(ec.least_squares(data.xs, data.ys), rel=1e-8)


def test_dataset_edits_keep_the_statistics(data):
    d = ec.Dataset(data.xs[:10], data.ys[:10])
    i = d.add(1.0, 2.0)
    d.move(0, -1.0, 0.5)
    d.remove(3)
    xs = np.delete(np.append(np.r_[-1.0, data.xs[1:10]], 1.0), 3)
    ys = np.delete(np.append(np.r_[0.5, data.ys[1:10]], 2.0), 3)
    assert i == 10 and len(d) == 10
    assert d.stats == ec.Stats.of(xs, ys)


def test_scaling_makes_the_landscape_round(data):
    scaled, mean, std = data.scaled()
    assert mean == pytest.approx(data.xs.mean()) and std == pytest.approx(data.xs.std())
    h = scaled.stats.hessian()
    assert h[0, 1] == pytest.approx(0, abs=1e-12) and h[0, 0] == pytest.approx(2.0)
    cond_raw = np.linalg.cond(data.stats.hessian())
    assert cond_raw > 100  # x far from 0: a long narrow valley


def test_full_batch_descent_is_gradient_descent(data):
    run = ec.descend(data, (0.0, 0.0), ec.SGD(lr=0.01), epochs=30)
    # by hand: w <- w - lr * dJ/dw, with J's gradient from the whole data
    p = np.array([0.0, 0.0])
    for k in range(30):
        p = p - 0.01 * data.stats.gradient(*p)
        assert run.params[k + 1] == pytest.approx(p, rel=1e-12)
    assert run.losses[-1] < run.losses[0]
    assert run.epochs[-1] == 30


def test_minibatches_are_reproducible_from_the_seed(data):
    a = ec.descend(data, (0.0, 0.0), ec.Adam(lr=0.1), epochs=5, batch_size=16, seed=3)
    b = ec.descend(data, (0.0, 0.0), ec.Adam(lr=0.1), epochs=5, batch_size=16, seed=3)
    c = ec.descend(data, (0.0, 0.0), ec.Adam(lr=0.1), epochs=5, batch_size=16, seed=4)
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)
    assert len(a.params) == 1 + 5 * 13  # ceil(200 / 16) updates an epoch
    # each update uses the gradient of its own batch: redo the first by hand
    rng = np.random.default_rng(3)
    idx = rng.permutation(200)[:16]
    g = ec.Stats.of(data.xs[idx], data.ys[idx]).gradient(0.0, 0.0)
    opt = ec.Adam(lr=0.1)
    state = opt.init_state(np.zeros((1, 2)))
    expected = opt.step(np.zeros((1, 2)), g.reshape(1, 2), state, 1, 0.1)[0]
    assert a.params[1] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="batch size"):
        ec.descend(data, (0, 0), ec.SGD(lr=0.1), batch_size=0)
    with pytest.raises(ValueError, match="no single steps"):
        ec.descend(data, (0, 0), ec.LBFGS())


def test_csv_round_trip_and_errors(tmp_path, data):
    path = tmp_path / "data.csv"
    data.to_csv(path)
    back = ec.read_csv(path.read_text())
    np.testing.assert_array_equal(back.xs, data.xs)
    np.testing.assert_array_equal(back.ys, data.ys)
    assert len(ec.read_csv("1;2\n\n3\t4\n# a comment\n5, 6\n")) == 3
    for text, line in [("x,y\n1,2\n3,abc\n", 3), ("1,2\n4\n", 2), ("x,y\n", 1),
                       ("1,2\n3,inf\n", 2), ("", 1)]:
        with pytest.raises(ec.CsvError) as info:
            ec.read_csv(text)
        assert info.value.line == line


def test_level_curves_are_exact(data):
    levels = data.stats.loss(*ec.least_squares(data.xs, data.ys)) + np.array([0.5, 2.0, 10.0])
    curves = data.stats.level_curves(levels)
    assert len(curves) == 3
    for level, ws, bs in curves:
        assert len(ws) == 160
        np.testing.assert_allclose(data.stats.loss(ws, bs), level, rtol=1e-9)
    assert ec.Stats.of([1.0, 1.0], [0.0, 2.0]).level_curves([1.0]) == []


def test_descent_reports_each_epoch_and_stops_when_asked():
    data = ec.generate(n=50, seed=1)
    seen = []
    full = ec.descend(data, (0.0, 0.0), ec.SGD(lr=0.05), epochs=6, batch_size=10, seed=2,
                      progress=lambda done, total: seen.append((done, total)))
    assert seen == [(k, 6) for k in range(1, 7)]
    # the same path as without a progress callback
    plain = ec.descend(data, (0.0, 0.0), ec.SGD(lr=0.05), epochs=6, batch_size=10, seed=2)
    np.testing.assert_array_equal(full.params, plain.params)
    from explorer.core.regression import Cancelled

    with pytest.raises(Cancelled, match="after 3 of 6 epochs"):
        ec.descend(data, (0.0, 0.0), ec.SGD(lr=0.05), epochs=6, batch_size=10, seed=2,
                   progress=lambda done, total: done < 3)
