"""Runs verbs on ARI: the one place where a call flow touches Asterisk.

Forwarding rules, the built-in app and customers' voice documents all reach
the caller through :class:`FlowExecutor`. A verb may hand back a new voice
document (``Redirect``, or an ``action`` URL's answer), which replaces the
rest of the current one, as at the provider.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from switchboard.callflow.verbs import (
    Dial,
    DialOutcome,
    Gather,
    Hangup,
    Pause,
    Play,
    Record,
    Redirect,
    Reject,
    Say,
    SendText,
    Verb,
)
from switchboard.callflow.voicedoc.exceptions import VoiceUrlError
from switchboard.engine.ari.events import AriEvent, ChannelDtmfReceived
from switchboard.engine.ari.facade import Ari, quietly
from switchboard.engine.calllog import CallLogWriter
from switchboard.engine.calls.call import Call, CallerGone
from switchboard.engine.calls.callbacks import status_callback
from switchboard.engine.calls.channel_ops import CallChannel, is_playback_end
from switchboard.engine.calls.dialing import Dialer
from switchboard.engine.calls.edge import CallEdge, TrunkDialing
from switchboard.engine.calls.recorder import Ami, Recorder
from switchboard.engine.calls.voice_app import VoiceApp
from switchboard.engine.events import CallRegistry
from switchboard.engine.media import MediaCache
from switchboard.engine.recordings import RecordingStore

log = logging.getLogger(__name__)

# A verb's result: keep going, stop the call, or run this document instead.
Next = list[Verb] | bool

APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."


class FlowExecutor:
    """Executes a call's verbs, in order, against Asterisk."""

    def __init__(
        self,
        *,
        ari: Ari,
        ami: Ami,
        registry: CallRegistry,
        writer: CallLogWriter,
        recordings: RecordingStore,
        clock: Callable[[], datetime],
        media: MediaCache | None = None,
        voice_app: VoiceApp | None = None,
        recording_url: Callable[[str], str] = lambda sid: sid,
        edge: CallEdge | None = None,
    ) -> None:
        self.edge: CallEdge = edge or TrunkDialing()
        self.channel = CallChannel(ari=ari, registry=registry, clock=clock)
        self.recorder = Recorder(
            channel=self.channel, ami=ami, edge=self.edge, writer=writer, recordings=recordings
        )
        self.dialer = Dialer(
            channel=self.channel, edge=self.edge, writer=writer, recorder=self.recorder
        )
        self._writer = writer
        self._media = media
        self._voice_app = voice_app
        self._recording_url = recording_url
        self._clock = clock
        self.channel.on_answer = self._answered
        # <Sms>/<Message>: (tenant id, call SID, the call's number, the other party, verb),
        # set by the composition root (services/messaging/calls.py).
        self.send_text: Callable[[str, str, str, str, SendText], Awaitable[None]] | None = None
        # Why a number may not be dialled for a tenant (do-not-call), or None; in memory.
        self.call_screen: Callable[[str, str], str | None] | None = None

    def _answered(self, call: Call) -> None:
        if self._voice_app is not None:
            status_callback(self._writer, self._voice_app, call, "in-progress", now=self._clock())

    async def run(self, call: Call, verbs: list[Verb]) -> None:
        """Run ``verbs`` until one ends the call or the caller hangs up."""
        pending = list(verbs)
        try:
            while pending and not call.caller_gone:
                verb = pending.pop(0)
                only_after = getattr(verb, "only_after", None)
                if only_after is not None and call.last_outcome not in only_after:
                    continue
                outcome = await self._run_verb(call, verb)
                if outcome is False:
                    break
                if isinstance(outcome, list):
                    pending = outcome
        except CallerGone:
            log.info("caller hung up", extra={"status": str(call.status)})

    async def hangup(self, call: Call, *, reason: str = "normal") -> None:
        """Hang the caller up (if still there)."""
        await self.channel.hangup(call, reason=reason)

    async def application_error(self, call: Call, why: str) -> None:
        """What the provider does on a broken voice document: say so and hang up."""
        log.error("application error", extra={"error": why})
        self._writer.update_call(call.call_sid, error=why)
        await self.say(call, Say(text=APPLICATION_ERROR))
        await self.hangup(call)

    async def _run_verb(self, call: Call, verb: Verb) -> Next:
        match verb:
            case Dial():
                return await self._dial(call, verb)
            case Record():
                return await self._record(call, verb)
            case Say():
                await self.say(call, verb)
            case Play():
                await self.play(call, verb)
            case Pause():
                await self.channel.pause(call, verb.length)
            case Gather():
                return await self._gather(call, verb)
            case Redirect():
                return await self._follow(call, verb.url, verb.method, {})
            case Hangup():
                await self.hangup(call)
                return False
            case Reject():
                await self.hangup(call, reason="busy" if verb.reason == "busy" else "rejected")
                return False
            case SendText():
                await self._send_text(call, verb)
        return True

    async def _send_text(self, call: Call, verb: SendText) -> None:
        """Hand the text to the messaging services (set by the composition root); go on."""
        if self.send_text is None or call.route is None:
            log.warning("text verb skipped: no messaging in this engine")
            return
        party = call.from_number if call.direction == "INBOUND" else call.to_number
        try:
            await self.send_text(call.route.tenant_id, call.call_sid, call.route.did, party, verb)
        except Exception:  # a text never breaks the call
            log.exception("text verb failed")

    # -- media -----------------------------------------------------------------

    async def _media_uri(self, verb: Say | Play) -> str | None:
        if isinstance(verb, Say):
            if self._media is None:
                return None
            return (await self._media.say_to_file(verb.text, verb.voice, verb.language)).uri
        if verb.url.startswith("sound:") or self._media is None:
            return verb.url or None
        return (await self._media.fetch_audio(verb.url)).uri

    async def say(self, call: Call, verb: Say) -> None:
        """Speak ``verb.text`` (rendered locally), ``loop`` times."""
        await self._play_uri(call, await self._media_uri(verb), verb.loop)

    async def play(self, call: Call, verb: Play) -> None:
        """Play a file or URL, or send DTMF ``digits``."""
        if verb.digits:
            await self.channel.answer(call)
            await quietly(call.caller.send_dtmf(verb.digits))
            return
        await self._play_uri(call, await self._media_uri(verb), verb.loop)

    async def _play_uri(self, call: Call, uri: str | None, loop: int) -> None:
        if uri is None:
            log.warning("nothing to play (no media cache for this verb)")
            return
        for _ in range(loop if loop > 0 else 1000):
            await self.channel.play(call, uri)

    # -- verbs with a next document -----------------------------------------------

    async def _follow(self, call: Call, url: str, method: str, extra: dict[str, str]) -> Next:
        if self._voice_app is None:
            log.warning("no voice app to follow", extra={"url": url})
            return True
        try:
            return await self._voice_app.follow(call, url, method, extra)
        except VoiceUrlError as exc:
            await self.application_error(call, f"{exc.error_id}: {exc.message} ({exc.url})")
            return False

    async def _dial(self, call: Call, verb: Dial) -> Next:
        if self.call_screen is not None and call.route is not None:
            verb = self._screened(call.route.tenant_id, verb)
        result = await self.dialer.dial(call, verb)
        call.last_outcome = result.outcome
        if result.recording and verb.recording_status_callback and call.route:
            self._recording_callback(
                call,
                verb.recording_status_callback,
                result.recording.sid,
                result.recording.duration,
                channels=result.recording.channels,
                source="DialVerb",
            )
        if not verb.action:
            return True
        status = "answered" if result.outcome == DialOutcome.COMPLETED else result.outcome.value
        extra = {"DialCallStatus": "completed" if status == "answered" else status}
        if result.leg is not None:
            extra["DialCallSid"] = result.leg.leg_sid
            extra["DialCallDuration"] = str(result.seconds)
        return await self._follow(call, verb.action, verb.method, extra)

    def _screened(self, tenant_id: str, verb: Dial) -> Dial:
        """The Dial without the numbers the tenant may not call (do-not-call list)."""
        assert self.call_screen is not None
        kept = []
        for target in verb.targets:
            refusal = (self.call_screen(tenant_id, target.value)
                       if target.kind == "number" else None)
            if refusal is None:
                kept.append(target)
            else:
                log.warning("target not dialled: %s", refusal)
        return verb if len(kept) == len(verb.targets) else replace(verb, targets=tuple(kept))

    async def _record(self, call: Call, verb: Record) -> Next:
        result = await self.recorder.record(call, verb)
        recorded_or_refused = result.recording_sid or result.refused
        if recorded_or_refused and verb.recording_status_callback and call.route:
            self._recording_callback(
                call,
                verb.recording_status_callback,
                result.recording_sid,
                result.duration,
                channels=1,
                source="RecordVerb",
                refused=result.refused,
            )
        if verb.action:
            extra = {"Digits": result.digits, "RecordingDuration": str(round(result.duration))}
            if result.recording_sid:
                extra["RecordingSid"] = result.recording_sid
                extra["RecordingUrl"] = self._recording_url(result.recording_sid)
            # As at the provider, the action URL hears of a recording even when
            # the caller hung up to end it; its document then has nobody to run for.
            following = await self._follow(call, verb.action, verb.method, extra)
        else:
            following = True
        if result.caller_gone:
            raise CallerGone
        return following

    def _recording_callback(
        self,
        call: Call,
        url: str,
        sid: str | None,
        seconds: float,
        *,
        channels: int,
        source: str,
        refused: str | None = None,
    ) -> None:
        """Tell ``url`` of a recording: ``completed``, or ``failed`` when it was refused.

        A refused recording (the plan's storage is full) has no SID or URL;
        ``RecordingErrorReason`` (ours, not the provider's) carries the reason.
        """
        assert call.route is not None
        params = {
            "AccountSid": call.route.account_sid,
            "CallSid": call.call_sid,
            "RecordingStatus": "failed" if refused else "completed",
            "RecordingDuration": str(round(seconds)),
            "RecordingChannels": str(channels),
            "RecordingSource": source,
        }
        if sid is not None:
            params["RecordingSid"] = sid
            params["RecordingUrl"] = self._recording_url(sid)
        if refused:
            params["RecordingErrorReason"] = refused
        self._writer.enqueue_callback(
            tenant_id=call.route.tenant_id,
            call_sid=call.call_sid,
            url=url,
            method="POST",
            params=params,
            kind="recording",
        )

    async def _gather(self, call: Call, verb: Gather) -> Next:
        """Play the prompts, collect DTMF, post ``Digits`` to the action URL."""
        await self.channel.answer(call)
        digits = await self._collect(call, verb)
        if verb.finish_on_key and digits.endswith(verb.finish_on_key):
            digits = digits[: -len(verb.finish_on_key)]
        if not digits or not verb.action:
            return True  # no input: fall through to the next verb, as at the provider
        return await self._follow(call, verb.action, verb.method, {"Digits": digits})

    async def _collect(self, call: Call, verb: Gather) -> str:
        digits = ""

        def complete() -> bool:
            if verb.finish_on_key and digits.endswith(verb.finish_on_key):
                return True
            return verb.num_digits is not None and len(digits) >= verb.num_digits

        for prompt in verb.prompts:
            if digits:
                break
            if isinstance(prompt, Pause):
                digits += await self._digits_for(call, prompt.length, None)
                continue
            uri = await self._media_uri(prompt)
            for _ in range(max(prompt.loop, 1) if uri else 0):
                assert uri is not None
                playback_id = await self.channel.start_playback(call, uri)
                try:
                    digits += await self._digits_for(call, 3600, playback_id)
                finally:
                    self.channel.registry.detach(playback_id)
                if digits:
                    await quietly(self.channel.ari.stop_playback(playback_id))
                    break
        while not complete():
            more = await self._digits_for(call, verb.timeout, None)
            if not more:
                break
            digits += more
        return digits

    async def _digits_for(self, call: Call, seconds: float, playback_id: str | None) -> str:
        """The first digit pressed within ``seconds`` (or before the playback ends)."""

        def digit_or_end(event: AriEvent) -> bool:
            if isinstance(event, ChannelDtmfReceived):
                return event.channel.id == call.channel_id
            return playback_id is not None and is_playback_end(event, playback_id)

        event = await self.channel.wait_for(call, digit_or_end, timeout=seconds)
        return event.digit if isinstance(event, ChannelDtmfReceived) else ""
