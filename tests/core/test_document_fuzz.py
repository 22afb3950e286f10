"""Fuzzing the session loader with Hypothesis.

Property: :func:`explorer.core.document.check_document` on any JSON value, and on a valid
session file with any field replaced by any JSON value, returns a checked document or raises
:class:`~explorer.core.session.SessionError` naming a field (a ValueError, which the app shows):
never another exception, never a hang (Hypothesis's deadline). What it returns loads into a
Session.

The default run is short enough for every test run. For a long run on demand (100,000
examples of each)::

    HYPOTHESIS_PROFILE=long python -m pytest tests/core/test_document_fuzz.py
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from explorer.core.document import check_document, migrate
from explorer.core.session import Session, SessionError

_EXAMPLES = {"long": 100_000}.get(os.environ.get("HYPOTHESIS_PROFILE", ""), 200)
FUZZ = settings(
    max_examples=_EXAMPLES,
    deadline=2_500,  # the parser's limit on SymPy work: 0.5 s of work, at most 2 s of wall time
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
    phases=[p for p in Phase if p is not Phase.explain],
    derandomize=os.environ.get("HYPOTHESIS_PROFILE") != "long",
)

V1 = json.loads((Path(__file__).parent / "data" / "session_v1.json").read_text())
VALID = migrate(V1)

scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=40)
           | st.sampled_from(["x^2", "sin(x", "__import__('os')", "9**9**9**9", "nan", "SGD",
                              "calculus-explorer-session", "regression", "Adam"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5),
                           max_leaves=25)


def paths(doc, prefix=()):
    """Every place in ``doc`` a value can be put."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from paths(v, (*prefix, i))


PLACES = [p for p in paths(VALID) if p] + [p for p in paths(V1) if p]


def check(data) -> None:
    try:
        doc = check_document(data)
    except SessionError as exc:
        assert exc.field and exc.message
        return
    Session.from_dict(doc["session"])  # what passes the check loads


@FUZZ
@given(json_values)
def test_any_json_value(value):
    check(value)


@FUZZ
@given(place=st.sampled_from(PLACES), value=json_values, old=st.booleans())
def test_a_session_file_with_one_field_replaced(place, value, old):
    doc = copy.deepcopy(V1 if old and place in set(paths(V1)) else VALID)
    target = doc
    try:
        for key in place[:-1]:
            target = target[key]
        target[place[-1]] = value
    except (KeyError, IndexError, TypeError):
        return  # the place belongs to the other version's layout
    check(doc)


@FUZZ
@given(extra=st.dictionaries(st.text(max_size=12), json_values, max_size=4))
def test_unknown_fields_are_ignored_or_named(extra):
    doc = copy.deepcopy(VALID)
    doc["session"].update(extra)
    check(doc)
