"""The provider's callback parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from switchboard.callflow.voicedoc.params import (
    call_params,
    dial_action_params,
    recording_callback_params,
    status_callback_params,
)

CALL = call_params(
    call_sid="CA" + "1" * 32,
    account_sid="AC" + "2" * 32,
    from_number="+15551230000",
    to_number="+15559870000",
    call_status="in-progress",
    direction="outbound-api",
)


def test_status_callback_completed() -> None:
    when = datetime(2010, 8, 16, 5, 45, 1, tzinfo=timezone(timedelta(hours=2)))
    params = status_callback_params(CALL, call_status="completed", timestamp=when, call_duration=42)
    assert params["CallStatus"] == "completed"
    assert params["CallDuration"] == "42"
    assert params["Timestamp"] == "Mon, 16 Aug 2010 03:45:01 +0000"
    assert params["CallbackSource"] == "call-progress-events"
    assert params["CallSid"] == CALL["CallSid"]
    assert params["Direction"] == "outbound-api"
    assert "SequenceNumber" not in params  # the outbox numbers them


def test_status_callback_without_duration() -> None:
    params = status_callback_params(CALL, call_status="ringing", timestamp=datetime.now(UTC))
    assert "CallDuration" not in params


def test_recording_callback() -> None:
    params = recording_callback_params(
        account_sid=CALL["AccountSid"],
        call_sid=CALL["CallSid"],
        recording_sid="RE" + "3" * 32,
        recording_url="https://pbx.example.com/recordings/RE333",
        recording_status="completed",
        recording_duration=17,
        recording_channels=2,
        recording_source="DialVerb",
        recording_start_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert params == {
        "AccountSid": CALL["AccountSid"],
        "CallSid": CALL["CallSid"],
        "RecordingSid": "RE" + "3" * 32,
        "RecordingUrl": "https://pbx.example.com/recordings/RE333",
        "RecordingStatus": "completed",
        "RecordingDuration": "17",
        "RecordingChannels": "2",
        "RecordingSource": "DialVerb",
        "RecordingStartTime": "Fri, 02 Jan 2026 03:04:05 +0000",
    }


def test_dial_action() -> None:
    params = dial_action_params(
        CALL, dial_call_status="answered", dial_call_sid="CA" + "4" * 32, dial_call_duration=30
    )
    assert params["DialCallStatus"] == "answered"
    assert params["DialCallSid"] == "CA" + "4" * 32
    assert params["DialCallDuration"] == "30"
    assert "RecordingUrl" not in params
    no_answer = dial_action_params(CALL, dial_call_status="no-answer")
    assert "DialCallSid" not in no_answer and no_answer["DialCallStatus"] == "no-answer"
