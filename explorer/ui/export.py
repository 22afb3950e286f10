"""Figures out of the app: any view to PNG (1x to 4x), SVG or PDF, all open views to a folder,
a view to the clipboard, and the File menu entries that do it.

A view is one pyqtgraph plot (a PlotWidget) or a panel of several (the Monte Carlo plots, the
Jacobian's domain and image, ...): a figure holds the plots of a view where they sit on screen,
without the view's sliders and tables. PNG and SVG go through pyqtgraph's exporters (its SVG
clips and fixes Qt's SVG output), PDF through Qt's vector PDF writer. Every file is written to
a temporary file beside the target and moved into place, so a failed export leaves no half file.

The names (:data:`VIEWS`, :data:`NEEDS`) are plain data: this module imports Qt only inside its
functions, so ``calculus-explorer render`` checks its arguments before Qt is loaded.
"""

from __future__ import annotations

import os
import re
import time

from ..core.files import replacing

FORMATS = {".png": "PNG image (*.png)", ".svg": "SVG drawing (*.svg)",
           ".pdf": "PDF document (*.pdf)"}
SCALES = (1, 2, 3, 4)  # PNG: pixels per screen pixel
MAX_PIXELS = 80_000_000  # a PNG larger than this (~320 MB in memory) is refused

# (name, title, the window's attribute), in the order of the menus
VIEWS = (
    ("curve", "Curve f(x)", "curve_view"),
    ("landscape", "Landscape f(x, y)", "landscape_view"),
    ("cross_section", "Cross-section along u", "cross_section_view"),
    ("surface", "Surface 3D", "surface_view"),
    ("error", "Error vs h", "error_view"),
    ("taylor_error", "Taylor error |f − Tₙ|", "taylor_error_view"),
    ("convergence", "Convergence of the sums", "convergence_view"),
    ("monte_carlo", "Monte Carlo", "monte_carlo_view"),
    ("accumulation", "Accumulation F(x)", "accumulation_view"),
    ("jacobian", "Map and its Jacobian", "jacobian_view"),
    ("race_plots", "Loss and |∇f| per step", "race_plots"),
    ("sweep", "Learning-rate sweep", "sweep_view"),
    ("graph", "Computational graph", "graph_view"),
    ("gradcheck", "Gradient check", "gradcheck_view"),
    ("chain", "Vanishing and exploding gradients", "chain_view"),
    ("regression_data", "Regression: data and the line", "regression_data_view"),
    ("regression_loss", "Regression: loss J(w, b)", "regression_loss_view"),
    ("regression_epochs", "Regression: loss per epoch", "regression_epoch_plot"),
)
VIEW_NAMES = tuple(name for name, _, _ in VIEWS)
TITLES = {name: title for name, title, _ in VIEWS}
ATTRIBUTES = {name: attribute for name, _, attribute in VIEWS}

# Views drawn only for a function of one variable (1) or of two (2); the others draw their
# lab's own state whatever the function is.
NEEDS = {"curve": 1, "error": 1, "taylor_error": 1, "convergence": 1, "monte_carlo": 1,
         "accumulation": 1, "landscape": 2, "cross_section": 2, "surface": 2, "race_plots": 2,
         "sweep": 2}

# How a view is brought on screen: (its dock, a session option to turn on, a lab's action).
# The curve and the landscape are the central view; F(x) sits under the curve.
OPENERS = {
    "curve": (None, None, None),
    "landscape": (None, None, None),
    "cross_section": ("cross_section", None, None),
    "surface": ("surface", None, None),
    "error": ("error", None, None),
    "taylor_error": ("taylor_error", "show_taylor", None),
    "convergence": ("convergence", None, None),
    "monte_carlo": ("monte_carlo", None, "expectation_action"),
    "accumulation": (None, "show_accumulation", None),
    "jacobian": ("jacobian_view", None, "jacobian_action"),
    "race_plots": ("race_plots", "show_race", None),
    "sweep": ("sweep", "show_race", None),
    "graph": ("graph", None, "backprop_action"),
    "gradcheck": ("gradcheck", None, "backprop_action"),
    "chain": ("chain", None, "backprop_action"),
    "regression_data": ("regression_data", None, "regression_action"),
    "regression_loss": ("regression_loss", None, "regression_action"),
    "regression_epochs": ("regression_epochs", None, "regression_action"),
}

