"""Start-up: process start -> first painted window -> first curve drawn; peak memory.

Each run is a fresh interpreter (`python -m explorer` as a user starts it, with a private
settings file), so imports are paid as a user pays them. Reference in the same script: a bare
Qt window with one empty pyqtgraph plot, started the same way.

    python tests/benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import _common  # noqa: F401
from _common import row, summary

CHILD = r"""
import json, os, resource, sys, time
t_start = float(sys.argv[1])
from PySide6 import QtCore, QtWidgets
marks = {}

class Watch(QtCore.QObject):
    def eventFilter(self, obj, event):
        if event.type() == QtCore.QEvent.Type.Paint and isinstance(obj, QtWidgets.QWidget):
            top = obj.window()
            if isinstance(top, QtWidgets.QMainWindow):
                marks.setdefault("paint", time.time())
                view = getattr(top, "curve_view", None)
                if obj is getattr(view, "viewport", lambda: None)():
                    xs = view.f_item.xData
                    if xs is not None and len(xs) and "curve" not in marks:
                        marks["curve"] = time.time()
                        marks["peak_at_curve_mb"] = peak_mb()
                        settle(top)
        return False

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def settle(window):
    # keep running until start-up work is over (typesetting loaded mathtext), then quit
    def check():
        if window.is_busy():
            QtCore.QTimer.singleShot(20, check)
        else:
            marks["settled"] = time.time()
            QtWidgets.QApplication.quit()
    QtCore.QTimer.singleShot(20, check)

app = QtWidgets.QApplication(sys.argv[:1])
watch = Watch()
app.installEventFilter(watch)
if sys.argv[2] == "bare":
    import pyqtgraph as pg
    w = QtWidgets.QMainWindow(); w.setCentralWidget(pg.PlotWidget()); w.resize(1280, 820); w.show()
    QtCore.QTimer.singleShot(300, app.quit)
    app.exec()
else:
    from explorer.app import main
    QtCore.QTimer.singleShot(15000, app.quit)
    main(["--reset", "--settings", sys.argv[3]])
out = {k: (v - t_start) * 1e3 for k, v in marks.items() if not k.endswith("_mb")}
print(json.dumps(out | {"peak_mb": peak_mb(), "peak_at_curve_mb": marks.get("peak_at_curve_mb", 0)}))
"""


def run(kind: str, settings: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, repr(t0), kind, settings], env=env,
                         capture_output=True, text=True, timeout=60)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = os.path.join(tmp, "s.ini")
        run("app", settings)  # warm the disk cache, as any second start is
        ours = [run("app", settings) for _ in range(args.runs)]
        bare = [run("bare", settings) for _ in range(args.runs)]
    paint = summary([r["paint"] for r in ours])
    curve = summary([r["curve"] for r in ours])
    bare_paint = summary([r["paint"] for r in bare])
    peak = max(r["peak_mb"] for r in ours)
    peak_curve = max(r["peak_at_curve_mb"] for r in ours)
    settled = summary([r["settled"] for r in ours])
    print(f"platform: {os.environ.get('QT_QPA_PLATFORM')}, runs: {args.runs}")
    # times from process start (the parent's clock before the child is spawned), in ms
    name = "bare Qt + pyqtgraph window"
    print(row("start-up: first painted window", paint, "target <= 700 ms",
              reference=bare_paint, reference_name=name))
    print(row("start-up: first curve drawn", curve, "target <= 1200 ms",
              f"peak memory at first curve {peak_curve:.0f} MB (target <= 200 MB)"))
    print(row("start-up: work done (typeset shown)", settled, "",
              f"peak memory {peak:.0f} MB (f and f' typeset: mathtext loaded)"))
    print(row(f"start-up: {name} painted", bare_paint, is_reference=True))


if __name__ == "__main__":
    main()
