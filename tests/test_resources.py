"""Resources are found where the app runs from: a source checkout or an installed wheel."""

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from explorer.core.expression import ExpressionError, parse
from explorer.paths import function_presets, resource_path


def test_presets_parse_and_are_one_variable():
    presets = function_presets()
    assert len(presets) >= 15
    names = {p["expression"] for p in presets}
    for required in ("sigmoid(x)", "tanh(x)", "relu(x)", "softplus(x)", "gelu(x)",
                     "x^2 - 2x + 2", "sin(x) + x^2", "log(1 + e^x)"):
        assert required in names
    for preset in presets:
        try:
            f = parse(preset["expression"])
        except ExpressionError as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"preset {preset['name']!r} does not parse: {exc}") from None
        assert f.variables == ("x",), preset


def test_presets_file_is_valid_json():
    data = json.loads(resource_path("presets", "functions.json").read_text(encoding="utf-8"))
    assert data["version"] == 1


def test_resources_found_from_another_directory(tmp_path):
    # Run from an unrelated folder, as an installed app is: the package must find its files.
    code = ("from explorer.paths import resource_path, function_presets; "
            "print(resource_path('presets', 'functions.json').is_file(), len(function_presets()))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    found, count = out.stdout.split()
    assert found == "True" and int(count) >= 15


# -- the help texts (resources/help/<dock key>.html, shown by each dock's "?") ------------------
def _dock_keys() -> list[str]:
    """The dock keys of MainWindow, read from its source: the first item of each entry of the
    tuple its ``for key, title, widget, area in (...)`` loop builds the docks from."""
    import ast

    from explorer.ui import __file__ as ui_init

    source = Path(ui_init).with_name("main_window.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.For) and isinstance(node.target, ast.Tuple)
                and [getattr(e, "id", None) for e in node.target.elts][:2] == ["key", "title"]
                and isinstance(node.iter, ast.Tuple)):
            return [entry.elts[0].value for entry in node.iter.elts]
    raise AssertionError("the docks' table was not found in main_window.py")


class _HelpParser(HTMLParser):
    """Collects headings, text and formulas, and checks that tags are closed in order."""

    VOID = {"br", "img", "hr", "meta", "link", "input", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.text, self.headings = [], [], [], []
        self.formulas = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        self.stack.append(tag)
        if tag == "p" and ("class", "formula") in attrs:
            self.formulas += 1

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self.stack and re.fullmatch(r"h[1-4]", self.stack[-1]) and data.strip():
            self.headings.append(data.strip())


def test_every_dock_has_its_help():
    keys = _dock_keys()
    assert len(keys) >= 28 and "taylor" in keys and "regression_epochs" in keys
    folder = resource_path("help")
    missing = [k for k in keys if not (folder / f"{k}.html").is_file()]
    assert not missing, f"docks without a help file: {missing}"
    for key in keys:
        text = (folder / f"{key}.html").read_text(encoding="utf-8")
        parser = _HelpParser()
        parser.feed(text)
        parser.close()
        assert not parser.errors and not parser.stack, (key, parser.errors, parser.stack)
        assert parser.headings, f"{key}.html has no heading"
        words = " ".join("".join(parser.text).split())
        assert 300 <= len(words) <= 2500, (key, len(words))
        assert parser.formulas >= 1, f"{key}.html has no formula"
        # a literal '<' or '&' in the text must be escaped: html.parser would take it as markup
        assert not re.search(r"&(?![a-zA-Z]+;|#\d+;)", text), key


def test_help_loads_from_the_package_elsewhere(tmp_path):
    # As an installed app does: importlib.resources finds the texts in explorer.resources.help.
    code = ("from explorer.ui.help import help_keys, help_text; "
            "print(len(help_keys()), help_text('taylor').startswith('<h3>'))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    count, ok = out.stdout.split()
    assert int(count) >= 28 and ok == "True"