SURFACE_OFFSCREEN = ("the 3D surface needs OpenGL on a display; it cannot be drawn on this "
                     "platform (offscreen)")
SURFACE_PNG_ONLY = "the 3D surface exports as PNG at 1x only (the pixels OpenGL drew)"


def needs_text(name: str) -> str | None:
    """What function the view ``name`` draws, said for a message; None if it draws any."""
    need = NEEDS.get(name)
    if need is None:
        return None
    return "a function of x alone" if need == 1 else "a function of x and y"


# -- one view to a file ---------------------------------------------------------------------------
def _check(path, scale) -> tuple[str, str, float]:
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot export to {suffix or 'a file without a suffix'}: "
                         f"choose {', '.join(FORMATS)}")
    try:
        scale = float(scale)
    except (TypeError, ValueError):
        raise ValueError(f"scale {scale!r}: expected a number from 1 to 4") from None
    if not 1.0 <= scale <= 4.0:  # also refuses NaN
        raise ValueError(f"scale {scale:g}: expected a number from 1 to 4")
    return path, suffix, scale


class _Part:
    """One plot of a figure: what pyqtgraph exports (a scene or an item), where it sits in the
    figure (``x``, ``y``, ``width``, ``height`` in screen pixels) and its background."""

    def __init__(self, source, x, y, width, height, background):
        self.source = source
        self.x, self.y, self.width, self.height = x, y, width, height
        self.background = background


def _is_surface(item) -> bool:
    from PySide6 import QtOpenGLWidgets

    from .views.surface_view import SurfaceView

    return isinstance(item, (SurfaceView, QtOpenGLWidgets.QOpenGLWidget))


def _gl_widget(item):
    """The OpenGL widget of the 3D surface (a SurfaceView, None without OpenGL, or the
    QOpenGLWidget itself); None for any other view."""
    from PySide6 import QtOpenGLWidgets

    if isinstance(item, QtOpenGLWidgets.QOpenGLWidget):
        return item
    return item.gl if _is_surface(item) else None


def _parts(item) -> list[_Part]:
    """The plots of ``item`` (a PlotItem, a scene, a pyqtgraph widget or a widget holding
    several) with their places in the figure, top-left at (0, 0)."""
    from PySide6 import QtCore, QtGui, QtWidgets

    def background(view) -> QtGui.QColor:
        brush = view.backgroundBrush()
        color = QtGui.QColor(brush.color())
        if brush.style() == QtCore.Qt.BrushStyle.NoBrush:
            color.setAlpha(0)
        return color

    if isinstance(item, QtWidgets.QGraphicsScene):
        view = item.views()[0]
        return [_Part(item, 0, 0, view.width(), view.height(), background(view))]
    if isinstance(item, QtWidgets.QGraphicsItem):
        rect = item.mapRectToDevice(item.boundingRect())
        return [_Part(item, 0, 0, rect.width(), rect.height(), background(item.scene().views()[0]))]
    if isinstance(item, QtWidgets.QGraphicsView):
        return [_Part(item.scene(), 0, 0, item.width(), item.height(), background(item))]
    if not isinstance(item, QtWidgets.QWidget):
        raise ValueError(f"cannot export a {type(item).__name__}")
    views = [v for v in item.findChildren(QtWidgets.QGraphicsView)
             if v.isVisibleTo(item) and v.width() > 0 and v.height() > 0]
    if not views:
        raise ValueError("the view holds no plot to export")
    places = [QtCore.QRect(v.mapTo(item, QtCore.QPoint(0, 0)), v.size()) for v in views]
    union = places[0]
    for rect in places[1:]:
        union = union.united(rect)
    return [_Part(v.scene(), r.x() - union.x(), r.y() - union.y(), r.width(), r.height(),
                  background(v)) for v, r in zip(views, places, strict=True)]


def figure_size(item) -> tuple[int, int]:
    """The size in screen pixels of the figure ``item`` exports (its plots' bounding box)."""
    gl = _gl_widget(item)
    if gl is not None:
        return gl.width(), gl.height()
    parts = _parts(item)
    return (round(max(p.x + p.width for p in parts)), round(max(p.y + p.height for p in parts)))


