"""The provider's webhook form parameters, built from what the engine knows.

Pure functions: a voice URL request (:func:`call_params`), a status callback,
a recording status callback and a ``Dial action`` request each carry the
fields an application written for the provider reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime

API_VERSION = "2010-04-01"
DIRECTIONS = frozenset({"inbound", "outbound-api", "outbound-dial"})
_LOCATION_FIELDS = ("City", "State", "Zip", "Country")


def call_params(
    *,
    call_sid: str,
    account_sid: str,
    from_number: str,
    to_number: str,
    call_status: str,
    direction: str,
    forwarded_from: str | None = None,
    parent_call_sid: str | None = None,
    caller_name: str | None = None,
    from_location: Mapping[str, str] | None = None,
    to_location: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The provider's form parameters describing a call to a voice URL.

    Args:
        call_sid: ``CallSid`` (``CA`` + 32 hex).
        account_sid: The tenant's ``AccountSid``.
        from_number: The caller, sent as ``From`` and ``Caller``.
        to_number: The called number, sent as ``To`` and ``Called``.
        call_status: ``CallStatus`` (``ringing``, ``in-progress``, ...).
        direction: ``inbound``, ``outbound-api`` or ``outbound-dial``.
        forwarded_from: ``ForwardedFrom`` when the trunk told us (Diversion).
        parent_call_sid: ``ParentCallSid`` for a dialled leg.
        caller_name: ``CallerName`` when known.
        from_location: ``City``/``State``/``Zip``/``Country`` of the caller.
        to_location: The same for the called number.

    Returns:
        The parameters; the location ones are present and empty when unknown.

    Raises:
        ValueError: ``direction`` is not one of the provider's values.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {sorted(DIRECTIONS)}, not {direction!r}")
    params = {
        "CallSid": call_sid,
        "AccountSid": account_sid,
        "From": from_number,
        "To": to_number,
        "Caller": from_number,
        "Called": to_number,
        "CallStatus": call_status,
        "Direction": direction,
        "ApiVersion": API_VERSION,
    }
    for prefix, location in (("From", from_location), ("Caller", from_location)):
        for name in _LOCATION_FIELDS:
            params[prefix + name] = (location or {}).get(name, "")
    for prefix in ("To", "Called"):
        for name in _LOCATION_FIELDS:
            params[prefix + name] = (to_location or {}).get(name, "")
    if forwarded_from:
        params["ForwardedFrom"] = forwarded_from
    if parent_call_sid:
        params["ParentCallSid"] = parent_call_sid
    if caller_name:
        params["CallerName"] = caller_name
    return params


def status_callback_params(
    call: Mapping[str, str],
    *,
    call_status: str,
    timestamp: datetime,
    call_duration: int | None = None,
) -> dict[str, str]:
    """A status callback's form parameters (``initiated`` ... ``completed``).

    ``SequenceNumber`` is not set here: :func:`switchboard.outbox.enqueue`
    numbers a call's status callbacks in the order they are enqueued.

    Args:
        call: The call's parameters (:func:`call_params`).
        call_status: ``queued``, ``initiated``, ``ringing``, ``in-progress``,
            ``completed``, ``busy``, ``no-answer``, ``failed`` or ``canceled``.
        timestamp: When the event happened (aware datetime).
        call_duration: Seconds from answer to hang-up, on ``completed``.

    Returns:
        The parameters, with ``Timestamp`` in RFC 2822 form as the provider sends it.
    """
    params = {
        **call,
        "CallStatus": call_status,
        "Timestamp": format_datetime(timestamp.astimezone(UTC)),
        "CallbackSource": "call-progress-events",
    }
    if call_duration is not None:
        params["CallDuration"] = str(call_duration)
    return params


def recording_callback_params(
    *,
    account_sid: str,
    call_sid: str,
    recording_sid: str,
    recording_url: str,
    recording_status: str,
    recording_duration: int,
    recording_channels: int,
    recording_source: str,
    recording_start_time: datetime | None = None,
) -> dict[str, str]:
    """A ``recordingStatusCallback``'s form parameters.

    Args:
        account_sid: The tenant's account SID.
        call_sid: The recorded call.
        recording_sid: ``RE`` + 32 hex.
        recording_url: Where the recording can be fetched (without extension,
            as the provider gives it).
        recording_status: ``in-progress``, ``completed``, ``absent`` or ``failed``.
        recording_duration: Whole seconds.
        recording_channels: 1 or 2.
        recording_source: ``RecordVerb``, ``DialVerb``, ``OutboundAPI``...
        recording_start_time: When recording began.

    Returns:
        The parameters.
    """
    params = {
        "AccountSid": account_sid,
        "CallSid": call_sid,
        "RecordingSid": recording_sid,
        "RecordingUrl": recording_url,
        "RecordingStatus": recording_status,
        "RecordingDuration": str(recording_duration),
        "RecordingChannels": str(recording_channels),
        "RecordingSource": recording_source,
    }
    if recording_start_time is not None:
        params["RecordingStartTime"] = format_datetime(recording_start_time.astimezone(UTC))
    return params


def dial_action_params(
    call: Mapping[str, str],
    *,
    dial_call_status: str,
    dial_call_sid: str | None = None,
    dial_call_duration: int | None = None,
    recording_url: str | None = None,
) -> dict[str, str]:
    """The parameters posted to a ``Dial action`` URL when the dial ends.

    Args:
        call: The parent call's parameters (:func:`call_params`).
        dial_call_status: ``completed``, ``answered``, ``busy``, ``no-answer``,
            ``failed`` or ``canceled``.
        dial_call_sid: The answered leg's call SID.
        dial_call_duration: Seconds the legs were bridged.
        recording_url: The dial's recording, when ``record`` was set.

    Returns:
        The parameters.
    """
    params = {**call, "DialCallStatus": dial_call_status}
    if dial_call_sid:
        params["DialCallSid"] = dial_call_sid
    if dial_call_duration is not None:
        params["DialCallDuration"] = str(dial_call_duration)
    if recording_url:
        params["RecordingUrl"] = recording_url
    return params
