"""Session: change events, batching, the last valid function, parameters, persistence."""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.core.expression import ExpressionError, Function
from explorer.core.session import FORMAT_VERSION, Session, SessionError

REPO = Path(__file__).resolve().parents[2]


class Recorder:
    """A subscriber that records every notification it receives."""

    def __init__(self):
        self.calls: list[tuple[Session, frozenset]] = []

    def __call__(self, session, fields):
        self.calls.append((session, frozenset(fields)))

    @property
    def fields(self) -> list[frozenset]:
        return [f for _, f in self.calls]

    def clear(self):
        self.calls.clear()


def watch(session: Session, fields=None) -> Recorder:
    rec = Recorder()
    session.connect(fields, rec)
    return rec


# --------------------------------------------------------------------------------------------
# Events only on real change


def test_each_setter_emits_its_field_once():
    s = Session("x^2")
    rec = watch(s)
    s.set_x0(1.25)
    s.set_view_range(x_range=(-2.0, 3.0))
    s.set_view_range(y_range=(-1.0, 4.0))
    s.set_option("show_tangent", False)
    s.set_expression("x^3")
    assert rec.fields == [
        {"x0"},
        {"x_range"},
        {"y_range"},
        {"show_tangent"},
        {"expression", "function"},
    ]
    assert all(session is s for session, _ in rec.calls)
    assert s.x0 == 1.25 and s.x_range == (-2.0, 3.0) and s.y_range == (-1.0, 4.0)
    assert s.show_tangent is False
    assert s.f(2.0) == 8.0


def test_setting_an_equal_value_emits_nothing():
    s = Session("a*x^2 + b")
    s.set_parameter("a", 2.0)
    s.set_parameter_range("a", -3.0, 3.0, 0.5)
    s.set_x0(1.5)
    s.set_view_range((-4.0, 4.0), (-1.0, 1.0))
    rec = watch(s)
    s.set_x0(1.5)
    s.set_x0(3 / 2)  # same float, other spelling
    s.set_parameter("a", 2)  # int equal to the float
    s.set_parameter("b", 1.0)  # the default
    s.set_parameter_range("a", -3, 3, 0.5)
    s.set_view_range((-4.0, 4.0), (-1.0, 1.0))
    s.set_view_range([-4, 4], [-1, 1])
    s.set_view_range()
    for name, value in Session.OPTION_DEFAULTS.items():
        s.set_option(name, value)
    s.set_expression("a*x^2 + b")  # same text
    with s.batch():
        s.set_x0(1.5)
    assert rec.calls == []


def test_same_function_from_other_text_changes_only_the_expression():
    s = Session("x^2")
    f = s.function
    rec = watch(s)
    s.set_expression("x**2")
    assert rec.fields == [{"expression"}]
    assert s.expression == "x**2"
    assert s.function is f


def test_subscribers_filter_by_field():
    s = Session("x^2")
    only_x0 = watch(s, "x0")
    ranges = watch(s, ["x_range", "y_range"])
    everything = watch(s, None)
    s.set_x0(2.0)
    s.set_view_range(x_range=(0.0, 1.0))
    s.set_option("show_derivative", False)
    assert only_x0.fields == [{"x0"}]
    assert ranges.fields == [{"x_range"}]
    assert everything.fields == [{"x0"}, {"x_range"}, {"show_derivative"}]


def test_disconnect():
    s = Session("x^2")
    rec = watch(s)
    s.disconnect(rec)
    s.set_x0(2.0)
    assert rec.calls == []