def _part_image(part: _Part, scale: float):
    import pyqtgraph.exporters as exporters

    exporter = exporters.ImageExporter(part.source)
    params = exporter.parameters()
    # both set, so the rounding of the aspect never costs a pixel
    params.param("width").setValue(max(1, round(part.width * scale)),
                                   blockSignal=exporter.widthChanged)
    params.param("height").setValue(max(1, round(part.height * scale)),
                                    blockSignal=exporter.heightChanged)
    params["background"] = part.background
    return exporter.export(toBytes=True)


def view_image(item, scale: float = 1.0):
    """The figure of ``item`` as a QImage, ``scale`` image pixels per screen pixel."""
    from PySide6 import QtCore, QtGui

    gl = _gl_widget(item)
    if _is_surface(item):
        if gl is None:
            raise ValueError(SURFACE_OFFSCREEN)
        if scale != 1:
            raise ValueError(SURFACE_PNG_ONLY)
        image = gl.grabFramebuffer()
        if image.isNull():
            raise ValueError(SURFACE_OFFSCREEN)
        return image
    parts = _parts(item)
    width = round(max(p.x + p.width for p in parts) * scale)
    height = round(max(p.y + p.height for p in parts) * scale)
    if width * height > MAX_PIXELS:
        raise ValueError(f"{width} x {height} pixels is too large an image "
                         f"(at most {MAX_PIXELS:,} pixels): choose a smaller scale")
    if len(parts) == 1:
        return _part_image(parts[0], scale)
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_ARGB32)
    image.fill(parts[0].background)
    painter = QtGui.QPainter(image)
    try:
        for part in parts:
            painter.drawImage(QtCore.QPointF(round(part.x * scale), round(part.y * scale)),
                              _part_image(part, scale))
    finally:
        painter.end()
    return image


def _svg(parts: list[_Part], title: str) -> bytes:
    """One SVG document: each plot's SVG from pyqtgraph moved to its place and clipped there,
    its ids prefixed so that the plots' clip paths stay apart. (No nested <svg>: Qt's own SVG
    renderer, SVG Tiny, would skip them.)"""
    import xml.dom.minidom as minidom
    from xml.sax.saxutils import escape

    import pyqtgraph.exporters as exporters

    width = max(p.x + p.width for p in parts)
    height = max(p.y + p.height for p in parts)
    body, defs = [], []
    for i, part in enumerate(parts):
        exporter = exporters.SVGExporter(part.source)
        exporter.parameters()["width"] = part.width
        exporter.parameters()["height"] = part.height
        doc = minidom.parseString(exporter.export(toBytes=True))
        root = doc.documentElement
        prefix = f"p{i}_" if len(parts) > 1 else ""
        elements = [root, *root.getElementsByTagName("*")]
        ids = {e.getAttribute("id") for e in elements if e.hasAttribute("id")}
        if prefix:
            pattern = re.compile(r"(url\(#|^#)(" + "|".join(map(re.escape, ids)) + r")\b") \
                if ids else None
            for e in elements:
                for key, value in list(e.attributes.items()):
                    if key == "id" and value in ids:
                        e.setAttribute(key, prefix + value)
                    elif pattern is not None and "#" in value:
                        e.setAttribute(key, pattern.sub(rf"\g<1>{prefix}\g<2>", value))
        inner = "".join(node.toxml() for node in root.childNodes
                        if node.nodeType == node.ELEMENT_NODE
                        and node.tagName not in ("title", "desc", "style")
                        and not (node.tagName == "rect" and node.getAttribute("width") == "100%"))
        color = part.background
        box = (f'<rect x="{part.x:g}" y="{part.y:g}" width="{part.width:g}" '
               f'height="{part.height:g}"/>')
        if len(parts) > 1:  # each plot clipped to its place (its own root would do that)
            defs.append(f'<clipPath id="{prefix}place">{box}</clipPath>')
            body.append(f'<g clip-path="url(#{prefix}place)">\n')
        body.append(box.replace("/>", f' fill="{color.name()}" fill-opacity="{color.alphaF():g}"'
                                      ' stroke="none"/>\n'))
        body.append(f'<g transform="translate({part.x:g},{part.y:g})">\n' if part.x or part.y
                    else "<g>\n")
        body.append(inner + "\n</g>\n" + ("</g>\n" if len(parts) > 1 else ""))
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'version="1.1" width="{width:g}" height="{height:g}" '
            f'viewBox="0 0 {width:g} {height:g}">\n'
            f'<title>{escape(title)}</title>\n<desc>Calculus Explorer</desc>\n')
    defs = f"<defs>{''.join(defs)}</defs>\n" if defs else ""
    return (head + defs + "".join(body) + "</svg>\n").encode("utf-8")


