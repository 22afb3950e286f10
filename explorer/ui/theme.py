"""Colours and pens shared by the views: a light and a dark theme (Okabe-Ito colours, colour-blind
safe), switched at run time.

``COLORS`` always holds the current theme's colours: code that reads it when it draws follows a
switch by itself. :func:`apply_theme` switches: it sets the Qt palette, updates ``COLORS`` in place
and pyqtgraph's defaults, recolours what is already drawn (see :func:`_restyle_app`), then emits
``notifier.theme_changed(name)`` for what only its owner can recolour (custom items, pens kept
for later). The main window calls, in this order::

    apply_theme(app, resolve_theme(stored_theme(settings)))   # at start-up, before the views
    install_theme_menu(window, view_menu)                      # View > Theme: System/Light/Dark
    notifier.theme_changed.connect(...)                        # e.g. typeset the formula again
"""

from __future__ import annotations

import functools
import re
import sys

from PySide6 import QtCore, QtGui, QtWidgets

# pyqtgraph is imported inside the functions: the window paints before it is loaded (its
# import makes PySide6 build every Qt class, ~0.5-1 s).

LIGHT = {
    "background": "#ffffff",
    "axis": "#8a8f98",
    "axis_text": "#3c4048",
    "grid": "#e6e8ec",
    "zero_axis": "#b8bcc4",
    "f": "#0072B2",  # blue
    "d1": "#E69F00",  # orange
    "d2": "#009E73",  # bluish green
    "tangent": "#D55E00",  # vermillion
    "secant": "#CC79A7",  # reddish purple
    "point": "#D55E00",
    "point_edge": "#ffffff",
    "point_hover": "#F0A060",
    "error": "#C0392B",
    "taylor": "#6A3D9A",  # purple: apart from f, f', f'', the tangent and the secant
    "taylor_hover": "#9E7BC4",
    "minimum": "#009E73",
    "maximum": "#D55E00",
    "inflection": "#3C3C3C",
    "degenerate": "#7F7F7F",
    "positive": "#009E73",  # f' > 0 (increasing), f'' > 0 (concave up)
    "negative": "#D55E00",
    "riemann": "#56B4E9",  # sky blue: the boxes of a Riemann sum
    "riemann_bound": "#1F5F8B",
    "accumulation": "#882255",  # wine: F(x) and the area it measures
    "lower": "#009E73",
    "upper": "#D55E00",
    # expectations and Monte Carlo (Paul Tol's muted scheme: apart from the curve's colours)
    "density": "#332288",  # indigo: p(x)
    "gp": "#44AA99",  # teal: g(x) p(x), whose area is E[g(X)]
    "samples": "#88CCEE",  # light cyan: the histogram of the samples
    "mc": "#CC6677",  # rose: the Monte Carlo estimate and its band
    "exact": "#3C3C3C",  # the exact value
    "law": "#117733",  # green: the 1/sqrt(N) law
    "surface_floor": "#c9cdd4",  # the 3D surface's floor grid and ticks
}

# The same keys on a dark background. Okabe-Ito colours that read on it are kept; the dark ones
# (blue, purple, wine, indigo, green, the near-black greys) are lightened to a contrast of at
# least 3:1 against the background (tests/ui/test_theme.py computes it). Halos around points
# stay white in both themes: they separate a point from the curve under it.
DARK = {
    "background": "#1e1f22",
    "axis": "#868a93",
    "axis_text": "#c9ccd2",
    "grid": "#303238",
    "zero_axis": "#575b63",
    "f": "#2F8FD8",
    "d1": "#E69F00",
    "d2": "#009E73",
    "tangent": "#D55E00",
    "secant": "#CC79A7",
    "point": "#D55E00",
    "point_edge": "#ffffff",
    "point_hover": "#F0A060",
    "error": "#FF6B5B",
    "taylor": "#B08FD8",
    "taylor_hover": "#CDB5EC",
    "minimum": "#009E73",
    "maximum": "#D55E00",
    "inflection": "#D9D9D9",
    "degenerate": "#8C8C8C",
    "positive": "#009E73",
    "negative": "#D55E00",
    "riemann": "#56B4E9",
    "riemann_bound": "#8CCBF2",
    "accumulation": "#D0608A",
    "lower": "#009E73",
    "upper": "#D55E00",
    "density": "#8F80E0",
    "gp": "#44AA99",
    "samples": "#88CCEE",
    "mc": "#CC6677",
    "exact": "#D9D9D9",
    "law": "#3DAA55",
    "surface_floor": "#4a4e56",
}

