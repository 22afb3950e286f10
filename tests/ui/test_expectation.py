"""The expectations and Monte Carlo lab from the app: E_p[g(X)] with g = f, exactly and by
sampling; the density, the running estimate and the error against N drawn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6 import QtCore
from scipy import stats

from explorer.core.integration import monte_carlo
from explorer.ui.panels.expectation_panel import tick_to_n


@pytest.fixture(autouse=True)
def sympy_has_time(monkeypatch):
    """SymPy gets 30 s of its thread's CPU here, not the app's 2 s: beside the suite's other
    workers a cold exact expectation once took over 2 s, and the lab showed quadrature where
    these tests read SymPy's exact values. Falling back when SymPy runs out of time is tested
    in tests/core/test_integration.py, with a limit of its own."""
    monkeypatch.setattr("explorer.ui.expectation_model.EXACT_TIME_LIMIT", 30.0)


def slider_point(slider, fraction):
    """Where a fraction of the slider's groove is, in the slider's coordinates."""
    return QtCore.QPointF(8 + fraction * (slider.width() - 16), slider.height() / 2)


def open_lab(window, qtbot, ui):
    """As a user does: View > Expectations and Monte Carlo (Ctrl+9); wait for the results."""
    window.expectation_action.trigger()
    assert window.docks["expectation"].isVisible() and window.docks["monte_carlo"].isVisible()
    assert window.monte_carlo_view.isVisible()
    ui.wait_idle(window)


def type_into(qtbot, edit, text):
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Return)


def set_normal(window, qtbot, ui, mu, sigma):
    """Type mu and sigma into their fields, as a user does."""
    rows = window.expectation_panel.rows["normal"]
    type_into(qtbot, rows["mu"].edit, str(mu))
    type_into(qtbot, rows["sigma"].edit, str(sigma))
    assert window.session.distribution_params == {"mu": mu, "sigma": sigma}
    ui.wait_idle(window)


def shown(label) -> float:
    return float(label.text().split()[0].replace("−", "-"))


def test_lab_opens_from_the_view_menu_and_computes_only_when_shown(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    model = window.expectation_model
    assert not window.docks["expectation"].isVisible() and not model.active
    assert model.run is None and model.exact is None  # nothing paid while hidden
    action = window.expectation_action
    assert action.shortcut().toString() == "Ctrl+9" and action.isCheckable()
    open_lab(window, qtbot, ui)
    assert action.isChecked() and model.active
    assert model.run is not None and model.exact is not None
    # the two docks share the bottom strip: the panel on the left, the plots wider
    panel, plots = window.docks["expectation"], window.docks["monte_carlo"]
    assert panel.geometry().right() < plots.geometry().left()
    assert plots.width() > 2 * panel.width()
    # closed again, a change computes nothing until the lab is back
    action.trigger()
    assert not panel.isVisible() and not plots.isVisible() and not model.active
    window.session.set_mc_seed(7)
    ui.wait_idle(window)
    assert model.run_key[-1] != 7
    action.trigger()
    ui.wait_idle(window)
    assert model.run_key[-1] == 7 and model.run.n == window.session.mc_n


def test_x_squared_under_a_normal(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    open_lab(window, qtbot, ui)
    set_normal(window, qtbot, ui, 1.0, 2.0)
    s, values = window.session, window.expectation_panel.values
    # E[X^2] = mu^2 + sigma^2 = 5, found exactly by SymPy
    assert values["exact"].text() == "5"
    assert values["method"].text() == "exact (SymPy)"
    model = window.expectation_model
    assert float(model.exact) == 5.0 and model.exact.method == "exact"
    run = model.run
    assert run.n == s.mc_n == 10_000
    assert abs(run.estimate - 5.0) < 4 * run.standard_error
    # the same samples as the core's monte_carlo for the session's seed and N
    expected = monte_carlo(s.f1, "normal", {"mu": 1.0, "sigma": 2.0}, n=s.mc_n, seed=s.mc_seed)
    assert run.estimate == expected.estimate and run.standard_error == expected.standard_error
    # and an independent one: NumPy's generator with that seed, by hand
    xs = np.random.default_rng(s.mc_seed).normal(1.0, 2.0, s.mc_n)
    assert run.estimate == pytest.approx(np.mean(xs**2), rel=1e-12)
    assert run.standard_error == pytest.approx(np.std(xs**2, ddof=1) / 100, rel=1e-9)
    assert shown(values["estimate"]) == pytest.approx(run.estimate, rel=1e-7)
    assert values["estimate"].text().split("± ")[1] == f"{1.96 * run.standard_error:.3g}"
    assert shown(values["error"]) == pytest.approx(abs(run.estimate - 5.0), rel=1e-2)
    # sigma_g is exact: Var X^2 = E[X^4] - 25 = (mu^4 + 6 mu^2 sigma^2 + 3 sigma^4) - 25 = 48
    assert model.sigma_g == pytest.approx(math.sqrt(48.0), rel=1e-12) and model.sigma_g_is_exact
    assert shown(values["law"]) == pytest.approx(math.sqrt(48.0 / s.mc_n), rel=1e-3)
    assert not window.expectation_panel.message.isVisible()


def test_sympy_out_of_time_gives_way_to_quadrature(make_window, qtbot, ui, monkeypatch):
    """No closed form within the time SymPy is given: the lab says so and shows SciPy's
    adaptive quadrature of g p, with its error bound."""
    from scipy.integrate import quad

    monkeypatch.setattr("explorer.ui.expectation_model.EXACT_TIME_LIMIT", 0.3)
    window = make_window(expression="cos(x^3)/(2 + sin(x))", restore=False)
    open_lab(window, qtbot, ui)
    set_normal(window, qtbot, ui, 0.5, 1.0)
    values, model = window.expectation_panel.values, window.expectation_model
    assert model.exact.method == "quadrature"
    assert values["method"].text().startswith("adaptive quadrature, error ≈ ")
    p = stats.norm(0.5, 1.0).pdf
    reference = sum(quad(lambda t: math.cos(t**3) / (2 + math.sin(t)) * p(t), lo, hi,
                         limit=200, epsabs=1e-13)[0]
                    for lo, hi in ((-math.inf, 0.5), (0.5, math.inf)))
    assert float(model.exact) == pytest.approx(reference, abs=1e-9)
    assert shown(values["exact"]) == pytest.approx(reference, rel=1e-5)
    assert not window.expectation_panel.message.isVisible()


def test_dragging_sigma_redraws_the_density(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    open_lab(window, qtbot, ui)
    view = window.monte_carlo_view
    xs, ys = view.density_data()
    np.testing.assert_allclose(ys, stats.norm.pdf(xs, 0.0, 1.0), rtol=1e-12, atol=1e-300)
    slider = window.expectation_panel.rows["normal"]["sigma"].slider
    handle = slider_point(slider, slider.value() / slider.maximum())
    ui.drag(slider, handle, slider_point(slider, 0.6))
    sigma = window.session.distribution_params["sigma"]
    assert sigma > 2.0 and sigma == pytest.approx(0.05 + 0.05 * slider.value())
    ui.wait_idle(window)
    xs, ys = view.density_data()
    assert xs.min() == pytest.approx(-4.5 * sigma) and xs.max() == pytest.approx(4.5 * sigma)
    np.testing.assert_allclose(ys, stats.norm.pdf(xs, 0.0, sigma), rtol=1e-12, atol=1e-300)
    # g(x) p(x) shaded under it, and the exact value follows: E[X^2] = sigma^2
    gx, gp = view.gp_data()
    np.testing.assert_allclose(gp, gx**2 * stats.norm.pdf(gx, 0.0, sigma), rtol=1e-12, atol=1e-300)
    assert float(window.expectation_model.exact) == pytest.approx(sigma**2, rel=1e-12)
    assert view.exact_value() == pytest.approx(sigma**2, rel=1e-12)
    # the keyboard moves it too, one step of 0.05 a key
    before = window.session.distribution_params["sigma"]
    slider.setFocus()
    qtbot.keyClick(slider, QtCore.Qt.Key.Key_Left)
    assert window.session.distribution_params["sigma"] == pytest.approx(before - 0.05)


def test_reseed_draws_new_samples(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    open_lab(window, qtbot, ui)
    s, panel, model = window.session, window.expectation_panel, window.expectation_model
    seed, estimate = s.mc_seed, model.run.estimate
    qtbot.mouseClick(panel.reseed_button, QtCore.Qt.MouseButton.LeftButton)
    assert s.mc_seed != seed and panel.seed_spin.value() == s.mc_seed
    ui.wait_idle(window)
    assert model.run.estimate != estimate
    expected = monte_carlo(s.f1, "normal", {"mu": 0.0, "sigma": 1.0}, n=s.mc_n, seed=s.mc_seed)
    assert model.run.estimate == expected.estimate
    # any seed the session takes shows exactly (up to 2^32 - 1, past an int32 spin box)
    s.set_mc_seed(2**32 - 1)
    assert panel.seed_spin.value() == 2**32 - 1 and panel.seed_spin.text() == "4294967295"
    # typing a seed back gives the first samples again
    type_into(qtbot, panel.seed_spin.lineEdit(), str(seed))
    assert s.mc_seed == seed
    ui.wait_idle(window)
    assert model.run.estimate == estimate


def test_histogram_is_that_of_the_samples(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    open_lab(window, qtbot, ui)
    set_normal(window, qtbot, ui, 1.0, 2.0)
    type_into(qtbot, window.expectation_panel.seed_spin.lineEdit(), "1234")
    s = window.session
    assert s.mc_seed == 1234
    ui.wait_idle(window)
    edges, density = window.monte_carlo_view.histogram_data()
    xs = np.random.default_rng(1234).normal(1.0, 2.0, s.mc_n)  # the same samples, by hand
    # 60 bins over the plot range, mean +- 4.5 sd
    np.testing.assert_allclose(edges, np.linspace(1.0 - 9.0, 1.0 + 9.0, 61), rtol=1e-12, atol=1e-12)
    counts, _ = np.histogram(xs, bins=edges)
    np.testing.assert_allclose(density, counts / (s.mc_n * np.diff(edges)), rtol=1e-12)
    # a density: against NumPy's own (normalised over the samples inside the range)
    expected, _ = np.histogram(xs, bins=edges, density=True)
    np.testing.assert_allclose(density, expected, rtol=1e-3)
    assert np.sum(density * np.diff(edges)) == pytest.approx(1.0, abs=1e-3)


def test_running_estimate_band_and_error_plot(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    open_lab(window, qtbot, ui)
    set_normal(window, qtbot, ui, 1.0, 2.0)
    s, model, view = window.session, window.expectation_model, window.monte_carlo_view
    # N up a decade with the keyboard: ten ticks of the log slider
    slider = window.expectation_panel.n_slider
    slider.setFocus()
    for _ in range(10):
        qtbot.keyClick(slider, QtCore.Qt.Key.Key_Right)
    assert s.mc_n == 100_000 == tick_to_n(slider.value())
    assert window.expectation_panel.n_label.text() == "100\u2009000"
    s.set_mc_seed(3)
    ui.wait_idle(window)
    run = model.run
    assert run.n == 100_000
    ns, running, low, high = view.running_data()
    assert ns[-1] == pytest.approx(100_000) and ns[0] == pytest.approx(10)
    assert np.all(np.diff(ns) > 0)
    assert running[-1] == run.estimate
    np.testing.assert_allclose(high - running, 1.96 * np.asarray(run.running_se), rtol=1e-9)
    np.testing.assert_allclose(running - low, 1.96 * np.asarray(run.running_se), rtol=1e-9)
    # the running estimate is the mean of the first k samples (NumPy by hand)
    gx = np.random.default_rng(3).normal(1.0, 2.0, 100_000) ** 2
    means = np.cumsum(gx)[np.rint(ns).astype(int) - 1] / np.rint(ns)
    np.testing.assert_allclose(running, means, rtol=1e-9)
    # for this seed the 95% band holds the exact value 5 at the end, as it does 19 times in 20
    assert low[-1] <= 5.0 <= high[-1]
    assert view.exact_value() == 5.0
    # the error plot: |running - 5| and the law sqrt(48 / N) beside it
    en, err = view.error_data()
    np.testing.assert_allclose(en, ns, rtol=1e-12)
    np.testing.assert_allclose(err, np.abs(running - 5.0), rtol=1e-9)
    ln, law = view.law_data()
    np.testing.assert_allclose(law, np.sqrt(48.0 / ln), rtol=1e-9)
    assert np.log10(law[-1] / law[0]) / np.log10(ln[-1] / ln[0]) == pytest.approx(-0.5)


def test_undefined_g_shows_a_message_and_the_app_goes_on(make_window, qtbot, ui):
    window = make_window(expression="log(x)", restore=False)
    open_lab(window, qtbot, ui)
    panel, model, view = window.expectation_panel, window.expectation_model, window.monte_carlo_view
    assert model.exact is None and model.run is None
    assert panel.message.isVisible() and "undefined" in panel.message.text()
    assert panel.values["exact"].text() == "undefined"
    assert view.running_plot.note.isVisible() and "undefined" in view.running_plot.note.toPlainText()
    assert view.histogram_data()[0].size == 0 and view.running_data()[0].size == 0
    # the density is still drawn (g p where g is defined), and the app keeps working:
    xs, _ = view.density_data()
    assert xs.size > 100
    # under an exponential, log(x) is defined: E[log X] = -Euler's gamma for rate 1
    combo = panel.combo
    combo.setFocus()
    qtbot.keyClick(combo, QtCore.Qt.Key.Key_Down)
    qtbot.keyClick(combo, QtCore.Qt.Key.Key_Down)
    assert window.session.distribution == "exponential"
    ui.wait_idle(window)
    assert float(model.exact) == pytest.approx(-0.5772156649015329, rel=1e-10)
    assert not panel.message.isVisible() and not view.running_plot.note.isVisible()
    assert abs(model.run.estimate + 0.5772156649015329) < 4 * model.run.standard_error


def test_bad_typed_sigma_changes_nothing(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    open_lab(window, qtbot, ui)
    row = window.expectation_panel.rows["normal"]["sigma"]
    key = window.expectation_model.run_key
    type_into(qtbot, row.edit, "-1")
    assert row.edit.error_label.isVisible()
    assert "sigma must be positive" in row.edit.error_label.text()
    assert window.session.distribution_params == {"mu": 0.0, "sigma": 1.0}
    ui.wait_idle(window)
    assert window.expectation_model.run_key == key
    type_into(qtbot, row.edit, "1.5")
    assert not row.edit.error_label.isVisible()
    assert window.session.distribution_params["sigma"] == 1.5


def test_switching_distributions_keeps_each_ones_parameters(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    open_lab(window, qtbot, ui)
    set_normal(window, qtbot, ui, 1.0, 2.0)
    panel, view, s = window.expectation_panel, window.monte_carlo_view, window.session
    combo = panel.combo
    combo.setFocus()
    qtbot.keyClick(combo, QtCore.Qt.Key.Key_Down)
    assert s.distribution == "uniform" and s.distribution_params == {"low": -1.0, "high": 1.0}
    ui.wait_idle(window)
    assert panel.rows["uniform"]["low"].slider.isVisible()
    assert not panel.rows["normal"]["sigma"].slider.isVisible()
    xs, ys = view.density_data()
    # (by hand: scipy's pdf rounds (x - low) / width and counts the float past high in)
    np.testing.assert_array_equal(ys, np.where((xs >= -1.0) & (xs <= 1.0), 0.5, 0.0))
    assert {-1.0, 1.0} <= set(xs[ys == 0.5]) and (ys == 0).sum() > 100  # upright jumps
    assert float(window.expectation_model.exact) == pytest.approx(1 / 3, rel=1e-12)  # E[U^2]
    qtbot.keyClick(combo, QtCore.Qt.Key.Key_Up)
    assert s.distribution == "normal" and s.distribution_params == {"mu": 1.0, "sigma": 2.0}
    ui.wait_idle(window)
    assert panel.rows["normal"]["sigma"].edit.text() == "2"
    xs, ys = view.density_data()
    np.testing.assert_allclose(ys, stats.norm.pdf(xs, 1.0, 2.0), rtol=1e-12, atol=1e-300)
    assert float(window.expectation_model.exact) == 5.0


def test_lab_shares_the_bottom_strip_with_the_quotient_lab(make_window, qtbot, ui):
    window = make_window(expression="x^2", restore=False)
    window.session.set_option("show_secant", True)  # opens the difference-quotient lab
    assert window.docks["quotient"].isVisible() and window.docks["error"].isVisible()
    open_lab(window, qtbot, ui)  # raised over the quotient's tabs
    assert set(window.tabifiedDockWidgets(window.docks["expectation"])) == {window.docks["quotient"]}
    assert set(window.tabifiedDockWidgets(window.docks["monte_carlo"])) == {window.docks["error"]}
    assert window.docks["quotient"].visibleRegion().isEmpty()  # a tab behind
    assert not window.docks["monte_carlo"].visibleRegion().isEmpty()
    assert window.expectation_model.active
    # behind its tabs the lab is still open (checked) but computes nothing
    window.docks["quotient"].raise_()
    window.docks["error"].raise_()
    qtbot.waitUntil(lambda: not window.expectation_model.active, timeout=5000)
    assert window.expectation_action.isChecked()
    window.session.set_mc_seed(11)
    ui.wait_idle(window)
    assert window.expectation_model.run_key[-1] != 11
    window.docks["monte_carlo"].raise_()
    qtbot.waitUntil(lambda: window.expectation_model.active, timeout=5000)
    ui.wait_idle(window)
    assert window.expectation_model.run_key[-1] == 11