def _pdf(parts: list[_Part], path: str, title: str) -> None:
    """A one-page PDF the size of the figure (a screen pixel is 0.75 pt, as at 96 dpi), each
    plot drawn by its scene through QPainter: vector lines and text."""
    from pyqtgraph.exporters.Exporter import Exporter
    from PySide6 import QtCore, QtGui

    width = max(p.x + p.width for p in parts)
    height = max(p.y + p.height for p in parts)
    writer = QtGui.QPdfWriter(path)
    writer.setCreator("Calculus Explorer")
    writer.setTitle(title)
    writer.setResolution(96)
    size = QtGui.QPageSize(QtCore.QSizeF(width * 0.75, height * 0.75), QtGui.QPageSize.Unit.Point,
                           title, QtGui.QPageSize.SizeMatchPolicy.ExactMatch)
    writer.setPageLayout(QtGui.QPageLayout(size, QtGui.QPageLayout.Orientation.Portrait,
                                           QtCore.QMarginsF(0, 0, 0, 0)))
    painter = QtGui.QPainter()
    if not painter.begin(writer):
        raise OSError("Qt could not write the PDF")  # the caller names the file
    try:
        k = painter.device().width() / width  # ~1 at 96 dpi; exact whatever Qt rounds
        painter.scale(k, k)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(QtCore.QRectF(0, 0, width, height), parts[0].background)
        for part in parts:
            exporter = Exporter(part.source)
            target = QtCore.QRectF(part.x, part.y, part.width, part.height)
            painter.fillRect(target, part.background)
            try:
                exporter.setExportMode(True, {"antialias": True, "background": part.background,
                                              "painter": painter, "resolutionScale": 1.0})
                painter.save()
                painter.setClipRect(target)
                exporter.getScene().render(painter, target, exporter.getSourceRect(),
                                         QtCore.Qt.AspectRatioMode.IgnoreAspectRatio)
                painter.restore()
            finally:
                exporter.setExportMode(False)
    finally:
        painter.end()


def export_view(item, path, scale: float = 1.0, title: str = "", wait=None) -> None:
    """Write the figure of ``item`` to ``path``: PNG (``scale`` 1 to 4 image pixels per screen
    pixel), SVG or PDF (vector), chosen by the suffix.

    Parameters
    ----------
    item : QWidget, PlotItem or GraphicsScene
        A view of the window (a PlotWidget, a widget holding several plots, the 3D surface),
        or a pyqtgraph item or scene.
    path : str or os.PathLike
        The file; written whole or not at all.
    scale : float
        PNG only: 1 to 4.
    title : str
        The SVG's and the PDF's title.
    wait : callable, optional
        ``wait(write)`` runs ``write()`` (PNG: the encoding and the file, which touch no
        widget) and returns when it has, raising what it raised: :func:`while_live` runs it
        on a thread while the window keeps painting. None: here, at once.

    Raises
    ------
    ValueError
        Another suffix, a scale outside 1-4, a view that cannot be drawn (the 3D surface
        without OpenGL, or not as PNG at 1x).
    OSError
        The file cannot be written (the message names it).
    """
    path, suffix, scale = _check(path, scale)
    if _is_surface(item):
        if suffix != ".png":
            raise ValueError(SURFACE_PNG_ONLY)
        image = view_image(item, scale)
        parts = None
    else:
        parts = _parts(item)
        image = view_image(item, scale) if suffix == ".png" else None
    if image is not None:  # drawn: the rest is encoding and the file
        (wait or (lambda write: write()))(lambda: _write_png(image, path))
        return
    with replacing(path, suffix) as tmp:
        if suffix == ".svg":
            with open(tmp, "wb") as fh:
                fh.write(_svg(parts, title or "Calculus Explorer"))
        else:
            _pdf(parts, tmp, title or "Calculus Explorer")
        _check_written(tmp, path)


