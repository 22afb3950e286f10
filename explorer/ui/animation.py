"""Animations out of the app: the optimizer race played back, or the Taylor polynomial as its
order rises, written as an animated GIF or an MP4 video.

Frames are grabbed from the views the user sees (``QWidget.grab``), one per playback step or
Taylor order, on the GUI thread with events processed between them (so the overlays redraw and
a progress dialog's Cancel works). They are written into a temporary file beside the target
(:func:`explorer.core.files.replacing`): the file is complete, or absent after an error or a
cancel. Whatever the export moves (the playback cursor, the Taylor order) is put back.

The work lives in functions that take a path (:func:`export_race_animation`,
:func:`export_taylor_animation`); :func:`install_animation_menu` adds the menu, the file
dialog and the progress dialog around them.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..core.files import replacing

__all__ = ["Cancelled", "FORMATS", "grab_frame", "image_to_array", "race_frames", "race_steps",
           "taylor_frames", "write_animation", "export_race_animation",
           "export_taylor_animation", "install_animation_menu"]

FORMATS = {".gif": "GIF animation (*.gif)", ".mp4": "MP4 video (*.mp4)"}
RACE_FRAMES = 60
RACE_FPS = 20.0  # 60 frames: a 3 s clip
TAYLOR_MAX_ORDER = 15
TAYLOR_FPS = 2.0  # half a second per order: long enough to see each polynomial
WAIT_SECONDS = 60.0  # for a race or a Taylor plan still being computed

Progress = Callable[[int, int], bool]


class Cancelled(Exception):
    """The export was cancelled (``progress`` returned False); no file was written."""


# -- frames ------------------------------------------------------------------------------------
def _wait_until(predicate: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    """Process events until ``predicate()`` holds (results from the workers arrive as queued
    signals, so they need the event loop); RuntimeError naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    app = QtCore.QCoreApplication
    flags = QtCore.QEventLoop.ProcessEventsFlag.AllEvents
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what} after {seconds:g} s")
        app.processEvents(flags, 20)
        time.sleep(0.002)
    app.processEvents()


def image_to_array(image: QtGui.QImage) -> np.ndarray:
    """A QImage as an (height, width, 3) uint8 RGB array (a copy)."""
    image = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * h)
    return data.reshape(h, stride)[:, : 3 * w].reshape(h, w, 3).copy()


def _with_caption(image: QtGui.QImage, text: str, background: QtGui.QColor) -> QtGui.QImage:
    """``image`` under a strip holding ``text``: what the frame shows (the step, the
    order), which the views do not write, kept off the plot so nothing is hidden. It also keeps
    consecutive frames distinct, so a GIF encoder never merges two of them."""
    font = QtGui.QFont(QtWidgets.QApplication.font())
    font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.1)
    font.setBold(True)
    strip = QtGui.QFontMetrics(font).height() + 10
    out = QtGui.QImage(image.width(), image.height() + strip, QtGui.QImage.Format.Format_RGB888)
    out.fill(background)
    painter = QtGui.QPainter(out)
    try:
        painter.drawImage(0, strip, image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        painter.setFont(font)
        painter.setPen(QtGui.QColor("#3c4048" if background.lightnessF() > 0.5 else "#e6e8ec"))
        painter.drawText(QtCore.QRect(10, 0, image.width() - 20, strip),
                         QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter,
                         text)
    finally:
        painter.end()
    return out


def _background(widget: QtWidgets.QWidget) -> QtGui.QColor:
    """The plot's background (light or dark, as the theme), else the window's."""
    if isinstance(widget, QtWidgets.QGraphicsView):
        brush = widget.backgroundBrush()
        if brush.style() != QtCore.Qt.BrushStyle.NoBrush:
            return brush.color()
    return widget.palette().color(QtGui.QPalette.ColorRole.Window)


def grab_frame(widget: QtWidgets.QWidget, size: tuple[int, int] | None = None,
               caption: str | None = None) -> np.ndarray:
    """``widget`` as drawn now, an RGB array, with ``caption`` in a strip above it (if
    given), scaled to ``size`` = (width, height) of the whole frame if given."""
    image = widget.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB888)
    if caption:
        image = _with_caption(image, caption, _background(widget))
    if size is not None and (image.width(), image.height()) != tuple(size):
        image = image.scaled(int(size[0]), int(size[1]),
                             QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
                             QtCore.Qt.TransformationMode.SmoothTransformation)
    return image_to_array(image)


def _history_paused(window):
    """The steps an export takes through the session are not the user's (see History)."""
    history = getattr(window, "history", None)
    return history.paused() if history is not None else contextlib.nullcontext()


