"""Small helpers binding widgets to the Session without echoes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from PySide6 import QtCore

from .worker import after_paint

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@contextlib.contextmanager
def signals_blocked(*objects: QtCore.QObject) -> Iterator[None]:
    """Block the Qt signals of ``objects`` while writing model values into them."""
    previous = [obj.blockSignals(True) for obj in objects]
    try:
        yield
    finally:
        for obj, was in zip(objects, previous, strict=True):
            obj.blockSignals(was)


def format_number(value: float, digits: int = 6) -> str:
    """A compact, readable number: 6 significant digits, no noise, a proper minus sign."""
    if value is None or value != value:
        return "undefined"
    if value in (float("inf"), float("-inf")):
        return "∞" if value > 0 else "−∞"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}×10{str(int(exp)).translate(_SUPERSCRIPT)}"
    if text in ("-0", "0"):
        text = "0"
    return text.replace("-", "−")


def typed_constant(text: str, name: str) -> float:
    """A number the user typed for ``name``, through the safe parser (so pi/4 and 2e-3 work).
    Raises ValueError with a message for the user."""
    import math

    from ..core.expression import ExpressionError, parse

    try:
        f = parse(text, variables=())
    except ExpressionError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if f.parameters:
        raise ValueError(f"{name} must be a number; {', '.join(f.parameters)} has no value here")
    value = float(f())
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    return value


class Throttle(QtCore.QObject):
    """Call ``callback`` at most once per ``interval_ms``: at once when calls are rare, and
    during a burst (a drag) once more at the end of each interval, so the last state always
    shows. Read-outs use it: text relaid out 100 times a second costs frames, and no one reads
    numbers that fast.

    ``after_paint``: "at once" becomes "in the next turn of the event loop, once the window
    has painted" (``worker.after_paint``). For a view that follows a result other views
    also follow: each then updates and paints in a turn of its own, instead of all in the
    result's turn (a race's result held the GUI thread 110-140 ms with the landscape, both
    race plots and the table updated together)."""

    _live: set[Throttle] = set()

    def __init__(self, callback, interval_ms: int = 50, parent: QtCore.QObject | None = None,
                 after_paint: bool = False):
        super().__init__(parent)
        self._callback = callback
        self._quiet = QtCore.QTimer(self, singleShot=True, interval=interval_ms)
        self._quiet.timeout.connect(self._end_of_interval)
        self._owed = False
        self._after_paint = after_paint
        self._queued = False

    def __call__(self, *_args) -> None:
        if self._quiet.isActive():
            self._owed = True
            Throttle._live.add(self)
            return
        if self._queued:  # the call on its way will show the latest state
            return
        if self._after_paint:
            self._queued = True
            Throttle._live.add(self)
            after_paint(self._queued_call)
            return
        self._callback()
        self._quiet.start()

    def _queued_call(self) -> None:
        if not _alive(self):  # its widget went meanwhile
            return
        self._queued = False
        Throttle._live.discard(self)
        self._callback()
        self._quiet.start()

    def _end_of_interval(self) -> None:
        Throttle._live.discard(self)
        if self._owed:
            self._owed = False
            self._callback()
            self._quiet.start()

    @classmethod
    def pending(cls) -> bool:
        """A call is owed somewhere (tests wait for it, like for the workers). A throttle
        whose widget was deleted before its interval ended owes nothing any more."""
        cls._live = {t for t in cls._live if _alive(t) and (t._quiet.isActive() or t._queued)}
        return bool(cls._live)


def _alive(obj: QtCore.QObject) -> bool:
    try:
        obj.objectName()  # raises once the C++ object is gone
    except RuntimeError:
        return False
    return True
