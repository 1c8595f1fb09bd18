"""Call status transitions: one rule, the same in memory, in a webhook and in SQL."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import ids
from switchboard.callflow.status import (
    INITIAL_STATUS,
    CallDirection,
    CallEvent,
    CallLogStatus,
    CallStatus,
    next_status,
    replay,
)
from switchboard.engine.calllog import CallLogWriter
from switchboard.models import CallLog, utcnow

S = CallLogStatus
E = CallEvent

# What each event does from each status: the whole rule, written out.
EXPECTED: dict[CallEvent, dict[CallLogStatus, CallLogStatus]] = {
    E.REJECTED: {s: S.MISSED for s in S},
    E.STAFF_ANSWERED: {s: S.ANSWERED_BY_STAFF for s in S},
    E.APP_ANSWERED: {s: S.ANSWERED_BY_CALLS_PROVIDER for s in S},
    E.VOICEMAIL_LEFT: {s: S.VOICEMAIL_RECEIVED for s in S},
    E.ENDED: {s: S.MISSED if s == S.INCOMING_CALL else s for s in S},
    E.APP_CALL_ENDED: {s: S.ANSWERED_BY_CALLS_PROVIDER if s == S.INCOMING_CALL else s for s in S},
}


@pytest.mark.parametrize("event", list(CallEvent))
def test_next_status_moves_every_status_as_the_table_says(event: CallEvent) -> None:
    assert {s: next_status(s, event) for s in S} == EXPECTED[event]


def test_an_end_never_overwrites_what_a_webhook_decided() -> None:
    assert next_status(S.VOICEMAIL_RECEIVED, E.ENDED) == S.VOICEMAIL_RECEIVED
    assert next_status(S.ANSWERED_BY_STAFF, E.APP_CALL_ENDED) == S.ANSWERED_BY_STAFF


def test_a_status_written_by_an_older_version_moves_only_on_an_unconditional_event() -> None:
    assert next_status("LEGACY", E.ENDED) == "LEGACY"
    assert next_status("LEGACY", E.VOICEMAIL_LEFT) == S.VOICEMAIL_RECEIVED


def test_replay_of_a_fallback_call_that_was_answered_then_left_a_voicemail() -> None:
    assert replay([E.STAFF_ANSWERED, E.VOICEMAIL_LEFT, E.ENDED]) == S.VOICEMAIL_RECEIVED
    assert replay([E.ENDED]) == S.MISSED
    assert replay([]) == INITIAL_STATUS


SEQUENCES = [(e,) for e in E] + list(itertools.product(E, repeat=2))


@pytest.mark.parametrize("one_batch", [True, False], ids=["one-batch", "batch-per-event"])
async def test_the_writers_sql_moves_a_row_as_next_status_does(
    sessionmaker: async_sessionmaker[AsyncSession], one_batch: bool
) -> None:
    """Whatever status another process wrote, the engine's batched events land as replay() says."""
    cases = {ids.call_sid(): (start, seq) for start in S for seq in SEQUENCES}
    async with sessionmaker() as session, session.begin():
        for sid, (start, _) in cases.items():
            session.add(
                CallLog(
                    call_sid=sid, direction=CallDirection.INBOUND, status=start,
                    call_status=CallStatus.RINGING, started_at=utcnow(),
                )
            )
    writer = CallLogWriter(sessionmaker)
    writer.start()
    for step in range(2):
        for sid, (_, seq) in cases.items():
            if step < len(seq):
                writer.update_call(sid, event=seq[step])
        if not one_batch:
            await writer.flush()
    await writer.close()
    async with sessionmaker() as session:
        got = {r.call_sid: r.status for r in await session.scalars(select(CallLog))}
    wrong = {
        (start, seq): got[sid]
        for sid, (start, seq) in cases.items()
        if got[sid] != replay(seq, start)
    }
    assert wrong == {}
