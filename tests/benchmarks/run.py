"""Run every benchmark script and print one table (and write it as JSON with --json FILE).

Each script runs in its own process (as it would alone) and reports its rows through
``_common.row``. A row of ours carries the reference it is compared with, measured in the same
run (matplotlib, torch.optim, NumPy, SymPy, a bare Qt window): the reference's median and name
and the ratio ours / reference (below 1x when ours is faster). A row whose target reads
"<= N ms" gets a verdict: met when its median is at most N. The references' own rows are kept
in the JSON (``"is_reference": true``) and shown in the table only with --references.

    python tests/benchmarks/run.py                    # every bench_*.py
    python tests/benchmarks/run.py drag landscape     # only bench_drag.py, bench_landscape.py
    python tests/benchmarks/run.py --json results.json
    python tests/benchmarks/run.py --markdown         # the table for README.md
    python tests/benchmarks/run.py drag --quick       # a few rounds: does it run? (no quoting)
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = re.compile(r"<=\s*([0-9.]+)\s*ms")
SPEED_UP = re.compile(r">=\s*([0-9.]+)\s*x")

# --quick: the smallest sensible number of rounds of each script, to check that it runs
QUICK = {
    "drag": ["--frames", "30"],
    "graph": ["--steps", "20"],
    "integral_drag": ["--frames", "30"],
    "keystroke": ["--rounds", "2"],
    "landscape": ["--frames", "30"],
    "monte_carlo": ["--runs", "2"],
    "optimizers": ["--runs", "6"],
    "race_drag": ["--frames", "12"],
    "regression_drag": ["--frames", "20"],
    "stalls": ["--rounds", "3"],
    "startup": ["--runs", "2"],
    "taylor_order": ["--presets", "3"],
}
COLUMNS = ["metric", "ours median / p95 (ms)", "reference (same run): median (ms), name",
           "ratio (ours / ref.)", "target", "verdict", "note"]


def verdict(row: dict) -> str:
    """"met" or "MISSED" for a target "<= N ms" (the median) or ">= Nx" (the speed-up over
    the row's reference, reference median / ours); "" for a row without either."""
    target = row.get("target") or ""
    match = TARGET.search(target)
    if match:
        return "met" if row["median"] <= float(match.group(1)) else "MISSED"
    match = SPEED_UP.search(target)
    if match and row.get("reference_median") and row["median"] > 0:
        return "met" if row["reference_median"] / row["median"] >= float(match.group(1)) \
            else "MISSED"
    return ""


def ms(value: float) -> str:
    """Milliseconds with enough digits (as ``_common.ms``): 0.00312, 2.41, 118.30."""
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3g}"


def cells(row: dict) -> list[str]:
    """The row's cells, in the order of COLUMNS."""
    if "reference_median" in row:
        reference = f"{ms(row['reference_median'])} {row.get('reference') or ''}".rstrip()
        ratio = f"{row['ratio']:.2g}x" if row["ratio"] < 10 else f"{row['ratio']:.0f}x"
    else:
        reference = "(reference)" if row.get("is_reference") else ""
        ratio = ""
    return [row["metric"], f"{ms(row['median'])} / {ms(row['p95'])}", reference, ratio,
            row.get("target") or "", row["verdict"], row.get("note") or ""]


def plain_table(rows: list[dict]) -> list[str]:
    table = [cells(r) for r in rows]
    widths = [max([len(c[i]) for c in table] + [len(COLUMNS[i])]) for i in range(len(COLUMNS))]
    widths[-1] = 0  # the note is last: no padding
    lines = ["  ".join(f"{h:<{w}}" for h, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    script = None
    for r, c in zip(rows, table, strict=True):
        if r["script"] != script:
            script = r["script"]
            lines.append(f"[{script}]")
        lines.append("  ".join(f"{v:<{w}}" for v, w in zip(c, widths, strict=True)).rstrip())
    return lines


def markdown_table(rows: list[dict]) -> list[str]:
    def line(values):
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    lines = [line(COLUMNS), "|" + "|".join(["---", "--:", "---", "--:", "---", "---", "---"]) + "|"]
    lines += [line(cells(r)) for r in rows]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="names of scripts (bench_NAME.py) to run")
    parser.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table as a GitHub Markdown table (for README.md)")
    parser.add_argument("--references", action="store_true",
                        help="also show the references' own rows, marked (reference)")
    parser.add_argument("--quick", action="store_true",
                        help="a few rounds of each script: checks that they run, numbers noisy")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per script")
    args = parser.parse_args(argv)
    scripts = sorted(glob.glob(os.path.join(HERE, "bench_*.py")))
    if args.only:
        known = {os.path.basename(s)[len("bench_"):-len(".py")] for s in scripts}
        unknown = sorted(set(args.only) - known)
        if unknown:
            parser.error(f"no bench_NAME.py for {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        scripts = [s for s in scripts
                   if os.path.basename(s)[len("bench_"):-len(".py")] in args.only]
    rows: list[dict] = []
    failures: list[str] = []
    for script in scripts:
        name = os.path.basename(script)
        extra = QUICK.get(name[len("bench_"):-len(".py")], []) if args.quick else []
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl", delete=False) as fh:
            record = fh.name
        start = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, script, *extra], capture_output=True,
                                  text=True, timeout=args.timeout,
                                  env={**os.environ, "BENCH_RECORD": record})
            if done.returncode != 0:
                failures.append(f"{name}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
        except subprocess.TimeoutExpired:
            failures.append(f"{name}: over {args.timeout:.0f} s")
        with open(record, encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
        os.unlink(record)
        print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    for row in rows:
        row["verdict"] = verdict(row)
    shown = [r for r in rows if args.references or not r.get("is_reference")]
    if args.quick:
        print("(--quick: a few rounds each; the numbers are not for quoting)")
    print("\n".join(markdown_table(shown) if args.markdown else plain_table(shown)))
    for failure in failures:
        print(f"FAILED {failure}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"columns": COLUMNS, "quick": args.quick, "rows": rows,
                       "failures": failures}, fh, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
