"""Session: every input the user can change, with change events. Pure Python, no Qt.

Views and panels subscribe with :meth:`Session.connect` and keep no state of their own. A field
emits only when its value really changes, and :meth:`Session.batch` folds a bulk change into a
single notification per subscriber.

The parsed :class:`~explorer.core.expression.Function` is derived state: the session holds the
last *valid* one beside the text as typed, so a typo never blanks the views.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterable
from typing import Any

from .race import DEFAULT_RUNS, MAX_RUNS, MAX_STEPS, RunSpec, run_from_data

__all__ = ["Session", "SessionError", "FORMAT_VERSION", "DEFAULT_EXPRESSION"]

FORMAT_NAME = "calculus-explorer-session"
FORMAT_VERSION = 1
DEFAULT_EXPRESSION = "sin(x)*exp(-x^2/5)"
DEFAULT_RANGE = (-1.0, 3.0, 0.01)  # slider range and step of a new parameter
SCHEMES = ("forward", "backward", "central")  # difference quotients
MAX_TAYLOR_ORDER = 30  # the same bound as explorer.core.calculus (which loads SymPy)
RULES = ("left", "right", "midpoint", "trapezoid", "lower", "upper")  # as explorer.core.integration
MAX_RIEMANN_N = 10_000
MC_N_RANGE = (10, 1_000_000)
CONTOUR_COUNT_RANGE = (2, 60)
FIELD_DENSITY_RANGE = (5, 60)
# Each distribution keeps its own parameters, so switching away and back loses nothing.
DISTRIBUTION_DEFAULTS = {"normal": {"mu": 0.0, "sigma": 1.0},
                         "uniform": {"low": -1.0, "high": 1.0},
                         "exponential": {"rate": 1.0},
                         "laplace": {"mu": 0.0, "b": 1.0}}

Callback = Callable[["Session", frozenset], None]


class SessionError(ValueError):
    """A session dictionary or file is invalid; ``field`` names the offending entry."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Session:
    """All user-facing state of one exploration.

    Fields (each emits its own name when it changes): ``expression``, ``function``, ``error``,
    ``parameters``, ``parameter_ranges``, ``x0``, ``h``, ``scheme``, ``x_range``, ``y_range``,
    ``taylor_order``, ``taylor_center``, ``taylor_tolerance``, and the options
    ``show_derivative``, ``show_second_derivative``, ``show_tangent``, ``show_secant``,
    ``h_negative``, ``show_taylor``, ``taylor_follows_point`` (the Taylor centre is x0),
    ``taylor_all_orders`` (orders 1..n drawn faintly), ``show_critical_points``,
    ``show_sign_plots`` (f' and f'' under the curve).

    Integration: ``integral_bounds`` (a, b), ``riemann_n``, ``riemann_rule``, the options
    ``show_riemann`` (the sum's boxes and the bounds on the curve) and ``show_accumulation``
    (F(x) under the curve, the area from a to x0 shaded); expectations: ``distribution``,
    ``distribution_parameters`` (per distribution), ``mc_n``, ``mc_seed``.

    Functions of x and y: ``point`` (x, y), ``direction`` (the angle of the unit vector u, in
    radians), ``xy_range`` ((x0, x1), (y0, y1)), ``contour_count``, ``field_density``, and the
    options ``log_colors``, ``show_field``, ``field_normalized``, ``show_quadratic_model``.

    The optimizer race on f(x, y): ``race_start`` (x, y), ``race_runs`` (a tuple of
    :class:`~explorer.core.race.RunSpec`), ``race_steps``, ``race_tol``, and the option
    ``show_race`` (the paths drawn on the landscape and the surface).
    """

    OPTION_DEFAULTS = {"show_derivative": True, "show_second_derivative": False,
                       "show_tangent": True, "show_secant": False, "h_negative": False,
                       "show_taylor": False, "taylor_follows_point": True,
                       "taylor_all_orders": False, "show_critical_points": True,
                       "show_sign_plots": False, "show_riemann": False,
                       "show_accumulation": False, "log_colors": False, "show_field": True,
                       "field_normalized": True, "show_quadratic_model": False,
                       "show_race": False}
    BOOL_FIELDS = tuple(OPTION_DEFAULTS)

    def __init__(self, expression: str | None = None, *, parse_now: bool = True):
        self._subscribers: list[tuple[frozenset | None, Callback]] = []
        self._pending: set[str] | None = None
        self._batch_depth = 0
        self._call_later: Callable[[Callable[[], object]], object] | None = None  # see spread()
        self._owed: dict[Callback, frozenset] = {}  # spread notifications not yet made
        self.expression: str = expression if expression is not None else DEFAULT_EXPRESSION
        self.function = None  # last valid Function (parameters at their defaults)
        self.error = None  # ExpressionError of the current text, or None
        self.parameters: dict[str, float] = {}
        self.parameter_ranges: dict[str, tuple[float, float, float]] = {}
        self.x0: float = 0.5
        self.h: float = 0.5  # difference-quotient step (its sign is h_negative)
        self.scheme: str = "forward"  # forward | backward | central
        self.x_range: tuple[float, float] = (-5.0, 5.0)
        self.y_range: tuple[float, float] | None = None  # None: fit to the curve
        self.taylor_order: int = 3
        self.taylor_center: float = 0.0  # used when taylor_follows_point is off
        self.taylor_tolerance: float = 1e-2
        self.integral_bounds: tuple[float, float] = (0.0, 3.0)
        self.riemann_n: int = 8
        self.riemann_rule: str = "midpoint"
        self.distribution: str = "normal"
        self.distribution_parameters: dict[str, dict[str, float]] = {
            k: dict(v) for k, v in DISTRIBUTION_DEFAULTS.items()}
        self.mc_n: int = 10_000
        self.mc_seed: int = 0
        self.point: tuple[float, float] = (0.5, 0.5)
        self.direction: float = 0.0
        self.xy_range: tuple[tuple[float, float], tuple[float, float]] = ((-3.0, 3.0), (-3.0, 3.0))
        self.contour_count: int = 15
        self.field_density: int = 20
        self.race_start: tuple[float, float] = (-1.5, 2.0)
        self.race_runs: tuple = DEFAULT_RUNS
        self.race_steps: int = 500
        self.race_tol: float = 1e-10
        for name, value in self.OPTION_DEFAULTS.items():
            setattr(self, name, value)
        self._bound = None  # function with the session's parameter values, cached
        if parse_now:
            self.set_expression(self.expression)

    # -- events ------------------------------------------------------------------------------
    def connect(self, fields: str | Iterable[str] | None, callback: Callback) -> Callback:
        """Call ``callback(session, changed_fields)`` when any of ``fields`` changes.

        ``fields=None`` subscribes to every change. Returns the callback (for disconnect).
        """
        if isinstance(fields, str):
            fields = (fields,)
        self._subscribers.append((None if fields is None else frozenset(fields), callback))
        return callback

    def disconnect(self, callback: Callback) -> None:
        self._subscribers = [(f, cb) for f, cb in self._subscribers if cb is not callback]

    def disconnect_all(self) -> None:
        """No more notifications (the window that drew this session is going away)."""
        self._subscribers = []
        self._owed = {}

    @contextlib.contextmanager
    def spread(self, call_later: Callable[[Callable[[], object]], object]):
        """Notifications made inside reach each subscriber later, through ``call_later(fn)``
        (one call per subscriber, in subscription order), instead of all at once.

        A GUI passes a function that calls ``fn`` in a later turn of its event loop
        (explorer.ui.worker.InTurns): a whole new state (an undo, an opened file) then redraws
        its views over several turns, painted in between, instead of all in one long turn.
        The state itself changes at once; only the notifications wait. A subscriber already
        owed a notification gets one call for both (the fields joined), and a notification
        made meanwhile outside the block pays what it was owed with it (:meth:`owes` tells
        whether any is still on its way)."""
        previous, self._call_later = self._call_later, call_later
        try:
            yield self
        finally:
            self._call_later = previous

    def owes(self) -> bool:
        """Some subscriber has a notification from :meth:`spread` still on its way."""
        return bool(self._owed)

    def _pay(self, callback: Callback) -> None:
        fields = self._owed.pop(callback, None)
        if fields is not None and any(cb is callback for _w, cb in self._subscribers):
            callback(self, fields)

    @contextlib.contextmanager
    def batch(self):
        """Fold every change inside the block into one notification per subscriber."""
        self._batch_depth += 1
        if self._pending is None:
            self._pending = set()
        try:
            yield self
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                pending, self._pending = self._pending, None
                if pending:
                    self._emit(frozenset(pending))

    def _changed(self, *fields: str) -> None:
        if "function" in fields or "parameters" in fields:
            self._bound = None
        if self._pending is not None:
            self._pending.update(fields)
        else:
            self._emit(frozenset(fields))

    def _emit(self, fields: frozenset) -> None:
        for wanted, callback in list(self._subscribers):
            if not (wanted is None or wanted & fields):
                continue
            if self._call_later is None:
                owed = self._owed.pop(callback, None) if self._owed else None
                callback(self, fields if owed is None else fields | owed)
            elif callback in self._owed:  # a call is on its way: it brings these fields too
                self._owed[callback] |= fields
            else:
                self._owed[callback] = fields
                self._call_later(functools.partial(self._pay, callback))

    # -- the function ------------------------------------------------------------------------
    def set_expression(self, text: str, function=None, error=None) -> None:
        """Set the expression text; parse it unless ``function`` or ``error`` is given.

        The UI parses off the GUI thread and hands over the result; scripts let the session
        parse. An invalid text sets ``error`` and keeps the last valid ``function``.
        """
        if function is None and error is None:
            from .expression import ExpressionError, parse

            try:
                function = parse(text)
            except ExpressionError as exc:
                error = exc
        with self.batch():
            if text != self.expression:
                self.expression = text
                self._changed("expression")
            if error is not None:
                if _error_key(error) != _error_key(self.error):
                    self.error = error
                    self._changed("error")
                return
            if self.error is not None:
                self.error = None
                self._changed("error")
            if self.function is None or function != self.function or (
                function.variables != self.function.variables
            ):
                self.function = function
                self._changed("function")
                self._sync_parameters()

    def _sync_parameters(self) -> None:
        names = list(self.function.parameters) if self.function is not None else []
        params = {n: self.parameters.get(n, self.function.parameters[n]) for n in names}
        if params != self.parameters:
            self.parameters = params
            self._changed("parameters")
        ranges = dict(self.parameter_ranges)
        for n in names:
            if n not in ranges:
                lo, hi, step = DEFAULT_RANGE
                v = params[n]
                ranges[n] = (min(lo, v), max(hi, v), step)
        if ranges != self.parameter_ranges:
            self.parameter_ranges = ranges
            self._changed("parameter_ranges")

    @property
    def f(self):
        """The current function with the session's parameter values (None before a parse)."""
        if self.function is None:
            return None
        if self._bound is None:
            self._bound = self.function.with_parameters(**self.parameters)
        return self._bound

    @property
    def f1(self):
        """The current function when it has exactly one variable (what the curve views draw),
        else None."""
        f = self.f
        return f if f is not None and len(f.variables) == 1 else None

    # -- simple fields -----------------------------------------------------------------------
    def set_parameter(self, name: str, value: float) -> None:
        if name not in self.parameters:
            raise KeyError(f"unknown parameter {name!r}")
        value = _finite(value, name)
        if self.parameters[name] != value:
            self.parameters = {**self.parameters, name: value}
            self._changed("parameters")

    def set_parameter_range(self, name: str, low: float, high: float, step: float) -> None:
        low, high, step = (_finite(v, name) for v in (low, high, step))
        if not low < high:
            raise ValueError(f"{name}: the range needs low < high, got {low} and {high}")
        if step <= 0:
            raise ValueError(f"{name}: the step must be positive, got {step}")
        if self.parameter_ranges.get(name) != (low, high, step):
            self.parameter_ranges = {**self.parameter_ranges, name: (low, high, step)}
            self._changed("parameter_ranges")

    def set_h(self, h: float) -> None:
        """The step of the difference quotient: positive (see h_negative), at least 1e-300."""
        h = _finite(h, "h")
        if not h > 0:
            raise ValueError(f"h must be positive (its sign is a separate option), got {h}")
        if h != self.h:
            self.h = h
            self._changed("h")

    def set_scheme(self, scheme: str) -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
        if scheme != self.scheme:
            self.scheme = scheme
            self._changed("scheme")

    @property
    def signed_h(self) -> float:
        return -self.h if self.h_negative else self.h

    def set_x0(self, x0: float) -> None:
        x0 = _finite(x0, "x0")
        if x0 != self.x0:
            self.x0 = x0
            self._changed("x0")

    def set_taylor_order(self, order: int) -> None:
        if isinstance(order, bool) or not isinstance(order, (int, float)) or order != int(order):
            raise ValueError(f"taylor_order: expected a whole number, got {order!r}")
        order = int(order)
        if not 0 <= order <= MAX_TAYLOR_ORDER:
            raise ValueError(f"taylor_order: expected 0 to {MAX_TAYLOR_ORDER}, got {order}")
        if order != self.taylor_order:
            self.taylor_order = order
            self._changed("taylor_order")

    def set_taylor_center(self, center: float) -> None:
        center = _finite(center, "taylor_center")
        if center != self.taylor_center:
            self.taylor_center = center
            self._changed("taylor_center")

    def set_taylor_tolerance(self, tolerance: float) -> None:
        tolerance = _finite(tolerance, "taylor_tolerance")
        if not tolerance > 0:
            raise ValueError(f"taylor_tolerance: expected a positive number, got {tolerance}")
        if tolerance != self.taylor_tolerance:
            self.taylor_tolerance = tolerance
            self._changed("taylor_tolerance")

    def set_taylor_follows_point(self, follows: bool) -> None:
        """Share the Taylor centre with x0, or give it its own, starting where x0 is now."""
        with self.batch():
            if not follows and self.taylor_follows_point:
                self.set_taylor_center(self.x0)
            self.set_option("taylor_follows_point", follows)

    @property
    def taylor_x0(self) -> float:
        """Where the Taylor polynomial is centred: x0, or its own centre."""
        return self.x0 if self.taylor_follows_point else self.taylor_center

    # -- integration ----------------------------------------------------------------------------
    def set_integral_bounds(self, a: float | None = None, b: float | None = None) -> None:
        """The bounds of the integral; either may be given alone. a > b integrates backwards."""
        a = self.integral_bounds[0] if a is None else _finite(a, "integral_bounds.a")
        b = self.integral_bounds[1] if b is None else _finite(b, "integral_bounds.b")
        if (a, b) != self.integral_bounds:
            self.integral_bounds = (a, b)
            self._changed("integral_bounds")

    def set_riemann_n(self, n: int) -> None:
        n = _whole(n, "riemann_n", 1, MAX_RIEMANN_N)
        if n != self.riemann_n:
            self.riemann_n = n
            self._changed("riemann_n")

    def set_riemann_rule(self, rule: str) -> None:
        if rule not in RULES:
            raise ValueError(f"riemann_rule must be one of {', '.join(RULES)}, not {rule!r}")
        if rule != self.riemann_rule:
            self.riemann_rule = rule
            self._changed("riemann_rule")

    def set_distribution(self, name: str) -> None:
        if name not in DISTRIBUTION_DEFAULTS:
            raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTION_DEFAULTS)}, "
                             f"not {name!r}")
        if name != self.distribution:
            self.distribution = name
            self._changed("distribution")

    @property
    def distribution_params(self) -> dict[str, float]:
        """The parameters of the current distribution."""
        return dict(self.distribution_parameters[self.distribution])

    def set_distribution_parameter(self, name: str, value: float) -> None:
        """Set a parameter of the current distribution (its constraints are checked)."""
        current = self.distribution_parameters[self.distribution]
        if name not in current:
            raise KeyError(f"{self.distribution} has no parameter {name!r} "
                           f"(it has {', '.join(current)})")
        params = {**current, name: _finite(value, name)}
        _check_distribution(self.distribution, params)
        if params != current:
            self.distribution_parameters = {**self.distribution_parameters,
                                            self.distribution: params}
            self._changed("distribution_parameters")

    def set_mc_n(self, n: int) -> None:
        n = _whole(n, "mc_n", *MC_N_RANGE)
        if n != self.mc_n:
            self.mc_n = n
            self._changed("mc_n")

    def set_mc_seed(self, seed: int) -> None:
        seed = _whole(seed, "mc_seed", 0, 2**32 - 1)
        if seed != self.mc_seed:
            self.mc_seed = seed
            self._changed("mc_seed")

    # -- functions of x and y ---------------------------------------------------------------------
    def set_point(self, point) -> None:
        """The point on the landscape of f(x, y)."""
        point = _pair(point, "point")
        if point != self.point:
            self.point = point
            self._changed("point")

    def set_direction(self, angle: float) -> None:
        """The direction u = (cos angle, sin angle) of the directional derivative, kept in
        (-pi, pi]."""
        angle = _finite(angle, "direction")
        if not -math.pi < angle <= math.pi:  # atan2(sin, cos) moves an angle in range by an ulp
            angle = math.atan2(math.sin(angle), math.cos(angle))
        if angle != self.direction:
            self.direction = angle
            self._changed("direction")

    @property
    def unit_direction(self) -> tuple[float, float]:
        return (math.cos(self.direction), math.sin(self.direction))

    def set_xy_range(self, x_range, y_range) -> None:
        xy = (_interval(x_range, "xy_range.x"), _interval(y_range, "xy_range.y"))
        if xy != self.xy_range:
            self.xy_range = xy
            self._changed("xy_range")

    def set_contour_count(self, count: int) -> None:
        count = _whole(count, "contour_count", *CONTOUR_COUNT_RANGE)
        if count != self.contour_count:
            self.contour_count = count
            self._changed("contour_count")

    def set_field_density(self, density: int) -> None:
        density = _whole(density, "field_density", *FIELD_DENSITY_RANGE)
        if density != self.field_density:
            self.field_density = density
            self._changed("field_density")

    # -- the optimizer race ---------------------------------------------------------------------
    def set_race_start(self, point) -> None:
        point = _pair(point, "race_start")
        if point != self.race_start:
            self.race_start = point
            self._changed("race_start")

    def set_race_runs(self, runs) -> None:
        """The runs of the race (at most MAX_RUNS :class:`RunSpec`)."""
        runs = tuple(runs)
        if len(runs) > MAX_RUNS or not all(isinstance(r, RunSpec) for r in runs):
            raise ValueError(f"race_runs: expected up to {MAX_RUNS} runs")
        # validated, and in the form a saved session comes back in
        runs = tuple(run_from_data(r.to_dict(), f"race_runs[{i}]") for i, r in enumerate(runs))
        if runs != self.race_runs:
            self.race_runs = runs
            self._changed("race_runs")

    def set_race_steps(self, steps: int) -> None:
        steps = _whole(steps, "race_steps", 1, MAX_STEPS)
        if steps != self.race_steps:
            self.race_steps = steps
            self._changed("race_steps")

    def set_race_tol(self, tol: float) -> None:
        tol = _finite(tol, "race_tol")
        if not tol >= 0:
            raise ValueError(f"race_tol: expected a number >= 0, got {tol}")
        if tol != self.race_tol:
            self.race_tol = tol
            self._changed("race_tol")

    def set_view_range(self, x_range=None, y_range=None) -> None:
        with self.batch():
            if x_range is not None:
                xr = _interval(x_range, "x_range")
                if xr != self.x_range:
                    self.x_range = xr
                    self._changed("x_range")
            if y_range is not None:
                yr = _interval(y_range, "y_range")
                if yr != self.y_range:
                    self.y_range = yr
                    self._changed("y_range")

    def set_option(self, name: str, value: bool) -> None:
        if name not in self.BOOL_FIELDS:
            raise KeyError(f"unknown option {name!r}")
        value = bool(value)
        if getattr(self, name) != value:
            setattr(self, name, value)
            self._changed(name)

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready) holding everything the user set."""
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "expression": self.expression,
            **({"last_valid_expression": self.function.text}
               if self.error is not None and self.function is not None else {}),
            "parameters": dict(self.parameters),
            "parameter_ranges": {k: list(v) for k, v in self.parameter_ranges.items()},
            "x0": self.x0,
            "h": self.h,
            "scheme": self.scheme,
            "x_range": list(self.x_range),
            "y_range": None if self.y_range is None else list(self.y_range),
            "taylor_order": self.taylor_order,
            "taylor_center": self.taylor_center,
            "taylor_tolerance": self.taylor_tolerance,
            "integral_bounds": list(self.integral_bounds),
            "riemann_n": self.riemann_n,
            "riemann_rule": self.riemann_rule,
            "distribution": self.distribution,
            "distribution_parameters": {k: dict(v) for k, v in self.distribution_parameters.items()},
            "mc_n": self.mc_n,
            "mc_seed": self.mc_seed,
            "point": list(self.point),
            "direction": self.direction,
            "xy_range": [list(self.xy_range[0]), list(self.xy_range[1])],
            "contour_count": self.contour_count,
            "field_density": self.field_density,
            "race_start": list(self.race_start),
            "race_runs": [r.to_dict() for r in self.race_runs],
            "race_steps": self.race_steps,
            "race_tol": self.race_tol,
            **{name: getattr(self, name) for name in self.BOOL_FIELDS},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        """A new session from :meth:`to_dict` output; raises :class:`SessionError`."""
        session = cls(parse_now=False)
        session.restore(data)
        return session

    def restore(self, data: dict[str, Any], parsed: dict | None = None) -> None:
        """Replace this session's state with ``data``, all or nothing, in one notification.

        Everything is validated first (the expression through the safe parser); on any error a
        :class:`SessionError` names the field and this session is left untouched. ``parsed``
        maps texts to Functions already parsed (off the GUI thread): those are not parsed again.
        """
        from .expression import ExpressionError
        from .expression import parse as parse_text

        def parse(text: str):
            if parsed and text in parsed:
                return parsed[text]
            return parse_text(text)

        if not isinstance(data, dict):
            raise SessionError("session", "expected a JSON object")
        if data.get("format", FORMAT_NAME) != FORMAT_NAME:
            raise SessionError("format", f"not a Calculus Explorer session ({data.get('format')!r})")
        version = data.get("version", FORMAT_VERSION)
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
            raise SessionError("version", f"unsupported version {version!r} (this app reads 1 to {FORMAT_VERSION})")
        text = data.get("expression", DEFAULT_EXPRESSION)
        if not isinstance(text, str):
            raise SessionError("expression", "expected text")
        # A session saved while the text had a typo keeps the last valid text beside it: the
        # typo comes back with its error shown, the views draw the last valid function.
        typo = None
        try:
            function = parse(text)
        except ExpressionError as exc:
            valid = data.get("last_valid_expression")
            if not isinstance(valid, str):
                raise SessionError("expression", str(exc)) from None
            try:
                function = parse(valid)
            except ExpressionError as exc2:
                raise SessionError("last_valid_expression", str(exc2)) from None
            typo = exc
        params = data.get("parameters", {})
        if not isinstance(params, dict):
            raise SessionError("parameters", "expected an object of name: number")
        params = {str(k): _field_number(v, f"parameters.{k}") for k, v in params.items()}
        ranges_in = data.get("parameter_ranges", {})
        if not isinstance(ranges_in, dict):
            raise SessionError("parameter_ranges", "expected an object of name: [low, high, step]")
        ranges = {}
        for k, v in ranges_in.items():
            where = f"parameter_ranges.{k}"
            if not isinstance(v, (list, tuple)) or len(v) != 3:
                raise SessionError(where, "expected [low, high, step]")
            lo, hi, step = (_field_number(x, where) for x in v)
            if not (lo < hi and step > 0):
                raise SessionError(where, "expected low < high and a positive step")
            ranges[str(k)] = (lo, hi, step)
        x0 = _field_number(data.get("x0", 0.5), "x0")
        h = _field_number(data.get("h", 0.5), "h")
        if not h > 0:
            raise SessionError("h", "expected a positive number")
        scheme = data.get("scheme", "forward")
        if scheme not in SCHEMES:
            raise SessionError("scheme", f"expected one of {', '.join(SCHEMES)}")
        x_range = _field_interval(data.get("x_range", (-5.0, 5.0)), "x_range")
        y_raw = data.get("y_range")
        y_range = None if y_raw is None else _field_interval(y_raw, "y_range")
        order = data.get("taylor_order", 3)
        if (isinstance(order, bool) or not isinstance(order, (int, float))
                or order != order or order not in range(MAX_TAYLOR_ORDER + 1)):
            raise SessionError("taylor_order", f"expected a whole number from 0 to {MAX_TAYLOR_ORDER}")
        center = _field_number(data.get("taylor_center", 0.0), "taylor_center")
        tolerance = _field_number(data.get("taylor_tolerance", 1e-2), "taylor_tolerance")
        if not tolerance > 0:
            raise SessionError("taylor_tolerance", "expected a positive number")
        bounds = data.get("integral_bounds", (0.0, 3.0))
        if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
            raise SessionError("integral_bounds", "expected [a, b]")
        bounds = tuple(_field_number(v, "integral_bounds") for v in bounds)
        riemann_n = _field_whole(data.get("riemann_n", 8), "riemann_n", 1, MAX_RIEMANN_N)
        rule = data.get("riemann_rule", "midpoint")
        if rule not in RULES:
            raise SessionError("riemann_rule", f"expected one of {', '.join(RULES)}")
        dist = data.get("distribution", "normal")
        if not isinstance(dist, str) or dist not in DISTRIBUTION_DEFAULTS:
            raise SessionError("distribution", f"expected one of {', '.join(DISTRIBUTION_DEFAULTS)}")
        dist_in = data.get("distribution_parameters", {})
        if not isinstance(dist_in, dict):
            raise SessionError("distribution_parameters", "expected an object per distribution")
        dist_params = {k: dict(v) for k, v in DISTRIBUTION_DEFAULTS.items()}
        for k, v in dist_in.items():
            where = f"distribution_parameters.{k}"
            if k not in DISTRIBUTION_DEFAULTS:
                raise SessionError(where, "unknown distribution")
            if not isinstance(v, dict) or set(v) != set(DISTRIBUTION_DEFAULTS[k]):
                raise SessionError(where, f"expected {', '.join(DISTRIBUTION_DEFAULTS[k])}")
            values = {n: _field_number(x, f"{where}.{n}") for n, x in v.items()}
            try:
                _check_distribution(k, values)
            except ValueError as exc:
                raise SessionError(where, str(exc)) from None
            dist_params[k] = values
        mc_n = _field_whole(data.get("mc_n", 10_000), "mc_n", *MC_N_RANGE)
        mc_seed = _field_whole(data.get("mc_seed", 0), "mc_seed", 0, 2**32 - 1)
        point = data.get("point", (0.5, 0.5))
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise SessionError("point", "expected [x, y]")
        point = tuple(_field_number(v, "point") for v in point)
        direction = _field_number(data.get("direction", 0.0), "direction")
        xy_raw = data.get("xy_range", ((-3.0, 3.0), (-3.0, 3.0)))
        if not isinstance(xy_raw, (list, tuple)) or len(xy_raw) != 2:
            raise SessionError("xy_range", "expected [[x0, x1], [y0, y1]]")
        xy_range = (_field_interval(xy_raw[0], "xy_range"), _field_interval(xy_raw[1], "xy_range"))
        contour_count = _field_whole(data.get("contour_count", 15), "contour_count",
                                     *CONTOUR_COUNT_RANGE)
        field_density = _field_whole(data.get("field_density", 20), "field_density",
                                     *FIELD_DENSITY_RANGE)
        race_start = data.get("race_start", (-1.5, 2.0))
        if not isinstance(race_start, (list, tuple)) or len(race_start) != 2:
            raise SessionError("race_start", "expected [x, y]")
        race_start = tuple(_field_number(v, "race_start") for v in race_start)
        runs_in = data.get("race_runs")
        if runs_in is None:
            race_runs = DEFAULT_RUNS
        else:
            if not isinstance(runs_in, list) or len(runs_in) > MAX_RUNS:
                raise SessionError("race_runs", f"expected a list of up to {MAX_RUNS} runs")
            race_runs = []
            for i, item in enumerate(runs_in):
                try:
                    race_runs.append(run_from_data(item, f"race_runs[{i}]"))
                except ValueError as exc:
                    field, _, message = str(exc).partition(": ")
                    raise SessionError(field, message) from None
            race_runs = tuple(race_runs)
        race_steps = _field_whole(data.get("race_steps", 500), "race_steps", 1, MAX_STEPS)
        race_tol = _field_number(data.get("race_tol", 1e-10), "race_tol")
        if race_tol < 0:
            raise SessionError("race_tol", "expected a number >= 0")
        options = {}
        for name in self.BOOL_FIELDS:
            value = data.get(name, self.OPTION_DEFAULTS[name])
            if not isinstance(value, bool):
                raise SessionError(name, "expected true or false")
            options[name] = value

        # Each field emits only if it really changes: restoring what is there emits nothing.
        new_params = {n: params.get(n, default) for n, default in function.parameters.items()}
        lo, hi, step = DEFAULT_RANGE
        new_ranges = {n: (min(lo, v), max(hi, v), step) for n, v in new_params.items()}
        new_ranges.update(ranges)
        with self.batch():
            if function != self.function or function.variables != self.function.variables:
                self.function = function
                self._changed("function")
            if new_params != self.parameters:
                self.parameters = new_params
                self._changed("parameters")
            if new_ranges != self.parameter_ranges:
                self.parameter_ranges = new_ranges
                self._changed("parameter_ranges")
            if typo is None:
                self.set_expression(text, function=function)
            else:
                self.set_expression(text, error=typo)
            self.set_x0(x0)
            self.set_h(h)
            self.set_scheme(scheme)
            self.set_taylor_order(int(order))
            self.set_taylor_center(center)
            self.set_taylor_tolerance(tolerance)
            self.set_integral_bounds(*bounds)
            self.set_riemann_n(riemann_n)
            self.set_riemann_rule(rule)
            self.set_distribution(dist)
            if dist_params != self.distribution_parameters:
                self.distribution_parameters = dist_params
                self._changed("distribution_parameters")
            self.set_mc_n(mc_n)
            self.set_mc_seed(mc_seed)
            self.set_point(point)
            self.set_direction(direction)
            self.set_xy_range(*xy_range)
            self.set_contour_count(contour_count)
            self.set_field_density(field_density)
            self.set_race_start(race_start)
            self.set_race_runs(race_runs)
            self.set_race_steps(race_steps)
            self.set_race_tol(race_tol)
            self.set_view_range(x_range, y_range)
            if y_range is None and self.y_range is not None:
                self.y_range = None
                self._changed("y_range")
            for name, value in options.items():
                self.set_option(name, value)


def _error_key(error) -> tuple | None:
    if error is None:
        return None
    return (getattr(error, "message", str(error)), getattr(error, "column", None))


def _pair(value, name: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"{name}: expected (x, y), got {value!r}")
    return (_finite(value[0], f"{name}.x"), _finite(value[1], f"{name}.y"))


def _whole(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or (
            value != int(value)):
        raise ValueError(f"{name}: expected a whole number, got {value!r}")
    value = int(value)
    if not low <= value <= high:
        raise ValueError(f"{name}: expected {low} to {high}, got {value}")
    return value


def _field_whole(value, field: str, low: int, high: int) -> int:
    try:
        return _whole(value, field, low, high)
    except ValueError as exc:
        raise SessionError(field, str(exc).split(": ", 1)[1]) from None


def _check_distribution(name: str, params: dict[str, float]) -> None:
    """The constraints of each distribution's parameters (explorer.core.integration checks the
    same when it builds one)."""
    positive = {"normal": "sigma", "exponential": "rate", "laplace": "b"}.get(name)
    if positive is not None and not params[positive] > 0:
        raise ValueError(f"{positive} must be positive, got {params[positive]}")
    if name == "uniform" and not params["low"] < params["high"]:
        raise ValueError(f"uniform needs low < high, got {params['low']} and {params['high']}")


def _finite(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    return value


def _interval(pair, name: str) -> tuple[float, float]:
    lo, hi = (_finite(v, name) for v in pair)
    if not lo < hi:
        raise ValueError(f"{name}: expected low < high, got ({lo}, {hi})")
    return (lo, hi)


def _field_number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SessionError(field, f"expected a number, got {value!r}"[:200])
    try:
        value = float(value)
    except OverflowError:  # JSON integers can have any number of digits
        raise SessionError(field, "number too large") from None
    if not math.isfinite(value):
        raise SessionError(field, "expected a finite number")
    return value


def _field_interval(value, field: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise SessionError(field, "expected [low, high]")
    lo, hi = (_field_number(v, field) for v in value)
    if not lo < hi:
        raise SessionError(field, "expected low < high")
    return (lo, hi)
