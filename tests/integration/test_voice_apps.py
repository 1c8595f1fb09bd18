"""A customer's voice app (TwiML over signed webhooks) driving real calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from sqlalchemy import select, update
from webhook_receiver import Received, Receiver, Reply

from switchboard.engine.service import Engine
from switchboard.fetch_policy import LOOPBACK, FetchPolicy, GuardedClient
from switchboard.models import CallLogStatus, PhoneNumber, Recording, Tenant
from switchboard.models.state import bump_routing_revision
from switchboard.outbox.delivery import OutboxDispatcher
from switchboard.runtime import build_engine
from switchboard.simulate import place_call, wait_for_call_log
from tests.eventually import eventually
from tests.integration.engine_helpers import CALLER, DID, PROMPTS, engine_settings, seed_number

pytestmark = pytest.mark.asterisk

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def app() -> Iterator[Receiver]:
    receiver = Receiver(token=TOKEN)
    receiver.routes["/status"] = Reply(body="")
    receiver.routes["/rec"] = Reply(body="")
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
async def running(clean_asterisk, db_url, db_engine, sessionmaker, tmp_path) -> AsyncIterator[Engine]:
    settings = engine_settings(clean_asterisk, db_url, tmp_path)
    settings = settings.model_copy(update={"outbox_poll_seconds": 0.2}) if hasattr(
        settings, "outbox_poll_seconds") else settings
    async with GuardedClient(FetchPolicy.from_entries(LOOPBACK)) as client:
        outbox = OutboxDispatcher(sessionmaker=sessionmaker, client=client, settings=settings)
        engine = build_engine(settings, sessionmaker, http=client, on_callbacks=outbox.notify)
        await engine.start()
        outbox.start()
        await engine.wait_ready()
        yield engine
        await engine.stop()
        await outbox.stop()


async def _point_number_at(sessionmaker, app: Receiver, path: str) -> None:
    await seed_number(sessionmaker, [])
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Tenant).values(auth_token=TOKEN))
        await session.execute(update(PhoneNumber).values(
            voice_url=app.url(path), status_callback=app.url("/status"),
            status_callback_events="initiated ringing answered completed"))
        await bump_routing_revision(session)


async def _run_call(engine: Engine, sessionmaker, **kwargs):
    await engine.routing.reload()
    call = await place_call(engine.settings, did=DID, caller=CALLER, **kwargs)
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None
    await engine.writer.flush()
    return row


async def test_gather_redirect_dial_and_action_callbacks(running, sessionmaker, app):
    def gathered(req: Received) -> Reply:
        return Reply(body="<Response><Redirect>/next</Redirect></Response>")

    app.routes["/voice"] = Reply(body=(
        '<Response><Gather numDigits="2" timeout="5" action="/gathered">'
        "<Say>Please enter two digits</Say></Gather><Say>Nothing entered</Say></Response>"))
    app.routes["/gathered"] = gathered
    app.routes["/next"] = Reply(body=(
        '<Response><Dial action="/dialed" timeout="10"><Number>+15550001111</Number></Dial>'
        "</Response>"))
    app.routes["/dialed"] = Reply(body="<Response><Hangup/></Response>")
    await _point_number_at(sessionmaker, app, "/voice")

    row = await _run_call(running, sessionmaker, behaviour="answer", dtmf="42", dtmf_delay=1.5)

    assert row.status == CallLogStatus.ANSWERED_BY_STAFF
    assert [r.path for r in app.received if r.path not in ("/status",)] == [
        "/voice", "/gathered", "/next", "/dialed"]
    assert app.requests_to("/gathered")[0].form["Digits"] == "42"
    dialed = app.requests_to("/dialed")[0].form
    assert dialed["DialCallStatus"] == "completed"
    assert dialed["DialCallSid"].startswith("CA") and dialed["DialCallSid"] != row.call_sid
    assert int(dialed["DialCallDuration"]) >= 1
    first = app.requests_to("/voice")[0].form
    assert first["CallSid"] == row.call_sid and first["From"] == CALLER and first["To"] == DID
    assert first["Direction"] == "inbound" and first["AccountSid"].startswith("AC")

    await eventually(lambda: any(r.form.get("CallStatus") == "completed"
                                 for r in app.requests_to("/status")), timeout=15, interval=0.1)
    statuses = app.requests_to("/status")
    assert [r.form["CallStatus"] for r in statuses] == [
        "initiated", "ringing", "in-progress", "completed"]
    assert [int(r.form["SequenceNumber"]) for r in statuses] == [0, 1, 2, 3]
    assert all(r.signature_ok for r in app.received), [r.path for r in app.received
                                                       if not r.signature_ok]


async def test_record_verb_posts_recording_and_status_callback(running, sessionmaker, app, asterisk):
    app.routes["/voice"] = Reply(body=(
        '<Response><Record maxLength="15" timeout="2" action="/recorded" '
        'recordingStatusCallback="/rec"/></Response>'))
    app.routes["/recorded"] = Reply(body="<Response><Hangup/></Response>")
    await _point_number_at(sessionmaker, app, "/voice")

    row = await _run_call(running, sessionmaker, say=f"{PROMPTS}/tt-weasels")

    assert row.status == CallLogStatus.ANSWERED_BY_CALLS_PROVIDER
    recorded = app.requests_to("/recorded")[0].form
    assert recorded["RecordingSid"].startswith("RE")
    assert int(recorded["RecordingDuration"]) >= 2
    await eventually(lambda: app.requests_to("/rec"), timeout=15, interval=0.1)
    callback = app.requests_to("/rec")[0].form
    assert callback["RecordingSid"] == recorded["RecordingSid"]
    assert callback["RecordingStatus"] == "completed"
    async with sessionmaker() as session:
        rec = await session.scalar(select(Recording).where(
            Recording.recording_sid == recorded["RecordingSid"]))
    audio, rate = soundfile.read(running.settings.resolved_storage_root / rec.path)
    assert rate == 8000 and len(audio) / rate >= 2
    assert float(np.sqrt(np.mean(np.square(audio)))) > 0.01  # speech, not silence


async def test_say_and_play_are_heard_by_the_caller(running, sessionmaker, app):
    app.routes["/voice"] = Reply(body=(
        "<Response><Say>Hello, this is a test of the local speech engine.</Say>"
        "<Play>sound:tt-weasels</Play><Hangup/></Response>"))
    await _point_number_at(sessionmaker, app, "/voice")

    await _run_call(running, sessionmaker, listen="heard", hold_seconds=12)

    heard = Path(running.settings.asterisk_spool_dir, "switchboard/sim/heard-heard.wav")
    await eventually(heard.exists, timeout=15, interval=0.1)
    audio, rate = soundfile.read(heard)
    assert len(audio) / rate > 3
    loud = np.abs(audio) > 0.05
    assert loud.mean() > 0.05  # the caller heard speech, not dead air


async def test_broken_voice_url_falls_back_to_voicemail_never_dead_air(running, sessionmaker, app):
    app.routes["/voice"] = Reply(status=500, body="boom")
    await _point_number_at(sessionmaker, app, "/voice")

    row = await _run_call(running, sessionmaker, say=f"{PROMPTS}/tt-weasels")

    assert row.status == CallLogStatus.VOICEMAIL_RECEIVED
    assert "voice-url" in (row.error or "")


async def test_record_transcribe_callback_posts_the_text(running, sessionmaker, app):
    import functools

    from switchboard.services.transcription_callbacks import announce_transcript
    from switchboard.transcription.metrics import WorkerMetrics
    from switchboard.transcription.worker import TranscriptionWorker, WorkerOptions

    app.routes["/voice"] = Reply(body=(
        '<Response><Record maxLength="15" timeout="2" transcribe="true" '
        'transcribeCallback="/transcribed"/></Response>'))
    app.routes["/transcribed"] = Reply(body="")
    await _point_number_at(sessionmaker, app, "/voice")
    row = await _run_call(running, sessionmaker, say=f"{PROMPTS}/tt-weasels")

    worker = TranscriptionWorker(
        sessionmaker=sessionmaker, settings=running.settings,
        options=WorkerOptions(lease_seconds=60, max_attempts=2, poll_seconds=0.1),
        metrics=WorkerMetrics(), worker_id="test-worker",
        on_transcribed=functools.partial(announce_transcript,
                                         base_url=running.settings.base_url),
    )
    assert await worker.run_once() == 1
    await eventually(lambda: app.requests_to("/transcribed"), timeout=30, interval=0.1)
    posted = app.requests_to("/transcribed")[0]
    assert posted.signature_ok
    assert posted.form["CallSid"] == row.call_sid
    assert posted.form["TranscriptionStatus"] == "completed"
    assert "weasels" in posted.form["TranscriptionText"].lower()


async def test_dial_recording_is_reported_with_both_channels(running, sessionmaker, app):
    app.routes["/voice"] = Reply(body=(
        '<Response><Dial timeout="10" record="record-from-answer-dual" '
        'recordingStatusCallback="/rec"><Number>+15550001111</Number></Dial></Response>'))
    await _point_number_at(sessionmaker, app, "/voice")

    row = await _run_call(running, sessionmaker, behaviour="answer", talk_seconds=3)

    assert row.status == CallLogStatus.ANSWERED_BY_STAFF and row.has_recording
    await eventually(lambda: app.requests_to("/rec"), timeout=15, interval=0.1)
    callback = app.requests_to("/rec")[0].form
    assert callback["RecordingSource"] == "DialVerb" and callback["RecordingChannels"] == "2"
    assert callback["CallSid"] == row.call_sid and int(callback["RecordingDuration"]) >= 2
    async with sessionmaker() as session:
        rec = await session.scalar(select(Recording).where(
            Recording.recording_sid == callback["RecordingSid"]))
    audio, rate = soundfile.read(running.settings.resolved_storage_root / rec.path)
    assert audio.ndim == 2 and audio.shape[1] == 2


@pytest.mark.parametrize("dial_attributes, dtmf", [
    ('hangupOnStar="true"', "*"),
    ('timeLimit="3"', None),
])
async def test_dial_ends_on_star_or_time_limit_and_the_call_goes_on(
        running, sessionmaker, app, dial_attributes, dtmf):
    app.routes["/voice"] = Reply(body=(
        f'<Response><Dial timeout="10" action="/after" {dial_attributes}>'
        "<Number>+15550001111</Number></Dial></Response>"))
    app.routes["/after"] = Reply(body="<Response><Hangup/></Response>")
    await _point_number_at(sessionmaker, app, "/voice")

    await _run_call(running, sessionmaker, behaviour="answer", talk_seconds=20, hold_seconds=20,
                    dtmf=dtmf, dtmf_delay=2)

    after = app.requests_to("/after")[0].form
    assert after["DialCallStatus"] == "completed"
    assert int(after["DialCallDuration"]) <= 8  # cut short, not the 20 s the party would talk
