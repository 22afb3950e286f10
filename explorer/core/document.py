"""A session file: the Session, the labs that keep their own state, and the view choices.

Version 2 (this one)::

    {"format": "calculus-explorer-session", "version": 2,
     "session": {... Session.to_dict() ...},
     "labs": {"jacobian": {...}, "regression": {...}},
     "view": {"labs": ["regression", ...], "surface": false}}

Version 1 (written by the first File > Save) was the Session's dictionary itself with an
optional "labs" entry beside its fields; :func:`migrate` turns it into version 2.

Everything is checked before anything is used: :func:`check_document` raises
:class:`~explorer.core.session.SessionError` naming the field (``session.point``,
``labs.regression.x[3]``, ...). No Qt here: the command line reads files with it too.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from .regression import MAX_POINTS as MAX_REGRESSION_POINTS
from .session import FORMAT_NAME, Session, SessionError

__all__ = ["DOCUMENT_VERSION", "MAX_BYTES", "LAB_NAMES", "migrate", "check_document",
           "read_document", "make_document"]

DOCUMENT_VERSION = 2
MAX_BYTES = 5_000_000  # a session with 100,000 regression points is ~4 MB
LAB_NAMES = ("expectation", "jacobian", "backprop", "regression")  # View > labs with one action
JACOBIAN_RADIUS = (0.01, 1.0)
REGRESSION_OPTIMIZERS = ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Newton")


def make_document(session: dict, labs: dict | None = None, view: dict | None = None) -> dict:
    """The current version's document around a Session's dictionary."""
    return {"format": FORMAT_NAME, "version": DOCUMENT_VERSION, "session": session,
            "labs": labs or {}, "view": view or {}}


def migrate(data: Any) -> dict:
    """``data`` of any version this app knows, as a version-2 document (a new dict); raises
    SessionError for something that is not a session or a version from the future."""
    if not isinstance(data, dict):
        raise SessionError("session", "expected a JSON object")
    if data.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise SessionError("format", f"not a Calculus Explorer session ({data.get('format')!r})")
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) \
            or not 1 <= version <= DOCUMENT_VERSION:
        raise SessionError("version", f"unsupported version {version!r} "
                                      f"(this app reads 1 to {DOCUMENT_VERSION})")
    if version == 1:  # the Session's fields at the top, the labs beside them
        session = {k: v for k, v in data.items() if k not in ("labs", "view")}
        session["version"] = 1
        data = {"format": FORMAT_NAME, "version": 2, "session": session,
                "labs": data.get("labs", {}), "view": {}}
    return dict(data)


def check_document(data: Any) -> dict:
    """A migrated, fully checked document: its session validated through
    :meth:`Session.from_dict` (the safe parser included), its labs and view checked field by
    field. Raises SessionError naming the field; never changes anything."""
    doc = migrate(data)
    session = doc.get("session")
    if not isinstance(session, dict):
        raise SessionError("session", "expected an object")
    try:
        Session.from_dict(session)
    except SessionError as exc:
        raise SessionError(f"session.{exc.field}", exc.message) from None
    labs = doc.get("labs", {})
    if not isinstance(labs, dict):
        raise SessionError("labs", "expected an object")
    unknown = set(labs) - {"jacobian", "regression"}
    if unknown:
        raise SessionError(f"labs.{sorted(unknown)[0]}", "unknown lab")
    if "jacobian" in labs:
        _check_jacobian(labs["jacobian"], "labs.jacobian")
    if "regression" in labs:
        _check_regression(labs["regression"], "labs.regression")
    view = doc.get("view", {})
    if not isinstance(view, dict):
        raise SessionError("view", "expected an object")
    shown = view.get("labs", [])
    if not isinstance(shown, list) or not all(isinstance(n, str) for n in shown):
        raise SessionError("view.labs", "expected a list of lab names")
    for name in shown:
        if name not in LAB_NAMES:
            raise SessionError("view.labs", f"unknown lab {name!r} (expected {', '.join(LAB_NAMES)})")
    if not isinstance(view.get("surface", False), bool):
        raise SessionError("view.surface", "expected true or false")
    return doc


def read_document(path: str | os.PathLike) -> dict:
    """Read, migrate and check a session file. ValueError (SessionError for a bad field) says
    what is wrong: too large, not JSON (with line and column), a field; OSError when the file
    cannot be read."""
    size = os.path.getsize(path)
    if size > MAX_BYTES:
        raise ValueError(f"the file is too large for a session ({size:,} bytes; "
                         f"at most {MAX_BYTES:,})")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        raise ValueError("not a session file: the text is not UTF-8") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line}, column {exc.colno})" if line is not None else ""
        raise ValueError(f"not a session file: the JSON cannot be read{where}") from None
    except RecursionError:
        raise ValueError("not a session file: the JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("not a session file: expected a JSON object")
    return check_document(data)


# -- the labs ------------------------------------------------------------------------------------
def _number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SessionError(field, "expected a finite number")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        raise SessionError(field, "number too large") from None
    if not math.isfinite(number):
        raise SessionError(field, "expected a finite number")
    return number


def _whole(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SessionError(field, f"expected a whole number from {low:,} to {high:,}")
    return value


def _check_jacobian(lab, where: str) -> None:
    if not isinstance(lab, dict):
        raise SessionError(where, "expected an object")
    for key in ("u", "v"):
        text = lab.get(key)
        if not isinstance(text, str) or len(text) > 1000:
            raise SessionError(f"{where}.{key}", "expected text (at most 1,000 characters)")
    point = lab.get("point")
    if not isinstance(point, list) or len(point) != 2:
        raise SessionError(f"{where}.point", "expected [x, y]")
    for c in point:
        _number(c, f"{where}.point")
    radius = _number(lab.get("radius"), f"{where}.radius")
    if not JACOBIAN_RADIUS[0] <= radius <= JACOBIAN_RADIUS[1]:
        raise SessionError(f"{where}.radius", f"expected {JACOBIAN_RADIUS[0]} to {JACOBIAN_RADIUS[1]}")


def _check_regression(lab, where: str) -> None:
    if not isinstance(lab, dict):
        raise SessionError(where, "expected an object")
    xs, ys = lab.get("x"), lab.get("y")
    for key, values in (("x", xs), ("y", ys)):
        if not isinstance(values, list) or len(values) > MAX_REGRESSION_POINTS:
            raise SessionError(f"{where}.{key}",
                               f"expected a list of up to {MAX_REGRESSION_POINTS:,} numbers")
        for i, v in enumerate(values):
            _number(v, f"{where}.{key}[{i}]")
    if len(xs) != len(ys):
        raise SessionError(f"{where}.y", f"expected as many values as x ({len(xs)}), got {len(ys)}")
    for key, default in (("w", 0.0), ("b", 0.0)):
        _number(lab.get(key, default), f"{where}.{key}")
    lr = _number(lab.get("lr", 0.05), f"{where}.lr")
    if not lr > 0:
        raise SessionError(f"{where}.lr", "expected a positive number")
    if lab.get("optimizer", "SGD") not in REGRESSION_OPTIMIZERS:
        raise SessionError(f"{where}.optimizer", f"expected one of {', '.join(REGRESSION_OPTIMIZERS)}")
    _whole(lab.get("epochs", 40), f"{where}.epochs", 1, 10_000)
    _whole(lab.get("batch_size", 0), f"{where}.batch_size", 0, MAX_REGRESSION_POINTS)
    _whole(lab.get("seed", 0), f"{where}.seed", 0, 2**32 - 1)
    if not isinstance(lab.get("scaled", False), bool):
        raise SessionError(f"{where}.scaled", "expected true or false")
