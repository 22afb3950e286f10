"""MainWindow: the curve view in the centre, docks around it, menus, settings."""

from __future__ import annotations

import json

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..core.document import LAB_NAMES
from ..core.session import DEFAULT_EXPRESSION, Session, SessionError
from .backprop_model import BackpropModel
from .bindings import Throttle, format_number
from .critical_model import CriticalModel
from .expectation_model import ExpectationModel
from .integration_model import IntegrationModel
from .jacobian_model import JacobianModel
from .landscape_model import LandscapeModel
from .panels.backprop_panel import BackpropPanel
from .panels.critical_panel import CriticalPanel
from .panels.expectation_panel import ExpectationPanel
from .panels.function_panel import FunctionPanel
from .panels.integral_panel import IntegralPanel
from .panels.jacobian_panel import JacobianPanel
from .panels.landscape_panel import LandscapePanel
from .panels.parameters_panel import ParametersPanel
from .panels.point_panel import PointPanel
from .panels.quotient_panel import QuotientPanel
from .panels.race_panel import RacePanel
from .panels.regression_panel import RegressionPanel
from .panels.taylor_panel import TaylorPanel
from .race_model import RaceModel
from .regression_model import RegressionModel
from .taylor_model import TaylorModel
from .worker import InTurns, Worker

# the labs with one View action each (named <lab>_action), whose open state a session keeps
LAB_ACTIONS = LAB_NAMES
USER_DATA = object()  # MainWindow's default data_dir: explorer.paths.user_data_dir()
SETTINGS_VERSION = 1  # bump when the dock layout changes incompatibly
KEY = f"v{SETTINGS_VERSION}"

SYNTAX_HELP = """<h3>Typing a function</h3>
<p><b>Numbers and names:</b> 2, 0.5, 1e-3, <code>pi</code>, <code>e</code>; the variable
<code>x</code> (and <code>y</code> for surfaces). Any other name (<code>a</code>,
<code>alpha</code>, ...) is a parameter with its own slider.</p>
<p><b>Operators:</b> <code>+ - * /</code>, powers with <code>^</code> or <code>**</code>,
implicit products: <code>2x</code>, <code>3(x+1)</code>, <code>(x+1)(x-1)</code>,
<code>2 pi x</code>.</p>
<p><b>Functions:</b> sin cos tan asin acos atan sinh cosh tanh exp log ln sqrt abs min max
sigmoid relu softplus gelu erf (and log10, log2, sign, asinh, acosh, atanh).</p>
<p>Non-smooth points take PyTorch's convention: relu'(0) = 0 and abs'(0) = 0.</p>"""


def _prepare_document(doc: dict | None, path: str | None):
    """Off the GUI thread: a document read from ``path`` (or ``doc``) and checked, and its
    texts parsed and warmed up as :func:`_prepare` does. Raises ValueError or OSError."""
    from ..core.document import check_document, read_document

    checked = read_document(path) if path is not None else check_document(doc)
    session = checked["session"]
    parsed = {}
    for text in (session.get("expression"), session.get("last_valid_expression")):
        if isinstance(text, str):
            _text, function, _error = _prepare(text)
            if function is not None:
                parsed[text] = function
    return checked, parsed


def _import_plotting() -> bool:
    """Load pyqtgraph off the GUI thread while the window is already on screen."""
    import pyqtgraph  # noqa: F401

    return True


def _prepare(text: str, third: bool = False):
    """Parse and warm up off the GUI thread: SymPy import, f, f', f'' compiled."""
    import numpy as np

    from ..core.expression import ExpressionError, parse

    try:
        function = parse(text)
    except ExpressionError as exc:
        return text, None, exc
    probe = np.linspace(-1.0, 1.0, 3)
    if len(function.variables) == 1:  # the curve, the point panel, and the third
        for order in range(3 + bool(third)):  # derivative while the error plot is open
            function.derivative(order=order)(probe)
    elif len(function.variables) == 2:  # the landscape: gradient and Hessian at the point
        function(probe, probe)
        for a in function.variables:
            function.diff(a)(probe, probe)
            for b in function.variables:
                function.diff(a, b)(probe, probe)
    return text, function, None


class PlotHolder(QtWidgets.QStackedWidget):
    """A dock's content while pyqtgraph loads: a "Loading…" label, replaced by the view."""

    def __init__(self, text: str = "Loading the plot…"):
        super().__init__()
        self.addWidget(QtWidgets.QLabel(text))

    def hold(self, view: QtWidgets.QWidget) -> QtWidgets.QWidget:
        self.addWidget(view)
        self.setCurrentWidget(view)
        return view


