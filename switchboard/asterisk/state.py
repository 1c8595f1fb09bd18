"""What an instance persists in ``<base_dir>/instance.json``.

Another process (``switchboard asterisk status``/``down``/``cli``) rebuilds the
instance from this file: its ports, credentials, rootfs and running PID.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from switchboard.asterisk.render import write_atomically

STATE_FILE = "instance.json"


class InstanceState(BaseModel):
    """The persisted facts of one instance."""

    name: str
    rootfs: Path
    host: str = "127.0.0.1"
    ari_port: int
    ami_port: int
    sip_port: int
    rtp_start: int
    rtp_end: int
    ari_user: str
    ari_password: str
    ami_user: str
    ami_secret: str
    ari_app: str
    pid: int | None = None
    pid_start_ticks: int | None = None
    started_at: float | None = None


def load_state(base_dir: Path) -> InstanceState | None:
    """The saved state under ``base_dir``, or None if there is none."""
    path = base_dir / STATE_FILE
    if not path.is_file():
        return None
    return InstanceState.model_validate_json(path.read_text())


def save_state(base_dir: Path, state: InstanceState) -> None:
    """Persist ``state`` (readable by root only: it holds credentials)."""
    base_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(base_dir / STATE_FILE, state.model_dump_json(indent=2) + "\n", mode=0o600)
    os.chmod(base_dir / STATE_FILE, 0o600)
