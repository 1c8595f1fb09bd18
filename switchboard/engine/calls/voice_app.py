"""A call's voice URL: where its voice documents come from, as at a provider.

The first document comes from the number's voice URL (then its fallback
URL); later ones from ``Redirect`` and ``action`` URLs, each request a
signed form POST (or GET) with the call's parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from switchboard.callflow.verbs import Verb
from switchboard.engine.calls.call import Call
from switchboard.engine.voice_url import (
    VoiceUrlResult,
    call_params,
    fetch_voice_document,
    fetch_with_fallback,
)
from switchboard.fetch_policy import GuardedClient, require_guarded

log = logging.getLogger(__name__)


class VoiceApp:
    """Fetches voice documents for calls."""

    def __init__(self, client: GuardedClient, *, timeout: float) -> None:
        self._client = require_guarded(client, "the voice app")
        self._timeout = timeout

    def params(self, call: Call, call_status: str) -> dict[str, str]:
        """The provider's form parameters describing ``call`` now."""
        route = call.route
        return call_params(
            call_sid=call.call_sid,
            account_sid=route.account_sid if route else "",
            from_number=call.from_number,
            to_number=call.to_number,
            call_status=call_status,
            direction="inbound" if call.direction == "INBOUND" else "outbound-api",
            parent_call_sid=None,
        )

    async def first_document(self, call: Call) -> VoiceUrlResult:
        """The number's voice URL, then its fallback URL (see ``fetch_with_fallback``)."""
        route = call.route
        assert route is not None and route.voice_url
        return await fetch_with_fallback(
            self._client,
            url=route.voice_url,
            method=route.voice_method,
            fallback_url=route.voice_fallback_url,
            params=self.params(call, "ringing"),
            auth_token=route.auth_token,
            timeout=self._timeout,
        )

    async def follow(
        self, call: Call, url: str, method: str, extra: Mapping[str, str] | None = None
    ) -> list[Verb]:
        """The document at a ``Redirect``/``action`` URL.

        Raises:
            VoiceUrlError: unreachable, bad status, timeout or bad document.
        """
        route = call.route
        params = self.params(call, "in-progress" if call.caller_answered else "ringing")
        params.update(extra or {})
        return await fetch_voice_document(
            self._client,
            url=url,
            method=method,
            params=params,
            auth_token=route.auth_token if route else "",
            timeout=self._timeout,
        )
