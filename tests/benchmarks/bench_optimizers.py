"""Optimizer paths on Rosenbrock, (1 - x)^2 + 100(y - x^2)^2.

(a) A race of 8 runs x 2000 steps (GD, momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW,
Newton) recomputed from a moved start, as a start dragged over the landscape asks for per
frame: the compiled fast path (numba) and the NumPy path.
(b) The cost of one path-step of Adam. Reference in the same process: torch.optim.Adam on the
same 2-variable run in float64 (skipped without torch); ours on the fast path, and on the NumPy
path with 1 and with 64 runs advancing together.
(c) The one-off ``prepare`` (compile) for Rosenbrock: in a new process with an empty numba
cache (the kernel is compiled), in a new process with the cache filled (the kernel is loaded),
and for one more expression in a process that has prepared one.

    python tests/benchmarks/bench_optimizers.py [--runs 60]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import _common  # noqa: F401  (sets the import path)
import numpy as np
from _common import row, summary

ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"
STEPS = 2000


def race(ec):
    return [ec.SGD(lr=1e-4), ec.SGD(lr=1e-4, momentum=0.9),
            ec.SGD(lr=1e-4, momentum=0.9, nesterov=True), ec.Adagrad(lr=0.5),
            ec.RMSprop(lr=1e-2), ec.Adam(lr=5e-2), ec.AdamW(lr=5e-2), ec.Newton(damping=1.0)]


def bench_race(ec, f, fast: bool, runs: int) -> list[float]:
    optimizers = race(ec)
    times = []
    for i in range(runs + 2):
        start = (-1.2 + 0.002 * i, 1.0 - 0.001 * i)  # the start moves, as in a drag
        t0 = time.perf_counter()
        ec.optimize_many(f, [ec.Run(start, o) for o in optimizers], steps=STEPS, fast=fast)
        times.append((time.perf_counter() - t0) * 1e3)
    return times[2:]  # warm-up out


def bench_ours_adam(ec, f, fast: bool, rows: int, runs: int) -> list[float]:
    """ms per path-step: ``rows`` Adam runs (learning rates spread) for STEPS steps."""
    rates = np.geomspace(1e-3, 5e-2, rows) if rows > 1 else [2e-2]
    times = []
    for i in range(runs + 1):
        start = (-1.5 + 1e-3 * i, 2.0)
        t0 = time.perf_counter()
        out = ec.optimize_many(f, [ec.Run(start, ec.Adam(lr=float(lr))) for lr in rates],
                               steps=STEPS, tol=0, fast=fast)
        times.append((time.perf_counter() - t0) * 1e3 / (rows * STEPS))
        assert all(t.steps == STEPS for t in out)
    return times[1:]


def bench_torch_adam(runs: int) -> list[float] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    times = []
    for i in range(runs + 1):
        p = torch.tensor([-1.5 + 1e-3 * i, 2.0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=2e-2)
        t0 = time.perf_counter()
        for _ in range(STEPS):
            opt.zero_grad()
            loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
            loss.backward()
            opt.step()
        times.append((time.perf_counter() - t0) * 1e3 / STEPS)
    return times[1:]


PREPARE = """
import json, time
import explorer.core as ec
from explorer.core import optimizers
f = ec.parse({text!r})
f.gradient_function(), f.hessian_function()  # what the NumPy path has done before
t0 = time.perf_counter()
import numba
t1 = time.perf_counter()
ok = optimizers.prepare(f)
t2 = time.perf_counter()
g = ec.parse("(2 - x)^2 + 50(y - x^2)^2 + x y")
g.gradient_function(), g.hessian_function()
ok2 = optimizers.prepare(g)
t3 = time.perf_counter()
print(json.dumps({{"ok": ok and ok2, "import_numba": t1 - t0, "prepare": t2 - t1,
                  "prepare_next": t3 - t2}}))
