"""The ARI client: one websocket for events AND REST requests.

Asterisk 22 answers REST requests sent over the events websocket, which is
2–10x faster than one HTTP request per call (see DESIGN.md), so this client
keeps exactly one connection per application:

* every event that is not a ``RESTResponse`` goes to ``on_event`` (a plain
  callable: the engine routes events itself);
* ``request()`` writes a ``RESTRequest`` frame and waits for the matching
  ``RESTResponse`` on a future keyed by ``request_id``;
* the connection is supervised by :class:`~switchboard.engine.connection.ConnectionSupervisor`:
  back-off reconnects, a loud give-up on repeated rejections (HTTP 401 is
  reported as ``auth_failed``), websocket ping/pong to notice a dead peer,
  and ``on_connected`` after every (re)connect so the engine can resync.

Asterisk reads one websocket's requests one after another, and some wait
for a channel's own thread (answer, bridge joins), so with many calls in
flight a call's dial would queue behind other calls' requests. With
``rest_lanes`` the client opens that many more websockets (applications
``<app>-rest-<n>``, which no channel ever enters) and sends each request on
the connected one with the fewest answers outstanding; events still arrive
on the main connection only. Channel and bridge operations do not care which
application's connection asked. If no lane is up, requests use the main
connection.

With two lanes or more, the first is kept for requests that start a channel
(``POST channels`` / ``POST channels/{id}``, an originate), the others carry
the rest: a target's dial is the one request on a call's setup path, and it
should never wait behind another call's answer, bridge join or hang-up.

Every frame is decoded once, here, into a typed event
(:mod:`switchboard.engine.ari.events`). Requests pending when the connection
drops fail with :class:`~switchboard.engine.ari.exceptions.AriNotConnected`
and are never re-sent: they may not be idempotent. The engine speaks ARI
through :mod:`switchboard.engine.ari.facade`, which sits on this client.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from switchboard.engine.ari.events import AriEvent, RestResponse, decode_event
from switchboard.engine.ari.exceptions import (
    AriAuthError,
    AriNotConnected,
    AriTimeout,
    request_error,
)
from switchboard.engine.ari.protocol import Query, encode_request
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

EventCallback = Callable[[AriEvent], None]
ConnectedCallback = Callable[[], Awaitable[None]]

# websockets sends a close frame with 1011 when a keepalive ping goes unanswered.
_KEEPALIVE_CLOSE_CODE = 1011


def _starts_channel(method: str, uri: str) -> bool:
    """Whether a request originates a channel: ``POST channels`` or ``POST channels/{id}``."""
    return method == "POST" and uri.startswith("channels") and uri.count("/") <= 1


def _ignore_event(event: AriEvent) -> None:
    """A lane's events: its application has no channels, so there are none to read."""


