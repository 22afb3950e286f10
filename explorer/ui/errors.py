"""The app-wide handler of unexpected errors: a dialog with the details, a line in a log file in
the user's data folder, and the app goes on (the user's work is in the autosave either way).

Python calls ``sys.excepthook`` for an exception that nothing caught, including one raised in
a Qt slot or a worker's delivery (PySide prints those through it), so one hook covers them.
"""

from __future__ import annotations

import datetime
import os
import sys
import threading
import traceback
from pathlib import Path

from PySide6 import QtCore, QtWidgets

MAX_LOG_BYTES = 1_000_000  # the log keeps its newest half beyond this


class ErrorHandler(QtCore.QObject):
    """Installed with :meth:`install`; ``log_path`` None keeps no log."""

    # an error raised on another thread is shown on the GUI thread
    _report = QtCore.Signal(str, str)

    def __init__(self, log_path: str | os.PathLike | None, parent=None):
        super().__init__(parent)
        self.log_path = Path(log_path) if log_path is not None else None
        self.count = 0
        self.last: str | None = None  # the last error's details (tests, the dialog)
        self._dialog: QtWidgets.QMessageBox | None = None
        self._previous = None
        self._previous_thread = None
        self._report.connect(self._show, QtCore.Qt.ConnectionType.QueuedConnection)

    def install(self) -> ErrorHandler:
        self._previous, sys.excepthook = sys.excepthook, self.handle
        self._previous_thread = threading.excepthook
        threading.excepthook = lambda args: self.handle(args.exc_type, args.exc_value,
                                                        args.exc_traceback)
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook = self._previous
            threading.excepthook = self._previous_thread
            self._previous = None

    def handle(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QtWidgets.QApplication.quit()
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        summary = f"{exc_type.__name__}: {exc}"
        self.count += 1
        self.last = details
        self._log(details)
        self._report.emit(summary, details)
        if sys.stderr is not None:  # None under pythonw (a GUI launch on Windows)
            try:
                sys.stderr.write(details)
            except (OSError, ValueError):
                pass

    def _log(self, details: str) -> None:
        if self.log_path is None:
            return
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            if self.log_path.exists() and self.log_path.stat().st_size > MAX_LOG_BYTES:
                text = self.log_path.read_text(encoding="utf-8", errors="replace")
                self.log_path.write_text(text[len(text) // 2:], encoding="utf-8")
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(f"--- {stamp}\n{details}\n")
        except OSError:
            pass  # a log that cannot be written must not raise from the hook itself

    def _show(self, summary: str, details: str) -> None:
        app = QtWidgets.QApplication.instance()
        if app is None or app.closingDown():
            return
        where = f"\n\nThe details are in {self.log_path}." if self.log_path else ""
        text = (f"Something went wrong inside Calculus Explorer:\n{summary}\n\nThe app keeps "
                f"running and your work is kept (Edit > Undo and the autosave).{where}")
        if self._dialog is not None and self._dialog.isVisible():  # one dialog, the newest
            self._dialog.setText(text)
            self._dialog.setDetailedText(details)
            return
        parent = app.activeWindow()
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "Unexpected error", text,
                                    QtWidgets.QMessageBox.StandardButton.Close, parent)
        box.setDetailedText(details)
        box.setWindowModality(QtCore.Qt.WindowModality.NonModal)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: setattr(self, "_dialog", None))
        self._dialog = box
        box.show()
