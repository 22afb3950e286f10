"""The app-wide error handler: an error nothing caught (in a slot, on a worker's thread) shows a
dialog with its traceback, goes to the log in the data folder, and the app keeps working."""

from __future__ import annotations

import threading

import pytest
from PySide6 import QtCore, QtWidgets

from explorer.ui.errors import ErrorHandler


@pytest.fixture
def handler(tmp_path):
    h = ErrorHandler(tmp_path / "data" / "errors.log").install()
    yield h
    h.uninstall()
    if h._dialog is not None:
        h._dialog.close()


def boom():
    raise ZeroDivisionError("the slope of a vertical line")


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_slot_is_shown_logged_and_survived(make_window, qtbot, handler, ui):
    window = make_window(expression="x^2", restore=False)
    QtCore.QTimer.singleShot(0, boom)
    qtbot.waitUntil(lambda: handler.count == 1, timeout=5000)
    qtbot.waitUntil(lambda: handler._dialog is not None and handler._dialog.isVisible(),
                    timeout=5000)
    box = handler._dialog
    assert "ZeroDivisionError: the slope of a vertical line" in box.text()
    assert "in boom" in box.detailedText()
    log = handler.log_path.read_text()
    assert "ZeroDivisionError" in log and "def boom" not in log and "in boom" in log
    # the app goes on: the function can still be edited and is drawn
    ui.type_expression(window, "x^3")
    assert window.session.function.text == "x^3"


@pytest.mark.qt_no_exception_capture
def test_an_error_on_another_thread_reaches_the_dialog(qtbot, handler):
    thread = threading.Thread(target=boom)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: handler._dialog is not None and handler._dialog.isVisible(),
                    timeout=5000)
    assert handler.count == 1 and "ZeroDivisionError" in handler._dialog.text()
    # a second error updates the one dialog instead of stacking another
    QtCore.QTimer.singleShot(0, boom)
    qtbot.waitUntil(lambda: handler.count == 2, timeout=5000)
    qtbot.wait(50)
    dialogs = [w for w in QtWidgets.QApplication.topLevelWidgets()
               if isinstance(w, QtWidgets.QMessageBox) and w.isVisible()]
    assert len(dialogs) == 1


def test_the_log_stays_small(tmp_path):
    h = ErrorHandler(tmp_path / "errors.log")
    h.log_path.write_text("x" * 1_200_000)
    h._log("ValueError: last")
    text = h.log_path.read_text()
    assert len(text) < 700_000 and text.rstrip().endswith("ValueError: last")


def test_an_unwritable_log_does_not_raise(tmp_path):
    (tmp_path / "file").write_text("")
    h = ErrorHandler(tmp_path / "file" / "errors.log")  # its folder is a file
    h._log("ValueError: kept quiet")  # no exception
