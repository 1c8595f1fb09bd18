"""The ``switchboard`` command: one entry point, one sub-command group per area."""

from __future__ import annotations

import typer

from switchboard import __version__, admin_cli, runtime_cli
from switchboard.asterisk import cli as asterisk_cli
from switchboard.transcription import cli as transcription_cli

app = typer.Typer(help="Switchboard: self-hosted call control on Asterisk.", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """Switchboard: self-hosted call control on Asterisk."""


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


# Sub-command groups register below, one line each.
app.add_typer(asterisk_cli.app, name="asterisk")
app.add_typer(runtime_cli.call_app, name="call")
app.command("serve")(runtime_cli.serve_command)
app.command("demo")(runtime_cli.demo_command)
app.add_typer(admin_cli.tenants_app, name="tenants")
app.add_typer(admin_cli.users_app, name="users")
app.add_typer(admin_cli.keys_app, name="keys")
app.command("worker")(transcription_cli.worker)
app.add_typer(transcription_cli.transcripts_app, name="transcripts")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