THEMES = {"light": LIGHT, "dark": DARK}
CHOICES = ("system", "light", "dark")  # what the user picks; "system" follows the desktop
SETTINGS_KEY = "v1/theme"

COLORS = dict(LIGHT)  # the current theme's colours, updated in place by apply_theme

# Plots stacked on one x axis (the curve and the sign plots) need equal left axes: pyqtgraph
# links x ranges by screen position.
LEFT_AXIS_WIDTH = 60


class _Notifier(QtCore.QObject):
    theme_changed = QtCore.Signal(str)  # "light" | "dark", after everything is recoloured


notifier = _Notifier()
_state = {"theme": "light", "palette": None}  # the theme applied; the app's own palette


def current_theme() -> str:
    """The theme applied last ("light" until :func:`apply_theme` says otherwise)."""
    return _state["theme"]


def with_alpha(key: str, alpha: int):
    """A QColor of ``COLORS[key]`` with ``alpha`` (0-255)."""
    color = QtGui.QColor(COLORS[key])
    color.setAlpha(alpha)
    return color


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options; call once before any view is built."""
    import pyqtgraph as pg

    pg.setConfigOptions(background=COLORS["background"], foreground=COLORS["axis_text"],
                        antialias=True)


def style_plot(plot, left: str | None = None, bottom: str | None = None,
               si_prefix: bool = True) -> None:
    """The house style of a PlotItem: no context menu or auto-range button, axes in the
    theme's greys, optional axis labels; ``si_prefix=False`` keeps "y (x0.001)" off."""
    plot.setMenuEnabled(False)
    plot.hideButtons()
    cache_axes(plot)
    for side, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(side)
        axis.setTextPen(COLORS["axis_text"])
        axis.setPen(COLORS["axis"])
        if not si_prefix:
            axis.enableAutoSIPrefix(False)
        if label is not None:
            plot.setLabel(side, label)


def cache_axes(plot) -> None:
    """Paint each axis of ``plot`` once into a pixmap, and blit it after.

    An axis replays its ticks and their text (a QPicture) on every paint that touches it,
    2-6 ms an axis here, and it is touched by most changes in the plot: its tick marks reach
    5 px into the view, and a gridded axis (``showGrid``) spans all of it. In the soak, with
    every dock open, axis replays were the largest single cost of a paint. Qt re-renders the
    pixmap when the axis changes (a new range, a resize) and keeps one per view."""
    for side in ("left", "bottom", "right", "top"):
        plot.getAxis(side).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


@functools.lru_cache(maxsize=256)
def mark_brush(color: str, alpha: int = 255) -> QtGui.QBrush:
    """One brush per colour and alpha for scatter marks, shared: never modify it.

    A scatter's symbol atlas keys each rendered symbol on the brush and pen *objects*, so a
    brush made anew on every redraw renders the symbol again and adds an atlas entry (kept
    until the atlas holds 1,000 of them)."""
    import pyqtgraph as pg

    qcolor = QtGui.QColor(color)
    qcolor.setAlpha(alpha)
    return pg.mkBrush(qcolor)


@functools.lru_cache(maxsize=256)
def mark_pen(color: str, width: float = 1.0) -> QtGui.QPen:
    """One pen per colour and width for the rims of scatter marks, shared like
    :func:`mark_brush`."""
    import pyqtgraph as pg

    return pg.mkPen(color, width=width)


def pen(key: str, width: float = 2.0, style=QtCore.Qt.PenStyle.SolidLine):
    import pyqtgraph as pg

    p = pg.mkPen(COLORS[key], width=width, style=style)
    p.setCosmetic(True)
    return p


