"""Help in the app: the "?" on every dock's title bar, the title bars' float and close buttons,
the keyboard shortcuts dialog and the About box."""

from __future__ import annotations

import html
import platform
import re
from html.parser import HTMLParser

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.help import (
    AboutDialog,
    DockTitleBar,
    HelpWindow,
    ShortcutsDialog,
    help_keys,
    help_text,
    install_help,
    installed_help,
    menu_shortcuts,
    versions,
)

LEFT = QtCore.Qt.MouseButton.LeftButton
NATIVE = QtGui.QKeySequence.SequenceFormat.NativeText


def _help_menu(window) -> QtWidgets.QMenu:
    """The window's Help menu: ``window.help_menu`` once the main window sets it, else found by
    its title among the menu bar's menus (QAction.menu() wrappers do not outlive the action's
    wrapper in PySide6 6.10, so the menus are found as the menu bar's children)."""
    menu = getattr(window, "help_menu", None)
    if menu is not None:
        return menu
    for menu in window.menuBar().findChildren(QtWidgets.QMenu):
        if menu.title().replace("&", "") == "Help":
            return menu
    raise AssertionError("the window has no Help menu")


@pytest.fixture
def helped(make_window):
    """A window with its help installed (by the window itself, or here when it does not yet)."""
    window = make_window(expression="sin(x)", restore=False)
    installer = install_help(window, _help_menu(window))
    return window, installer


def _heading(key: str) -> str:
    """The text of the first heading of a help file."""
    match = re.search(r"<h[1-4][^>]*>(.*?)</h[1-4]>", help_text(key), re.S)
    assert match, key
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def _menu_action(menu: QtWidgets.QMenu, text: str) -> QtGui.QAction:
    found = [a for a in menu.actions() if a.text().replace("&", "") == text]
    assert len(found) == 1, [a.text() for a in menu.actions()]
    return found[0]


# -- the "?" buttons -----------------------------------------------------------------------------
def test_every_dock_has_a_title_bar_with_help(helped):
    window, installer = helped
    assert set(window.docks) <= set(help_keys())
    for key, dock in window.docks.items():
        bar = dock.titleBarWidget()
        assert isinstance(bar, DockTitleBar), key
        assert bar is installer.title_bars[key]
        assert bar.label.text() == dock.windowTitle()
        assert bar.help_button.objectName() == f"{key}HelpButton"
        assert dock.windowTitle() in bar.help_button.toolTip()
        # the native buttons' look: the style's small title-bar icons
        assert bar.float_button.sizeHint().height() <= bar.sizeHint().height()
        assert bar.float_button.icon_size().width() <= 16


def test_help_button_opens_the_docks_help(helped, qtbot):
    window, installer = helped
    dock = window.docks["function"]
    assert dock.isVisible()
    bar = dock.titleBarWidget()
    assert "function" not in installer.help_windows
    qtbot.mouseClick(bar.help_button, LEFT)
    help_window = installer.help_windows["function"]
    qtbot.waitUntil(help_window.isVisible)
    assert isinstance(help_window, HelpWindow)
    assert help_window.windowTitle() == "Function — Help"
    assert _heading("function") in help_window.text()
    assert "f′(x)" in help_window.text()  # the formula, rendered from its HTML
    # non-modal and resizable
    assert not help_window.isModal()
    assert help_window.windowModality() == QtCore.Qt.WindowModality.NonModal
    assert help_window.isSizeGripEnabled()
    assert help_window.maximumWidth() > help_window.width()
    # the window stays usable behind it
    assert QtWidgets.QApplication.activeModalWidget() is None

    # closed and asked again: the same window, shown again
    help_window.close()
    assert not help_window.isVisible()
    qtbot.mouseClick(bar.help_button, LEFT)
    qtbot.waitUntil(help_window.isVisible)
    assert installer.help_windows["function"] is help_window
    assert len(window.findChildren(HelpWindow)) == 1


