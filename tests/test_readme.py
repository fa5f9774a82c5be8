"""The README stays a learner's page: short, with the two commands and a row for every notebook."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_is_at_most_12000_characters():
    assert len(README) <= 12_000, f"README.md has {len(README)} characters; move detail to benchmarks/ or notebooks/"


def test_readme_has_the_two_commands():
    assert 'pip install -c constraints.txt -e . && python -m nst_helpers demo' in README
    assert 'pip install -c constraints.txt -e ".[test]" && python -m pytest' in README


def test_every_notebook_has_a_row_in_the_table():
    notebooks = sorted(path.name for path in (ROOT / "notebooks").glob("0*.ipynb"))
    missing = [name for name in notebooks if f"(notebooks/{name})" not in README]
    assert not missing, f"README.md's notebook table has no row for {missing}"
