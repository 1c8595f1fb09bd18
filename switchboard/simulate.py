"""Place a real call through Asterisk into a DID, without any phone.

The caller is a ``Local/`` channel into the DID context; the targets the
rules ring are replaced by simulated phones (the ``sb-sim`` context) that
answer, ring out or return busy per plan slot. With a WAV file the caller
speaks it into voicemail once the recording starts. Admins use this to try
their rules; the tests use it to drive real calls.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.config import Settings
from switchboard.models import CallLeg, CallLog, Recording, Voicemail

BEHAVIOURS = ("answer", "noanswer", "busy", "unavailable")
ASTERISK_SPOOL = "/var/spool/asterisk"


class SimulationError(Exception):
    """The simulated call could not be placed or did not finish."""


@dataclass(frozen=True, slots=True)
class SimulatedCall:
    """What the simulator placed: the caller channel id is the call's linkedid."""

    channel_id: str
    did: str
    caller: str


def parse_behaviour(text: str) -> str:
    """Validate a per-slot behaviour list such as ``noanswer,answer``.

    Raises:
        SimulationError: on an unknown behaviour.
    """
    items = [item.strip().replace("-", "").replace("_", "") for item in text.split(",")]
    # '/' on the wire: a comma would split the dialplan's Stasis arguments.
    for item in items:
        if item not in BEHAVIOURS:
            raise SimulationError(f"unknown behaviour {item!r}; use {', '.join(BEHAVIOURS)}")
    return "/".join(items)