class AriClient(SupervisedClient):
    """An ARI application connection: events in, REST requests out, one websocket.

    Args:
        host: Asterisk's HTTP host.
        port: Asterisk's HTTP port.
        username: ARI user (``ari.conf``).
        password: ARI password.
        app: the Stasis application name this connection registers.
        on_event: called with every typed event but the REST answers.
        on_connected: awaited after every (re)connect, for resync.
        request_timeout: default seconds to wait for a REST answer.
        connect_timeout: seconds for the TCP + websocket handshake.
        ping_interval: seconds between websocket pings.
        ping_timeout: seconds without a pong before the connection is dead.
        reconnect_max_seconds: cap of the back-off between attempts.
        max_quick_failures: rejections in a row before giving up.
        rest_lanes: extra websockets that carry REST requests only.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        app: str,
        on_event: EventCallback,
        on_connected: ConnectedCallback | None = None,
        request_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        ping_interval: float = 5.0,
        ping_timeout: float = 5.0,
        reconnect_max_seconds: float = 10.0,
        max_quick_failures: int = 3,
        rest_lanes: int = 0,
    ) -> None:
        self._url = f"ws://{host}:{port}/ari/events?app={quote(app)}&subscribeAll=false"
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._auth_header = f"Basic {token}"
        self._username = username
        self._app = app
        self._on_event = on_event
        self._on_connected = on_connected
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[RestResponse]] = {}
        self._ids = itertools.count(1)
        self._tasks = TaskKeeper("ari", log)
        self._lanes = [
            AriClient(
                host=host,
                port=port,
                username=username,
                password=password,
                app=f"{app}-rest-{number}",
                on_event=_ignore_event,
                request_timeout=request_timeout,
                connect_timeout=connect_timeout,
                ping_interval=ping_interval,
                ping_timeout=ping_timeout,
                reconnect_max_seconds=reconnect_max_seconds,
                max_quick_failures=max_quick_failures,
            )
            for number in range(1, rest_lanes + 1)
        ]
        self.requests_sent = 0
        self._supervisor = ConnectionSupervisor(
            name="ari",
            session=self._session,
            backoff=Backoff(base=0.25, cap=max(reconnect_max_seconds, 0.25)),
            tracker=QuickFailureTracker(limit=max_quick_failures),
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        on_event: EventCallback,
        on_connected: ConnectedCallback | None = None,
        **options: Any,
    ) -> AriClient:
        """Build a client from :class:`~switchboard.config.Settings`.

        Args:
            settings: host, port, credentials, app and back-off cap come from here.
            on_event: see the constructor.
            on_connected: see the constructor.
            **options: any other constructor argument (timeouts).
        """
        return cls(
            host=settings.asterisk_host,
            port=settings.ari_port,
            username=settings.ari_user,
            password=settings.ari_password,
            app=settings.ari_app,
            on_event=on_event,
            on_connected=on_connected,
            reconnect_max_seconds=settings.reconnect_max_seconds,
            rest_lanes=settings.ari_rest_lanes,
            **options,
        )

    @property
    def app(self) -> str:
        """The Stasis application name."""
        return self._app

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the websocket is up.

        Raises:
            AriAuthError: the credentials were refused (the client gave up).
            AriNotConnected: not connected within ``timeout``, or the client gave
                up (``details["reason"]`` says why) or is closed.
        """
        try:
            status = await self._supervisor.wait_connected(timeout)
        except TimeoutError:
            status = self._supervisor.status
            if status.reason == "auth_failed":
                raise self._not_connected_error(status) from None
            raise AriNotConnected(
                f"ARI not connected after {timeout}s: {status.last_error or status.state}",
                reason=status.reason,
            ) from None
        if status.state is not ConnectionState.CONNECTED:
            raise self._not_connected_error(status)

    def _not_connected_error(self, status: ConnectionStatus) -> AriNotConnected:
        if status.reason == "auth_failed":
            return AriAuthError(f"ARI login refused: {status.last_error}", reason=status.reason)
        return AriNotConnected(f"ARI {status.state}: {status.last_error}", reason=status.reason)

    async def request(
        self,
        method: str,
        uri: str,
        query: Query | None = None,
        body: Any = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """Send one REST request over the websocket and wait for its answer.

        Args:
            method: ``GET``, ``POST``, ``PUT`` or ``DELETE``.
            uri: resource path relative to ``/ari/``, e.g. ``channels/abc/answer``.
            query: query parameters (``None`` values are left out).
            body: JSON body (e.g. ``{"variables": {...}}``).
            timeout: seconds to wait; defaults to ``request_timeout``.

        Returns:
            The decoded JSON body, or ``None`` for an empty answer (204).

        Raises:
            AriNotConnected: no connection, or it dropped before the answer
                (``details["sent"]`` says whether the request went out).
            AriTimeout: no answer in time.
            AriRequestError: Asterisk answered 4xx/5xx (``AriNotFound`` for 404,
                ``AriConflict`` for 409).
        """
        lane = self._lane_for(method, uri)
        if lane is not self:
            return await lane.request(method, uri, query, body, timeout=timeout)
        ws = self._ws
        if ws is None:
            raise AriNotConnected(
                "ARI is not connected",
                method=method,
                uri=uri,
                sent=False,
                reason=self.status.reason,
            )
        request_id = str(next(self._ids))
        future: asyncio.Future[RestResponse] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            try:
                await ws.send(encode_request(request_id, method, uri, query=query, body=body))
                self.requests_sent += 1
            except ConnectionClosed:
                raise AriNotConnected(
                    "ARI connection closed", method=method, uri=uri, sent=False
                ) from None
            wait = self._request_timeout if timeout is None else timeout
            try:
                async with asyncio.timeout(wait):
                    response = await future
            except TimeoutError:
                raise AriTimeout(
                    f"no answer to {method} {uri} within {wait}s", method=method, uri=uri
                ) from None
            except AriNotConnected:
                raise AriNotConnected(
                    f"ARI connection lost before the answer to {method} {uri}",
                    method=method,
                    uri=uri,
                    sent=True,
                ) from None
        finally:
            self._pending.pop(request_id, None)
        if not response.ok:
            raise request_error(
                response.status_code,
                response.error_message,
                method=method,
                uri=uri,
                reason=response.reason_phrase,
                body=response.body,
            )
        return response.body

    @property
    def lanes(self) -> tuple[AriClient, ...]:
        """The REST-only connections (empty without ``rest_lanes``)."""
        return tuple(self._lanes)

    def start(self) -> None:
        """Start connecting the main connection and every lane in the background."""
        super().start()
        for lane in self._lanes:
            lane.start()

    async def close(self) -> None:
        """Close every lane, then the main connection."""
        for lane in self._lanes:
            await lane.close()
        await super().close()

    def _lane_for(self, method: str, uri: str) -> AriClient:
        """The dial lane for an originate, else the least busy other lane."""
        if len(self._lanes) < 2:
            return self._least_busy(self._lanes)
        dial_lane, others = self._lanes[0], self._lanes[1:]
        if _starts_channel(method, uri) and dial_lane._ws is not None:
            return dial_lane
        busy = self._least_busy(others)
        return busy if busy is not self else self._least_busy([dial_lane])

    def _least_busy(self, lanes: list[AriClient]) -> AriClient:
        """The connected lane with the fewest answers outstanding, else this client."""
        best: AriClient = self
        for lane in lanes:
            if lane._ws is None:
                continue
            if best is self or len(lane._pending) < len(best._pending):
                best = lane
        return best

    async def _session(self) -> None:
        ws = await self._open()
        self._ws = ws
        self._supervisor.mark_connected()
        if self._on_connected is not None:
            self._spawn(self._on_connected(), "ari-on-connected")
        try:
            async for frame in ws:
                self._handle_frame(frame)
        except ConnectionClosed:
            pass  # reported below from the close code
        finally:
            self._ws = None
            self._fail_pending()
            await ws.close()
        sent = ws.protocol.close_sent
        if sent is not None and sent.code == _KEEPALIVE_CLOSE_CODE:
            raise ConnectionLost("dead_connection", "ARI websocket stopped answering pings")
        raise ConnectionLost(
            "lost", f"ARI websocket closed (code {ws.close_code}, {ws.close_reason!r})"
        )

    async def _open(self) -> ClientConnection:
        try:
            return await connect(
                self._url,
                additional_headers={"Authorization": self._auth_header},
                open_timeout=self._connect_timeout,
                ping_interval=self._ping_interval,
                ping_timeout=self._ping_timeout,
                close_timeout=1.0,
                compression=None,
                proxy=None,
                max_size=None,
                max_queue=None,
            )
        except InvalidStatus as exc:
            code = exc.response.status_code
            if code in (401, 403):
                raise ConnectionRejected(
                    "auth_failed",
                    f"Asterisk refused ARI user {self._username!r} (HTTP {code})",
                ) from None
            raise ConnectionLost(
                "handshake_failed", f"ARI websocket handshake answered HTTP {code}"
            ) from None
        except InvalidHandshake as exc:
            raise ConnectionLost("handshake_failed", f"ARI websocket handshake: {exc}") from None

    def _handle_frame(self, frame: str | bytes) -> None:
        try:
            event = decode_event(frame)
        except ValueError as exc:
            log.warning("ARI sent an undecodable frame", extra={"error": str(exc)})
            return
        if isinstance(event, RestResponse):
            self._resolve(event)
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("ARI event callback failed", extra={"event_type": type(event).__name__})

    def _resolve(self, response: RestResponse) -> None:
        future = self._pending.get(response.request_id)
        if future is None or future.done():
            log.debug("RESTResponse for an abandoned request", extra={"uri": response.uri})
            return
        future.set_result(response)

    def _fail_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(
                    AriNotConnected("ARI connection lost before the answer", sent=True)
                )
