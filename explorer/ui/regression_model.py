"""RegressionModel: the regression lab's data, the line's (w, b), J(w, b) over a grid around
the least-squares optimum, and gradient descent on J (full batch or mini-batches) with the
optimizer lab's optimizers.

J is quadratic in (w, b): from the data's sufficient statistics the whole 200x200 grid is a
few array operations however many points there are, so it is recomputed on the GUI thread for
every dragged point. A descent with small batches over many points runs off the GUI thread.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore

from ..core.document import REGRESSION_OPTIMIZERS
from .worker import Worker

GRID = 200
OPTIMIZER_CHOICES = REGRESSION_OPTIMIZERS  # the session file checks against the same list
DEFAULT_LR = {"SGD": 0.05, "Adagrad": 0.5, "RMSprop": 0.05, "Adam": 0.1, "AdamW": 0.1,
              "Newton": 1.0}


class RegressionModel(QtCore.QObject):
    """``data_changed`` when points change (and so J); ``params_changed`` when (w, b) move;
    ``descent_changed`` when a descent arrives or is cleared; ``cursor_changed(k)`` when the
    shown update of the descent moves.

    With ``scaled`` on, the model works with x standardised to mean 0 and standard deviation
    1: w and b are then the line's in those units, J's landscape is round, and the data view
    converts back (``line_at``)."""

    data_changed = QtCore.Signal()
    params_changed = QtCore.Signal()
    descent_changed = QtCore.Signal()
    cursor_changed = QtCore.Signal(int)
    # (epochs done, epochs) while a descent runs, from the worker's thread (queued to the GUI)
    progress = QtCore.Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        from ..core.regression import generate

        self.worker = Worker(self)
        self.data = generate(n=40, slope=1.5, intercept=-0.5, noise=0.6, seed=0)
        self.scaled = False
        self.w, self.b = 0.0, 0.0
        self.optimizer = "SGD"
        self.lr = DEFAULT_LR["SGD"]
        self.epochs = 40
        import threading

        self._stop = threading.Event()  # set: the running descent stops after its epoch
        self.batch_size = 0  # 0: the whole data (full batch)
        self.seed = 0
        self.descent = None
        self.cursor = 0
        self._grid_key = None
        self._grid = None

    # -- the data the loss sees ----------------------------------------------------------------
    def fitted_data(self):
        """The data J is computed from: as given, or with x standardised."""
        if self.scaled and len(self.data) > 1:
            scaled, _, _ = self.data.scaled()
            return scaled
        return self.data

    @property
    def stats(self):
        return self.fitted_data().stats

    def x_scale(self) -> tuple[float, float]:
        """(mean, std) x is standardised with (0, 1 without scaling)."""
        if self.scaled and len(self.data) > 1:
            _, mean, std = self.data.scaled()
            return mean, std
        return 0.0, 1.0

    def line_at(self, xs):
        """The current line's y at the data's (unscaled) xs."""
        mean, std = self.x_scale()
        return self.w * (np.asarray(xs, dtype=float) - mean) / std + self.b

    def optimum(self) -> tuple[float, float] | None:
        from ..core.regression import least_squares

        d = self.fitted_data()
        try:
            return least_squares(d.xs, d.ys)
        except ValueError:
            return None

    def loss(self, w=None, b=None) -> float:
        if len(self.data) == 0:
            return math.nan
        return float(self.stats.loss(self.w if w is None else w, self.b if b is None else b))

    def gradient(self) -> np.ndarray:
        if len(self.data) == 0:
            return np.array([math.nan, math.nan])
        return self.stats.gradient(self.w, self.b)

    def ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(w range, b range) that J's view shows: around the optimum and the current (w, b),
        wide enough for the start of a descent."""
        best = self.optimum() or (0.0, 0.0)
        ws = [best[0], self.w]
        bs = [best[1], self.b]
        if self.descent is not None:
            ws += [float(np.nanmin(self.descent.params[:, 0])),
                   float(np.nanmax(self.descent.params[:, 0]))]
            bs += [float(np.nanmin(self.descent.params[:, 1])),
                   float(np.nanmax(self.descent.params[:, 1]))]
        ws = [v for v in ws if math.isfinite(v)]
        bs = [v for v in bs if math.isfinite(v)]
        w0, w1 = min(ws), max(ws)
        b0, b1 = min(bs), max(bs)
        pad_w = max(1.0, 0.3 * (w1 - w0))
        pad_b = max(1.0, 0.3 * (b1 - b0))
        return (w0 - pad_w, w1 + pad_w), (b0 - pad_b, b1 + pad_b)

    def loss_grid(self, w_range, b_range, size: int = GRID):
        """A :class:`~explorer.core.multivariate.Grid` of J over the ranges (z[i, j] at
        ws[j], bs[i]), from the sufficient statistics: no loop over the data."""
        from ..core.multivariate import Grid

        ws = np.linspace(*w_range, size)
        bs = np.linspace(*b_range, size)
        z = self.stats.loss(ws[None, :], bs[:, None]) if len(self.data) else np.full(
            (size, size), np.nan)
        return Grid(ws, bs, np.asarray(z, dtype=float))

    # -- edits ---------------------------------------------------------------------------------
    def _data_edited(self) -> None:
        self.clear_descent()
        self.data_changed.emit()

    def add_point(self, x: float, y: float) -> int:
        i = self.data.add(x, y)
        self._data_edited()
        return i

    def move_point(self, i: int, x: float, y: float) -> None:
        self.data.move(i, x, y)
        self._data_edited()

    def remove_point(self, i: int) -> None:
        if 0 <= i < len(self.data) and len(self.data) > 1:
            self.data.remove(i)
            self._data_edited()

    def set_data(self, data) -> None:
        self.data = data
        self._data_edited()

    def set_scaled(self, scaled: bool) -> None:
        """Feature scaling on or off; (w, b) converted so that the line stays where it is."""
        scaled = bool(scaled)
        if scaled == self.scaled or len(self.data) < 2:
            return
        _, mean, std = self.data.scaled()
        if scaled:  # y = w x + b = (w std) x' + (b + w mean)
            w, b = self.w * std, self.b + self.w * mean
        else:
            w, b = self.w / std, self.b - self.w * mean / std
        self.scaled = scaled
        self.clear_descent()
        self.data_changed.emit()
        self.set_params(w, b)

    def set_params(self, w: float, b: float) -> None:
        w, b = float(w), float(b)
        if not (math.isfinite(w) and math.isfinite(b)):
            return
        if (w, b) != (self.w, self.b):
            self.w, self.b = w, b
            self.params_changed.emit()

    def fit(self) -> None:
        best = self.optimum()
        if best is not None:
            self.set_params(*best)

    # -- descent -------------------------------------------------------------------------------
    def make_optimizer(self):
        from ..core.optimizers import OPTIMIZERS

        cls = OPTIMIZERS[self.optimizer]
        return cls(lr=self.lr) if "lr" in cls.defaults else cls()

    def run_descent(self) -> None:
        """Descend from the current (w, b) off the GUI thread; the result replaces the last."""
        from ..core.regression import descend

        data = self.fitted_data()
        optimizer = self.make_optimizer()
        start = (self.w, self.b)
        epochs, seed = self.epochs, self.seed
        batch = None if self.batch_size in (0, None) or self.batch_size >= len(data) else \
            int(self.batch_size)
        import threading

        stop = threading.Event()
        self._stop.set()  # a newer descent replaces a running one
        self._stop = stop

        def report(done: int, total: int) -> bool:
            self.progress.emit(done, total)
            return not stop.is_set()

        self.worker.submit("descent",
                           lambda: descend(data, start, optimizer, epochs, batch, seed, report),
                           self._descent_ready, self._descent_failed)

    def cancel_descent(self) -> None:
        """Stop the running descent (at the end of its current epoch); the last one stays."""
        self._stop.set()

    def _descent_ready(self, descent) -> None:
        self.descent = descent
        self.error = None
        self.descent_changed.emit()
        self.set_cursor(0)

    def _descent_failed(self, exc: BaseException) -> None:
        from ..core.regression import Cancelled

        if isinstance(exc, Cancelled):  # the previous descent, if any, stays on screen
            kept = ": the previous one is kept" if self.descent is not None else ""
            self.error = f"Descent {exc}{kept}."
        else:
            self.descent, self.error = None, str(exc)
        self.descent_changed.emit()

    def clear_descent(self) -> None:
        if self.descent is not None:
            self.descent = None
            self.descent_changed.emit()

    def set_cursor(self, k: int) -> None:
        """Show the descent's k-th update: (w, b) move there (the line follows)."""
        if self.descent is None:
            return
        k = int(min(max(k, 0), len(self.descent.params) - 1))
        self.cursor = k
        w, b = self.descent.params[k]
        self.set_params(w, b)
        self.cursor_changed.emit(k)

    def is_busy(self) -> bool:
        return self.worker.is_busy()

    # -- persistence (the window's settings) -----------------------------------------------------
    def to_dict(self) -> dict:
        return {"x": [float(v) for v in self.data.xs], "y": [float(v) for v in self.data.ys],
                "w": self.w, "b": self.b, "scaled": self.scaled, "optimizer": self.optimizer,
                "lr": self.lr, "epochs": self.epochs, "batch_size": self.batch_size,
                "seed": self.seed}

    def restore(self, data: dict) -> None:
        """Back from :meth:`to_dict`; anything malformed leaves the defaults."""
        from ..core.regression import Dataset

        try:
            dataset = Dataset(data["x"], data["y"])
            if len(dataset) == 0:
                return
            optimizer = data.get("optimizer", "SGD")
            if optimizer not in OPTIMIZER_CHOICES:
                return
            values = [float(data.get(k, d)) for k, d in (("w", 0.0), ("b", 0.0), ("lr", 0.05))]
            epochs = int(data.get("epochs", 40))
            batch = int(data.get("batch_size", 0))
            seed = int(data.get("seed", 0))
        except (KeyError, TypeError, ValueError):
            return
        if not all(math.isfinite(v) for v in values) or not 1 <= epochs <= 10_000 or batch < 0:
            return
        scaled = bool(data.get("scaled", False))
        if {"x": [float(v) for v in dataset.xs], "y": [float(v) for v in dataset.ys],
                "w": values[0], "b": values[1], "scaled": scaled, "optimizer": optimizer,
                "lr": values[2], "epochs": epochs, "batch_size": batch,
                "seed": seed} == self.to_dict():
            return  # the same (an undo of another change): J and its views are left as drawn
        self.data, self.scaled = dataset, scaled
        self.w, self.b, self.lr = values
        self.optimizer, self.epochs, self.batch_size, self.seed = optimizer, epochs, batch, seed
        self.data_changed.emit()
        self.params_changed.emit()
