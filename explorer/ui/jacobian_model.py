"""JacobianModel: the state of the Jacobian lab, a map F(x, y) = (u(x, y), v(x, y)) typed as two
expressions, a point p and the radius r of a small circle around it; and what the lab computes
from them (F(p), J(p), the circle's image and the ellipse J predicts).

The app's ``Session`` is not extended for this lab in this change: the lab's state lives here,
is not saved with the session, and starts from the defaults each time the app starts. The texts
are parsed with the safe parser (``explorer.core.parse``) only, and only once the lab is first
shown (``ensure_parsed``), so SymPy is not imported on the GUI thread at start-up.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore

from ..core.document import JACOBIAN_RADIUS

DEFAULT_U, DEFAULT_V = "x^2 - y^2", "2 x y"  # the complex square z -> z²
DEFAULT_POINT = (1.0, 0.5)
DEFAULT_RADIUS = 0.25
RADIUS_RANGE = JACOBIAN_RADIUS  # the session file checks against the same range
CIRCLE_SAMPLES = 720  # points on the circle (the shoelace area is then within 1.3e-5 of π r²)

PRESETS = (  # (name, u, v)
    ("linear map (2x + y, x + 3y)", "2x + y", "x + 3y"),
    ("rotation-scaling (x − y, x + y)", "x - y", "x + y"),
    ("complex square z²", "x^2 - y^2", "2 x y"),
    ("polar to Cartesian (r, θ) → (x, y)", "x cos(y)", "x sin(y)"),
    ("shear (x + y, y)", "x + y", "y"),
    ("fold (x, y²)", "x", "y^2"),
    ("complex exponential eᶻ", "exp(x) cos(y)", "exp(x) sin(y)"),
)


def unit_circle(n: int = CIRCLE_SAMPLES) -> np.ndarray:
    """(n + 1, 2) points on the unit circle, counter-clockwise, the first repeated last."""
    t = np.linspace(0.0, 2.0 * math.pi, n + 1)
    t[-1] = 0.0  # closed exactly
    return np.column_stack([np.cos(t), np.sin(t)])


def shoelace_area(xs, ys) -> float:
    """The signed area of the closed polygon (xs, ys) (positive counter-clockwise)."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    return 0.5 * float(np.sum(xs * np.roll(ys, -1) - np.roll(xs, -1) * ys))


