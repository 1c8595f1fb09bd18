"""The call-log writer folds a batch into few statements and leaves the same rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import ids
from switchboard.callflow.status import CallEvent
from switchboard.engine.calllog import STATUS_MOVES, CallLogWriter, NewCall, NewLeg, _Op, fold
from switchboard.models import CallDirection, CallLeg, CallLog, CallLogStatus, CallStatus, utcnow


def call_values(call_sid: str) -> NewCall:
    return {
        "call_sid": call_sid,
        "direction": CallDirection.INBOUND,
        "call_status": CallStatus.RINGING,
        "from_number": "+15557654321",
        "to_number": "+15550100999",
        "external_id": call_sid.lower(),
        "started_at": utcnow(),
        "tenant_id": None,
        "number_id": None,
    }


def leg_values(call_sid: str, leg_sid: str) -> NewLeg:
    return {
        "call_sid": call_sid,
        "leg_sid": leg_sid,
        "channel_id": leg_sid.lower(),
        "role": "target",
        "target": "+15550001111",
        "started_at": utcnow(),
    }


def test_fold_merges_a_rows_updates_and_keeps_the_last_value() -> None:
    folded = fold(
        [
            _Op("call", "update", "CA1", {"call_status": "in-progress", "answered_by": "a"}),
            _Op("call", "update", "CA1", {"answered_by": "b"}),
            _Op("call", "update", "CA2", {"duration": 3}),
        ]
    )
    assert folded.call_updates == {
        "CA1": {"call_status": "in-progress", "answered_by": "b"},
        "CA2": {"duration": 3},
    }


def test_fold_decides_an_end_by_a_status_set_earlier_in_the_batch() -> None:
    staff = fold(
        [
            _Op("call", "update", "CA1", {}, CallEvent.STAFF_ANSWERED),
            _Op("call", "update", "CA1", {}, CallEvent.ENDED),
        ]
    )
    assert staff.call_updates["CA1"] == {"status": CallLogStatus.ANSWERED_BY_STAFF}
    rejected = fold(
        [
            _Op("call", "update", "CA1", {}, CallEvent.REJECTED),
            _Op("call", "update", "CA1", {}, CallEvent.APP_CALL_ENDED),
        ]
    )
    assert rejected.call_updates["CA1"] == {"status": CallLogStatus.MISSED}


def test_fold_leaves_an_undecided_end_to_the_row_and_a_later_answer_overrides_it() -> None:
    unknown = fold([_Op("call", "update", "CA1", {"duration": 0}, CallEvent.ENDED)])
    assert unknown.call_updates["CA1"] == {
        "duration": 0,
        STATUS_MOVES: ((CallLogStatus.INCOMING_CALL, CallLogStatus.MISSED),),
    }
    overridden = fold(
        [
            _Op("call", "update", "CA1", {}, CallEvent.ENDED),
            _Op("call", "update", "CA1", {}, CallEvent.VOICEMAIL_LEFT),
        ]
    )
    assert overridden.call_updates["CA1"] == {"status": CallLogStatus.VOICEMAIL_RECEIVED}


def test_fold_merges_leg_updates_into_the_legs_insert_but_not_a_calls() -> None:
    folded = fold(
        [
            _Op("call", "insert", "CA1", {"call_sid": "CA1"}),
            _Op("call", "update", "CA1", {"duration": 1}),
            _Op("leg", "insert", "CL1", {"leg_sid": "CL1", "dial_status": None}),
            _Op("leg", "update", "CL1", {"dial_status": "answered"}),
            _Op("leg", "update", "CL2", {"dial_status": "busy"}),
        ]
    )
    assert folded.call_inserts == [{"call_sid": "CA1"}]
    assert folded.call_updates == {"CA1": {"duration": 1}}
    assert folded.leg_inserts == {"CL1": {"leg_sid": "CL1", "dial_status": "answered"}}
    assert folded.leg_updates == {"CL2": {"dial_status": "busy"}}


async def test_batched_writes_leave_the_rows_a_call_describes(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    writer = CallLogWriter(sessionmaker)
    writer.start()
    answered, missed, webhook_first = ids.call_sid(), ids.call_sid(), ids.call_sid()
    async with sessionmaker() as session, session.begin():
        # A provider webhook wrote this call's row, with a truer status, first.
        row = CallLog(**call_values(webhook_first))
        row.status = CallLogStatus.VOICEMAIL_RECEIVED
        session.add(row)
    leg = ids.call_sid()
    for sid in (answered, missed, webhook_first):
        writer.insert_call(call_values(sid))
    writer.insert_leg(leg_values(answered, leg))
    writer.update_leg(leg, dial_status="answered", answered_at=utcnow())
    writer.update_call(answered, event=CallEvent.STAFF_ANSWERED, answered_by="+1555")
    end = utcnow() + timedelta(seconds=5)
    for sid in (answered, missed, webhook_first):
        writer.update_call(
            sid, event=CallEvent.ENDED, ended_at=end, call_status=CallStatus.COMPLETED, duration=5
        )
    writer.update_leg(leg, ended_at=end)
    await writer.close()

    async with sessionmaker() as session:
        rows = {r.call_sid: r for r in await session.scalars(select(CallLog))}
        legs = list(await session.scalars(select(CallLeg)))
    assert rows[answered].status == CallLogStatus.ANSWERED_BY_STAFF
    assert rows[answered].answered_by == "+1555"
    assert rows[missed].status == CallLogStatus.MISSED
    assert rows[webhook_first].status == CallLogStatus.VOICEMAIL_RECEIVED
    for sid in (answered, missed, webhook_first):
        assert rows[sid].ended_at == end
        assert rows[sid].duration == 5
        assert rows[sid].call_status == CallStatus.COMPLETED
    assert len(legs) == 1
    assert legs[0].dial_status == "answered"
    assert legs[0].ended_at == end
    assert legs[0].answered_at is not None
