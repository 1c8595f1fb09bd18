"""``/api/v1/webhooks/deliveries``: list, get, replay; tenancy and roles."""

from __future__ import annotations

from switchboard import ids
from switchboard.models import WebhookDelivery
from switchboard.outbox import enqueue


async def _delivery(sessionmaker, tenant_id: str, call_sid: str, *, failed: bool = False) -> str:
    async with sessionmaker() as s, s.begin():
        row = await enqueue(s, tenant_id=tenant_id, call_sid=call_sid,
                            url="https://app.example/status",
                            params={"CallSid": call_sid, "CallStatus": "completed"},
                            kind="status")
        await s.flush()
        if failed:
            row.status = "failed"
            row.attempts = 7
            row.last_error = "HTTP 500"
        return row.id


async def test_list_a_calls_deliveries_in_order(client, world, sessionmaker):
    call_sid = ids.call_sid()
    first = await _delivery(sessionmaker, world.tenant.id, call_sid)
    second = await _delivery(sessionmaker, world.tenant.id, call_sid)
    await _delivery(sessionmaker, world.tenant.id, ids.call_sid())
    page = await client.get("/api/v1/webhooks/deliveries", params={"call_sid": call_sid},
                            headers=world.headers("read-only"))
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 2
    assert [d["id"] for d in body["items"]] == [first, second]
    assert [d["params"]["SequenceNumber"] for d in body["items"]] == ["0", "1"]
    everything = await client.get("/api/v1/webhooks/deliveries", headers=world.headers())
    assert everything.json()["total"] == 3


async def test_failed_delivery_is_shown_and_replayed(client, world, sessionmaker):
    delivery_id = await _delivery(sessionmaker, world.tenant.id, ids.call_sid(), failed=True)
    failed = await client.get("/api/v1/webhooks/deliveries", params={"status": "failed"},
                              headers=world.headers())
    [row] = failed.json()["items"]
    assert row["id"] == delivery_id and row["attempts"] == 7 and row["last_error"] == "HTTP 500"
    assert (await client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay",
                              headers=world.headers("agent"))).status_code == 403
    replayed = await client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay",
                                 headers=world.headers())
    assert replayed.status_code == 200
    assert replayed.json()["status"] == "pending"
    assert replayed.json()["idempotency_key"] == row["idempotency_key"]
    async with sessionmaker() as s:
        stored = await s.get(WebhookDelivery, delivery_id)
    assert stored is not None and stored.status == "pending"


async def test_another_tenants_delivery_is_404_and_bad_status_400(client, world, sessionmaker):
    delivery_id = await _delivery(sessionmaker, world.tenant.id, ids.call_sid())
    assert (await client.get(f"/api/v1/webhooks/deliveries/{delivery_id}",
                             headers=world.other_headers())).status_code == 404
    assert (await client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay",
                              headers=world.other_headers())).status_code == 404
    bad = await client.get("/api/v1/webhooks/deliveries", params={"status": "lost"},
                           headers=world.headers())
    assert bad.status_code == 422
    assert (await client.get("/api/v1/webhooks/deliveries")).status_code == 401
