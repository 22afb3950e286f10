"""TaylorPanel: order, centre, tolerance, faint orders; the method used and the polynomial."""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtWidgets

from ...core.session import MAX_TAYLOR_ORDER, Session
from ..bindings import Throttle, format_number, signals_blocked
from ..fields import ConstantEdit, scientific_edit
from ..readouts import Readouts, RefreshWhenShown
from ..taylor_model import TaylorModel
from ..theme import COLORS

TOLERANCE_TICKS_PER_DECADE = 4
TOLERANCE_DECADES = 12  # 1 down to 1e-12


def polynomial_html(coefficients: np.ndarray, center: float, digits: int = 4) -> str:
    """T_n written out, e.g. ``0.4794 + 0.8776 (x − 0.5) − 0.2397 (x − 0.5)²`` (rich text).

    Coefficients that are zero (exactly, or below 1e-13 of the largest: round-off of the
    numeric method) are left out, as a person would write it."""
    c = np.asarray(coefficients, dtype=float)
    if c.size == 0 or not np.all(np.isfinite(c)):
        return "undefined"
    biggest = float(np.max(np.abs(c)))
    if center == 0:
        base = "<i>x</i>"
    else:
        sign = "−" if center > 0 else "+"
        base = f"(<i>x</i>&nbsp;{sign}&nbsp;{format_number(abs(center), 6)})"  # kept on one line
    terms = []
    for k, ck in enumerate(c):
        if ck == 0 or abs(ck) < 1e-13 * biggest:
            continue
        magnitude = format_number(abs(ck), digits)
        if k == 0:
            body = magnitude
        else:
            power = base + (f"<sup>{k}</sup>" if k > 1 else "")
            body = power if magnitude == "1" else f"{magnitude}&#8239;{power}"  # no-break space
        terms.append(("−" if ck < 0 else "+", body))
    if not terms:
        return "0"
    first_sign, first = terms[0]
    text = ("−" if first_sign == "−" else "") + first
    for sign, body in terms[1:]:
        text += f" {sign} {body}"
    return text


def tolerance_to_tick(tolerance: float) -> int:
    return round(min(max(-math.log10(tolerance), 0.0), TOLERANCE_DECADES) * TOLERANCE_TICKS_PER_DECADE)


def tick_to_tolerance(tick: int) -> float:
    return float(f"{10.0 ** (-tick / TOLERANCE_TICKS_PER_DECADE):.3g}")


