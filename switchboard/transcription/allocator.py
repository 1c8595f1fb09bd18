"""The C library's allocator settings for a process that runs Whisper.

CTranslate2 allocates its CPU buffers with ``malloc`` and frees them after each
operation. Under glibc's defaults a buffer of more than 128 kB (up to 32 MB
once the threshold adapts) is a fresh ``mmap``, and freed memory at the top of
the heap goes back to the kernel, so every encoder pass over a 30 s window
page-faults and zeroes its scratch memory again (``perf``: about 30 % of the
encoder's time in the kernel on a 2-core AMD EPYC). Keeping freed memory in the
heap, growing it in large steps, and asking for transparent huge pages on it
(the host's THP mode is ``madvise``) took the tiny.en encoder from about
0.51 s to 0.33 s per window there, transcripts unchanged.

glibc reads these settings (``GLIBC_TUNABLES``) only when a process starts, so
the worker re-executes itself once with them before it imports CTranslate2.
Resident memory stays near its peak instead of shrinking between jobs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

TUNABLES: tuple[tuple[str, int], ...] = (
    # Keep buffers of up to 32 MB (glibc's maximum) in the heap, not in one-off mmaps.
    ("glibc.malloc.mmap_threshold", 32 << 20),
    # Give freed heap memory back to the kernel only past 1 GB free at the top.
    ("glibc.malloc.trim_threshold", 1 << 30),
    # Grow the heap 256 MB at a time (address space; pages are touched on use).
    ("glibc.malloc.top_pad", 256 << 20),
    # madvise(MADV_HUGEPAGE) on the heap and on large mmaps: 2 MB page faults.
    ("glibc.malloc.hugetlb", 1),
)
"""glibc malloc tunables for the Whisper process, and why each."""

ENV_NAME = "GLIBC_TUNABLES"


def merged_tunables(existing: str) -> str:
    """``existing`` (a ``GLIBC_TUNABLES`` value) with ours added.

    A tunable already set by the operator is kept as they set it.

    Args:
        existing: The current value, possibly empty.

    Returns:
        The value to start the process with.
    """
    items = [item for item in existing.split(":") if item]
    present = {item.split("=", 1)[0] for item in items}
    items += [f"{name}={value}" for name, value in TUNABLES if name not in present]
    return ":".join(items)


def needs_restart(environ: Mapping[str, str], *, platform: str = sys.platform) -> bool:
    """True when this process was started without the tunables (Linux only)."""
    if not platform.startswith("linux"):
        return False
    existing = environ.get(ENV_NAME, "")
    return merged_tunables(existing) != existing


def restart_with_tunables(argv: Sequence[str] | None = None) -> None:
    """Re-execute this process with :data:`TUNABLES` unless it already has them.

    Call it first thing in a command that will run Whisper, before anything
    else starts (threads, files, the model). On return the process has the
    tunables (or is not on Linux); otherwise it does not return.

    Args:
        argv: The command line to run again; default: this interpreter's own.
    """
    # The C library's environment, not a Switchboard setting: config.py decides
    # whether to call this (whisper_allocator_tuning).
    environ = os.environ
    if not needs_restart(environ):
        return
    command = list(argv if argv is not None else sys.orig_argv)
    env = {**environ, ENV_NAME: merged_tunables(environ.get(ENV_NAME, ""))}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *command[1:]], env)
