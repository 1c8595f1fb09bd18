"""Running Asterisk from the shared rootfs in a private mount namespace.

``unshare --mount --propagation private`` gives the process its own mount
table. Inside it the instance's host directories are bind-mounted on the
rootfs's standard paths (``/etc/asterisk``, ``/var/spool/asterisk``,
``/var/log/asterisk``, ``/run/asterisk``; the whole instance directory on
``/srv/switchboard`` for astdb and cache) and ``/proc`` is mounted, then
``chroot`` starts Asterisk. Each instance sees its own files at the same path, nothing
shows up in the host's mount table, and the mounts vanish with the process.
``unshare``, ``sh`` and ``chroot`` all ``exec``, so the launched PID is
Asterisk's PID.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from switchboard.asterisk.exceptions import CliCommandError, InstanceNotRunningError, NotRootError
from switchboard.asterisk.rootfs import INSTANCE_MOUNT

INSTANCE_ROOT = "/" + INSTANCE_MOUNT
ASTERISK_CONF = "/etc/asterisk/asterisk.conf"
# Instance subdirectory -> where Asterisk and the dialplan expect it in the rootfs.
# db and cache stay under INSTANCE_ROOT (/var/lib/asterisk holds shared sounds).
BIND_MOUNTS = (
    ("etc", "etc/asterisk"),
    ("spool", "var/spool/asterisk"),
    ("log", "var/log/asterisk"),
    ("run", "run/asterisk"),
)

_LAUNCH_SCRIPT = "\n".join(
    [
        "set -e",
        f'mount --bind "$2" "$1/{INSTANCE_MOUNT}"',
        *(f'mount --bind "$2/{src}" "$1/{dst}"' for src, dst in BIND_MOUNTS),
        'mount -t proc proc "$1/proc"',
        'ulimit -n "$(ulimit -Hn)" 2>/dev/null || true',
        f'exec chroot "$1" /usr/sbin/asterisk -f -n -U asterisk -G asterisk -C {ASTERISK_CONF}',
    ]
)


@dataclass(frozen=True)
class ProcessId:
    """A PID plus its start time, so a recycled PID is not mistaken for ours."""

    pid: int
    start_ticks: int


def require_root(action: str) -> None:
    """Raise :class:`NotRootError` unless running as root."""
    if os.geteuid() != 0:
        raise NotRootError(f"{action} needs root (mount namespaces and chroot)")


def launch(
    rootfs: Path, base_dir: Path, console_log: Path
) -> tuple[subprocess.Popen[bytes], ProcessId]:
    """Start Asterisk for the instance whose files live in ``base_dir``.

    Args:
        rootfs: The shared rootfs.
        base_dir: The instance's host directory (etc, spool, log, run, db).
        console_log: Where Asterisk's stdout and stderr go.

    Returns:
        The child process and its identity.
    """
    require_root("starting Asterisk")
    for tool in ("unshare", "chroot", "mount"):
        if shutil.which(tool) is None:
            raise NotRootError(f"{tool} is not installed (util-linux/coreutils)")
    (rootfs / INSTANCE_MOUNT).mkdir(parents=True, exist_ok=True)
    command = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "/bin/sh",
        "-c",
        _LAUNCH_SCRIPT,
        "sb-asterisk",
        str(rootfs),
        str(base_dir),
    ]
    with console_log.open("ab") as log:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    ticks = start_ticks(proc.pid)
    return proc, ProcessId(pid=proc.pid, start_ticks=ticks if ticks is not None else 0)


def start_ticks(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot, or None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def is_alive(process: ProcessId) -> bool:
    """Whether the process still runs and is the one we started."""
    ticks = start_ticks(process.pid)
    return ticks is not None and ticks == process.start_ticks


def is_asterisk(process: ProcessId) -> bool:
    """Whether the process is alive and has exec'ed Asterisk (not still in the launcher)."""
    if not is_alive(process):
        return False
    try:
        return Path(f"/proc/{process.pid}/comm").read_text().strip() == "asterisk"
    except OSError:
        return False


def wait_exit(process: ProcessId, timeout: float, child: subprocess.Popen[bytes] | None) -> bool:
    """Wait until the process is gone; True if it exited within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            return True
        if not is_alive(process):
            return True
        time.sleep(0.05)
    return False


def signal_process(process: ProcessId, signum: signal.Signals) -> None:
    """Send a signal if the process is still ours."""
    if is_alive(process):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)


def run_cli(process: ProcessId, command: str, timeout: float = 15.0) -> str:
    """Run one Asterisk CLI command through the instance's control socket.

    ``nsenter`` joins the process's mount namespace and chroot, where
    ``asterisk -rx`` finds the control socket that asterisk.conf names.

    Raises:
        InstanceNotRunningError: The process is gone.
        CliCommandError: The command could not be delivered.
    """
    if not is_asterisk(process):
        raise InstanceNotRunningError("Asterisk is not running")
    args = [
        "nsenter",
        "--target",
        str(process.pid),
        "--mount",
        "--root",
        "--wd=/",
        "/usr/sbin/asterisk",
        "-C",
        ASTERISK_CONF,
        "-rx",
        command,
    ]
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, check=False, errors="replace"
        )
    except subprocess.TimeoutExpired as exc:
        raise CliCommandError(f"asterisk -rx {command!r} timed out after {timeout} s") from exc
    if done.returncode != 0:
        if not is_alive(process):
            raise InstanceNotRunningError("Asterisk exited")
        detail = (done.stderr or done.stdout).strip()
        raise CliCommandError(
            f"asterisk -rx {command!r} failed: {detail or done.returncode}",
            command=command,
            returncode=done.returncode,
        )
    return done.stdout