def test_invalid_values_raise_and_emit_nothing():
    s = Session("a*x")
    rec = watch(s)
    before = s.to_dict()
    with pytest.raises(ValueError):
        s.set_x0(math.nan)
    with pytest.raises(ValueError):
        s.set_x0("one")
    with pytest.raises(ValueError):
        s.set_view_range(x_range=(1.0, 1.0))
    with pytest.raises(ValueError):
        s.set_view_range(y_range=(0.0, math.inf))
    with pytest.raises(ValueError):
        s.set_parameter("a", math.inf)
    with pytest.raises(KeyError):
        s.set_parameter("nope", 1.0)
    with pytest.raises(ValueError):
        s.set_parameter_range("a", 1.0, 0.0, 0.1)
    with pytest.raises(ValueError):
        s.set_parameter_range("a", 0.0, 1.0, 0.0)
    with pytest.raises(KeyError):
        s.set_option("show_everything", True)
    assert rec.calls == []
    assert s.to_dict() == before


# --------------------------------------------------------------------------------------------
# batch()


def test_batch_folds_changes_into_one_notification_per_subscriber():
    s = Session("a*x + b")
    everything = watch(s)
    x0_only = watch(s, "x0")
    params_only = watch(s, "parameters")
    unrelated = watch(s, "show_second_derivative")
    with s.batch():
        s.set_x0(1.0)
        s.set_x0(2.0)
        s.set_view_range((-1.0, 1.0), (0.0, 2.0))
        s.set_option("show_tangent", False)
        s.set_parameter("a", 3.0)
        assert everything.calls == [], "nothing is emitted inside the block"
    expected = {"x0", "x_range", "y_range", "show_tangent", "parameters"}
    assert everything.fields == [expected]
    assert x0_only.fields == [expected]  # one call, carrying every changed name
    assert params_only.fields == [expected]
    assert unrelated.calls == []
    assert s.x0 == 2.0 and s.parameters == {"a": 3.0, "b": 1.0}


def test_nested_batches_emit_once_at_the_outer_end():
    s = Session("x^2")
    rec = watch(s)
    with s.batch():
        s.set_x0(1.0)
        with s.batch():
            s.set_option("show_derivative", False)
        assert rec.calls == []
        s.set_expression("x^3")
    assert rec.fields == [{"x0", "show_derivative", "expression", "function"}]


def test_empty_batch_emits_nothing():
    s = Session("x^2")
    rec = watch(s)
    with s.batch():
        pass
    with s.batch():
        s.set_x0(s.x0)
    assert rec.calls == []


def test_batch_still_notifies_when_the_block_raises():
    s = Session("x^2")
    rec = watch(s)
    with pytest.raises(RuntimeError):
        with s.batch():
            s.set_x0(3.0)
            raise RuntimeError("boom")
    assert rec.fields == [{"x0"}]
    s.set_x0(4.0)  # not stuck in batch mode
    assert rec.fields == [{"x0"}, {"x0"}]


# --------------------------------------------------------------------------------------------
# spread(): notifications handed to a caller who makes them later (a GUI's next turns)


def test_spread_notifies_each_subscriber_later_in_its_own_call():
    s = Session("a*x + b")
    queue = []
    first, x0_only, unrelated = watch(s), watch(s, "x0"), watch(s, "show_second_derivative")
    with s.spread(queue.append):
        s.restore({**s.to_dict(), "expression": "x^2", "x0": 2.0})
    # the state is there at once; nobody has heard of it yet
    assert s.expression == "x^2" and s.x0 == 2.0 and s.parameters == {}
    assert first.calls == [] and x0_only.calls == [] and s.owes()
    assert len(queue) == 2  # one call per subscriber that wants these fields
    queue.pop(0)()
    changed = {"expression", "function", "parameters", "x0"}
    assert first.fields == [changed]
    assert x0_only.calls == [] and s.owes()
    queue.pop(0)()
    assert x0_only.fields == [changed] and unrelated.calls == [] and not s.owes()


