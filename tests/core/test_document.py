"""Session files (explorer.core.document): version 1 files migrate, every field of a bad file
is named, and any state the user can make survives a save and a load unchanged."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.document import (
    DOCUMENT_VERSION,
    check_document,
    make_document,
    migrate,
    read_document,
)
from explorer.core.race import DEFAULT_RUNS, RunSpec
from explorer.core.session import Session, SessionError

V1 = Path(__file__).parent / "data" / "session_v1.json"  # as File > Save wrote it in version 1


def test_a_version_1_file_migrates_with_everything_in_it():
    old = json.loads(V1.read_text())
    doc = read_document(V1)
    assert doc["version"] == DOCUMENT_VERSION == 2
    s = Session.from_dict(doc["session"])
    # the values written in the old file, read back through the new layout
    assert s.expression == old["expression"] == "a*x^2 + y^2"
    assert s.parameters == {"a": 2.5} and s.point == (1.0, -0.5) and s.race_steps == 321
    assert doc["labs"] == old["labs"]
    assert doc["view"] == {}
    assert "labs" not in doc["session"]
    # migrating does not touch the caller's data, and a migrated document is stable
    assert json.loads(V1.read_text()) == old
    assert migrate(doc) == doc


def test_a_version_2_document_round_trips_through_json():
    s = Session("sin(x) + a")
    doc = make_document(s.to_dict(), labs=json.loads(V1.read_text())["labs"],
                        view={"labs": ["regression"], "surface": True})
    back = check_document(json.loads(json.dumps(doc)))
    assert back == doc


def _bad(path: str, value):
    """A valid version-2 document with ``value`` put at ``path`` (dots and [i])."""
    doc = migrate(json.loads(V1.read_text()))
    target = doc
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return doc


@pytest.mark.parametrize("path, value, field", [
    ("session.expression", "__import__('os').system('rm -rf /')", "session.expression"),
    ("session.expression", "9**9**9**9", "session.expression"),
    ("session.point", ["a", 1], "session.point"),
    ("session.taylor_order", 31, "session.taylor_order"),
    ("session.race_runs", [{"optimizer": "Adam", "hyper": {"lr": -3}}], "session.race_runs[0].hyper"),
    ("labs.regression.x.1", "NaN", "labs.regression.x[1]"),
    ("labs.regression.y", [1.0], "labs.regression.y"),
    ("labs.regression.optimizer", "Magic", "labs.regression.optimizer"),
    ("labs.regression.epochs", 0, "labs.regression.epochs"),
    ("labs.regression.lr", -1.0, "labs.regression.lr"),
    ("labs.jacobian.radius", 7.0, "labs.jacobian.radius"),
    ("labs.jacobian.u", 5, "labs.jacobian.u"),
    ("labs.quantum", {}, "labs.quantum"),
    ("view.labs", ["regression", "tarot"], "view.labs"),
    ("view.surface", "yes", "view.surface"),
    ("version", 3, "version"),
    ("version", True, "version"),
    ("format", "another-app", "format"),
    ("session", [], "session"),
])
def test_a_bad_field_is_named(path, value, field):
    with pytest.raises(SessionError) as info:
        check_document(_bad(path, value))
    assert info.value.field == field


def test_files_that_are_not_sessions(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"version": 2,\n "session": {]')
    with pytest.raises(ValueError, match=r"line 2, column 14"):
        read_document(path)
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        read_document(path)
    path.write_text('{"pad": "' + "x" * 5_000_001 + '"}')
    with pytest.raises(ValueError, match="too large"):
        read_document(path)
    with pytest.raises(OSError):
        read_document(tmp_path / "missing.json")


# -- any state the user can make survives a save and a load ----------------------------------
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
positive = st.floats(1e-12, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def intervals(draw):
    a = draw(finite)
    return (a, a + draw(st.floats(1e-3, 1e4)))


@st.composite
def runs(draw):
    chosen = draw(st.lists(st.sampled_from(DEFAULT_RUNS), min_size=0, max_size=6))
    out = []
    for i, spec in enumerate(chosen):
        hyper = dict(spec.hyper)
        if spec.optimizer != "LBFGS":  # L-BFGS takes no learning rate
            hyper["lr"] = draw(st.floats(1e-6, 10.0))
        out.append(RunSpec(spec.optimizer, hyper, enabled=draw(st.booleans()), color=i,
                           clip=draw(st.none() | st.floats(0.01, 100.0)),
                           noise=draw(st.floats(0.0, 1.0)), seed=draw(st.integers(0, 2**31))))
    return tuple(out)


EXPRESSIONS = ("sin(x)*exp(-x^2/5)", "a*x^2 + b", "(1 - x)^2 + 100(y - x^2)^2",
               "x^2 - y^2 + k*y^4/4", "relu(x) + softplus(w*x)")


@st.composite
def sessions(draw):
    s = Session(draw(st.sampled_from(EXPRESSIONS)))
    with s.batch():
        for name in list(s.parameters):
            low, high = sorted((draw(finite), draw(finite)))
            if low < high:
                s.set_parameter_range(name, low, high, draw(st.floats(1e-4, 1.0)))
            s.set_parameter(name, draw(finite))
        s.set_x0(draw(finite))
        s.set_h(draw(positive))
        s.set_scheme(draw(st.sampled_from(("forward", "backward", "central"))))
        s.set_view_range(draw(intervals()), draw(st.none() | intervals()))
        s.set_taylor_order(draw(st.integers(0, 30)))
        s.set_taylor_center(draw(finite))
        s.set_taylor_tolerance(draw(positive))
        s.set_integral_bounds(draw(finite), draw(finite))
        s.set_riemann_n(draw(st.integers(1, 10_000)))
        s.set_riemann_rule(draw(st.sampled_from(("left", "right", "midpoint", "trapezoid",
                                                 "lower", "upper"))))
        s.set_distribution(draw(st.sampled_from(("normal", "uniform", "exponential", "laplace"))))
        s.set_mc_n(draw(st.integers(10, 1_000_000)))
        s.set_mc_seed(draw(st.integers(0, 2**32 - 1)))
        s.set_point((draw(finite), draw(finite)))
        s.set_direction(draw(st.floats(-10, 10)))
        s.set_xy_range(draw(intervals()), draw(intervals()))
        s.set_contour_count(draw(st.integers(2, 60)))
        s.set_field_density(draw(st.integers(5, 60)))
        s.set_race_start((draw(finite), draw(finite)))
        s.set_race_runs(draw(runs()))
        s.set_race_steps(draw(st.integers(1, 10_000)))
        s.set_race_tol(draw(st.floats(0.0, 1.0)))
        for name in Session.BOOL_FIELDS:
            s.set_option(name, draw(st.booleans()))
    if draw(st.booleans()):  # saved while the field held a typo: the last valid f is kept
        s.set_expression(s.expression + draw(st.sampled_from(("*(", " +", "$"))))
    return s


@st.composite
def regression_labs(draw):
    n = draw(st.integers(0, 30))
    xs = draw(st.lists(finite, min_size=n, max_size=n))
    ys = draw(st.lists(finite, min_size=n, max_size=n))
    return {"x": xs, "y": ys, "w": draw(finite), "b": draw(finite), "scaled": draw(st.booleans()),
            "optimizer": draw(st.sampled_from(("SGD", "Adam", "Newton"))),
            "lr": draw(positive), "epochs": draw(st.integers(1, 10_000)),
            "batch_size": draw(st.integers(0, 100)), "seed": draw(st.integers(0, 2**32 - 1))}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=sessions(), regression=regression_labs(),
       shown=st.lists(st.sampled_from(("expectation", "jacobian", "backprop", "regression")),
                      unique=True), surface=st.booleans())
def test_any_state_survives_a_save_and_a_load(s, regression, shown, surface):
    doc = make_document(s.to_dict(), labs={"regression": regression},
                        view={"labs": shown, "surface": surface})
    text = json.dumps(doc, allow_nan=False)  # what File > Save writes
    back = check_document(json.loads(text))
    assert back == json.loads(text)
    restored = Session.from_dict(back["session"])
    assert restored.to_dict() == s.to_dict()
    # the values themselves, not only their dictionaries
    assert restored.expression == s.expression and restored.point == s.point
    assert restored.race_runs == s.race_runs
    assert math.isclose(restored.direction, s.direction)
    # restoring into a session that holds something else gives the same state
    other = Session("cos(x)")
    other.restore(copy.deepcopy(back["session"]))
    assert other.to_dict() == s.to_dict()


def test_numbers_too_large_and_json_too_deep_are_named(tmp_path):
    with pytest.raises(SessionError) as info:
        check_document(_bad("labs.regression.w", 10**400))
    assert info.value.field == "labs.regression.w" and "too large" in info.value.message
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="nested too deeply"):
        read_document(path)
    path.write_bytes(b'{"session": "\xff\xfe"}')
    with pytest.raises(ValueError, match="not UTF-8"):
        read_document(path)
