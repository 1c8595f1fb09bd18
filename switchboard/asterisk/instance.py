"""One local Asterisk instance: its files, ports, credentials and process.

Several instances run at once from the same rootfs, each in its own mount
namespace where its own host directories appear at Asterisk's usual paths
(``/etc/asterisk``, ``/var/spool/asterisk``, ``/var/log/asterisk``,
``/run/asterisk``; see :mod:`switchboard.asterisk.layout`). The instance's
facts are saved in ``<base_dir>/instance.json`` so that another process can
find, query and stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from switchboard.asterisk import process as proc
from switchboard.asterisk.exceptions import (
    AlreadyRunningError,
    AsteriskHarnessError,
    InstanceNotFoundError,
    InstanceNotRunningError,
    InstanceStartError,
    RootfsMissingError,
)
from switchboard.asterisk.layout import InstanceLayout
from switchboard.asterisk.ports import InstancePorts, busy_ports
from switchboard.asterisk.readiness import ami_login_ok, ari_ok, wait_until_ready
from switchboard.asterisk.render import LOOPBACK_BINDINGS, write_atomically
from switchboard.asterisk.reset import destroy_all_bridges, hangup_all_channels
from switchboard.asterisk.rootfs import ASTERISK_UID, prepare_rootfs, rootfs_ready
from switchboard.asterisk.state import InstanceState, load_state, new_state, save_state
from switchboard.config import Settings

_CHANNELS = re.compile(r"^(\d+) active channels?", re.MULTILINE)


def default_base_dir(settings: Settings, name: str) -> Path:
    """Where instance ``name`` keeps its files unless told otherwise."""
    return settings.state_dir / "asterisk" / name


class AsteriskInstance:
    """A local Asterisk 22 run from the Debian sid rootfs, for the engine, tests and demos.

    Build one with :meth:`create` (new or reused credentials) or :meth:`load`
    (an instance another process set up), then :meth:`start` it.
    """

    def __init__(self, *, state: InstanceState, base_dir: Path, template_dir: Path) -> None:
        self._state = state
        self._base_dir = base_dir
        self._layout = InstanceLayout(base_dir)
        self._template_dir = template_dir
        self._child: subprocess.Popen[bytes] | None = None

    # -- construction -------------------------------------------------------

    @classmethod
    def create(
        cls,
        name: str = "default",
        *,
        settings: Settings | None = None,
        base_dir: Path | None = None,
        ports: InstancePorts | None = None,
        rootfs: Path | None = None,
    ) -> AsteriskInstance:
        """An instance at ``base_dir``, reusing saved credentials when it exists.

        Args:
            name: Instance name.
            settings: Source of defaults (ports, users, ARI app, rootfs, state dir).
            base_dir: The instance's directory; ``state_dir/asterisk/<name>`` by default.
            ports: Ports to use; saved ports or the settings' ports otherwise.
            rootfs: The rootfs; ``settings.rootfs_cache`` by default.
        """
        settings = settings or Settings()
        base_dir = (base_dir or default_base_dir(settings, name)).resolve()
        saved = load_state(base_dir)
        if saved is None:
            state = new_state(name, settings, ports=ports, rootfs=rootfs)
        else:
            running = cls(state=saved, base_dir=base_dir, template_dir=Path()).is_running()
            if running and ports is not None and ports != saved.ports:
                raise AlreadyRunningError(
                    f"instance {name!r} is running on other ports; stop it first",
                    base_dir=str(base_dir),
                )
            state = saved.with_ports(ports or saved.ports).model_copy(
                update={"name": name, "rootfs": rootfs or saved.rootfs}
            )
            if not running:
                state.ari_app = settings.ari_app
        save_state(base_dir, state)
        return cls(state=state, base_dir=base_dir, template_dir=settings.asterisk_config_dir)

    @classmethod
    def load(
        cls,
        name: str = "default",
        *,
        settings: Settings | None = None,
        base_dir: Path | None = None,
    ) -> AsteriskInstance:
        """The instance saved at ``base_dir`` (by any process).

        Raises:
            InstanceNotFoundError: Nothing was ever set up there.
        """
        settings = settings or Settings()
        base_dir = (base_dir or default_base_dir(settings, name)).resolve()
        saved = load_state(base_dir)
        if saved is None:
            raise InstanceNotFoundError(
                f"no Asterisk instance {name!r} at {base_dir} (run `switchboard asterisk up`)",
                base_dir=str(base_dir),
            )
        return cls(state=saved, base_dir=base_dir, template_dir=settings.asterisk_config_dir)

    # -- facts --------------------------------------------------------------

    @property
    def name(self) -> str:
        """Instance name."""
        return self._state.name

    @property
    def base_dir(self) -> Path:
        """The instance's host directory."""
        return self._base_dir

    @property
    def rootfs(self) -> Path:
        """The rootfs Asterisk runs from."""
        return self._state.rootfs

    @property
    def layout(self) -> InstanceLayout:
        """Every host path of the instance."""
        return self._layout

    @property
    def etc_dir(self) -> Path:
        """Rendered configuration (host path); ``pjsip_switchboard.conf`` lives here."""
        return self._layout.etc_dir

    @property
    def spool_dir(self) -> Path:
        """Asterisk's spool (host path); ARI recordings land in ``spool_dir / "recording"``."""
        return self._layout.spool_dir

    @property
    def recording_dir(self) -> Path:
        """Where ARI stored recordings appear (host path)."""
        return self._layout.recording_dir

    @property
    def log_dir(self) -> Path:
        """Asterisk's log directory (host path), with ``messages.log``."""
        return self._layout.log_dir

    @property
    def cdr_csv_path(self) -> Path:
        """``cdr_csv``'s Master.csv (GMT times, unique id and user field columns)."""
        return self._layout.cdr_csv_path

    @property
    def host(self) -> str:
        """Address every port listens on."""
        return self._state.host

    @property
    def ports(self) -> InstancePorts:
        """ARI/HTTP, AMI, SIP and RTP ports."""
        return self._state.ports

    @property
    def ari_port(self) -> int:
        """ARI/HTTP port."""
        return self._state.ari_port

    @property
    def ari_url(self) -> str:
        """Base URL of ARI, e.g. ``http://127.0.0.1:8088/ari``."""
        return f"http://{self.host}:{self.ari_port}/ari"

    @property
    def ari_user(self) -> str:
        """ARI user."""
        return self._state.ari_user

    @property
    def ari_password(self) -> str:
        """ARI password."""
        return self._state.ari_password

    @property
    def ari_app(self) -> str:
        """Stasis application the dialplan sends DIDs to."""
        return self._state.ari_app

    @property
    def ami_port(self) -> int:
        """AMI port."""
        return self._state.ami_port

    @property
    def ami_user(self) -> str:
        """AMI user (read/write all)."""
        return self._state.ami_user

    @property
    def ami_secret(self) -> str:
        """AMI secret."""
        return self._state.ami_secret

    @property
    def sip_port(self) -> int:
        """PJSIP UDP transport port."""
        return self._state.sip_port

    @property
    def pid(self) -> int | None:
        """PID of the running Asterisk, or None."""
        return self._state.pid if self.is_running() else None

    @property
    def started_at(self) -> float | None:
        """Unix time of the last start, or None if not running."""
        return self._state.started_at if self.is_running() else None

    def settings_overrides(self) -> dict[str, Any]:
        """Settings field names and values that point the engine at this instance."""
        return {
            "asterisk_host": self.host,
            "ari_port": self.ari_port,
            "ari_user": self.ari_user,
            "ari_password": self.ari_password,
            "ari_app": self.ari_app,
            "ami_port": self.ami_port,
            "ami_user": self.ami_user,
            "ami_secret": self.ami_secret,
            "asterisk_spool_dir": self.spool_dir,
            "asterisk_cdr_csv": self.cdr_csv_path,
            "asterisk_etc_dir": self.etc_dir,
            "sip_port": self.sip_port,
        }

    def env(self) -> dict[str, str]:
        """The same overrides as ``SWITCHBOARD_*`` environment variables."""
        return {f"SWITCHBOARD_{k.upper()}": str(v) for k, v in self.settings_overrides().items()}

    def apply_to(self, settings: Settings) -> Settings:
        """A copy of ``settings`` pointed at this instance."""
        return settings.model_copy(update=self.settings_overrides())

    # -- lifecycle ----------------------------------------------------------

    def _process(self) -> proc.ProcessId | None:
        s = self._state
        if s.pid is None or s.pid_start_ticks is None:
            return None
        return proc.ProcessId(pid=s.pid, start_ticks=s.pid_start_ticks)

    def is_running(self) -> bool:
        """Whether this instance's Asterisk process is alive."""
        process = self._process()
        return process is not None and proc.is_alive(process)

    def start(self, timeout: float = 30.0) -> None:
        """Render the configuration, start Asterisk and wait until AMI and ARI answer.

        Raises:
            AlreadyRunningError: It is already running.
            RootfsMissingError: No built rootfs (see :func:`ensure_rootfs`).
            InstanceStartError: A port is taken, or it died or was not ready in time.
        """
        proc.require_root("starting Asterisk")
        if self.is_running():
            raise AlreadyRunningError(
                f"Asterisk instance {self.name!r} is already running", pid=self._state.pid
            )
        if not rootfs_ready(self.rootfs):
            raise RootfsMissingError(
                f"no Asterisk rootfs at {self.rootfs} (run `switchboard asterisk up` to build it)"
            )
        prepare_rootfs(self.rootfs)
        taken = busy_ports(self.ports, self.host)
        if taken:
            raise InstanceStartError(f"ports already in use: {', '.join(taken)}", ports=taken)
        self._layout.prepare(self._template_dir, self._render_context())
        log_offsets = self._layout.log_offsets()
        self._child, process = proc.launch(
            self.rootfs, self._base_dir, self._layout.console_log_path
        )
        self._state.pid, self._state.pid_start_ticks = process.pid, process.start_ticks
        self._state.started_at = time.time()
        save_state(self._base_dir, self._state)
        try:
            wait_until_ready(
                process,
                self._child,
                self._layout.ctl_socket,
                lambda: (
                    ami_login_ok(self.host, self.ami_port, self.ami_user, self.ami_secret)
                    and ari_ok(self.host, self.ari_port, self.ari_user, self.ari_password)
                ),
                timeout,
            )
        except AsteriskHarnessError as exc:
            self.stop(timeout=5.0)
            detail = self._layout.failure_detail(log_offsets)
            raise InstanceStartError(
                f"Asterisk instance {self.name!r} did not become ready: {exc.message}"
                + (f" ({detail})" if detail else ""),
                base_dir=str(self._base_dir),
            ) from None

    def stop(self, timeout: float = 20.0) -> None:
        """Shut Asterisk down (``core stop now``) and wait until the process is gone.

        A stopped Asterisk can linger for seconds; this returns only once the
        process has exited (killing it after ``timeout``), so a following
        :meth:`start` never hits "already running".
        """
        process = self._process()
        if process is not None and proc.is_alive(process):
            try:
                proc.run_cli(process, "core stop now", timeout=min(timeout, 10.0))
            except AsteriskHarnessError:
                proc.signal_process(process, signal.SIGTERM)
            if not proc.wait_exit(process, timeout, self._child):
                proc.signal_process(process, signal.SIGKILL)
                proc.wait_exit(process, 10.0, self._child)
        if self._child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._child.wait(timeout=5.0)
            self._child = None
        self._state.pid = self._state.pid_start_ticks = self._state.started_at = None
        save_state(self._base_dir, self._state)

    def restart(self, timeout: float = 30.0) -> None:
        """Stop (waiting for the old process to exit), then start again."""
        self.stop()
        self.start(timeout=timeout)

    # -- commands -----------------------------------------------------------

    def cli(self, command: str, timeout: float = 15.0) -> str:
        """Run an Asterisk CLI command (``asterisk -rx``) and return its output.

        Raises:
            InstanceNotRunningError: Asterisk is not running.
            CliCommandError: The command could not be run.
        """
        process = self._process()
        if process is None:
            raise InstanceNotRunningError(f"Asterisk instance {self.name!r} is not running")
        return proc.run_cli(process, command, timeout=timeout)

    async def acli(self, command: str, timeout: float = 15.0) -> str:
        """:meth:`cli` for async callers, run in a worker thread."""
        return await asyncio.to_thread(self.cli, command, timeout)

    def reload_dialplan(self) -> None:
        """Reload extensions.conf (and its includes)."""
        self.cli("dialplan reload")

    def reload_pjsip(self) -> None:
        """Reload pjsip.conf and ``pjsip_switchboard.conf``."""
        self.cli("module reload res_pjsip.so")

    def write_config(self, filename: str, text: str) -> Path:
        """Atomically write a file into :attr:`etc_dir`, readable by Asterisk.

        For engine-owned files such as ``pjsip_switchboard.conf``; follow it
        with :meth:`reload_pjsip` or :meth:`reload_dialplan`.
        """
        if "/" in filename or filename.startswith("."):
            raise ValueError(f"not a plain file name: {filename!r}")
        return write_atomically(self.etc_dir / filename, text, owner=ASTERISK_UID)

    def channel_count(self) -> int:
        """Number of active channels (``core show channels count``)."""
        match = _CHANNELS.search(self.cli("core show channels count"))
        return int(match.group(1)) if match else 0

    def hangup_all(self, timeout: float = 10.0) -> None:
        """Hang up every channel and wait until none is left.

        Raises:
            ResetError: Channels remain after ``timeout``.
        """
        hangup_all_channels(self.cli, self.channel_count, timeout)

    def reset(self, timeout: float = 10.0) -> None:
        """Hang up every channel and destroy every bridge (between tests).

        Raises:
            ResetError: Something survived ``timeout``.
        """
        self.hangup_all(timeout)
        destroy_all_bridges(self.ari_url, (self.ari_user, self.ari_password), timeout)

    def uptime(self) -> str:
        """``core show uptime`` output."""
        return self.cli("core show uptime").strip()

    # -- internals ----------------------------------------------------------

    def _render_context(self) -> dict[str, object]:
        s = self._state
        return {
            "name": s.name,
            "inst_root": proc.INSTANCE_ROOT,
            "ari_port": s.ari_port,
            "ari_user": s.ari_user,
            "ari_password": s.ari_password,
            "ari_app": s.ari_app,
            "ami_port": s.ami_port,
            "ami_user": s.ami_user,
            "ami_secret": s.ami_secret,
            "sip_port": s.sip_port,
            "rtp_start": s.rtp_start,
            "rtp_end": s.rtp_end,
            **LOOPBACK_BINDINGS,
        }
