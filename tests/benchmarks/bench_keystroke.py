"""Keystroke to the curve redrawn and painted, for every preset function.

A key press in the function field -> parse off the GUI thread -> the text applied -> the views
told over a few turns of ~8 ms of updates each (worker.InTurns), the curve among the first ->
the curve view painted. When the last view has heard of it is reported on its own line, and
so is the typeset formula (matplotlib mathtext, also off the GUI thread).

    python tests/benchmarks/bench_keystroke.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401
from _common import row, summary
from bench_drag import PaintCounter
from PySide6 import QtCore, QtTest, QtWidgets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from explorer.paths import function_presets
    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()
    tmp = QtCore.QTemporaryDir()
    settings = QtCore.QSettings(tmp.path() + "/k.ini", QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, expression="x", restore=False, data_dir=None)
    window.resize(1200, 800)
    window.show()

    def settle(predicate, timeout=30.0):
        # Wait in a real event loop, idle between events as the app is: a loop spinning
        # processEvents() would hold the GIL and starve the parsing thread it waits for.
        loop = QtCore.QEventLoop()
        poll = QtCore.QTimer()
        poll.setInterval(0)
        poll.timeout.connect(lambda: loop.quit() if predicate() else None)
        # A zero-interval timer would spin too; instead re-check after every event burst.
        poll.setInterval(2)
        deadline = QtCore.QTimer.singleShot(int(timeout * 1000), loop.quit)
        if predicate():
            return
        poll.start()
        loop.exec()
        poll.stop()
        del deadline
        if not predicate():
            raise RuntimeError("timed out")

    settle(lambda: window.session.function is not None and not window.is_busy())
    stamps = {}
    # A new function reaches the views over a few turns (worker.InTurns): the curve's redraw
    # is the frame the user types for; this subscriber, the last, hears of it after every view.
    window.session.connect("function", lambda s, f: stamps.setdefault("all", time.perf_counter()))
    redraw = window.curve_view._redraw_all

    def curve_redrawn(*args, **kwargs):
        redraw(*args, **kwargs)
        stamps.setdefault("views", time.perf_counter())

    window.curve_view._redraw_all = curve_redrawn
    paints: list[float] = []

    class PaintStamps(PaintCounter):
        # When each paint of the curve view began: the frame the user sees.
        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() == QtCore.QEvent.Type.Paint:
                paints.append(time.perf_counter())
            return super().eventFilter(obj, event)

    counter = PaintStamps()
    window.curve_view.viewport().installEventFilter(counter)
    typeset_shown: list[float] = []
    panel = window.function_panel
    original_show = panel.show_typeset
    panel.show_typeset = lambda images: (original_show(images),
                                         typeset_shown.append(time.perf_counter()))
    edit = window.function_panel.edit
    views, typeset, data_set, every = [], [], [], []
    presets = [p["expression"] for p in function_presets()]
    for round_ in range(args.rounds + 1):
        for text in presets:
            # a distinct function each time, so that no cache answers for us
            text = text if round_ == 0 else f"{text} + {round_}/1000"
            edit.setText(text[:-1])
            stamps.clear()
            t0 = time.perf_counter()
            QtTest.QTest.keyClick(edit, text[-1])
            # a paint that began after the views had their new data (one between the key and
            # the parse, e.g. of the field's own update, does not count)
            settle(lambda: "views" in stamps and any(t >= stamps["views"] for t in paints))
            t_views = next(t for t in paints if t >= stamps["views"])
            data_set.append((stamps["views"] - t0) * 1e3)
            settle(lambda: not window.is_busy())
            every.append((stamps["all"] - t0) * 1e3)
            t_typeset = typeset_shown[-1]
            if round_ > 0:  # round 0 warms imports (SymPy, mathtext)
                views.append((t_views - t0) * 1e3)
                typeset.append((t_typeset - t0) * 1e3)
            assert window.session.expression == text and window.session.error is None, text
    print(f"presets: {len(presets)}, rounds: {args.rounds}")
    print(row("keystroke -> curve's data updated", summary(data_set[len(presets):])))
    print(row("keystroke -> curve updated and painted", summary(views), "target <= 30 ms"))
    print(row("keystroke -> every view told (the last, over turns)",
              summary(every[len(presets):])))
    print(row("keystroke -> typeset f and f' shown", summary(typeset),
              "", "(waits for a 150 ms pause in typing)"))
    window.close()


if __name__ == "__main__":
    main()