# -- choosing a theme ------------------------------------------------------------------------------
def resolve_theme(choice: str) -> str:
    """The theme to apply for a user's ``choice``: "light" and "dark" as they are; "system" asks
    the platform (Qt's style hints: dark when the desktop says dark, light when it says light or
    does not say)."""
    if choice in THEMES:
        return choice
    if choice != "system":
        raise ValueError(f"unknown theme {choice!r}: expected one of {', '.join(CHOICES)}")
    return "dark" if system_scheme() == QtCore.Qt.ColorScheme.Dark else "light"


def system_scheme() -> QtCore.Qt.ColorScheme:
    """The desktop's colour scheme as Qt's style hints give it (Unknown where none is set)."""
    return QtGui.QGuiApplication.styleHints().colorScheme()


def stored_theme(settings: QtCore.QSettings) -> str:
    """The user's choice kept in ``settings`` ("system" when none, or not a choice)."""
    value = settings.value(SETTINGS_KEY, "system")
    return value if isinstance(value, str) and value in CHOICES else "system"


def _dark_palette() -> QtGui.QPalette:
    """A dark palette for the Fusion style, role by role (disabled text dimmed)."""
    roles = QtGui.QPalette.ColorRole
    colors = {
        roles.Window: "#2b2d30", roles.WindowText: "#dfe1e5", roles.Base: "#1e1f22",
        roles.AlternateBase: "#26282b", roles.ToolTipBase: "#3c3f41",
        roles.ToolTipText: "#dfe1e5", roles.PlaceholderText: "#8c8f94", roles.Text: "#dfe1e5",
        roles.Button: "#3a3d41", roles.ButtonText: "#dfe1e5", roles.BrightText: "#ff6b5b",
        roles.Light: "#4e5157", roles.Midlight: "#43464b", roles.Mid: "#2f3134",
        roles.Dark: "#191a1c", roles.Shadow: "#0c0c0d", roles.Highlight: "#2f65ca",
        roles.HighlightedText: "#ffffff", roles.Link: "#6cb2f0", roles.LinkVisited: "#b48ede",
    }
    palette = QtGui.QPalette()
    for role, value in colors.items():
        palette.setColor(role, QtGui.QColor(value))
    disabled = QtGui.QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(disabled, role, QtGui.QColor("#7a7e85"))
    palette.setColor(disabled, roles.Highlight, QtGui.QColor("#45484d"))
    return palette


def _is_dark(palette: QtGui.QPalette) -> bool:
    return palette.color(QtGui.QPalette.ColorRole.Window).lightness() < 128


def _palette_for(name: str) -> QtGui.QPalette:
    """The application's own palette when it already is of the theme (the desktop's colours),
    else Fusion's light palette or :func:`_dark_palette`."""
    original = _state["palette"]
    if _is_dark(original) == (name == "dark"):
        return QtGui.QPalette(original)
    if name == "dark":
        return _dark_palette()
    fusion = QtWidgets.QStyleFactory.create("Fusion")
    return fusion.standardPalette() if fusion is not None else QtGui.QPalette(QtGui.QColor("#efefef"))


def apply_theme(app: QtWidgets.QApplication | None, name: str) -> None:
    """Switch to the theme ``name`` ("light" or "dark"): the widgets' palette, ``COLORS``,
    pyqtgraph's defaults, every plot on screen; then ``notifier.theme_changed(name)`` (only
    when the theme changes). Cheap when nothing changes; pyqtgraph is not imported here."""
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}: expected 'light' or 'dark'")
    app = app or QtWidgets.QApplication.instance()
    if app is not None:
        if _state["palette"] is None:
            _state["palette"] = QtGui.QPalette(app.palette())
        app.setPalette(_palette_for(name))
    old = dict(COLORS)
    COLORS.clear()
    COLORS.update(THEMES[name])
    if "pyqtgraph" in sys.modules:  # else configure_pyqtgraph reads COLORS when it is loaded
        configure_pyqtgraph()
    changed = name != _state["theme"]
    _state["theme"] = name
    try:
        if app is not None and old != COLORS:
            _restyle_app(app, old, COLORS)
    finally:  # the owners of custom items recolour them even if one item could not be
        if changed:
            notifier.theme_changed.emit(name)