def stage_audio(source: Path, spool_dir: Path) -> str:
    """Copy ``source`` where Asterisk can play it (8 kHz mono WAV); its sound path.

    Raises:
        SimulationError: when the file is missing or cannot be converted.
    """
    if not source.is_file():
        raise SimulationError(f"no such audio file: {source}")
    target_dir = spool_dir / "switchboard" / "sim"
    target_dir.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex
    target = target_dir / f"{name}.wav"
    sox = shutil.which("sox")
    if sox:
        done = subprocess.run(  # noqa: S603 - fixed program, our own arguments
            [sox, "-D", str(source), "-r", "8000", "-c", "1", "-b", "16", str(target)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise SimulationError(f"sox could not convert {source}: {done.stderr.decode()[:200]}")
    else:
        shutil.copyfile(source, target)
    target.chmod(0o644)
    return f"{ASTERISK_SPOOL}/switchboard/sim/{name}"


async def place_call(
    settings: Settings,
    *,
    did: str,
    caller: str,
    behaviour: str = "answer",
    say: str | None = None,
    talk_seconds: float = 2.0,
    hold_seconds: float = 5.0,
    ring_seconds: float = 0.3,
    bench_id: str | None = None,
    context: str = "switchboard-did",
    dtmf: str | None = None,
    dtmf_delay: float = 1.0,
    listen: str | None = None,
    client: httpx.AsyncClient | None = None,
) -> SimulatedCall:
    """Originate the simulated caller into ``did`` (returns at once).

    Args:
        settings: where Asterisk's ARI is.
        did: the number called.
        caller: the caller's number.
        behaviour: per plan slot, ``answer``/``noanswer``/``busy``/``unavailable``.
        say: an Asterisk sound path the caller speaks into voicemail.
        talk_seconds: how long an answering target stays on the line.
        hold_seconds: how long the caller stays once answered (without ``say``).
        ring_seconds: how long a target rings before answering.
        bench_id: tags the call's dialplan stamps for benchmarks.
        context: the entry context (the DID context, or a benchmark one).
        dtmf: keys the caller presses once answered (for ``Gather``).
        dtmf_delay: seconds after the answer before pressing them.
        listen: record what the caller hears for ``hold_seconds`` into
            ``<spool>/switchboard/sim/heard-<listen>.wav``.
        client: an HTTP client (with ARI credentials) to reuse; one is opened
            for this call otherwise.

    Raises:
        SimulationError: when Asterisk refuses the call.
    """
    channel_id = f"sim-{uuid.uuid4().hex}"
    variables: dict[str, str] = {
        "__SB_SIMULATE": parse_behaviour(behaviour),
        "__SB_SIM_TALK": str(talk_seconds),
        "__SB_SIM_RING": str(ring_seconds),
        "SB_HOLD": str(hold_seconds),
    }
    if say:
        variables["SB_SAY"] = say
    if listen:
        variables["SB_LISTEN"] = listen
    if dtmf:
        variables["SB_DTMF"] = dtmf
        variables["SB_DTMF_DELAY"] = str(dtmf_delay)
    if bench_id:
        variables["__SB_BENCH_ID"] = bench_id
    body: dict[str, Any] = {"variables": variables}
    params = {
        "endpoint": f"Local/{did}@{context}",
        # 8 kHz signed linear, as the prompts and a narrowband phone's audio are.
        # Without it Asterisk gives the Local pair its best format, slin192, and
        # its 8 -> 192 -> 8 kHz resampling halves the caller's amplitude (-6 dB).
        "formats": "slin",
        "context": "sb-sim-caller",
        "extension": "s",
        "priority": "1",
        "callerId": f'"{caller}" <{caller}>',
        "channelId": channel_id,
        "timeout": "120",
    }
    url = f"http://{settings.asterisk_host}:{settings.ari_port}/ari/channels"
    try:
        if client is not None:
            response = await client.post(url, params=params, json=body, timeout=10)
        else:
            async with httpx.AsyncClient(auth=(settings.ari_user, settings.ari_password)) as own:
                response = await own.post(url, params=params, json=body, timeout=10)
    except httpx.HTTPError as exc:
        raise SimulationError(f"Asterisk's ARI is not reachable at {url}: {exc}") from exc
    if response.status_code >= 300:
        raise SimulationError(f"Asterisk refused the call: {response.status_code} {response.text}")
    return SimulatedCall(channel_id=channel_id, did=did, caller=caller)


async def wait_for_call_log(
    sessionmaker: async_sessionmaker[AsyncSession],
    call: SimulatedCall,
    *,
    timeout: float = 60.0,
) -> CallLog | None:
    """The finished call log of ``call`` (``None`` if none within ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with sessionmaker() as session:
            row = await session.scalar(
                select(CallLog).where(
                    CallLog.external_id == call.channel_id, CallLog.ended_at.is_not(None)
                )
            )
        if row is not None:
            return row
        await asyncio.sleep(0.2)
    return None


async def describe(sessionmaker: async_sessionmaker[AsyncSession], row: CallLog) -> dict[str, Any]:
    """The call log with its legs, recordings and voicemail, for printing."""
    sid = row.call_sid
    async with sessionmaker() as session:
        legs = (await session.scalars(select(CallLeg).where(CallLeg.call_sid == sid))).all()
        recordings = (
            await session.scalars(select(Recording).where(Recording.call_sid == sid))
        ).all()
        voicemail = await session.scalar(select(Voicemail).where(Voicemail.call_sid == sid))
    return {
        "call_sid": row.call_sid,
        "status": row.status,
        "call_status": row.call_status,
        "from": row.from_number,
        "to": row.to_number,
        "answered_by": row.answered_by,
        "started_at": row.started_at.isoformat(),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "duration": row.duration,
        "handled_by": row.handled_by,
        "error": row.error,
        "legs": [
            {"target": leg.target, "dial_status": leg.dial_status, "leg_sid": leg.leg_sid}
            for leg in legs
        ],
        "recordings": [
            {
                "sid": r.recording_sid,
                "path": r.path,
                "seconds": round(r.duration, 2),
                "channels": r.channels,
                "source": r.source,
            }
            for r in recordings
        ],
        "voicemail": {"id": voicemail.id, "seconds": round(voicemail.duration, 2)}
        if voicemail
        else None,
    }
