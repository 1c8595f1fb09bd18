"""The host directory of one instance: what lives where, and getting it ready.

``<base_dir>`` holds ``instance.json`` and ``console.log`` (root only) plus
the directories Asterisk (uid 101) writes, each bind-mounted into the rootfs:
``etc`` -> ``/etc/asterisk``, ``spool`` -> ``/var/spool/asterisk``, ``log`` ->
``/var/log/asterisk``, ``run`` -> ``/run/asterisk``; ``db`` (astdb) and
``cache`` are reached through ``/srv/switchboard``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from switchboard.asterisk.render import render_config
from switchboard.asterisk.rootfs import ASTERISK_UID

_OWNED_BY_ASTERISK = ("etc", "spool", "log", "run", "db", "cache")
_LAUNCHER_TOOLS = ("unshare:", "mount:", "chroot:", "sh:", "/bin/sh:")
# The engine's spool directories exist up front and belong to Asterisk: the
# host creates files in some of them as root, and Asterisk (MixMonitor,
# Record) cannot create its own beside a directory it does not own.
_SUBDIRS = (
    *_OWNED_BY_ASTERISK,
    "spool/recording",
    "spool/tmp",
    "spool/switchboard/rec",
    "spool/switchboard/vm",
    "spool/switchboard/media",
    "spool/switchboard/sim",
    "log/cdr-csv",
)


@dataclass(frozen=True)
class InstanceLayout:
    """Paths of one instance as the host sees them."""

    base_dir: Path

    @property
    def etc_dir(self) -> Path:
        """Rendered configuration; ``pjsip_switchboard.conf`` lives here."""
        return self.base_dir / "etc"

    @property
    def spool_dir(self) -> Path:
        """Asterisk's spool; ARI recordings land in ``spool_dir / "recording"``."""
        return self.base_dir / "spool"

    @property
    def recording_dir(self) -> Path:
        """Where ARI stored recordings appear."""
        return self.spool_dir / "recording"

    @property
    def log_dir(self) -> Path:
        """Asterisk's log directory, with ``messages.log``."""
        return self.base_dir / "log"

    @property
    def messages_log_path(self) -> Path:
        """Asterisk's notices, warnings and errors."""
        return self.log_dir / "messages.log"

    @property
    def cdr_csv_path(self) -> Path:
        """``cdr_csv``'s Master.csv (GMT times, unique id and user field columns)."""
        return self.log_dir / "cdr-csv" / "Master.csv"

    @property
    def console_log_path(self) -> Path:
        """Asterisk's stdout and stderr."""
        return self.base_dir / "console.log"

    @property
    def ctl_socket(self) -> Path:
        """Asterisk's control socket (exists once it accepts ``asterisk -r``)."""
        return self.base_dir / "run" / "asterisk.ctl"

    def prepare(self, template_dir: Path, context: Mapping[str, object]) -> None:
        """Create the directories, render the configuration, hand them to uid 101."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base_dir, 0o755)  # uid 101 must traverse it inside the chroot
        for sub in _SUBDIRS:
            (self.base_dir / sub).mkdir(parents=True, exist_ok=True)
        render_config(template_dir, self.etc_dir, context)
        for sub in _OWNED_BY_ASTERISK:
            _chown_tree(self.base_dir / sub, ASTERISK_UID)
        # A killed Asterisk leaves its socket behind; a stale one would look ready.
        self.ctl_socket.unlink(missing_ok=True)

    def log_offsets(self) -> tuple[int, int]:
        """Current sizes of ``messages.log`` and ``console.log``, to read only what follows."""
        return _size(self.messages_log_path), _size(self.console_log_path)

    def failure_detail(self, offsets: tuple[int, int]) -> str:
        """Warnings and errors logged since ``offsets``, joined for a one-line error."""
        lines: list[str] = []
        for path, offset in zip(
            (self.messages_log_path, self.console_log_path), offsets, strict=True
        ):
            if path.exists():
                with path.open("rb") as fh:
                    fh.seek(offset)
                    text = fh.read().decode(errors="replace")
                lines += [ln for ln in text.splitlines() if _is_failure(ln)]
        unique = list(dict.fromkeys(lines))
        return " | ".join(unique[-4:])


def _is_failure(line: str) -> bool:
    return "ERROR" in line or "already running" in line or line.startswith(_LAUNCHER_TOOLS)


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _chown_tree(root: Path, uid: int) -> None:
    os.chown(root, uid, uid)
    for dirpath, dirnames, filenames in os.walk(root):
        for entry in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, entry), uid, uid, follow_symlinks=False)
