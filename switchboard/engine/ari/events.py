"""Typed ARI events, decoded once where a websocket frame arrives.

Every frame Asterisk sends is JSON with a ``type``. :func:`decode_event`
turns it straight into one of the structs below (``msgspec`` reads only the
fields declared here, about eight times faster than ``json.loads`` building
whole dicts — the engine's CPU per call matters, see DESIGN.md). A type not
declared here becomes :class:`UnknownEvent`; the engine asks Asterisk for
:data:`EVENT_TYPES` only, so that is rare.

Field names and meanings are Asterisk 22's (``rest-api/events.json``). Note
that Asterisk has no ``PlaybackFailed`` event: a playback that cannot play
ends with :class:`PlaybackFinished` whose ``state`` is ``failed``.

:meth:`AriEvent.keys` names the channels, bridges, playbacks and recordings
an event concerns, most specific first: the engine routes an event to the
call that owns one of them.
"""

from __future__ import annotations

from typing import Any

import msgspec


class CallerId(msgspec.Struct, frozen=True):
    """A caller or connected-line identity."""

    name: str = ""
    number: str = ""


class DialplanLocation(msgspec.Struct, frozen=True):
    """Where a channel is in the dialplan (ARI's ``DialplanCEP``)."""

    context: str = ""
    exten: str = ""
    priority: int = 0


class ChannelSnapshot(msgspec.Struct, frozen=True):
    """A channel as an event (or a REST answer) describes it."""

    id: str
    name: str = ""
    state: str = ""
    caller: CallerId = CallerId()
    dialplan: DialplanLocation = DialplanLocation()


class BridgeSnapshot(msgspec.Struct, frozen=True):
    """A bridge as an event describes it."""

    id: str
    channels: tuple[str, ...] = ()


class PlaybackSnapshot(msgspec.Struct, frozen=True):
    """A playback: ``target_uri`` is ``channel:<id>`` or ``bridge:<id>``."""

    id: str
    target_uri: str = ""
    media_uri: str = ""
    state: str = ""


class RecordingSnapshot(msgspec.Struct, frozen=True):
    """A live recording, named by the engine (``target_uri`` as for playbacks)."""

    name: str
    target_uri: str = ""
    state: str = ""
    cause: str = ""


class TextMessage(msgspec.Struct, frozen=True, rename={"from_": "from"}):
    """An out-of-call text message (SIP MESSAGE)."""

    from_: str = ""
    to: str = ""
    body: str = ""
    variables: dict[str, str] = {}


class EndpointSnapshot(msgspec.Struct, frozen=True):
    """An endpoint (``PJSIP/alice``)."""

    technology: str = ""
    resource: str = ""
    state: str = ""


def _target(uri: str) -> tuple[str, ...]:
    """The id in a ``channel:<id>`` / ``bridge:<id>`` target URI."""
    kind, sep, ident = uri.partition(":")
    return (ident,) if sep and kind else ()


class AriEvent(msgspec.Struct, frozen=True, tag_field="type"):
    """Base of every event the engine reads; ``type`` on the wire is the class name."""

    def concerns(self) -> tuple[str, ...]:
        """Ids of the channels, bridges, playbacks or recordings this event concerns."""
        return ()


class ChannelEvent(AriEvent, frozen=True):
    """An event about one channel."""

    channel: ChannelSnapshot

    @property
    def channel_id(self) -> str:
        """The channel's id."""
        return self.channel.id

    def concerns(self) -> tuple[str, ...]:
        """The channel."""
        return (self.channel.id,)


class StasisStart(ChannelEvent, frozen=True, tag=True):
    """A channel entered the application, with the ``Stasis()``/originate arguments."""

    args: tuple[str, ...] = ()
    replace_channel: ChannelSnapshot | None = None

    def concerns(self) -> tuple[str, ...]:
        """The channel, then the one it replaces (a masquerade)."""
        if self.replace_channel is None:
            return (self.channel.id,)
        return (self.channel.id, self.replace_channel.id)


class StasisEnd(ChannelEvent, frozen=True, tag=True):
    """A channel left the application (hung up, or continued in the dialplan)."""


class ChannelDestroyed(ChannelEvent, frozen=True, tag=True):
    """A channel is gone; ``cause`` is its Q.850 hang-up cause."""

    cause: int = 0
    cause_txt: str = ""


class ChannelHangupRequest(ChannelEvent, frozen=True, tag=True):
    """Someone asked to hang a channel up (``soft``: only a request to stop an app)."""

    cause: int | None = None
    soft: bool = False


class ChannelDtmfReceived(ChannelEvent, frozen=True, tag=True):
    """A DTMF digit arrived on a channel."""

    digit: str = ""
    duration_ms: int = 0


class ChannelLeftBridge(ChannelEvent, frozen=True, tag=True):
    """A channel left a bridge."""

    bridge: BridgeSnapshot = BridgeSnapshot(id="")

    def concerns(self) -> tuple[str, ...]:
        """The channel, then the bridge."""
        return (self.channel.id, self.bridge.id)