def on_theme_changed(owner: QtCore.QObject, slot) -> None:
    """Call ``slot(name)`` after each theme change while ``owner`` lives (the connection goes
    with it, as a connection to one of its slots would)."""
    link = _Link(owner, slot)
    notifier.theme_changed.connect(link.relay)


class _Link(QtCore.QObject):
    def __init__(self, owner: QtCore.QObject, slot):
        super().__init__(owner)
        self._slot = slot

    @QtCore.Slot(str)
    def relay(self, name: str) -> None:
        self._slot(name)


# -- the View > Theme menu -------------------------------------------------------------------------
class ThemeMenu(QtCore.QObject):
    """The exclusive System / Light / Dark actions of a window's Theme menu; the choice lives in
    ``window.settings`` under :data:`SETTINGS_KEY`. While it is "system", a change of the
    desktop's colour scheme is followed."""

    def __init__(self, window, menu: QtWidgets.QMenu):
        super().__init__(menu)
        self.setObjectName("themeController")
        self.window, self.menu = window, menu
        self.group = QtGui.QActionGroup(menu)
        self.group.setExclusive(True)
        self.actions: dict[str, QtGui.QAction] = {}
        for choice, text, tip in (("system", "&System", "Follow the desktop's light or dark setting"),
                                  ("light", "&Light", "Dark text and curves on white"),
                                  ("dark", "&Dark", "Light text and curves on dark grey")):
            action = menu.addAction(text)
            action.setObjectName(f"theme{choice.title()}")
            action.setCheckable(True)
            action.setData(choice)
            action.setStatusTip(tip)
            self.group.addAction(action)
            action.triggered.connect(lambda _checked=False, c=choice: self.choose(c))
            self.actions[choice] = action
        self.actions[stored_theme(window.settings)].setChecked(True)
        QtGui.QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_system_changed)

    def choose(self, choice: str) -> None:
        """Keep ``choice`` in the settings and apply the theme it resolves to."""
        if choice not in CHOICES:
            raise ValueError(f"unknown theme {choice!r}: expected one of {', '.join(CHOICES)}")
        self.window.settings.setValue(SETTINGS_KEY, choice)
        self.actions[choice].setChecked(True)
        apply_theme(QtWidgets.QApplication.instance(), resolve_theme(choice))

    @QtCore.Slot()
    def _on_system_changed(self, *_scheme) -> None:
        import shiboken6

        # a closed window (its settings perhaps another profile's) has no say any more
        if not shiboken6.isValid(self.window) or not self.window.isVisible():
            return
        if stored_theme(self.window.settings) == "system":
            apply_theme(QtWidgets.QApplication.instance(), resolve_theme("system"))


def install_theme_menu(window, view_menu: QtWidgets.QMenu) -> ThemeMenu:
    """Add View > Theme (System / Light / Dark) to ``view_menu``, checked as the window's
    settings say; a second call returns the menu already there."""
    existing = view_menu.findChild(ThemeMenu, "themeController",
                                   QtCore.Qt.FindChildOption.FindChildrenRecursively)
    if existing is not None:
        return existing
    view_menu.addSeparator()
    menu = view_menu.addMenu("T&heme")
    menu.setObjectName("themeMenu")
    return ThemeMenu(window, menu)


# -- recolouring what is drawn ---------------------------------------------------------------------
# A switch translates colours: each colour of the old theme becomes its key's colour in the new
# one (alpha kept). White is translated only where it is the background (plot backgrounds, the
# backdrops of legends and texts): as a pen it is a halo, or a path drawn on a coloured map.
_BACKDROP_ONLY = ("background", "point_edge")
_HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def color_table(old: dict, new: dict, backdrop: bool = False) -> dict[str, str]:
    """``{"#rrggbb": new value}``: each colour of ``old`` (lower case) that changes in ``new``,
    to the new value as ``new`` writes it (so text written from ``COLORS`` comes back exactly).
    ``backdrop`` adds the background's. A colour two keys share and translate differently is
    left out."""
    table: dict[str, str] = {}
    clashes = set()
    for key, value in old.items():
        if key not in new or (key in _BACKDROP_ONLY and not (backdrop and key == "background")):
            continue
        src, dst = QtGui.QColor(value).name(), new[key]
        if src in table and table[src].lower() != dst.lower():
            clashes.add(src)
        table[src] = dst
    return {src: dst for src, dst in table.items()
            if src not in clashes and dst.lower() != src}


