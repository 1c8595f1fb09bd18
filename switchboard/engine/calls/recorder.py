"""Recording on ARI and AMI: the ``Record`` verb and recorded conversations.

Before anything records, the tenant's plan is asked: when its recording
storage is full nothing records, the call goes on, and the call log's
``recording_error`` says why.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Protocol

from switchboard import ids
from switchboard.callflow.status import CallEvent, next_status
from switchboard.callflow.verbs import Record
from switchboard.engine.ari.events import (
    AriEvent,
    ChannelDtmfReceived,
    RecordingFailed,
    RecordingFinished,
)
from switchboard.engine.calllog import CallLogWriter
from switchboard.engine.calls.call import Call, CallerGone
from switchboard.engine.calls.channel_ops import CallChannel
from switchboard.engine.calls.edge import CallEdge
from switchboard.engine.recordings import (
    ASTERISK_SPOOL,
    DUAL_SUFFIX,
    RecordingStore,
    StoredFile,
)
from switchboard.models import RecordingSource, Voicemail

log = logging.getLogger(__name__)


class Ami(Protocol):
    """The AMI operations recording uses."""

    async def mixmonitor(self, channel: str, file: str, options: str = "") -> None:
        """Start MixMonitor on ``channel`` into ``file``."""

    async def stop_mixmonitor(self, channel: str, mixmonitor_id: str | None = None) -> None:
        """Stop MixMonitor on ``channel``."""


@dataclass(frozen=True, slots=True)
class KeptRecording:
    """A conversation recording that was stored."""

    sid: str
    duration: float
    channels: int


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What a ``Record`` verb left: the recording (if kept) and how it ended."""

    recording_sid: str | None
    duration: float
    digits: str
    caller_gone: bool = False
    refused: str | None = None


def terminate_on(keys: str) -> str:
    """ARI's ``terminateOn`` for a provider ``finishOnKey`` set."""
    if not keys:
        return "none"
    return keys if len(keys) == 1 else "any"


