"""GDPR export and erase of a caller after a real call: voicemail audio, transcript, rows.

A caller reaches a real Asterisk, nobody answers, the caller speaks a real
recorded prompt into voicemail, the transcription worker transcribes it with
the local model. The export is one zip holding that very recording file and
its transcript; the erase leaves no file, no row holding the number and no
search hit.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from switchboard.asterisk import AsteriskInstance
from switchboard.engine.service import Engine
from switchboard.models import CallLogStatus, Recording
from switchboard.services import api_keys
from switchboard.services.roles import Role
from switchboard.simulate import place_call, wait_for_call_log
from switchboard.transcription.metrics import WorkerMetrics
from switchboard.transcription.wer import normalize
from switchboard.transcription.worker import TranscriptionWorker, WorkerOptions
from tests.integration.engine_helpers import CALLER, DID, PROMPTS, seed_number
from tests.integration.messaging_stack import running_stack

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

TABLES = ("call_logs", "call_legs", "recordings", "voicemails", "transcripts", "messages",
          "sms_consents", "dnc_entries", "contacts", "webhook_deliveries", "audit_log")


@pytest.fixture
async def stack(clean_asterisk: AsteriskInstance, db_url, db_engine, sessionmaker,
                tmp_path: Path) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    async with running_stack(clean_asterisk, db_url, sessionmaker, tmp_path) as running:
        yield running


async def _rows_holding(sessionmaker, number: str) -> dict[str, int]:
    found = {}
    async with sessionmaker() as s:
        dialect = s.bind.dialect.name
        for table in TABLES:
            if dialect == "postgresql":
                where = "CAST(t AS TEXT) LIKE :n"
            else:
                columns = [r[1] for r in await s.execute(text(f"PRAGMA table_info({table})"))]
                where = " OR ".join(f"CAST({c} AS TEXT) LIKE :n" for c in columns)
            count = await s.scalar(text(f"SELECT count(*) FROM {table} AS t WHERE {where}"),
                                   {"n": f"%{number[1:]}%"})
            if count:
                found[table] = count
    return found


async def test_export_holds_the_call_recording_and_transcript_and_erase_leaves_nothing(
    stack, sessionmaker
) -> None:
    engine, client = stack
    tenant_id, _ = await seed_number(sessionmaker, [{"targets": ["+15550001111"],
                                                     "ring_timeout": 2}])
    await engine.routing.reload()
    await engine.astdb.sync(engine.routing.routes)
    call = await place_call(engine.settings, did=DID, caller=CALLER, behaviour="noanswer",
                            say=f"{PROMPTS}/tt-weasels")
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None and row.status == CallLogStatus.VOICEMAIL_RECEIVED
    await engine.writer.flush()
    worker = TranscriptionWorker(
        sessionmaker=sessionmaker, settings=engine.settings,
        options=WorkerOptions(lease_seconds=60, max_attempts=2, poll_seconds=0.1),
        metrics=WorkerMetrics(), worker_id="gdpr-test",
    )
    assert await worker.run_once() == 1
    async with sessionmaker() as s:
        recording = (await s.scalars(select(Recording).where(
            Recording.tenant_id == tenant_id))).one()
    audio = engine.settings.resolved_storage_root / recording.path
    assert audio.is_file()
    async with sessionmaker() as s, s.begin():
        key = (await api_keys.create_key(s, tenant_id, name="dpo", role=Role.ADMIN)).key
    headers = {"X-API-Key": key}

    r = await client.post("/api/v1/compliance/gdpr/export", headers=headers,
                          json={"phone_number": CALLER})
    assert r.status_code == 200, r.text
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert archive.read(f"recordings/{recording.recording_sid}.wav") == audio.read_bytes()
    transcript = archive.read(f"transcripts/{recording.recording_sid}.txt").decode()
    assert "weasels" in normalize(transcript)
    search = (await client.get("/api/v1/transcripts/search?q=weasels", headers=headers)).json()
    assert search["total"] == 1

    r = await client.post("/api/v1/compliance/gdpr/delete", headers=headers,
                          json={"phone_number": CALLER})
    assert r.status_code == 200, r.text
    assert r.json()["erased"]["recordings"] == 1 and r.json()["erased"]["transcripts"] == 1
    assert not audio.exists()
    assert list(engine.settings.resolved_storage_root.rglob("*.wav")) == []
    search = (await client.get("/api/v1/transcripts/search?q=weasels", headers=headers)).json()
    assert search["total"] == 0
    assert await _rows_holding(sessionmaker, CALLER) == {}
    audit = (await client.get("/api/v1/audit?action=gdpr.*", headers=headers)).json()["items"]
    assert [a["action"] for a in audit] == ["gdpr.erase", "gdpr.export"]
