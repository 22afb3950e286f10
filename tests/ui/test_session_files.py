"""File > Save and Open: a session file brings back what the user set (the function, the
point, the race, the regression data), and a bad file (hostile text, wrong types, unknown
version, not JSON, too large) says what is wrong and changes nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6 import QtWidgets

import explorer.core as ec


def test_save_and_open_round_trip(make_window, qtbot, ui, tmp_path, monkeypatch):
    window = make_window(expression="x^2 + 3y^2", restore=False)
    s = window.session
    s.set_point((1.25, -0.5))
    s.set_race_start((0.5, 1.5))
    s.set_race_steps(321)
    window.regression_model.set_data(ec.generate(n=7, seed=5))
    window.regression_model.set_params(0.3, 0.2)
    path = tmp_path / "lecture.json"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(path.with_suffix("")), ""))
    assert window.save_file_as()  # the suffix is added
    assert path.exists() and "lecture.json" in window.windowTitle()
    saved = json.loads(path.read_text())
    assert saved["version"] == 2 and saved["session"]["point"] == [1.25, -0.5]
    xs = window.regression_model.data.xs.copy()
    # change everything, then open the file
    ui.type_expression(window, "sin(x)")
    s.set_race_steps(10)
    window.regression_model.set_data(ec.generate(n=3, seed=1))
    assert window.open_file(str(path))
    ui.wait_idle(window)
    assert s.expression == "x^2 + 3y^2" and s.point == (1.25, -0.5)
    assert s.race_start == (0.5, 1.5) and s.race_steps == 321
    np.testing.assert_array_equal(window.regression_model.data.xs, xs)
    assert (window.regression_model.w, window.regression_model.b) == (0.3, 0.2)
    assert window._recent()[0] == str(path)


@pytest.mark.parametrize("content, says", [
    ({"expression": "__import__('os').system('echo hi')"}, "expression"),
    ({"expression": "x^2", "point": ["a", 1]}, "point"),
    ({"expression": "x^2", "version": 99}, "version"),
    ({"expression": "x^2", "race_runs": [{"optimizer": "Adam", "hyper": {"lr": -3}}]},
     "race_runs[0].hyper"),
    ("{not json", "line 1"),
    ([1, 2, 3], "expected a JSON object"),
])
def test_a_bad_file_says_what_and_changes_nothing(make_window, tmp_path, warnings, content,
                                                  says, ui):
    window = make_window(expression="cos(x)", restore=False)
    before = window.session.to_dict()
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    window.open_file(str(path))  # read and checked off the GUI thread
    ui.wait_idle(window)
    assert warnings and says in warnings[-1][1] and "Nothing was changed" in warnings[-1][1]
    assert window.session.to_dict() == before
    assert window.file_path is None


def test_a_huge_file_is_refused(make_window, tmp_path, warnings, ui):
    window = make_window(expression="cos(x)", restore=False)
    path = tmp_path / "huge.json"
    path.write_text('{"expression": "x", "pad": "' + "x" * 6_000_000 + '"}')
    window.open_file(str(path))
    ui.wait_idle(window)
    assert "too large" in warnings[-1][1]


def test_saving_into_a_missing_folder_says_so_and_leaves_no_file(make_window, tmp_path,
                                                                   warnings):
    window = make_window(expression="cos(x)", restore=False)
    target = tmp_path / "gone" / "s.json"
    assert not window._write(str(target))
    assert warnings and str(target) in warnings[-1][1]
    assert not target.parent.exists()
