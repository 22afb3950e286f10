"""Help in the app: a "?" on every dock's title bar, the keyboard shortcuts, the About box.

The texts are HTML fragments in ``resources/help/<dock key>.html`` (shipped in the wheel as
``explorer.resources.help``), one per dock of ``MainWindow.docks``. :func:`install_help` is
called once the window's docks and menus exist::

    install_help(window, window.help_menu)

Each dock gets a title bar of its own (:class:`DockTitleBar`): its title, a "?" button, and
float and close buttons drawn as Qt draws its native ones (the style's title-bar icons, flat,
raised under the mouse). Dragging the title and double-clicking it are left to QDockWidget:
the bar ignores those mouse events, so they reach the dock, which moves, docks and floats as it
always does; tabs, ``saveState`` and ``restoreState`` are untouched.
"""

from __future__ import annotations

import platform
import re
from functools import cache
from importlib import metadata, resources

from PySide6 import QtCore, QtGui, QtWidgets

HELP_PACKAGE = "explorer.resources.help"
ABOUT_TEXT = "About Calculus Explorer"
DESCRIPTION = ("See the calculus that machine learning runs on: type a function, drag points, "
               "watch every view follow.")
SHORTCUTS_KEYS = ("F1", "Ctrl+/")
# What the About box lists: (shown name, distribution name for importlib.metadata)
LIBRARIES = (("pyqtgraph", "pyqtgraph"), ("NumPy", "numpy"), ("SymPy", "sympy"),
             ("SciPy", "scipy"), ("numba", "numba"))
# Formulas set apart in the help texts: <p class="formula">...</p>
HELP_STYLE = """
h3 { margin-bottom: 6px; }
p { margin-top: 3px; margin-bottom: 6px; }
p.formula { margin-left: 18px; font-family: serif; font-size: large; }
"""
_KEY = re.compile(r"[a-z][a-z0-9_]*")


