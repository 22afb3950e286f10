"""ExpectationPanel: the distribution p and its parameters, N and the seed; E_p[g(X)] exactly
and by Monte Carlo, with its error and the 1/sqrt(N) law."""

from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from ...core.session import DISTRIBUTION_DEFAULTS, MC_N_RANGE, Session
from ..bindings import Throttle, format_number, signals_blocked
from ..expectation_model import ExpectationModel
from ..fields import ConstantEdit
from ..readouts import Readouts, RefreshWhenShown
from ..theme import COLORS

LABELS = {"mu": "μ", "sigma": "σ", "low": "low", "high": "high", "rate": "rate λ", "b": "b"}
# slider range and step of each parameter (typed values may go beyond the slider's range)
SLIDER_RANGES = {"mu": (-5.0, 5.0, 0.05), "sigma": (0.05, 5.0, 0.05), "low": (-5.0, 5.0, 0.05),
                 "high": (-5.0, 5.0, 0.05), "rate": (0.05, 5.0, 0.05), "b": (0.05, 5.0, 0.05)}
TITLES = {"normal": "normal N(μ, σ²)", "uniform": "uniform U(low, high)",
          "exponential": "exponential Exp(λ)", "laplace": "Laplace(μ, b)"}
N_TICKS_PER_DECADE = 10
N_DECADES = round(math.log10(MC_N_RANGE[1] / MC_N_RANGE[0]))  # 10 to 10^6
MAX_SEED = 2**32 - 1  # as the session's


def tick_to_n(tick: int) -> int:
    """The N of a slider tick: 10 * 10^(tick/10), to two significant digits (10, 13, 16, ...)."""
    n = MC_N_RANGE[0] * 10.0 ** (tick / N_TICKS_PER_DECADE)
    return int(min(max(float(f"{n:.2g}"), MC_N_RANGE[0]), MC_N_RANGE[1]))


def n_to_tick(n: int) -> int:
    tick = round(math.log10(n / MC_N_RANGE[0]) * N_TICKS_PER_DECADE)
    return min(max(tick, 0), N_DECADES * N_TICKS_PER_DECADE)


def format_count(n: int) -> str:
    return f"{n:,}".replace(",", "\u2009")  # thin spaces: 1 000 000


class ParameterRow:
    """A slider and a typed field for one parameter of one distribution."""

    def __init__(self, distribution: str, name: str):
        self.distribution, self.name = distribution, name
        self.low, self.high, self.step = SLIDER_RANGES[name]
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setObjectName(f"{distribution}_{name}Slider")
        self.slider.setRange(0, round((self.high - self.low) / self.step))
        self.slider.setPageStep(10)
        self.slider.setToolTip(f"{LABELS[name]} from {self.low:g} to {self.high:g}; "
                               "type any other value in the field")
        self.edit = ConstantEdit(LABELS[name], f"{distribution}_{name}Edit")
        self.edit.setMaximumWidth(76)
        self.label = QtWidgets.QLabel(LABELS[name])

    def tick_to_value(self, tick: int) -> float:
        return round(self.low + tick * self.step, 10)

    def value_to_tick(self, value: float) -> int:
        return min(max(round((value - self.low) / self.step), 0), self.slider.maximum())


