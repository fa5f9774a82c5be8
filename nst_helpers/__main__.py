"""``python -m nst_helpers``: the command line; a Ctrl-C at any moment ends it with one line and exit status 130.

The package's ``__init__`` loads nothing heavy, so this module runs at once and also covers the seconds in which
:mod:`nst_helpers.cli` imports torch. The console script ``nst-stylize`` calls :func:`run` too.
"""

import os
import signal
import sys

INTERRUPTED = "Interrupted before the run started: nothing was saved."
INTERRUPTED_STATUS = 130


def run() -> int:
    """Import the command line and run it; the exit status of ``python -m nst_helpers``.

    A Ctrl-C during the imports is held until they are done: interrupting torch's or NumPy's import half-way can
    crash the interpreter instead of raising ``KeyboardInterrupt``. ``torch._dynamo`` (about 900 modules, a second or
    two) is imported here too, since an optimizer's first step would otherwise import it during the run. The process
    is the command line's own, so it keeps freed memory for reuse (:func:`~nst_helpers.allocator.keep_freed_memory`).
    """
    interrupted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: interrupted.append(signum))
    try:
        import torch._dynamo  # noqa: F401

        from nst_helpers.allocator import keep_freed_memory
        from nst_helpers.cli import main
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        print(INTERRUPTED, file=sys.stderr)
        return INTERRUPTED_STATUS
    keep_freed_memory()  # this process only stylizes: reuse freed memory rather than fault in fresh pages each step
    status = main()
    if status == INTERRUPTED_STATUS:
        exit_now(status)
    return status


def exit_now(status: int) -> None:
    """Flush the output and leave with ``status`` at once. After a Ctrl-C that reached torch's C++ code, Python's
    own shutdown can end the process by the signal (exit status -2) although the interrupt was handled."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(run())