@pytest.mark.parametrize("h_inside", [True, False])
def test_spread_owes_a_subscriber_one_call_at_most(h_inside):
    """Inside the block, a second change joins the call on its way; outside it, the change is
    told at once with what was owed, and the late call finds nothing left."""
    s = Session("x^2")
    queue = []
    rec = watch(s)
    with s.spread(queue.append):
        s.set_x0(1.0)
        if h_inside:
            s.set_h(0.25)
    if not h_inside:
        s.set_h(0.25)
        assert rec.fields == [{"x0", "h"}] and not s.owes()
    assert len(queue) == 1
    queue[0]()
    assert rec.fields == [{"x0", "h"}] and not s.owes()
    queue[0]()  # a second call of the same handle owes nothing any more
    assert rec.fields == [{"x0", "h"}]


def test_spread_skips_subscribers_gone_before_their_turn():
    s = Session("x^2")
    queue = []
    rec, other = watch(s), watch(s)
    with s.spread(queue.append):
        s.set_x0(1.0)
    s.disconnect(rec)
    for call in queue:
        call()
    assert rec.calls == [] and other.fields == [{"x0"}] and not s.owes()
    with s.spread(queue.append):
        s.set_x0(2.0)
    s.disconnect_all()  # the window is closing: nothing is owed any more
    assert not s.owes()
    queue[-1]()
    assert other.fields == [{"x0"}]
    s.connect(None, rec)
    s.set_x0(3.0)  # the block has ended: at once again
    assert rec.fields == [{"x0"}]


# --------------------------------------------------------------------------------------------
# The expression, the last valid function and the error


def test_invalid_expression_keeps_the_last_valid_function():
    s = Session("x^2")
    f = s.function
    assert isinstance(f, Function) and s.error is None
    rec = watch(s)
    s.set_expression("x^")
    assert s.expression == "x^"
    assert s.function is f
    assert isinstance(s.error, ExpressionError)
    assert s.error.column == 2
    assert s.f(3.0) == 9.0
    assert rec.fields == [{"expression", "error"}]
    s.set_expression("x^")  # same again: nothing
    assert len(rec.calls) == 1
    s.set_expression("x^^")  # another error
    assert rec.fields[-1] == {"expression", "error"}
    assert s.function is f
    s.set_expression("sin(x)")  # valid again: one notification for everything
    assert rec.fields[-1] == {"expression", "error", "function"}
    assert s.error is None
    assert s.f(0.5) == pytest.approx(math.sin(0.5), rel=1e-15)


def test_back_to_an_equal_function_clears_the_error_only():
    s = Session("x^2")
    rec = watch(s)
    s.set_expression("x^")
    s.set_expression("x^2")
    assert rec.fields == [{"expression", "error"}, {"expression", "error"}]
    assert s.error is None


def test_invalid_first_expression_has_no_function():
    s = Session("sin(")
    assert s.function is None and s.f is None
    assert isinstance(s.error, ExpressionError)
    assert s.parameters == {}


def test_hostile_expression_is_only_an_error(tmp_path):
    marker = tmp_path / "pwned"
    s = Session("x^2")
    s.set_expression(f"__import__('os').system('touch {marker}')")
    assert isinstance(s.error, ExpressionError)
    assert s.f(2.0) == 4.0
    assert not marker.exists()


def test_result_handed_over_by_the_ui_thread():
    from explorer.core import parse

    s = Session("x^2")
    rec = watch(s)
    s.set_expression("x^3", function=parse("x^3"))
    assert s.f(2.0) == 8.0
    err = ExpressionError("bad", 3)
    s.set_expression("x^3 +", error=err)
    assert s.error is err and s.f(2.0) == 8.0
    assert rec.fields == [{"expression", "function"}, {"expression", "error"}]


# --------------------------------------------------------------------------------------------
# Parameters follow the function


