"""Fixtures for UI tests: a main window with private settings, and real mouse events."""

from __future__ import annotations

import types

import pytest
from PySide6 import QtCore, QtGui, QtWidgets


@pytest.fixture
def settings(tmp_path):
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


@pytest.fixture
def warnings(monkeypatch):
    """Warning dialogs recorded as (title, text) instead of shown."""
    seen = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        lambda parent, title, text, *a, **k: seen.append((title, text)))
    return seen


@pytest.fixture
def data_dir(tmp_path):
    """The autosave's folder for the test's windows (never the user's)."""
    return tmp_path / "data"


@pytest.fixture
def make_window(qtbot, settings, data_dir):
    """Build a MainWindow, shown, with its first function parsed."""
    from explorer.ui.main_window import MainWindow
    from explorer.ui.theme import configure_pyqtgraph

    configure_pyqtgraph()
    windows = []

    def make(expression=None, restore=True, settings_=None, data_dir_=None):
        window = MainWindow(settings=settings_ or settings, expression=expression, restore=restore,
                            data_dir=data_dir_ or data_dir)
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window.session.function is not None
                        and window.curve_view is not None
                        and window.taylor_error_view is not None, timeout=20000)
        wait_idle(qtbot, window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window._typeset_timer.stop()
        for worker in (window.loader, window.worker, window.typeset_worker,
                       window.analysis_worker, window.integration_model.numeric,
                       window.integration_model.quick, window.sampling_worker,
                       window.race_model.worker, window.race_model.sweep_worker,
                       window.race_model.compile_worker, window.regression_model.worker):
            worker.wait(10000)


def wait_idle(qtbot, window, timeout=20000):
    """Wait until the worker has delivered everything (parse, typeset)."""
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=timeout)
    QtWidgets.QApplication.processEvents()


def type_expression(qtbot, window, text):
    """Select all in the expression field and type ``text`` key by key."""
    edit = window.function_panel.edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, QtCore.Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)
    qtbot.waitUntil(lambda: window.session.expression == text, timeout=20000)
    wait_idle(qtbot, window)


def send_mouse(widget, kind, pos, button=QtCore.Qt.MouseButton.LeftButton, buttons=None):
    """Deliver a real QMouseEvent to ``widget`` at ``pos`` (widget coordinates)."""
    types = {"press": QtCore.QEvent.Type.MouseButtonPress,
             "move": QtCore.QEvent.Type.MouseMove,
             "release": QtCore.QEvent.Type.MouseButtonRelease}
    if buttons is None:
        buttons = QtCore.Qt.MouseButton.NoButton if kind == "release" else button
    pos = QtCore.QPointF(pos)
    event = QtGui.QMouseEvent(types[kind], pos, widget.mapToGlobal(pos),
                              QtCore.Qt.MouseButton.NoButton if kind == "move" else button,
                              buttons, QtCore.Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(widget, event)


def drag(qtbot, widget, start, end, steps=12):
    """Press at ``start``, move in ``steps`` to ``end``, release: as a hand would."""
    start, end = QtCore.QPointF(start), QtCore.QPointF(end)
    send_mouse(widget, "move", start, buttons=QtCore.Qt.MouseButton.NoButton)
    send_mouse(widget, "press", start)
    for i in range(1, steps + 1):
        t = i / steps
        send_mouse(widget, "move", start + (end - start) * t)
        qtbot.wait(5)
    send_mouse(widget, "release", end)
    QtWidgets.QApplication.processEvents()


@pytest.fixture
def ui(qtbot):
    """The helpers above bound to this test's qtbot: ``ui.drag(widget, start, end)``, ..."""
    return types.SimpleNamespace(
        wait_idle=lambda window, timeout=20000: wait_idle(qtbot, window, timeout),
        type_expression=lambda window, text: type_expression(qtbot, window, text),
        send_mouse=send_mouse,
        drag=lambda widget, start, end, steps=12: drag(qtbot, widget, start, end, steps),
    )
