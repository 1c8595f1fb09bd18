"""The Debian sid root filesystem that the harness runs Asterisk from.

Debian stable has no Asterisk package; sid does. ``ensure_rootfs`` builds a
minimal sid tree with ``debootstrap`` once, into a cache directory outside the
repository, and reuses it afterwards. The build goes to a temporary sibling
directory and is renamed into place only when complete, with a marker file
inside, so an interrupted build never looks usable.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from switchboard.asterisk.exceptions import (
    DebootstrapMissingError,
    NotRootError,
    RootfsBuildError,
)

MARKER_NAME = ".switchboard-rootfs.json"
PACKAGES = ("asterisk", "asterisk-core-sounds-en", "asterisk-core-sounds-en-wav")
SUITE = "sid"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
ASTERISK_UID = 101
# Mount point inside the rootfs where each instance's own directory is bound.
INSTANCE_MOUNT = "srv/switchboard"

Progress = Callable[[str], None]

_PER_PACKAGE = re.compile(r"^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) ")
_NETWORK_HINTS = (
    "Failed getting release file",
    "Couldn't download",
    "Temporary failure resolving",
    "Could not resolve",
    "Connection refused",
    "Connection timed out",
    "Network is unreachable",
    "Failed to fetch",
    "wget",
)


def _silent(_line: str) -> None:
    """Progress sink that drops every line."""


def rootfs_ready(path: Path) -> bool:
    """Whether ``path`` holds a complete rootfs built by :func:`ensure_rootfs`."""
    return (path / MARKER_NAME).is_file() and (path / "usr/sbin/asterisk").exists()


def detect_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The Debian mirror apt already uses on this machine.

    Reads deb822 ``*.sources`` files first, then the one-line
    ``sources.list`` format; security archives are skipped.

    Args:
        apt_dir: apt's configuration directory.

    Returns:
        The mirror URI, or ``http://deb.debian.org/debian`` when none is found.
    """
    candidates: list[str] = []
    for sources in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        for line in sources.read_text(errors="replace").splitlines():
            if line.strip().lower().startswith("uris:"):
                candidates.extend(line.split(":", 1)[1].split())
    lists = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for sources in lists:
        if not sources.is_file():
            continue
        for line in sources.read_text(errors="replace").splitlines():
            words = [w for w in line.split() if not w.startswith("[") and not w.endswith("]")]
            if len(words) >= 2 and words[0] == "deb":
                candidates.append(words[1])
    for uri in candidates:
        if "security" not in uri and uri.startswith(("http://", "https://", "file:/")):
            return uri.rstrip("/")
    return DEFAULT_MIRROR


def prepare_rootfs(path: Path) -> None:
    """Create what the harness needs inside a built rootfs (idempotent).

    Debian's package leaves out ``/run/asterisk``; the harness also needs an
    empty mount point for each instance's own directory.
    """
    run_dir = path / "run/asterisk"
    run_dir.mkdir(parents=True, exist_ok=True)
    os.chown(run_dir, ASTERISK_UID, ASTERISK_UID)
    (path / INSTANCE_MOUNT).mkdir(parents=True, exist_ok=True)


