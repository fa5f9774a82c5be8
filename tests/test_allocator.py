"""keep_freed_memory: with glibc, freed tensors are reused instead of faulted in afresh; elsewhere nothing changes.
It changes the whole process, so the measuring test runs in a subprocess of its own."""

import ctypes
import platform
import subprocess
import sys

import pytest

from nst_helpers import __main__ as entry
from nst_helpers import allocator

MEASURE = """
import resource, torch
from nst_helpers import keep_freed_memory

def page_faults():
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        tensor = torch.ones(16_000_000)  # 64 MB: more than glibc ever serves from its heap by default
        del tensor
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start

before = page_faults()
applied = keep_freed_memory()
page_faults(), page_faults()  # the heap grows to hold the tensor (measured: within six allocations)
print(before, applied, page_faults())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_freed_memory_is_reused_instead_of_faulted_in_again():
    """64 MB is 15,625 pages: five allocations fault them in five times by default, and not at all once the heap
    has grown to hold them (a long run's steps are that steady state)."""
    completed = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    before, applied, after = completed.stdout.split()
    assert applied == "True"
    assert int(before) > 5 * 15_000 and int(after) < 1_000


def test_without_glibc_it_changes_nothing_and_says_so(monkeypatch):
    def no_glibc(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_glibc)
    assert allocator.keep_freed_memory() is False


def test_the_command_line_keeps_freed_memory_in_its_own_process(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append("kept"))
    monkeypatch.setattr("nst_helpers.cli.main", lambda: calls.append("main") or 0)
    assert entry.run() == 0
    assert calls == ["kept", "main"]