class TaylorPanel(RefreshWhenShown, QtWidgets.QWidget):
    """Everything about the Taylor polynomial the user sets, and what it came out as."""

    def __init__(self, session: Session, model: TaylorModel, parent=None):
        super().__init__(parent)
        self.session, self.model = session, model
        self.show_box = QtWidgets.QCheckBox("Show the Taylor polynomial")
        self.show_box.setObjectName("showTaylor")
        self.order_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.order_slider.setObjectName("taylorOrderSlider")
        self.order_slider.setRange(0, MAX_TAYLOR_ORDER)
        self.order_slider.setPageStep(1)
        self.order_slider.setTickPosition(QtWidgets.QSlider.TickPosition.TicksBelow)
        self.order_slider.setTickInterval(5)
        self.order_spin = QtWidgets.QSpinBox()
        self.order_spin.setObjectName("taylorOrderSpin")
        self.order_spin.setRange(0, MAX_TAYLOR_ORDER)
        self.follow_box = QtWidgets.QCheckBox("Centre at the point x₀")
        self.follow_box.setObjectName("taylorFollows")
        self.follow_box.setToolTip("Off: the centre gets its own diamond on the curve to drag")
        self.center_edit = ConstantEdit("The centre", "taylorCenterEdit")
        self.tolerance_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.tolerance_slider.setObjectName("toleranceSlider")
        self.tolerance_slider.setRange(0, TOLERANCE_DECADES * TOLERANCE_TICKS_PER_DECADE)
        self.tolerance_slider.setToolTip("The tolerance on a log scale, from 1 (left) to 1e-12")
        self.tolerance_edit = scientific_edit("toleranceEdit", 80, 1e-300, 1e300)
        self.all_orders_box = QtWidgets.QCheckBox("Show orders 1…n faintly")
        self.all_orders_box.setObjectName("taylorAllOrders")
        self.all_orders_box.setToolTip("Convergence inside the radius, divergence outside it")

        order_row = QtWidgets.QHBoxLayout()
        order_row.addWidget(self.order_slider, 1)
        order_row.addWidget(self.order_spin)
        tolerance_row = QtWidgets.QHBoxLayout()
        tolerance_row.addWidget(self.tolerance_slider, 1)
        tolerance_row.addWidget(self.tolerance_edit)
        form = QtWidgets.QFormLayout()
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        form.addRow("order n", order_row)
        form.addRow("", self.follow_box)
        form.addRow("centre c", self.center_edit)
        form.addRow("", self.center_edit.error_label)
        form.addRow("tolerance", tolerance_row)
        form.addRow("", self.all_orders_box)
        self.readouts = Readouts("taylor_")
        self.readouts.add("method", "method")
        self.readouts.add("interval", "|f − Tₙ| ≤ tol on", COLORS["taylor"])
        self.values = self.readouts.labels
        self.polynomial = QtWidgets.QLabel()
        self.polynomial.setObjectName("taylorPolynomial")
        self.polynomial.setWordWrap(True)
        self.polynomial.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.polynomial.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.polynomial.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        font = self.polynomial.font()
        font.setPointSizeF(font.pointSizeF() * 1.05)
        self.polynomial.setFont(font)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.polynomial)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setMinimumHeight(70)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.show_box)
        layout.addLayout(form)
        layout.addLayout(self.readouts)
        layout.addWidget(scroll, 1)

        self.show_box.toggled.connect(lambda on: session.set_option("show_taylor", on))
        self.order_slider.valueChanged.connect(session.set_taylor_order)
        self.order_spin.valueChanged.connect(session.set_taylor_order)
        self.follow_box.toggled.connect(session.set_taylor_follows_point)
        self.center_edit.entered.connect(self._apply_center)
        self.tolerance_slider.valueChanged.connect(
            lambda tick: session.set_taylor_tolerance(tick_to_tolerance(tick)))
        self.tolerance_edit.editingFinished.connect(self._apply_tolerance)
        self.all_orders_box.toggled.connect(lambda on: session.set_option("taylor_all_orders", on))
        # During a drag the labels follow at most every 50 ms: relaying out rich text each
        # frame costs more than drawing the polynomial.
        self._throttled = Throttle(self.refresh, parent=self)
        session.connect(("function", "parameters", "taylor_order", "taylor_center",
                         "taylor_tolerance", "taylor_follows_point", "taylor_all_orders",
                         "show_taylor", "x_range"), lambda s, f: self.refresh())
        session.connect("x0", lambda s, f: s.taylor_follows_point and self._throttled())
        model.changed.connect(self.refresh)
        self.refresh()

    def _apply_center(self, value: float) -> None:
        with self.session.batch():
            self.session.set_taylor_follows_point(False)
            self.session.set_taylor_center(value)

    def _apply_tolerance(self) -> None:
        try:
            self.session.set_taylor_tolerance(float(self.tolerance_edit.text()))
        except ValueError:
            self.refresh()

    def refresh(self) -> None:
        if not self.on_screen():  # see RefreshWhenShown
            return
        s = self.session
        with signals_blocked(self.show_box, self.order_slider, self.order_spin, self.follow_box,
                             self.tolerance_slider, self.all_orders_box):
            self.show_box.setChecked(s.show_taylor)
            self.order_slider.setValue(s.taylor_order)
            self.order_spin.setValue(s.taylor_order)
            self.follow_box.setChecked(s.taylor_follows_point)
            self.tolerance_slider.setValue(tolerance_to_tick(s.taylor_tolerance))
            self.all_orders_box.setChecked(s.taylor_all_orders)
        if not self.center_edit.hasFocus():
            self.center_edit.setText(format_number(s.taylor_x0, 10).replace("−", "-"))
        if not self.tolerance_edit.hasFocus():
            self.tolerance_edit.setText(f"{s.taylor_tolerance:.3g}")
        if not s.show_taylor:
            self.readouts.clear_values()
            self.polynomial.setText("")
            return
        series = self.model.series()
        if series is None:
            self.readouts.clear_values()
            if self.model.error:
                self.values["method"].setText(self.model.error)
            elif s.f1 is not None:
                self.values["method"].setText("differentiating…")
            self.polynomial.setText("")
            return
        if series.method == "symbolic":
            method = "symbolic: SymPy's derivatives at c, divided by k!"
        else:
            method = (f"numeric: Cauchy's integral on the circle |z − c| = {series.radius:g} "
                      "(FFT); SymPy was too slow")
        self.values["method"].setText(method)
        interval = self.model.interval()
        if interval is None:
            self.values["interval"].setText("nowhere in view (f undefined at c?)")
        else:
            lo, hi = s.x_range
            left = "…" if interval[0] <= lo else ""
            right = "…" if interval[1] >= hi else ""
            self.values["interval"].setText(
                f"[{left}{format_number(interval[0], 4)}, {format_number(interval[1], 4)}{right}]")
        n = s.taylor_order
        self.polynomial.setText(
            f"<i>T</i><sub>{n}</sub>(<i>x</i>) = "
            + polynomial_html(series.coefficients, series.x0))
