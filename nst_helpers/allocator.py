"""A speed setting outside PyTorch: keep freed CPU memory for the next step instead of returning it to the system.

Every step allocates and frees the same large tensors. By default glibc gives large freed blocks back to the system
(``munmap``, or by trimming the top of its heap), so the next step's tensors land on fresh pages, and the kernel
zero-fills each 4 KiB page at its first touch (a page fault). From 512 px that is thousands of faults per step and
a measurable share of its time (``benchmarks/README.md``). :func:`keep_freed_memory` serves every allocation from
glibc's heap and keeps up to ``kept_bytes`` of it free for reuse. It changes the whole process for good, so the
package never calls it behind your back: the command line calls it in its own process, and a notebook kernel that
only stylizes may call it once.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)
KEPT_BYTES = 1 << 30  # freed memory glibc may keep at the top of its heap before it trims


def keep_freed_memory(kept_bytes: int = KEPT_BYTES) -> bool:
    """Make glibc reuse freed memory (no ``mmap`` for large blocks, trim only above ``kept_bytes`` free); process-wide.

    Returns whether it applied: ``False`` where the C library is not glibc (macOS, Windows, musl), which is left as
    it is. The cost: memory freed by a run stays with the process (reused by the next run) instead of going back to
    the system.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, kept_bytes))
