"""Command-line tools that need no window: ``calculus-explorer trace ...`` runs an optimizer on a
function and writes its trajectory. Qt is never imported here.

Bad arguments or input: a message on stderr saying what and where, exit status 2, and no file
written (trajectories are written whole or not at all).
"""

from __future__ import annotations

import argparse
import math
import sys


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: status 2, as ours
        self.print_usage(sys.stderr)
        raise UsageError(message)


class UsageError(Exception):
    """A bad argument or input: the message is for the user."""


def trace_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="calculus-explorer trace",
        description="Run an optimizer on FUNCTION and write its trajectory (CSV or JSON).")
    parser.add_argument("function", help="the function, e.g. '(1 - x)^2 + 100(y - x^2)^2'")
    parser.add_argument("--optimizer", required=True,
                        help="SGD, Adagrad, RMSprop, Adam, AdamW, Newton or LBFGS (any case)")
    parser.add_argument("--lr", type=float, help="the learning rate")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="another hyper-parameter, e.g. momentum=0.9, nesterov=true, "
                             "betas=0.9,0.99 (repeatable)")
    parser.add_argument("--start", required=True, help="the start, e.g. -1.5,2")
    parser.add_argument("--steps", type=int, required=True, help="steps at most")
    parser.add_argument("--tol", type=float, default=1e-10,
                        help="converged once |grad f| <= tol (default 1e-10)")
    parser.add_argument("--out", required=True, help="FILE.csv or FILE.json")
    return parser


def _value(key: str, text: str):
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        if "," in text:
            return tuple(float(v) for v in text.split(","))
        number = float(text)
    except ValueError:
        raise UsageError(f"--set {key}={text}: expected a number, true/false or numbers "
                         "separated by commas") from None
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() \
        else number


def trace(argv: list[str]) -> int:
    # "--start -1.5,2": argparse would take -1.5,2 for an option; glue it to its flag
    argv = list(argv)
    for i in range(len(argv) - 1):
        if argv[i] in ("--start", "--lr", "--tol") and argv[i + 1].startswith("-"):
            argv[i:i + 2] = [f"{argv[i]}={argv[i + 1]}", ""]
    args = trace_parser().parse_args([a for a in argv if a != ""])
    import explorer.core as ec

    try:
        f = ec.parse(args.function)
    except ec.ExpressionError as exc:
        raise UsageError(f"FUNCTION, column {exc.column}: {exc.message}") from None
    if f.parameters:
        raise UsageError(f"FUNCTION has names without values ({', '.join(f.parameters)}): "
                         "write their numbers in")
    try:
        start = tuple(float(v) for v in args.start.split(","))
    except ValueError:
        raise UsageError(f"--start {args.start}: expected numbers separated by commas") from None
    if len(start) != len(f.variables) or not all(math.isfinite(v) for v in start):
        raise UsageError(f"--start {args.start}: expected {len(f.variables)} finite numbers "
                         f"({', '.join(f.variables)})")
    if args.steps < 0 or args.steps > 1_000_000:
        raise UsageError(f"--steps {args.steps}: expected 0 to 1,000,000")
    if not (math.isfinite(args.tol) and args.tol >= 0):
        raise UsageError(f"--tol {args.tol}: expected a number >= 0")
    out = args.out
    if not out.lower().endswith((".csv", ".json")):
        raise UsageError(f"--out {out}: the file must end in .csv or .json")
    hyper = {}
    for item in args.set:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item}: expected KEY=VALUE")
        hyper[key.strip()] = _value(key.strip(), text)
    if args.lr is not None:
        hyper["lr"] = args.lr
    try:
        optimizer = ec.make_optimizer(args.optimizer, **hyper)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--optimizer {args.optimizer}: {exc}") from None
    t = ec.optimize(f, start, optimizer, steps=args.steps, tol=args.tol)
    try:
        t.to_json(out) if out.lower().endswith(".json") else t.to_csv(out)
    except OSError as exc:
        raise UsageError(f"--out {out}: {exc.strerror or exc}") from None
    point = ", ".join(f"{v:.6g}" for v in t.points[-1])
    print(f"{t.describe()}: f = {t.final_value:.6g} at ({point}); wrote {out}")
    return 0


def main(argv: list[str]) -> int:
    """Run the command named by ``argv[0]``; 2 with a message on stderr for bad input."""
    commands = {"trace": trace}
    try:
        return commands[argv[0]](argv[1:])
    except UsageError as exc:
        print(f"calculus-explorer {argv[0]}: {exc}", file=sys.stderr)
        return 2