class Dial(AriEvent, frozen=True, tag=True):
    """Progress of a dial: ``peer`` is the dialled channel, ``dialstatus`` empty while it starts."""

    peer: ChannelSnapshot
    dialstatus: str = ""
    caller: ChannelSnapshot | None = None
    dialstring: str = ""

    def concerns(self) -> tuple[str, ...]:
        """The dialled channel, then its caller."""
        if self.caller is None:
            return (self.peer.id,)
        return (self.peer.id, self.caller.id)


class PlaybackFinished(AriEvent, frozen=True, tag=True):
    """A playback ended: ``playback.state`` is ``done``, ``failed`` or ``cancelled``."""

    playback: PlaybackSnapshot

    def concerns(self) -> tuple[str, ...]:
        """The playback, then what it played to."""
        return (self.playback.id, *_target(self.playback.target_uri))


class RecordingFinished(AriEvent, frozen=True, tag=True):
    """A live recording ended and its file is written."""

    recording: RecordingSnapshot

    def concerns(self) -> tuple[str, ...]:
        """The recording, then what it recorded."""
        return (self.recording.name, *_target(self.recording.target_uri))


class RecordingFailed(AriEvent, frozen=True, tag=True):
    """A live recording could not be made."""

    recording: RecordingSnapshot

    def concerns(self) -> tuple[str, ...]:
        """The recording, then what it tried to record."""
        return (self.recording.name, *_target(self.recording.target_uri))


class ApplicationReplaced(AriEvent, frozen=True, tag=True):
    """Another connection registered this application: this one gets no more events."""

    application: str = ""


class TextMessageReceived(AriEvent, frozen=True, tag=True):
    """An out-of-call text message reached an endpoint of the application."""

    message: TextMessage
    endpoint: EndpointSnapshot | None = None


class RestResponse(AriEvent, frozen=True, tag="RESTResponse"):
    """The answer to a REST request sent over the websocket (matched by ``request_id``).

    ``message_body`` is the JSON text an HTTP request would have returned
    (absent or empty for 204); :attr:`body` decodes it when asked.
    """

    request_id: str
    status_code: int
    reason_phrase: str = ""
    uri: str = ""
    message_body: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status_code < 300

    @property
    def body(self) -> Any:
        """The decoded JSON body, ``None`` when empty, the text when it is not JSON."""
        raw = self.message_body
        if not raw:
            return None
        try:
            return msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return raw

    @property
    def error_message(self) -> str:
        """Asterisk's ``message`` from an error body, else the reason phrase."""
        body = self.body
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return str(body["message"])
        return self.reason_phrase or f"HTTP {self.status_code}"


class UnknownEvent(AriEvent, frozen=True, tag="Unknown"):
    """An event of a type not declared here; ``kind`` is its ``type``."""

    kind: str = ""


Event = (
    StasisStart
    | StasisEnd
    | ChannelDestroyed
    | ChannelHangupRequest
    | ChannelDtmfReceived
    | ChannelLeftBridge
    | Dial
    | PlaybackFinished
    | RecordingFinished
    | RecordingFailed
    | ApplicationReplaced
    | TextMessageReceived
    | RestResponse
)

_DECLARED: tuple[type[AriEvent], ...] = (
    StasisStart,
    StasisEnd,
    ChannelDestroyed,
    ChannelHangupRequest,
    ChannelDtmfReceived,
    ChannelLeftBridge,
    Dial,
    PlaybackFinished,
    RecordingFinished,
    RecordingFailed,
    ApplicationReplaced,
    TextMessageReceived,
    RestResponse,
)

# Every ``type`` declared above, as Asterisk names it: what the engine asks Asterisk
# for (``PUT applications/{app}/eventFilter``), so no other event is even encoded.
EVENT_TYPES: tuple[str, ...] = tuple(str(cls.__struct_config__.tag) for cls in _DECLARED)

_decoder = msgspec.json.Decoder(Event)


class _Tagged(msgspec.Struct):
    type: str


_tag_decoder = msgspec.json.Decoder(_Tagged)
_encoder = msgspec.json.Encoder()


def decode_event(frame: str | bytes) -> AriEvent:
    """The typed event in one websocket text frame.

    Raises:
        ValueError: the frame is not a JSON object with a ``type``, or an event
            of a declared type lacks a field it must have.
    """
    try:
        return _decoder.decode(frame)
    except msgspec.ValidationError as exc:
        try:
            kind = _tag_decoder.decode(frame).type
        except msgspec.MsgspecError:
            raise ValueError(f"ARI frame is not an event: {str(frame)[:80]!r}") from exc
        if kind in EVENT_TYPES:
            raise ValueError(f"malformed {kind} event: {exc}") from exc
        return UnknownEvent(kind=kind)
    except msgspec.DecodeError as exc:
        raise ValueError(f"ARI frame is not JSON: {str(frame)[:80]!r}") from exc


def encode_event(event: AriEvent) -> bytes:
    """The JSON of ``event`` with only its declared fields (what :func:`decode_event` reads)."""
    return _encoder.encode(event)


def decode_channel(data: Any) -> ChannelSnapshot:
    """A channel snapshot from a REST answer's decoded JSON.

    Raises:
        ValueError: it is not a channel.
    """
    try:
        return msgspec.convert(data, ChannelSnapshot)
    except msgspec.ValidationError as exc:
        raise ValueError(f"not a channel: {exc}") from exc
