"""``/api/v1/contacts``: CRUD, search, dedupe by E.164, history, streamed CSV import/export."""

from __future__ import annotations

import csv
import io

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.conftest import World
from tests.api.sb_resource_helpers import assert_v1_error, call_log, voicemail

JANE = {"name": "Jane Roe", "phone": "+1 (555) 765-4321", "email": "jane@roe.example",
        "company": "Roe & Sons", "tags": ["vip", "wholesale"]}


async def test_create_normalises_the_number_and_a_second_contact_for_it_is_409(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.post("/api/v1/contacts", headers=world.headers("agent"), json=JANE)
    assert r.status_code == 201, r.text
    jane = r.json()
    assert (jane["phone"], jane["tags"]) == ("+15557654321", ["vip", "wholesale"])
    details = assert_v1_error(await client.post("/api/v1/contacts", headers=world.headers(),
                                                json={**JANE, "phone": "15557654321"}), 409)
    assert details["contact_id"] == jane["id"]
    # the other tenant may have the same person
    assert (await client.post("/api/v1/contacts", headers=world.other_headers(),
                              json=JANE)).status_code == 201
    assert_v1_error(await client.get(f"/api/v1/contacts/{jane['id']}",
                                     headers=world.other_headers()), 404)
    assert_v1_error(await client.post("/api/v1/contacts", headers=world.headers("read-only"),
                                      json=JANE), 403)
    assert_v1_error(await client.post("/api/v1/contacts", headers=world.headers(),
                                      json={**JANE, "phone": "+1", "email": None}), 400)
    assert_v1_error(await client.post("/api/v1/contacts", headers=world.headers(),
                                      json={**JANE, "phone": "+15550000001",
                                            "email": "not-mail"}), 400)


async def test_search_by_name_number_company_and_tag_then_update_and_delete(
    client: httpx.AsyncClient, world: World
) -> None:
    h = world.headers()
    jane = (await client.post("/api/v1/contacts", headers=h, json=JANE)).json()
    bob = (await client.post("/api/v1/contacts", headers=h, json={
        "name": "Bob Stone", "phone": "+447700900123", "company": "Stone Ltd",
        "tags": ["supplier"]})).json()

    async def names(query: str) -> list[str]:
        r = await client.get(f"/api/v1/contacts?{query}", headers=h)
        assert r.status_code == 200, r.text
        return [c["name"] for c in r.json()["items"]]

    assert await names("search=jane") == ["Jane Roe"]
    assert await names("search=7654") == ["Jane Roe"]
    assert await names("search=stone ltd") == ["Bob Stone"]
    assert await names("search=supplier") == ["Bob Stone"]
    assert await names("tag=vip") == ["Jane Roe"]
    assert await names("") == ["Bob Stone", "Jane Roe"]
    r = await client.patch(f"/api/v1/contacts/{bob['id']}", headers=h,
                           json={"phone": JANE["phone"]})
    assert_v1_error(r, 409)
    r = await client.patch(f"/api/v1/contacts/{bob['id']}", headers=h,
                           json={"company": "Stone & Co", "tags": ["supplier", "eu"]})
    assert r.json()["company"] == "Stone & Co" and r.json()["tags"] == ["supplier", "eu"]
    assert (await client.delete(f"/api/v1/contacts/{jane['id']}", headers=h)).status_code == 204
    assert await names("") == ["Bob Stone"]


async def test_history_lists_calls_and_voicemails_of_the_contact(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    jane = (await client.post("/api/v1/contacts", headers=world.headers(), json=JANE)).json()
    async with sessionmaker() as s:
        mine = await call_log(s, world.tenant, from_number=jane["phone"])
        await call_log(s, world.tenant, from_number="+15550009999")
        await call_log(s, world.other, from_number=jane["phone"])
        vm = await voicemail(s, world.tenant)
        vm.from_number = jane["phone"]
        await s.commit()
    calls = (await client.get(f"/api/v1/contacts/{jane['id']}/calls",
                              headers=world.headers())).json()
    assert [c["call_sid"] for c in calls["items"]] == [mine.call_sid]
    vms = (await client.get(f"/api/v1/contacts/{jane['id']}/voicemails",
                            headers=world.headers())).json()
    assert [v["id"] for v in vms["items"]] == [vm.id]


async def test_csv_import_dedupes_by_e164_and_reports_each_bad_row(
    client: httpx.AsyncClient, world: World
) -> None:
    h = world.headers()
    await client.post("/api/v1/contacts", headers=h, json=JANE)

    async def upload():  # sent in pieces, as a browser streams a file
        lines = [
            "name,phone,email,company,tags\r\n",
            "Jane R.,15557654321,,,vip;returning\r\n",  # merges into Jane (same E.164)
            "Carl Day,+15550001000,carl@day.example,Day Inc,\r\n",
            "Broken,12,,,\r\n",
            ",+15550001001,,,\r\n",
            "Carl Again,+1 555 000 1000,,,\r\n",  # same number as Carl, earlier in the file
            "Dee,+15550001002,bad-email,,\r\n",
        ]
        for line in lines:
            yield line.encode()

    r = await client.post("/api/v1/contacts/import", headers={**h, "Content-Type": "text/csv"},
                          content=upload())
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["merged"]) == (1, 2)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (4, "phone"), (5, "name"), (7, "email")]
    listed = (await client.get("/api/v1/contacts", headers=h)).json()["items"]
    assert [(c["name"], c["phone"]) for c in listed] == [("Carl Again", "+15550001000"),
                                                         ("Jane R.", "+15557654321")]
    assert listed[1]["tags"] == ["vip", "returning"]
    bad = await client.post("/api/v1/contacts/import", headers={**h, "Content-Type": "text/csv"},
                            content=b"who,what\nx,y\n")
    assert_v1_error(bad, 400)


async def test_csv_export_streams_every_contact_safely(client: httpx.AsyncClient,
                                                       world: World) -> None:
    h = world.headers()
    await client.post("/api/v1/contacts", headers=h, json=JANE)
    await client.post("/api/v1/contacts", headers=h, json={"name": "=HYPERLINK(\"x\")",
                                                           "phone": "+15550002000"})
    r = await client.get("/api/v1/contacts/export", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows == [
        ["name", "phone", "email", "company", "tags"],
        ["'=HYPERLINK(\"x\")", "+15550002000", "", "", ""],
        ["Jane Roe", "+15557654321", "jane@roe.example", "Roe & Sons", "vip;wholesale"],
    ]


async def test_call_logs_name_the_contact_on_the_other_side(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await client.post("/api/v1/contacts", headers=world.headers(), json=JANE)
    async with sessionmaker() as s:
        inbound = await call_log(s, world.tenant, from_number="+15557654321",
                                 to_number="+15125550123", minutes_ago=2)
        await call_log(s, world.tenant, direction="OUTBOUND", from_number="+15125550123",
                       to_number="+15557654321", minutes_ago=1)
        await call_log(s, world.tenant, from_number="+15550009999")
    logs = (await client.get("/api/v1/calls/logs", headers=world.headers())).json()["items"]
    assert [c["contact_name"] for c in logs] == [None, "Jane Roe", "Jane Roe"]
    one = (await client.get(f"/api/v1/calls/{inbound.call_sid}", headers=world.headers())).json()
    assert one["contact_name"] == "Jane Roe"
    other = (await client.get("/api/v1/calls/logs", headers=world.other_headers())).json()
    assert other["items"] == []