def test_each_dock_gets_its_own_help(helped, qtbot):
    window, installer = helped
    window.option_actions["show_taylor"].trigger()  # Ctrl+4: the Taylor lab opens
    qtbot.waitUntil(lambda: window.docks["taylor"].isVisible())
    for key in ("taylor", "taylor_error", "point"):
        dock = window.docks[key]
        qtbot.mouseClick(dock.titleBarWidget().help_button, LEFT)
        help_window = installer.help_windows[key]
        qtbot.waitUntil(help_window.isVisible)
        assert help_window.windowTitle() == f"{dock.windowTitle()} — Help"
        assert _heading(key) in help_window.text()
    texts = {k: w.text() for k, w in installer.help_windows.items()}
    assert len(set(texts.values())) == len(texts)  # three different texts
    assert "Tn(x) = Σ" in texts["taylor"].replace("\u2009", "")  # T<sub>n</sub>(x) = Σ ...


def test_title_follows_the_docks_title(helped, qtbot):
    window, installer = helped
    dock = window.docks["point"]
    bar = dock.titleBarWidget()
    dock.setWindowTitle("Point x₀")
    assert bar.label.text() == "Point x₀"
    assert "Point x₀" in bar.help_button.toolTip()
    qtbot.mouseClick(bar.help_button, LEFT)
    assert installer.help_windows["point"].windowTitle() == "Point x₀ — Help"


def test_long_titles_are_elided_not_forcing_width(helped):
    window, _installer = helped
    bar = window.docks["chain"].titleBarWidget()  # "Vanishing and exploding gradients"
    assert bar.label.minimumSizeHint().width() < bar.label.sizeHint().width() // 3
    bar.label.resize(60, bar.label.height())
    assert bar.label.elided().endswith("…")
    assert bar.label.tip() == window.docks["chain"].windowTitle()
    bar.label.resize(bar.label.sizeHint())
    assert bar.label.elided() == bar.label.text()
    assert bar.label.tip() == ""


# -- float and close -------------------------------------------------------------------------------
def test_close_button_hides_the_dock_and_unchecks_its_action(helped, qtbot):
    window, _installer = helped
    dock = window.docks["point"]
    action = dock.toggleViewAction()
    assert dock.isVisible() and action.isChecked()
    qtbot.mouseClick(dock.titleBarWidget().close_button, LEFT)
    assert not dock.isVisible()
    assert not action.isChecked()
    action.trigger()  # View > Point brings it back, with its title bar
    assert dock.isVisible()
    assert dock.titleBarWidget().isVisible()


def test_float_button_floats_and_docks(helped, qtbot):
    window, _installer = helped
    dock = window.docks["point"]
    bar = dock.titleBarWidget()
    assert not dock.isFloating()
    assert bar.float_button.toolTip() == "Float"
    qtbot.mouseClick(bar.float_button, LEFT)
    qtbot.waitUntil(dock.isFloating)
    assert dock.isVisible()
    assert bar.float_button.toolTip() == "Dock"
    qtbot.mouseClick(bar.float_button, LEFT)
    qtbot.waitUntil(lambda: not dock.isFloating())
    assert window.dockWidgetArea(dock) == QtCore.Qt.DockWidgetArea.LeftDockWidgetArea