# -- the texts ---------------------------------------------------------------------------------
@cache
def help_text(key: str) -> str:
    """The HTML help of the dock ``key`` (``"taylor"``, ``"race_plots"``, ...).

    Raises
    ------
    KeyError
        No help file for ``key`` (the message names it).
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise KeyError(f"no help for {key!r}: not a dock key")
    try:
        resource = resources.files(HELP_PACKAGE).joinpath(f"{key}.html")
        if resource.is_file():
            text = resource.read_text(encoding="utf-8")
            if text.strip():
                return text
    except (ModuleNotFoundError, OSError):
        pass
    raise KeyError(f"no help for {key!r}: {key}.html is missing from {HELP_PACKAGE}")


def help_keys() -> list[str]:
    """The keys that have a help file, sorted."""
    folder = resources.files(HELP_PACKAGE)
    return sorted(item.name[:-5] for item in folder.iterdir()
                  if item.name.endswith(".html") and _KEY.fullmatch(item.name[:-5]))


def _plain(text: str) -> str:
    """A menu text without its mnemonics ("&Open…" -> "Open…", "&&" -> "&") and without a
    shortcut written after a tab."""
    return re.sub(r"&(.)", r"\1", text.split("\t")[0])


def _pointer(obj) -> int:
    import shiboken6

    return shiboken6.getCppPointer(obj)[0]


def menu_shortcuts(window: QtWidgets.QMainWindow) -> list[tuple[str, str, str]]:
    """Every action in the window's menus that has a shortcut, as (menu path, command, keys),
    in the order of the menu bar: the keys in the platform's native text ("Ctrl+O"; "⌘O" on a
    Mac), several joined by ", ". Collected from the live menus, so it never goes stale."""
    # A menu is found from its action through QMenu.menuAction(), not QAction.menu(): in
    # PySide6 6.10 the wrapper QAction.menu() returns dies with the action's wrapper and takes
    # every other Python reference to that menu with it (window.view_menu, ...).
    menus = {_pointer(m.menuAction()): m for m in window.findChildren(QtWidgets.QMenu)}
    rows: list[tuple[str, str, str]] = []
    native = QtGui.QKeySequence.SequenceFormat.NativeText

    def walk(menu: QtWidgets.QMenu, path: list[str], seen: set[int]) -> None:
        for action in menu.actions():
            if action.isSeparator():
                continue
            sub = menus.get(_pointer(action))
            if sub is not None:
                if _pointer(sub) not in seen:  # a menu inside itself: listed once
                    walk(sub, [*path, _plain(action.text())], seen | {_pointer(sub)})
                continue
            keys = [s.toString(native) for s in action.shortcuts() if not s.isEmpty()]
            if keys:
                rows.append((" › ".join(path), _plain(action.text()), ", ".join(keys)))

    for action in window.menuBar().actions():
        menu = menus.get(_pointer(action))
        if menu is not None:
            walk(menu, [_plain(action.text())], {_pointer(menu)})
    return rows


def versions() -> list[tuple[str, str]]:
    """(name, version) of the app, Python, Qt, PySide6 and the numeric libraries; "not
    installed" for a library that is missing."""
    import PySide6

    from .. import __version__

    found = [("Calculus Explorer", __version__),
             ("Python", platform.python_version()),
             ("Qt", QtCore.qVersion()),
             ("PySide6", PySide6.__version__)]
    for name, dist in LIBRARIES:
        try:
            found.append((name, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            found.append((name, "not installed"))
    return found


def about_html() -> str:
    """The About box's text: the app, its description and the versions."""
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;{version}</td></tr>"
                   for name, version in versions()[1:])
    from .. import __version__

    return (f"<h3>Calculus Explorer {__version__}</h3>"
            f"<p>{DESCRIPTION}</p>"
            f"<table>{rows}</table>")


# -- the dock title bar ------------------------------------------------------------------------
class TitleLabel(QtWidgets.QWidget):
    """The dock's title, elided ("Vanishing and exploding…") when the dock is narrow, so a long
    title never forces a dock's width. Mouse events are left to the dock (dragging, docking)."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.setObjectName("dockTitleLabel")
        self._text = text
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                           QtWidgets.QSizePolicy.Policy.Preferred)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        if text != self._text:
            self._text = text
            self.updateGeometry()
            self.update()

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt override
        fm = self.fontMetrics()
        return QtCore.QSize(fm.horizontalAdvance(self._text) + 4, fm.height())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt override
        fm = self.fontMetrics()
        return QtCore.QSize(fm.horizontalAdvance("Wi…"), fm.height())

    def elided(self) -> str:
        return self.fontMetrics().elidedText(self._text, QtCore.Qt.TextElideMode.ElideRight,
                                             self.width())

    def tip(self) -> str:
        """The tool tip: the whole title when it is elided, else none."""
        return self._text if self.elided() != self._text else ""

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ToolTip:
            if self.tip():
                QtWidgets.QToolTip.showText(event.globalPos(), self.tip(), self)
            else:
                QtWidgets.QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QtGui.QPainter(self)
        painter.setPen(self.palette().color(QtGui.QPalette.ColorRole.WindowText))
        painter.drawText(self.rect(), QtCore.Qt.AlignmentFlag.AlignLeft
                         | QtCore.Qt.AlignmentFlag.AlignVCenter, self.elided())


class TitleBarButton(QtWidgets.QAbstractButton):
    """A button drawn as QDockWidget's own title buttons are (Qt's QDockWidgetTitleButton):
    the style's small icon, flat, a raised tool-button panel under the mouse, never focused."""

    def __init__(self, icon: QtGui.QIcon, tip: str, parent=None):
        super().__init__(parent)
        self.setIcon(icon)
        self.setToolTip(tip)
        self.setAccessibleName(tip)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_Hover)

    def icon_size(self) -> QtCore.QSize:
        style = self.style()
        size = style.pixelMetric(QtWidgets.QStyle.PixelMetric.PM_SmallIconSize, None, self)
        if style.styleHint(QtWidgets.QStyle.StyleHint.SH_DockWidget_ButtonsHaveFrame, None, self):
            size = size * 5 // 8  # 16 -> 10, as Qt sizes the native ones
        return QtCore.QSize(size, size)

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt override
        self.ensurePolished()
        margin = self.style().pixelMetric(
            QtWidgets.QStyle.PixelMetric.PM_DockWidgetTitleBarButtonMargin, None, self)
        icon = self.icon().actualSize(self.icon_size())
        size = 2 * margin + max(icon.width(), icon.height())
        return QtCore.QSize(size, size)

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt override
        return self.sizeHint()

    def enterEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.update()
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.update()
        super().leaveEvent(event)

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt override
        style = self.style()
        painter = QtWidgets.QStylePainter(self)
        opt = QtWidgets.QStyleOptionToolButton()
        opt.initFrom(self)
        opt.state |= QtWidgets.QStyle.StateFlag.State_AutoRaise
        hovered = self.isEnabled() and self.underMouse()
        if style.styleHint(QtWidgets.QStyle.StyleHint.SH_DockWidget_ButtonsHaveFrame, None, self):
            if hovered and not self.isDown():
                opt.state |= QtWidgets.QStyle.StateFlag.State_Raised
            if self.isDown():
                opt.state |= QtWidgets.QStyle.StateFlag.State_Sunken
            # Fusion draws a tool button's panel even when flat, except for its own dock
            # title buttons (it knows them by class name): the panel only under the mouse.
            if hovered or self.isDown():
                painter.drawPrimitive(QtWidgets.QStyle.PrimitiveElement.PE_PanelButtonTool, opt)
        elif self.isDown():
            opt.state |= QtWidgets.QStyle.StateFlag.State_On
        opt.icon = self.icon()
        opt.subControls = QtWidgets.QStyle.SubControl.SC_None
        opt.activeSubControls = QtWidgets.QStyle.SubControl.SC_None
        opt.features = QtWidgets.QStyleOptionToolButton.ToolButtonFeature.None_
        opt.arrowType = QtCore.Qt.ArrowType.NoArrow
        opt.iconSize = self.icon_size()
        painter.drawComplexControl(QtWidgets.QStyle.ComplexControl.CC_ToolButton, opt)


