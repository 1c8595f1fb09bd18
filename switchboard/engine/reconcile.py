"""Calls the engine missed, recovered from Asterisk's own CDRs.

While the engine is away the dialplan fallback handles calls and marks their
CDRs (``userfield`` = ``fallback:<DID>``, ``fallback-vm:<DID>``,
``fallback-unknown:<DID>``). This reads ``Master.csv`` from where it left off
and writes one call log per missed call (keyed by linkedid, so running twice
writes nothing twice), with its voicemail and recording files.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import ids
from switchboard.callflow.routes import NumberRoute, dial_string
from switchboard.callflow.status import CallDirection, CallEvent, CallStatus, replay
from switchboard.engine.recordings import DUAL_SUFFIX, RecordingStore
from switchboard.engine.simulation import simulated_endpoint
from switchboard.models import CallLog, RecordingSource, Voicemail
from switchboard.models.state import get_value, set_value

log = logging.getLogger(__name__)

# cdr_csv column order with loguniqueid, loguserfield and newcdrcolumns on.
COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
    "uniqueid", "userfield", "peeraccount", "linkedid", "sequence",
)  # fmt: skip
_OFFSET_KEY = "cdr_csv_offset"


@dataclass
class MissedCall:
    """The CDR rows of one call the fallback handled, folded together."""

    linkedid: str
    did: str = ""
    caller: str = ""
    uniqueid: str = ""
    start: datetime | None = None
    answer: datetime | None = None
    end: datetime | None = None
    answered_by: str | None = None
    voicemail: bool = False
    unknown: bool = False
    rows: list[dict[str, str]] = field(default_factory=list)


def _time(text: str) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def parse_rows(text: str) -> list[dict[str, str]]:
    """CDR rows of ``text`` as dicts keyed by :data:`COLUMNS`."""
    return [dict(zip(COLUMNS, row, strict=False)) for row in csv.reader(io.StringIO(text)) if row]


def fold_missed_calls(rows: list[dict[str, str]]) -> list[MissedCall]:
    """Group the fallback's CDR rows by linkedid into missed calls."""
    calls: dict[str, MissedCall] = {}
    for row in rows:
        mark, _, did = row.get("userfield", "").partition(":")
        if not mark.startswith("fallback"):
            continue
        linkedid = row.get("linkedid") or row.get("uniqueid", "")
        call = calls.setdefault(linkedid, MissedCall(linkedid=linkedid))
        call.rows.append(row)
        call.did = call.did or did
        call.caller = call.caller or row.get("src", "")
        call.uniqueid = call.uniqueid or row.get("uniqueid", "")
        start, answer, end = _time(row["start"]), _time(row["answer"]), _time(row["end"])
        call.start = min(filter(None, (call.start, start)), default=None)
        call.end = max(filter(None, (call.end, end)), default=None)
        if mark == "fallback-vm":
            call.voicemail = True
        elif mark == "fallback-unknown":
            call.unknown = True
        elif row.get("disposition") == "ANSWERED" and row.get("dstchannel"):
            call.answer = call.answer or answer
            call.answered_by = call.answered_by or row["dstchannel"]
    return list(calls.values())


def answering_target(route: NumberRoute | None, channel: str | None) -> str | None:
    """The rule target behind the channel that answered (as the engine would log it).

    A CDR names the answering channel (``PJSIP/alice-0000002a``,
    ``Local/1@sb-sim-00000012;1``); without its unique suffix it is the dial
    string of one of the number's targets. A channel that matches none (a
    trunk call, whose channel does not name the number) is kept as it is.
    """
    if channel is None or route is None:
        return channel
    base = channel.split(";", 1)[0].rsplit("-", 1)[0]
    for step in route.steps:
        for target in step.targets:
            if base in (dial_string(target, route.trunk), simulated_endpoint(target)):
                return target.value
    return channel


