"""Status callbacks of a call, queued into the durable outbox with its state."""

from __future__ import annotations

from datetime import datetime

from switchboard.engine.calllog import CallLogWriter
from switchboard.engine.calls.call import Call
from switchboard.engine.calls.voice_app import VoiceApp

# Our call statuses -> the status callback event that announces them.
_EVENTS = {
    "initiated": "initiated",
    "ringing": "ringing",
    "in-progress": "answered",
}


ALL_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})


def status_callback(
    writer: CallLogWriter,
    voice_app: VoiceApp,
    call: Call,
    call_status: str,
    *,
    now: datetime,
    duration: int | None = None,
) -> None:
    """Queue the number's status callback for ``call_status`` if it asked for it.

    ``completed`` (and the other final statuses) go out when ``completed``
    is among the number's events, as at the provider.
    """
    route = call.route
    if route is None:
        return
    url = call.status_callback_url or route.status_callback
    events = ALL_EVENTS if call.status_callback_url else route.status_callback_events
    if not url:
        return
    event = _EVENTS.get(call_status, "completed")
    if event not in events:
        return
    params = voice_app.params(call, call_status)
    params["CallbackSource"] = "call-progress-events"
    params["Timestamp"] = now.strftime("%a, %d %b %Y %H:%M:%S +0000")
    if duration is not None:
        params["CallDuration"] = str(duration)
    writer.enqueue_callback(
        tenant_id=route.tenant_id,
        call_sid=call.call_sid,
        url=url,
        method="POST",
        params=params,
        kind="status",
    )
