"""The notebooks use only public names: everything they reach in nst_helpers is named in an ``__all__``."""

import ast
import importlib
import json
from pathlib import Path

import pytest

import nst_helpers as nh

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SUBMODULES = {"checks", "config", "data", "plots", "widgets"}  # public modules the notebooks import by name


def public_names(module_name: str) -> set[str]:
    """The names a module offers: its ``__all__``, else its functions and classes without a leading underscore."""
    module = importlib.import_module(f"nst_helpers.{module_name}" if module_name else "nst_helpers")
    if hasattr(module, "__all__"):
        return set(module.__all__)
    return {name for name in vars(module) if not name.startswith("_")}


def used_names(path: Path) -> set[tuple[str, str]]:
    """(module, name) for every ``nh.X``, ``checks.X`` ... and ``from nst_helpers[.M] import X`` in the code cells."""
    aliases = {"nh": ""} | {name: name for name in SUBMODULES}
    used = set()
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        tree = ast.parse("\n".join(line for line in source.splitlines() if not line.startswith(("%", "!"))))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nst_helpers"):
                module = node.module.removeprefix("nst_helpers").removeprefix(".")
                used |= {(module, alias.name) for alias in node.names}
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                used.add((aliases[node.value.id], node.attr))
    return used


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_use_only_public_names(path):
    private = sorted(f"nst_helpers{'.' + module if module else ''}.{name}" for module, name in used_names(path)
                     if name not in public_names(module))
    assert not private, f"{path.name} uses names outside __all__: {private}"


def test_every_public_name_exists():
    missing = [name for name in nh.__all__ if not hasattr(nh, name)]
    assert not missing


def test_a_private_name_is_caught(tmp_path):
    code = ("import nst_helpers as nh\nnh.images.tensor_to_pil(x)\n"
            "from nst_helpers.transfer import run_scales\nnh.stylize")
    notebook = tmp_path / "99_x.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": [code]}]}))
    used = used_names(notebook)
    assert {("", "images"), ("transfer", "run_scales"), ("", "stylize")} <= used
    assert "images" not in public_names("") and "stylize" in public_names("")