def test_double_click_on_the_title_toggles_floating(helped, qtbot):
    window, _installer = helped
    dock = window.docks["function"]
    label = dock.titleBarWidget().label
    qtbot.mouseDClick(label, LEFT, pos=QtCore.QPoint(10, label.height() // 2))
    qtbot.waitUntil(dock.isFloating)
    qtbot.mouseDClick(label, LEFT, pos=QtCore.QPoint(10, label.height() // 2))
    qtbot.waitUntil(lambda: not dock.isFloating())


def test_buttons_follow_the_docks_features(helped):
    window, _installer = helped
    dock = window.docks["parameters"]
    bar = dock.titleBarWidget()
    feature = QtWidgets.QDockWidget.DockWidgetFeature
    dock.setFeatures(feature.DockWidgetMovable)
    assert bar.float_button.isHidden() and bar.close_button.isHidden()
    assert not bar.help_button.isHidden()  # help is always there
    dock.setFeatures(feature.DockWidgetMovable | feature.DockWidgetClosable
                     | feature.DockWidgetFloatable)
    assert not bar.float_button.isHidden() and not bar.close_button.isHidden()


def _shown(widget) -> bool:
    """On screen: Qt keeps a tabified dock that is not the current tab visible, but moves it
    out of the window, so nothing of it is exposed."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def test_tabified_docks_show_the_current_ones_title_bar(helped, qtbot):
    window, _installer = helped
    parameters, critical = window.docks["parameters"], window.docks["critical"]
    assert critical in window.tabifiedDockWidgets(parameters)
    assert _shown(parameters.titleBarWidget()) and not _shown(critical.titleBarWidget())
    tabs = [bar for bar in window.findChildren(QtWidgets.QTabBar)
            if "Critical points" in [bar.tabText(i) for i in range(bar.count())]]
    assert len(tabs) == 1, "the tabified docks lost their tabs"
    titles = [tabs[0].tabText(i) for i in range(tabs[0].count())]
    assert titles == ["Parameters", "Critical points"]
    tabs[0].setCurrentIndex(titles.index("Critical points"))  # as a click on the tab does
    qtbot.waitUntil(lambda: _shown(critical.titleBarWidget()))
    assert not _shown(parameters.titleBarWidget())
    # the current tab's "?" works as any other
    qtbot.mouseClick(critical.titleBarWidget().help_button, LEFT)
    assert _helped_key(window) == "critical"
    parameters.raise_()
    qtbot.waitUntil(lambda: _shown(parameters.titleBarWidget()))
    assert not _shown(critical.titleBarWidget())


def _helped_key(window) -> str:
    shown = [w.key for w in window.findChildren(HelpWindow) if w.isVisible()]
    assert len(shown) == 1, shown
    return shown[0]


def test_layout_round_trip_with_custom_title_bars(helped, qtbot):
    window, _installer = helped
    docks = window.docks
    state = window.saveState(1)
    bars = {key: dock.titleBarWidget() for key, dock in docks.items()}

    docks["point"].setFloating(True)
    docks["function"].close()
    window.option_actions["show_taylor"].trigger()
    qtbot.waitUntil(lambda: docks["taylor"].isVisible())
    changed = window.saveState(1)
    assert changed != state

    assert window.restoreState(state, 1)
    qtbot.waitUntil(lambda: not docks["point"].isFloating())
    assert docks["function"].isVisible()
    assert not docks["taylor"].isVisible()
    assert docks["function"].toggleViewAction().isChecked()
    # and the other way: the changed layout comes back too
    assert window.restoreState(changed, 1)
    qtbot.waitUntil(docks["point"].isFloating)
    assert not docks["function"].isVisible()
    assert docks["taylor"].isVisible()
    assert {key: dock.titleBarWidget() for key, dock in docks.items()} == bars


# -- the Help menu ---------------------------------------------------------------------------------
def test_install_help_is_idempotent(helped):
    window, installer = helped
    menu = _help_menu(window)
    before = [a.text() for a in menu.actions()]
    bars = {key: dock.titleBarWidget() for key, dock in window.docks.items()}
    assert install_help(window, menu) is installer
    assert installed_help(window) is installer
    assert [a.text() for a in menu.actions()] == before
    assert {key: dock.titleBarWidget() for key, dock in window.docks.items()} == bars
    texts = [a.text().replace("&", "") for a in menu.actions()]
    assert texts.count("Keyboard shortcuts") == 1
    assert texts.count("About Calculus Explorer") == 1
    assert "Expression syntax" in texts  # the window's own entry stays


def test_shortcuts_dialog_lists_the_menus_shortcuts(helped, qtbot):
    window, installer = helped
    action = _menu_action(_help_menu(window), "Keyboard shortcuts")
    keys = {k.toString(NATIVE) for k in action.shortcuts()}
    assert keys == {QtGui.QKeySequence(k).toString(NATIVE) for k in ("F1", "Ctrl+/")}
    action.trigger()
    dialog = installer.shortcuts_dialog
    assert isinstance(dialog, ShortcutsDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert not dialog.isModal()
    rows = dialog.rows()
    by_key = {}
    for menu, command, key in rows:
        for one in key.split(", "):
            by_key.setdefault(one, []).append((menu, command))

    def native(text):
        return QtGui.QKeySequence(text).toString(NATIVE)

    assert ("File", "Open…") in by_key[native("Ctrl+O")]
    assert ("File", "Save") in by_key[native("Ctrl+S")]
    assert ("View", "Optimizer race on f(x, y)") in by_key[native("Ctrl+R")]
    assert ("View", "Show the Taylor polynomial") in by_key[native("Ctrl+4")]
    assert ("View", "Surface 3D") in by_key[native("Ctrl+Shift+D")]  # a dock's toggle action
    assert ("Help", "Keyboard shortcuts") in by_key[native("F1")]
    # no mnemonic ampersands, nothing without a shortcut
    assert all("&" not in menu + command and key for menu, command, key in rows)
    assert ("View", "Reset layout") not in [(m, c) for m, c, _k in rows]
    # sorted by menu, in the menu bar's order
    menus = [m for m, _c, _k in rows]
    order = [a.text().replace("&", "") for a in window.menuBar().actions()]
    ranks = [order.index(m.split(" › ")[0]) for m in menus]
    assert ranks == sorted(ranks)
    assert sorted(rows) == sorted(menu_shortcuts(window))  # the same rows, the table sorted


def test_shortcuts_are_collected_when_shown(helped, qtbot):
    window, installer = helped
    installer.show_shortcuts()
    assert not any(c == "Do a new thing" for _m, c, _k in installer.shortcuts_dialog.rows())
    menu = _help_menu(window)
    extra = menu.addAction("Do a new &thing")
    extra.setShortcut(QtGui.QKeySequence("Ctrl+Shift+F12"))
    installer.shortcuts_dialog.close()
    installer.show_shortcuts()
    rows = installer.shortcuts_dialog.rows()
    assert ("Help", "Do a new thing",
            QtGui.QKeySequence("Ctrl+Shift+F12").toString(NATIVE)) in rows
    menu.removeAction(extra)


def test_about_box_lists_the_installed_versions(helped, qtbot):
    import numpy
    import PySide6
    import sympy

    import explorer

    window, installer = helped
    about = _menu_action(_help_menu(window), "About Calculus Explorer")
    # The window's own About (a modal QMessageBox) must no longer run: if it did, it would
    # block here, so any modal box is closed and remembered.
    seen = []

    def close_modal():
        modal = QtWidgets.QApplication.activeModalWidget()
        if modal is not None:
            seen.append(modal)
            modal.close()

    timer = QtCore.QTimer(interval=50)
    timer.timeout.connect(close_modal)
    timer.start()
    try:
        about.trigger()
        dialog = installer.about_dialog
        assert isinstance(dialog, AboutDialog)
        qtbot.waitUntil(dialog.isVisible)
        qtbot.wait(120)  # a QMessageBox the old slot would open gets its chance to show
    finally:
        timer.stop()
    assert seen == []
    assert not dialog.isModal()
    text = dialog.label.text()
    for version in (explorer.__version__, numpy.__version__, sympy.__version__,
                    platform.python_version(), PySide6.__version__, QtCore.qVersion()):
        assert version in text
    for name in ("NumPy", "SymPy", "SciPy", "pyqtgraph", "numba", "Python", "Qt"):
        assert name in text
    assert "machine learning" in text
    dialog.copy_versions()
    copied = QtWidgets.QApplication.clipboard().text()
    assert f"NumPy: {numpy.__version__}" in copied


def test_versions_say_not_installed(monkeypatch):
    from importlib import metadata

    real = metadata.version

    def version(dist):
        if dist == "numba":
            raise metadata.PackageNotFoundError(dist)
        return real(dist)

    monkeypatch.setattr(metadata, "version", version)
    found = dict(versions())
    assert found["numba"] == "not installed"
    import scipy

    assert found["SciPy"] == scipy.__version__


# -- the texts -------------------------------------------------------------------------------------
def test_help_text_of_a_missing_key_names_it():
    with pytest.raises(KeyError, match="no_such_panel"):
        help_text("no_such_panel")
    with pytest.raises(KeyError, match="not a dock key"):
        help_text("../pyproject")
    assert "<h3>" in help_text("taylor")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def test_shortcuts_named_in_the_help_exist(helped):
    """A help text that names a shortcut names one the menus really have."""
    window, _installer = helped
    keys = set()
    for _menu, _command, key in menu_shortcuts(window):
        keys.update(key.split(", "))
    named = set()
    for key in help_keys():
        parser = _Text()
        parser.feed(help_text(key))
        text = "".join(parser.parts)
        named.update(re.findall(r"Ctrl\+(?:Shift\+)?[A-Z0-9/]\b", text))
    assert {"Ctrl+3", "Ctrl+4", "Ctrl+R", "Ctrl+B", "Ctrl+L"} <= named
    missing = {k for k in named if QtGui.QKeySequence(k).toString(NATIVE) not in keys}
    assert not missing, f"help names shortcuts the menus do not have: {sorted(missing)}"
