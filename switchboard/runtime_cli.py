"""``switchboard serve``, ``switchboard demo`` and ``switchboard call simulate``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from switchboard import logs
from switchboard.asterisk import AsteriskInstance, ensure_rootfs
from switchboard.asterisk.exceptions import AsteriskHarnessError
from switchboard.config import Settings, UnsafeSettings, ensure_safe_to_serve
from switchboard.fetch_policy import LOOPBACK
from switchboard.simulate import SimulationError, parse_behaviour

# The engine, the API and the database layer are imported by the commands
# that run them, so `switchboard --help` and other commands start quickly.

call_app = typer.Typer(help="Try calls without a phone.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def local_asterisk_settings(settings: Settings, name: str = "default") -> Settings:
    """``settings`` pointed at the local instance when no ARI credentials are set."""
    if settings.ari_password:
        return settings
    try:
        instance = AsteriskInstance.load(name, settings=settings)
    except AsteriskHarnessError:
        return settings
    return instance.apply_to(settings)


def serve_command(
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not start a worker.")] = False,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO",
) -> None:
    """Run the engine, the API and the webhook outbox (and a transcription worker)."""
    from switchboard.runtime import serve

    logs.configure(log_level)
    settings = local_asterisk_settings(Settings())
    if not settings.ari_password:
        _fail("no Asterisk configured: set SWITCHBOARD_ARI_* or run `switchboard asterisk up`")
    try:
        ensure_safe_to_serve(settings)
    except UnsafeSettings as exc:
        _fail(str(exc))
    asyncio.run(serve(settings, with_worker=not no_worker))


def demo_command(
    log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO",
) -> None:
    """Start a local Asterisk, seed a demo business and run everything."""
    from switchboard.demo import ensure_demo
    from switchboard.runtime import open_database, serve

    logs.configure(log_level)
    settings = Settings()
    try:
        ensure_safe_to_serve(settings)
    except UnsafeSettings as exc:
        _fail(str(exc))
    try:
        ensure_rootfs(settings.rootfs_cache, settings.debian_mirror or None, typer.echo)
        instance = AsteriskInstance.create("default", settings=settings)
        if not instance.is_running():
            typer.echo("Starting Asterisk ...")
            instance.start(timeout=60)
    except AsteriskHarnessError as exc:
        _fail(str(exc))
    settings = instance.apply_to(settings)
    if not settings.fetch_allow:
        # Local development: voice URLs and callbacks on this machine (the built-in
        # app on 127.0.0.1, a test server) pass the fetch policy.
        settings = settings.model_copy(update={"fetch_allow": list(LOOPBACK)})

    async def seed() -> None:
        database = await open_database(settings)
        async with database.sessionmaker() as session, session.begin():
            facts = await ensure_demo(session)
        await database.engine.dispose()
        typer.echo("\n=== Switchboard demo ===")
        typer.echo(f"API:            {settings.base_url}  (OpenAPI: {settings.base_url}/docs)")
        typer.echo(f"Number:         {facts.did} rings {facts.endpoint} for 20 s, then voicemail")
        typer.echo(
            f"SIP phone:      user {facts.endpoint}  password {facts.endpoint_password}"
            f"  server 127.0.0.1:{instance.sip_port} (UDP)"
        )
        typer.echo(
            f"Admin login:    {facts.admin_email}  password "
            f"{facts.admin_password or '(set at first run)'}"
        )
        if facts.api_key:
            typer.echo(f"API key:        {facts.api_key}   (shown once)")
        typer.echo(
            f"Try a call:     switchboard call simulate --to {facts.did} "
            "--from +15557654321 --no-answer"
        )
        typer.echo("Stop with Ctrl-C; `switchboard asterisk down` stops Asterisk.\n")

    asyncio.run(seed())
    asyncio.run(serve(settings))


@call_app.command("simulate")
def simulate_command(
    to: Annotated[str, typer.Option("--to", help="The DID to call (E.164).")],
    caller: Annotated[str, typer.Option("--from", help="Caller number.")] = "+15550000000",
    answer: Annotated[bool, typer.Option("--answer", help="Targets answer.")] = False,
    no_answer: Annotated[bool, typer.Option("--no-answer", help="Targets ring out.")] = False,
    busy: Annotated[bool, typer.Option("--busy", help="Targets are busy.")] = False,
    targets: Annotated[
        str | None, typer.Option(help="Per target slot, e.g. 'no-answer,answer'.")
    ] = None,
    say: Annotated[
        Path | None, typer.Option(help="WAV file the caller speaks into voicemail.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the call log.")] = 120.0,
) -> None:
    """Place a real call through Asterisk into a DID and print its call log."""
    from switchboard.runtime import open_database
    from switchboard.simulate import describe, place_call, stage_audio, wait_for_call_log

    chosen = [
        name for flag, name in ((answer, "answer"), (no_answer, "noanswer"), (busy, "busy")) if flag
    ]
    if len(chosen) > 1 or (chosen and targets):
        _fail("choose one of --answer, --no-answer, --busy, --targets")
    behaviour = targets or (chosen[0] if chosen else "answer")
    settings = local_asterisk_settings(Settings())
    if not settings.ari_password:
        _fail("no Asterisk configured: set SWITCHBOARD_ARI_* or run `switchboard asterisk up`")

    async def run() -> dict[str, object] | None:
        database = await open_database(settings)
        try:
            spoken = None
            if say is not None:
                if settings.asterisk_spool_dir is None:
                    _fail("--say needs the local Asterisk's spool directory")
                assert settings.asterisk_spool_dir is not None
                spoken = await asyncio.to_thread(stage_audio, say, settings.asterisk_spool_dir)
            call = await place_call(
                settings, did=to, caller=caller, behaviour=parse_behaviour(behaviour), say=spoken
            )
            typer.echo(f"Calling {to} from {caller} (channel {call.channel_id}) ...")
            row = await wait_for_call_log(database.sessionmaker, call, timeout=timeout)
            return await describe(database.sessionmaker, row) if row else None
        finally:
            await database.engine.dispose()

    try:
        result = asyncio.run(run())
    except SimulationError as exc:
        _fail(str(exc))
    if result is None:
        _fail(
            "no call log appeared: is the engine running (`switchboard serve`)? Without it "
            "the dialplan fallback handled the call; the engine reconciles it when it starts."
        )
    typer.echo(json.dumps(result, indent=2))
