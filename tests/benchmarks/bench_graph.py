"""The backprop lab's computational graph on a ~100-node expression (a sum of 14 tanh units
minus a target, squared: 103 nodes, 172 steps): (a) build + evaluate + differentiate + lay out
(core) and the model's whole rebuild; (b) GraphView: one step of the step-through redrawn and
painted, with the graph fitted (boxes and arrows only) and zoomed in (every number written);
(c) a new graph (the expression edited) to painted, and new values on the same graph (the
point moved); (d) a zoom frame, zoomed in.

    python tests/benchmarks/bench_graph.py [--steps 400]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (sets the platform and the import path)
from _common import PaintCounter, painted, row, summary, wait
from PySide6 import QtWidgets

UNITS = 14


def tanh_units(units: int = UNITS) -> str:
    terms = " + ".join(f"v{i}*tanh(w{i}*x + b{i})" for i in range(1, units + 1))
    return f"({terms} - y)^2"


def bench_core(runs: int) -> tuple[list[float], list[float], int]:
    from explorer.core.graph import computational_graph
    from explorer.core.session import Session
    from explorer.ui.backprop_model import BackpropModel

    session = Session(tanh_units())
    session.set_point((0.5, 0.2))
    f = session.f
    values = {"x": 0.5, "y": 0.2}
    core = []
    for _ in range(runs):
        t0 = time.perf_counter()
        g = computational_graph(f, values)
        g.layout()
        core.append((time.perf_counter() - t0) * 1e3)
    model = BackpropModel(session)
    model.active = True
    rebuild = []
    for _ in range(runs):
        t0 = time.perf_counter()
        model.rebuild()  # the graph, its tabulated steps, the signals (no view connected)
        rebuild.append((time.perf_counter() - t0) * 1e3)
    return core[3:], rebuild[3:], len(g.nodes)


def make_view(app):
    from explorer.core.session import Session
    from explorer.ui.backprop_model import BackpropModel
    from explorer.ui.theme import configure_pyqtgraph
    from explorer.ui.views.graph_view import GraphView

    configure_pyqtgraph()
    session = Session(tanh_units())
    session.set_point((0.5, 0.2))
    model = BackpropModel(session)
    model.set_active(True)
    view = GraphView(model)
    view.resize(900, 600)
    view.show()
    wait(app, lambda: view.isVisible() and view.node_item_count() > 0)
    for _ in range(10):
        app.processEvents()
    counter = PaintCounter()
    view.viewport().installEventFilter(counter)
    return session, model, view, counter


def settle(app, seconds: float = 0.4) -> None:
    """Let the view cache its arrows and boxes again (it paints them directly while zooming,
    and for CACHE_AFTER_MS after)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def bench_steps(app, model, view, counter, steps: int) -> list[float]:
    times = []
    model.set_step(0)
    settle(app)
    for _ in range(steps):
        if model.step == model.step_count:
            model.set_step(0)  # back to the start: not a step, not measured
            before = counter.count
            app.processEvents()
            painted(app, counter, before)
            continue
        before = counter.count
        t0 = time.perf_counter()
        model.forward()
        app.processEvents()
        painted(app, counter, before)
        times.append((time.perf_counter() - t0) * 1e3)
    return times[5:]


def bench_new_graph(app, session, model, view, counter, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        text = tanh_units(UNITS - ((i + 1) % 2))  # 96 and 103 nodes in turn: a new structure
        before = counter.count
        t0 = time.perf_counter()
        session.set_expression(text)
        wait(app, lambda text=text: model.function is not None
             and model.function.text.replace(" ", "") == text.replace(" ", ""), pause=0.0)
        painted(app, counter, before)
        times.append((time.perf_counter() - t0) * 1e3)
    return times[2:]


def bench_values(app, session, model, counter, runs: int) -> list[float]:
    """A value edited (the point dragged): the same graph with new numbers, retexted."""
    times = []
    model.set_step(model.step_count)
    settle(app)
    for i in range(runs):
        x = 0.5 + 0.01 * (i + 1)
        before = counter.count
        t0 = time.perf_counter()
        session.set_point((x, 0.2))
        wait(app, lambda x=x: model.values.get("x") == x, pause=0.0)
        painted(app, counter, before)
        times.append((time.perf_counter() - t0) * 1e3)
    return times[3:]


def bench_zoom(app, view, counter, frames: int) -> list[float]:
    vb = view.getPlotItem().vb
    times = []
    for i in range(frames):
        factor = 0.97 if (i // 20) % 2 == 0 else 1 / 0.97
        before = counter.count
        t0 = time.perf_counter()
        vb.scaleBy((factor, factor))
        app.processEvents()
        painted(app, counter, before)
        times.append((time.perf_counter() - t0) * 1e3)
    return times[5:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    core, rebuild, n = bench_core(max(20, args.steps // 8))
    session, model, view, counter = make_view(app)
    fitted = summary(bench_steps(app, model, view, counter, args.steps))
    fitted_detail = view.text_detail()
    vb = view.getPlotItem().vb
    vb.scaleBy((0.25, 0.25))  # zoomed in on the middle: every number written
    for _ in range(10):
        app.processEvents()
    zoomed_detail = view.text_detail()
    zoomed = summary(bench_steps(app, model, view, counter, args.steps))
    values = summary(bench_values(app, session, model, counter, max(20, args.steps // 10)))
    zoom = summary(bench_zoom(app, view, counter, max(40, args.steps // 4)))
    steps = model.step_count
    view.fit()
    new_graph = summary(bench_new_graph(app, session, model, view, counter,
                                        max(12, args.steps // 20)))
    print(f"platform: {QtWidgets.QApplication.platformName()}   graph: {n} nodes, "
          f"{steps} steps (14 tanh units)")
    print(row("(a) core: build + values + grads + layout", summary(core), "target <= 50 ms"))
    print(row("(a) BackpropModel.rebuild (+ step tables)", summary(rebuild), "target <= 50 ms"))
    print(row(f"(b) one step -> painted, fitted ({fitted_detail})", fitted, "target <= 5 ms"))
    print(row(f"(b) one step -> painted, zoomed in ({zoomed_detail})", zoomed, "target <= 5 ms"))
    print(row("(c) new graph (expression edited) -> painted", new_graph))
    print(row("(c) a value edited (same graph) -> painted", values))
    print(row("(d) zoom frame, zoomed in", zoom))
    view.close()


if __name__ == "__main__":
    main()