def test_parameters_follow_the_function():
    s = Session("a*x + b")
    assert s.parameters == {"a": 1.0, "b": 1.0}
    assert set(s.parameter_ranges) == {"a", "b"}
    s.set_parameter("a", 2.5)
    assert s.f(2.0) == pytest.approx(2.5 * 2.0 + 1.0)
    rec = watch(s)
    s.set_expression("a*x + c")
    assert s.parameters == {"a": 2.5, "c": 1.0}, "kept values stay, new names start at 1.0"
    assert "c" in s.parameter_ranges
    assert len(rec.calls) == 1
    assert {"expression", "function", "parameters"} <= rec.fields[0]
    assert s.f(2.0) == pytest.approx(2.5 * 2.0 + 1.0)
    with pytest.raises(KeyError):
        s.set_parameter("b", 1.0)
    # the parameter range of a new name contains its value
    low, high, step = s.parameter_ranges["c"]
    assert low <= 1.0 <= high and step > 0


def test_a_function_without_parameters_clears_them():
    s = Session("a*x")
    s.set_parameter("a", 4.0)
    s.set_expression("x^2")
    assert s.parameters == {}
    assert s.f(3.0) == 9.0
    s.set_expression("a*x")  # a comes back at its default
    assert s.parameters == {"a": 1.0}


def test_session_f_tracks_parameter_changes():
    s = Session("a*x^2 + b*y^2")
    assert s.f(1.0, 2.0) == 5.0
    s.set_parameter("a", 3.0)
    assert s.f(1.0, 2.0) == 7.0
    s.set_parameter("b", -1.0)
    assert s.f(1.0, 2.0) == -1.0
    assert s.function.parameters == {"a": 1.0, "b": 1.0}, "the stored function keeps defaults"


# --------------------------------------------------------------------------------------------
# to_dict / from_dict


def edited_session() -> Session:
    s = Session("a*sin(x) + b")
    s.set_parameter("a", 2.5)
    s.set_parameter("b", -0.75)
    s.set_parameter_range("a", -5.0, 5.0, 0.5)
    s.set_x0(1.25)
    s.set_view_range((-3.0, 4.0), (-2.0, 2.0))
    s.set_option("show_second_derivative", True)
    s.set_option("show_tangent", False)
    return s


def test_to_dict_is_plain_json():
    d = edited_session().to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    assert d["version"] == FORMAT_VERSION
    assert d["expression"] == "a*sin(x) + b"
    assert d["parameters"] == {"a": 2.5, "b": -0.75}
    assert d["parameter_ranges"]["a"] == [-5.0, 5.0, 0.5]
    assert d["x0"] == 1.25
    assert d["x_range"] == [-3.0, 4.0] and d["y_range"] == [-2.0, 2.0]
    assert d["show_second_derivative"] is True and d["show_tangent"] is False


@pytest.mark.parametrize(
    "make", [edited_session, Session, lambda: Session("x*y")], ids=["edited", "default", "xy"]
)
def test_round_trip_through_json(make):
    s = make()
    d = s.to_dict()
    s2 = Session.from_dict(json.loads(json.dumps(d)))
    assert s2.to_dict() == d
    assert s2.function == s.function
    assert s2.error is None
    n = len(s.function.variables)
    assert s2.f(*([0.7] * n)) == s.f(*([0.7] * n))
    # the loaded session is live
    rec = watch(s2)
    s2.set_x0(-1.0)
    assert rec.fields == [{"x0"}]


def test_restore_emits_one_notification_with_what_changed():
    s = Session("x^2")
    rec = watch(s)
    target = edited_session().to_dict()
    s.restore(target)
    assert len(rec.calls) == 1
    assert {
        "expression",
        "function",
        "parameters",
        "x0",
        "x_range",
        "y_range",
        "show_tangent",
    } <= rec.fields[0]
    assert s.to_dict() == target


def test_restore_missing_keys_take_defaults():
    s = Session.from_dict({"expression": "x^3"})
    assert s.f(2.0) == 8.0
    assert s.x0 == Session().x0
    assert s.x_range == Session().x_range and s.y_range is None
    for name, value in Session.OPTION_DEFAULTS.items():
        assert getattr(s, name) is value


