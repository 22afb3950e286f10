"""Where the app finds its shipped resources, installed or from a source checkout."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path


@cache
def resources_dir() -> Path:
    """The resources folder: ``explorer/resources`` in an installed wheel (the repository's
    top-level ``resources/`` is mapped there), else ``resources/`` beside the package."""
    try:
        installed = Path(str(resources.files("explorer.resources")))
        if (installed / "presets").is_dir():
            return installed
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


@cache
def function_presets() -> list[dict]:
    """Preset functions grouped for the preset menu: ``[{"group", "name", "expression"}]``."""
    data = json.loads(resource_path("presets", "functions.json").read_text(encoding="utf-8"))
    return [dict(item) for item in data["presets"]]


def user_data_dir() -> Path:
    """Where the app keeps what it writes for the user on its own (the autosave): the
    platform's data folder (platformdirs), e.g. ~/.local/share/calculus-explorer on Linux."""
    import platformdirs

    return Path(platformdirs.user_data_dir("calculus-explorer", "CalculusExplorer"))
