"""Every function a learner may open stays short enough to read at once (the course's style rule: at most 60 lines)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 60
CHECKED = [*sorted((ROOT / "nst_helpers").glob("*.py")), ROOT / "data" / "draw_styles.py",
           *sorted((ROOT / "benchmarks").glob("*.py"))]


def long_functions(source: str, limit: int) -> list[tuple[str, int]]:
    """(name, lines) of every function or method in ``source`` longer than ``limit`` lines, decorators excluded."""
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > limit]


def test_the_checker_finds_a_long_function():
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    assert long_functions(f"def short():\n    return 1\n\ndef long():\n{body}\n", MAX_LINES) == [("long", 62)]


def test_no_function_is_longer_than_60_lines():
    assert len(CHECKED) > 30, "the package's modules were not found"
    offenders = {path.relative_to(ROOT).as_posix(): found for path in CHECKED
                 if (found := long_functions(path.read_text(encoding="utf-8"), MAX_LINES))}
    assert not offenders, f"functions over {MAX_LINES} lines (split them into named steps): {offenders}"
