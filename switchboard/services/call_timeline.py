"""One call told as a timeline: its legs, recordings, voicemail, transcripts and webhooks.

Everything is read from the one call-log row and the rows keyed by its call
SID, scoped to the tenant. The console's call page shows it; each event
carries the time it happened so the parts interleave in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import CallLeg, CallLog, Recording, Transcript, Voicemail, WebhookDelivery
from switchboard.services.call_logs import get_call_log
from switchboard.services.phone import friendly_format, is_e164

# Legs end with the provider's DialCallStatus values (the engine) or Asterisk's
# DIALSTATUS (calls the dialplan fallback carried, reconciled from CDRs).
_DIAL_STATUS_TEXT = {
    "no-answer": ("did not answer", "warn"), "NOANSWER": ("did not answer", "warn"),
    "busy": ("was busy", "bad"), "BUSY": ("was busy", "bad"),
    "failed": ("could not be reached", "bad"), "CHANUNAVAIL": ("was unavailable", "bad"),
    "CONGESTION": ("could not be reached", "bad"),
    "canceled": ("stopped ringing (answered elsewhere, or the caller hung up)", "muted"),
    "CANCEL": ("stopped ringing (answered elsewhere, or the caller hung up)", "muted"),
}


def _who(value: str) -> str:
    if value.startswith("endpoint:"):
        return value.removeprefix("endpoint:")
    return friendly_format(value) if is_e164(value) else value


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """Something that happened to a call."""

    at: datetime
    kind: str
    text: str
    tone: str = "muted"


@dataclass
class CallStory:
    """A call with every part the console shows."""

    call: CallLog
    legs: list[CallLeg]
    recordings: list[Recording]
    voicemail: Voicemail | None
    transcripts: list[Transcript]
    deliveries: list[WebhookDelivery]
    events: list[TimelineEvent] = field(default_factory=list)

    def transcript_of(self, recording_id: str) -> Transcript | None:
        """The current transcript of one of the call's recordings."""
        return next((t for t in self.transcripts if t.recording_id == recording_id), None)


def _leg_events(leg: CallLeg) -> list[TimelineEvent]:
    if leg.role == "caller":
        return []
    target = _who(leg.target) if leg.target else "a phone"
    events = [TimelineEvent(leg.started_at, "dial", f"Ringing {target}", "info")]
    if leg.answered_at is not None:
        events.append(TimelineEvent(leg.answered_at, "answer", f"{target} answered", "ok"))
    if leg.ended_at is not None:
        status = leg.dial_status or ""
        if leg.answered_at is not None:
            text, tone = f"{target} hung up", "muted"
        else:
            what, tone = _DIAL_STATUS_TEXT.get(status, (status or "stopped ringing", "warn"))
            text = f"{target} {what}"
        events.append(TimelineEvent(leg.ended_at, "leg-end", text, tone))
    return events


def _timeline(story: CallStory) -> list[TimelineEvent]:
    call = story.call
    events = [TimelineEvent(call.started_at, "start",
                            f"Call from {_who(call.from_number) or 'unknown'} to "
                            f"{_who(call.to_number)}",
                            "info")]
    for leg in story.legs:
        events.extend(_leg_events(leg))
    for rec in story.recordings:
        what = "Voicemail recorded" if rec.source.lower() == "voicemail" else "Call recorded"
        channels = " (caller and callee on separate channels)" if rec.channels == 2 else ""
        events.append(TimelineEvent(rec.created_at, "recording",
                                    f"{what}: {rec.duration:.1f} s{channels}", "ok"))
    for transcript in story.transcripts:
        events.append(TimelineEvent(transcript.created_at, "transcript",
                                    f"Transcribed ({transcript.model})", "ok"))
    for delivery in story.deliveries:
        state = {"delivered": "ok", "failed": "bad"}.get(delivery.status, "warn")
        events.append(TimelineEvent(delivery.created_at, "webhook",
                                    f"Webhook {delivery.kind} → {delivery.url}: {delivery.status}",
                                    state))
    for note in call.notes:
        at = datetime.fromisoformat(str(note.get("created_at")))
        events.append(TimelineEvent(at, "note", f"Note: {note.get('text', '')}"))
    if call.ended_at is not None:
        cause = f" ({call.hangup_cause_text})" if call.hangup_cause_text else ""
        events.append(TimelineEvent(call.ended_at, "end", f"Call ended{cause}", "muted"))
    if call.error:
        events.append(TimelineEvent(call.ended_at or call.started_at, "error", call.error, "bad"))
    return sorted(events, key=lambda e: e.at)


async def call_story(session: AsyncSession, tenant_id: str, call_id: str) -> CallStory:
    """A call of the tenant (by id or call SID) with its parts and timeline.

    Raises:
        NotFound: no such call in this tenant.
    """
    call = await get_call_log(session, tenant_id, call_id)
    sid = call.call_sid

    async def rows(model: Any, *order: Any) -> list[Any]:
        stmt = select(model).where(model.call_sid == sid)
        if hasattr(model, "tenant_id"):
            stmt = stmt.where(model.tenant_id == tenant_id)
        return list((await session.execute(stmt.order_by(*order))).scalars())

    story = CallStory(
        call=call,
        legs=await rows(CallLeg, CallLeg.started_at),
        recordings=await rows(Recording, Recording.created_at),
        voicemail=next(iter(await rows(Voicemail, Voicemail.created_at)), None),
        transcripts=[t for t in await rows(Transcript, Transcript.created_at) if t.is_current],
        deliveries=await rows(WebhookDelivery, WebhookDelivery.sequence),
    )
    story.events = _timeline(story)
    return story


async def story_by_external_id(
    session: AsyncSession, tenant_id: str, external_id: str
) -> CallStory | None:
    """The story of the tenant's call whose external id (the caller channel) is given."""
    sid = await session.scalar(select(CallLog.call_sid).where(
        CallLog.tenant_id == tenant_id, CallLog.external_id == external_id))
    return await call_story(session, tenant_id, sid) if sid else None
