"""FunctionPanel: the expression field with live validation, presets, the typeset formula."""

from __future__ import annotations

from collections import defaultdict

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.session import Session
from ...paths import function_presets
from ..bindings import signals_blocked
from ..theme import COLORS


def underline(edit: QtWidgets.QLineEdit, start: int, length: int) -> None:
    """Draw a wavy red underline under ``edit``'s characters [start, start+length).

    QLineEdit has no public API for character formats; an input-method event carrying a
    TextFormat attribute (and no text) is the documented way to format its text.
    """
    attrs = []
    if length > 0:
        fmt = QtGui.QTextCharFormat()
        fmt.setUnderlineStyle(QtGui.QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(QtGui.QColor(COLORS["error"]))
        fmt.setForeground(QtGui.QColor(COLORS["error"]))
        attrs.append(QtGui.QInputMethodEvent.Attribute(
            QtGui.QInputMethodEvent.AttributeType.TextFormat,
            start - edit.cursorPosition(), length, fmt))
    QtCore.QCoreApplication.sendEvent(edit, QtGui.QInputMethodEvent("", attrs))


LOG_COLOURED: set[str] = set()  # landscape presets drawn with log colours


class FunctionPanel(QtWidgets.QWidget):
    """Type f; the error (if any) is underlined at its column and explained."""

    expression_edited = QtCore.Signal(str)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.error_span: tuple[int, int] | None = None  # (0-based start, length), for tests

        self.edit = QtWidgets.QLineEdit(session.expression)
        self.edit.setObjectName("expressionEdit")
        self.edit.setPlaceholderText("type f(x), e.g. sin(x) + x^2/4")
        self.edit.setClearButtonEnabled(True)
        font = self.edit.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.edit.setFont(font)
        self.edit.setToolTip(
            "Numbers, x, + - * / ^, implicit products (2x, 3(x+1)), pi, e, and\n"
            "sin cos tan asin acos atan sinh cosh tanh exp log ln sqrt abs min max\n"
            "sigmoid relu softplus gelu erf. Any other name is a parameter with a slider.")

        self.presets_button = QtWidgets.QToolButton()
        self.presets_button.setText("Presets")
        self.presets_button.setObjectName("presetsButton")
        self.presets_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        self.presets_button.setMenu(self._build_presets_menu())

        self.error_label = QtWidgets.QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {COLORS['error']};")
        self.error_label.hide()

        self.formula_label = self._formula_label("f(x) =")
        self.derivative_label = self._formula_label("f′(x) =")

        self.show_d1 = QtWidgets.QCheckBox("f′")
        self.show_d2 = QtWidgets.QCheckBox("f″")
        self.show_tangent = QtWidgets.QCheckBox("tangent")
        for box, name, tip in ((self.show_d1, "show_derivative", "Draw the derivative f′"),
                               (self.show_d2, "show_second_derivative", "Draw the second derivative f″"),
                               (self.show_tangent, "show_tangent", "Draw the tangent at x₀")):
            box.setObjectName(name)
            box.setToolTip(tip)
            box.toggled.connect(lambda on, n=name: self.session.set_option(n, on))

        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addWidget(self.presets_button)
        shows = QtWidgets.QHBoxLayout()
        shows.addWidget(QtWidgets.QLabel("Show"))
        for box in (self.show_d1, self.show_d2, self.show_tangent):
            shows.addWidget(box)
        shows.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.formula_label)
        layout.addWidget(self.derivative_label)
        layout.addLayout(shows)
        layout.addStretch(1)

        self.edit.textEdited.connect(self.expression_edited)
        session.connect(("expression", "error"), lambda s, f: self._show_expression())
        session.connect(Session.BOOL_FIELDS, lambda s, f: self._show_options())
        self._show_expression()
        self._show_options()

    def _formula_label(self, prefix: str) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(prefix)
        label.setMinimumHeight(28)
        label.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
        label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setProperty("prefix", prefix)
        # A long formula must not widen the dock (and shift the plot under the user's mouse).
        label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                            QtWidgets.QSizePolicy.Policy.Preferred)
        return label

    def _build_presets_menu(self) -> QtWidgets.QMenu:
        menu = QtWidgets.QMenu(self)
        self.preset_actions: list[QtGui.QAction] = []
        groups: dict[str, list[dict]] = defaultdict(list)
        for preset in function_presets():
            groups[preset["group"]].append(preset)
        for group, presets in groups.items():
            sub = menu.addMenu(group)
            for preset in presets:
                action = sub.addAction(f"{preset['name']}    {preset['expression']}")
                action.setData(preset["expression"])
                self.preset_actions.append(action)
                action.triggered.connect(lambda _=False, e=preset["expression"]: self.choose(e))
        # Landscapes of f(x, y), each with its range: filled when first opened (the core's
        # list loads NumPy, which start-up need not wait for)
        self.landscape_menu = menu.addMenu("Landscapes f(x, y)")
        self.landscape_menu.setObjectName("landscapeMenu")
        self.landscape_actions: list[QtGui.QAction] = []
        self.landscape_menu.aboutToShow.connect(self._fill_landscapes)
        return menu

    def _fill_landscapes(self) -> None:
        if self.landscape_actions:
            return
        from ...core.multivariate import LANDSCAPES

        LOG_COLOURED.update(LANDSCAPES[name][0] for name in ("Rosenbrock", "Himmelblau", "Beale")
                            if name in LANDSCAPES)

        for name, (expression, (x_range, y_range)) in LANDSCAPES.items():
            action = self.landscape_menu.addAction(f"{name}    {expression}")
            action.setData(expression)
            action.triggered.connect(
                lambda _=False, e=expression, xr=x_range, yr=y_range: self.choose_landscape(e, xr, yr))
            self.landscape_actions.append(action)

    def choose_landscape(self, expression: str, x_range, y_range) -> None:
        """A landscape preset: its range and colouring first, then its expression as if
        typed. Valleys whose walls rise to thousands get log colours, or their floor, where
        the minima are, is one flat colour."""
        with self.session.batch():
            self.session.set_xy_range(x_range, y_range)
            self.session.set_option("log_colors", expression in LOG_COLOURED)
        self.choose(expression)

    def choose(self, expression: str) -> None:
        """Put ``expression`` in the field as if typed (presets use this)."""
        self.edit.setText(expression)
        self.expression_edited.emit(expression)

    # -- session -> widgets ----------------------------------------------------------------------
    def _show_expression(self) -> None:
        s = self.session
        if self.edit.text() != s.expression:
            with signals_blocked(self.edit):
                self.edit.setText(s.expression)
        if s.error is None:
            self.error_label.hide()
            self.error_label.clear()
            self.error_span = None
            underline(self.edit, 0, 0)
            return
        col, length = s.error.column, getattr(s.error, "length", 1)
        text_len = len(s.expression)
        start = min(col - 1, max(text_len - 1, 0))
        length = max(1, min(length, text_len - start)) if text_len else 0
        self.error_span = (start, length)
        underline(self.edit, start, length)
        self.error_label.setText(f"Column {col}: {s.error.message}.  The last valid function stays drawn.")
        self.error_label.show()

    def _show_options(self) -> None:
        s = self.session
        for box, name in ((self.show_d1, "show_derivative"),
                          (self.show_d2, "show_second_derivative"),
                          (self.show_tangent, "show_tangent")):
            with signals_blocked(box):
                box.setChecked(getattr(s, name))

    def show_typeset(self, images: dict[str, tuple | str]) -> None:
        """Show rendered formulas: (width, height, ARGB32 bytes) per key, or plain text."""
        for key, label in (("f", self.formula_label), ("d1", self.derivative_label)):
            value = images.get(key)
            prefix = label.property("prefix")
            if isinstance(value, tuple):
                width, height, data = value
                image = QtGui.QImage(data, width, height, 4 * width,
                                     QtGui.QImage.Format.Format_ARGB32_Premultiplied).copy()
                # rendered at 2x; shrink further when wider than the dock. The ratio maps image
                # pixels to logical ones whatever the screen (a 2x screen shows every pixel).
                ratio = max(2.0, image.width() / max(label.width(), 1))
                pixmap = QtGui.QPixmap.fromImage(image)
                pixmap.setDevicePixelRatio(ratio)
                label.setPixmap(pixmap)
                label.setToolTip(images.get(key + "_text", ""))
            else:
                label.setText(f"{prefix} {value or ''}")
