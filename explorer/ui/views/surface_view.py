"""SurfaceView: f(x, y) as a 3D surface that turns and zooms under the mouse, with the point on
it and, for the optimizer lab, paths walking down it.

The surface is coloured with the landscape's colormap (viridis, log-scaled for valleys). The
data preparation is pure NumPy (:func:`surface_mesh`, :func:`scene_transform`), so it is tested
without a GL context. ``pyqtgraph.opengl`` (and PyOpenGL) is imported only when a GL widget is
built: OpenGL does not render on the offscreen platform and may crash there, so on that platform
(every offscreen test) the view shows a label and creates no GL context at all.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...core.session import Session
from ..readouts import RefreshWhenShown
from ..theme import COLORS, on_theme_changed

__all__ = ["SurfaceView", "SurfaceMesh", "SceneTransform", "gl_available", "surface_mesh",
           "surface_scale", "scene_transform", "color_values", "robust_z_range", "nice_ticks",
           "drape",
           "NO_GL_TEXT", "NEEDS_XY_TEXT"]

GRID = 120  # samples a side
HEIGHT = 1.1  # the surface spans z in [0, HEIGHT]; the longer side of the base spans [-1, 1]
FLOOR = -0.03  # the floor's grid, a little below the surface's lowest point (not through it)
LOG_DECADES = 3  # log colours resolve values down to 10**-3 of the range above the minimum
COLORMAP = "viridis"  # perceptually uniform, as the 2D landscape
NO_GL_TEXT = "3D needs a display with OpenGL (not available on the offscreen platform)"
NO_PYOPENGL_TEXT = "3D needs PyOpenGL (pip install PyOpenGL)"
NEEDS_XY_TEXT = "The surface needs a function of x and y"
NO_GL_PLATFORMS = ("offscreen", "minimal")
CAMERA = {"elevation": 30.0, "azimuth": -60.0}


def gl_available() -> bool:
    """Whether the view may create an OpenGL widget: a Qt GUI application runs on a platform
    that renders OpenGL (not ``offscreen`` or ``minimal``) and PyOpenGL is installed."""
    if QtGui.QGuiApplication.instance() is None:
        return False
    if QtGui.QGuiApplication.platformName() in NO_GL_PLATFORMS:
        return False
    return _has_pyopengl()


def _has_pyopengl() -> bool:
    return importlib.util.find_spec("OpenGL") is not None


# -- the data, pure NumPy ----------------------------------------------------------------------
@dataclass(frozen=True)
class SceneTransform:
    """Data (x, y, z) to scene (X, Y, Z): x and y share one scale (shapes keep their aspect)
    so the longer side of the range spans [-1, 1]; z in ``z_range`` spans [0, height]."""

    x_center: float
    y_center: float
    xy_factor: float
    z_low: float
    z_factor: float
    height: float = HEIGHT

    def to_scene(self, x, y, z, clip: bool = True):
        """Scene coordinates of data points (scalars or arrays). With ``clip``, Z stays inside
        [0, height] (poles and spikes are cut flat at the box's lid and floor)."""
        X = (np.asarray(x, dtype=float) - self.x_center) * self.xy_factor
        Y = (np.asarray(y, dtype=float) - self.y_center) * self.xy_factor
        Z = (np.asarray(z, dtype=float) - self.z_low) * self.z_factor
        if self.z_factor == 0.0:  # a constant function: a flat sheet half way up
            Z = np.where(np.isfinite(Z), 0.5 * self.height, np.nan)
        if clip:
            Z = np.clip(Z, 0.0, self.height)
        if X.ndim == 0 and Y.ndim == 0 and Z.ndim == 0:
            return float(X), float(Y), float(Z)
        return X, Y, Z

    def from_scene_z(self, Z):
        """The data z at scene height Z (the axis labels)."""
        if self.z_factor == 0.0:
            return np.full_like(np.asarray(Z, dtype=float), self.z_low)
        return np.asarray(Z, dtype=float) / self.z_factor + self.z_low

    def half_extent(self, xy_range) -> tuple[float, float]:
        """Half the base's width and depth in the scene."""
        (x0, x1), (y0, y1) = xy_range
        return 0.5 * (x1 - x0) * self.xy_factor, 0.5 * (y1 - y0) * self.xy_factor


def surface_scale(zmin: float, zmax: float, height: float = HEIGHT) -> tuple[float, float]:
    """``(z_low, z_factor)`` with ``Z = (z - z_low) * z_factor`` taking [zmin, zmax] onto
    [0, height]. A flat range (zmax == zmin) gives factor 0 (see SceneTransform)."""
    zmin, zmax = float(zmin), float(zmax)
    if not (math.isfinite(zmin) and math.isfinite(zmax)) or zmax < zmin:
        raise ValueError(f"need finite zmin <= zmax, got {zmin}, {zmax}")
    span = zmax - zmin
    if span <= 1e-12 * max(1.0, abs(zmin), abs(zmax)):
        return zmin, 0.0
    return zmin, height / span


def scene_transform(xy_range, z_range, height: float = HEIGHT) -> SceneTransform:
    """The :class:`SceneTransform` of a range ((x0, x1), (y0, y1)) and z range (lo, hi)."""
    (x0, x1), (y0, y1) = xy_range
    z_low, z_factor = surface_scale(*z_range, height=height)
    return SceneTransform(0.5 * (x0 + x1), 0.5 * (y0 + y1), 2.0 / max(x1 - x0, y1 - y0),
                          z_low, z_factor, height)


def robust_z_range(z: np.ndarray) -> tuple[float, float] | None:
    """The z range to draw: all of it when tame, the 1st to 99th percentile when poles or
    spikes would flatten everything else (1/(x*y) near the axes). None when nothing is finite."""
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return None
    full_lo, full_hi = float(finite.min()), float(finite.max())
    lo, hi = (float(v) for v in np.percentile(finite, [1, 99]))
    if full_hi - full_lo <= 4 * max(hi - lo, 1e-300):
        return full_lo, full_hi
    return lo, hi


def color_values(z: np.ndarray, z_range: tuple[float, float], log: bool = False) -> np.ndarray:
    """Where each z falls in ``z_range``, in [0, 1] (NaN stays NaN): linear, or with ``log``
    ``log1p((z - lo) / d) / log1p((hi - lo) / d)`` with d = (hi - lo) / 10**LOG_DECADES, which
    spreads the colours of a narrow valley (Rosenbrock) over the bottom decades."""
    lo, hi = z_range
    span = hi - lo
    if span <= 0:
        return np.where(np.isfinite(z), 0.5, np.nan)
    t = (np.clip(z, lo, hi) - lo) / span
    if log:
        scale = 10.0**LOG_DECADES
        t = np.log1p(t * scale) / math.log1p(scale)
    return t


@dataclass
class SurfaceMesh:
    """f sampled on a grid: ``z[i, j] = f(xs[i], ys[j])`` (NaN where undefined), ``colors``
    (n, n, 4) float32 RGBA (alpha 0 where undefined), ``z_range`` the drawn z range (None when
    f is undefined everywhere) and ``valid`` where z is finite."""

    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray
    colors: np.ndarray
    z_range: tuple[float, float] | None
    valid: np.ndarray


@functools.cache
def _colormap():
    return pg.colormap.get(COLORMAP)


def surface_mesh(f, xy_range, n: int = GRID, log: bool = False) -> SurfaceMesh:
    """Sample ``f(x, y)`` on an ``n`` x ``n`` grid over ``xy_range`` and colour it."""
    (x0, x1), (y0, y1) = xy_range
    xs = np.linspace(x0, x1, n)
    ys = np.linspace(y0, y1, n)
    with np.errstate(all="ignore"):
        z = np.asarray(f(xs[:, None], ys[None, :]), dtype=float)
    z = np.array(np.broadcast_to(z, (n, n)), dtype=float)
    z[~np.isfinite(z)] = np.nan
    valid = np.isfinite(z)
    z_range = robust_z_range(z)
    colors = np.zeros((n, n, 4), dtype=np.float32)
    if z_range is not None:
        t = color_values(z, z_range, log)
        colors[valid] = _colormap().map(t[valid], mode="float")
        colors[valid, 3] = 1.0
    return SurfaceMesh(xs, ys, z, colors, z_range, valid)


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> tuple[np.ndarray, int]:
    """Round tick values (1, 2, 5 x 10^k apart) inside [lo, hi] and the decimals to print."""
    span = hi - lo
    if not span > 0 or not math.isfinite(span):
        return np.array([lo]), 2
    raw = span / max(1, max_ticks)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = np.arange(first, hi + step * 1e-9, step)
    decimals = max(0, -math.floor(math.log10(step) + 1e-12))
    return ticks, decimals


def drape(points: np.ndarray, step: float, max_pieces: int = 64) -> np.ndarray:
    """The path through ``points`` (k, 2) with each segment cut into pieces at most ``step``
    long (at most ``max_pieces`` a segment), so that, lifted onto f, it follows the surface
    instead of cutting under it. The original points are kept, in order."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(points) < 2:
        return points
    with np.errstate(all="ignore"):
        lengths = np.hypot(*np.diff(points, axis=0).T)
        pieces = np.clip(np.nan_to_num(np.ceil(lengths / step), nan=1.0), 1, max_pieces)
    pieces = pieces.astype(int)
    starts = np.repeat(points[:-1], pieces, axis=0)
    deltas = np.repeat(np.diff(points, axis=0) / pieces[:, None], pieces, axis=0)
    within = np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    with np.errstate(all="ignore"):  # inf - inf in a diverged run: NaN, dropped when drawn
        return np.vstack([starts + deltas * within[:, None], points[-1:]])


def _label(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text  # never "-0"


def _rgba(color) -> tuple[float, float, float, float]:
    return pg.mkColor(color).getRgbF()


# -- the GL items (built only when GL is available) ---------------------------------------------
SURFACE_VERTEX = """
uniform mat4 u_mvp;
uniform mat3 u_normal;
attribute vec4 a_position;
attribute vec3 a_normal;
attribute vec4 a_color;
varying vec4 v_color;
varying vec3 v_normal;
void main() {
    v_normal = normalize(u_normal * a_normal);
    v_color = a_color;
    gl_Position = u_mvp * a_position;
}
"""
# Soft light from over the viewer's shoulder, both sides lit (the surface is seen from below
# too): the colours stay close to the colormap, the slopes still read as slopes.
SURFACE_FRAGMENT = """
#ifdef GL_ES
precision mediump float;
#endif
varying vec4 v_color;
varying vec3 v_normal;
void main() {
    float d = abs(dot(normalize(v_normal), normalize(vec3(-0.35, 0.45, 1.0))));
    gl_FragColor = vec4(v_color.rgb * (0.7 + 0.3 * d), v_color.a);
}
"""


@functools.cache
def _gl():
    """pyqtgraph.opengl and the classes built on it, imported on first use."""
    import pyqtgraph.opengl as gl
    from OpenGL import GL

    shader = gl.shaders.ShaderProgram("calculus_explorer_surface", [
        gl.shaders.VertexShader(SURFACE_VERTEX), gl.shaders.FragmentShader(SURFACE_FRAGMENT)])

    class MaskedSurface(gl.GLSurfacePlotItem):
        """A surface whose triangles touching an undefined sample are left out, drawn pushed
        back a little so lines on it (paths, mesh lines) are not buried in it."""

        def set_surface(self, x, y, z, colors, valid) -> None:
            self.setData(x=x, y=y, z=z, colors=colors.reshape(-1, 4))
            faces = self._faces  # GLSurfacePlotItem's full triangle list of the grid
            keep = valid.ravel()[faces].all(axis=1)
            self._meshdata.setFaces(faces if keep.all() else faces[keep])
            self.meshDataChanged()

        def paint(self):
            GL.glEnable(GL.GL_POLYGON_OFFSET_FILL)
            GL.glPolygonOffset(1.0, 1.0)
            super().paint()
            GL.glDisable(GL.GL_POLYGON_OFFSET_FILL)
            GL.glPolygonOffset(0.0, 0.0)

    on_top = {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
              "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}
    return gl, shader, MaskedSurface, on_top


class SurfaceView(RefreshWhenShown, QtWidgets.QWidget):
    """f(x, y) over ``session.xy_range`` in 3D, the session's point on it.

    Attributes: ``gl`` (the GLViewWidget, None without OpenGL), ``message`` (the QLabel shown
    instead of it), ``mesh`` (the last :class:`SurfaceMesh`), ``transform`` (the current
    :class:`SceneTransform`), ``surface``, ``point_item``, ``path_items`` (GL items, None or
    empty without OpenGL).
    """

    def __init__(self, session: Session, parent=None, grid: int = GRID):
        super().__init__(parent)
        self.setObjectName("SurfaceView")
        self.session, self.grid = session, grid
        self.mesh: SurfaceMesh | None = None
        self.transform = scene_transform(session.xy_range, (0.0, 1.0))
        self.gl = self.surface = self.mesh_lines = self.point_item = None
        self.point_halo = self.stem = self.floor = self.path_ends = None
        self.path_items: list = []
        self.labels: list = []
        self._paths: list | Callable[[], list] = []  # see set_paths
        self._drawn_key = None
        self.stack = QtWidgets.QStackedLayout(self)
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("SurfaceMessage")
        self.message.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {COLORS['axis_text']}; padding: 12px;")
        self.stack.addWidget(self.message)
        if gl_available():
            self._build_gl()
            on_theme_changed(self, lambda _name: self.restyle())
        else:
            self.message.setText(NO_GL_TEXT if not _gl_platform() else NO_PYOPENGL_TEXT)
        session.connect(("function", "parameters", "xy_range", "log_colors"),
                        lambda s, changed: self.refresh())
        session.connect("point", lambda s, changed: self._place_point())
        self.setMinimumSize(200, 150)

    # -- building -------------------------------------------------------------------------------
    def _build_gl(self) -> None:
        gl, shader, MaskedSurface, on_top = _gl()
        view = gl.GLViewWidget()
        view.setObjectName("SurfaceGL")
        fmt = view.format()
        fmt.setSamples(4)  # multisampling: smooth edges of the surface and the lines
        view.setFormat(fmt)
        view.setBackgroundColor(COLORS["background"])
        self.gl = view
        self.floor = gl.GLLinePlotItem(mode="lines", color=_rgba(COLORS["surface_floor"]), width=1.0,
                                       antialias=True, glOptions="translucent")
        self.surface = MaskedSurface(shader=shader, smooth=False, computeNormals=True,
                                     glOptions="opaque")
        self.mesh_lines = gl.GLLinePlotItem(mode="lines", color=(0.1, 0.1, 0.15, 0.22),
                                            width=1.0, antialias=True, glOptions="translucent")
        self.stem = gl.GLLinePlotItem(mode="lines", color=_rgba(COLORS["point"]), width=1.5,
                                      antialias=True, glOptions="translucent")
        self.point_halo = gl.GLScatterPlotItem(size=17, color=(1, 1, 1, 1), pxMode=True,
                                               glOptions=on_top)
        self.point_item = gl.GLScatterPlotItem(size=11, color=_rgba(COLORS["point"]),
                                               pxMode=True, glOptions=on_top)
        self.path_ends = gl.GLScatterPlotItem(size=8, pxMode=True, glOptions=on_top)
        for item in (self.floor, self.surface, self.mesh_lines, self.stem, self.path_ends,
                     self.point_halo, self.point_item):
            view.addItem(item)
        font = QtGui.QFont()
        font.setPointSizeF(8.5)
        self._font = font
        self.stack.addWidget(view)
        self.reset_camera()

    def restyle(self) -> None:
        """Take the theme's colours (after a switch): background, floor, labels."""
        if self.gl is None:
            return
        self.gl.setBackgroundColor(COLORS["background"])
        self.floor.setData(color=_rgba(COLORS["surface_floor"]))
        for item in self.labels:
            item.setData(color=COLORS["axis_text"])

    def reset_camera(self) -> None:
        """The initial view: from the front right, 30 degrees up, the whole box in sight."""
        if self.gl is None:
            return
        hx, hy = self.transform.half_extent(self.session.xy_range)
        radius = math.sqrt(hx * hx + hy * hy + (0.5 * HEIGHT) ** 2)
        self.gl.setCameraPosition(pos=QtGui.QVector3D(0.0, 0.0, 0.12 * HEIGHT),
                                  distance=2.4 * radius, **CAMERA)

    # -- drawing --------------------------------------------------------------------------------
    def _f2(self):
        f = self.session.f
        return f if f is not None and len(f.variables) == 2 else None

    def refresh(self) -> None:
        """Redraw the surface if f, its parameters, the range or the colour scale changed
        (nothing while hidden: showing the view calls this again)."""
        if self.gl is None or not self.on_screen():
            return
        s = self.session
        f = self._f2()
        if f is None:
            self.message.setText(NEEDS_XY_TEXT)
            self.stack.setCurrentWidget(self.message)
            self._drawn_key = None
            return
        self.stack.setCurrentWidget(self.gl)
        key = (f, s.xy_range, s.log_colors, self.grid)
        if key != self._drawn_key:
            self._drawn_key = key
            self._draw_surface(f)
        self._place_point()
        self._draw_paths()

    def _draw_surface(self, f) -> None:
        s = self.session
        mesh = surface_mesh(f, s.xy_range, self.grid, s.log_colors)
        self.mesh = mesh
        self.transform = scene_transform(s.xy_range, mesh.z_range or (0.0, 1.0))
        X, Y, Z = self.transform.to_scene(mesh.xs[:, None], mesh.ys[None, :], mesh.z)
        X, Y = X[:, 0].astype(np.float32), Y[0].astype(np.float32)
        Z = np.where(mesh.valid, Z, 0.0).astype(np.float32)  # undefined: dropped (see set_surface)
        self.surface.set_surface(X, Y, Z, mesh.colors, mesh.valid)
        self.surface.setVisible(bool(mesh.valid.any()))
        self.mesh_lines.setData(pos=self._mesh_line_segments(X, Y, Z, mesh.valid))
        self._draw_axes(mesh.z_range)

    @staticmethod
    def _mesh_line_segments(X, Y, Z, valid, every: int | None = None) -> np.ndarray:
        """Segments along every ``every``-th row and column of the grid (a coarse wireframe
        that shows the shape), skipping undefined samples."""
        n = len(X)
        every = every or max(1, (n - 1) // 12)
        idx = np.arange(0, n, every)
        if idx[-1] != n - 1:
            idx = np.append(idx, n - 1)
        P = np.stack(np.broadcast_arrays(X[:, None], Y[None, :], Z), axis=-1)
        segments = []
        # lines of constant x (rows of the grid), then of constant y (its columns)
        for lines, ok in ((P[idx, :], valid[idx, :]), (P[:, idx].swapaxes(0, 1), valid[:, idx].T)):
            keep = ok[:, :-1] & ok[:, 1:]
            segments.append(np.stack([lines[:, :-1][keep], lines[:, 1:][keep]], axis=1))
        return np.concatenate(segments).reshape(-1, 3).astype(np.float32)

    def _draw_axes(self, z_range) -> None:
        """The floor's grid at round x and y values, their labels along the front edges, and
        a z axis with labels at the left corner (as the initial camera sees the box)."""
        gl, *_ = _gl()
        align = QtCore.Qt.AlignmentFlag
        (x0, x1), (y0, y1) = self.session.xy_range
        t = self.transform
        hx, hy = t.half_extent(self.session.xy_range)
        xt, xd = nice_ticks(x0, x1)
        yt, yd = nice_ticks(y0, y1)
        Xt = (xt - t.x_center) * t.xy_factor
        Yt = (yt - t.y_center) * t.xy_factor
        z0 = FLOOR * HEIGHT
        lines = [[(X, -hy, z0), (X, hy, z0)] for X in Xt] + [[(-hx, Y, z0), (hx, Y, z0)] for Y in Yt]
        # the floor's outline and the z axis standing at its left corner
        lines += [[(-hx, -hy, z0), (hx, -hy, z0)], [(hx, -hy, z0), (hx, hy, z0)],
                  [(hx, hy, z0), (-hx, hy, z0)], [(-hx, hy, z0), (-hx, -hy, z0)],
                  [(-hx, -hy, z0), (-hx, -hy, HEIGHT)]]
        pad = 0.07
        below, left = align.AlignHCenter | align.AlignTop, align.AlignRight | align.AlignVCenter
        right = align.AlignLeft | align.AlignVCenter
        texts = [((X, -hy - pad, z0), _label(v, xd), below) for X, v in zip(Xt, xt, strict=True)]
        texts += [((hx + pad, Y, z0), _label(v, yd), right) for Y, v in zip(Yt, yt, strict=True)]
        names = self.session.f.variables if self._f2() is not None else ("x", "y")
        texts += [((0, -hy - 3.5 * pad, z0), names[0], below),
                  ((hx + 3.5 * pad, 0, z0), names[1], right)]
        if z_range is not None:
            lo, hi = z_range
            slack = 0.02 * (hi - lo)  # a tick at 0 when the sampled minimum is 0.019
            zt, zd = nice_ticks(lo - slack, hi + slack, max_ticks=5)
            for v in zt:
                Z = (v - t.z_low) * t.z_factor if t.z_factor else 0.5 * HEIGHT
                if -0.025 * HEIGHT <= Z <= 1.025 * HEIGHT:
                    texts.append(((-hx - pad, -hy - pad, Z), _label(v, zd), left))
                    lines.append([(-hx, -hy, Z), (-hx - 0.4 * pad, -hy - 0.4 * pad, Z)])
            texts.append(((-hx, -hy, HEIGHT + pad), "f", align.AlignHCenter | align.AlignBottom))
        self.floor.setData(pos=np.asarray(lines, dtype=np.float32).reshape(-1, 3))
        while len(self.labels) < len(texts):
            item = gl.GLTextItem(font=self._font, color=COLORS["axis_text"],
                                 glOptions="translucent")
            self.gl.addItem(item)
            self.labels.append(item)
        for item, (pos, text, alignment) in zip(self.labels, texts, strict=False):
            item.setData(pos=np.asarray(pos, dtype=float), text=text, alignment=alignment)
            item.setVisible(True)
        for item in self.labels[len(texts):]:
            item.setVisible(False)

    def _place_point(self) -> None:
        """The point as a marker on the surface, a line down to the floor below it."""
        if self.gl is None or not self.on_screen() or self._drawn_key is None:
            return
        f = self._f2()
        x, y = self.session.point
        (x0, x1), (y0, y1) = self.session.xy_range
        z = f(x, y) if f is not None else float("nan")
        inside = x0 <= x <= x1 and y0 <= y <= y1 and math.isfinite(z)
        for item in (self.point_item, self.point_halo, self.stem):
            item.setVisible(inside)
        if not inside:
            return
        X, Y, Z = self.transform.to_scene(x, y, z)
        pos = np.array([[X, Y, Z]], dtype=np.float32)
        self.point_item.setData(pos=pos)
        self.point_halo.setData(pos=pos)
        self.stem.setData(pos=np.array([[X, Y, FLOOR * HEIGHT], [X, Y, Z]], dtype=np.float32))

    def point_scene(self) -> tuple[float, float, float] | None:
        """Where the point marker is drawn (None when it is hidden or there is no GL)."""
        if self.point_item is None or not self.point_item.visible():
            return None
        return tuple(float(v) for v in self.point_item.pos[0])

    def to_scene(self, x, y, z):
        """Scene coordinates of data points, with the current surface's scaling."""
        return self.transform.to_scene(x, y, z)

    # -- optimizer paths ------------------------------------------------------------------------
    def set_paths(self, paths) -> None:
        """Draw paths on the surface: ``[(points (k, 2), color), ...]``, each a line through
        (x, y, f(x, y)) with its start and end marked; ``[]`` clears them. Segments leaving the
        range or where f is undefined are left out. ``paths`` may also be a function returning
        that list, called only when the surface is drawn (a race's frames then cost nothing
        while the surface is hidden)."""
        self._paths = paths
        self._draw_paths()

    def paths(self) -> list[tuple[np.ndarray, tuple]]:
        """The paths as drawn: ``[(points (k, 2), RGBA), ...]``."""
        paths = self._paths() if callable(self._paths) else self._paths
        return [(np.asarray(p, dtype=float).reshape(-1, 2), _rgba(c)) for p, c in paths]

    def _draw_paths(self) -> None:
        if self.gl is None or not self.on_screen() or self._drawn_key is None:
            return
        gl, *_ = _gl()
        f = self._f2()
        paths = self.paths()
        while len(self.path_items) < len(paths):
            item = gl.GLLinePlotItem(mode="lines", width=2.5, antialias=True,
                                     glOptions="translucent")
            self.gl.addItem(item)
            self.path_items.append(item)
        ends, end_colors = [], []
        (x0, x1), (y0, y1) = self.session.xy_range
        # half a grid cell: a chord longer than that cuts under a curved surface
        step = 0.5 * max(x1 - x0, y1 - y0) / max(1, self.grid - 1)
        for item, (points, color) in zip(self.path_items, paths, strict=False):
            dense = drape(points, step)
            xs, ys = dense[:, 0], dense[:, 1]
            zs = np.asarray(f(xs, ys), dtype=float) if f is not None and len(xs) else xs * np.nan
            ok = (np.isfinite(zs) & (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1))
            X, Y, Z = self.transform.to_scene(xs, ys, zs)
            P = np.stack([X, Y, Z + 0.004 * HEIGHT], axis=-1).astype(np.float32)
            keep = ok[:-1] & ok[1:]
            segments = np.stack([P[:-1][keep], P[1:][keep]], axis=1).reshape(-1, 3)
            item.setData(pos=segments, color=color)
            item.setVisible(len(segments) > 0)
            for i in (0, len(P) - 1) if len(P) else ():
                if ok[i]:
                    ends.append(P[i])
                    end_colors.append(color)
        for item in self.path_items[len(paths):]:
            item.setVisible(False)
        if ends:
            self.path_ends.setData(pos=np.asarray(ends, dtype=np.float32),
                                   color=np.asarray(end_colors, dtype=np.float32))
        self.path_ends.setVisible(bool(ends))

    def visible_path_items(self) -> list:
        """The line items drawing the current paths (tests, the lab)."""
        return [item for item in self.path_items if item.visible()]


def _gl_platform() -> bool:
    app = QtGui.QGuiApplication.instance()
    return app is not None and QtGui.QGuiApplication.platformName() not in NO_GL_PLATFORMS
