"""``python -m nst_helpers``: the command line; a Ctrl-C at any moment ends it with one line and exit status 130.

The package's ``__init__`` loads nothing heavy, so this module runs at once and also covers the seconds in which
:mod:`nst_helpers.cli` imports torch. The console script ``nst-stylize`` calls :func:`run` too.
"""

import sys

INTERRUPTED = "Interrupted before the run started: nothing was saved."


def run() -> int:
    """Import the command line and run it; the exit status of ``python -m nst_helpers``."""
    try:
        from nst_helpers.cli import main  # imports torch, which takes seconds
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
