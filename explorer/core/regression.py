"""Linear regression y_p = w x + b with the mean squared error, for the regression lab.

J(w, b) = (1/n) sum (w x_i + b - y_i)^2 is a quadratic in (w, b): with the sufficient
statistics (means of x, y, x^2, x y, y^2) it is evaluated on a whole grid without touching the
data again, so 1,000 dragged points cost the same per frame as 10. Mini-batch descent reuses the
optimizer lab's update rules.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "Stats", "least_squares", "mse_loss", "generate", "read_csv",
           "CsvError", "descend"]

MAX_POINTS = 100_000


@dataclass(frozen=True)
class Stats:
    """Means of x, y, x², x·y, y² and the count: everything J(w, b) needs."""

    n: int
    x: float
    y: float
    xx: float
    xy: float
    yy: float

    @classmethod
    def of(cls, xs, ys) -> Stats:
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        if len(xs) == 0:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return cls(len(xs), float(xs.mean()), float(ys.mean()), float((xs * xs).mean()),
                   float((xs * ys).mean()), float((ys * ys).mean()))

    def loss(self, w, b):
        """J(w, b) for scalars or arrays (broadcast): the mean of (w x + b - y)²."""
        w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
        return (w * w * self.xx + 2 * w * b * self.x + b * b - 2 * w * self.xy
                - 2 * b * self.y + self.yy)

    def gradient(self, w, b) -> np.ndarray:
        """(∂J/∂w, ∂J/∂b) = ((2/n) Σ (y_p − y) x, (2/n) Σ (y_p − y))."""
        return np.array([2 * (w * self.xx + b * self.x - self.xy),
                         2 * (w * self.x + b - self.y)])

    def optimum(self) -> tuple[float, float, float] | None:
        """(w*, b*, J*) of least squares from the statistics, or None with fewer than two
        distinct x."""
        variance = self.xx - self.x * self.x
        if self.n < 2 or not variance > 1e-12 * max(self.xx, 1e-300):
            return None
        w = (self.xy - self.x * self.y) / variance
        b = self.y - w * self.x
        return float(w), float(b), float(self.loss(w, b))

    def hessian(self) -> np.ndarray:
        return 2 * np.array([[self.xx, self.x], [self.x, 1.0]])

    def level_curves(self, levels, samples: int = 160) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """The exact contour lines of J, [(level, ws, bs)]: J is a quadratic, so each level
        set is an ellipse around the least-squares optimum, (p − p*)ᵀ (H/2) (p − p*) = c − J*.
        Empty when the data have fewer than two distinct x (no single optimum)."""
        found = self.optimum()
        if found is None:
            return []
        best, floor = np.array(found[:2]), found[2]
        a = self.hessian() / 2
        eigenvalues, vectors = np.linalg.eigh(a)
        t = np.linspace(0.0, 2 * np.pi, samples)
        circle = np.stack([np.cos(t), np.sin(t)])
        out = []
        for c in np.asarray(levels, dtype=float):
            if not c > floor:
                out.append((float(c), np.empty(0), np.empty(0)))
                continue
            d = vectors @ (np.sqrt((c - floor) / eigenvalues)[:, None] * circle)
            out.append((float(c), best[0] + d[0], best[1] + d[1]))
        return out


def least_squares(xs, ys) -> tuple[float, float]:
    """The (w, b) minimising the mean squared error (the normal equations, solved from the
    centred sums: stable when x is far from 0). ValueError with fewer than two distinct x."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError("x and y must be two lists of the same length")
    if len(xs) < 2 or np.ptp(xs) == 0:
        raise ValueError("least squares needs at least two different x values")
    mx, my = xs.mean(), ys.mean()
    dx = xs - mx
    w = float((dx * (ys - my)).sum() / (dx * dx).sum())
    return w, float(my - w * mx)


def mse_loss(xs, ys):
    """J(w, b) as a :class:`~explorer.core.expression.Function` of (w, b): the quadratic with
    the data's sufficient statistics as coefficients, so the landscape, the optimizers and the
    graph can take it like any typed function."""
    from .expression import parse

    s = Stats.of(xs, ys)
    if s.n == 0:
        raise ValueError("the loss needs at least one data point")
    text = (f"{s.xx!r}*w^2 + {2 * s.x!r}*w*b + b^2 - {2 * s.xy!r}*w - {2 * s.y!r}*b"
            f" + {s.yy!r}").replace("+ -", "- ").replace("- -", "+ ")
    return parse(text, variables=("w", "b"))


class Dataset:
    """The data points (x, y), editable; ``stats`` follows every edit."""

    def __init__(self, xs=(), ys=()):
        xs, ys = np.asarray(xs, dtype=float).ravel(), np.asarray(ys, dtype=float).ravel()
        if xs.shape != ys.shape:
            raise ValueError("x and y must have the same length")
        if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
            raise ValueError("every x and y must be a finite number")
        if len(xs) > MAX_POINTS:
            raise ValueError(f"at most {MAX_POINTS:,} points")
        self.xs, self.ys = xs.copy(), ys.copy()
        self.stats = Stats.of(self.xs, self.ys)

    def __len__(self) -> int:
        return len(self.xs)

    def _changed(self) -> None:
        self.stats = Stats.of(self.xs, self.ys)

    def add(self, x: float, y: float) -> int:
        if len(self.xs) >= MAX_POINTS:
            raise ValueError(f"at most {MAX_POINTS:,} points")
        self.xs, self.ys = np.append(self.xs, float(x)), np.append(self.ys, float(y))
        self._changed()
        return len(self.xs) - 1

    def move(self, i: int, x: float, y: float) -> None:
        self.xs[i], self.ys[i] = float(x), float(y)
        self._changed()

    def remove(self, i: int) -> None:
        self.xs, self.ys = np.delete(self.xs, i), np.delete(self.ys, i)
        self._changed()

    def scaled(self) -> tuple[Dataset, float, float]:
        """x standardised to mean 0 and standard deviation 1: (data, mean, std). The loss
        landscape over (w, b) becomes round (its Hessian diagonal), the descent direct."""
        mean = float(self.xs.mean()) if len(self) else 0.0
        std = float(self.xs.std()) if len(self) else 1.0
        std = std if std > 0 else 1.0
        return Dataset((self.xs - mean) / std, self.ys), mean, std

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["x", "y"])
        for x, y in zip(self.xs, self.ys, strict=True):
            writer.writerow([repr(float(x)), repr(float(y))])
        return out.getvalue()

    def to_csv(self, path) -> None:
        from .files import write_text

        write_text(path, self.csv_text())


