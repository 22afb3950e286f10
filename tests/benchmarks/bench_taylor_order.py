"""Changing the Taylor order: slider value -> new polynomial (curve, error plot, panel) painted.

For every one-variable preset, orders 0 to 20 stepped up and down once the function's plan
(its symbolic derivatives, off the GUI thread) is ready; the time of each step until the
curve view has painted it. Reference in the same process: recomputing the coefficients with
SymPy's series at the same order, which is what a plain symbolic route would pay per change.

    python tests/benchmarks/bench_taylor_order.py [--presets N]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (sets the platform and the import path)
from _common import PaintCounter, row, summary, wait
from PySide6 import QtCore, QtWidgets


def bench_ours(texts: list[str]) -> tuple[list[float], dict[str, str]]:
    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()
    app = QtWidgets.QApplication.instance()
    settings = QtCore.QSettings(QtCore.QTemporaryDir().path() + "/b.ini", QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, expression=texts[0], restore=False, data_dir=None)
    window.resize(1200, 800)
    window.show()
    wait(app, lambda: window.session.function is not None and window.curve_view is not None
         and not window.is_busy())
    window.session.set_option("show_taylor", True)
    counter = PaintCounter()
    window.curve_view.viewport().installEventFilter(counter)
    slider = window.taylor_panel.order_slider
    times, methods = [], {}
    for text in texts:
        window.function_panel.edit.setText(text)
        window.request_expression(text)
        wait(app, lambda text=text: window.session.expression == text and not window.is_busy()
             and window.taylor_model.ready)
        window.session.set_x0(0.5)
        for order in list(range(0, 21)) + list(range(19, -1, -1)):
            if slider.value() == order:
                continue
            before = counter.count
            t0 = time.perf_counter()
            slider.setValue(order)
            while counter.count == before and time.perf_counter() - t0 < 2.0:
                app.processEvents()
            if counter.count != before:  # nothing to paint: no polynomial (a kink, say)
                times.append((time.perf_counter() - t0) * 1e3)
            if order == 20:
                series = window.taylor_model.series()
                methods[text] = series.method if series is not None else window.taylor_model.error
    window.close()
    return times, methods


def bench_sympy(texts: list[str], orders=(5, 10, 20)) -> list[float]:
    import sympy as sp

    from explorer.core import parse

    times = []
    for text in texts:
        f = parse(text)
        x = f.symbols[0]
        for n in orders:
            t0 = time.perf_counter()
            try:
                from explorer.core.limits import TimeLimitExceeded, time_limit

                with time_limit(5.0):
                    sp.series(f.expr, x, sp.Rational(1, 2), n + 1)
            except (TimeLimitExceeded, Exception):  # noqa: BLE001 - a reference, not the app
                pass
            times.append((time.perf_counter() - t0) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presets", type=int, default=99)
    args = parser.parse_args()
    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from explorer.core import parse
    from explorer.paths import function_presets

    texts = []
    for preset in function_presets():
        text = preset["expression"]
        if len(parse(text).variables) == 1:
            texts.append(text)
    texts = texts[: args.presets]
    ours, methods = bench_ours(texts)
    ref = bench_sympy(texts[:6])
    print(f"platform: {QtWidgets.QApplication.platformName()}, {len(texts)} presets, orders 0-20")
    name = "SymPy series per change (orders 5, 10, 20)"
    scope = f"first {min(6, len(texts))} presets, 5 s limit"
    print(row("order change -> painted, ours", summary(ours), "target <= 20 ms",
              f"reference: {scope}", reference=summary(ref), reference_name=name))
    print(row(name, summary(ref), "", scope, is_reference=True))
    counts = {}
    for method in methods.values():
        counts[method] = counts.get(method, 0) + 1
    print("method at order 20: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
