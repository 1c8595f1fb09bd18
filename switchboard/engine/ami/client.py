"""The AMI client: panoramisk 1.4, kept behind this one module.

panoramisk parses and frames AMI messages well; its connection handling is
what this wrapper replaces, because each weak spot matters for a phone
system:

* a failed login is silent (``connect()`` returns, ``authenticated`` stays
  false) — here the login answer is awaited and a refusal raises
  :class:`~switchboard.engine.ami.exceptions.AmiAuthError` (and the
  supervisor gives up loudly after a few);
* a dead TCP peer goes unnoticed — here a ping watchdog aborts the transport
  when a ``Ping`` is not answered in time, and the supervisor reconnects;
* actions unanswered at a disconnect are re-sent after the reconnect (an
  ``Originate`` would ring twice) — here every connection gets a fresh
  panoramisk ``Manager`` that is thrown away with it, and its unanswered
  actions fail with :class:`~switchboard.engine.ami.exceptions.AmiNotConnected`;
* coroutine callbacks are started without a reference — here events go to
  one plain ``on_event`` callable, and every task we start is kept and logged;
* a missing header reads as ``''`` — here messages become plain
  ``dict[str, str]`` where a missing header is absent.

Reconnects use the shared :mod:`switchboard.engine.connection` supervisor.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

from panoramisk.ami_protocol import AMIProtocol

from switchboard.engine.ami.exceptions import (
    AmiActionError,
    AmiAuthError,
    AmiNotConnected,
    AmiTimeout,
)
from switchboard.engine.ami.manager import OneShotManager
from switchboard.engine.ami.messages import ActionInput, is_error, message_to_dict
from switchboard.engine.ami.operations import AmiOperations
from switchboard.engine.connection import (
    Backoff,
    ConnectionLost,
    ConnectionRejected,
    ConnectionState,
    ConnectionStatus,
    ConnectionSupervisor,
    QuickFailureTracker,
    SupervisedClient,
)
from switchboard.tasks import TaskKeeper

if TYPE_CHECKING:
    from switchboard.config import Settings

log = logging.getLogger(__name__)

AmiEventCallback = Callable[[dict[str, str]], None]

_EVENT_NAME = re.compile(r"^\w+$")
ConnectedCallback = Callable[[], Awaitable[None]]


class AmiClient(AmiOperations, SupervisedClient):
    """One supervised AMI connection.

    Args:
        host: Asterisk's AMI host.
        port: AMI port.
        username: manager user (``manager.conf``).
        secret: its secret.
        on_event: called with each event as ``dict[str, str]``.
        events: only these event names reach ``on_event`` (``None``: all). Asterisk
            is asked (AMI ``Filter``) to send only these; without ``on_event`` it is
            asked to send none but ``OriginateResponse``.
        login_events: the login's ``Events`` mask: ``on`` (all), ``off``, or
            classes such as ``call,system`` so Asterisk sends less.
        on_connected: awaited after every (re)connect, e.g. to resync AstDB.
        action_timeout: default seconds to wait for an action's answer.
        connect_timeout: seconds for TCP connect plus login.
        ping_interval: seconds between watchdog pings.
        ping_timeout: seconds without a ``Pong`` before the connection is dead.
        reconnect_max_seconds: cap of the back-off between attempts.
        max_quick_failures: refusals in a row before giving up.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        on_event: AmiEventCallback | None = None,
        events: Collection[str] | None = None,
        login_events: str = "on",
        on_connected: ConnectedCallback | None = None,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        ping_interval: float = 5.0,
        ping_timeout: float = 3.0,
        reconnect_max_seconds: float = 10.0,
        max_quick_failures: int = 3,
    ) -> None:
        super().__init__()
        self._host = host
        self._port = port
        self._username = username
        self._secret = secret
        self._on_event = on_event
        self._events = frozenset(events) if events is not None else None
        self._login_events = login_events
        self._on_connected = on_connected
        self._action_timeout = action_timeout
        self._connect_timeout = connect_timeout
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._manager: OneShotManager | None = None
        self._inflight: set[asyncio.Future[Any]] = set()
        self._tasks = TaskKeeper("ami", log)
        self._supervisor = ConnectionSupervisor(
            name="ami",
            session=self._session,
            backoff=Backoff(base=0.25, cap=max(reconnect_max_seconds, 0.25)),
            tracker=QuickFailureTracker(limit=max_quick_failures),
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        on_event: AmiEventCallback | None = None,
        **options: Any,
    ) -> AmiClient:
        """Build a client from :class:`~switchboard.config.Settings`."""
        return cls(
            host=settings.asterisk_host,
            port=settings.ami_port,
            username=settings.ami_user,
            secret=settings.ami_secret,
            on_event=on_event,
            reconnect_max_seconds=settings.reconnect_max_seconds,
            **options,
        )

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until logged in.

        Raises:
            AmiAuthError: the supervisor gave up because the login was refused.
            AmiNotConnected: not connected within ``timeout``, gave up, or closed.
        """
        try:
            status = await self._supervisor.wait_connected(timeout)
        except TimeoutError:
            status = self._supervisor.status
            if status.reason == "auth_failed":
                raise self._not_connected_error(status) from None
            raise AmiNotConnected(
                f"AMI not connected after {timeout}s: {status.last_error or status.state}",
                reason=status.reason,
            ) from None
        if status.state is not ConnectionState.CONNECTED:
            raise self._not_connected_error(status)

    async def send_action(
        self,
        fields: ActionInput,
        *,
        timeout: float | None = None,
        as_list: bool | None = None,
    ) -> list[dict[str, str]]:
        """Send one action and wait for its complete answer.

        Args:
            fields: the action's headers (``Action`` first); a list value
                repeats the header.
            timeout: seconds to wait; defaults to ``action_timeout``.
            as_list: force (True) or forbid (False) collecting an event list;
                ``None`` lets panoramisk detect it.

        Returns:
            The response followed by the events that belong to it.

        Raises:
            AmiNotConnected: no connection, or it dropped before the answer.
            AmiTimeout: no complete answer in time (the action is not re-sent).
            AmiActionError: Asterisk answered ``Response: Error``.
        """
        manager = self._manager
        action = str(fields.get("Action", "?"))
        if manager is None or manager.lost.done():
            raise AmiNotConnected(
                "AMI is not connected", action=action, sent=False, reason=self.status.reason
            )
        future: asyncio.Future[Any] = manager.send_action(dict(fields), as_list=as_list)
        self._inflight.add(future)
        wait = self._action_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(wait):
                answer = await future
        except TimeoutError:
            self._forget(manager, future)
            raise AmiTimeout(f"no answer to {action} within {wait}s", action=action) from None
        except AmiNotConnected:
            raise AmiNotConnected(
                f"AMI connection lost before the answer to {action}", action=action, sent=True
            ) from None
        finally:
            self._inflight.discard(future)
        messages = [message_to_dict(m) for m in (answer if isinstance(answer, list) else [answer])]
        if messages and is_error(messages[0]):
            raise AmiActionError(action, messages[0].get("Message", ""), response=messages[0])
        return messages

    def _not_connected_error(self, status: ConnectionStatus) -> AmiNotConnected:
        if status.reason == "auth_failed":
            return AmiAuthError(f"AMI login refused: {status.last_error}", reason=status.reason)
        return AmiNotConnected(f"AMI {status.state}: {status.last_error}", reason=status.reason)

    async def _session(self) -> None:
        loop = asyncio.get_running_loop()
        manager = OneShotManager(
            forward=self._dispatch,
            loop=loop,
            host=self._host,
            port=self._port,
            username=self._username,
            secret=self._secret,
            events=self._login_events,
            ping_delay=3600,
        )
        try:
            await self._login(manager)
            self._manager = manager
            await self._install_filters()
            self._supervisor.mark_connected()
            if self._on_connected is not None:
                self._spawn(self._on_connected(), "ami-on-connected")
            await self._watch(manager)
        finally:
            self._manager = None
            self._fail_inflight()
            manager.close()

    async def _login(self, manager: OneShotManager) -> None:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self._connect_timeout):
            transport, protocol = await loop.create_connection(AMIProtocol, self._host, self._port)
        made: asyncio.Future[tuple[Any, Any]] = loop.create_future()
        made.set_result((transport, protocol))
        manager.connection_made(made)  # panoramisk wires the protocol and sends Login
        login: asyncio.Future[Any] = manager.authenticated_future
        done, _ = await asyncio.wait(
            {login, manager.lost},
            timeout=self._connect_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if login not in done:
            reason = "lost" if manager.lost.done() else "login_timeout"
            raise ConnectionLost(reason, f"AMI login got no answer ({reason})")
        response = login.result()
        if not response.success:
            message = str(response.get("Message", ""))
            if "authentication" not in message.lower():
                # e.g. "Asterisk is shutting down" during a restart: retry, do not give up
                raise ConnectionLost("login_refused", f"AMI login refused: {message}")
            raise ConnectionRejected(
                "auth_failed", f"Asterisk refused AMI user {self._username!r}: {message}"
            )

    def _server_filter(self) -> frozenset[str] | None:
        """Event names Asterisk should send at all (``None``: everything).

        ``OriginateResponse`` is always wanted: it carries Originate's outcome.
        """
        if self._on_event is None:
            return frozenset({"OriginateResponse"})
        if self._events is None or not all(_EVENT_NAME.match(name) for name in self._events):
            return None
        return self._events | {"OriginateResponse"}

    async def _install_filters(self) -> None:
        """Ask Asterisk to send only the events we use (it sends dozens per call).

        AMI filters are regular expressions over the event text, so ``Event: Hangup``
        also lets ``HangupRequest`` through; ``_dispatch`` still matches names exactly.
        """
        wanted = self._server_filter()
        for name in sorted(wanted or ()):
            try:
                await self.send_action(
                    {"Action": "Filter", "Operation": "Add", "Filter": f"Event: {name}"}
                )
            except AmiActionError as exc:
                log.warning("AMI event filter refused; receiving every event: %s", exc)
                return

    async def _watch(self, manager: OneShotManager) -> None:
        """Ping until the connection is lost or stops answering."""
        while True:
            await asyncio.wait({manager.lost}, timeout=self._ping_interval)
            if manager.lost.done():
                raise ConnectionLost("lost", "AMI connection closed by Asterisk")
            try:
                await self.send_action({"Action": "Ping"}, timeout=self._ping_timeout)
            except AmiTimeout:
                log.error("AMI ping unanswered for %.1fs: dropping connection", self._ping_timeout)
                manager.protocol.transport.abort()
                raise ConnectionLost("dead_connection", "AMI stopped answering pings") from None
            except AmiNotConnected:
                raise ConnectionLost("lost", "AMI connection closed by Asterisk") from None

    def _dispatch(self, message: Any) -> None:
        if self._on_event is None:
            return
        name = message.get("Event", "")
        if self._events is not None and name not in self._events:
            return
        try:
            self._on_event(message_to_dict(message))
        except Exception:
            log.exception("AMI event callback failed", extra={"event_name": name})

    def _forget(self, manager: OneShotManager, future: asyncio.Future[Any]) -> None:
        responses = getattr(manager.protocol, "responses", {})
        for key, action in list(responses.items()):
            if getattr(action, "future", None) is future:
                responses.pop(key, None)

    def _fail_inflight(self) -> None:
        inflight, self._inflight = self._inflight, set()
        for future in inflight:
            if not future.done():
                future.set_exception(
                    AmiNotConnected("AMI connection lost before the answer", sent=True)
                )