"""


def bench_prepare(cache_dir: str) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, "-c", PREPARE.format(text=ROSENBROCK)], env=env,
                         capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    runs = args.runs

    import explorer.core as ec
    from explorer.core import optimizers

    f = ec.parse(ROSENBROCK)
    f.gradient_function(), f.hessian_function()  # what the NumPy path has done before
    t0 = time.perf_counter()
    ready = optimizers.prepare(f)
    prepare_here = (time.perf_counter() - t0) * 1e3
    if not ready:
        print("the fast path is not available (is numba installed?): only NumPy is measured")

    print(f"(a) race: 8 runs x {STEPS} steps on Rosenbrock, recomputed from a moved start")
    fast = summary(bench_race(ec, f, True, runs))
    slow = summary(bench_race(ec, f, False, max(5, runs // 6)))
    print(row("race 8 x 2000, fast path", fast, "target <= 30 ms",
              reference=slow, reference_name="race 8 x 2000, NumPy path"))
    print(row("race 8 x 2000, NumPy path", slow, is_reference=True))
    print(f"{'speed-up of the fast path (median)':<46} {slow['median'] / fast['median']:8.1f}x")
    runs_ = [ec.Run((-1.2, 1.0), o) for o in race(ec)]
    quick = ec.optimize_many(f, runs_, steps=STEPS, fast=True)
    reference = ec.optimize_many(f, runs_, steps=STEPS, fast=False)
    same = max(float(np.max(np.abs(a.points - b.points))) if a.points.shape == b.points.shape
               else np.inf for a, b in zip(quick, reference, strict=True))
    print(f"{'runs (from (-1.2, 1))':<46} " + "; ".join(f"{t.optimizer.name} {t.describe()}"
                                                       for t in quick))
    print(f"{'max |fast - NumPy| over all their points':<46} {same:.3g}")

    print(f"\n(b) one path-step of Adam (2 variables, float64, {STEPS} steps a run, "
          "setup and trajectories included)")
    torch_times = bench_torch_adam(max(5, runs // 6))
    ours = {
        "ours, fast path, 1 run": bench_ours_adam(ec, f, True, 1, runs),
        "ours, fast path, 64 runs": bench_ours_adam(ec, f, True, 64, max(5, runs // 4)),
        "ours, NumPy path, 1 run": bench_ours_adam(ec, f, False, 1, max(5, runs // 6)),
        "ours, NumPy path, 64 runs": bench_ours_adam(ec, f, False, 64, max(5, runs // 6)),
    }
    # ms per path-step (a few microseconds: the rows print 3 significant digits)
    reference = summary(torch_times) if torch_times else None
    torch_name = "torch.optim.Adam, one path-step"
    if reference is None:
        print("torch.optim.Adam (reference): skipped, torch is not installed")
    for name, times in ours.items():
        target = "target >= 100x over torch" if "fast" in name else ""
        if reference is None:
            print(row(f"Adam path-step, {name}", summary(times), target, "torch not installed"))
        else:
            stats = summary(times)
            print(row(f"Adam path-step, {name}", stats, target,
                      f"{reference['median'] / stats['median']:.0f}x faster than torch",
                      reference=reference, reference_name=torch_name))
    if reference is not None:
        print(row(torch_name, reference, is_reference=True))

    print("\n(c) prepare (compile) for Rosenbrock: gradient and Hessian, and the kernel")
    print(f"{'this process (import numba, kernel, f)':<46} {prepare_here:8.0f} ms")
    with tempfile.TemporaryDirectory() as cache:
        cold = bench_prepare(cache)
        warm = bench_prepare(cache)
    for name, result in (("new process, empty numba cache", cold),
                         ("new process, numba cache filled", warm)):
        print(f"{name:<46} {result['prepare'] * 1e3:8.0f} ms   (+ import numba "
              f"{result['import_numba'] * 1e3:.0f} ms){'' if result['ok'] else '  FAILED'}")
    print(f"{'a second expression, same process':<46} {warm['prepare_next'] * 1e3:8.0f} ms")


if __name__ == "__main__":
    main()
