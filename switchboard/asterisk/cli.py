"""``switchboard asterisk rootfs|up|down|status|env|cli``: a local Asterisk for development.

Errors are one line on stderr and exit code 1, never a traceback.
``status`` exits 3 when the instance is not running (as ``systemctl`` does).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from switchboard.asterisk.exceptions import AsteriskHarnessError
from switchboard.asterisk.instance import AsteriskInstance
from switchboard.asterisk.ports import InstancePorts
from switchboard.asterisk.process import require_root
from switchboard.asterisk.render import render_config
from switchboard.asterisk.rootfs import ensure_rootfs
from switchboard.config import Settings

app = typer.Typer(help="Run a local Asterisk 22 for development and tests.", no_args_is_help=True)

NameOption = Annotated[str, typer.Option("--name", "-n", help="Instance name.")]
BaseDirOption = Annotated[
    Path | None,
    typer.Option("--base-dir", help="Instance directory (default: state_dir/asterisk/NAME)."),
]
T = TypeVar("T")


def _err(line: str) -> None:
    typer.echo(line, err=True)


def _guard(action: Callable[[], T]) -> T:
    """Run ``action`` as root; turn harness errors into one line on stderr and exit 1."""
    try:
        require_root("switchboard asterisk")
        return action()
    except AsteriskHarnessError as exc:
        _err(f"error: {exc.message}")
        raise typer.Exit(1) from None
    except (OSError, ValueError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None


@app.command()
def rootfs(
    path: Annotated[
        Path | None, typer.Option(help="Where (default: Settings.rootfs_cache).")
    ] = None,
    mirror: Annotated[str | None, typer.Option(help="Debian mirror (default: apt's).")] = None,
) -> None:
    """Build the Debian sid rootfs with Asterisk if it is not there yet."""
    settings = Settings()
    target = path or settings.rootfs_cache
    chosen = mirror or settings.debian_mirror or None
    built = _guard(lambda: ensure_rootfs(target, chosen, _err))
    typer.echo(f"Asterisk rootfs ready at {built}")


@app.command()
def up(
    name: NameOption = "default",
    base_dir: BaseDirOption = None,
    ari_port: Annotated[int | None, typer.Option(help="ARI/HTTP port.")] = None,
    ami_port: Annotated[int | None, typer.Option(help="AMI port.")] = None,
    sip_port: Annotated[int | None, typer.Option(help="PJSIP UDP port.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for readiness.")] = 60.0,
) -> None:
    """Build the rootfs if needed, start Asterisk and print how to reach it."""
    settings = Settings()

    def run() -> AsteriskInstance:
        ensure_rootfs(settings.rootfs_cache, settings.debian_mirror or None, _err)
        ports = None
        if ari_port or ami_port or sip_port:
            ports = InstancePorts(
                ari=ari_port or settings.ari_port,
                ami=ami_port or settings.ami_port,
                sip=sip_port or settings.sip_port,
                rtp_start=10000,
                rtp_end=10999,
            )
        instance = AsteriskInstance.create(name, settings=settings, base_dir=base_dir, ports=ports)
        if instance.is_running():
            typer.echo(f"Asterisk {name!r} is already running (pid {instance.pid}).")
        else:
            instance.start(timeout=timeout)
            typer.echo(f"Asterisk {name!r} is up (pid {instance.pid}).")
        return instance

    instance = _guard(run)
    _describe(instance)
    typer.echo("\n# Point Switchboard at it:")
    for key, value in instance.env().items():
        typer.echo(f"export {key}={value}")


@app.command()
def down(name: NameOption = "default", base_dir: BaseDirOption = None) -> None:
    """Stop the instance and wait until its process is gone."""

    def run() -> bool:
        instance = AsteriskInstance.load(name, base_dir=base_dir)
        was_running = instance.is_running()
        instance.stop()
        return was_running

    typer.echo(f"Asterisk {name!r} {'stopped' if _guard(run) else 'was not running'}.")


@app.command()
def status(name: NameOption = "default", base_dir: BaseDirOption = None) -> None:
    """Say whether the instance runs, with its ports, PID and uptime."""
    instance = _guard(lambda: AsteriskInstance.load(name, base_dir=base_dir))
    if not instance.is_running():
        typer.echo(f"Asterisk {name!r} is not running ({instance.base_dir}).")
        raise typer.Exit(3)
    started = instance.started_at
    since = f", started {time.time() - started:.0f} s ago" if started else ""
    typer.echo(f"Asterisk {name!r} is running (pid {instance.pid}{since}).")
    _describe(instance)
    uptime = _guard(instance.uptime)
    for line in uptime.splitlines():
        typer.echo(f"  {line.strip()}")


@app.command("env")
def env_command(name: NameOption = "default", base_dir: BaseDirOption = None) -> None:
    """Print ``export SWITCHBOARD_...`` lines for the instance (use with ``eval``)."""
    instance = _guard(lambda: AsteriskInstance.load(name, base_dir=base_dir))
    for key, value in instance.env().items():
        typer.echo(f"export {key}={value}")


@app.command("cli")
def cli_command(
    command: Annotated[
        str, typer.Argument(help='An Asterisk CLI command, e.g. "core show channels".')
    ],
    name: NameOption = "default",
    base_dir: BaseDirOption = None,
) -> None:
    """Run one Asterisk CLI command on the instance and print its output."""
    output = _guard(lambda: AsteriskInstance.load(name, base_dir=base_dir).cli(command))
    typer.echo(output.rstrip("\n"))


def _describe(instance: AsteriskInstance) -> None:
    ports = instance.ports
    typer.echo(f"  directory  {instance.base_dir}")
    typer.echo(
        f"  ARI        {instance.ari_url}  (user {instance.ari_user}, app {instance.ari_app})"
    )
    typer.echo(f"  AMI        {instance.host}:{ports.ami}  (user {instance.ami_user})")
    typer.echo(
        f"  SIP        udp {instance.host}:{ports.sip}  RTP {ports.rtp_start}-{ports.rtp_end}"
    )
    typer.echo(f"  spool      {instance.spool_dir}")
    typer.echo(f"  CDR csv    {instance.cdr_csv_path}")
    typer.echo(f"  logs       {instance.log_dir / 'messages.log'}")


# Where a containerised Asterisk keeps its own databases (see asterisk-config/Dockerfile).
CONTAINER_STATE = "/var/lib/asterisk/switchboard"


@app.command("render")
def render_command(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the .conf files to.")],
    bind_host: Annotated[str, typer.Option(help="Address ARI, AMI and SIP listen on.")] = "0.0.0.0",
    ami_permit: Annotated[
        str, typer.Option(help="Networks allowed to log in to AMI (address/mask).")
    ] = "0.0.0.0/0.0.0.0",
) -> None:
    """Render the configuration for an Asterisk run elsewhere (a container) from settings.

    Credentials and ports come from SWITCHBOARD_ARI_*, SWITCHBOARD_AMI_* and
    SWITCHBOARD_SIP_PORT; the engine must be given the same values.
    """
    settings = Settings()
    if not settings.ari_password or not settings.ami_secret:
        _err("set SWITCHBOARD_ARI_PASSWORD and SWITCHBOARD_AMI_SECRET first")
        raise typer.Exit(1)
    context: dict[str, object] = {
        "name": "container",
        "inst_root": CONTAINER_STATE,
        "ari_port": settings.ari_port,
        "ari_user": settings.ari_user,
        "ari_password": settings.ari_password,
        "ari_app": settings.ari_app,
        "ami_port": settings.ami_port,
        "ami_user": settings.ami_user,
        "ami_secret": settings.ami_secret,
        "sip_port": settings.sip_port,
        "rtp_start": 10000,
        "rtp_end": 10999,
        "bind_host": bind_host,
        "sip_bind_host": bind_host,
        "ami_permit": ami_permit,
    }
    written = _guard(lambda: render_config(settings.asterisk_config_dir, out, context))
    for path in written:  # read by another container's asterisk user, written as root here
        path.chmod(0o644)
    typer.echo(f"wrote {len(written)} files to {out}")
