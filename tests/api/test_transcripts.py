"""``/api/v1/transcripts``: by call, search, list; tenancy and auth."""

from __future__ import annotations

from datetime import timedelta

from switchboard import ids
from switchboard.models import CallLog, Recording, Transcript, utcnow


async def _call_with_transcript(sessionmaker, tenant_id: str, text: str, *, minutes_ago: int = 5,
                                direction: str = "INBOUND", from_number: str = "+15557654321"):
    sid = ids.call_sid()
    started = utcnow() - timedelta(minutes=minutes_ago)
    async with sessionmaker() as s, s.begin():
        s.add(CallLog(call_sid=sid, tenant_id=tenant_id, direction=direction,
                      status="VOICEMAIL_RECEIVED", from_number=from_number,
                      to_number="+15550100200", started_at=started))
        rec = Recording(recording_sid=ids.recording_sid(), tenant_id=tenant_id, call_sid=sid,
                        path="recordings/x.wav", source="Voicemail", duration=3.0)
        s.add(rec)
        await s.flush()
        s.add(Transcript(tenant_id=tenant_id, recording_id=rec.id, call_sid=sid, model="tiny.en",
                         text=text, audio_seconds=3.0,
                         segments=[{"start": 0.0, "end": 1.5, "text": text[:20], "speaker": "caller",
                                    "confidence": 0.9},
                                   {"start": 1.5, "end": 3.0, "text": text[20:],
                                    "speaker": "caller", "confidence": 0.8}]))
    return sid


async def test_transcript_of_a_call_with_its_segments(client, world, sessionmaker):
    sid = await _call_with_transcript(sessionmaker, world.tenant.id,
                                      "Weasels have eaten our phone system")
    response = await client.get(f"/api/v1/transcripts/call/{sid}", headers=world.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["call_sid"] == sid
    assert body["transcripts"][0]["text"] == "Weasels have eaten our phone system"
    assert [s["start"] for s in body["segments"]] == [0.0, 1.5]
    assert body["segments"][0]["speaker"] == "caller"


async def test_search_finds_a_call_by_a_word_said_and_not_by_another(client, world, sessionmaker):
    sid = await _call_with_transcript(sessionmaker, world.tenant.id,
                                      "Weasels have eaten our phone system")
    await _call_with_transcript(sessionmaker, world.tenant.id, "Please call me back tomorrow")
    hit = await client.get("/api/v1/transcripts/search", params={"q": "weasels"},
                           headers=world.headers("read-only"))
    assert hit.status_code == 200, hit.text
    assert [h["call_sid"] for h in hit.json()["items"]] == [sid]
    assert "<mark>" in hit.json()["items"][0]["snippet"].lower()
    miss = await client.get("/api/v1/transcripts/search", params={"q": "elephant"},
                            headers=world.headers())
    assert miss.status_code == 200 and miss.json()["total"] == 0


async def test_list_is_paginated_newest_first(client, world, sessionmaker):
    for minutes in (3, 2, 1):
        await _call_with_transcript(sessionmaker, world.tenant.id, f"message {minutes}",
                                    minutes_ago=minutes)
    page = await client.get("/api/v1/transcripts", params={"limit": 2}, headers=world.headers())
    assert page.status_code == 200
    assert page.json()["total"] == 3 and len(page.json()["items"]) == 2


async def test_another_tenants_call_is_404_and_auth_is_required(client, world, sessionmaker):
    sid = await _call_with_transcript(sessionmaker, world.tenant.id, "private words here")
    foreign = await client.get(f"/api/v1/transcripts/call/{sid}", headers=world.other_headers())
    assert foreign.status_code == 404
    search = await client.get("/api/v1/transcripts/search", params={"q": "private"},
                              headers=world.other_headers())
    assert search.json()["total"] == 0
    assert (await client.get("/api/v1/transcripts")).status_code == 401
    empty_q = await client.get("/api/v1/transcripts/search", params={"q": "!!"},
                               headers=world.headers())
    assert empty_q.status_code == 400


async def test_search_ranks_filters_and_pages_over_http(client, world, sessionmaker):
    strong = await _call_with_transcript(sessionmaker, world.tenant.id,
                                         "refund refund my refund please", minutes_ago=30)
    weak = await _call_with_transcript(
        sessionmaker, world.tenant.id,
        "hello I am calling about an order and maybe a refund later on", minutes_ago=20,
        direction="OUTBOUND", from_number="+15550001234")
    other = await _call_with_transcript(sessionmaker, world.tenant.id, "a refund for the shoes",
                                        minutes_ago=90 * 24 * 60)
    await _call_with_transcript(sessionmaker, world.other.id, "refund refund refund")

    async def search(**params):
        response = await client.get("/api/v1/transcripts/search", params={"q": "refund", **params},
                                    headers=world.headers())
        assert response.status_code == 200, response.text
        return response.json()

    every = await search()
    assert every["total"] == 3 and every["total_exact"] is True
    assert [h["call_sid"] for h in every["items"]][0] == strong
    assert {h["call_sid"] for h in every["items"]} == {strong, weak, other}
    assert every["items"][0]["rank"] >= every["items"][1]["rank"] >= every["items"][2]["rank"]
    assert "<mark>refund</mark>" in every["items"][0]["snippet"].lower()
    first, second = await search(limit=2), await search(limit=2, page=2)
    assert first["total"] == second["total"] == 3
    paged = [h["call_sid"] for h in first["items"] + second["items"]]
    assert paged == [h["call_sid"] for h in every["items"]]
    outbound = await search(direction="outbound")
    assert [h["call_sid"] for h in outbound["items"]] == [weak]
    assert outbound["items"][0]["from_number"] == "+15550001234"
    by_number = await search(number="+15550001234")
    assert [h["call_sid"] for h in by_number["items"]] == [weak]
    recent = await search(date_start=(utcnow() - timedelta(days=1)).isoformat())
    assert {h["call_sid"] for h in recent["items"]} == {strong, weak}
    old = await search(date_end=(utcnow() - timedelta(days=1)).isoformat())
    assert [h["call_sid"] for h in old["items"]] == [other]
    bad_direction = await client.get("/api/v1/transcripts/search",
                                     params={"q": "refund", "direction": "sideways"},
                                     headers=world.headers())
    assert bad_direction.status_code in (400, 422)
