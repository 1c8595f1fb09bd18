"""Pure mapping between AMI messages and Switchboard's plain types.

AMI messages are header blocks. panoramisk parses them into case-insensitive
dicts whose repeated headers become lists and whose missing headers read as
``''``; the engine instead gets plain ``dict[str, str]`` (repeated headers
joined with a newline, missing headers simply absent). The builders here make
the action dicts the wrapper sends. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ActionFields = dict[str, str | list[str]]
# What ``send_action`` accepts: any mapping (a ``dict[str, str]`` too).
ActionInput = Mapping[str, str | list[str]]

_SKIPPED = frozenset({"content"})


def message_to_dict(message: Mapping[str, Any]) -> dict[str, str]:
    """A panoramisk message as ``dict[str, str]`` with Asterisk's header names.

    Repeated headers (``Output``, ``ChanVariable``) are joined with newlines.
    """
    result: dict[str, str] = {}
    for key, value in message.items():
        if key.lower() in _SKIPPED:
            continue
        if isinstance(value, list | tuple):
            result[key] = "\n".join(str(item) for item in value)
        else:
            result[key] = str(value)
    return result


def header(message: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name, ``None`` when absent."""
    if name in message:
        return message[name]
    lowered = name.lower()
    for key, value in message.items():
        if key.lower() == lowered:
            return value
    return None


def is_error(response: Mapping[str, str]) -> bool:
    """Whether an action's response says it failed."""
    return (header(response, "Response") or "").lower() in {"error", "fail", "failure"}


def command_output(response: Mapping[str, Any]) -> str:
    """The CLI output of a ``Command`` action's response.

    Asterisk 14+ sends one ``Output:`` header per line; older versions sent a
    ``Response: Follows`` body (kept by panoramisk as ``content``).
    """
    lines: list[str] = []
    for key, value in response.items():
        if key.lower() == "output":
            lines.extend(value if isinstance(value, list | tuple) else [value])
    if not lines:
        content = response.get("content") or ""
        return str(content).removesuffix("--END COMMAND--").rstrip("\n")
    return "\n".join(str(line) for line in lines)


def originate_action(
    channel: str,
    *,
    action_id: str,
    context: str | None = None,
    exten: str | None = None,
    priority: int = 1,
    application: str | None = None,
    data: str | None = None,
    caller_id: str | None = None,
    timeout_ms: int = 30000,
    variables: Mapping[str, str] | None = None,
    channel_id: str | None = None,
    other_channel_id: str | None = None,
) -> ActionFields:
    """The fields of an asynchronous ``Originate`` action.

    Either ``context``/``exten``/``priority`` or ``application``/``data``.
    """
    fields: ActionFields = {
        "Action": "Originate",
        "ActionID": action_id,
        "Channel": channel,
        "Timeout": str(timeout_ms),
        "Async": "true",
    }
    if application is not None:
        fields["Application"] = application
        if data is not None:
            fields["Data"] = data
    else:
        if context is None or exten is None:
            raise ValueError("originate needs context and exten, or application")
        fields.update({"Context": context, "Exten": exten, "Priority": str(priority)})
    optional = {"CallerID": caller_id, "ChannelId": channel_id, "OtherChannelId": other_channel_id}
    fields.update({key: value for key, value in optional.items() if value is not None})
    if variables:
        fields["Variable"] = [f"{name}={value}" for name, value in variables.items()]
    return fields