def test_restoring_the_same_state_emits_nothing():
    s = edited_session()
    rec = watch(s)
    s.restore(s.to_dict())
    assert rec.calls == []


def test_restore_replaces_the_state():
    s = Session("c*x")
    s.set_parameter_range("c", -2.0, 2.0, 0.1)
    target = Session("a*x").to_dict()
    s.restore(target)
    assert s.to_dict() == target


def test_round_trip_while_the_expression_is_invalid():
    s = edited_session()
    s.set_expression("a*sin(x) +")
    d = json.loads(json.dumps(s.to_dict()))
    s2 = Session.from_dict(d)
    assert s2.expression == "a*sin(x) +"
    assert s2.f(0.7) == s.f(0.7)


# --------------------------------------------------------------------------------------------
# restore() of invalid data: SessionError naming the field, nothing changed, no event

HOSTILE = "__import__('os').system('touch {marker}')"


def _valid_other() -> dict:
    """A valid session dict that differs from the one under test in every field."""
    s = Session("c*cos(x) + x y")
    s.set_parameter("c", 0.25)
    s.set_x0(-2.0)
    s.set_view_range((-1.0, 1.0), (-3.0, 3.0))
    for name, value in Session.OPTION_DEFAULTS.items():
        s.set_option(name, not value)
    return s.to_dict()


BAD = [
    # (what to put into an otherwise valid dict, the field the error must name)
    ({"format": "something-else"}, "format"),
    ({"format": ["calculus-explorer-session"]}, "format"),
    ({"version": FORMAT_VERSION + 1}, "version"),
    ({"version": 0}, "version"),
    ({"version": "1"}, "version"),
    ({"version": True}, "version"),
    ({"version": 1.0}, "version"),
    ({"expression": 42}, "expression"),
    ({"expression": None}, "expression"),
    ({"expression": "x^"}, "expression"),
    ({"expression": "sinn(x)"}, "expression"),
    ({"expression": HOSTILE}, "expression"),
    ({"expression": "9**9**9**9"}, "expression"),
    ({"expression": "x" * 100_000}, "expression"),
    ({"parameters": [1, 2]}, "parameters"),
    ({"parameters": "a=1"}, "parameters"),
    ({"parameters": {"c": "2"}}, "parameters.c"),
    ({"parameters": {"c": None}}, "parameters.c"),
    ({"parameters": {"c": True}}, "parameters.c"),
    ({"parameters": {"c": math.inf}}, "parameters.c"),
    ({"parameters": {"c": math.nan}}, "parameters.c"),
    ({"parameter_ranges": "wide"}, "parameter_ranges"),
    ({"parameter_ranges": {"c": [1.0, 0.0, 0.1]}}, "parameter_ranges.c"),
    ({"parameter_ranges": {"c": [0.0, 1.0]}}, "parameter_ranges.c"),
    ({"parameter_ranges": {"c": [0.0, 1.0, -0.1]}}, "parameter_ranges.c"),
    ({"parameter_ranges": {"c": [0.0, 1.0, 0.0]}}, "parameter_ranges.c"),
    ({"parameter_ranges": {"c": ["0", 1.0, 0.1]}}, "parameter_ranges.c"),
    ({"parameter_ranges": {"c": {"low": 0}}}, "parameter_ranges.c"),
    ({"x0": "1"}, "x0"),
    ({"x0": None}, "x0"),
    ({"x0": math.nan}, "x0"),
    ({"x0": -math.inf}, "x0"),
    ({"x0": [1.0]}, "x0"),
    ({"x_range": [1.0, 0.0]}, "x_range"),
    ({"x_range": [0.0, 0.0]}, "x_range"),
    ({"x_range": [0.0]}, "x_range"),
    ({"x_range": "ab"}, "x_range"),
    ({"x_range": None}, "x_range"),
    ({"x_range": [0.0, math.inf]}, "x_range"),
    ({"y_range": [2.0, 2.0]}, "y_range"),
    ({"y_range": 5}, "y_range"),
    ({"y_range": [0, "1"]}, "y_range"),
    ({"show_tangent": 1}, "show_tangent"),
    ({"show_derivative": "yes"}, "show_derivative"),
    ({"show_second_derivative": None}, "show_second_derivative"),
    # found by the long fuzz run: an unhashable value raised TypeError
    ({"distribution": []}, "distribution"),
    ({"distribution": {"normal": 1}}, "distribution"),
    ({"scheme": []}, "scheme"),
    ({"riemann_rule": {}}, "riemann_rule"),
]