class DockTitleBar(QtWidgets.QWidget):
    """A dock's title bar: its title, "?" (help), float and close, as the native bar lays them
    out. The title follows ``dock.windowTitle()``; float and close show only when the dock's
    features allow them. Presses, drags and double-clicks on the title are ignored here, so
    QDockWidget moves, docks and floats the dock itself, as with its own title bar."""

    help_requested = QtCore.Signal()

    def __init__(self, dock: QtWidgets.QDockWidget):
        super().__init__(dock)
        self.setObjectName("dockTitleBar")
        self.dock = dock
        style = self.style()
        icon = QtWidgets.QStyle.StandardPixmap
        self.label = TitleLabel(dock.windowTitle())
        self.help_button = TitleBarButton(
            style.standardIcon(icon.SP_TitleBarContextHelpButton, None, self),
            f"Help on “{dock.windowTitle()}”")
        self.help_button.setObjectName("dockHelpButton")
        self.float_button = TitleBarButton(
            style.standardIcon(icon.SP_TitleBarNormalButton, None, self), "Float")
        self.float_button.setObjectName("dockFloatButton")
        self.close_button = TitleBarButton(
            style.standardIcon(icon.SP_TitleBarCloseButton, None, self), "Close")
        self.close_button.setObjectName("dockCloseButton")
        layout = QtWidgets.QHBoxLayout(self)
        # the native bar's measures: as tall as the text (or a button) plus the style's title
        # margin above and below, the text a few pixels in, the buttons a few pixels apart
        margin = style.pixelMetric(QtWidgets.QStyle.PixelMetric.PM_DockWidgetTitleMargin,
                                   None, dock)
        layout.setContentsMargins(margin + 3, margin, margin + 1, margin)
        layout.setSpacing(5)
        layout.addWidget(self.label, 1)
        for button in (self.help_button, self.float_button, self.close_button):
            layout.addWidget(button, 0, QtCore.Qt.AlignmentFlag.AlignVCenter)

        self.help_button.clicked.connect(self.help_requested)
        self.float_button.clicked.connect(lambda: self.dock.setFloating(not self.dock.isFloating()))
        self.close_button.clicked.connect(self.dock.close)
        dock.windowTitleChanged.connect(self._retitle)
        dock.featuresChanged.connect(self._show_buttons)
        dock.topLevelChanged.connect(self._floating_changed)
        self._show_buttons()
        self._floating_changed(dock.isFloating())

    def _retitle(self, title: str) -> None:
        self.label.setText(title)
        self.help_button.setToolTip(f"Help on “{title}”")
        self.help_button.setAccessibleName(f"Help on “{title}”")

    def _show_buttons(self, *_args) -> None:
        features = self.dock.features()
        feature = QtWidgets.QDockWidget.DockWidgetFeature
        self.float_button.setVisible(bool(features & feature.DockWidgetFloatable))
        self.close_button.setVisible(bool(features & feature.DockWidgetClosable))

    def _floating_changed(self, floating: bool) -> None:
        tip = "Dock" if floating else "Float"
        self.float_button.setToolTip(tip)
        self.float_button.setAccessibleName(tip)


