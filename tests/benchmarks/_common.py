"""Helpers for the benchmark scripts: robust statistics and a printed table."""

from __future__ import annotations

import os
import statistics
import sys

# Benchmarks run headless unless a display was asked for explicitly.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))


def wait(app, condition, seconds: float = 30.0, pause: float = 0.0005) -> None:
    """Process events until ``condition()`` holds; RuntimeError after ``seconds``."""
    import time

    deadline = time.time() + seconds
    while not condition():
        app.processEvents()
        if time.time() > deadline:
            raise RuntimeError("timed out")
        time.sleep(pause)


def painted(app, counter, before: int) -> None:
    """Process events until ``counter`` has seen a paint after ``before``."""
    spin = 0
    while counter.count == before:
        app.processEvents()
        spin += 1
        if spin > 100000:
            raise RuntimeError("the frame was never painted")


def summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"median": statistics.median(ordered), "p95": p95, "n": len(ordered)}


def ms(value: float) -> str:
    """Milliseconds with enough digits: 2 decimals from 1 ms up, 3 significant below (a
    path-step of a few microseconds reads 0.00312, not 0.00)."""
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3g}"


def row(metric: str, stats: dict[str, float], target: str = "", note: str = "", *,
        reference: dict[str, float] | None = None, reference_name: str = "",
        is_reference: bool = False) -> str:
    """One printed line of results; also kept for run.py's table when BENCH_RECORD names a
    file (one JSON object a line).

    ``reference`` is the stats dict (as ``summary`` returns) of the reference measured in the
    same run that this row of ours compares with, ``reference_name`` its name: the record then
    carries ``reference``, ``reference_median``, ``reference_p95`` and ``ratio`` (ours median /
    reference median; below 1 when ours is faster). ``is_reference`` marks the reference's own
    row (run.py leaves it out of its table, where it is carried by the rows of ours)."""
    ratio = None
    if reference is not None:
        ratio = stats["median"] / reference["median"] if reference["median"] else float("inf")
    record = os.environ.get("BENCH_RECORD")
    if record:
        import json

        entry = {"script": os.path.basename(sys.argv[0]), "metric": metric,
                 "median": stats["median"], "p95": stats["p95"], "n": stats["n"],
                 "target": target, "note": note}
        if reference is not None:
            entry |= {"reference": reference_name, "reference_median": reference["median"],
                      "reference_p95": reference["p95"], "ratio": ratio}
        if is_reference:
            entry["is_reference"] = True
        with open(record, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
    line = (f"{metric:<46} median {ms(stats['median']):>8} ms   p95 {ms(stats['p95']):>8} ms   "
            f"n={stats['n']:<5} {target:<14}")
    if reference is not None:
        line += (f" {ratio:.3g}x {reference_name or 'the reference'} "
                 f"({ms(reference['median'])} ms)")
    if is_reference:
        line += " (reference)"
    return f"{line} {note}".rstrip()


def _paint_counter_class():
    from PySide6 import QtCore

    class PaintCounter(QtCore.QObject):
        """Counts paint events of the widget it filters: a frame is done when one arrives."""

        def __init__(self):
            super().__init__()
            self.count = 0

        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() == QtCore.QEvent.Type.Paint:
                self.count += 1
            return False

    return PaintCounter


PaintCounter = _paint_counter_class()