@pytest.mark.parametrize("change, field", BAD, ids=[f"{i}-{b[1]}" for i, b in enumerate(BAD)])
def test_restore_of_invalid_data_changes_nothing(change, field, tmp_path):
    marker = tmp_path / "pwned"
    data = _valid_other()
    for key, value in change.items():
        data[key] = value.format(marker=marker) if value is HOSTILE else value
    s = edited_session()
    before = copy.deepcopy(s.to_dict())
    function, parameters = s.function, s.parameters
    rec = watch(s)
    with pytest.raises(SessionError) as info:
        s.restore(data)
    assert info.value.field == field
    assert field in str(info.value)
    assert s.to_dict() == before
    assert s.function is function and s.parameters == parameters
    assert rec.calls == []
    assert not marker.exists()
    with pytest.raises(SessionError):
        Session.from_dict(data)


@pytest.mark.parametrize("data", [None, [], "session", 42, json.dumps(Session().to_dict())])
def test_restore_of_a_non_object(data):
    s = edited_session()
    before = s.to_dict()
    rec = watch(s)
    with pytest.raises(SessionError) as info:
        s.restore(data)
    assert info.value.field == "session"
    assert s.to_dict() == before and rec.calls == []


def test_the_valid_other_dict_is_valid():
    # guards the table above: each bad dict differs from a valid one only by its bad entry
    assert Session.from_dict(_valid_other()).to_dict() == _valid_other()
    s = edited_session()
    s.restore(_valid_other())  # no error into a session with other state either
    assert s.expression == _valid_other()["expression"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"x0": 10**400}, "x0"),
        ({"parameters": {"c": 10**400}}, "parameters.c"),
        ({"x_range": [0, 10**400]}, "x_range"),
        ({"parameter_ranges": {"c": [0, 10**400, 1]}}, "parameter_ranges.c"),
    ],
)
def test_restore_of_huge_integers(change, field):
    # json.loads("1" + "0" * 400) is a Python int, too large for a float
    data = {**_valid_other(), **change}
    assert json.loads(json.dumps(data)) == data
    s = edited_session()
    before = s.to_dict()
    with pytest.raises(SessionError) as info:
        s.restore(data)
    assert info.value.field == field
    assert s.to_dict() == before


# --------------------------------------------------------------------------------------------
# Import hygiene: the session loads without SymPy, the core without Qt