# -- the windows -------------------------------------------------------------------------------
class HelpWindow(QtWidgets.QDialog):
    """A dock's help: non-modal and resizable, one per dock, shown again when asked again."""

    def __init__(self, key: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.setObjectName(f"{key}HelpWindow")
        self.setModal(False)
        self.setSizeGripEnabled(True)
        self.browser = QtWidgets.QTextBrowser()
        self.browser.setObjectName("helpBrowser")
        self.browser.setOpenExternalLinks(True)
        self.browser.document().setDefaultStyleSheet(HELP_STYLE)
        try:
            self.browser.setHtml(help_text(key))
        except KeyError:
            self.browser.setHtml("<h3>No help yet</h3><p>Nothing is written about this panel "
                                 "yet.</p>")
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(520, 400)

    def text(self) -> str:
        return self.browser.toPlainText()


class ShortcutsDialog(QtWidgets.QDialog):
    """Every shortcut of the window's menus, read from the menus each time it is shown."""

    def __init__(self, window: QtWidgets.QMainWindow):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.setModal(False)
        self.setSizeGripEnabled(True)
        self.table = QtWidgets.QTableWidget(0, 3)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Menu", "Command", "Shortcut"])
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(620, 640)

    def refresh(self) -> None:
        rows = menu_shortcuts(self.window_)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        menus: dict[str, int] = {}
        for i, (path, command, keys) in enumerate(rows):
            menu_rank = menus.setdefault(path, len(menus))
            # Sorted by menu in the menu bar's order (File, View, Help), then as listed there;
            # a click on a header sorts by that column.
            for j, (text, rank) in enumerate(((path, (menu_rank, i)), (command, (command, i)),
                                              (keys, (keys, i)))):
                item = _SortItem(text, rank)
                self.table.setItem(i, j, item)
        self.table.setSortingEnabled(True)
        self.table.sortItems(0, QtCore.Qt.SortOrder.AscendingOrder)
        self.table.setCurrentItem(None)

    def rows(self) -> list[tuple[str, str, str]]:
        """The table's rows as shown: (menu, command, shortcut)."""
        return [tuple(self.table.item(i, j).text() for j in range(3))
                for i in range(self.table.rowCount())]


class _SortItem(QtWidgets.QTableWidgetItem):
    def __init__(self, text: str, rank):
        super().__init__(text)
        self.rank = rank

    def __lt__(self, other) -> bool:
        if isinstance(other, _SortItem):
            return self.rank < other.rank
        return super().__lt__(other)


class AboutDialog(QtWidgets.QDialog):
    """The app's version, what it is, and the versions it runs on (with a button that copies
    them, for a bug report)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(ABOUT_TEXT)
        self.setModal(False)
        self.label = QtWidgets.QLabel(about_html())
        self.label.setObjectName("aboutText")
        self.label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy versions", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        copy.setObjectName("copyVersions")
        copy.clicked.connect(self.copy_versions)
        buttons.rejected.connect(self.close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)

    def text(self) -> str:
        return self.label.text()

    @staticmethod
    def copy_versions() -> None:
        lines = [f"{name}: {version}" for name, version in versions()]
        QtWidgets.QApplication.clipboard().setText("\n".join(lines))


# -- installing --------------------------------------------------------------------------------
class HelpInstaller(QtCore.QObject):
    """What :func:`install_help` builds, kept as a child of the window: the title bars, the
    help windows (made when first asked for), the shortcut and About dialogs and actions."""

    def __init__(self, window: QtWidgets.QMainWindow, help_menu: QtWidgets.QMenu):
        super().__init__(window)
        self.setObjectName("helpInstaller")
        self.window_ = window
        self.title_bars: dict[str, DockTitleBar] = {}
        self.help_windows: dict[str, HelpWindow] = {}
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self.about_dialog: AboutDialog | None = None
        for key, dock in getattr(window, "docks", {}).items():
            bar = DockTitleBar(dock)
            bar.help_button.setObjectName(f"{key}HelpButton")
            bar.help_requested.connect(lambda k=key: self.show_help(k))
            dock.setTitleBarWidget(bar)
            self.title_bars[key] = bar
        self._build_menu(help_menu)

    def _build_menu(self, help_menu: QtWidgets.QMenu) -> None:
        about = next((a for a in help_menu.actions() if _plain(a.text()) == ABOUT_TEXT), None)
        shortcuts = QtGui.QAction("Keyboard shortcuts", help_menu)
        shortcuts.setObjectName("keyboardShortcutsAction")
        shortcuts.setShortcuts([QtGui.QKeySequence(k) for k in SHORTCUTS_KEYS])
        shortcuts.triggered.connect(self.show_shortcuts)
        if about is None:
            help_menu.addAction(shortcuts)
            about = help_menu.addAction(ABOUT_TEXT)
        else:
            help_menu.insertAction(about, shortcuts)
            try:  # the window's own About box is replaced by this one
                about.triggered.disconnect()
            except (RuntimeError, TypeError):
                pass
        about.setObjectName("aboutAction")
        about.setMenuRole(QtGui.QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        self.shortcuts_action, self.about_action = shortcuts, about

    def show_help(self, key: str) -> HelpWindow:
        """The help window of dock ``key``, shown and raised (made the first time)."""
        dock = self.window_.docks[key]
        help_window = self.help_windows.get(key)
        if help_window is None:
            help_window = self.help_windows[key] = HelpWindow(key, self.window_)
            self._place_beside(help_window, dock)
        help_window.setWindowTitle(f"{dock.windowTitle()} — Help")
        help_window.show()
        help_window.raise_()
        help_window.activateWindow()
        return help_window

    @staticmethod
    def _place_beside(help_window: QtWidgets.QWidget, dock: QtWidgets.QDockWidget) -> None:
        """Beside the dock where the screen has room (the plot stays in sight), else over it."""
        screen = dock.screen()
        if screen is None or not dock.isVisible():
            return
        room = screen.availableGeometry()
        top_left = dock.mapToGlobal(QtCore.QPoint(0, 0))
        size = help_window.size()
        x = top_left.x() + dock.width() + 8
        if x + size.width() > room.right():
            x = top_left.x() - size.width() - 8
        x = max(room.left(), min(x, room.right() - size.width()))
        y = max(room.top(), min(top_left.y(), room.bottom() - size.height()))
        help_window.move(x, y)

    def show_shortcuts(self) -> ShortcutsDialog:
        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self.window_)
        self.shortcuts_dialog.refresh()
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()
        self.shortcuts_dialog.activateWindow()
        return self.shortcuts_dialog

    def show_about(self) -> AboutDialog:
        if self.about_dialog is None:
            self.about_dialog = AboutDialog(self.window_)
        self.about_dialog.show()
        self.about_dialog.raise_()
        self.about_dialog.activateWindow()
        return self.about_dialog


def installed_help(window: QtWidgets.QMainWindow) -> HelpInstaller | None:
    """The window's help, if :func:`install_help` has run on it."""
    return window.findChild(HelpInstaller, "helpInstaller",
                            QtCore.Qt.FindChildOption.FindDirectChildrenOnly)


def install_help(window: QtWidgets.QMainWindow, help_menu: QtWidgets.QMenu) -> HelpInstaller:
    """Give every dock of ``window.docks`` a title bar with a "?" that opens its help, and add
    "Keyboard shortcuts" (F1, Ctrl+/) and "About Calculus Explorer" to ``help_menu``: an
    action of that text already there is taken over (its old slots disconnected), else one is
    added. Idempotent: a second call returns what the first built and changes nothing."""
    found = installed_help(window)
    if found is not None:
        return found
    return HelpInstaller(window, help_menu)
