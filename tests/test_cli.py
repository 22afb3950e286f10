"""The command line without a window: a trajectory written by `calculus-explorer trace` equals
the core's, bad arguments exit with 2 and a message naming what, and nothing is written."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

import explorer.core as ec
from explorer.app import main

ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"


def test_trace_writes_the_core_s_trajectory(tmp_path, capsys):
    out = tmp_path / "adam.csv"
    code = main(["trace", ROSENBROCK, "--optimizer", "adam", "--lr", "0.05", "--set",
                 "betas=0.8,0.99", "--start", "-1.5,2", "--steps", "300", "--out", str(out)])
    assert code == 0
    expected = ec.optimize(ec.parse(ROSENBROCK), (-1.5, 2.0), ec.Adam(lr=0.05, betas=(0.8, 0.99)),
                           steps=300)
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["step", "x", "y", "value", "grad_x", "grad_y"]
    np.testing.assert_array_equal(np.array(rows[1:], dtype=float)[:, 1:3], expected.points)
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(expected.describe()) and str(out) in printed


def test_trace_json_with_momentum_and_nesterov(tmp_path):
    out = tmp_path / "nesterov.json"
    assert main(["trace", "x^2 + 10y^2", "--optimizer", "SGD", "--lr", "0.01", "--set",
                 "momentum=0.9", "--set", "nesterov=true", "--start", "1,1", "--steps", "2000",
                 "--tol", "1e-8", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["optimizer"] == "SGD" and data["hyperparameters"]["nesterov"] is True
    assert data["status"] == "converged"
    expected = ec.optimize(ec.parse("x^2 + 10y^2"), (1, 1),
                           ec.SGD(lr=0.01, momentum=0.9, nesterov=True), steps=2000, tol=1e-8)
    assert data["steps"] == expected.steps


@pytest.mark.parametrize("args, what", [
    (["sin(", "--optimizer", "adam"], "FUNCTION, column"),
    (["a*x^2 + y^2", "--optimizer", "adam"], "names without values"),
    (["x^2 + y^2", "--optimizer", "adamax"], "unknown optimizer"),
    (["x^2 + y^2", "--optimizer", "adam", "--set", "learning_rate=1"], "learning_rate"),
    (["x^2 + y^2", "--optimizer", "sgd", "--set", "momentum=fast"], "--set momentum=fast"),
    (["x^2 + y^2", "--optimizer", "adam", "--lr", "-1"], "lr"),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, args, what):
    out = tmp_path / "t.csv"
    full = ["trace", *args, "--start", "1,1", "--steps", "10", "--out", str(out)]
    assert main(full) == 2
    assert what in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("start, steps, out, what", [
    ("1", "10", "t.csv", "--start 1"), ("1,x", "10", "t.csv", "--start"),
    ("1,1", "-3", "t.csv", "--steps"), ("1,1", "10", "t.txt", ".csv or .json"),
])
def test_bad_start_steps_and_file(tmp_path, capsys, start, steps, out, what):
    code = main(["trace", "x^2 + y^2", "--optimizer", "adam", "--start", start,
                 "--steps", steps, "--out", str(tmp_path / out)])
    assert code == 2 and what in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_trace_runs_without_qt(tmp_path):
    out = tmp_path / "t.json"
    code = ("import sys; from explorer.app import main; "
            f"r = main(['trace', 'x^2 + y^2', '--optimizer', 'newton', '--start', '1,2', "
            f"'--steps', '5', '--out', {str(out)!r}]); "
            "assert 'PySide6' not in sys.modules and 'pyqtgraph' not in sys.modules; sys.exit(r)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "converged at step 1" in done.stdout
    missing = subprocess.run([sys.executable, "-m", "explorer", "trace", "x^2"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "--optimizer" in missing.stderr
