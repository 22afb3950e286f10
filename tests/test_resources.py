"""Resources are found where the app runs from: a source checkout or an installed wheel."""

import json
import os
import subprocess
import sys

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
