"""Monte Carlo with N = 10^6 (g = x^2 under a normal): a new seed until the plots show it.

(a) the core's ``monte_carlo_run`` alone (sampling, g, the histogram, the running estimate);
(b) the app: from ``session.set_mc_seed(...)`` until the lab's plots have been updated and
painted (the run goes to the sampling worker and comes back on the GUI thread);
reference in the same process: plain NumPy, ``rng.normal(size=10**6)`` then its mean and std.

    python tests/benchmarks/bench_monte_carlo.py [--runs 20] [--n 1000000]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (sets the platform and the import path)
import numpy as np
from _common import PaintCounter, row, summary, wait
from PySide6 import QtCore, QtWidgets

PARAMS = {"mu": 1.0, "sigma": 2.0}



def bench_core(n: int, runs: int) -> list[float]:
    from explorer.core.expression import parse
    from explorer.core.integration import monte_carlo_run

    g = parse("x^2")
    monte_carlo_run(g, "normal", PARAMS, n, seed=0)  # warm: compile g, import
    times = []
    for seed in range(1, runs + 1):
        t0 = time.perf_counter()
        monte_carlo_run(g, "normal", PARAMS, n, seed=seed)
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def bench_app(n: int, runs: int) -> tuple[list[float], list[float]]:
    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()
    app = QtWidgets.QApplication.instance()
    settings = QtCore.QSettings(QtCore.QTemporaryDir().path() + "/b.ini", QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, expression="x^2", restore=False, data_dir=None)
    window.resize(1360, 900)
    window.show()
    wait(app, lambda: window.session.function is not None and window.monte_carlo_view is not None
         and not window.is_busy())
    s, model = window.session, window.expectation_model
    window.expectation_action.trigger()
    for name, value in PARAMS.items():
        s.set_distribution_parameter(name, value)
    s.set_mc_n(n)
    wait(app, lambda: not window.is_busy() and model.run is not None and model.run.n == n)
    # The GUI thread waits as the app's does, idle in an event loop (a busy loop of
    # processEvents would compete with the worker for the GIL and slow it down).
    counter = PaintCounter()
    window.monte_carlo_view.error_plot.viewport().installEventFilter(counter)
    loop = QtCore.QEventLoop()
    state = {}

    def arrived():
        state["arrived"] = time.perf_counter()
        state["paints"] = counter.count  # the slots have set the data: wait for its paint

    def check():
        if "paints" in state and counter.count > state["paints"]:
            loop.quit()

    model.run_changed.connect(arrived)
    poll = QtCore.QTimer(interval=1)
    poll.timeout.connect(check)
    times, arrivals = [], []
    for seed in range(1000, 1000 + runs + 1):
        wait(app, lambda: not window.is_busy())
        state.clear()
        poll.start()
        t0 = time.perf_counter()
        s.set_mc_seed(seed)
        loop.exec()
        t1 = time.perf_counter()
        poll.stop()
        if seed > 1000:  # the first lays out what it has not drawn before
            times.append((t1 - t0) * 1e3)
            arrivals.append((state["arrived"] - t0) * 1e3)
        assert model.run.n == n and model.run_key[-1] == seed
    window.close()
    return times, arrivals


def bench_numpy(n: int, runs: int) -> list[float]:
    times = []
    for seed in range(runs + 1):
        rng = np.random.default_rng(seed)
        t0 = time.perf_counter()
        xs = rng.normal(size=n)
        xs.mean()
        xs.std()
        if seed:
            times.append((time.perf_counter() - t0) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    runs = max(args.runs, 15)
    ref = bench_numpy(args.n, runs)
    core = bench_core(args.n, runs)
    app, arrivals = bench_app(args.n, runs)
    ref = summary(ref)
    name = "NumPy normal(size=N), mean, std"
    print(f"platform: {QtWidgets.QApplication.platformName()}, N = {args.n:,}, g = x^2 under "
          f"normal(1, 2), {runs} runs")
    print(row("core monte_carlo_run (samples, hist, running)", summary(core),
              reference=ref, reference_name=name))
    print(row("app: new seed -> run back on the GUI thread", summary(arrivals), "",
              "off the GUI thread, on the sampling worker"))
    print(row("app: new seed -> plots painted", summary(app), "target <= 60 ms",
              reference=ref, reference_name=name))
    print(row(f"reference: {name}", ref, is_reference=True))


if __name__ == "__main__":
    main()