def ensure_rootfs(path: Path, mirror: str | None = None, progress: Progress = _silent) -> Path:
    """Return a usable Asterisk rootfs at ``path``, building it on first use.

    Args:
        path: Where the rootfs lives (``Settings.rootfs_cache``).
        mirror: Debian mirror; detected from apt's sources when empty.
        progress: Called with one human-readable line per step.

    Returns:
        ``path``, holding a complete rootfs.

    Raises:
        NotRootError: A build is needed and this process is not root.
        DebootstrapMissingError: ``debootstrap`` is missing and not installable.
        RootfsBuildError: The build failed (mirror unreachable, disk full, ...).
    """
    if rootfs_ready(path):
        if os.geteuid() == 0:
            prepare_rootfs(path)
        return path
    if os.geteuid() != 0:
        raise NotRootError(
            f"building the Asterisk rootfs at {path} needs root (debootstrap, chroot)",
            path=str(path),
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(path):
        if rootfs_ready(path):  # another process built it while we waited
            prepare_rootfs(path)
            return path
        debootstrap = _ensure_debootstrap(progress)
        chosen = (mirror or detect_mirror()).rstrip("/")
        _build(path, debootstrap, chosen, progress)
    prepare_rootfs(path)
    return path


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    lock_path = path.parent / f".{path.name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ensure_debootstrap(progress: Progress) -> str:
    found = shutil.which("debootstrap")
    if found:
        return found
    progress("debootstrap is missing; installing it with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "debootstrap"]
    try:
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
            done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise DebootstrapMissingError(
            "debootstrap is not installed and apt-get is not available to install it"
        ) from exc
    found = shutil.which("debootstrap")
    if not found:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise DebootstrapMissingError(
            f"debootstrap is not installed and apt-get could not install it: {tail[0]}"
        )
    return found


def _build(path: Path, debootstrap: str, mirror: str, progress: Progress) -> None:
    staging = path.parent / f".{path.name}.build-{os.getpid()}"
    _remove_tree(staging)
    command = [
        debootstrap,
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(staging),
        mirror,
    ]
    progress(f"building the Asterisk rootfs at {path} from {mirror} (about a minute, ~550 MB)")
    started = time.monotonic()
    output: list[str] = []
    try:
        returncode = _run_streaming(command, output, progress)
    except OSError as exc:
        _remove_tree(staging)
        raise RootfsBuildError(f"could not run debootstrap: {exc}") from exc
    if returncode != 0 or not (staging / "usr/sbin/asterisk").exists():
        reason = _failure_reason(staging, output, mirror)
        _remove_tree(staging)
        raise RootfsBuildError(reason, mirror=mirror, returncode=returncode)
    marker = {
        "suite": SUITE,
        "mirror": mirror,
        "packages": list(PACKAGES),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (staging / MARKER_NAME).write_text(json.dumps(marker, indent=2) + "\n")
    prepare_rootfs(staging)
    if path.exists() or path.is_symlink():
        # A half-made tree without a marker: move it aside, then drop it.
        _remove_tree(path)
    os.rename(staging, path)
    progress(f"rootfs ready at {path} ({time.monotonic() - started:.0f} s)")


def _run_streaming(command: list[str], output: list[str], progress: Progress) -> int:
    skipped = 0
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"},
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            output.append(line)
            if _PER_PACKAGE.match(line):
                skipped += 1
                if skipped % 100 == 0:
                    progress(f"  ... {skipped} package steps")
                continue
            if line:
                progress(f"  {line}")
        return proc.wait()


def _failure_reason(staging: Path, output: list[str], mirror: str) -> str:
    log = staging / "debootstrap/debootstrap.log"
    lines = list(output)
    if log.is_file():
        lines += log.read_text(errors="replace").splitlines()
    text = "\n".join(lines)
    if any(hint in text for hint in _NETWORK_HINTS):
        return (
            f"debootstrap could not download from the mirror {mirror} (network or mirror failure)"
        )
    if "No space left on device" in text:
        return f"debootstrap ran out of disk space under {staging.parent}"
    errors = [line for line in lines if line.startswith("E:")]
    last = (errors or lines or ["no output"])[-1]
    return f"debootstrap failed: {last}"


def _remove_tree(path: Path) -> None:
    """Delete a (possibly half-built) tree, unmounting anything inside first."""
    if not path.exists() and not path.is_symlink():
        return
    if path.is_symlink():
        path.unlink()
        return
    prefix = str(path.resolve()) + "/"
    mounts = [
        line.split()[1]
        for line in Path("/proc/mounts").read_text().splitlines()
        if line.split()[1].startswith(prefix)
    ]
    for mount_point in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", mount_point], capture_output=True, check=False)
    shutil.rmtree(path, ignore_errors=True)
