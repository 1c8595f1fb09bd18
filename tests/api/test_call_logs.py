"""Call logs: filters, both paginations, CSV; and /api/v1/calls/logs."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sb_resource_helpers as h
from sb_resource_helpers import assert_v1_error

from switchboard.models import utcnow
from switchboard.services import call_logs
from switchboard.services.call_logs import CallLogFilter
from switchboard.services.exceptions import BadRequest, NotFound

# ---------------------------------------------------------------- service


async def test_filters_select_the_matching_calls(sessionmaker):
    async with sessionmaker() as s:
        t, other = await h.tenant(s), await h.tenant(s, "Other")
        staff = await h.user(s, t)
        a = await h.call_log(s, t, minutes_ago=30, direction="INBOUND", status="MISSED",
                             from_number="+15550001111")
        b = await h.call_log(s, t, minutes_ago=20, direction="OUTBOUND",
                             status="ANSWERED_BY_STAFF", to_number="+15550003333",
                             from_number="+15550004444",
                             has_recording=True, staff_id=staff.id)
        c = await h.call_log(s, t, minutes_ago=10, status="VOICEMAIL_RECEIVED",
                             has_voicemail=True)
        await h.call_log(s, other, minutes_ago=5)

        async def ids(**kw):
            page = await call_logs.list_page(s, t.id, CallLogFilter(**kw), limit=50)
            return [r.id for r in page.items]

        assert await ids() == [c.id, b.id, a.id]
        assert await ids(direction="outbound") == [b.id]
        assert await ids(status="MISSED") == [a.id]
        assert await ids(status="voicemail_received") == [c.id]
        assert await ids(status="completed") == [c.id, b.id, a.id]
        assert await ids(to_number="1 555 000 3333") == [b.id]
        assert await ids(from_number="+15550001111") == [c.id, a.id]
        assert await ids(has_recording=True) == [b.id]
        assert await ids(has_voicemail=True) == [c.id]
        assert await ids(has_voicemail=False) == [b.id, a.id]
        assert await ids(staff_id=staff.id) == [b.id]
        now = utcnow()
        assert await ids(date_start=now - timedelta(minutes=25),
                         date_end=now - timedelta(minutes=15)) == [b.id]


@pytest.mark.parametrize("kw,field", [
    ({"direction": "sideways"}, "direction"), ({"status": "exploded"}, "status"),
])
async def test_bad_filters_are_refused(sessionmaker, kw, field):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        with pytest.raises(BadRequest) as err:
            await call_logs.list_page(s, t.id, CallLogFilter(**kw))
        assert err.value.field == field


async def test_keyset_and_page_pagination_agree(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        same = utcnow()
        rows = [await h.call_log(s, t, started_at=same) for _ in range(3)]
        rows += [await h.call_log(s, t, minutes_ago=m) for m in range(1, 5)]
        f = CallLogFilter()
        paged = []
        for page in (1, 2, 3):
            result = await call_logs.list_page(s, t.id, f, page=page, limit=3)
            assert result.total == 7
            paged += [r.id for r in result.items]
        keyed, cursor = [], None
        while True:
            batch = await call_logs.list_after(s, t.id, f, cursor=cursor, limit=3)
            keyed += [r.id for r in batch.items]
            if batch.next_cursor is None:
                break
            cursor = batch.next_cursor
        assert keyed == paged and len(set(keyed)) == 7
        with pytest.raises(BadRequest):
            await call_logs.list_after(s, t.id, f, cursor="garbage!", limit=3)


async def test_csv_export_has_header_and_rows(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        for m in range(3):
            await h.call_log(s, t, minutes_ago=m, has_recording=m == 1)
        text = await call_logs.export_csv(s, t.id, CallLogFilter(has_recording=True))
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 1 and rows[0]["has_recording"] == "true"
        assert list(rows[0]) == list(call_logs.CSV_COLUMNS)


async def test_get_by_id_or_sid_and_foreign_is_not_found(sessionmaker):
    async with sessionmaker() as s:
        t, other = await h.tenant(s), await h.tenant(s, "Other")
        row = await h.call_log(s, t)
        assert (await call_logs.get_call_log(s, t.id, row.id)).id == row.id
        assert (await call_logs.get_call_log(s, t.id, row.call_sid)).id == row.id
        with pytest.raises(NotFound):
            await call_logs.get_call_log(s, other.id, row.id)


# ---------------------------------------------------------------- /api/v1/calls/logs


async def test_search_logs_pages_cursor_and_filters(client, world, sessionmaker):
    async with sessionmaker() as s:
        rows = [await h.call_log(s, world.tenant, minutes_ago=m, has_recording=m == 0)
                for m in range(5)]
        await h.call_log(s, world.other, minutes_ago=1)
    reader = world.headers("read-only")
    r = await client.get("/api/v1/calls/logs?page=1&limit=2", headers=reader)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 5 and body["page"] == 1 and body["limit"] == 2
    assert [x["id"] for x in body["items"]] == [rows[0].id, rows[1].id]
    first = body["items"][0]
    assert first["recording_playback_url"] == f"/api/voice/recording?callLogId={rows[0].id}"
    assert body["items"][1]["recording_playback_url"] is None

    r = await client.get("/api/v1/calls/logs", headers=reader,
                         params={"limit": 2, "cursor": body["next_cursor"]})
    keyed = r.json()
    assert keyed["total"] is None and [x["id"] for x in keyed["items"]] == [rows[2].id, rows[3].id]
    r = await client.get("/api/v1/calls/logs", headers=reader,
                         params={"limit": 2, "cursor": keyed["next_cursor"]})
    assert [x["id"] for x in r.json()["items"]] == [rows[4].id]
    assert r.json()["next_cursor"] is None

    r = await client.get("/api/v1/calls/logs", headers=reader, params={
        "direction": "inbound", "disposition": "MISSED", "from": "+15550001111",
        "to": "+15550002222", "has_recording": "true",
        "date_start": "2000-01-01T00:00:00Z", "date_end": "2999-01-01T00:00:00Z"})
    assert [x["id"] for x in r.json()["items"]] == [rows[0].id]

    r = await client.get(f"/api/v1/calls/logs/{rows[0].call_sid}", headers=reader)
    assert r.status_code == 200 and r.json()["id"] == rows[0].id


async def test_csv_export_over_http(client, world, sessionmaker):
    async with sessionmaker() as s:
        for m in range(3):
            await h.call_log(s, world.tenant, minutes_ago=m)
    r = await client.get("/api/v1/calls/logs/export.csv", headers=world.headers("read-only"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 3 and rows[0]["direction"] == "INBOUND"


async def test_log_errors(client, world, sessionmaker):
    async with sessionmaker() as s:
        row = await h.call_log(s, world.tenant)
    reader = world.headers("read-only")
    r = await client.get("/api/v1/calls/logs?direction=sideways", headers=reader)
    assert assert_v1_error(r, 422, "validation_error")["field"] == "direction"
    r = await client.get("/api/v1/calls/logs?limit=0", headers=reader)
    assert_v1_error(r, 422)
    r = await client.get("/api/v1/calls/logs?disposition=exploded", headers=reader)
    assert assert_v1_error(r, 422, "validation_error")["field"] == "disposition"
    r = await client.get("/api/v1/calls/logs?cursor=%%%", headers=reader)
    assert assert_v1_error(r, 422)["field"] == "cursor"
    r = await client.get("/api/v1/calls/logs?cursor=bm90LWEtY3Vyc29y", headers=reader)
    assert assert_v1_error(r, 400, "bad_request")["field"] == "cursor"
    for path in ("/api/v1/calls/logs", "/api/v1/calls/logs/export.csv",
                 f"/api/v1/calls/logs/{row.id}"):
        assert_v1_error(await client.get(path), 401)
    assert_v1_error(await client.get(f"/api/v1/calls/logs/{row.id}",
                                     headers=world.other_headers()), 404)
    r = await client.get("/api/v1/calls/logs", headers=world.other_headers())
    assert r.json()["total"] == 0