class ExpectationPanel(RefreshWhenShown, QtWidgets.QWidget):
    """E_p[g(X)] with g = f: the distribution p, its parameters, N and the seed, and what the
    exact value and the Monte Carlo estimate came out as."""

    def __init__(self, session: Session, model: ExpectationModel, parent=None):
        super().__init__(parent)
        self.setObjectName("ExpectationPanel")
        self.session, self.model = session, model
        intro = QtWidgets.QLabel("E<sub>p</sub>[g(X)] with g = f, the function typed above")
        intro.setObjectName("expectationIntro")
        intro.setWordWrap(True)
        intro.setEnabled(False)  # drawn muted: an explanation, not a control
        self.combo = QtWidgets.QComboBox()
        self.combo.setObjectName("distributionCombo")
        for name in DISTRIBUTION_DEFAULTS:
            self.combo.addItem(TITLES[name], name)

        # one page of parameter rows per distribution: switching shows that one's page
        self.rows: dict[str, dict[str, ParameterRow]] = {}
        self.pages = QtWidgets.QStackedWidget()
        self.pages.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred,
                                 QtWidgets.QSizePolicy.Policy.Maximum)
        for dist, params in DISTRIBUTION_DEFAULTS.items():
            page = QtWidgets.QWidget()
            grid = QtWidgets.QGridLayout(page)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setVerticalSpacing(2)
            grid.setColumnStretch(1, 1)
            self.rows[dist] = {}
            for i, name in enumerate(params):
                row = ParameterRow(dist, name)
                row.label.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight
                                       | QtCore.Qt.AlignmentFlag.AlignVCenter)
                row.label.setMinimumWidth(44)
                grid.addWidget(row.label, 2 * i, 0)
                grid.addWidget(row.slider, 2 * i, 1)
                grid.addWidget(row.edit, 2 * i, 2)
                grid.addWidget(row.edit.error_label, 2 * i + 1, 1, 1, 2)
                row.slider.valueChanged.connect(lambda tick, r=row: self._slid(r, tick))
                row.edit.entered.connect(lambda value, r=row: self._typed(r, value))
                self.rows[dist][name] = row
            self.pages.addWidget(page)

        self.n_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.n_slider.setObjectName("mcNSlider")
        self.n_slider.setRange(0, N_DECADES * N_TICKS_PER_DECADE)
        self.n_slider.setPageStep(N_TICKS_PER_DECADE)
        self.n_slider.setTickPosition(QtWidgets.QSlider.TickPosition.TicksBelow)
        self.n_slider.setTickInterval(N_TICKS_PER_DECADE)
        self.n_slider.setToolTip("The number of samples N on a log scale: 10 to 10⁶")
        self.n_label = QtWidgets.QLabel()
        self.n_label.setObjectName("mcNLabel")
        self.n_label.setMinimumWidth(76)
        self.n_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight
                                  | QtCore.Qt.AlignmentFlag.AlignVCenter)
        # a double spin box with no decimals: seeds go up to 2^32 - 1, past a QSpinBox's int32
        self.seed_spin = QtWidgets.QDoubleSpinBox()
        self.seed_spin.setObjectName("mcSeedSpin")
        self.seed_spin.setDecimals(0)
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setToolTip("The same seed draws the same samples")
        self.reseed_button = QtWidgets.QPushButton("Reseed")
        self.reseed_button.setObjectName("reseedButton")
        self.reseed_button.setToolTip("Draw a new set of samples (a random seed)")

        controls = QtWidgets.QGridLayout()
        controls.setVerticalSpacing(4)
        controls.setColumnStretch(1, 1)
        p_label = QtWidgets.QLabel("p")
        p_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        p_label.setMinimumWidth(44)
        controls.addWidget(p_label, 0, 0)
        controls.addWidget(self.combo, 0, 1, 1, 2)
        controls.addWidget(self.pages, 1, 0, 1, 3)
        n_title = QtWidgets.QLabel("N")
        n_title.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        controls.addWidget(n_title, 2, 0)
        controls.addWidget(self.n_slider, 2, 1)
        controls.addWidget(self.n_label, 2, 2)
        seed_title = QtWidgets.QLabel("seed")
        seed_title.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        seed_row = QtWidgets.QHBoxLayout()
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.reseed_button)
        controls.addWidget(seed_title, 3, 0)
        controls.addLayout(seed_row, 3, 1, 1, 2)

        self.readouts = Readouts("expectation_")
        self.readouts.setVerticalSpacing(2)
        self.readouts.add("exact", "E[g(X)]", COLORS["exact"])
        self.readouts.add("method", "method")
        self.readouts.add("estimate", "Monte Carlo", COLORS["mc"])
        self.readouts.add("se", "standard error")
        self.readouts.add("error", "|estimate − E|")
        self.readouts.add("law", "σ_g / √N", COLORS["law"])
        self.values = self.readouts.labels
        self.values["estimate"].setToolTip("The estimate ± 1.96 standard errors: a 95% interval")
        self.values["law"].setToolTip("The standard deviation of g(X) over √N: what the standard "
                                      "error estimates, and the 1/√N law of the error plot")
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("expectationMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {COLORS['error']};")
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

        layout = QtWidgets.QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addWidget(intro)
        layout.addLayout(controls)
        layout.addLayout(self.readouts)
        layout.addWidget(self.message)
        layout.addStretch(1)

        self.combo.currentIndexChanged.connect(
            lambda i: session.set_distribution(self.combo.itemData(i)))
        self.n_slider.valueChanged.connect(lambda tick: session.set_mc_n(tick_to_n(tick)))
        self.seed_spin.valueChanged.connect(lambda value: session.set_mc_seed(int(value)))
        self.reseed_button.clicked.connect(model.reseed)
        session.connect(("distribution", "distribution_parameters", "mc_n", "mc_seed",
                         "function", "parameters"), lambda s, f: self.refresh_controls())
        # read-outs follow results at most every 50 ms: a slider drag brings a run per step
        self._throttled = Throttle(self.refresh_values, parent=self)
        model.exact_changed.connect(self._throttled)
        model.run_changed.connect(self._throttled)
        session.connect(("distribution", "distribution_parameters", "mc_n", "mc_seed",
                         "function", "parameters"), lambda s, f: self._throttled())
        self.refresh()

    # -- writing to the session ----------------------------------------------------------------
    def _slid(self, row: ParameterRow, tick: int) -> None:
        self._set(row, row.tick_to_value(tick))

    def _typed(self, row: ParameterRow, value: float) -> None:
        self._set(row, value)

    def _set(self, row: ParameterRow, value: float) -> None:
        if self.session.distribution != row.distribution:
            return
        try:
            self.session.set_distribution_parameter(row.name, value)
        except ValueError as exc:
            # e.g. sigma = -1, or low above high: say so under the field, change nothing
            row.edit.error_label.setText(str(exc))
            row.edit.error_label.show()
            self.refresh_controls()
            return
        for other in self.rows[row.distribution].values():
            other.edit.error_label.hide()

    # -- drawing from the session --------------------------------------------------------------
    def refresh(self) -> None:
        self.refresh_controls()
        self.refresh_values()

    def refresh_controls(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        s = self.session
        rows = self.rows[s.distribution]
        widgets = [self.combo, self.n_slider, self.seed_spin] + [r.slider for r in rows.values()]
        with signals_blocked(*widgets):
            self.combo.setCurrentIndex(self.combo.findData(s.distribution))
            self.pages.setCurrentIndex(list(DISTRIBUTION_DEFAULTS).index(s.distribution))
            params = s.distribution_params
            for name, row in rows.items():
                row.slider.setValue(row.value_to_tick(params[name]))
                if not row.edit.hasFocus() or not row.edit.error_label.isVisible():
                    row.edit.setText(format_number(params[name], 10).replace("−", "-"))
            self.n_slider.setValue(n_to_tick(s.mc_n))
            self.seed_spin.setValue(s.mc_seed)
        self.n_label.setText(format_count(s.mc_n))

    def refresh_values(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        m, v = self.model, self.values
        problems = []
        exact = None
        if m.exact is not None:
            exact = float(m.exact)
            pending = " …" if m.exact_stale else ""
            v["exact"].setText(format_number(exact, 10) + pending)
            method = {"exact": "exact (SymPy)", "quadrature": "adaptive quadrature"}.get(
                m.exact.method, m.exact.method)
            if m.exact.method == "quadrature" and m.exact.error:
                method += f", error ≈ {format_number(m.exact.error, 2)}"
            v["method"].setText(method)
        else:
            v["exact"].setText("computing…" if m.exact_error is None else "undefined")
            v["method"].setText("—")
            if m.exact_error is not None:
                problems.append(f"E[g(X)]: {m.exact_error}")
        run = m.run
        if run is not None:
            half = 1.96 * float(run.standard_error)
            v["estimate"].setText(f"{format_number(float(run.estimate), 8)} ± "
                                  f"{format_number(half, 3)}")
            v["se"].setText(format_number(float(run.standard_error), 4))
            if exact is not None:
                v["error"].setText(format_number(abs(float(run.estimate) - exact), 3))
            else:
                v["error"].setText("—")
        else:
            for key in ("estimate", "se", "error"):
                v[key].setText("computing…" if m.run_error is None and m.active else "—")
            if m.run_error is not None and m.run_error != m.exact_error:
                problems.append(f"Monte Carlo: {m.run_error}")
        sigma = m.sigma_g
        if sigma is not None:
            n = run.n if run is not None else self.session.mc_n
            law = format_number(sigma / math.sqrt(n), 4)
            v["law"].setText(law if m.sigma_g_is_exact else f"{law} (σ_g from the samples)")
        else:
            v["law"].setText("—")
            if m.variance_error is not None and m.exact is not None:
                problems.append(f"Var g(X): {m.variance_error}; the 1/√N law does not hold")
        self.message.setText("\n".join(problems))
        self.message.setVisible(bool(problems))
