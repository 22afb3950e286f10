"""Undo, redo and the autosave, both made from snapshots of what the user set.

Once the state has settled (no change for a moment and no mouse button held, so a drag makes
one entry, on release), the window's document (explorer.core.document) is compared with the
last one: a difference becomes an undo entry named after what changed, and the document is
written to the autosave file in the user's data folder. Undo puts the earlier document back
through the same path as File > Open (``MainWindow.apply_document``).

Each running window holds a lock (QLockFile) beside its autosave file; a clean close removes
both. An autosave whose lock is stale (its process no longer runs: QLockFile checks the process
id) means the app did not close properly: the next start offers to restore it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

SETTLE_MS = 400  # a pause in typing or dragging this long ends an action
UNDO_LIMIT = 200
# The view's ranges follow panning and zooming, which is looking, not editing: an undo keeps
# the ranges as they are, and a pan alone makes no entry.
VIEW_FIELDS = ("x_range", "y_range", "xy_range")

# What an entry is called, by the first field that changed (Edit > Undo <name>).
NAMES = (
    ("expression", "Edit the function"),
    ("parameters", "Change {parameters}"),
    ("parameter_ranges", "Change a slider's range"),
    ("x0", "Move the point"),
    ("point", "Move the point"),
    ("direction", "Turn the direction u"),
    ("race_start", "Move the race's start"),
    ("race_runs", "Change the runs"),
    ("race_steps", "Change the number of steps"),
    ("integral_bounds", "Move the bounds a, b"),
    ("taylor_center", "Move the Taylor centre"),
    ("taylor_order", "Change the Taylor order"),
    ("h", "Change h"),
    ("labs.regression.x", "Edit the data"),
    ("labs.regression.y", "Edit the data"),
    ("labs.regression.w", "Move (w, b)"),
    ("labs.regression.b", "Move (w, b)"),
    ("labs.regression", "Change the regression settings"),
    ("labs.jacobian", "Change the Jacobian lab"),
)

# What an option is called in an entry: "Show the tangent", "Turn off log colours".
OPTION_NAMES = {
    "show_derivative": "f′", "show_second_derivative": "f″", "show_tangent": "the tangent",
    "show_secant": "the secant", "h_negative": "a negative h",
    "show_taylor": "the Taylor polynomial", "taylor_follows_point": "the Taylor centre's link "
    "to the point", "taylor_all_orders": "every Taylor order",
    "show_critical_points": "the critical points", "show_sign_plots": "the sign plots",
    "show_riemann": "the Riemann sum", "show_accumulation": "the accumulation F(x)",
    "log_colors": "log colours", "show_field": "the gradient field",
    "field_normalized": "arrows of one length", "show_quadratic_model": "the quadratic model",
    "show_race": "the optimizer race",
}


def _flat(doc: dict) -> dict:
    """The undoable part of a document, one level deep: session fields and lab fields."""
    out = {k: v for k, v in doc["session"].items() if k not in VIEW_FIELDS}
    for lab, fields in doc.get("labs", {}).items():
        out[f"labs.{lab}"] = fields
        for key, value in fields.items():
            out[f"labs.{lab}.{key}"] = value
    return out


def describe(before: dict, after: dict) -> str:
    """A short name for the change from ``before`` to ``after`` (documents)."""
    a, b = _flat(before), _flat(after)
    changed = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    for key, text in NAMES:
        if key in changed:
            if "{parameters}" in text:
                pa, pb = a.get("parameters", {}), b.get("parameters", {})
                names = sorted(n for n in set(pa) | set(pb) if pa.get(n) != pb.get(n))
                text = text.format(parameters=", ".join(names) or "a parameter")
            return text
    for key in sorted(changed):
        if key.startswith("labs."):
            continue
        if isinstance(b.get(key), bool):  # an option: "Show the tangent", "Hide f′"
            words = OPTION_NAMES[key]  # every boolean field is an option (a test holds it)
            return f"{'Show' if b[key] else 'Hide'} {words}" if key.startswith("show_") \
                else f"{'Turn on' if b[key] else 'Turn off'} {words}"
        return "Change " + key.replace("_", " ")
    return "Change"


class _Snapshot(QtGui.QUndoCommand):
    def __init__(self, history: History, before: tuple, after: tuple, text: str):
        super().__init__(text)
        self.history, self.before, self.after = history, before, after
        self._first = True

    def redo(self) -> None:
        if self._first:  # pushed after the change happened: nothing to do
            self._first = False
            return
        self.history._apply(self.after)

    def undo(self) -> None:
        self.history._apply(self.before)


class History(QtCore.QObject):
    """The window's undo stack and autosave. ``data_dir`` None: no autosave (scripts, tests
    that do not ask for it)."""

    autosaved = QtCore.Signal(str)  # the path written

    def __init__(self, window, data_dir: str | os.PathLike | None, parent=None):
        super().__init__(parent)
        self.window = window
        self.stack = QtGui.QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.autosave_path = (self.data_dir / f"autosave-{os.getpid()}.json"
                              if self.data_dir is not None else None)
        self._state: tuple | None = None  # the undoable part when last settled (_undoable)
        self._saved_text: str | None = None  # the whole document last autosaved
        self._applying = False
        self._label: str | None = None  # the next entry's name, if the caller gives one
        self.recording = False
        self._lock = None
        if self.autosave_path is not None:
            with contextlib.suppress(OSError):
                self.data_dir.mkdir(parents=True, exist_ok=True)
            self._lock = QtCore.QLockFile(str(self.autosave_path.with_suffix(".lock")))
            self._lock.setStaleLockTime(0)
            self._lock.tryLock(0)
        self._timer = QtCore.QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._timer.timeout.connect(self.settle)

    # -- recording ---------------------------------------------------------------------------
    def begin(self) -> None:
        """Start recording from the current state (after start-up has restored it)."""
        self.recording = True
        doc = self.window.session_document()
        self._state = self._undoable(doc)

    def touched(self, *_args) -> None:
        """Something the user can set changed: look again once it has settled."""
        if self.recording and not self._applying:
            self._timer.start()

    @contextlib.contextmanager
    def paused(self):
        """Changes made inside are not the user's (an export stepping through the Taylor
        orders, then back): no undo entry, no autosave. A change the user made just before is
        recorded first."""
        if not self.recording:
            yield
            return
        self.settle()
        self.recording = False
        try:
            yield
        finally:
            self.recording = True

    def label_next(self, text: str) -> None:
        """Name the next entry (e.g. "Open lecture.json") instead of deriving its name."""
        self._label = text

    def settle(self) -> None:
        """Record the change since the last settled state, if any, and autosave."""
        if not self.recording:
            return
        if QtWidgets.QApplication.mouseButtons() != QtCore.Qt.MouseButton.NoButton:
            self._timer.start()  # a drag in progress: one entry when it ends
            return
        doc = self.window.session_document()
        state = self._undoable(doc)
        if state != self._state:
            before = self._state
            text = self._label or describe(*self._documents(before, state))
            self._state = state
            self.stack.push(_Snapshot(self, before, state, text))
        self._label = None
        self.autosave(doc)

    def _undoable(self, doc: dict) -> tuple:
        """The undoable part of ``doc`` as ``((part, json), ...)``: the session, then each lab.

        A lab's text equal to the last state's is that same string: every entry a change left
        untouched shares one copy (100,000 regression points are ~4 MB of JSON; 200 entries of
        unrelated edits would otherwise hold 200 copies)."""
        session = {k: v for k, v in doc["session"].items() if k not in VIEW_FIELDS}
        last = dict(self._state or ())
        parts = [("session", json.dumps(session, sort_keys=True))]
        for lab, fields in sorted(doc.get("labs", {}).items()):
            text = json.dumps(fields, sort_keys=True)
            parts.append((lab, last[lab] if last.get(lab) == text else text))
        return tuple(parts)

    @staticmethod
    def _documents(before: tuple, after: tuple) -> tuple[dict, dict]:
        """Both states read back, a lab left out of both where it did not change (reading
        megabytes of data back to name an edit of the function would stall the window)."""
        a, b = dict(before), dict(after)
        docs = []
        for parts, other in ((a, b), (b, a)):
            docs.append({"session": json.loads(parts["session"]),
                         "labs": {lab: json.loads(text) for lab, text in parts.items()
                                  if lab != "session" and other.get(lab) != text}})
        return docs[0], docs[1]

    def _apply(self, state: tuple) -> None:
        from ..core.document import make_document

        parts = dict(state)
        data = make_document(json.loads(parts.pop("session")),
                             {lab: json.loads(text) for lab, text in parts.items()})
        current = self.window.session.to_dict()
        for key in VIEW_FIELDS:  # the view stays where the user is looking
            data["session"][key] = current[key]
        self._timer.stop()
        self._applying = True
        # parsed off the GUI thread (an undone function edit costs SymPy a second at worst)
        self.window.load_document(doc=data, then=self._applied, failed=self._failed)

    def _applied(self) -> None:
        self._applying = False
        self._state = self._undoable(self.window.session_document())
        self.autosave(self.window.session_document())

    def _failed(self, exc: BaseException) -> None:
        """The snapshot could not be applied: what is on screen is the state now, and the
        stack (whose index has moved) starts again from it."""
        self._applying = False
        self.stack.clear()
        self._state = self._undoable(self.window.session_document())
        self.window.statusBar().showMessage(f"Could not undo: {exc}", 8000)

    # -- autosave ----------------------------------------------------------------------------
    def autosave(self, doc: dict) -> None:
        if self.autosave_path is None:
            return
        text = json.dumps({**doc, "autosaved_at": time.time()}, allow_nan=False)
        body = json.dumps(doc, allow_nan=False)
        if body == self._saved_text:
            return
        from ..core.files import write_text

        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            write_text(self.autosave_path, text)
        except OSError as exc:  # a full disk: say so once in a while, keep working
            self.window.statusBar().showMessage(
                f"Could not autosave to {self.autosave_path}: {exc.strerror or exc}", 8000)
            return
        self._saved_text = body
        self.autosaved.emit(str(self.autosave_path))

    def close(self) -> None:
        """A clean exit: the autosave is no longer needed."""
        self._timer.stop()
        self.recording = False
        if self.autosave_path is not None:
            with contextlib.suppress(OSError):
                self.autosave_path.unlink()
            self._lock.unlock()

    def orphans(self) -> list[Path]:
        """Autosave files left by windows that did not close properly (their lock is stale),
        newest first."""
        if self.data_dir is None or not self.data_dir.is_dir():
            return []
        found = []
        for path in self.data_dir.glob("autosave-*.json"):
            if path == self.autosave_path:
                continue
            lock = QtCore.QLockFile(str(path.with_suffix(".lock")))
            lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
            if lock.tryLock(0):  # nobody holds it: its window is gone
                lock.unlock()
                try:
                    found.append((path.stat().st_mtime, path))
                except OSError:  # another window has just discarded it
                    continue
        return [path for _mtime, path in sorted(found, reverse=True)]

    def discard(self, paths) -> None:
        for path in paths:
            with contextlib.suppress(OSError):
                Path(path).unlink()