class CdrReconciler:
    """Reads new CDR rows and writes call logs for the calls the engine missed."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        cdr_csv: Path | None,
        spool_dir: Path | None,
        recordings: RecordingStore,
        lookup: Callable[[str], NumberRoute | None],
    ) -> None:
        self._sessionmaker = sessionmaker
        self._cdr_csv = cdr_csv
        self._spool_dir = spool_dir
        self._recordings = recordings
        self._lookup = lookup
        self._lock = asyncio.Lock()

    async def run_once(self) -> int:
        """Process CDR rows written since last time; returns call logs written."""
        if self._cdr_csv is None:
            return 0
        async with self._lock:
            async with self._sessionmaker() as session:
                offset = int(await get_value(session, _OFFSET_KEY, "0") or 0)
            text, new_offset = await asyncio.to_thread(_read_from, self._cdr_csv, offset)
            written = 0
            for missed in fold_missed_calls(parse_rows(text)):
                if await self._write(missed):
                    written += 1
            if new_offset != offset:
                async with self._sessionmaker() as session, session.begin():
                    await set_value(session, _OFFSET_KEY, str(new_offset))
        if written:
            log.info("reconciled calls from CDRs", extra={"calls": written})
        return written

    async def _write(self, missed: MissedCall) -> bool:
        async with self._sessionmaker() as session:
            known = await session.scalar(
                select(CallLog.id).where(CallLog.external_id == missed.linkedid)
            )
        if known is not None or missed.start is None:
            return False
        route = self._lookup(missed.did)
        tenant = route.tenant_id if route else None
        call_sid = ids.call_sid()
        end = missed.end or missed.start
        recording_file = self._spool_file(
            f"switchboard/rec/fallback-{missed.uniqueid}{DUAL_SUFFIX}"
        )
        voicemail_file = self._spool_file(f"switchboard/vm/{missed.uniqueid}.wav")
        has_voicemail = bool(missed.voicemail and voicemail_file and voicemail_file.exists())
        events = [CallEvent.STAFF_ANSWERED] if missed.answered_by else []
        events += [CallEvent.VOICEMAIL_LEFT] if has_voicemail else []
        status = replay([*events, CallEvent.ENDED])
        async with self._sessionmaker() as session, session.begin():
            session.add(
                CallLog(
                    call_sid=call_sid,
                    tenant_id=tenant,
                    number_id=route.number_id if route else None,
                    direction=CallDirection.INBOUND,
                    status=status,
                    call_status=CallStatus.COMPLETED
                    if missed.answered_by or has_voicemail
                    else CallStatus.NO_ANSWER,
                    from_number=missed.caller,
                    to_number=missed.did,
                    external_id=missed.linkedid,
                    started_at=missed.start,
                    answered_at=missed.answer,
                    ended_at=end,
                    duration=int((end - missed.answer).total_seconds()) if missed.answer else 0,
                    answered_by=answering_target(route, missed.answered_by),
                    handled_by="fallback",
                    has_voicemail=has_voicemail,
                    error="unknown number" if missed.unknown or route is None else None,
                )
            )
        if recording_file is not None and recording_file.exists():
            await self._keep(recording_file, call_sid, tenant, None)
            async with self._sessionmaker() as session, session.begin():
                row = await session.scalar(select(CallLog).where(CallLog.call_sid == call_sid))
                if row is not None:
                    row.has_recording = True
        if has_voicemail and voicemail_file is not None:
            voicemail = Voicemail(
                tenant_id=tenant,
                number_id=route.number_id if route else None,
                call_sid=call_sid,
                from_number=missed.caller,
                to_number=missed.did,
            )
            await self._keep(voicemail_file, call_sid, tenant, voicemail)
        log.info("missed call reconciled", extra={"call_sid": call_sid, "status": str(status)})
        return True

    async def _keep(
        self, path: Path, call_sid: str, tenant: str | None, voicemail: Voicemail | None
    ) -> None:
        sid = ids.recording_sid()
        # The fallback's MixMonitor runs on the callee's channel (Dial's U()).
        stored = await self._recordings.store(
            path, tenant_id=tenant, name=sid, swap_channels=voicemail is None
        )
        await self._recordings.save(
            stored,
            recording_sid=sid,
            tenant_id=tenant,
            call_sid=call_sid,
            source=RecordingSource.VOICEMAIL if voicemail else RecordingSource.DIAL_VERB,
            voicemail=voicemail,
        )

    def _spool_file(self, relative: str) -> Path | None:
        return self._spool_dir / relative if self._spool_dir else None


def _read_from(path: Path, offset: int) -> tuple[str, int]:
    """Complete lines of ``path`` after ``offset``, and the offset after them."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "", 0
    if size < offset:  # rotated or truncated: start over (rows are idempotent)
        offset = 0
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    end = data.rfind(b"\n") + 1
    return data[:end].decode("utf-8", "replace"), offset + end
