"""Light and dark themes: the palettes, the choice (system / light / dark) and what a switch
recolours, read back from the widgets, the plot items and the rendered pixels."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui import theme
from explorer.ui.theme import (
    DARK,
    LIGHT,
    SETTINGS_KEY,
    THEMES,
    apply_theme,
    install_theme_menu,
    resolve_theme,
    stored_theme,
)

# keys drawn as marks or text on the background (the rest are the background itself, faint
# guides, and the white halos around points)
NOT_FOREGROUND = {"background", "grid", "zero_axis", "point_edge", "surface_floor"}


def relative_luminance(hex_: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour "#rrggbb"."""
    channels = [int(hex_[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def luma(color: QtGui.QColor) -> float:
    return 0.2126 * color.red() + 0.7152 * color.green() + 0.0722 * color.blue()


@pytest.fixture(autouse=True)
def light_afterwards(qapp):
    """Every test leaves the light theme on (COLORS is shared by every test)."""
    yield
    apply_theme(qapp, "light")


def theme_actions(window) -> dict[str, QtGui.QAction]:
    controller = install_theme_menu(window, window.view_menu)
    return controller.actions


# -- the palettes ----------------------------------------------------------------------------------
def test_wcag_formula_matches_known_ratios():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_themes_have_the_same_keys():
    assert set(LIGHT) == set(DARK)
    assert set(THEMES) == {"light", "dark"}


@pytest.mark.parametrize("key", sorted(set(DARK) - NOT_FOREGROUND))
def test_dark_foreground_reads_on_the_dark_background(key):
    assert contrast(DARK[key], DARK["background"]) >= 3.0, key


def test_dark_text_is_readable():
    assert contrast(DARK["axis_text"], DARK["background"]) >= 4.5
    assert relative_luminance(DARK["background"]) < relative_luminance(DARK["grid"]) < \
        relative_luminance(DARK["axis"])  # the grid is fainter than the axes


def test_every_changed_colour_translates_both_ways():
    for old, new in ((LIGHT, DARK), (DARK, LIGHT)):
        table = theme.color_table(old, new)
        for key in old:
            if key in ("background", "point_edge") or old[key].lower() == new[key].lower():
                continue
            assert table[old[key].lower()] == new[key], key
    backdrops = theme.color_table(LIGHT, DARK, backdrop=True)
    assert backdrops["#ffffff"] == DARK["background"]
    assert "#ffffff" not in theme.color_table(LIGHT, DARK)  # white pens (halos) stay white


# -- the choice --------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme, expected", [(QtCore.Qt.ColorScheme.Dark, "dark"),
                                              (QtCore.Qt.ColorScheme.Light, "light"),
                                              (QtCore.Qt.ColorScheme.Unknown, "light")])
def test_system_resolves_from_the_style_hints(qapp, monkeypatch, scheme, expected):
    monkeypatch.setattr(theme, "system_scheme", lambda: scheme)
    assert resolve_theme("system") == expected
    assert resolve_theme("dark") == "dark" and resolve_theme("light") == "light"


def test_unknown_choices_are_refused(qapp, settings):
    with pytest.raises(ValueError, match="unknown theme"):
        resolve_theme("sepia")
    with pytest.raises(ValueError, match="unknown theme"):
        apply_theme(qapp, "system")
    assert stored_theme(settings) == "system"
    settings.setValue(SETTINGS_KEY, "sepia")
    assert stored_theme(settings) == "system"
    settings.setValue(SETTINGS_KEY, "dark")
    assert stored_theme(settings) == "dark"


# -- switching a window --------------------------------------------------------------------------
def test_dark_and_back(qtbot, qapp, make_window):
    window = make_window(expression="sin(x)", restore=False)
    view = window.curve_view
    axis = view.getPlotItem().getAxis("left")
    actions = theme_actions(window)
    assert actions["system"].isChecked()  # nothing stored yet

    def state():
        QtWidgets.QApplication.processEvents()
        return {"pixel": view.grab().toImage().pixelColor(5, 5).name(),
                "text": axis.textPen().color().name(), "line": axis.pen().color().name(),
                "window": qapp.palette().color(QtGui.QPalette.ColorRole.Window).name(),
                "f": view.f_item.opts["pen"].color().name(),
                "legend": view.legend.opts["brush"].color().name(QtGui.QColor.NameFormat.HexArgb),
                "error": window.function_panel.error_label.styleSheet()}

    light = state()
    assert light["text"] == LIGHT["axis_text"].lower()
    with qtbot.waitSignal(theme.notifier.theme_changed, timeout=2000) as signal:
        actions["dark"].trigger()
    assert signal.args == ["dark"]
    dark = state()
    assert luma(QtGui.QColor(dark["pixel"])) < 60 < luma(QtGui.QColor(light["pixel"]))
    assert dark["text"] == DARK["axis_text"].lower() and dark["line"] == DARK["axis"].lower()
    assert dark["f"] == DARK["f"].lower()
    assert QtGui.QColor(dark["window"]).lightness() < 128 <= QtGui.QColor(light["window"]).lightness()
    assert QtGui.QColor(dark["legend"]).name() == DARK["background"]
    assert DARK["error"] in dark["error"]
    assert theme.COLORS == DARK and theme.current_theme() == "dark"
    assert window.settings.value(SETTINGS_KEY) == "dark" and actions["dark"].isChecked()

    actions["light"].trigger()
    assert state() == light
    assert theme.COLORS == LIGHT
    assert window.settings.value(SETTINGS_KEY) == "light"
    assert stored_theme(window.settings) == "light"


def test_system_choice_follows_the_desktop(qtbot, qapp, make_window, monkeypatch):
    window = make_window(expression="sin(x)", restore=False)
    actions = theme_actions(window)
    scheme = {"now": QtCore.Qt.ColorScheme.Dark}
    monkeypatch.setattr(theme, "system_scheme", lambda: scheme["now"])
    actions["system"].trigger()
    assert window.settings.value(SETTINGS_KEY) == "system"
    assert theme.current_theme() == "dark"
    scheme["now"] = QtCore.Qt.ColorScheme.Light
    QtGui.QGuiApplication.styleHints().colorSchemeChanged.emit(scheme["now"])
    assert theme.current_theme() == "light"
    # an explicit choice is kept when the desktop changes
    actions["dark"].trigger()
    QtGui.QGuiApplication.styleHints().colorSchemeChanged.emit(scheme["now"])
    assert theme.current_theme() == "dark"


def test_theme_menu_is_installed_once(make_window):
    window = make_window(expression="sin(x)", restore=False)
    first = install_theme_menu(window, window.view_menu)
    assert install_theme_menu(window, window.view_menu) is first
    menus = window.view_menu.findChildren(QtWidgets.QMenu, "themeMenu")
    assert len(menus) == 1 and menus[0].menuAction() in window.view_menu.actions()
    assert [a.objectName() for a in menus[0].actions()] == ["themeSystem", "themeLight",
                                                            "themeDark"]


def _plot_views(window):
    import pyqtgraph as pg

    return window.findChildren(pg.GraphicsView)


def test_every_view_paints_in_dark(qtbot, qapp, make_window):
    window = make_window(expression="x^2 - y^2", restore=False)
    views = _plot_views(window)
    assert len(views) >= 15  # the curve, the labs' plots, the landscape, ...
    apply_theme(qapp, "dark")
    QtWidgets.QApplication.processEvents()
    for view in views:
        assert view.backgroundBrush().color().name() == DARK["background"], view.objectName()
        image = view.grab().toImage()  # paints every item: an exception in paint fails here
        assert image.width() > 0
    landscape = window.landscape_view
    corner = landscape.grab().toImage().pixelColor(3, 3)
    assert luma(corner) < 60
    assert landscape.message.color.name() == DARK["axis_text"]
    # the views that keep colours of their own follow too
    graph = window.graph_view
    assert graph._colors["axis_text"].name() == DARK["axis_text"]
    assert DARK["axis_text"] in graph.banner.styleSheet()
    boxes = window.integral_overlay.boxes
    assert boxes._brush.color().name() == DARK["riemann"].lower()
    for layer in (window.race_plots.loss, window.race_plots.grad):
        assert layer.dot_pen.color().name() == DARK["axis_text"]


def test_a_window_built_in_dark_is_dark(qapp, make_window, settings):
    settings.setValue(SETTINGS_KEY, "dark")  # as a user who chose it (the window may apply it)
    apply_theme(qapp, "dark")  # as the start-up does before the views are built
    window = make_window(expression="sin(x)", restore=False)
    view = window.curve_view
    assert luma(view.grab().toImage().pixelColor(5, 5)) < 60
    assert view.getPlotItem().getAxis("bottom").textPen().color().name() == DARK["axis_text"]
    # backdrops are the background's colour, not white
    assert view.legend.opts["brush"].color().name() == DARK["background"]
    sign = window.sign_views[0]
    assert sign.key.fill.color().name() == DARK["background"]


def test_widgets_with_style_sheets_follow_the_palette(qtbot, qapp):
    """A widget polished by a style sheet keeps its palette unless polished again."""
    apply_theme(qapp, "dark")
    label = QtWidgets.QLabel("L = sin(x)")
    label.setStyleSheet("padding: 4px; border-radius: 4px;")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    assert label.palette().color(QtGui.QPalette.ColorRole.WindowText).lightness() > 128
    apply_theme(qapp, "light")
    assert label.palette().color(QtGui.QPalette.ColorRole.WindowText).lightness() < 128


def test_typeset_formula_keeps_its_size_on_a_2x_screen(make_window, monkeypatch):
    """The formula image is rendered at 2x: shown at half its pixels in logical size on any
    screen (a 2x screen then draws every pixel), not shrunk again by the screen's ratio."""
    window = make_window(expression="sin(x)", restore=False)
    panel = window.function_panel
    monkeypatch.setattr(type(panel), "devicePixelRatioF", lambda self: 2.0)
    width, height = 120, 40
    image = (width, height, bytes(4 * width * height))
    panel.show_typeset({"f": image, "d1": image, "f_text": "f", "d1_text": "f'"})
    size = panel.formula_label.pixmap().deviceIndependentSize()
    assert (size.width(), size.height()) == (width / 2, height / 2)


def test_a_closed_window_does_not_answer_the_desktop(qtbot, qapp, make_window, monkeypatch):
    """Two windows, the first (choice: system) closed: a desktop change must not switch the
    theme the open one chose."""
    first = make_window(expression="sin(x)", restore=False)
    theme_actions(first)["system"].trigger()
    first.close()
    second = make_window(expression="cos(x)", restore=False,
                         settings_=QtCore.QSettings(first.settings.fileName() + ".2",
                                                    QtCore.QSettings.Format.IniFormat))
    theme_actions(second)["dark"].trigger()
    monkeypatch.setattr(theme, "system_scheme", lambda: QtCore.Qt.ColorScheme.Light)
    QtGui.QGuiApplication.styleHints().colorSchemeChanged.emit(QtCore.Qt.ColorScheme.Light)
    assert theme.current_theme() == "dark"