class JacobianModel(QtCore.QObject):
    """``changed`` whenever the map, the point or r changes. Attributes: ``u_text``,
    ``v_text``, ``u``, ``v`` (the last valid Functions of (x, y), or None before the first
    parse), ``u_error``, ``v_error`` (ExpressionError of the current text, or None), ``point``,
    ``radius``."""

    changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.u_text, self.v_text = DEFAULT_U, DEFAULT_V
        self.u = self.v = None
        self.u_error = self.v_error = None
        self.point = DEFAULT_POINT
        self.radius = DEFAULT_RADIUS
        self._circle = unit_circle()

    # -- state ---------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self.u is not None and self.v is not None

    def ensure_parsed(self) -> None:
        """Parse the texts if nothing was parsed yet (the lab's first showing)."""
        if not self.ready:
            self._parse(self.u_text, self.v_text)
            self.changed.emit()

    def set_texts(self, u_text: str | None = None, v_text: str | None = None) -> None:
        """New text(s) for u and/or v. A text with an error keeps the last valid function
        (``u_error``/``v_error`` say what is wrong, and where)."""
        u_text = self.u_text if u_text is None else u_text
        v_text = self.v_text if v_text is None else v_text
        if (u_text, v_text) == (self.u_text, self.v_text) and self.ready:
            return
        self._parse(u_text, v_text)
        self.changed.emit()

    def _parse(self, u_text: str, v_text: str) -> None:
        from ..core.expression import ExpressionError, parse

        self.u_text, self.v_text = u_text, v_text
        for name, text in (("u", u_text), ("v", v_text)):
            try:
                function = parse(text, variables=("x", "y"))
            except ExpressionError as exc:
                setattr(self, f"{name}_error", exc)
                continue
            setattr(self, f"{name}_error", None)
            setattr(self, name, function)

    def set_point(self, point) -> None:
        p = (float(point[0]), float(point[1]))
        if p != self.point and all(math.isfinite(c) for c in p):
            self.point = p
            self.changed.emit()

    def set_radius(self, r: float) -> None:
        r = min(max(float(r), RADIUS_RANGE[0]), RADIUS_RANGE[1])
        if r != self.radius:
            self.radius = r
            self.changed.emit()

    # -- kept between runs ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain data: the texts as typed, the point and the radius."""
        return {"u": self.u_text, "v": self.v_text, "point": list(self.point),
                "radius": self.radius}

    def restore(self, data) -> bool:
        """Take texts, point and radius from :meth:`to_dict` output, all or nothing; the texts
        are parsed when the lab is first shown (a typo comes back with its error, as typed).
        Returns False, changing nothing, for anything malformed."""
        try:
            u_text, v_text = data["u"], data["v"]
            point = tuple(float(c) for c in data["point"])
            radius = float(data["radius"])
        except (KeyError, TypeError, ValueError, OverflowError):
            return False
        if not (isinstance(u_text, str) and isinstance(v_text, str) and len(point) == 2
                and len(u_text) <= 1000 and len(v_text) <= 1000
                and all(math.isfinite(c) for c in point)
                and RADIUS_RANGE[0] <= radius <= RADIUS_RANGE[1]):
            return False
        if (u_text, v_text, point, radius) == (self.u_text, self.v_text, tuple(self.point),
                                               self.radius):
            return True  # the same (an undo of another change): nothing is parsed again
        self.u_text, self.v_text = u_text, v_text
        self.u = self.v = None  # parsed on the next showing
        self.u_error = self.v_error = None
        self.point, self.radius = point, radius
        self.changed.emit()
        return True

    # -- what follows from it ------------------------------------------------------------------
    def evaluate(self, xs, ys) -> tuple[np.ndarray, np.ndarray]:
        """F at the points (xs, ys): (u, v) arrays (NaN where undefined)."""
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        us = np.broadcast_to(np.asarray(self.u(xs, ys), dtype=float), xs.shape)
        vs = np.broadcast_to(np.asarray(self.v(xs, ys), dtype=float), xs.shape)
        return us, vs

    def value(self) -> np.ndarray:
        us, vs = self.evaluate(np.array([self.point[0]]), np.array([self.point[1]]))
        return np.array([us[0], vs[0]])

    def jacobian(self) -> np.ndarray:
        from ..core.multivariate import jacobian

        return jacobian((self.u, self.v), self.point)

    def circle(self) -> np.ndarray:
        """(n + 1, 2) points of the circle of radius r around p, closed."""
        return np.asarray(self.point) + self.radius * self._circle

    def circle_image(self) -> np.ndarray:
        """F of the circle's points, (n + 1, 2)."""
        c = self.circle()
        return np.column_stack(self.evaluate(c[:, 0], c[:, 1]))

    def predicted_ellipse(self) -> np.ndarray:
        """F(p) + J(p)·(c − p) for the circle's points c: the linear approximation's image."""
        return self.value() + (self.radius * self._circle) @ self.jacobian().T

    def deviation(self) -> float:
        """max over the circle of |F(c) − (F(p) + J(p)(c − p))|: O(r²) for a smooth map."""
        d = self.circle_image() - self.predicted_ellipse()
        return float(np.max(np.hypot(d[:, 0], d[:, 1])))

    def area_ratio(self) -> float:
        """|area of the circle's image| / (π r²) (shoelace), the measured |det J|."""
        image = self.circle_image()[:-1]
        return abs(shoelace_area(image[:, 0], image[:, 1])) / (math.pi * self.radius ** 2)