def _write_png(image, path: str) -> None:
    """``image`` (a QImage: safe off the GUI thread) encoded to ``path``, whole or not at all."""
    with replacing(path, ".png") as tmp:
        if not image.save(tmp, "PNG"):
            raise OSError(f"could not write the image to {path}")
        _check_written(tmp, path)


def _check_written(tmp: str, path: str) -> None:
    if os.path.getsize(tmp) == 0:
        raise OSError(f"nothing was written to {path}")
    _usual_mode(tmp)


def while_live(write) -> None:
    """Run ``write()`` on a thread; meanwhile the window keeps painting and its timers run,
    and the user's input waits for the end (the file is being written). Raises what
    ``write`` raised. PNG encoding takes ~0.5 s at 4x (3,976 x 3,436 pixels), which held
    the GUI thread."""
    import threading

    from PySide6 import QtCore, QtGui, QtWidgets

    failed: list[BaseException] = []

    def run() -> None:
        try:
            write()
        except BaseException as exc:  # noqa: BLE001 - raised again below
            failed.append(exc)

    writer = threading.Thread(target=run, name="png-writer", daemon=True)
    QtWidgets.QApplication.setOverrideCursor(QtGui.QCursor(QtCore.Qt.CursorShape.BusyCursor))
    try:
        writer.start()
        while writer.is_alive():
            QtWidgets.QApplication.processEvents(
                QtCore.QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents, 20)
            writer.join(0.01)
    finally:
        QtWidgets.QApplication.restoreOverrideCursor()
    if failed:
        raise failed[0]


def _usual_mode(path: str) -> None:
    """The mode a new file gets (0666 less the umask): the temporary file is private."""
    mask = os.umask(0o022)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def copy_view(widget) -> None:
    """Put the figure of ``widget`` (as the PNG at 1x) on the clipboard as an image."""
    from PySide6 import QtWidgets

    QtWidgets.QApplication.clipboard().setImage(view_image(widget, 1.0))


# -- the window's views ---------------------------------------------------------------------------
def views_of(window) -> dict:
    """``{name: (title, widget)}`` of the views the window has built, in :data:`VIEWS` order."""
    found = {}
    for name, title, attribute in VIEWS:
        widget = getattr(window, attribute, None)
        if widget is not None:
            found[name] = (title, widget)
    return found


def unavailable(window, name: str) -> str | None:
    """Why the view ``name`` cannot be exported now (not built, another kind of function, no
    OpenGL), or None when it can."""
    if name not in ATTRIBUTES:
        raise KeyError(f"unknown view {name!r}")
    widget = getattr(window, ATTRIBUTES[name], None)
    if widget is None:
        return "not built yet"
    need = NEEDS.get(name)
    function = window.session.function
    if need is not None and (function is None or len(function.variables) != need):
        return f"drawn for {needs_text(name)}"
    if name == "surface" and _gl_widget(widget) is None:
        return SURFACE_OFFSCREEN
    return None


def _dock(window, name: str):
    key = OPENERS[name][0]
    return window.docks[key] if key is not None else None


