"""Fault injection: saving and exporting into a full disk, a read-only folder or a folder that
vanished (each a simulated OSError at the moment the file is written), symbolic work that runs
out of time, and a worker that raises. Each gives a clear message, leaves no partial file,
keeps the user's state, and the app stays usable."""

from __future__ import annotations

import errno
import json
import os

import pytest
from PySide6 import QtWidgets

import explorer.core as ec
import explorer.core.files as files

FAULTS = {
    "full disk": OSError(errno.ENOSPC, "No space left on device"),
    "read-only folder": PermissionError(errno.EACCES, "Permission denied"),
    "vanished folder": FileNotFoundError(errno.ENOENT, "No such file or directory"),
}



@pytest.fixture
def failing_replace(monkeypatch):
    """os.replace (the last step of every write) fails with the fault asked for."""
    def arm(fault: OSError):
        def replace(src, dst):
            raise fault

        monkeypatch.setattr(files.os, "replace", replace)
    return arm


def leftovers(folder) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.startswith(".partial-")]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_saving_a_session(make_window, ui, tmp_path, warnings, failing_replace, fault):
    window = make_window(expression="x^2 + a", restore=False)
    window.session.set_parameter("a", 2.5)
    target = tmp_path / "lecture.json"
    target.write_text('{"an older": "file"}')
    failing_replace(FAULTS[fault])
    assert not window._write(str(target))
    title, text = warnings[-1]
    assert str(target) in text and FAULTS[fault].strerror in text
    assert json.loads(target.read_text()) == {"an older": "file"}  # untouched, not half new
    assert leftovers(tmp_path) == []
    assert window.session.parameters == {"a": 2.5} and window.file_path is None
    ui.type_expression(window, "x^3")  # still usable
    assert window.session.function.text == "x^3"


@pytest.mark.parametrize("fault", list(FAULTS))
def test_exporting_a_view_and_the_data(make_window, ui, qtbot, tmp_path, warnings,
                                       failing_replace, monkeypatch, fault):
    from explorer.ui import export

    window = make_window(expression="sin(x)", restore=False)
    failing_replace(FAULTS[fault])
    for suffix in (".png", ".svg", ".pdf"):
        path = tmp_path / f"curve{suffix}"
        assert not export.export_named_view(window, "curve", path, scale=1)
        assert str(path) in warnings[-1][1] and FAULTS[fault].strerror in warnings[-1][1]
        assert not path.exists()
    assert leftovers(tmp_path) == []
    window.regression_model.set_data(ec.generate(n=5, seed=1))
    csv_path = str(tmp_path / "data.csv")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (csv_path, ""))
    window.export_regression_csv()
    assert csv_path in warnings[-1][1] and not os.path.exists(csv_path)
    assert len(window.regression_model.data) == 5


def test_the_autosave_into_a_full_disk(make_window, ui, qtbot, failing_replace):
    window = make_window(expression="x^2 + a", restore=False)
    qtbot.waitUntil(lambda: window.history.recording, timeout=10000)
    failing_replace(FAULTS["full disk"])
    window.session.set_parameter("a", 4.0)
    qtbot.waitUntil(lambda: "No space left" in window.statusBar().currentMessage(),
                    timeout=10000)
    assert leftovers(window.history.data_dir) == []
    assert window.undo_action.isEnabled()  # the undo entry is there all the same


def test_symbolic_work_that_runs_out_of_time(make_window, ui):
    """SymPy stopped by the parser's time limit: a message in the field, the last valid
    function still drawn, the app usable."""
    from explorer.core import expression

    window = make_window(expression="cos(x)", restore=False)
    original = expression._Builder.build

    def slow(self, tree):
        raise expression.TimeLimitExceeded()

    expression._Builder.build = slow
    try:
        ui.type_expression(window, "sin(x)^2")
    finally:
        expression._Builder.build = original
    assert window.session.error is not None and "too long" in window.session.error.message
    assert window.session.function.text == "cos(x)"
    ui.type_expression(window, "x^2")
    assert window.session.function.text == "x^2"


@pytest.mark.qt_no_exception_capture
def test_a_worker_that_raises(make_window, ui, qtbot, tmp_path):
    """An error inside a background job nobody handles reaches the app's error handler (a
    dialog, the log) and the next job runs."""
    from explorer.ui.errors import ErrorHandler

    handler = ErrorHandler(tmp_path / "errors.log").install()
    try:
        window = make_window(expression="x^2", restore=False)

        def broken():
            raise RuntimeError("a worker fell over")

        window.worker.submit("broken", broken, lambda _v: None)
        qtbot.waitUntil(lambda: handler.count == 1, timeout=10000)
        assert "a worker fell over" in handler.log_path.read_text()
        ui.type_expression(window, "x^4")
        assert window.session.function.text == "x^4"
    finally:
        handler.uninstall()
        if handler._dialog is not None:
            handler._dialog.close()


def test_an_analysis_process_that_dies_or_runs_too_long(make_window, ui, qtbot, monkeypatch):
    """SymPy's searches run in a child process. Killed between searches, the next search
    starts a new one; a search past the lane's wall-clock limit is ended, its message shows
    in the critical points' panel, the curve and the user's function stay, and the next
    search finds the points again."""
    import signal

    from explorer.core import offload

    window = make_window(expression="a*x^3 - 3x", restore=False)
    ui.wait_idle(window)
    window.session.set_parameter("a", 2.0)
    qtbot.waitUntil(lambda: not window.is_busy() and len(window.critical_model.points) == 3,
                    timeout=20000)
    analysis = offload.lane("analysis")
    first = analysis.pid
    assert first not in (None, os.getpid())
    os.kill(first, signal.SIGKILL)
    qtbot.waitUntil(lambda: analysis.pid is None, timeout=5000)

    window.session.set_parameter("a", 3.0)  # f' = 9x^2 - 3: x = +-1/sqrt(3)
    qtbot.waitUntil(lambda: not window.is_busy() and window.critical_model.bounds is not None
                    and abs(window.critical_model.points[-1].point[0] - 3 ** -0.5) < 1e-9,
                    timeout=20000)
    assert analysis.pid not in (None, first)
    assert window.critical_model.error is None

    monkeypatch.setattr(analysis, "wall_limit", 0.001)
    window.session.set_parameter("a", 4.0)
    qtbot.waitUntil(lambda: window.critical_model.error is not None, timeout=20000)
    assert window.critical_model.error.startswith("The search failed: the analysis process "
                                                  "took over 0.001 s and was stopped")
    assert window.critical_panel.status.text() == window.critical_model.error
    assert window.critical_model.points == []
    assert window.session.function.text == "a*x^3 - 3x"
    assert window.session.parameters == {"a": 4.0}

    monkeypatch.setattr(analysis, "wall_limit", offload.WALL_LIMIT)
    window.session.set_parameter("a", 0.75)  # f' = 2.25x^2 - 3: x = +-2/sqrt(3)
    qtbot.waitUntil(lambda: not window.is_busy() and window.critical_model.error is None
                    and len(window.critical_model.points) == 3, timeout=20000)
    assert [p.kind for p in window.critical_model.points] == ["maximum", "inflection", "minimum"]
    assert float(window.critical_model.points[-1].point[0]) == pytest.approx(2 / 3 ** 0.5,
                                                                             abs=1e-9)