def _has_race(window) -> bool:
    m = window.race_model
    return (getattr(window, "landscape_view", None) is not None and m.active
            and any(t is not None for t in m.trajectories))


def race_steps(window, n_frames: int = RACE_FRAMES) -> list[int]:
    """The playback steps :func:`race_frames` shows: ``n_frames`` evenly spaced from 0 to the
    last step, fewer (every step once) when the race is shorter than that."""
    if n_frames < 2:
        raise ValueError(f"n_frames: expected at least 2, got {n_frames}")
    last = window.race_model.max_step()
    return [int(k) for k in np.unique(np.linspace(0, last, int(n_frames)).round())]


def race_frames(window, n_frames: int = RACE_FRAMES, size: tuple[int, int] | None = None,
                caption: bool = True) -> Iterator[np.ndarray]:
    """The landscape with the race drawn on it, the playback cursor stepped from the start to
    the end (:func:`race_steps`): an iterator of (height, width, 3) uint8 RGB arrays, all of
    one size (``size`` = (width, height), else the first frame's).

    ValueError when there is no race drawn. The cursor (and playback, if it was running) is
    put back when the iterator ends or is closed."""
    if not _has_race(window):
        raise ValueError("there is no race to animate: show the optimizer race on a "
                         "function of x and y")
    race_steps(window, n_frames)  # validates n_frames now, not at the first frame
    return _race_frames(window, n_frames, size, caption)


def _race_frames(window, n_frames, size, caption):
    m = window.race_model
    view = window.landscape_view
    cursor, follow_end, playing = m.cursor, m.follow_end, m.playing
    m.pause()
    try:
        # a race still being computed (or compiled and recomputed) would replace the paths,
        # and move the cursor, halfway through the clip
        _wait_until(lambda: not window.is_busy() and m.is_current(), "the race")
        if not _has_race(window):
            raise RuntimeError("the race has no paths to animate")
        steps = race_steps(window, n_frames)
        last = steps[-1]
        for k in steps:
            m.set_cursor(k)
            QtCore.QCoreApplication.processEvents()  # the overlay redraws at the cursor
            frame = grab_frame(view, size, f"step {k} of {last}" if caption else None)
            if size is None:
                size = (frame.shape[1], frame.shape[0])
            yield frame
    finally:
        m.set_cursor(min(cursor, m.max_step()), follow_end=follow_end)
        if playing:
            m.play()


def taylor_frames(window, orders: Iterable[int] = range(0, TAYLOR_MAX_ORDER + 1),
                  size: tuple[int, int] | None = None, caption: bool = True
                  ) -> Iterator[np.ndarray]:
    """The curve with the Taylor polynomial T_n drawn over it, one frame per order in
    ``orders``: an iterator of (height, width, 3) uint8 RGB arrays of one size.

    ValueError when f is not a function of x alone or an order is outside 0..30. The Taylor
    order (and whether the polynomial was shown, and its docks) is put back afterwards."""
    from ..core.session import MAX_TAYLOR_ORDER

    if window.session.f1 is None or getattr(window, "curve_view", None) is None:
        raise ValueError("the Taylor sweep needs a function of x alone")
    orders = [int(n) for n in orders]
    if not orders:
        raise ValueError("orders: expected at least one order")
    bad = [n for n in orders if not 0 <= n <= MAX_TAYLOR_ORDER]
    if bad:
        raise ValueError(f"orders: expected 0 to {MAX_TAYLOR_ORDER}, got {bad[0]}")
    return _taylor_frames(window, orders, size, caption)


def _taylor_frames(window, orders, size, caption):
    s, model, view = window.session, window.taylor_model, window.curve_view
    order, shown = s.taylor_order, s.show_taylor
    docks = {key: window.docks[key].isVisible() for key in ("taylor", "taylor_error")
             if key in window.docks}
    with _history_paused(window):
        try:
            if not shown:  # the overlay draws only while the polynomial is shown
                s.set_option("show_taylor", True)
            for n in orders:
                s.set_taylor_order(n)

                def ready(n=n):
                    if window.is_busy() or not model.ready:
                        return False
                    series = model.series()
                    return series is None or series.coefficients.size == n + 1

                _wait_until(ready, f"the Taylor polynomial of order {n}")
                if model.series() is None:
                    raise RuntimeError(model.error or f"no Taylor polynomial of order {n}")
                QtCore.QCoreApplication.processEvents()
                frame = grab_frame(view, size, f"Taylor polynomial, order n = {n}" if caption
                                   else None)
                if size is None:
                    size = (frame.shape[1], frame.shape[0])
                yield frame
        finally:
            s.set_taylor_order(order)
            if not shown:
                s.set_option("show_taylor", False)
                for key, visible in docks.items():
                    window.docks[key].setVisible(visible)


