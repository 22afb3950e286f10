"""The README's core example runs as written, and says what it returns."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def test_core_example_runs(capsys):
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # our own documentation, not user text
    ec = namespace["ec"]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("6 unknown function 'sinn'; did you mean sin?")
    assert printed[1] == "1.5" and len(printed) == 3  # 1.5, then 0.0 from the batch
    f = namespace["f"]
    assert f.variables == ("x",)
    np.testing.assert_allclose(ec.tangent(f, 0.5)[0], np.cos(0.5) * np.exp(-0.05) - 0.2 * np.sin(0.5) * np.exp(-0.05))
    h = namespace["h"]
    np.testing.assert_allclose(h.with_parameters(a=2.0).gradient((1.0, 2.0)), [4.0, 4.0])
    np.testing.assert_allclose(h.hessian((1.0, 2.0)), [[2.0, 0.0], [0.0, 2.0]])
    assert namespace["s"].show_second_derivative is True


def test_readme_names_both_commands():
    text = README.read_text(encoding="utf-8")
    assert "pip install . && calculus-explorer" in text
    assert "pip install '.[test]' && pytest -n auto" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install '.[test]' && pytest -n auto" in ci


def run_block(marker: str) -> dict:
    """Run the README's python block that contains ``marker``; its names afterwards."""
    import explorer.core as ec

    text = README.read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if marker in b)
    namespace: dict = {"ec": ec, "np": np}
    exec(compile(block, "README.md", "exec"), namespace)  # our own documentation, not user text
    return namespace


def test_optimizer_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the example writes adam.csv and adam.json
    namespace = run_block("ec.optimize(")
    t = namespace["t"]
    assert t.status in ("converged", "max_steps") and t.points.shape[1] == 2
    assert (tmp_path / "adam.csv").read_text().startswith("step,x,y,value,grad_x,grad_y")
    finals = namespace["finals"]
    rates = np.geomspace(1e-3, 1, 40)
    assert np.all(np.isinf(finals[rates > 0.11])) and np.all(np.isfinite(finals[rates < 0.09]))


def test_graph_example_runs():
    namespace = run_block("computational_graph")
    g = namespace["g"]
    assert g.gradient == {"x": 64.0, "y": 32.0}
    assert [s.text for s in g.steps][:2] == ["w₂ = x·y = 2 · 3 = 6", "w₃ = x·y + x = 6 + 2 = 8"]


def test_regression_example_runs():
    import explorer.core as ec

    namespace = run_block("least_squares")
    data = namespace["data"]
    w, b = ec.least_squares(data.xs, data.ys)
    np.testing.assert_allclose((w, b), np.polyfit(data.xs, data.ys, 1), rtol=1e-12)
    assert float(namespace["J"](w, b)) <= float(namespace["J"](w + 0.01, b))
    assert namespace["run"].losses[-1] < namespace["run"].losses[0]