class CsvError(ValueError):
    """A data file that cannot be read; ``line`` is 1-based."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line, self.message = line, message


def read_csv(text: str) -> Dataset:
    """Two columns of numbers (x, y), an optional header line, commas or semicolons or tabs;
    blank lines skipped. CsvError names the first bad line."""
    if len(text) > 20_000_000:
        raise CsvError(1, "the file is too large (over 20 MB)")
    xs, ys = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.replace(";", ",").replace("\t", ",").split(",")]
        if len(cells) < 2:
            raise CsvError(number, f"expected two columns x, y; found {line[:40]!r}")
        try:
            x, y = float(cells[0]), float(cells[1])
        except ValueError:
            if not xs and number == _first_line(text):  # a header
                continue
            raise CsvError(number, f"not a number: {line[:40]!r}") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise CsvError(number, "x and y must be finite numbers")
        xs.append(x)
        ys.append(y)
        if len(xs) > MAX_POINTS:
            raise CsvError(number, f"more than {MAX_POINTS:,} points")
    if not xs:
        raise CsvError(1, "no data: expected lines of x, y")
    return Dataset(xs, ys)


def _first_line(text: str) -> int:
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip() and not raw.strip().startswith("#"):
            return number
    return 1


def generate(n: int = 40, slope: float = 1.5, intercept: float = -0.5, noise: float = 0.5,
             seed: int = 0, x_range: tuple[float, float] = (-3.0, 3.0)) -> Dataset:
    """n points y = slope x + intercept + Gaussian noise, x uniform over ``x_range``; seeded."""
    n = int(n)
    if not 1 <= n <= MAX_POINTS:
        raise ValueError(f"n must be from 1 to {MAX_POINTS:,}")
    rng = np.random.default_rng(int(seed))
    xs = rng.uniform(*x_range, n)
    ys = slope * xs + intercept + noise * rng.standard_normal(n)
    return Dataset(xs, ys)


@dataclass
class Descent:
    """Parameters (w, b) after each update, J on the whole data there, and the epoch of each
    update (mini-batches: several updates an epoch)."""

    params: np.ndarray
    losses: np.ndarray
    epochs: np.ndarray


class Cancelled(Exception):
    """A long computation stopped at the user's request (its ``progress`` said False)."""


def descend(data: Dataset, start, optimizer, epochs: int = 50, batch_size: int | None = None,
            seed: int = 0, progress=None) -> Descent:
    """Gradient descent on J from ``start`` = (w, b) with one of the optimizer lab's
    optimizers: full batch (``batch_size`` None), or mini-batches shuffled each epoch by a
    generator seeded with ``seed`` (the same seed, the same path).

    ``progress(epochs_done, epochs)``, if given, is called after each epoch; returning False
    stops the descent with :class:`Cancelled`."""
    n = len(data)
    if n == 0:
        raise ValueError("no data to fit")
    from .optimizers import Optimizer

    if type(optimizer).step is Optimizer.step:
        raise ValueError(f"{optimizer.name} takes no single steps: choose a step-by-step optimizer")
    batch = n if batch_size is None else int(batch_size)
    if not 1 <= batch <= n:
        raise ValueError(f"the batch size must be from 1 to {n}")
    rng = np.random.default_rng(int(seed))
    x = np.asarray(start, dtype=float).reshape(1, 2)
    state = optimizer.init_state(x)
    params, epochs_of = [x[0].copy()], [0.0]
    t = 0
    with np.errstate(all="ignore"):
        for epoch in range(int(epochs)):
            order = rng.permutation(n) if batch < n else np.arange(n)
            for k in range(0, n, batch):
                idx = order[k:k + batch]
                s = Stats.of(data.xs[idx], data.ys[idx])
                g = s.gradient(x[0, 0], x[0, 1]).reshape(1, 2)
                t += 1
                if optimizer.uses_hessian:
                    state["hessian"] = s.hessian().reshape(1, 2, 2)
                x = optimizer.step(x, g, state, t, optimizer.hyperparameters.get("lr", 1.0))
                params.append(x[0].copy())
                epochs_of.append(epoch + (k + len(idx)) / n)
                if not np.all(np.isfinite(x)):
                    break
            if not np.all(np.isfinite(x)):
                break
            if progress is not None and progress(epoch + 1, int(epochs)) is False:
                raise Cancelled(f"stopped after {epoch + 1} of {int(epochs)} epochs")
    params = np.array(params)
    losses = data.stats.loss(params[:, 0], params[:, 1])
    return Descent(params, losses, np.array(epochs_of))
