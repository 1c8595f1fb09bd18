"""What an instance persists in ``<base_dir>/instance.json``.

Another process (``switchboard asterisk status``/``down``/``cli``) rebuilds the
instance from this file: its ports, credentials, rootfs and running PID.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from switchboard.asterisk.ports import InstancePorts
from switchboard.asterisk.render import write_atomically
from switchboard.config import Settings, new_secret

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

    @property
    def ports(self) -> InstancePorts:
        """The ports as one value."""
        return InstancePorts(
            ari=self.ari_port,
            ami=self.ami_port,
            sip=self.sip_port,
            rtp_start=self.rtp_start,
            rtp_end=self.rtp_end,
        )

    def with_ports(self, ports: InstancePorts) -> InstanceState:
        """A copy listening on ``ports``."""
        return self.model_copy(
            update={
                "ari_port": ports.ari,
                "ami_port": ports.ami,
                "sip_port": ports.sip,
                "rtp_start": ports.rtp_start,
                "rtp_end": ports.rtp_end,
            }
        )


def new_state(
    name: str, settings: Settings, *, ports: InstancePorts | None, rootfs: Path | None
) -> InstanceState:
    """Fresh state with random credentials; ports from the settings unless given."""
    ports = ports or InstancePorts(
        ari=settings.ari_port,
        ami=settings.ami_port,
        sip=settings.sip_port,
        rtp_start=10000,
        rtp_end=10999,
    )
    blank = InstanceState(
        name=name,
        rootfs=rootfs or settings.rootfs_cache,
        ari_port=0,
        ami_port=0,
        sip_port=0,
        rtp_start=0,
        rtp_end=0,
        ari_user=settings.ari_user,
        ari_password=new_secret(),
        ami_user=settings.ami_user,
        ami_secret=new_secret(),
        ari_app=settings.ari_app,
    )
    return blank.with_ports(ports)


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
