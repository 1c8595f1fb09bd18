"""The process environment a Whisper worker starts with, and restarting into it.

Two things outside Switchboard's code cost a CPU worker measurable time, and
both can only be set when a process starts:

* glibc's allocator. CTranslate2 allocates its CPU buffers with ``malloc``
  and frees them after each operation. Under glibc's defaults a buffer of more
  than 128 kB (up to 32 MB once the threshold adapts) is a fresh ``mmap``, and
  freed memory at the top of the heap goes back to the kernel, so every
  encoder pass over a 30 s window page-faults and zeroes its scratch memory
  again (``perf``: about 30 % of the encoder's time in the kernel on a 2-core
  AMD EPYC). Keeping freed memory in the heap, growing it in large steps and
  asking for transparent huge pages on it (the host's THP mode is ``madvise``)
  took the tiny.en encoder from about 0.51 s to 0.33 s per window there,
  transcripts unchanged. Resident memory then stays near its peak.
* numpy's OpenBLAS threads. After a matrix product (the mel filterbank of
  every clip) they keep spinning for a while, on the cores CTranslate2's
  threads are about to use; single-threaded BLAS measured 6-11 % less time per
  2-5 s clip. numpy's products here are tiny; one thread loses nothing.

So the worker re-executes itself once with :data:`TUNABLES` in
``GLIBC_TUNABLES`` and :data:`ENVIRONMENT` before it imports CTranslate2.
Whatever the operator set already is kept.
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

ENVIRONMENT: dict[str, str] = {"OPENBLAS_NUM_THREADS": "1"}
"""Other variables read once at start, set unless the operator set them."""

TUNABLES_NAME = "GLIBC_TUNABLES"


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


def whisper_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the tunables merged in and :data:`ENVIRONMENT` defaulted."""
    return {
        **ENVIRONMENT,
        **environ,
        TUNABLES_NAME: merged_tunables(environ.get(TUNABLES_NAME, "")),
    }


def needs_restart(environ: Mapping[str, str], *, platform: str = sys.platform) -> bool:
    """True when this process was started without that environment (Linux only)."""
    if not platform.startswith("linux"):
        return False
    return whisper_environment(environ) != dict(environ)


def restart_for_whisper(argv: Sequence[str] | None = None) -> None:
    """Re-execute this process in :func:`whisper_environment` unless it runs in it.

    Call it first thing in a command that will run Whisper, before anything
    else starts (threads, files, the model). On return the process has that
    environment (or is not on Linux); otherwise it does not return.

    Args:
        argv: The command line to run again; default: this interpreter's own.
    """
    # The C libraries' environment, not a Switchboard setting: config.py decides
    # whether to call this (whisper_process_tuning).
    environ = dict(os.environ)
    if not needs_restart(environ):
        return
    command = list(argv if argv is not None else sys.orig_argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *command[1:]], whisper_environment(environ))