def _color(color, table) -> QtGui.QColor | None:
    """``color`` translated (its alpha kept), or None when it stays."""
    if color is None:
        return None
    if not isinstance(color, QtGui.QColor):
        import pyqtgraph as pg

        try:
            color = pg.mkColor(color)
        except Exception:  # noqa: BLE001 - not a colour pyqtgraph reads: left as it is
            return None
    dst = table.get(color.name())
    if dst is None:
        return None
    out = QtGui.QColor(dst)
    out.setAlpha(color.alpha())
    return out


def _pen(value, table):
    """A pen (or anything pyqtgraph makes one from) translated, or None when it stays."""
    import pyqtgraph as pg

    if value is None:
        return None
    if not isinstance(value, QtGui.QPen):
        try:
            value = pg.mkPen(value)
        except Exception:  # noqa: BLE001 - a per-point list or an odd spec: left as it is
            return None
    if value.style() == QtCore.Qt.PenStyle.NoPen or value.brush().gradient() is not None:
        return None
    color = _color(value.color(), table)
    if color is None:
        return None
    out = QtGui.QPen(value)
    out.setColor(color)
    return out


def _brush(value, table):
    """A brush translated, or None when it stays."""
    import pyqtgraph as pg

    if value is None:
        return None
    if not isinstance(value, QtGui.QBrush):
        try:
            value = pg.mkBrush(value)
        except Exception:  # noqa: BLE001
            return None
    if value.style() != QtCore.Qt.BrushStyle.SolidPattern:
        return None
    color = _color(value.color(), table)
    if color is None:
        return None
    out = QtGui.QBrush(value)
    out.setColor(color)
    return out


def _html(text: str, table) -> str:
    """``text`` with the colours written in it (#rrggbb) translated."""
    def swap(match):
        return table.get(match.group(0).lower(), match.group(0))

    return _HEX.sub(swap, text)


