"""MonteCarloView: the density with g p and the samples' histogram; the running estimate with its
95% band; its error against N beside the 1/sqrt(N) law. Three plots side by side."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...core.session import Session
from ..expectation_model import ExpectationModel, one_variable_message
from ..readouts import RefreshWhenShown
from ..theme import COLORS, pen, style_plot, with_alpha
from .grid import Grid

Z95 = 1.96  # the band is the estimate +- 1.96 standard errors: a 95% interval


def _swatch(key: str, text: str) -> str:
    return f'<span style="color:{COLORS[key]}">■</span>&nbsp;{text}'


def _log10(values) -> np.ndarray:
    """log10 for a log axis fed log10 data (bare curve items do not transform it); 0 -> NaN."""
    values = np.asarray(values, dtype=float)
    with np.errstate(all="ignore"):
        return np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)


class _Plot(pg.PlotWidget):
    """A small plot of the strip: no menu or buttons, axes in the theme's colours, a Grid
    (cheaper than showGrid), a title used as its legend, and a centred message."""

    def __init__(self, name: str, title: str, bottom: str, log_x=False, log_y=False):
        super().__init__()
        self.setObjectName(name)
        self.setMinimumSize(220, 170)
        plot = self.getPlotItem()
        style_plot(plot, bottom=bottom, si_prefix=False)
        plot.setMouseEnabled(x=False, y=False)
        # Ranges are set by hand, with some slack (see fit): a new range re-lays the axis's
        # tick labels, which costs more than drawing the data.
        plot.vb.disableAutoRange()
        plot.setLogMode(x=log_x, y=log_y)
        plot.setTitle(title, size="9pt", color=COLORS["axis_text"])
        plot.getAxis("left").setWidth(48)
        grid = Grid(pen=pg.mkPen(COLORS["grid"], width=1))
        grid.setZValue(-10)
        plot.addItem(grid, ignoreBounds=True)
        self.note = pg.TextItem("", color=COLORS["error"], anchor=(0.5, 0.5))
        self.note.setZValue(40)
        plot.addItem(self.note, ignoreBounds=True)
        plot.vb.sigRangeChanged.connect(lambda *a: self._place_note())

    @property
    def plot(self) -> pg.PlotItem:
        return self.getPlotItem()

    def say(self, text: str) -> None:
        """A message in the middle of the plot ("" hides it)."""
        if text:
            self.note.setText(_wrap(text, 46))
        self.note.setVisible(bool(text))
        self._place_note()

    def fit(self, x=None, y=None, slack: float = 0.5) -> None:
        """Show at least ``x`` = (lo, hi) and ``y``: x exactly; y with a margin, kept while
        it still holds the data and is at most ``1 + slack`` times the data's span, so that
        runs that differ by noise leave the axes alone."""
        vb = self.plot.vb
        (x0, x1), (y0, y1) = vb.viewRange()
        if x is not None and all(np.isfinite(x)) and x[1] > x[0] and (x0, x1) != tuple(x):
            vb.setXRange(*x, padding=0)
        if y is None or not all(np.isfinite(y)):
            return
        lo, hi = y
        span = hi - lo
        if not span > 1e-12 * max(1.0, abs(hi)):
            lo, hi, span = lo - 0.5, hi + 0.5, 1.0
        if y0 <= lo and y1 >= hi and (y1 - y0) <= (1 + slack) * span:
            return
        margin = 0.1 * span
        vb.setYRange(lo - margin, hi + margin, padding=0)

    def _place_note(self) -> None:
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        self.note.setPos((x0 + x1) / 2, (y0 + y1) / 2)


def _log_span(ns) -> tuple[float, float]:
    """log10 of the first and last N, widened a little: the axis labels its ends (10¹, 10⁶)
    only when they lie inside the view."""
    lo, hi = np.log10(ns[0]), np.log10(ns[-1])
    pad = 0.06 * max(hi - lo, 1.0)
    return (float(lo - pad), float(hi + pad))


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)[:4])


class MonteCarloView(RefreshWhenShown, QtWidgets.QWidget):
    """(a) density: p(x), g(x) p(x) shaded (its signed area is E[g(X)]) and the histogram of
    the samples; (b) running estimate against N (log) with its +-1.96 SE band, converging to
    the exact value; (c) |running - exact| against N, log-log, beside sigma_g / sqrt(N)."""

    def __init__(self, session: Session, model: ExpectationModel, parent=None):
        super().__init__(parent)
        self.setObjectName("MonteCarloView")
        self.session, self.model = session, model

        # (a) the density
        self.density_plot = _Plot(
            "mcDensityPlot",
            f'{_swatch("density", "p(x)")}&nbsp;&nbsp; {_swatch("gp", "g(x)·p(x), area = E")}'
            f'&nbsp;&nbsp; {_swatch("samples", "samples")}', "x")
        a = self.density_plot.plot
        # stepMode="center" needs len(x) == len(y) + 1 even when empty: one empty bin, hidden.
        # Fills are drawn without antialiasing (bars are upright; a fill's edge is under its
        # line): an antialiased fill costs ~3 ms a paint here.
        self.histogram = pg.PlotCurveItem(x=np.array([0.0, 1.0]), y=np.array([0.0]),
                                          stepMode="center", fillLevel=0, antialias=False,
                                          brush=pg.mkBrush(with_alpha("samples", 120)),
                                          pen=pg.mkPen(QtGui.QColor(COLORS["samples"]).darker(140),
                                                       width=1))
        self.gp_fill = pg.PlotCurveItem(fillLevel=0, brush=pg.mkBrush(with_alpha("gp", 55)),
                                        pen=None, antialias=False)
        self.gp_item = pg.PlotCurveItem(pen=pen("gp", 1.5))
        self.density_item = pg.PlotCurveItem(pen=pen("density", 2.0))
        self.zero_line = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(COLORS["zero_axis"], width=1))
        self.mean_line = pg.InfiniteLine(angle=90, pen=pen("density", 1.0, QtCore.Qt.PenStyle.DotLine))
        self.histogram.hide()
        for item in (self.histogram, self.gp_fill, self.gp_item, self.density_item):
            a.addItem(item)
        for item in (self.zero_line, self.mean_line):
            a.addItem(item, ignoreBounds=True)

        # (b) the running estimate
        self.running_plot = _Plot(
            "mcRunningPlot",
            f'{_swatch("mc", "estimate ± 1.96 SE")}&nbsp;&nbsp; {_swatch("exact", "exact E[g(X)]")}',
            "N", log_x=True)
        b = self.running_plot.plot
        self.upper = pg.PlotCurveItem(pen=pg.mkPen(with_alpha("mc", 110), width=1))
        self.lower = pg.PlotCurveItem(pen=pg.mkPen(with_alpha("mc", 110), width=1))
        self.band = pg.FillBetweenItem(self.upper, self.lower, brush=pg.mkBrush(with_alpha("mc", 50)))
        self.running_item = pg.PlotCurveItem(pen=pen("mc", 2.0))
        self.exact_line = pg.InfiniteLine(angle=0, pen=pen("exact", 1.2, QtCore.Qt.PenStyle.DashLine),
                                          label="E = {value:.6g}",
                                          labelOpts={"position": 0.06, "color": COLORS["exact"],
                                                     "anchors": [(0, 1), (0, 1)],
                                                     "fill": pg.mkBrush(with_alpha("background", 200))})
        for item in (self.band, self.upper, self.lower, self.running_item):
            b.addItem(item)
        b.addItem(self.exact_line, ignoreBounds=True)

        # (c) the error against N
        self.error_plot = _Plot(
            "mcErrorPlot",
            f'{_swatch("mc", "|estimate − E|")}&nbsp;&nbsp; {_swatch("law", "σ_g/√N (slope −½)")}',
            "N", log_x=True, log_y=True)
        c = self.error_plot.plot
        self.error_item = pg.PlotCurveItem(pen=pen("mc", 1.8))
        self.law_item = pg.PlotCurveItem(pen=pen("law", 1.8, QtCore.Qt.PenStyle.DashLine))
        self.law_label = pg.TextItem("σ_g/√N", color=COLORS["law"], anchor=(1, 1))
        for item in (self.law_item, self.error_item):
            c.addItem(item)
        c.addItem(self.law_label, ignoreBounds=True)

        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for view in (self.density_plot, self.running_plot, self.error_plot):
            layout.addWidget(view, 1)

        session.connect(("function", "parameters", "distribution", "distribution_parameters"),
                        lambda s, f: self.refresh_density())
        model.run_changed.connect(self.refresh_run)
        model.exact_changed.connect(self.refresh_run)

    # -- drawing -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.refresh_density()
        self.refresh_run()

    def refresh_density(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        density = self.model.density()
        if density is None:
            for item in (self.density_item, self.gp_item, self.gp_fill):
                item.setData([], [])
            self.density_plot.say(self.model.exact_error or "")
            return
        self.density_item.setData(density.xs, density.pdf)
        if self.session.f1 is None:
            self.density_plot.say(one_variable_message(self.session) or "")
        elif not np.isfinite(density.gp).all():
            self.density_plot.say("g(x) is undefined where p(x) > 0")
        else:
            self.density_plot.say("")
        gp = np.nan_to_num(density.gp, nan=0.0, posinf=0.0, neginf=0.0)
        self.gp_item.setData(density.xs, gp)
        self.gp_fill.setData(density.xs, gp)
        self.mean_line.setPos(density.mean)
        self._fit_density()

    def refresh_run(self) -> None:
        if not self.on_screen():
            return
        m = self.model
        run = m.run
        exact = float(m.exact) if m.exact is not None else None
        self.exact_line.setVisible(exact is not None)
        if exact is not None:
            self.exact_line.setValue(exact)
        if run is None:
            for item in (self.upper, self.lower, self.running_item, self.error_item,
                         self.law_item):
                item.setData([], [])
            self.histogram.hide()
            self.law_label.hide()
            message = m.run_error or ""
            # empty plots keep sensible axes: N from 10 to the session's N
            span = _log_span([10, max(self.session.mc_n, 100)])
            self.running_plot.fit(x=span, y=(-1.0, 1.0))
            self.error_plot.fit(x=span, y=(-3.0, 0.0))
            for view in (self.running_plot, self.error_plot):
                view.say(message)
            return
        self.histogram.setData(run.hist_edges, run.hist_density)
        self.histogram.show()
        ns = np.asarray(run.ns, dtype=float)
        running = np.asarray(run.running, dtype=float)
        half = Z95 * np.asarray(run.running_se, dtype=float)
        log_ns = np.log10(ns)
        self.running_item.setData(log_ns, running)
        self.upper.setData(log_ns, running + half)
        self.lower.setData(log_ns, running - half)
        self._fit_running(ns, running, half, exact)
        self._fit_density()
        self.running_plot.say("")
        drawn, log_law = [], None
        if exact is not None:
            log_err = _log10(np.abs(running - exact))
            self.error_item.setData(log_ns, log_err)
            drawn.append(log_err)
            self.error_plot.say("")
        else:
            self.error_item.setData([], [])
            self.error_plot.say("needs the exact value: " + (m.exact_error or "computing…"))
        sigma = m.sigma_g
        if sigma is not None and sigma > 0:
            log_law = np.log10(sigma / np.sqrt(ns))
            self.law_item.setData(log_ns, log_law)
            drawn.append(log_law)
            self.law_label.setText("σ_g/√N" if m.sigma_g_is_exact else "s_g/√N (sampled σ)")
            self.law_label.setPos(log_ns[-1], log_law[-1])
            self.law_label.show()
        else:
            self.law_item.setData([], [])
            self.law_label.hide()
        self._fit_error(log_ns, drawn, log_law)

    def _fit_running(self, ns, running, half, exact) -> None:
        """y range: the 95% band of the law, exact +- 1.96 sigma_g / sqrt(n), from the 8th of
        the checkpoints on (the first samples swing far: the funnel's mouth runs off the top
        and bottom). It depends on g, p and N only, so a new seed leaves the axis alone (a
        new range re-lays its labels: ~10 ms). Without sigma_g: the band drawn."""
        if not len(ns):
            return
        start = len(ns) // 8
        sigma = self.model.sigma_g
        if sigma is not None and exact is not None:
            reach = Z95 * sigma / np.sqrt(ns[start])
            lo, hi = exact - reach, exact + reach
            lo = min(lo, running[-1] - half[-1])  # an estimate off by more still shows
            hi = max(hi, running[-1] + half[-1])
        else:
            lo = np.nanmin(running[start:] - half[start:])
            hi = np.nanmax(running[start:] + half[start:])
            if exact is not None:
                lo, hi = min(lo, exact), max(hi, exact)
        self.running_plot.fit(x=_log_span(ns), y=(lo, hi))

    def _fit_density(self) -> None:
        """x: the distribution's plot range; y: 0 up to the density, g p and the histogram."""
        density = self.model.density()
        if density is None:
            return
        with np.errstate(all="ignore"):
            lo = min(0.0, np.nanmin(density.gp, initial=0.0))
            hi = max(np.nanmax(density.pdf, initial=0.0), np.nanmax(density.gp, initial=0.0))
            if self.histogram.isVisible():
                hi = max(hi, float(np.max(self.histogram.getData()[1], initial=0.0)))
        width = density.xs[-1] - density.xs[0]
        self.density_plot.fit(x=(density.xs[0] - 0.02 * width, density.xs[-1] + 0.02 * width),
                              y=(lo, hi), slack=0.3)

    def _fit_error(self, log_ns, curves, log_law=None) -> None:
        """log10 y range: around the law sigma_g / sqrt(N) when it is known (from a decade
        and a half below its end to a few times its start: the error dips far below it where
        the running estimate crosses the exact value), so it too stays put across seeds."""
        if log_law is not None:
            self.error_plot.fit(x=_log_span(10.0 ** log_ns), y=(log_law[-1] - 1.5, log_law[0] + 0.7),
                                slack=0.3)
            return
        values = np.concatenate([c[np.isfinite(c)] for c in curves] or [np.array([])])
        if values.size:
            self.error_plot.fit(x=_log_span(10.0 ** log_ns), y=(values.min(), values.max()),
                                slack=0.3)

    # -- what is drawn (for tests) -------------------------------------------------------------------
    def density_data(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, p(x)) as drawn."""
        return self.density_item.getData()

    def gp_data(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, g(x) p(x)) as drawn (0 where undefined)."""
        return self.gp_item.getData()

    def histogram_data(self) -> tuple[np.ndarray, np.ndarray]:
        """(bin edges, density) of the samples' histogram as drawn (empty when hidden)."""
        if not self.histogram.isVisible():
            return np.array([]), np.array([])
        return self.histogram.getData()

    def running_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(N, running estimate, band low, band high) as drawn."""
        log_ns, running = self.running_item.getData()
        _, low = self.lower.getData()
        _, high = self.upper.getData()
        if log_ns is None:
            empty = np.array([])
            return empty, empty, empty, empty
        return 10.0 ** log_ns, running, low, high

    def error_data(self) -> tuple[np.ndarray, np.ndarray]:
        """(N, |running - exact|) as drawn (NaN where exactly 0)."""
        log_ns, log_err = self.error_item.getData()
        if log_ns is None or len(log_ns) == 0:
            return np.array([]), np.array([])
        return 10.0 ** log_ns, 10.0 ** log_err

    def law_data(self) -> tuple[np.ndarray, np.ndarray]:
        """(N, sigma_g / sqrt(N)) as drawn."""
        log_ns, log_law = self.law_item.getData()
        if log_ns is None or len(log_ns) == 0:
            return np.array([]), np.array([])
        return 10.0 ** log_ns, 10.0 ** log_law

    def exact_value(self) -> float | None:
        """The exact line's height, or None when it is hidden."""
        return float(self.exact_line.value()) if self.exact_line.isVisible() else None
