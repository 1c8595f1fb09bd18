"""Call logs: filters, both paginations, CSV; and /api/v1/calls/logs."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sb_resource_helpers as h

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
