"""Start the desktop app: arguments, QApplication, settings, the main window."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="calculus-explorer",
        description="Type a function, drag points, watch the calculus of machine learning.",
        epilog="Without a window: calculus-explorer trace FUNCTION --optimizer NAME --start X,Y "
               "--steps N --out FILE.csv|FILE.json (see calculus-explorer trace --help).")
    parser.add_argument("expression", nargs="?", help="a function to open, e.g. 'sigmoid(x)'")
    parser.add_argument("--settings", metavar="FILE",
                        help="keep window layout and last session in this INI file")
    parser.add_argument("--reset", action="store_true",
                        help="start with the default layout and function")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


COMMANDS = ("trace",)  # run without a window (explorer.cli)


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

    window = MainWindow(settings=settings, expression=args.expression, restore=not args.reset)
    window.show()
    return app.exec()