def on_screen(widget) -> bool:
    """Shown and not covered: a dock behind another's tab is "visible" to Qt all the same."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def is_open(window, name: str) -> bool:
    """The view is on screen, or in an open dock behind another tab."""
    widget = getattr(window, ATTRIBUTES[name], None)
    if widget is None or unavailable(window, name) is not None:
        return False
    if widget.isVisibleTo(window):
        return True
    dock = _dock(window, name)
    return dock is not None and dock.toggleViewAction().isChecked()


def show_view(window, name: str) -> None:
    """Bring the view ``name`` on screen: its lab opened (or its option turned on), its dock
    shown and raised over its tab-mates. ValueError says why a view cannot be shown."""
    reason = unavailable(window, name)
    if reason is not None:
        raise ValueError(f"{TITLES[name]}: {reason}")
    key, option, action = OPENERS[name]
    if option is not None and not getattr(window.session, option):
        window.session.set_option(option, True)
    if action is not None:
        lab = getattr(window, action)
        if not lab.isChecked():
            lab.setChecked(True)
    if key is not None:
        dock = window.docks[key]
        dock.show()
        dock.raise_()


def settle(window, timeout: float = 30.0) -> bool:
    """Process events until the window has no work pending (its views drawn); False if that
    did not happen within ``timeout`` seconds."""
    from PySide6 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance()
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3:  # idle for three rounds: layouts and repaints posted by the last results
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        quiet = quiet + 1 if not window.is_busy() else 0
        if quiet == 0:
            if time.monotonic() > deadline:
                return False
            QtCore.QThread.msleep(5)
    return True


def export_all(window, folder, fmt: str = "png", scale: float = 1.0, progress=None,
               wait=None) -> list[str]:
    """Write every open view of ``window`` (on screen, or in an open dock behind a tab) as
    ``<name>.<fmt>`` into ``folder``; returns the paths written, in :data:`VIEWS` order.

    Views behind a tab are raised in turn while they are written, and the tabs in front
    before are raised again at the end. ``progress(i, n)`` is called before view ``i`` of
    ``n`` (and with ``i == n`` at the end); False from it stops there: the files written stay,
    none is half written. The 3D surface goes only to PNG at 1x (skipped otherwise).

    ``wait``: as :func:`export_view`'s, for each PNG.

    Raises OSError when the folder does not exist or a file cannot be written, ValueError for
    a bad format or scale.
    """
    fmt = fmt.lower().lstrip(".")
    _check(f"view.{fmt}", scale)
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(2, f"the folder {folder} does not exist", folder)
    names = [n for n in views_of(window) if is_open(window, n)]
    if "surface" in names and (fmt != "png" or scale != 1):
        names.remove("surface")
    front = [d for d in window.docks.values() if on_screen(d)]
    written: list[str] = []
    try:
        for i, name in enumerate(names):
            if progress is not None and progress(i, len(names)) is False:
                return written
            widget = getattr(window, ATTRIBUTES[name])
            if not on_screen(widget):
                show_view(window, name)
                settle(window)
            path = os.path.join(folder, f"{name}.{fmt}")
            export_view(widget, path, scale, title=TITLES[name], wait=wait)
            written.append(path)
        if progress is not None:
            progress(len(names), len(names))
    finally:
        for dock in front:
            dock.raise_()
    return written


def current_view(window) -> str | None:
    """The view with the keyboard focus, else the one under the mouse, else the central one."""
    from PySide6 import QtGui, QtWidgets

    built = {id(widget): name for name, (_, widget) in views_of(window).items()}
    for start in (QtWidgets.QApplication.focusWidget(),
                  QtWidgets.QApplication.widgetAt(QtGui.QCursor.pos())):
        widget = start
        while widget is not None:
            if id(widget) in built and widget.window() is window:
                return built[id(widget)]
            widget = widget.parentWidget()
    for name in ("curve", "landscape"):
        widget = getattr(window, ATTRIBUTES[name], None)
        if widget is not None and widget.isVisibleTo(window):
            return name
    return None


# -- the File menu --------------------------------------------------------------------------------
SETTING_FOLDER = "v1/export_folder"
SETTING_SUFFIX = "v1/export_suffix"
SETTING_SCALE = "v1/export_scale"
SETTING_ALL = "v1/export_all_format"
ALL_CHOICES = (("PNG, 1× (screen size)", "png", 1), ("PNG, 2×", "png", 2), ("PNG, 3×", "png", 3),
               ("PNG, 4×", "png", 4), ("SVG (vector)", "svg", 1), ("PDF (vector)", "pdf", 1))


def _setting(window, key, default):
    value = window.settings.value(key)
    return default if value is None else value


def _warn(window, path, exc) -> None:
    from PySide6 import QtWidgets

    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    QtWidgets.QMessageBox.warning(window, "Export failed", f"Could not write {path}:\n{reason}")


def _ask_scale(window) -> int | None:
    from PySide6 import QtWidgets

    try:
        remembered = int(_setting(window, SETTING_SCALE, 2))
    except (TypeError, ValueError):
        remembered = 2
    items = [f"{s}× ({'screen size' if s == 1 else f'{s} pixels per screen pixel'})"
             for s in SCALES]
    item, ok = QtWidgets.QInputDialog.getItem(
        window, "PNG size", "Image pixels per screen pixel:", items,
        SCALES.index(remembered) if remembered in SCALES else 1, False)
    if not ok:
        return None
    scale = SCALES[items.index(item)]
    window.settings.setValue(SETTING_SCALE, scale)
    return scale


def export_named_view(window, name: str, path=None, scale=None) -> bool:
    """File > Export view > ``name``: brought on screen, then written to ``path`` (asked with
    a save dialog when None; for PNG then the scale, remembered). A failure is said in a
    warning naming the file; success in the status bar. True when a file was written."""
    from PySide6 import QtWidgets

    title = TITLES[name]
    reason = unavailable(window, name)
    if reason is not None:
        QtWidgets.QMessageBox.warning(window, "Export failed", f"{title}: {reason}")
        return False
    if path is None:
        folder = str(_setting(window, SETTING_FOLDER, ""))
        suffix = str(_setting(window, SETTING_SUFFIX, ".png"))
        suffix = suffix if suffix in FORMATS else ".png"
        filters = list(FORMATS.values())
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            window, f"Export {title}", os.path.join(folder, name + suffix), ";;".join(filters),
            FORMATS[suffix])
        if not path:
            return False
        if os.path.splitext(path)[1].lower() not in FORMATS:
            path += next((s for s, f in FORMATS.items() if f == chosen), ".png")
        window.settings.setValue(SETTING_FOLDER, os.path.dirname(path))
        window.settings.setValue(SETTING_SUFFIX, os.path.splitext(path)[1].lower())
    path = os.fspath(path)
    if scale is None:
        if os.path.splitext(path)[1].lower() == ".png" and name != "surface":
            scale = _ask_scale(window)
            if scale is None:
                return False
        else:
            scale = 1
    try:
        show_view(window, name)
        settle(window, timeout=10.0)  # whatever is drawn by then is written
        export_view(getattr(window, ATTRIBUTES[name]), path, scale, title=title,
                    wait=while_live)
    except (OSError, ValueError) as exc:
        _warn(window, path, exc)
        return False
    window.statusBar().showMessage(f"{title} written to {path}", 5000)
    return True


def export_all_views(window, folder=None, fmt=None, scale=None) -> list[str]:
    """File > Export all views: a folder and a format asked (when None), a progress dialog
    that can cancel; the files written are returned."""
    from PySide6 import QtCore, QtWidgets

    if folder is None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            window, "Export all open views into a folder", str(_setting(window, SETTING_FOLDER, "")))
        if not folder:
            return []
        window.settings.setValue(SETTING_FOLDER, folder)
    if fmt is None:
        labels = [label for label, _, _ in ALL_CHOICES]
        remembered = str(_setting(window, SETTING_ALL, labels[1]))
        label, ok = QtWidgets.QInputDialog.getItem(
            window, "Export all views", "Format:", labels,
            labels.index(remembered) if remembered in labels else 1, False)
        if not ok:
            return []
        window.settings.setValue(SETTING_ALL, label)
        _, fmt, scale = ALL_CHOICES[labels.index(label)]
    scale = 1 if scale is None else scale
    dialog = QtWidgets.QProgressDialog("Exporting the views…", "Cancel", 0, len(VIEWS), window)
    dialog.setWindowTitle("Export all views")
    dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)

    def progress(i, n):
        dialog.setMaximum(max(n, 1))
        dialog.setValue(i)
        QtWidgets.QApplication.processEvents()
        return not dialog.wasCanceled()

    try:
        written = export_all(window, folder, fmt, scale, progress, wait=while_live)
    except (OSError, ValueError) as exc:
        _warn(window, getattr(exc, "filename", None) or folder, exc)
        return []
    finally:
        cancelled = dialog.wasCanceled()
        dialog.close()
        dialog.deleteLater()
    message = f"{len(written)} view{'s' * (len(written) != 1)} written to {folder}"
    window.statusBar().showMessage(message + (" (cancelled)" if cancelled else ""), 8000)
    return written


def copy_named_view(window, name: str | None = None) -> bool:
    """Copy the view ``name`` (None: :func:`current_view`) to the clipboard as an image."""
    name = name or current_view(window)
    if name is None:
        window.statusBar().showMessage("No view to copy yet", 5000)
        return False
    reason = unavailable(window, name)
    try:
        if reason is not None:
            raise ValueError(reason)
        show_view(window, name)
        settle(window, timeout=10.0)
        copy_view(getattr(window, ATTRIBUTES[name]))
    except ValueError as exc:
        window.statusBar().showMessage(f"{TITLES[name]} could not be copied: {exc}", 8000)
        return False
    window.statusBar().showMessage(f"{TITLES[name]} copied to the clipboard", 5000)
    return True


class ExportMenu:
    """The File menu's export entries: ``menu`` (Export view > one action a view, in
    ``view_actions``), ``all_action``, ``copy_menu`` (``copy_action``, Ctrl+Shift+C, copies the
    current view; ``copy_actions`` one a view). Entries of views not built, or not drawn for
    the current function, are disabled (their tooltip says why)."""

    def __init__(self, window, file_menu):
        from PySide6 import QtGui, QtWidgets

        self.window = window
        self.menu = QtWidgets.QMenu("E&xport view", file_menu)
        self.menu.setObjectName("exportViewMenu")
        self.menu.setToolTipsVisible(True)
        self.view_actions = {}
        for name, title, _ in VIEWS:
            action = self.menu.addAction(f"{title}…")
            action.setObjectName(f"export_{name}_action")
            action.triggered.connect(lambda _checked=False, n=name: export_named_view(window, n))
            self.view_actions[name] = action
        self.all_action = QtGui.QAction("Export &all open views…", file_menu)
        self.all_action.setObjectName("exportAllAction")
        self.all_action.triggered.connect(lambda _checked=False: export_all_views(window))
        self.copy_menu = QtWidgets.QMenu("&Copy view to clipboard", file_menu)
        self.copy_menu.setObjectName("copyViewMenu")
        self.copy_menu.setToolTipsVisible(True)
        self.copy_action = QtGui.QAction("The view in focus (or the central one)", window)
        self.copy_action.setObjectName("copyViewAction")
        self.copy_action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+C"))
        self.copy_action.triggered.connect(lambda _checked=False: copy_named_view(window))
        self.copy_menu.addAction(self.copy_action)
        self.copy_menu.addSeparator()
        self.copy_actions = {}
        for name, title, _ in VIEWS:
            action = self.copy_menu.addAction(title)
            action.setObjectName(f"copy_{name}_action")
            action.triggered.connect(lambda _checked=False, n=name: copy_named_view(window, n))
            self.copy_actions[name] = action
        # before the separator above Quit, if there is one; else at the end
        actions = file_menu.actions()
        before = None
        for i, action in enumerate(actions):
            if action.isSeparator() and i + 1 < len(actions) and "Quit" in actions[i + 1].text():
                before = action
        if before is None:
            file_menu.addSeparator()
        file_menu.insertMenu(before, self.menu)
        file_menu.insertAction(before, self.all_action)
        file_menu.insertMenu(before, self.copy_menu)
        window.addAction(self.copy_action)  # the shortcut works with the menu closed
        for menu in (file_menu, self.menu, self.copy_menu):
            menu.aboutToShow.connect(self.update)
        self.update()

    def update(self) -> None:
        """Enable the entries of the views that can be exported now."""
        window = self.window
        for name in VIEW_NAMES:
            reason = unavailable(window, name)
            for action in (self.view_actions[name], self.copy_actions[name]):
                action.setEnabled(reason is None)
                action.setToolTip("" if reason is None else f"{TITLES[name]}: {reason}")
        self.all_action.setEnabled(any(is_open(window, n) for n in VIEW_NAMES))
        # Ctrl+Shift+C stays enabled (its shortcut works before the menu was ever opened);
        # with nothing to copy it says so in the status bar.


def install_export_menu(window, file_menu) -> ExportMenu:
    """Add the export entries to ``file_menu`` (once: a second call returns the first menu);
    kept as ``window.export_menu``."""
    existing = getattr(window, "export_menu", None)
    if isinstance(existing, ExportMenu):
        return existing
    window.export_menu = ExportMenu(window, file_menu)
    return window.export_menu