def _scrolling(panel: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """A tall panel in a scroll area: its dock then does not force the window's height."""
    area = QtWidgets.QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    return area


class MainWindow(QtWidgets.QMainWindow):
    """The explorer's window. ``settings`` is injected so tests never touch the user's."""

    def __init__(self, settings: QtCore.QSettings | None = None, expression: str | None = None,
                 restore: bool = True, data_dir=USER_DATA):
        """``data_dir``: where the autosave goes (the platform's data folder by default; None:
        no autosave, as for a headless render)."""
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowTitle("Calculus Explorer")
        self.settings = settings if settings is not None else QtCore.QSettings()
        # the stored theme (light, dark, or the system's) before any panel reads its colours
        from .theme import apply_theme, resolve_theme, stored_theme

        apply_theme(QtWidgets.QApplication.instance(), resolve_theme(stored_theme(self.settings)))
        self.session = Session(expression or DEFAULT_EXPRESSION, parse_now=False)
        self.file_path: str | None = None  # the session file opened or saved last
        self.started_up = False
        self.worker = Worker(self)  # parsing: short jobs, never queued behind typesetting
        self._in_turns = InTurns()  # how an applied document reaches the views (apply_document)
        self.typeset_worker = Worker(self)
        # Symbolic analysis of the parsed function (Taylor derivatives, critical points):
        # seconds at worst, so never in the way of a parse.
        self.analysis_worker = Worker(self)
        # Monte Carlo runs (NumPy only): a reseed never waits behind SymPy
        self.sampling_worker = Worker(self)
        self.taylor_model = TaylorModel(self.session, self.analysis_worker, self)
        self.critical_model = CriticalModel(self.session, self.analysis_worker, self)
        self.expectation_model = ExpectationModel(self.session, self.analysis_worker,
                                                  self.sampling_worker, self)
        self.integration_model = IntegrationModel(self.session, self.analysis_worker, self)
        self.landscape_model = LandscapeModel(self.session, self.analysis_worker, self)
        # The Jacobian lab keeps its own state (not the Session's yet), saved with the window's
        # settings so a restart brings it back.
        self.jacobian_model = JacobianModel(self)
        # The optimizer race on f(x, y): its own workers, so a race never waits behind SymPy.
        self.race_model = RaceModel(self.session, self.landscape_model, self)
        # The backprop lab: the graph of the session's function at its point and parameters.
        self.backprop_model = BackpropModel(self.session, self)
        # The regression lab keeps its data in the window's settings (session files: later).
        self.regression_model = RegressionModel(self)
        # Undo/redo and the autosave: snapshots of everything the user set, once it settles.
        from .history import History

        if data_dir is USER_DATA:
            from ..paths import user_data_dir

            data_dir = user_data_dir()
        self.history = History(self, data_dir, self)
        self.session.connect(None, self.history.touched)
        for signal in (self.regression_model.data_changed, self.regression_model.params_changed,
                       self.jacobian_model.changed):
            signal.connect(self.history.touched)
        if restore:
            self._restore_regression()
        if restore:
            self._restore_jacobian()
        self._saved_session = self._read_saved_session() if restore and expression is None else None
        if self._saved_session and isinstance(self._saved_session.get("expression"), str):
            self.session.expression = self._saved_session["expression"]

        # The plot is built once pyqtgraph has loaded off the GUI thread; until then the
        # window (menus, docks, the function field) is already painted and usable.
        self.curve_view = None
        self._preview = None  # f drawn with NumPy while SymPy loads (see _start)
        self.loader = Worker(self)
        placeholder = QtWidgets.QLabel("Loading the plot…")
        placeholder.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        placeholder.setEnabled(False)
        # A stack keeps the central area's size when the plot replaces the placeholder.
        self.central = QtWidgets.QStackedWidget()
        self.central.setMinimumSize(480, 360)
        self.central.addWidget(placeholder)
        self.setCentralWidget(self.central)
        self.function_panel = FunctionPanel(self.session)
        self.point_panel = PointPanel(self.session)
        self.parameters_panel = ParametersPanel(self.session)
        self.quotient_panel = QuotientPanel(self.session)
        self.taylor_panel = TaylorPanel(self.session, self.taylor_model)
        self.critical_panel = CriticalPanel(self.session, self.critical_model)
        self.expectation_panel = ExpectationPanel(self.session, self.expectation_model)
        self.integral_panel = IntegralPanel(self.session, self.integration_model)
        self.landscape_panel = LandscapePanel(self.session, self.landscape_model)
        self.landscape_view = self.cross_section_view = None
        self.cross_section_holder = PlotHolder()
        self.surface_view = None
        self.surface_holder = PlotHolder("Loading the surface…")
        # plots built once pyqtgraph has loaded
        self.error_view = self.taylor_error_view = None
        self.taylor_overlay = self.critical_overlay = self.integral_overlay = None
        self.accumulation_view = self.convergence_view = None
        self.sign_views = []
        self.error_holder = PlotHolder()
        self.monte_carlo_view = None
        self.monte_carlo_holder = PlotHolder()
        self.taylor_error_holder = PlotHolder()
        self.convergence_holder = PlotHolder()
        self.jacobian_panel = JacobianPanel(self.jacobian_model)
        self.jacobian_view = None
        self.jacobian_holder = PlotHolder()
        # The race's panel (~0.13 s to build: its table and editor) is built when first shown.
        self.race_panel = None
        self._race_sized = False  # its docks given their first width (_show_race_lab)
        self.race_area = _scrolling(QtWidgets.QLabel("Loading the race…"))
        self.race_overlay = self.race_plots = self.sweep_view = None
        self.race_plots_holder = PlotHolder()
        self.sweep_holder = PlotHolder()
        self.backprop_panel = None  # built when first shown, as the race's
        self.backprop_area = _scrolling(QtWidgets.QLabel("Loading…"))
        self.graph_view = self.gradcheck_view = self.chain_view = None
        self.graph_holder = PlotHolder()
        self.gradcheck_holder = PlotHolder()
        self.chain_holder = PlotHolder()
        self.regression_panel = None
        self.regression_area = _scrolling(QtWidgets.QLabel("Loading…"))
        self.regression_data_view = self.regression_loss_view = self.regression_epoch_plot = None
        self.regression_data_holder = PlotHolder()
        self.regression_loss_holder = PlotHolder()
        self.regression_epoch_holder = PlotHolder()
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        for key, title, widget, area in (
                ("function", "Function", self.function_panel, "left"),
                ("point", "Point", self.point_panel, "left"),
                ("parameters", "Parameters", self.parameters_panel, "left"),
                ("critical", "Critical points", self.critical_panel, "left"),
                ("quotient", "Difference quotient", self.quotient_panel, "bottom"),
                ("error", "Error vs h", self.error_holder, "bottom"),
                ("expectation", "Expectation", self.expectation_panel, "bottom"),
                ("monte_carlo", "Monte Carlo", self.monte_carlo_holder, "bottom"),
                ("taylor", "Taylor polynomial", self.taylor_panel, "right"),
                ("taylor_error", "Taylor error |f − Tₙ|", self.taylor_error_holder, "right"),
                ("integral", "Integral", self.integral_panel, "right"),
                ("convergence", "Convergence of the sums", self.convergence_holder, "right"),
                ("landscape", "Landscape f(x, y)", _scrolling(self.landscape_panel), "right"),
                ("cross_section", "Cross-section along u", self.cross_section_holder, "right"),
                ("surface", "Surface 3D", self.surface_holder, "right"),
                ("jacobian", "Jacobian map", _scrolling(self.jacobian_panel), "right"),
                ("jacobian_view", "Map and its Jacobian", self.jacobian_holder, "bottom"),
                ("race", "Optimizer race", self.race_area, "right"),
                ("race_plots", "Loss and |∇f| per step", self.race_plots_holder, "right"),
                ("sweep", "Learning-rate sweep", self.sweep_holder, "right"),
                ("backprop", "Backpropagation", self.backprop_area, "right"),
                ("graph", "Computational graph", self.graph_holder, "bottom"),
                ("gradcheck", "Gradient check", self.gradcheck_holder, "right"),
                ("chain", "Vanishing and exploding gradients", self.chain_holder, "right"),
                ("regression", "Regression", self.regression_area, "right"),
                ("regression_data", "Data and the line y = w·x + b",
                 self.regression_data_holder, "bottom"),
                ("regression_loss", "Loss J(w, b)", self.regression_loss_holder, "bottom"),
                ("regression_epochs", "Loss per epoch", self.regression_epoch_holder, "right")):
            dock = QtWidgets.QDockWidget(title, self)
            dock.setObjectName(f"{key}Dock")
            dock.setWidget(widget)
            dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
                             | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            side = {"left": QtCore.Qt.DockWidgetArea.LeftDockWidgetArea,
                    "right": QtCore.Qt.DockWidgetArea.RightDockWidgetArea,
                    "bottom": QtCore.Qt.DockWidgetArea.BottomDockWidgetArea}[area]
            self.addDockWidget(side, dock)
            self.docks[key] = dock
        # The Jacobian lab's docks hidden at once: shown, the window's minimum height would
        # count its panel stacked on the right (as the docks are until tabbed).
        for key in ("jacobian", "jacobian_view", "race", "race_plots", "sweep", "backprop",
                    "graph", "gradcheck", "chain", "regression", "regression_data",
                    "regression_loss", "regression_epochs"):
            self.docks[key].hide()
        # The difference quotient sits under the plot, its panel beside its error plot: the
        # plot keeps its width, and h's log axis gets a wide strip.
        self.splitDockWidget(self.docks["quotient"], self.docks["error"],
                             QtCore.Qt.Orientation.Horizontal)
        # The expectation lab shares that strip, one tab each: its panel beside its three plots.
        # Opened by View > Expectations (Ctrl+9). Hidden before it is tabbed: a shown dock
        # tabbed there makes the window 9 px taller than asked on its first show.
        for key in ("expectation", "monte_carlo"):
            self.docks[key].hide()
        self.tabifyDockWidget(self.docks["quotient"], self.docks["expectation"])
        self.tabifyDockWidget(self.docks["error"], self.docks["monte_carlo"])
        # The critical points share the parameters' place (one tab each); the Taylor lab
        # opens on the right, its error plot under its panel.
        self.tabifyDockWidget(self.docks["parameters"], self.docks["critical"])
        self.docks["parameters"].raise_()
        self.splitDockWidget(self.docks["taylor"], self.docks["taylor_error"],
                             QtCore.Qt.Orientation.Vertical)
        # The integration lab shares the right side with the Taylor lab, one tab each.
        self.tabifyDockWidget(self.docks["taylor"], self.docks["integral"])
        self.tabifyDockWidget(self.docks["taylor_error"], self.docks["convergence"])
        # ... and with the landscape of f(x, y), which opens by itself for such a function
        self.tabifyDockWidget(self.docks["taylor"], self.docks["landscape"])
        self.tabifyDockWidget(self.docks["taylor_error"], self.docks["cross_section"])
        self.tabifyDockWidget(self.docks["cross_section"], self.docks["surface"])
        # The Jacobian lab (View > Jacobian of a map, Ctrl+J): its panel a tab beside the
        # landscape's, its two plots beside Monte Carlo's under the plot (hidden since built).
        self.tabifyDockWidget(self.docks["landscape"], self.docks["jacobian"])
        self.tabifyDockWidget(self.docks["monte_carlo"], self.docks["jacobian_view"])
        # The optimizer race (View > Optimizer race, Ctrl+R): its panel a tab beside the
        # landscape's, its loss curves and sweep beside the cross-section and the surface.
        self.tabifyDockWidget(self.docks["landscape"], self.docks["race"])
        self.tabifyDockWidget(self.docks["surface"], self.docks["race_plots"])
        self.tabifyDockWidget(self.docks["race_plots"], self.docks["sweep"])
        # The backprop lab (View > Backpropagation, Ctrl+B): its panel a tab on the right, the
        # graph in the wide strip under the plot, the gradient check and the chain of layers
        # tabs beside it there.
        self.tabifyDockWidget(self.docks["landscape"], self.docks["backprop"])
        self.tabifyDockWidget(self.docks["jacobian_view"], self.docks["graph"])
        self.tabifyDockWidget(self.docks["graph"], self.docks["gradcheck"])
        self.tabifyDockWidget(self.docks["gradcheck"], self.docks["chain"])
        # The regression lab (View > Regression, Ctrl+L): its panel a tab on the right, the
        # data and J(w, b) side by side in the strip under the plot, J per epoch on the right.
        self.tabifyDockWidget(self.docks["landscape"], self.docks["regression"])
        self.tabifyDockWidget(self.docks["quotient"], self.docks["regression_data"])
        self.tabifyDockWidget(self.docks["error"], self.docks["regression_loss"])
        self.tabifyDockWidget(self.docks["cross_section"], self.docks["regression_epochs"])
        surface_action = self.docks["surface"].toggleViewAction()
        surface_action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+D"))
        surface_action.triggered.connect(lambda on: on and self.docks["surface"].raise_())
        self.resizeDocks([self.docks["function"]], [360], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["taylor"]], [380], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["taylor"], self.docks["taylor_error"]], [430, 300],
                         QtCore.Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["quotient"], self.docks["error"]], [330, 560],
                         QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["quotient"]], [250], QtCore.Qt.Orientation.Vertical)
        self.resizeDocks([self.docks[k] for k in ("function", "point", "parameters")],
                         [200, 190, 330], QtCore.Qt.Orientation.Vertical)
        # The difference-quotient lab opens from the View menu (or its checkbox): shown, it
        # costs ~10 ms a drag frame, which the default view should not pay.
        for key in ("quotient", "error", "taylor", "taylor_error", "integral", "convergence",
                    "landscape", "cross_section", "surface"):
            self.docks[key].hide()
        # Expectations and Monte Carlo are computed only while their docks are on screen.
        self._expectation_shown = {"expectation": False, "monte_carlo": False}
        for key in ("expectation", "monte_carlo"):
            self.docks[key].visibilityChanged.connect(
                lambda shown, k=key: self._expectation_visibility(k, shown))
        # turning the secant on (Ctrl+3) opens its read-outs and error plot with it, and the
        # Taylor polynomial (Ctrl+4) its panel and error plot
        self.session.connect("show_secant", lambda s, f: s.show_secant and self._open_lab())
        self.session.connect("show_taylor", lambda s, f: s.show_taylor and self._open_taylor())
        self.session.connect(("show_riemann", "show_accumulation"),
                             lambda s, f: (s.show_riemann or s.show_accumulation)
                             and self._open_integral())
        self.docks["convergence"].visibilityChanged.connect(self.integration_model.want_convergence)
        self.session.connect("show_race", lambda s, f: self._show_race_lab(s.show_race))
        self.docks["race"].toggleViewAction().toggled.connect(
            lambda shown: shown or self.session.set_option("show_race", False))
        self.docks["race"].visibilityChanged.connect(lambda shown: shown and self._race_panel())
        self.docks["backprop"].visibilityChanged.connect(
            lambda shown: shown and self._backprop_panel())
        self.docks["regression"].visibilityChanged.connect(
            lambda shown: shown and self._regression_panel())
        for key in ("backprop", "graph", "gradcheck"):
            self.docks[key].visibilityChanged.connect(
                lambda shown, k=key: self._backprop_visibility(k, shown))

        self._build_status_bar()
        self._build_menus()
        self.function_panel.expression_edited.connect(self.request_expression)
        self._busy_timer = QtCore.QTimer(self, singleShot=True, interval=100)
        self._busy_timer.timeout.connect(self._show_busy)
        for source in (self.worker, self.typeset_worker, self.loader, self.analysis_worker,
                       self.sampling_worker, self.expectation_model, self.integration_model.numeric,
                       self.integration_model.quick, self.race_model.worker,
                       self.race_model.sweep_worker, self.race_model.compile_worker,
                       self.regression_model.worker):
            source.busy_changed.connect(self._show_busy)
        self.session.connect("function", lambda s, f: self._show_landscape_or_curve())
        # Typesetting (mathtext, ~0.1-0.3 s of Python) waits until typing pauses, so that it
        # never competes with the redraw a keystroke causes.
        self._typeset_timer = QtCore.QTimer(self, singleShot=True, interval=150)
        self._typeset_timer.timeout.connect(self._request_typeset)
        self.session.connect("function", lambda s, f: self._schedule_typeset())

        self.resize(1360, 900)
        self._default_state = self.saveState(SETTINGS_VERSION)
        if restore:
            self._restore_window()
        # Load pyqtgraph and SymPy after the first paint: each import takes ~0.6-1 s of GIL,
        # which would hold up the paint even from another thread. (The timer covers a window
        # that is never painted, as in scripts.)
        self._started = False
        QtCore.QTimer.singleShot(1000, self._start)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if not self._started:
            QtCore.QTimer.singleShot(0, self._start)

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        from ..core.syntax import numeric_preview

        self.loader.submit("views", _import_plotting, self._build_views)
        # the analysis process loads SymPy and mathtext (~2 s) beside the window's start-up,
        # at a lower priority: the first search and the typeset formula find them loaded
        from ..core import offload

        analysis = offload.lane("analysis")
        self.analysis_worker.submit(
            "preload", lambda: analysis.call(offload.preload, "explorer.core.calculus",
                                             "explorer.ui.typeset", "matplotlib.mathtext"),
            lambda _none: None, lambda _exc: None)
        saved = self._saved_session or {}
        params = saved.get("parameters") if isinstance(saved.get("parameters"), dict) else {}
        self._preview = numeric_preview(
            self.session.expression,
            {k: v for k, v in params.items() if isinstance(v, (int, float))})
        if self._preview is None:
            self.request_expression(self.session.expression)
        # else: SymPy loads after the plot (both imports hold the GIL; the preview draws f)

    def _build_views(self, _loaded=None) -> None:
        from .theme import configure_pyqtgraph
        from .views.critical_overlay import CriticalOverlay
        from .views.curve_view import CurveView
        from .views.integral_overlay import IntegralOverlay
        from .views.taylor_overlay import TaylorOverlay

        configure_pyqtgraph()
        self.curve_view = CurveView(self.session)
        self._cursor = (0.0, 0.0)
        self._cursor_throttle = Throttle(self._show_cursor, parent=self)
        self.curve_view.cursor_moved.connect(self._cursor_moved)
        self.taylor_overlay = TaylorOverlay(self.curve_view, self.taylor_model, self.session)
        self.critical_overlay = CriticalOverlay(self.curve_view, self.critical_model, self.session)
        self.integral_overlay = IntegralOverlay(self.curve_view, self.integration_model, self.session)
        # f' and f'' go under the curve, on its x axis (View > Sign plots)
        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        splitter.setObjectName("curveSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.curve_view)
        self.central.addWidget(splitter)
        self.central.setCurrentWidget(splitter)
        self.curve_splitter = splitter
        # The plots of the labs are built after the curve is on screen: four more plot
        # widgets cost ~0.1 s that the first curve need not wait for.
        QtCore.QTimer.singleShot(0, lambda: self._build_lab_views(splitter))
        if self.session.function is None and self._preview is not None:
            # Draw f from the syntax tree with NumPy, then load SymPy for the rest.
            self.curve_view.show_preview(self._preview)
            if not self.worker.is_busy():
                self.request_expression(self.session.expression)
        self._schedule_typeset()

    def _build_lab_views(self, splitter: QtWidgets.QSplitter) -> None:
        from .views.accumulation_view import AccumulationView
        from .views.convergence_view import ConvergenceView
        from .views.error_view import ErrorView
        from .views.sign_view import SignView
        from .views.taylor_error_view import TaylorErrorView

        self.error_view = ErrorView(self.session)
        self.error_holder.hold(self.error_view)
        from .views.monte_carlo_view import MonteCarloView

        self.monte_carlo_view = MonteCarloView(self.session, self.expectation_model)
        self.monte_carlo_holder.hold(self.monte_carlo_view)
        self.taylor_error_view = TaylorErrorView(self.session, self.taylor_model)
        self.taylor_error_holder.hold(self.taylor_error_view)
        from .views.cross_section_view import CrossSectionView
        from .views.landscape_view import LandscapeView

        self.landscape_view = LandscapeView(self.session, self.landscape_model)
        self.central.addWidget(self.landscape_view)

        self.cross_section_view = CrossSectionView(self.session, self.landscape_model)
        self.cross_section_holder.hold(self.cross_section_view)
        # The 3D surface (View > Surface 3D): OpenGL, so only where a display has it; it
        # redraws only while its dock is shown.
        from .views.surface_view import SurfaceView

        self.surface_view = SurfaceView(self.session)
        self.surface_holder.hold(self.surface_view)
        self._show_landscape_or_curve()
        self.convergence_view = ConvergenceView(self.session, self.integration_model)
        self.convergence_holder.hold(self.convergence_view)
        from .views.jacobian_view import JacobianView

        self.jacobian_view = JacobianView(self.jacobian_model)
        self.jacobian_holder.hold(self.jacobian_view)
        from .views.race_overlay import RaceOverlay
        from .views.race_plots import RacePlots
        from .views.sweep_view import SweepView

        self.race_overlay = RaceOverlay(self.landscape_view, self.race_model)
        self.race_plots = RacePlots(self.session, self.race_model)
        self.race_plots_holder.hold(self.race_plots)
        self.sweep_view = SweepView(self.session, self.race_model)
        self.sweep_holder.hold(self.sweep_view)
        self.race_model.changed.connect(self._race_on_surface)
        self.race_model.cursor_changed.connect(lambda _k: self._race_surface_throttle())
        self._race_surface_throttle = Throttle(self._race_on_surface, 60, self)
        self.race_model.request()
        from .views.chain_view import ChainView
        from .views.gradcheck_view import GradientCheckView
        from .views.graph_view import GraphView

        self.graph_view = GraphView(self.backprop_model)
        self.graph_holder.hold(self.graph_view)
        self.graph_view.node_clicked.connect(lambda i: self._backprop_panel().show_node(i))
        self.gradcheck_view = GradientCheckView(self.backprop_model)
        self.gradcheck_holder.hold(self.gradcheck_view)
        self.chain_view = ChainView()
        self.chain_holder.hold(self.chain_view)
        from .views.regression_data_view import RegressionDataView
        from .views.regression_loss_view import DescentLossPlot, LossView

        self.regression_data_view = RegressionDataView(self.regression_model)
        self.regression_data_holder.hold(self.regression_data_view)
        self.regression_loss_view = LossView(self.regression_model)
        self.regression_loss_holder.hold(self.regression_loss_view)
        self.regression_epoch_plot = DescentLossPlot(self.regression_model)
        self.regression_epoch_holder.hold(self.regression_epoch_plot)
        self.sign_views = [SignView(self.session, 1), SignView(self.session, 2)]
        self.accumulation_view = AccumulationView(self.session, self.integration_model)
        for view in (*self.sign_views, self.accumulation_view):
            view.setXLink(self.curve_view)
            splitter.addWidget(view)
        splitter.setStretchFactor(0, 5)
        for i in (1, 2, 3):
            splitter.setStretchFactor(i, 2)
        self.session.connect(("show_sign_plots", "show_accumulation"),
                             lambda s, f: self._arrange_plots_under_curve())
        self._arrange_plots_under_curve()

    # -- building ------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.busy_label = QtWidgets.QLabel("computing…")
        self.busy_label.setEnabled(False)
        self.busy_label.hide()
        self.cursor_label = QtWidgets.QLabel("")
        self.cursor_label.setObjectName("cursorLabel")
        self.cursor_label.setMinimumWidth(220)
        bar.addPermanentWidget(self.busy_label)
        bar.addPermanentWidget(self.cursor_label)

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for text, key, slot in (("&Open…", QtGui.QKeySequence.StandardKey.Open, self.open_file),
                                ("&Save", QtGui.QKeySequence.StandardKey.Save, self.save_file),
                                ("Save &As…", QtGui.QKeySequence.StandardKey.SaveAs,
                                 self.save_file_as)):
            action = file_menu.addAction(text)
            action.setShortcut(QtGui.QKeySequence(key))
            action.triggered.connect(lambda _checked=False, f=slot: f())
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.file_menu = file_menu
        # figures: Export view (PNG 1-4x, SVG, PDF), all open views, the clipboard (it adds
        # its own separator above), then animations of the race or a Taylor sweep
        from .animation import install_animation_menu
        from .export import install_export_menu

        install_export_menu(self, file_menu)
        install_animation_menu(self, file_menu)
        file_menu.addSeparator()
        data = file_menu.addMenu("&Data and trajectories")
        self.data_menu = data
        for text, slot, name in (
                ("Export the selected run's trajectory (CSV, JSON)…", self.export_run, "run"),
                ("Export every run's trajectory to a folder…", self.export_all_runs, "runs"),
                ("Import regression data (CSV)…", self.import_regression_csv, "import"),
                ("Export regression data (CSV)…", self.export_regression_csv, "data")):
            action = data.addAction(text)
            action.setObjectName(f"{name}DataAction")
            action.triggered.connect(lambda _checked=False, f=slot: f())
        data.aboutToShow.connect(self._enable_data_actions)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QtGui.QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        edit = menu.addMenu("&Edit")
        self.edit_menu = edit
        self.undo_action = self.history.stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QtGui.QKeySequence("Ctrl+Z")])
        self.redo_action = self.history.stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QtGui.QKeySequence("Ctrl+Shift+Z"),
                                       QtGui.QKeySequence("Ctrl+Y")])
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)

        view = menu.addMenu("&View")
        self.view_menu = view
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self.option_actions: dict[str, QtGui.QAction] = {}
        for name, text, shortcut in (("show_derivative", "Show f′", "Ctrl+1"),
                                     ("show_second_derivative", "Show f″", "Ctrl+2"),
                                     ("show_tangent", "Show tangent", "Ctrl+T"),
                                     ("show_secant", "Show secant and the difference quotient", "Ctrl+3"),
                                     ("show_taylor", "Show the Taylor polynomial", "Ctrl+4"),
                                     ("show_sign_plots", "Sign plots of f′ and f″", "Ctrl+5"),
                                     ("show_critical_points", "Mark critical points", "Ctrl+6"),
                                     ("show_riemann", "Riemann sum and the bounds a, b", "Ctrl+7"),
                                     ("show_accumulation",
                                      "Accumulation F(x) and the fundamental theorem", "Ctrl+8"),
                                     ("show_race", "Optimizer race on f(x, y)", "Ctrl+R")):
            action = view.addAction(text)
            action.setCheckable(True)
            action.setShortcut(QtGui.QKeySequence(shortcut))
            action.toggled.connect(lambda on, n=name: self.session.set_option(n, on))
            self.option_actions[name] = action
        self.session.connect(Session.BOOL_FIELDS, lambda s, f: self._sync_option_actions())
        self._sync_option_actions()
        # the labs whose docks open and close together, each with its checkable action
        for name, text, shortcut, slot in (
                ("expectation", "Expectations and Monte Carlo", "Ctrl+9", self._show_expectation_lab),
                ("jacobian", "Jacobian of a map (u, v)", "Ctrl+J", self._show_jacobian_lab),
                ("backprop", "Backpropagation: the computational graph", "Ctrl+B",
                 self._show_backprop_lab),
                ("regression", "Regression: fit a line by descent", "Ctrl+L",
                 self._show_regression_lab)):
            lab = view.addAction(text)
            lab.setObjectName(f"{name}Action")
            lab.setCheckable(True)
            lab.setShortcut(QtGui.QKeySequence(shortcut))
            lab.toggled.connect(slot)
            setattr(self, f"{name}_action", lab)
        # closed by its title bar's button: the action follows
        self.docks["jacobian"].toggleViewAction().toggled.connect(self._sync_jacobian_action)
        view.addSeparator()
        fit = view.addAction("Fit curve vertically")
        fit.setShortcut(QtGui.QKeySequence("Ctrl+0"))
        fit.triggered.connect(lambda: self.curve_view and self.curve_view.fit_view())
        reset = view.addAction("Reset layout")
        reset.setObjectName("resetLayoutAction")
        reset.triggered.connect(self.reset_layout)
        self.reset_layout_action = reset
        from .theme import install_theme_menu, on_theme_changed

        install_theme_menu(self, view)  # View > Theme: System, Light, Dark
        on_theme_changed(self, lambda _name: self._schedule_typeset())  # the formula's colour

        help_menu = menu.addMenu("&Help")
        self.help_menu = help_menu
        syntax = help_menu.addAction("Expression syntax")
        syntax.triggered.connect(
            lambda: QtWidgets.QMessageBox.information(self, "Expression syntax", SYNTAX_HELP))
        # a "?" on every dock, Help > Keyboard shortcuts, the About box with versions
        from .help import install_help

        install_help(self, help_menu)

    def _open_lab(self) -> None:
        opening = not self.docks["quotient"].isVisible()
        for key in ("quotient", "error"):
            self.docks[key].show()
        if opening:  # sizes given while hidden do not stick: the error plot gets the width
            self.resizeDocks([self.docks["quotient"], self.docks["error"]],
                             [330, max(400, self.width() - 330)],
                             QtCore.Qt.Orientation.Horizontal)

    def _open_taylor(self) -> None:
        for key in ("taylor", "taylor_error"):
            self.docks[key].show()

    def _show_expectation_lab(self, shown: bool) -> None:
        """View > Expectations and Monte Carlo: both docks shown and raised (over the
        difference quotient's tabs), or both hidden."""
        docks = [self.docks["expectation"], self.docks["monte_carlo"]]
        if not shown:
            for dock in docks:
                dock.hide()
            return
        opening = not docks[0].isVisible()
        for dock in docks:
            dock.show()
            dock.raise_()
        if opening:  # sizes given while hidden do not stick: the plots get the width
            self.resizeDocks(docks, [330, max(600, self.width() - 330)],
                             QtCore.Qt.Orientation.Horizontal)
            self.resizeDocks([docks[0]], [330], QtCore.Qt.Orientation.Vertical)

    def _show_jacobian_lab(self, shown: bool) -> None:
        """View > Jacobian of a map: its panel and its plots shown and raised, or hidden."""
        docks = [self.docks["jacobian"], self.docks["jacobian_view"]]
        if not shown:
            for dock in docks:
                dock.hide()
            return
        opening = not docks[1].isVisible()
        for dock in docks:
            dock.show()
            dock.raise_()
        if opening:  # sizes given while hidden do not stick: the two plots get the height
            self.resizeDocks([docks[1]], [max(340, self.height() * 2 // 5)],
                             QtCore.Qt.Orientation.Vertical)

    def _show_race_lab(self, shown: bool) -> None:
        """The race's panel, loss curves and sweep shown and raised, or hidden."""
        docks = [self.docks[k] for k in ("race", "race_plots", "sweep")]
        if shown:
            self._race_panel()
        if not shown:
            for dock in docks:
                dock.hide()
            self._race_on_surface()
            return
        # Sized on its first opening only: shown again (Ctrl+R, an undo) it keeps the width the
        # user left it, and the window's other plots keep theirs (a resize repaints them all)
        opening = not docks[0].isVisible() and not self._race_sized
        for dock in docks:
            dock.show()
        for dock in docks[:2]:
            dock.raise_()
        if opening:  # the runs' table and the editor need more width than the other panels
            self._race_sized = True
            self.resizeDocks([docks[0]], [max(480, self.width() // 3)],
                             QtCore.Qt.Orientation.Horizontal)
        self.race_model.request()

    def _regression_panel(self) -> RegressionPanel:
        if self.regression_panel is None:
            self.regression_panel = RegressionPanel(self.regression_model)
            self.regression_panel.import_requested.connect(self.import_regression_csv)
            self.regression_panel.export_requested.connect(self.export_regression_csv)
            self.regression_area.setWidget(self.regression_panel)
        return self.regression_panel

    def _show_regression_lab(self, shown: bool) -> None:
        """View > Regression: the panel, the data, J(w, b) and J per epoch shown and raised."""
        docks = [self.docks[k] for k in ("regression", "regression_data", "regression_loss",
                                         "regression_epochs")]
        if not shown:
            for dock in docks:
                dock.hide()
            return
        self._regression_panel()
        opening = not docks[1].isVisible()
        for dock in docks:
            dock.show()
            dock.raise_()
        if opening:  # the two plots get the strip's height and share its width
            self.resizeDocks([docks[1]], [max(380, self.height() * 9 // 20)],
                             QtCore.Qt.Orientation.Vertical)
            self.resizeDocks([docks[1], docks[2]], [self.width() // 2, self.width() // 2],
                             QtCore.Qt.Orientation.Horizontal)
            self.resizeDocks([docks[0]], [max(480, self.width() // 3)],
                             QtCore.Qt.Orientation.Horizontal)
            self.resizeDocks([docks[0], docks[3]], [self.height() * 2 // 5, self.height() // 5],
                             QtCore.Qt.Orientation.Vertical)

    def import_regression_csv(self) -> None:
        """Data > Import: a CSV of x, y; a bad file says which line, and the data stays."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Import data", "",
                                                        "CSV (*.csv *.txt);;All files (*)")
        if not path:
            return
        from ..core.regression import CsvError, read_csv

        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read(20_000_001)
            data = read_csv(text)
        except OSError as exc:
            self._regression_panel().show_data_error(f"Could not read {path}: "
                                                     f"{exc.strerror or exc}")
            return
        except CsvError as exc:
            self._regression_panel().show_data_error(f"{path}, {exc}. The data is unchanged.")
            return
        self._regression_panel().data_error.hide()
        self.regression_model.set_data(data)

    def export_regression_csv(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export data", "data.csv",
                                                        "CSV (*.csv)")
        if not path:
            return
        try:
            self.regression_model.data.to_csv(path)
        except OSError as exc:
            QtWidgets.QMessageBox.warning(self, "Export failed",
                                          f"Could not write {path}:\n{exc.strerror or exc}")
            return
        self.statusBar().showMessage(f"Data written to {path}", 5000)

    # -- session files ---------------------------------------------------------------------------
    def session_document(self) -> dict:
        """Everything the user set: the session, the labs that keep their own state, and which
        labs are open (a version-2 session file, explorer.core.document)."""
        from ..core.document import make_document

        return make_document(
            self.session.to_dict(),
            labs={"jacobian": self.jacobian_model.to_dict(),
                  "regression": self.regression_model.to_dict()},
            view={"labs": [name for name in LAB_ACTIONS
                           if getattr(self, f"{name}_action").isChecked()],
                  "surface": self.docks["surface"].toggleViewAction().isChecked()})

    def apply_document(self, doc: dict, parsed: dict | None = None) -> None:
        """Make ``doc`` (checked by explorer.core.document.check_document) the current state:
        the session (at once, its views told over the next turns), the labs, the open labs.
        ``parsed``: its texts already parsed (see :meth:`load_document`)."""
        # The views learn of the new state over a few turns of the event loop, each painted
        # before the next: an undo redrew and repainted six to ten views in one turn (in a
        # soak's undo stalls: ~30 ms applying, then ~35 ms painting the curve, ~20 the race
        # plots, and more), now a few milliseconds of updates per turn (worker.InTurns).
        with self.session.spread(self._in_turns):
            self.session.restore(doc["session"], parsed)
        labs = doc.get("labs", {})
        if "jacobian" in labs:
            self.jacobian_model.restore(labs["jacobian"])
        if "regression" in labs:
            self.regression_model.restore(labs["regression"])
        view = doc.get("view")
        if view:  # a document without view choices leaves the window as it is
            shown = set(view.get("labs", ()))
            for name in LAB_ACTIONS:
                action = getattr(self, f"{name}_action")
                if action.isChecked() != (name in shown):
                    action.setChecked(name in shown)
            surface = self.docks["surface"]
            if surface.toggleViewAction().isChecked() != bool(view.get("surface")):
                surface.setVisible(bool(view.get("surface")))

    def load_document(self, doc: dict | None = None, path: str | None = None, then=None,
                      failed=None) -> None:
        """Read and check a document (from ``path``, or ``doc`` as is) and parse its function
        off the GUI thread (SymPy: up to a second), then apply it; ``then()`` after that, or
        ``failed(exc)`` with what is wrong. The latest request wins."""

        def ready(result) -> None:
            checked, parsed = result
            self.apply_document(checked, parsed)
            if then is not None:
                then()

        self.worker.submit("document", lambda: _prepare_document(doc, path), ready,
                           failed or (lambda exc: self.statusBar().showMessage(str(exc), 8000)))

    def open_file(self, path: str | None = None) -> bool:
        """File > Open: a session file, read, checked and parsed off the GUI thread; a bad one
        says which field is wrong and leaves the current state as it is. Older versions are
        migrated. False if no file was chosen."""
        if path is None:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, "Open a session", "", "Calculus Explorer session (*.json);;All files (*)")
            if not path:
                return False
        import os

        def opened() -> None:
            self._set_file(path)

        def refused(exc: BaseException) -> None:
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            QtWidgets.QMessageBox.warning(self, "Could not open the session",
                                          f"{path}:\n{message}\n\nNothing was changed.")

        self.history.label_next(f"Open {os.path.basename(path)}")
        self.load_document(path=path, then=opened, failed=refused)
        return True

    def save_file(self) -> bool:
        if self.file_path is None:
            return self.save_file_as()
        return self._write(self.file_path)

    def save_file_as(self) -> bool:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save the session", self.file_path or "session.json",
            "Calculus Explorer session (*.json)")
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self._write(path)

    def _write(self, path: str) -> bool:
        from ..core.files import write_text

        try:
            write_text(path, json.dumps(self.session_document(), indent=1, allow_nan=False))
        except (OSError, ValueError) as exc:
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            QtWidgets.QMessageBox.warning(self, "Could not save the session",
                                          f"{path}:\n{message}")
            return False
        self._set_file(path)
        self.statusBar().showMessage(f"Session saved to {path}", 5000)
        return True

    def _set_file(self, path: str) -> None:
        import os

        self.file_path = path
        self.setWindowTitle(f"{os.path.basename(path)} — Calculus Explorer")
        recent = [p for p in self._recent() if p != path]
        self.settings.setValue(f"{KEY}/recent", json.dumps([path, *recent][:8]))

    def _recent(self) -> list[str]:
        raw = self.settings.value(f"{KEY}/recent")
        try:
            paths = json.loads(raw) if isinstance(raw, str) else []
        except ValueError:
            return []
        return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = self._recent()
        for path in paths:
            self.recent_menu.addAction(path, lambda p=path: self.open_file(p))
        if not paths:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _restore_regression(self) -> None:
        raw = self.settings.value(f"{KEY}/regression")
        if isinstance(raw, str):
            try:
                self.regression_model.restore(json.loads(raw))
            except ValueError:
                pass  # a damaged entry: the lab starts from its defaults

    def _backprop_panel(self) -> BackpropPanel:
        if self.backprop_panel is None:
            self.backprop_panel = BackpropPanel(self.backprop_model)
            self.backprop_panel.preset_chosen.connect(self.apply_graph_preset)
            self.backprop_area.setWidget(self.backprop_panel)
        return self.backprop_panel

    def _show_backprop_lab(self, shown: bool) -> None:
        """View > Backpropagation: its panel, graph and gradient check shown and raised."""
        docks = [self.docks[k] for k in ("backprop", "graph", "gradcheck", "chain")]
        if not shown:
            for dock in docks:
                dock.hide()
            return
        self._backprop_panel()
        opening = not docks[1].isVisible()
        for dock in docks:
            dock.show()
        for dock in (docks[0], docks[1]):  # the panel and the graph in front
            dock.raise_()
        if opening:  # the graph gets the height it needs to be read
            self.resizeDocks([docks[1]], [max(380, self.height() * 9 // 20)],
                             QtCore.Qt.Orientation.Vertical)
            self.resizeDocks([docks[0]], [max(420, self.width() // 3)],
                             QtCore.Qt.Orientation.Horizontal)

    def _backprop_visibility(self, key: str, shown: bool) -> None:
        """The graph is rebuilt only while one of the lab's docks is on screen (a dock behind
        another's tab counts as hidden: visibilityChanged says so, isVisible does not)."""
        import shiboken6

        if not shiboken6.isValid(self) or not shiboken6.isValid(self.backprop_model):
            return
        keys = ("backprop", "graph", "gradcheck")
        if not all(shiboken6.isValid(self.docks[k]) for k in keys):
            return
        if not hasattr(self, "_backprop_shown"):
            self._backprop_shown = dict.fromkeys(keys, False)
        self._backprop_shown[key] = shown
        self.backprop_model.set_active(any(self._backprop_shown.values()))
        action = getattr(self, "backprop_action", None)
        if action is not None and shiboken6.isValid(action):
            checked = any(self.docks[k].toggleViewAction().isChecked() for k in keys)
            if action.isChecked() != checked:
                action.blockSignals(True)
                action.setChecked(checked)
                action.blockSignals(False)

    def apply_graph_preset(self, text: str, variables: dict, parameters: dict) -> None:
        """A worked example of the backprop lab: its expression typed, its values set."""
        from ..core.expression import ExpressionError, parse

        try:
            function = parse(text)
        except ExpressionError as exc:  # the presets are ours: a bug, said plainly
            self.statusBar().showMessage(f"The example could not be read: {exc}", 8000)
            return
        s = self.session
        with s.batch():
            s.set_expression(text, function=function)
            for name, value in parameters.items():
                s.set_parameter(name, value)
            names = function.variables
            if len(names) == 1:
                s.set_x0(variables.get(names[0], s.x0))
            else:
                point = tuple(float(variables.get(n, p))
                              for n, p in zip(names, s.point, strict=False))
                s.set_point(point)
                (x0, x1), (y0, y1) = s.xy_range
                if not (x0 < point[0] < x1 and y0 < point[1] < y1):
                    s.set_xy_range((point[0] - 3, point[0] + 3), (point[1] - 3, point[1] + 3))

    def _race_panel(self) -> RacePanel:
        if self.race_panel is None:
            self.race_panel = RacePanel(self.session, self.race_model)
            self.race_panel.export_run_requested.connect(self.export_run)
            self.race_panel.export_view_requested.connect(self.export_landscape_view)
            self.race_area.setWidget(self.race_panel)
        return self.race_panel

    def _race_on_surface(self) -> None:
        """The paths walked on the 3D surface too, up to the playback cursor (worked out when
        the surface draws them: nothing while it is hidden)."""
        if self.surface_view is not None:
            self.surface_view.set_paths(self._race_paths)

    def _race_paths(self) -> list:
        m = self.race_model
        paths = []
        if m.active:
            for spec, t in zip(m.runs, m.trajectories, strict=False):
                if t is not None:
                    k = min(m.cursor, t.steps)
                    pts = t.points[: k + 1]
                    paths.append((pts[np.all(np.isfinite(pts), axis=1)], spec.color_hex))
        return paths

    def _enable_data_actions(self) -> None:
        has_runs = any(t is not None for t in self.race_model.trajectories)
        for action in self.data_menu.actions():
            if action.objectName() in ("runDataAction", "runsDataAction"):
                action.setEnabled(has_runs)

    def export_all_runs(self, folder: str | None = None) -> list[str]:
        """Every run of the race as ``<n>_<label>.csv`` and ``.json`` in ``folder``."""
        import os
        import re

        m = self.race_model
        done = [(i, t) for i, t in enumerate(m.trajectories) if t is not None]
        if not done:
            self.statusBar().showMessage("No trajectories yet: open the race (Ctrl+R) on a "
                                         "function of x and y", 5000)
            return []
        if folder is None:
            folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Export the trajectories to")
            if not folder:
                return []
        written = []
        try:
            for i, t in done:
                label = re.sub(r"[^a-z0-9.]+", "_", m.runs[i].label.lower()).strip("_")
                for suffix in (".csv", ".json"):
                    path = os.path.join(folder, f"{i + 1}_{label}{suffix}")
                    t.to_csv(path) if suffix == ".csv" else t.to_json(path)
                    written.append(path)
        except OSError as exc:
            QtWidgets.QMessageBox.warning(self, "Export failed",
                                          f"Could not write into {folder}:\n{exc.strerror or exc}"
                                          f"\n\n{len(written)} files were written before.")
            return written
        self.statusBar().showMessage(f"{len(done)} trajectories written to {folder}", 5000)
        return written

    def export_run(self) -> None:
        """File > the selected run's trajectory as CSV or JSON (DESIGN.md's format)."""
        m = self.race_model
        i = m.selected
        if not (0 <= i < len(m.trajectories)) or m.trajectories[i] is None:
            return
        name = m.runs[i].label.split(",")[0].replace(" ", "_").lower()
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export the run's trajectory", f"{name}.csv",
            "CSV table (*.csv);;JSON (*.json)")
        if not path:
            return
        if not path.lower().endswith((".csv", ".json")):
            path += ".json" if "JSON" in chosen else ".csv"
        try:
            t = m.trajectories[i]
            t.to_json(path) if path.lower().endswith(".json") else t.to_csv(path)
        except OSError as exc:
            QtWidgets.QMessageBox.warning(self, "Export failed",
                                          f"Could not write {path}:\n{exc.strerror or exc}")
            return
        self.statusBar().showMessage(f"Trajectory written to {path}", 5000)

    def export_landscape_view(self) -> None:
        """The landscape with the race drawn on it, as PNG or SVG."""
        if self.landscape_view is None:
            return
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export the view", "landscape.png", "PNG image (*.png);;SVG drawing (*.svg)")
        if not path:
            return
        if not path.lower().endswith((".png", ".svg")):
            path += ".svg" if "SVG" in chosen else ".png"
        from .export import export_view

        try:
            export_view(self.landscape_view, path, scale=2.0 if path.lower().endswith(".png")
                        else 1.0)
        except (OSError, ValueError) as exc:
            QtWidgets.QMessageBox.warning(self, "Export failed", f"Could not write {path}:\n{exc}")
            return
        self.statusBar().showMessage(f"View written to {path}", 5000)

    def _sync_jacobian_action(self, shown: bool) -> None:
        action = getattr(self, "jacobian_action", None)
        if action is not None and action.isChecked() != shown:
            action.blockSignals(True)
            action.setChecked(shown)
            action.blockSignals(False)

    def _expectation_visibility(self, key: str, shown: bool) -> None:
        import shiboken6

        # The docks report hiding while the window is destroyed, after the action and model.
        parts = [self, self.expectation_model, self.docks["expectation"], self.docks["monte_carlo"]]
        if not all(shiboken6.isValid(part) for part in parts):
            return
        self._expectation_shown[key] = shown
        active = any(self._expectation_shown.values())
        self.expectation_model.set_active(active)
        action = getattr(self, "expectation_action", None)
        if action is not None and shiboken6.isValid(action):  # open, if behind another tab
            docks_open = any(self.docks[k].toggleViewAction().isChecked()
                             for k in ("expectation", "monte_carlo"))
            self.expectation_action.blockSignals(True)
            self.expectation_action.setChecked(docks_open)
            self.expectation_action.blockSignals(False)

    def _show_landscape_or_curve(self) -> None:
        """A function of x and y is drawn as a landscape (its panel and cross-section open
        beside it); a function of x as a curve."""
        if self.landscape_view is None:
            return
        f = self.session.function
        two = f is not None and len(f.variables) == 2
        target = self.landscape_view if two else self.curve_splitter
        if self.central.currentWidget() is target:
            return
        self.central.setCurrentWidget(target)
        if two:
            for key in ("landscape", "cross_section"):
                self.docks[key].show()
                self.docks[key].raise_()
            if self.session.show_race:  # the race opened with the app: its tabs in front
                self._show_race_lab(True)

    def _open_integral(self) -> None:
        for key in ("integral", "convergence"):
            self.docks[key].show()
            self.docks[key].raise_()

    def _arrange_plots_under_curve(self) -> None:
        """The sign plots and F(x) under the curve, shown as the session says; the curve keeps
        three fifths of the height when any is shown."""
        if not self.sign_views:
            return
        s = self.session
        under = [(view, s.show_sign_plots) for view in self.sign_views]
        under.append((self.accumulation_view, s.show_accumulation))
        for view, shown in under:
            view.setVisible(shown)
        count = sum(shown for _, shown in under)
        if count:
            splitter = self.accumulation_view.parentWidget()
            total = max(sum(splitter.sizes()), self.central.height(), 300)
            rest = total * 2 // 5
            splitter.setSizes([total - rest] + [rest // count if shown else 0 for _, shown in under])

    def _sync_option_actions(self) -> None:
        import shiboken6

        for name, action in self.option_actions.items():
            if not shiboken6.isValid(action):  # the window is being destroyed
                return
            action.blockSignals(True)
            action.setChecked(getattr(self.session, name))
            action.blockSignals(False)

    # -- the expression, parsed off the GUI thread -----------------------------------------------
    def request_expression(self, text: str) -> None:
        """Parse ``text`` off the GUI thread; the latest request wins."""
        third = self.docks["error"].isVisible()  # the error plot needs the third
        self.worker.submit("parse", lambda: _prepare(text, third), self._apply_parsed)

    def _apply_parsed(self, result) -> None:
        text, function, error = result
        if not self.history.recording:  # start-up is over once the first text is applied
            QtCore.QTimer.singleShot(0, self._begin_history)
        saved, self._saved_session = self._saved_session, None
        if saved is not None and saved.get("expression") == text:
            # SymPy is loaded now; restore() validates everything and parses again (fast).
            try:
                self.session.restore(saved)
                return
            except SessionError as exc:
                self.statusBar().showMessage(f"Could not restore the last session: {exc}", 8000)
        if function is None and self.session.function is None:
            # Nothing valid to keep drawing yet (a bad saved or command-line text): draw the
            # default function, and keep the user's text in the field with its error shown.
            from ..core.expression import parse

            self.session.set_expression(DEFAULT_EXPRESSION, function=parse(DEFAULT_EXPRESSION))
        with self.session.spread(self._in_turns):  # as an undo's: views updated over turns
            self.session.set_expression(text, function=function, error=error)

    def _begin_history(self) -> None:
        if self.history.recording:
            return
        self.history.begin()
        orphans = self.history.orphans()
        if orphans:
            self.offer_restore(orphans)
        self.started_up = True  # the first function applied, the autosave's offer answered

    def offer_restore(self, orphans) -> bool:
        """The app did not close properly last time: offer the newest autosave. Either way the
        old autosave files go (what is restored is autosaved again by this window)."""
        import datetime

        from ..core.document import read_document

        path = orphans[0]
        try:
            doc = read_document(path)
        except (OSError, ValueError) as exc:
            self.statusBar().showMessage(f"An autosave could not be read ({path}): {exc}", 10000)
            self.history.discard(orphans)
            return False
        when = datetime.datetime.fromtimestamp(path.stat().st_mtime).strftime("%H:%M on %d %b")
        text = (f"Calculus Explorer did not close properly last time.\n\nRestore the work "
                f"autosaved at {when}?\nFunction: {doc['session'].get('expression', '')}")
        if not self.ask_restore(text):
            self.history.discard(orphans)
            return False
        self.history.label_next("Restore the autosave")
        self.apply_document(doc)
        self.history.discard(orphans)
        self.history.touched()
        self.statusBar().showMessage("The autosaved work is back (Edit > Undo returns to where "
                                     "this start began)", 8000)
        return True

    def ask_restore(self, text: str) -> bool:
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question,
                                    "Restore the autosaved work?", text, parent=self)
        restore = box.addButton("Restore", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(restore)
        box.exec()
        return box.clickedButton() is restore

    def _schedule_typeset(self) -> None:
        # At start-up the formula is asked for once the plot is built (the window's own
        # loading goes first); the analysis process loads mathtext meanwhile (see _start).
        if self.curve_view is not None:
            self._typeset_timer.start()

    def _request_typeset(self) -> None:
        function = self.session.function
        if function is None:
            return
        color = self.palette().color(QtGui.QPalette.ColorRole.WindowText).name()
        from ..core import offload
        from .typeset import typeset_function

        analysis = offload.lane("analysis")  # mathtext never holds the GUI's GIL
        self.typeset_worker.submit("typeset", lambda: analysis.call(typeset_function, function,
                                                                     color),
                                   self.function_panel.show_typeset)

    # -- status ------------------------------------------------------------------------------------
    def _cursor_moved(self, x: float, y: float) -> None:
        self._cursor = (x, y)
        self._cursor_throttle()

    def _show_cursor(self) -> None:
        x, y = self._cursor
        self.cursor_label.setText(f"x = {format_number(x, 5)}    y = {format_number(y, 5)}")

    def _show_busy(self, _busy: bool = False) -> None:
        busy = self.is_busy()
        self.busy_label.setVisible(busy)
        if busy:
            # Workers report before their results are handed over, and timers (Throttle,
            # typesetting) end without a signal: look again shortly, or the hint would stay.
            if not self._busy_timer.isActive():
                self._busy_timer.start()

    def is_busy(self) -> bool:
        """Work is pending off the GUI thread (a parse, or a typeset waiting or running)."""
        return (self.worker.is_busy() or self.typeset_worker.is_busy()
                or self.loader.is_busy() or self._typeset_timer.isActive()
                or self.sampling_worker.is_busy() or self.expectation_model.is_busy()
                or self.analysis_worker.is_busy() or self.critical_model.is_busy()
                or self.integration_model.is_busy() or self.landscape_model.is_busy()
                or self.race_model.is_busy() or self.regression_model.is_busy()
                or Throttle.pending() or self.session.owes())

    # -- layout and settings -----------------------------------------------------------------------
    def reset_layout(self) -> None:
        self.restoreState(self._default_state, SETTINGS_VERSION)
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()

    def _read_saved_session(self) -> dict | None:
        raw = self.settings.value(f"{KEY}/session")
        if not isinstance(raw, str):
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _restore_jacobian(self) -> None:
        raw = self.settings.value(f"{KEY}/jacobian")
        if isinstance(raw, str):
            try:
                self.jacobian_model.restore(json.loads(raw))
            except ValueError:
                pass  # a damaged entry: the lab starts from its defaults

    def _restore_window(self) -> None:
        # A failed restore is ignored: the defaults stand.
        geometry = self.settings.value(f"{KEY}/geometry")
        state = self.settings.value(f"{KEY}/state")
        try:
            if isinstance(geometry, QtCore.QByteArray):
                self.restoreGeometry(geometry)
            if isinstance(state, QtCore.QByteArray):
                self.restoreState(state, SETTINGS_VERSION)
        except (TypeError, RuntimeError):
            pass

    def save_settings(self) -> None:
        self.settings.setValue(f"{KEY}/geometry", self.saveGeometry())
        self.settings.setValue(f"{KEY}/state", self.saveState(SETTINGS_VERSION))
        if self.session.function is not None:
            self.settings.setValue(f"{KEY}/session", json.dumps(self.session.to_dict()))
        self.settings.setValue(f"{KEY}/jacobian", json.dumps(self.jacobian_model.to_dict()))
        self.settings.setValue(f"{KEY}/regression", json.dumps(self.regression_model.to_dict()))
        self.settings.sync()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_settings()
        self.history.close()
        self._typeset_timer.stop()
        self.race_model.pause()
        for worker in (self.loader, self.worker, self.typeset_worker, self.analysis_worker,
                       self.sampling_worker, self.integration_model.numeric,
                       self.integration_model.quick, self.race_model.worker,
                       self.race_model.sweep_worker, self.race_model.compile_worker,
                       self.regression_model.worker):
            worker.wait(5000)
        super().closeEvent(event)
        if event.isAccepted():  # the views go with the window: docks hiding as it is
            self.session.disconnect_all()  # destroyed must not reach them through the session