def _restyle_item(item, marks, backdrops) -> None:
    """Translate one pyqtgraph item's colours through its own setters."""
    import pyqtgraph as pg

    def apply(setter, value):
        if value is not None:
            setter(value)

    if isinstance(item, pg.PlotDataItem):
        opts = item.opts
        apply(item.setPen, _pen(opts.get("pen"), marks))
        apply(item.setShadowPen, _pen(opts.get("shadowPen"), marks))
        apply(item.setFillBrush, _brush(opts.get("fillBrush"), marks))
        apply(item.setSymbolPen, _pen(opts.get("symbolPen"), marks))
        apply(item.setSymbolBrush, _brush(opts.get("symbolBrush"), marks))
    elif isinstance(item, pg.PlotCurveItem):
        apply(item.setPen, _pen(item.opts.get("pen"), marks))
        apply(item.setShadowPen, _pen(item.opts.get("shadowPen"), marks))
        apply(item.setBrush, _brush(item.opts.get("brush"), marks))
    elif isinstance(item, pg.ScatterPlotItem):
        apply(item.setPen, _pen(item.opts.get("pen"), marks))
        apply(item.setBrush, _brush(item.opts.get("brush"), marks))
        data = item.data
        changed = False
        for field, translate in (("pen", _pen), ("brush", _brush)):
            values = list(data[field])
            new = [translate(v, marks) if v is not None else None for v in values]
            if any(n is not None for n in new):
                data[field] = [n if n is not None else v for n, v in zip(new, values, strict=True)]
                changed = True
        if changed:
            data["sourceRect"] = 0
            item.updateSpots(data)
            item.update()
    elif isinstance(item, pg.TargetItem):
        apply(item.setPen, _pen(item.pen, marks))
        apply(item.setHoverPen, _pen(item.hoverPen, marks))
        apply(item.setBrush, _brush(item.brush, marks))
        apply(item.setHoverBrush, _brush(item.hoverBrush, marks))
    elif isinstance(item, pg.InfiniteLine):
        apply(item.setPen, _pen(item.pen, marks))
        apply(item.setHoverPen, _pen(item.hoverPen, marks))
    elif isinstance(item, pg.LinearRegionItem):
        apply(item.setBrush, _brush(item.brush, marks))
        apply(item.setHoverBrush, _brush(item.hoverBrush, marks))
    elif isinstance(item, pg.FillBetweenItem):
        apply(item.setBrush, _brush(item.brush(), marks))
        apply(item.setPen, _pen(item.pen(), marks))
    elif isinstance(item, pg.TextItem):  # also the labels of InfiniteLines
        apply(item.setColor, _color(getattr(item, "color", None), marks))  # None: html
        fill, border = _brush(item.fill, backdrops), _pen(item.border, marks)
        if fill is not None or border is not None:
            item.fill = fill if fill is not None else item.fill
            item.border = border if border is not None else item.border
            item.update()
        html = item.toHtml()
        if "#" in html:
            new = _html(html, marks)
            if new != html:
                item.setHtml(new)
    elif isinstance(item, pg.LabelItem):  # titles, legend rows
        color = item.opts.get("color")
        translated = _color(color, marks) if color is not None else None
        text = _html(item.text, marks)
        if translated is not None or text != item.text or color is None:
            item.setText(text, **({"color": translated} if translated is not None else {}))
    elif isinstance(item, pg.LegendItem):
        apply(item.setPen, _pen(item.opts.get("pen"), marks))
        apply(item.setBrush, _brush(item.opts.get("brush"), backdrops))
        apply(item.setLabelTextColor, _color(item.opts.get("labelTextColor"), marks))
        for sample, _label in item.items:
            sample.update()
    elif isinstance(item, pg.GridItem):
        apply(item.setPen, _pen(item.opts.get("pen"), marks))
    elif isinstance(item, pg.AxisItem):
        line, text = item.pen(), item.textPen()
        new_line, new_text = _pen(line, marks), _pen(text, marks)
        if new_line is not None:
            item.setPen(new_line)
        if new_line is not None or new_text is not None:  # setPen colours the label too
            item.setTextPen(new_text if new_text is not None else text)


def _restyle_app(app, old: dict, new: dict) -> None:
    """Recolour what is on screen from the ``old`` colours to the ``new``: plot backgrounds and
    items, style sheets, rich-text labels and table cells that use the theme's colours."""
    marks = color_table(old, new)
    backdrops = color_table(old, new, backdrop=True)
    pg = sys.modules.get("pyqtgraph")
    for widget in app.allWidgets():
        if pg is not None and isinstance(widget, pg.GraphicsView):
            background = _color(widget.backgroundBrush().color(), backdrops)
            if background is not None:
                widget.setBackground(background)
            scene = widget.scene()
            if scene is None:
                continue
            for item in scene.items():
                # a PlotDataItem passes its translated pens on to its curve and its symbols
                if not isinstance(item.parentItem(), pg.PlotDataItem):
                    _restyle_item(item, marks, backdrops)
            continue
        sheet = widget.styleSheet()
        if sheet:
            # set again even when unchanged: a widget polished by a style sheet keeps the
            # palette it was polished with (text colour included) until it is polished again
            widget.setStyleSheet(_html(sheet, marks))
        if isinstance(widget, QtWidgets.QLabel):
            text = widget.text()
            if "#" in text and "color" in text:
                new_text = _html(text, marks)
                if new_text != text:
                    widget.setText(new_text)
        elif isinstance(widget, QtWidgets.QTableWidget):
            for row in range(widget.rowCount()):
                for column in range(widget.columnCount()):
                    cell = widget.item(row, column)
                    if cell is None:
                        continue
                    foreground = _brush(cell.foreground(), marks)
                    if foreground is not None:
                        cell.setForeground(foreground)
                    background = _brush(cell.background(), marks)
                    if background is not None:
                        cell.setBackground(background)