QT_MODULES = ("PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "shiboken2", "pyqtgraph")


def _imported_after(code: str) -> set[str]:
    """Top-level modules in sys.modules after running ``code`` in a fresh interpreter."""
    script = (
        code
        + "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("QT_API", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_importing_the_session_does_not_import_sympy_or_qt():
    modules = _imported_after("import explorer.core.session")
    assert "explorer" in modules, "the probe must see the package"
    assert "sympy" not in modules
    assert not modules & set(QT_MODULES)


def test_importing_and_using_the_core_does_not_import_qt():
    modules = _imported_after(
        "import explorer.core as ec\n"
        "f = ec.parse('sigmoid(x) + erf(x)')\n"
        "f(0.5); f.derivative('x', 2)(0.5); ec.tangent(f, 0.5)\n"
        "s = ec.Session('a*x'); s.set_parameter('a', 2.0); s.f(1.0)\n"
        "ec.Session.from_dict(s.to_dict())\n"
    )
    assert "sympy" in modules, "the probe must really have used the core"
    assert not modules & set(QT_MODULES)


def test_importing_explorer_core_alone_is_light():
    modules = _imported_after("import explorer.core")
    assert "sympy" not in modules, "the public API is loaded lazily"
    assert not modules & set(QT_MODULES)


def test_difference_quotient_fields():
    s = Session("x^2")
    calls = []
    s.connect(("h", "scheme", "h_negative"), lambda session, fields: calls.append(fields))
    s.set_h(1e-3)
    s.set_h(1e-3)  # equal: no event
    s.set_scheme("central")
    s.set_option("h_negative", True)
    assert calls == [frozenset({"h"}), frozenset({"scheme"}), frozenset({"h_negative"})]
    assert s.signed_h == -1e-3
    with pytest.raises(ValueError):
        s.set_h(0.0)
    with pytest.raises(ValueError):
        s.set_scheme("sideways")
    again = Session.from_dict(json.loads(json.dumps(s.to_dict())))
    assert (again.h, again.scheme, again.h_negative) == (1e-3, "central", True)
    for bad in ({"h": -1}, {"h": "big"}, {"scheme": "sideways"}):
        before = s.to_dict()
        with pytest.raises(SessionError) as info:
            s.restore({**s.to_dict(), **bad})
        assert info.value.field == next(iter(bad))
        assert s.to_dict() == before


def test_taylor_fields_round_trip_and_validate():
    s = Session("sin(x)")
    events = []
    s.connect(None, lambda session, fields: events.append(fields))
    s.set_x0(1.25)
    s.set_taylor_follows_point(False)  # the centre starts where x0 is
    assert s.taylor_center == 1.25 and s.taylor_x0 == 1.25
    s.set_x0(-1.0)
    assert s.taylor_x0 == 1.25  # its own centre now
    s.set_taylor_order(12)
    s.set_taylor_tolerance(1e-6)
    s.set_option("taylor_all_orders", True)
    data = s.to_dict()
    assert (data["taylor_order"], data["taylor_center"], data["taylor_tolerance"]) == (12, 1.25, 1e-6)
    copy = Session.from_dict(json.loads(json.dumps(data)))
    assert copy.to_dict() == data
    for bad, field in (({"taylor_order": 31}, "taylor_order"), ({"taylor_order": 2.5}, "taylor_order"),
                       ({"taylor_order": True}, "taylor_order"),
                       ({"taylor_tolerance": 0}, "taylor_tolerance"),
                       ({"taylor_center": "pi"}, "taylor_center")):
        with pytest.raises(SessionError) as info:
            copy.restore({**data, **bad})
        assert info.value.field == field
        assert copy.to_dict() == data  # untouched
    with pytest.raises(ValueError):
        s.set_taylor_order(-1)
    with pytest.raises(ValueError):
        s.set_taylor_tolerance(float("nan"))


def test_integration_fields_round_trip_and_validate():
    s = Session("x^2")
    events = []
    s.connect(None, lambda session, fields: events.append(fields))
    s.set_integral_bounds(b=2.5)
    s.set_integral_bounds(a=-1.0)
    assert s.integral_bounds == (-1.0, 2.5)
    s.set_riemann_n(250)
    s.set_riemann_rule("upper")
    s.set_distribution("laplace")
    s.set_distribution_parameter("b", 0.5)
    s.set_distribution("normal")
    s.set_distribution_parameter("sigma", 2.0)
    s.set_mc_n(1_000_000)
    s.set_mc_seed(7)
    s.set_option("show_riemann", True)
    assert events == [{"integral_bounds"}] * 2 + [{"riemann_n"}, {"riemann_rule"}, {"distribution"},
                      {"distribution_parameters"}, {"distribution"}, {"distribution_parameters"},
                      {"mc_n"}, {"mc_seed"}, {"show_riemann"}]
    # each distribution keeps its own parameters
    assert s.distribution_params == {"mu": 0.0, "sigma": 2.0}
    assert s.distribution_parameters["laplace"] == {"mu": 0.0, "b": 0.5}
    data = s.to_dict()
    copy = Session.from_dict(json.loads(json.dumps(data)))
    assert copy.to_dict() == data
    for bad, field in (({"riemann_n": 0}, "riemann_n"), ({"riemann_n": 10_001}, "riemann_n"),
                       ({"riemann_n": 2.5}, "riemann_n"), ({"riemann_rule": "simpson"}, "riemann_rule"),
                       ({"integral_bounds": [0, "x"]}, "integral_bounds"),
                       ({"integral_bounds": [0]}, "integral_bounds"),
                       ({"distribution": "cauchy"}, "distribution"),
                       ({"distribution_parameters": {"normal": {"mu": 0, "sigma": -1}}},
                        "distribution_parameters.normal"),
                       ({"distribution_parameters": {"uniform": {"low": 1, "high": 1}}},
                        "distribution_parameters.uniform"),
                       ({"distribution_parameters": {"laplace": {"mu": 0}}},
                        "distribution_parameters.laplace"),
                       ({"mc_n": 5}, "mc_n"), ({"mc_seed": -1}, "mc_seed")):
        with pytest.raises(SessionError) as info:
            copy.restore({**data, **bad})
        assert info.value.field == field, bad
        assert copy.to_dict() == data  # untouched
    with pytest.raises(ValueError, match="sigma must be positive"):
        s.set_distribution_parameter("sigma", 0.0)
    with pytest.raises(KeyError, match="has no parameter 'rate'"):
        s.set_distribution_parameter("rate", 1.0)
    with pytest.raises(ValueError, match="riemann_rule"):
        s.set_riemann_rule("simpson")
    with pytest.raises(ValueError, match="riemann_n"):
        s.set_riemann_n(True)
    assert s.distribution_params == {"mu": 0.0, "sigma": 2.0}  # nothing changed


def test_landscape_fields_round_trip_and_validate():
    s = Session("x^2 + 3y^2")
    events = []
    s.connect(None, lambda session, fields: events.append(fields))
    s.set_point((1.0, -2.0))
    s.set_direction(3 * math.pi / 2)  # kept in (-pi, pi]
    assert s.direction == pytest.approx(-math.pi / 2)
    assert s.unit_direction == pytest.approx((0.0, -1.0), abs=1e-15)
    s.set_xy_range((-5, 5), (-1, 4))
    s.set_contour_count(25)
    s.set_field_density(12)
    s.set_option("log_colors", True)
    assert events == [{"point"}, {"direction"}, {"xy_range"}, {"contour_count"},
                      {"field_density"}, {"log_colors"}]
    s.set_point([1.0, -2.0])  # equal: nothing
    assert len(events) == 6
    data = s.to_dict()
    copy = Session.from_dict(json.loads(json.dumps(data)))
    assert copy.to_dict() == data
    for bad, field in (({"point": [1]}, "point"), ({"point": [0, "y"]}, "point"),
                       ({"point": [10**400, 0]}, "point"),
                       ({"xy_range": [[0, 1]]}, "xy_range"), ({"xy_range": [[1, 0], [0, 1]]}, "xy_range"),
                       ({"contour_count": 1}, "contour_count"), ({"field_density": 61}, "field_density"),
                       ({"direction": None}, "direction")):
        with pytest.raises(SessionError) as info:
            copy.restore({**data, **bad})
        assert info.value.field == field, bad
        assert copy.to_dict() == data
    with pytest.raises(ValueError, match="point"):
        s.set_point((float("nan"), 0.0))
    with pytest.raises(ValueError, match="xy_range"):
        s.set_xy_range((1, 1), (0, 1))