# -- writing -----------------------------------------------------------------------------------
def _even(frame: np.ndarray) -> np.ndarray:
    """Pad an odd height or width by one pixel (a copy of the last row or column): H.264 in
    yuv420p halves the colour resolution and needs even sizes."""
    h, w = frame.shape[:2]
    if h % 2 or w % 2:
        frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return frame


def _rgb(frame) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"a frame must be an (height, width, 3) uint8 array, got "
                         f"{frame.dtype} {frame.shape}")
    return np.ascontiguousarray(frame[:, :, :3])


def write_animation(path, frames: Iterable[np.ndarray], fps: float = RACE_FPS,
                    total: int | None = None, progress: Progress | None = None) -> int:
    """Write ``frames`` (RGB uint8 arrays of one size) to ``path`` as an animation; return
    the number of frames written.

    The suffix chooses the format: ``.gif`` (looping forever, 1/``fps`` s per frame, 256
    colours per frame) or ``.mp4`` (H.264, yuv420p, an odd width or height padded by one
    pixel). Any other suffix: ValueError naming it, and nothing is written.

    ``progress(i, total)`` is called after frame i (1-based; ``total`` is ``len(frames)`` when
    not given, else None); when it returns False the export stops with :class:`Cancelled`.
    The file is written into a temporary file beside ``path`` and moved over it at the end:
    after an error or a cancel neither exists. ``frames`` is closed in any case (so an
    iterator from :func:`race_frames` or :func:`taylor_frames` puts the view back)."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    try:
        _check_suffix(path)
        if not fps > 0:
            raise ValueError(f"fps: expected a positive number, got {fps!r}")
        if total is None and hasattr(frames, "__len__"):
            total = len(frames)
        with replacing(path, suffix) as tmp:
            count = (_write_gif if suffix == ".gif" else _write_mp4)(tmp, frames, fps, total,
                                                                     progress)
            if count == 0:
                raise ValueError("there are no frames to write")
        return count
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def _frames_checked(frames, total, progress):
    """The frames, one size, with the progress reported after each and a cancel raised."""
    shape = None
    for i, frame in enumerate(frames, start=1):
        frame = _rgb(frame)
        if shape is None:
            shape = frame.shape
        elif frame.shape != shape:
            raise ValueError(f"frame {i} is {frame.shape[1]}x{frame.shape[0]}, the first "
                             f"{shape[1]}x{shape[0]}: all frames must have one size")
        yield frame
        if progress is not None and progress(i, total) is False:
            raise Cancelled(f"cancelled at frame {i}")


def _write_gif(tmp, frames, fps, total, progress) -> int:
    # Pillow directly (imageio's GIF writer is Pillow too): each frame is reduced to its own
    # 256 colours by the fast octree as it comes, ~15 ms a frame where imageio's median cut
    # (``bits=8``) takes ~120 ms; a palette taken from one frame loses colours that appear
    # later (the paths turn solid as the cursor passes). Pillow encodes all frames at the
    # end; kept in palette mode they cost 1 byte a pixel.
    from PIL import Image

    images = [Image.fromarray(frame).quantize(256, method=Image.Quantize.FASTOCTREE)
              for frame in _frames_checked(frames, total, progress)]
    if images:
        # Encoding every frame takes ~0.3-0.5 s at the end: in a thread, with the progress
        # told again meanwhile (the dialog repaints, the window answers). A cancel then
        # waits for the encoder and discards its file.
        failed: list[BaseException] = []

        def encode() -> None:
            try:
                images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                               duration=int(round(1000.0 / fps)), loop=0)
            except BaseException as exc:  # noqa: BLE001 - raised again in the caller
                failed.append(exc)

        encoder = threading.Thread(target=encode, name="gif-encoder", daemon=True)
        encoder.start()
        cancelled = False
        while encoder.is_alive():
            encoder.join(0.03)
            if progress is not None and progress(len(images), total) is False:
                cancelled = True
        if failed:
            raise failed[0]
        if cancelled:
            raise Cancelled("cancelled while the GIF was written")
    return len(images)


def _write_mp4(tmp, frames, fps, total, progress) -> int:
    import imageio.v2 as iio2

    count = 0
    writer = None
    try:
        for frame in _frames_checked(frames, total, progress):
            frame = _even(frame)
            if writer is None:
                # macro_block_size=1: no resizing to multiples of 16 (the frames are even)
                writer = iio2.get_writer(tmp, format="FFMPEG", mode="I", fps=float(fps),
                                         codec="libx264", pixelformat="yuv420p", quality=8,
                                         macro_block_size=1, ffmpeg_log_level="error")
            writer.append_data(frame)
            count += 1
    finally:
        if writer is not None:
            writer.close()
    return count


# -- exports (what the menu calls; tests call them directly) -----------------------------------
def export_race_animation(window, path, n_frames: int = RACE_FRAMES, fps: float = RACE_FPS,
                          size: tuple[int, int] | None = None,
                          progress: Progress | None = None) -> int:
    """The optimizer race played from the start to the end, ``n_frames`` frames (fewer for a
    shorter race), written to ``path`` (.gif or .mp4). Returns the frame count."""
    _check_suffix(path)
    frames = race_frames(window, n_frames=n_frames, size=size)
    return write_animation(path, frames, fps=fps, total=len(race_steps(window, n_frames)),
                           progress=progress)


def export_taylor_animation(window, path, max_order: int = TAYLOR_MAX_ORDER,
                            fps: float = TAYLOR_FPS, size: tuple[int, int] | None = None,
                            progress: Progress | None = None) -> int:
    """The Taylor polynomial at orders 0, 1, ..., ``max_order``, written to ``path`` (.gif or
    .mp4). Returns the frame count."""
    _check_suffix(path)
    orders = range(0, int(max_order) + 1)
    frames = taylor_frames(window, orders=orders, size=size)
    return write_animation(path, frames, fps=fps, total=len(orders), progress=progress)


def _check_suffix(path) -> None:
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in FORMATS:  # before a frame is grabbed or anything is moved
        raise ValueError(f"cannot write an animation to {suffix or 'a file without a suffix'}"
                         f" ({os.path.basename(os.fspath(path))}): choose "
                         f"{' or '.join(FORMATS)}")


# -- the menu ----------------------------------------------------------------------------------
def install_animation_menu(window, menu: QtWidgets.QMenu) -> QtWidgets.QMenu:
    """Add File > Export animation: "Optimizer race…" (enabled while a race is drawn) and
    "Taylor order sweep…" (enabled for a function of x alone). Returns the submenu."""
    sub = menu.addMenu("Export &animation")
    sub.setObjectName("exportAnimationMenu")
    race = sub.addAction("Optimizer &race…")
    race.setObjectName("exportRaceAnimationAction")
    taylor = sub.addAction("&Taylor order sweep…")
    taylor.setObjectName("exportTaylorAnimationAction")

    def sync(*_args) -> None:
        race.setEnabled(_has_race(window))
        taylor.setEnabled(window.session.f1 is not None
                          and getattr(window, "curve_view", None) is not None)

    race.triggered.connect(lambda _checked=False: _run_export(
        window, "Export the race as an animation", "race", export_race_animation))
    taylor.triggered.connect(lambda _checked=False: _run_export(
        window, "Export the Taylor order sweep", "taylor", export_taylor_animation))
    sub.aboutToShow.connect(sync)
    menu.aboutToShow.connect(sync)
    window.race_model.changed.connect(sync)
    window.session.connect(("function", "show_race"), lambda s, f: sync())
    sync()
    window.animation_actions = {"race": race, "taylor": taylor}
    return sub


def _run_export(window, title: str, name: str, export) -> bool:
    """File dialog, then ``export(window, path, progress=...)`` under a modal, cancellable
    progress dialog; errors in a message box, success in the status bar."""
    path, chosen = QtWidgets.QFileDialog.getSaveFileName(window, title, f"{name}.gif",
                                                         ";;".join(FORMATS.values()))
    if not path:
        return False
    if os.path.splitext(path)[1].lower() not in FORMATS:
        path += ".mp4" if "MP4" in chosen else ".gif"
    dialog = QtWidgets.QProgressDialog("Preparing…", "Cancel", 0, 0, window)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setObjectName("animationProgress")
    dialog.show()

    def progress(i: int, total: int | None) -> bool:
        if total:
            dialog.setMaximum(total)
            dialog.setLabelText(f"frame {i} of {total}")
        else:
            dialog.setLabelText(f"frame {i}")
        dialog.setValue(i)
        if total and i >= total:
            dialog.setLabelText(f"writing {os.path.basename(path)}…")
        QtCore.QCoreApplication.processEvents()
        return not dialog.wasCanceled()

    try:
        count = export(window, path, progress=progress)
    except Cancelled:
        window.statusBar().showMessage("Animation export cancelled: nothing was written", 5000)
        return False
    except (OSError, ValueError, RuntimeError) as exc:
        dialog.close()
        QtWidgets.QMessageBox.warning(window, "Export failed", f"Could not write {path}:\n"
                                      f"{getattr(exc, 'strerror', None) or exc}")
        return False
    finally:
        dialog.close()
        dialog.deleteLater()
    window.statusBar().showMessage(f"Animation written to {path} ({count} frames)", 5000)
    return True
