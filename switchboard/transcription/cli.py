"""``switchboard worker`` and ``switchboard transcripts``: the worker's composition root.

Builds the engine, sessions, metrics and worker of a transcription process,
and queues re-transcriptions from the shell.
"""

from __future__ import annotations

import asyncio
import functools
import signal
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from prometheus_client import start_http_server

from switchboard import logs
from switchboard.config import Settings
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.services import transcripts as transcript_service
from switchboard.services.transcription_callbacks import announce_failure, announce_transcript
from switchboard.transcription.metrics import WorkerMetrics
from switchboard.transcription.process_env import restart_for_whisper

transcripts_app = typer.Typer(help="Transcripts: re-transcribe with another model.")


async def _run_worker(
    settings: Settings,
    *,
    once: bool,
    options: Any,
    worker_id: str | None,
    metrics_port: int | None,
) -> int:
    from switchboard.transcription.worker import TranscriptionWorker

    engine = make_engine(settings.resolved_database_url)
    metrics = WorkerMetrics()
    if metrics_port is not None:
        start_http_server(metrics_port, addr="127.0.0.1", registry=metrics.registry)
    worker = TranscriptionWorker(
        sessionmaker=make_sessionmaker(engine),
        settings=settings,
        options=options,
        metrics=metrics,
        worker_id=worker_id,
        on_transcribed=functools.partial(announce_transcript, base_url=settings.base_url),
        on_failed=functools.partial(announce_failure, base_url=settings.base_url),
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    try:
        if once:
            return await worker.run_once()
        await worker.run()
        return 0
    finally:
        await engine.dispose()


def worker(
    once: Annotated[bool, typer.Option(help="Run the due jobs, then exit.")] = False,
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Jobs transcribed at once (default: one per CPU, see settings)."),
    ] = None,
    lease_seconds: Annotated[
        float | None, typer.Option(help="Lease of a claimed job (default: settings).")
    ] = None,
    poll_seconds: Annotated[float, typer.Option(help="Idle wait between claims.")] = 1.0,
    worker_id: Annotated[str | None, typer.Option(help="Name in heartbeats and leases.")] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus /metrics on 127.0.0.1:PORT.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO",
) -> None:
    """Transcribe recordings: claim queued jobs until SIGTERM (or once with --once)."""
    settings = Settings()
    if settings.whisper_process_tuning:
        restart_for_whisper()  # before CTranslate2 is imported; returns once they are set

    from switchboard.transcription.worker import WorkerOptions  # loads Whisper: only when used

    logs.configure(log_level)
    options = WorkerOptions.from_settings(
        settings, concurrency=concurrency, lease_seconds=lease_seconds, poll_seconds=poll_seconds
    )
    ran = asyncio.run(
        _run_worker(
            settings, once=once, options=options, worker_id=worker_id, metrics_port=metrics_port
        )
    )
    if once:
        typer.echo(f"{ran} job(s) run")


def _parse_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _retranscribe(
    settings: Settings, model: str, call_sid: str | None, since: str | None, until: str | None
) -> int:
    engine = make_engine(settings.resolved_database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            jobs = await transcript_service.retranscribe(
                session,
                model=model,
                call_sid=call_sid,
                since=_parse_date(since),
                until=_parse_date(until),
            )
        return len(jobs)
    finally:
        await engine.dispose()


@transcripts_app.command("retranscribe")
def retranscribe(
    model: Annotated[str, typer.Option(help="Model name or directory to use.")],
    call_sid: Annotated[str | None, typer.Option(help="Re-transcribe this call.")] = None,
    since: Annotated[str | None, typer.Option(help="From this date/time (ISO, UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this date/time (ISO, UTC).")] = None,
) -> None:
    """Queue a call's recordings, or a date range's, for another model.

    Earlier transcripts are kept with their model name; the worker makes the
    new one current when it is done.
    """
    if call_sid is None and since is None and until is None:
        raise typer.BadParameter("give --call-sid or --since/--until")
    count = asyncio.run(_retranscribe(Settings(), model, call_sid, since, until))
    typer.echo(f"{count} recording(s) queued for {model}")
