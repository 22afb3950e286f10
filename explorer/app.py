"""Start the desktop app: arguments, QApplication, settings, the main window."""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="calculus-explorer",
        description="Type a function, drag points, watch the calculus of machine learning.",
        epilog="Without a window: calculus-explorer trace FUNCTION --optimizer NAME --start X,Y "
               "--steps N --out FILE.csv|FILE.json (see calculus-explorer trace --help); "
               "calculus-explorer render SESSION.json --view NAME --out FILE.png|svg|pdf "
               "[--size WxH] (see calculus-explorer render --help).")
    parser.add_argument("expression", nargs="?",
                        help="a function to open, e.g. 'sigmoid(x)', or a session file "
                             "(SESSION.json, saved by File > Save)")
    parser.add_argument("--settings", metavar="FILE",
                        help="keep window layout and last session in this INI file, and the "
                             "autosave in the folder FILE-data beside it (a separate profile)")
    parser.add_argument("--reset", action="store_true",
                        help="start with the default layout and function")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


COMMANDS = ("trace", "render")  # run without a window (explorer.cli)


def is_session_path(text: str | None) -> bool:
    """The positional argument names a session file (it ends in .json, any case), not a
    function: no function ends so."""
    return bool(text) and text.strip().lower().endswith(".json")


def open_when_ready(window, path: str) -> None:
    """Open the session file ``path`` in ``window`` once start-up is over (the first function
    applied, the autosave's offer answered), so that nothing of the start-up overwrites it. A
    missing or bad file shows File > Open's warning over the window, which stays as it was."""
    from PySide6 import QtCore

    timer = QtCore.QTimer(window, interval=100)

    def poll() -> None:
        if not window.started_up:
            return
        timer.stop()
        timer.deleteLater()
        window.open_file(path)

    timer.timeout.connect(poll)
    timer.start()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        from .cli import main as command

        return command(argv)
    args = parse_args(argv)
    from PySide6 import QtCore, QtWidgets

    QtCore.QCoreApplication.setOrganizationName("CalculusExplorer")
    QtCore.QCoreApplication.setApplicationName("calculus-explorer")
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Calculus Explorer")
    if args.settings:
        settings = QtCore.QSettings(args.settings, QtCore.QSettings.Format.IniFormat)
    else:
        settings = QtCore.QSettings()

    from .ui.main_window import MainWindow

    session_path = None
    expression = args.expression
    if is_session_path(expression):
        session_path, expression = os.path.abspath(expression.strip()), None
    from .paths import user_data_dir
    from .ui.errors import ErrorHandler

    data_dir = user_data_dir() if not args.settings else \
        os.path.abspath(args.settings) + "-data"
    # an error nothing caught: a dialog, a line in the log, and the app goes on
    handler = ErrorHandler(os.path.join(data_dir, "errors.log"), app).install()
    window = MainWindow(settings=settings, expression=expression, restore=not args.reset,
                        data_dir=data_dir)
    window.show()
    if session_path is not None:
        open_when_ready(window, session_path)
    try:
        return app.exec()
    finally:
        handler.uninstall()
        from .core import offload

        offload.close_all()  # the analysis and race processes leave with the app
