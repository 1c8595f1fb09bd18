"""Live-call commands: typed, answered or refused at once, never left to time out."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.engine.ari.events import StasisEnd, decode_event
from switchboard.engine.calls.commands import (
    CallBusy,
    CallNotConnected,
    CallNotFound,
    Envelope,
    HangupCall,
    HoldCall,
    Mailbox,
    TransferCall,
    decode_command,
    encode_command,
)


def test_a_command_crosses_a_process_boundary_as_json_and_back() -> None:
    command = TransferCall("CA1", target="+15550002222", transfer_type="warm", timeout=20)
    data = encode_command(command)
    assert b'"command":"transfer"' in data
    assert decode_command(data) == command
    with pytest.raises(ValueError):
        decode_command(b'{"command": "explode", "call_sid": "CA1"}')


async def test_hold_of_a_call_that_is_not_connected_is_refused_at_once() -> None:
    mailbox = Mailbox()
    envelope = Envelope(HoldCall("CA1"))
    mailbox.send(envelope)
    with pytest.raises(CallNotConnected):
        await asyncio.wait_for(envelope.reply, 0.1)


async def test_while_connected_commands_reach_the_call_before_its_events() -> None:
    mailbox = Mailbox()
    event = decode_event('{"type":"StasisEnd","channel":{"id":"c1"}}')
    with mailbox.connected():
        mailbox.put_event(event)
        envelope = Envelope(TransferCall("CA1", target="+15550002222"))
        mailbox.send(envelope)
        assert await mailbox.receive(0.1) is envelope
        assert isinstance(await mailbox.receive(0.1), StasisEnd)
        assert await mailbox.receive(0.01) is None


async def test_a_second_transfer_during_a_transfer_is_busy_not_queued() -> None:
    mailbox = Mailbox()
    with mailbox.connected(), mailbox.busy():
        second = Envelope(TransferCall("CA1", target="+15550003333"))
        mailbox.send(second)
        with pytest.raises(CallBusy):
            await asyncio.wait_for(second.reply, 0.1)
        hangup = Envelope(HangupCall("CA1"))
        mailbox.send(hangup)  # a hang-up is always taken
        assert await mailbox.receive(0.1) is hangup


async def test_commands_left_when_the_conversation_ends_are_refused_not_dropped() -> None:
    mailbox = Mailbox()
    with mailbox.connected():
        pending = Envelope(HoldCall("CA1"))
        mailbox.send(pending)
    with pytest.raises(CallNotConnected):
        await asyncio.wait_for(pending.reply, 0.1)


async def test_a_command_to_an_ended_call_is_not_found() -> None:
    mailbox = Mailbox()
    waiting = Envelope(HangupCall("CA1"))
    mailbox.send(waiting)
    mailbox.close()
    with pytest.raises(CallNotFound):
        await asyncio.wait_for(waiting.reply, 0.1)
    late = Envelope(HangupCall("CA1"))
    mailbox.send(late)
    with pytest.raises(CallNotFound):
        await asyncio.wait_for(late.reply, 0.1)


async def test_receive_wakes_on_an_event_sent_while_waiting() -> None:
    mailbox = Mailbox()
    event = decode_event('{"type":"StasisEnd","channel":{"id":"c1"}}')
    asyncio.get_running_loop().call_later(0.01, mailbox.put_event, event)
    assert await mailbox.receive(1.0) is event
