"""Run every benchmark script and print one table (and write it as JSON with --json FILE).

Each script runs in its own process (as it would alone) and reports its rows through
``_common.row``; a row whose target reads "<= N ms" gets a verdict: met when its median is at
most N. References measured in the same run (matplotlib, torch.optim, a bare Qt window) are
rows of their own, next to ours.

    python tests/benchmarks/run.py                    # every bench_*.py
    python tests/benchmarks/run.py drag landscape     # only bench_drag.py, bench_landscape.py
    python tests/benchmarks/run.py --json results.json
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


def verdict(row: dict) -> str:
    match = TARGET.search(row.get("target") or "")
    if not match:
        return ""
    return "met" if row["median"] <= float(match.group(1)) else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="names of scripts (bench_NAME.py) to run")
    parser.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per script")
    args = parser.parse_args(argv)
    scripts = sorted(glob.glob(os.path.join(HERE, "bench_*.py")))
    if args.only:
        scripts = [s for s in scripts
                   if os.path.basename(s)[len("bench_"):-len(".py")] in args.only]
    rows: list[dict] = []
    failures: list[str] = []
    for script in scripts:
        name = os.path.basename(script)
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl", delete=False) as fh:
            record = fh.name
        start = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, script], capture_output=True, text=True,
                                  timeout=args.timeout, env={**os.environ, "BENCH_RECORD": record})
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
    width = max([len(r["metric"]) for r in rows] + [10])
    print(f"{'script':<22} {'metric':<{width}} {'median ms':>10} {'p95 ms':>9}  "
          f"{'target':<16} verdict")
    for r in rows:
        print(f"{r['script']:<22} {r['metric']:<{width}} {r['median']:>10.2f} {r['p95']:>9.2f}  "
              f"{r['target'] or '':<16} {r['verdict']}")
    for failure in failures:
        print(f"FAILED {failure}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"rows": rows, "failures": failures}, fh, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
