"""Typed AMI operations the engine needs, over ``send_action``.

AstDB (the dialplan fallback's data), CLI commands, MixMonitor, Originate and
Ping. Everything takes and returns plain ``str``/``dict[str, str]``.
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping

from switchboard.engine.ami.exceptions import (
    AmiActionError,
    AmiNotConnected,
    AmiTimeout,
)
from switchboard.engine.ami.messages import (
    ActionFields,
    ActionInput,
    command_output,
    originate_action,
)

_NOT_DELETED = (
    "database entry not deleted",
    "database entry could not be deleted",
    "database entry not found",
)
_REMEMBERED_ORIGINATES = 10_000


class AmiOperations(abc.ABC):
    """AMI helpers; a subclass supplies ``send_action``."""

    def __init__(self) -> None:
        self._originates: OrderedDict[str, asyncio.Future[dict[str, str]]] = OrderedDict()

    @abc.abstractmethod
    async def send_action(
        self,
        fields: ActionInput,
        *,
        timeout: float | None = None,
        as_list: bool | None = None,
    ) -> list[dict[str, str]]:
        """Send one action; the response first, then its events."""

    # AstDB ----------------------------------------------------------------

    async def db_put(self, family: str, key: str, value: str) -> None:
        """Store ``value`` at ``family/key``."""
        await self.send_action({"Action": "DBPut", "Family": family, "Key": key, "Val": value})

    async def db_deltree(self, family: str, key: str | None = None) -> bool:
        """Delete a whole family (or the subtree under ``key``)."""
        fields: ActionFields = {"Action": "DBDelTree", "Family": family}
        if key is not None:
            fields["Key"] = key
        return await self._delete(fields)

    async def _delete(self, fields: ActionFields) -> bool:
        try:
            await self.send_action(fields)
        except AmiActionError as exc:
            if exc.asterisk_message.lower() in _NOT_DELETED:
                return False
            raise
        return True

    # CLI, recording -------------------------------------------------------

    async def command(self, cli_command: str, *, timeout: float | None = None) -> str:
        """Run a CLI command and return its output."""
        messages = await self.send_action(
            {"Action": "Command", "Command": cli_command}, timeout=timeout, as_list=False
        )
        return command_output(messages[0])

    async def mixmonitor(self, channel: str, file: str, options: str = "") -> None:
        """Start MixMonitor on ``channel`` into ``file`` (options e.g. ``b`` or ``r(..)t(..)``)."""
        fields: ActionFields = {"Action": "MixMonitor", "Channel": channel, "File": file}
        if options:
            fields["Options"] = options
        await self.send_action(fields)

    async def stop_mixmonitor(self, channel: str, mixmonitor_id: str | None = None) -> None:
        """Stop MixMonitor on ``channel`` (all of them unless an id is given)."""
        fields: ActionFields = {"Action": "StopMixMonitor", "Channel": channel}
        if mixmonitor_id:
            fields["MixMonitorID"] = mixmonitor_id
        await self.send_action(fields)

    async def ping(self) -> float:
        """Round-trip time of a ``Ping`` action, in seconds."""
        started = time.perf_counter()
        await self.send_action({"Action": "Ping"})
        return time.perf_counter() - started

    # Originate ------------------------------------------------------------

    async def originate(
        self,
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
    ) -> dict[str, str]:
        """Originate a call; returns the ``OriginateResponse`` event.

        Idempotent per ``action_id`` within this client: a second call with the
        same id waits for (or returns) the first one's outcome instead of
        ringing again, and an action whose answer was lost is never re-sent.

        Raises:
            AmiActionError: Asterisk refused it or the call failed (``Reason``).
            AmiNotConnected: not connected (``sent=False``: safe to retry) or the
                connection dropped after sending (``sent=True``: in doubt; the
                same ``action_id`` keeps failing the same way).
            AmiTimeout: no outcome in time (in doubt, remembered likewise).
        """
        earlier = self._originates.get(action_id)
        if earlier is not None:
            return await asyncio.shield(earlier)
        outcome: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self._remember(action_id, outcome)
        fields = originate_action(
            channel,
            action_id=action_id,
            context=context,
            exten=exten,
            priority=priority,
            application=application,
            data=data,
            caller_id=caller_id,
            timeout_ms=timeout_ms,
            variables=variables,
            channel_id=channel_id,
            other_channel_id=other_channel_id,
        )
        try:
            messages = await self.send_action(fields, timeout=timeout_ms / 1000 + 10)
            result = messages[-1]
            if result.get("Response", "").lower() == "failure":
                raise AmiActionError("Originate", result.get("Reason", "failed"), response=result)
        except (AmiTimeout, AmiNotConnected) as exc:
            if isinstance(exc, AmiNotConnected) and not exc.details.get("sent"):
                self._originates.pop(action_id, None)
            outcome.set_exception(exc)
            outcome.exception()  # retrieved here; later callers re-raise it
            raise
        except BaseException:
            self._originates.pop(action_id, None)
            outcome.cancel()
            raise
        outcome.set_result(result)
        return result

    def _remember(self, action_id: str, outcome: asyncio.Future[dict[str, str]]) -> None:
        self._originates[action_id] = outcome
        while len(self._originates) > _REMEMBERED_ORIGINATES:
            _, dropped = self._originates.popitem(last=False)
            if not dropped.done():
                dropped.cancel()