class Recorder:
    """Records callers and conversations and keeps the files."""

    def __init__(
        self,
        *,
        channel: CallChannel,
        ami: Ami,
        edge: CallEdge,
        writer: CallLogWriter,
        recordings: RecordingStore,
    ) -> None:
        self._ch = channel
        self._ami = ami
        self._edge = edge
        self._writer = writer
        self._recordings = recordings
        # MixMonitor file (as Asterisk sees it) of each recording in progress.
        self._mixmonitor_files: dict[str, str] = {}

    async def refusal(self, call: Call) -> str | None:
        """Why ``call`` may not record now (its tenant's storage is full), noted in its log."""
        tenant = call.route.tenant_id if call.route else None
        try:
            reason = await self._recordings.refusal(tenant)
        except Exception:  # noqa: BLE001 - an unreadable plan must not stop recording
            log.exception("could not read the recording storage limit")
            return None
        if reason is not None:
            log.warning("recording refused", extra={"reason": reason})
            self._writer.update_call(call.call_sid, recording_error=reason)
        return reason

    async def start_mixmonitor(self, call: Call, *, dual: bool) -> str | None:
        """Record both sides (caller left, callee right when ``dual``); the recording SID.

        None when nothing records: the plan's storage is full, or Asterisk refused.
        """
        if await self.refusal(call) is not None:
            return None
        sid = ids.recording_sid()
        # D (one side per channel) only writes a usable file as raw audio.
        path = f"{ASTERISK_SPOOL}/switchboard/rec/{sid}{DUAL_SUFFIX if dual else '.wav'}"
        try:
            await self._ami.mixmonitor(call.channel_name, path, "D" if dual else "")
        except Exception as exc:  # noqa: BLE001 - the call goes on unrecorded
            log.error("recording did not start", extra={"error": str(exc)})
            return None
        self._mixmonitor_files[sid] = path
        return sid

    async def finish_mixmonitor(self, call: Call, sid: str, *, source: str) -> KeptRecording | None:
        """Stop the conversation recording and keep its file."""
        if not call.caller_gone:
            with contextlib.suppress(Exception):
                await self._ami.stop_mixmonitor(call.channel_name)
        path = self._mixmonitor_files.pop(sid, f"{ASTERISK_SPOOL}/switchboard/rec/{sid}.wav")
        host = self._recordings.host_path(path)
        if host is None or not await self._recordings.wait_for_file(host):
            log.error("recording file missing", extra={"recording_sid": sid})
            return None
        tenant = call.route.tenant_id if call.route else None
        stored = await self._recordings.store(host, tenant_id=tenant, name=sid)
        await self._recordings.save(
            stored, recording_sid=sid, tenant_id=tenant, call_sid=call.call_sid, source=source
        )
        self._writer.update_call(call.call_sid, has_recording=True)
        return KeptRecording(sid, stored.duration, stored.channels)

    async def record(self, call: Call, verb: Record) -> RecordResult:
        """Record the caller (a voicemail when ``verb.voicemail``).

        A hangup ends the recording like a key does (``digits`` is then
        ``hangup`` and ``caller_gone`` is set): the file is kept either way.
        When the plan's storage is full nothing records (``refused`` says
        why) and the flow goes on with the next verb.
        """
        await self._ch.answer(call)
        refused = await self.refusal(call)
        if refused is not None:
            return RecordResult(None, 0.0, "", refused=refused)
        sid = ids.recording_sid()
        self._ch.registry.attach(sid, call)
        digits = ""

        def finished(event: AriEvent) -> bool:
            nonlocal digits
            if isinstance(event, ChannelDtmfReceived):
                digits = digits or event.digit
                return False
            return (
                isinstance(event, RecordingFinished | RecordingFailed)
                and event.recording.name == sid
            )

        gone = False
        try:
            await call.caller.record(
                sid,
                max_duration=verb.max_length,
                max_silence=verb.timeout,
                beep=verb.play_beep,
                terminate_on=terminate_on(verb.finish_on_key),
            )
            await self._edge.recording_started(call)
            await self._ch.wait_for(call, finished, timeout=verb.max_length + 30)
        except CallerGone:
            gone = True
            digits = "hangup"
        finally:
            self._ch.registry.detach(sid)
        stored = await self._keep(call, sid, verb)
        if stored is None:
            return RecordResult(None, 0.0, digits, gone)
        return RecordResult(sid, stored.duration, digits, gone)

    async def _keep(self, call: Call, sid: str, verb: Record) -> StoredFile | None:
        host = self._recordings.host_path(f"{ASTERISK_SPOOL}/recording/{sid}.wav")
        if host is None or not await self._recordings.wait_for_file(host, timeout=3):
            log.info("nothing was recorded", extra={"recording_sid": sid})
            return None
        tenant = call.route.tenant_id if call.route else None
        stored = await self._recordings.store(
            host, tenant_id=tenant, name=sid, trim=verb.trim == "trim-silence"
        )
        if stored.duration < 0.5:
            log.info("recording too short to keep", extra={"seconds": stored.duration})
            return None
        voicemail = None
        if verb.voicemail:
            voicemail = Voicemail(
                tenant_id=tenant,
                number_id=call.route.number_id if call.route else None,
                call_sid=call.call_sid,
                from_number=call.from_number,
                to_number=call.to_number,
            )
        await self._recordings.save(
            stored,
            recording_sid=sid,
            tenant_id=tenant,
            call_sid=call.call_sid,
            source=RecordingSource.VOICEMAIL if verb.voicemail else RecordingSource.RECORD_VERB,
            voicemail=voicemail,
            transcribe_callback=verb.transcribe_callback,
        )
        if verb.voicemail:
            call.status = next_status(call.status, CallEvent.VOICEMAIL_LEFT)
            self._writer.update_call(
                call.call_sid, event=CallEvent.VOICEMAIL_LEFT, has_voicemail=True
            )
        return stored
