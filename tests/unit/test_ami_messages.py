"""AMI message mapping: panoramisk messages to plain dicts, CLI output, action builders."""

from __future__ import annotations

import pytest
from panoramisk.message import Message

from switchboard.engine.ami.messages import (
    command_output,
    header,
    is_error,
    message_to_dict,
    originate_action,
)

# Recorded from Asterisk 22.10: `Action: Command` / `Command: database show sbt`.
RECORDED_COMMAND = (
    "Response: Success\r\n"
    "ActionID: cmd-9\r\n"
    "Message: Command output follows\r\n"
    "Output: /sbt/a/b                                          : v1                       \r\n"
    "Output: /sbt/c                                            : v 2                      \r\n"
    "Output: 2 results found."
)

def test_message_becomes_plain_str_dict_without_panoramisk_extras() -> None:
    message = Message.from_line(
        "Event: Newchannel\r\nChannel: Local/a@b-0001;1\r\nChanVariable: A=1\r\nChanVariable: B=2"
    )
    event = message_to_dict(message)
    assert event == {
        "Event": "Newchannel",
        "Channel": "Local/a@b-0001;1",
        "ChanVariable": "A=1\nB=2",
    }
    assert "Uniqueid" not in event  # panoramisk would answer '' here


def test_header_lookup_is_case_insensitive_and_none_when_missing() -> None:
    event = {"ActionID": "x"}
    assert header(event, "actionid") == "x"
    assert header(event, "Missing") is None


@pytest.mark.parametrize(
    ("response", "failed"),
    [("Error", True), ("Failure", True), ("Success", False), ("Follows", False)],
)
def test_is_error(response: str, failed: bool) -> None:
    assert is_error({"Response": response}) is failed


def test_recorded_command_output_is_joined_lines() -> None:
    output = command_output(Message.from_line(RECORDED_COMMAND))
    assert output.splitlines()[-1] == "2 results found."
    assert output.count("\n") == 2


def test_single_line_command_output() -> None:
    message = Message.from_line("Response: Success\r\nOutput: only line")
    assert command_output(message) == "only line"


def test_originate_into_dialplan_with_variables_and_ids() -> None:
    fields = originate_action(
        "Local/answer@sb-test",
        action_id="call-1",
        context="sb-test",
        exten="answer",
        variables={"A": "1", "B": "x=y"},
        channel_id="leg-1",
        timeout_ms=5000,
    )
    assert fields == {
        "Action": "Originate",
        "ActionID": "call-1",
        "Channel": "Local/answer@sb-test",
        "Timeout": "5000",
        "Async": "true",
        "Context": "sb-test",
        "Exten": "answer",
        "Priority": "1",
        "ChannelId": "leg-1",
        "Variable": ["A=1", "B=x=y"],
    }


def test_originate_into_an_application() -> None:
    fields = originate_action("Local/1@x", action_id="a", application="Wait", data="5")
    assert fields["Application"] == "Wait"
    assert fields["Data"] == "5"
    assert "Context" not in fields


def test_originate_without_a_destination_is_refused() -> None:
    with pytest.raises(ValueError, match="context and exten"):
        originate_action("Local/1@x", action_id="a", context="only-context")
