"""Command-line tools that need no window: ``calculus-explorer trace ...`` runs an optimizer on a
function and writes its trajectory; ``calculus-explorer render ...`` draws a view of a saved
session into a PNG, SVG or PDF, headless. Qt is not imported here at module level: ``trace``
never loads it, ``render`` only once its arguments and the session file have been checked.

Bad arguments or input: a message on stderr saying what and where, exit status 2, and no file
written (trajectories and figures are written whole or not at all).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: status 2, as ours
        self.print_usage(sys.stderr)
        raise UsageError(message)


class UsageError(Exception):
    """A bad argument or input: the message is for the user."""


def trace_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="calculus-explorer trace",
        description="Run an optimizer on FUNCTION and write its trajectory (CSV or JSON).")
    parser.add_argument("function", help="the function, e.g. '(1 - x)^2 + 100(y - x^2)^2'")
    parser.add_argument("--optimizer", required=True,
                        help="SGD, Adagrad, RMSprop, Adam, AdamW, Newton or LBFGS (any case)")
    parser.add_argument("--lr", type=float, help="the learning rate")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="another hyper-parameter, e.g. momentum=0.9, nesterov=true, "
                             "betas=0.9,0.99 (repeatable)")
    parser.add_argument("--start", required=True, help="the start, e.g. -1.5,2")
    parser.add_argument("--steps", type=int, required=True, help="steps at most")
    parser.add_argument("--tol", type=float, default=1e-10,
                        help="converged once |grad f| <= tol (default 1e-10)")
    parser.add_argument("--out", required=True, help="FILE.csv or FILE.json")
    return parser


def _value(key: str, text: str):
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        if "," in text:
            return tuple(float(v) for v in text.split(","))
        number = float(text)
    except ValueError:
        raise UsageError(f"--set {key}={text}: expected a number, true/false or numbers "
                         "separated by commas") from None
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() \
        else number


def trace(argv: list[str]) -> int:
    # "--start -1.5,2": argparse would take -1.5,2 for an option; glue it to its flag
    argv = list(argv)
    for i in range(len(argv) - 1):
        if argv[i] in ("--start", "--lr", "--tol") and argv[i + 1].startswith("-"):
            argv[i:i + 2] = [f"{argv[i]}={argv[i + 1]}", ""]
    args = trace_parser().parse_args([a for a in argv if a != ""])
    import explorer.core as ec

    try:
        f = ec.parse(args.function)
    except ec.ExpressionError as exc:
        raise UsageError(f"FUNCTION, column {exc.column}: {exc.message}") from None
    if f.parameters:
        raise UsageError(f"FUNCTION has names without values ({', '.join(f.parameters)}): "
                         "write their numbers in")
    try:
        start = tuple(float(v) for v in args.start.split(","))
    except ValueError:
        raise UsageError(f"--start {args.start}: expected numbers separated by commas") from None
    if len(start) != len(f.variables) or not all(math.isfinite(v) for v in start):
        raise UsageError(f"--start {args.start}: expected {len(f.variables)} finite numbers "
                         f"({', '.join(f.variables)})")
    if args.steps < 0 or args.steps > 1_000_000:
        raise UsageError(f"--steps {args.steps}: expected 0 to 1,000,000")
    if not (math.isfinite(args.tol) and args.tol >= 0):
        raise UsageError(f"--tol {args.tol}: expected a number >= 0")
    out = args.out
    if not out.lower().endswith((".csv", ".json")):
        raise UsageError(f"--out {out}: the file must end in .csv or .json")
    hyper = {}
    for item in args.set:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item}: expected KEY=VALUE")
        hyper[key.strip()] = _value(key.strip(), text)
    if args.lr is not None:
        hyper["lr"] = args.lr
    try:
        optimizer = ec.make_optimizer(args.optimizer, **hyper)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--optimizer {args.optimizer}: {exc}") from None
    t = ec.optimize(f, start, optimizer, steps=args.steps, tol=args.tol)
    try:
        t.to_json(out) if out.lower().endswith(".json") else t.to_csv(out)
    except OSError as exc:
        raise UsageError(f"--out {out}: {exc.strerror or exc}") from None
    point = ", ".join(f"{v:.6g}" for v in t.points[-1])
    print(f"{t.describe()}: f = {t.final_value:.6g} at ({point}); wrote {out}")
    return 0


# -- render ---------------------------------------------------------------------------------------
RENDER_SIZES = (100, 4000)  # pixels a side, as --size
RENDER_TIMEOUT = 60.0  # seconds for the views to be drawn


def render_parser() -> argparse.ArgumentParser:
    from .ui.export import VIEW_NAMES  # plain data: no Qt

    parser = _Parser(
        prog="calculus-explorer render",
        description="Draw a view of a saved session into a PNG, SVG or PDF file, headless "
                    "(no window is shown).")
    parser.add_argument("session", metavar="SESSION.json", help="a session file (File > Save)")
    parser.add_argument("--view", required=True, metavar="NAME",
                        help=f"the view: {', '.join(VIEW_NAMES)}")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="FILE.png, FILE.svg or FILE.pdf")
    parser.add_argument("--size", default="1200x800", metavar="WxH",
                        help="the figure's size in screen pixels (default 1200x800)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="PNG only: image pixels per screen pixel, 1 to 4 (default 1)")
    parser.add_argument("--timeout", type=float, default=RENDER_TIMEOUT,
                        help=f"seconds to wait for the view to be drawn (default {RENDER_TIMEOUT:g})")
    return parser


def _parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*", text)
    low, high = RENDER_SIZES
    if not match or not all(low <= int(v) <= high for v in match.groups()):
        raise UsageError(f"--size {text}: expected WIDTHxHEIGHT in pixels, each {low} to {high}, "
                         "e.g. 1200x800")
    return int(match.group(1)), int(match.group(2))


def render(argv: list[str]) -> int:
    """``calculus-explorer render SESSION.json --view NAME --out FILE [--size WxH] [--scale S]``:
    everything is checked before Qt is loaded; then a window is built offscreen (private
    settings, no autosave), the session opened, the view brought up, sized and written."""
    args = render_parser().parse_args(argv)
    from .ui.export import (
        MAX_PIXELS,
        NEEDS,
        SURFACE_OFFSCREEN,
        SURFACE_PNG_ONLY,
        TITLES,
        VIEW_NAMES,
        needs_text,
    )

    name = args.view
    if name not in VIEW_NAMES:
        raise UsageError(f"--view {name}: unknown view; choose one of {', '.join(VIEW_NAMES)}")
    out = args.out
    suffix = os.path.splitext(out)[1].lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise UsageError(f"--out {out}: the file must end in .png, .svg or .pdf")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UsageError(f"--out {out}: the folder {folder} does not exist")
    width, height = _parse_size(args.size)
    scale = args.scale
    if not 1.0 <= scale <= 4.0:  # NaN too
        raise UsageError(f"--scale {scale:g}: expected a number from 1 to 4")
    if scale != 1.0 and suffix != ".png":
        raise UsageError(f"--scale {scale:g}: a scale applies to PNG only ({suffix} is vector)")
    if width * height * scale * scale > MAX_PIXELS:
        raise UsageError(f"--size {args.size} at --scale {scale:g}: "
                         f"{round(width * scale)} x {round(height * scale)} pixels is too large "
                         f"(at most {MAX_PIXELS:,} pixels)")
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise UsageError(f"--timeout {args.timeout:g}: expected a number of seconds > 0")
    from .core.document import read_document
    from .core.session import Session

    path = args.session
    try:
        doc = read_document(path)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None
    function = Session.from_dict(doc["session"]).function
    need = NEEDS.get(name)
    if need is not None and len(function.variables) != need:
        names = ", ".join(function.variables)
        raise UsageError(f"--view {name}: the {TITLES[name]} view is drawn for {needs_text(name)}; "
                         f"{path} has f({names})")
    if name == "surface":
        if suffix != ".png" or scale != 1.0:
            raise UsageError(f"--view surface: {SURFACE_PNG_ONLY}")
        platform = os.environ.get("QT_QPA_PLATFORM", "offscreen")
        if platform.split(":")[0] in ("offscreen", "minimal"):
            raise UsageError(f"--view surface: {SURFACE_OFFSCREEN}; set QT_QPA_PLATFORM=xcb "
                             "with a display (e.g. under xvfb-run) to draw it")
    w, h = _render_view(path, name, out, (width, height), scale, args.timeout)
    print(f"wrote {out} ({w}×{h} px)")
    return 0


def _render_view(path: str, name: str, out: str, size: tuple[int, int], scale: float,
                 timeout: float) -> tuple[int, int]:
    """Qt's part of render: the view of the session ``path`` written to ``out``; its pixel
    size returned."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt loads
    import tempfile

    from PySide6 import QtCore, QtWidgets

    def quiet(mode, context, message):  # offscreen noise about top-level windows
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    QtCore.qInstallMessageHandler(quiet)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([sys.argv[0]])
    from .ui import export as ex
    from .ui.main_window import MainWindow

    deadline = time.monotonic() + timeout
    title = ex.TITLES[name]

    # Headless, a message box would wait for a click forever: each one becomes the error.
    said: list[str] = []

    def refuse(_parent=None, _title="", text="", *_args, **_kwargs):
        said.append(str(text).replace("\n\nNothing was changed.", "").replace("\n", " "))
        return QtWidgets.QMessageBox.StandardButton.NoButton

    boxes = {k: getattr(QtWidgets.QMessageBox, k)
             for k in ("warning", "information", "critical", "question")}
    for key in boxes:
        setattr(QtWidgets.QMessageBox, key, staticmethod(refuse))

    def wait(what: str, done=None) -> None:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise UsageError(f"timed out after {timeout:g} s waiting for {what} "
                                 "(a larger --timeout may help)")
            if done is None or done():
                settled = ex.settle(window, left)
                if said:  # a failure the window reported while it settled
                    raise UsageError(said[-1])
                if settled:
                    return
                continue
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
            QtCore.QThread.msleep(5)
            if said:
                raise UsageError(said[-1])

    view = None
    window = None
    with tempfile.TemporaryDirectory(prefix="calculus-explorer-render-") as tmp:
        settings = QtCore.QSettings(os.path.join(tmp, "settings.ini"),
                                    QtCore.QSettings.Format.IniFormat)
        try:
            window = MainWindow(settings=settings, restore=False, data_dir=None)
            window.resize(1400, 900)  # room for the docks until the view is taken out
            window.show()
            wait("the window's views to be built",
                 lambda: window.session.function is not None
                 and all(getattr(window, a) is not None for a in ex.ATTRIBUTES.values()))
            if not window.open_file(path):
                raise UsageError(said[-1] if said else f"{path}: could not be opened")
            if name == "surface":
                # Never shown in the window: OpenGL's context is made where the widget is
                # first painted, and a widget moved to another window loses it.
                window.docks["surface"].hide()
            wait("the session to be drawn")
            try:
                if name != "surface":
                    ex.show_view(window, name)
            except ValueError as exc:
                raise UsageError(f"--view {name}: {exc}") from None
            wait(f"the {title} view to be drawn")
            # The view alone in a top-level window of the figure's size (offscreen: unseen);
            # a view with controls (sliders, a table) grows by them, its plots keep the size.
            view = getattr(window, ex.ATTRIBUTES[name])
            box = view.getViewBox() if hasattr(view, "getViewBox") else None
            linked = box.linkedView(box.XAxis) if box is not None else None
            if linked is not None:  # F(x) shares the curve's x axis by screen position:
                x_range = linked.viewRange()[0]  # at another width it would shift
                view.setXLink(None)
                box.setXRange(*x_range, padding=0)
            view.setParent(None)
            view.resize(*size)
            view.show()
            for _ in range(20):  # the plots may get only a share of what the view grows by
                wait(f"the {title} view to be drawn")
                got = ex.figure_size(view)
                if got == size:
                    break
                view.resize(view.width() + size[0] - got[0], view.height() + size[1] - got[1])
            if ex.figure_size(view) != size:
                w, h = ex.figure_size(view)
                raise UsageError(f"--size {size[0]}x{size[1]}: the {title} view cannot be drawn "
                                 f"at that size (it came out {w}x{h}); try a larger size")
            if said:
                raise UsageError(said[-1])
            try:
                ex.export_view(view, out, scale, title=title)
            except OSError as exc:
                raise UsageError(f"--out {out}: {exc.strerror or exc}") from None
            except ValueError as exc:
                raise UsageError(f"--view {name}: {exc}") from None
            return round(size[0] * scale), round(size[1] * scale)
        finally:
            for key, box in boxes.items():
                setattr(QtWidgets.QMessageBox, key, box)
            if view is not None:
                view.close()
            if window is not None:
                window.close()  # stops the workers, writes only the temporary settings
                window.deleteLater()
                app.processEvents()


def main(argv: list[str]) -> int:
    """Run the command named by ``argv[0]``; 2 with a message on stderr for bad input."""
    commands = {"trace": trace, "render": render}
    try:
        return commands[argv[0]](argv[1:])
    except UsageError as exc:
        print(f"calculus-explorer {argv[0]}: {exc}", file=sys.stderr)
        return 2
