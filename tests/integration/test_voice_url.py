"""Fetching voice documents from a real HTTP server, signed, with fallbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from webhook_receiver import Receiver, Reply, free_port

from switchboard.callflow.verbs import Dial, DialTarget, Gather, Say
from switchboard.callflow.voicedoc.exceptions import (
    VoiceUrlConnectionError,
    VoiceUrlDocumentError,
    VoiceUrlStatusError,
    VoiceUrlTimeoutError,
)
from switchboard.engine.voice_url import (
    API_VERSION,
    IDEMPOTENCY_HEADER,
    call_params,
    fetch_voice_document,
    fetch_with_fallback,
)
from switchboard.fetch_policy import LOOPBACK, FetchPolicy, GuardedClient

TOKEN = "0123456789abcdef0123456789abcdef"
ACCOUNT = "AC" + "1" * 32
CALL = "CA" + "2" * 32
MENU = '<Response><Gather numDigits="1" action="/menu"><Say>Press one</Say></Gather></Response>'


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(token=TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with GuardedClient(FetchPolicy.from_entries(LOOPBACK)) as http:
        yield http


def _params() -> dict[str, str]:
    return call_params(
        call_sid=CALL,
        account_sid=ACCOUNT,
        from_number="+15551230000",
        to_number="+15559870000",
        call_status="ringing",
        direction="inbound",
        forwarded_from="+15550001111",
    )


def test_call_params_carry_the_provider_fields() -> None:
    params = _params()
    assert params["CallSid"] == CALL
    assert params["AccountSid"] == ACCOUNT
    assert params["From"] == params["Caller"] == "+15551230000"
    assert params["To"] == params["Called"] == "+15559870000"
    assert params["CallStatus"] == "ringing"
    assert params["Direction"] == "inbound"
    assert params["ApiVersion"] == API_VERSION == "2010-04-01"
    assert params["ForwardedFrom"] == "+15550001111"
    for prefix in ("From", "To", "Caller", "Called"):
        for name in ("City", "State", "Zip", "Country"):
            assert params[prefix + name] == ""


def test_call_params_refuse_unknown_direction() -> None:
    with pytest.raises(ValueError):
        call_params(
            call_sid=CALL,
            account_sid=ACCOUNT,
            from_number="a",
            to_number="b",
            call_status="ringing",
            direction="sideways",
        )


async def test_post_is_signed_form_encoded_and_parsed(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.routes["/voice"] = Reply(body=MENU)
    verbs = await fetch_voice_document(
        client, url=receiver.url("/voice"), params=_params(), auth_token=TOKEN
    )
    assert verbs == [
        Gather(
            num_digits=1,
            action=receiver.url("/menu"),
            prompts=(Say(text="Press one", voice="man"),),
        )
    ]
    [request] = receiver.requests_to("/voice")
    assert request.method == "POST"
    assert request.signature_ok
    assert request.form == _params()
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["User-Agent"].startswith("Switchboard/")
    assert request.headers[IDEMPOTENCY_HEADER]


async def test_get_carries_params_in_the_query_and_signs_the_url(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.routes["/voice"] = Reply(body="<Response><Dial>+15550000001</Dial></Response>")
    verbs = await fetch_voice_document(
        client,
        url=receiver.url("/voice?tenant=acme"),
        method="GET",
        params=_params(),
        auth_token=TOKEN,
    )
    assert verbs == [Dial(targets=(DialTarget(kind="number", value="+15550000001"),))]
    [request] = receiver.requests_to("/voice")
    assert request.method == "GET"
    assert request.signature_ok
    assert "tenant=acme&CallSid=" in request.url
    assert request.form == {}


async def test_wrong_token_is_detected_by_the_receiver(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.routes["/voice"] = Reply(body="<Response/>")
    await fetch_voice_document(
        client, url=receiver.url("/voice"), params=_params(), auth_token="not-the-token"
    )
    [request] = receiver.requests_to("/voice")
    assert not request.signature_ok


async def test_each_request_has_its_own_idempotency_token(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.routes["/voice"] = Reply(body="<Response/>")
    for _ in range(2):
        await fetch_voice_document(
            client, url=receiver.url("/voice"), params=_params(), auth_token=TOKEN
        )
    first, second = receiver.requests_to("/voice")
    assert first.headers[IDEMPOTENCY_HEADER] != second.headers[IDEMPOTENCY_HEADER]


async def test_non_2xx_raises_status_error(receiver: Receiver, client: httpx.AsyncClient) -> None:
    receiver.routes["/voice"] = Reply(status=500, body="boom")
    with pytest.raises(VoiceUrlStatusError) as info:
        await fetch_voice_document(
            client, url=receiver.url("/voice"), params=_params(), auth_token=TOKEN
        )
    assert info.value.details["status_code"] == 500
    assert info.value.error_code == 11200


async def test_slow_answer_raises_timeout(receiver: Receiver, client: httpx.AsyncClient) -> None:
    receiver.routes["/voice"] = Reply(body="<Response/>", delay=1.5)
    with pytest.raises(VoiceUrlTimeoutError):
        await fetch_voice_document(
            client, url=receiver.url("/voice"), params=_params(), auth_token=TOKEN, timeout=0.3
        )


async def test_unreachable_raises_connection_error(client: httpx.AsyncClient) -> None:
    with pytest.raises(VoiceUrlConnectionError):
        await fetch_voice_document(
            client,
            url=f"http://127.0.0.1:{free_port()}/voice",
            params=_params(),
            auth_token=TOKEN,
        )


async def test_invalid_document_raises_document_error(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.routes["/voice"] = Reply(body="<Response><Dance/></Response>")
    with pytest.raises(VoiceUrlDocumentError) as info:
        await fetch_voice_document(
            client, url=receiver.url("/voice"), params=_params(), auth_token=TOKEN
        )
    assert info.value.cause.error_id == "voicedoc-unknown-verb"


async def test_oversized_document_is_refused(receiver: Receiver, client: httpx.AsyncClient) -> None:
    receiver.routes["/voice"] = Reply(body="<Response>" + "<Pause/>" * 20_000 + "</Response>")
    with pytest.raises(VoiceUrlDocumentError) as info:
        await fetch_voice_document(
            client, url=receiver.url("/voice"), params=_params(), auth_token=TOKEN
        )
    assert info.value.cause.error_id == "voicedoc-too-large"


async def test_failing_voice_url_falls_back_with_error_code_and_url(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.routes["/voice"] = Reply(status=503, body="down")
    receiver.routes["/fallback"] = Reply(body="<Response><Say>Sorry</Say></Response>")
    result = await fetch_with_fallback(
        client,
        url=receiver.url("/voice"),
        fallback_url=receiver.url("/fallback"),
        params=_params(),
        auth_token=TOKEN,
    )
    assert result.verbs == [Say(text="Sorry", voice="man")]
    assert result.url == receiver.url("/fallback")
    assert result.used_fallback
    assert [type(e) for e in result.errors] == [VoiceUrlStatusError]
    [fallback] = receiver.requests_to("/fallback")
    assert fallback.signature_ok
    assert fallback.form["ErrorCode"] == "11200"
    assert fallback.form["ErrorUrl"] == receiver.url("/voice")
    assert fallback.form["CallSid"] == CALL


async def test_invalid_twiml_reports_parse_error_code_to_fallback(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.routes["/voice"] = Reply(body="<Response><Say>unterminated</Response>")
    receiver.routes["/fallback"] = Reply(body="<Response><Hangup/></Response>")
    result = await fetch_with_fallback(
        client,
        url=receiver.url("/voice"),
        fallback_url=receiver.url("/fallback"),
        params=_params(),
        auth_token=TOKEN,
    )
    assert result.verbs is not None
    [fallback] = receiver.requests_to("/fallback")
    assert fallback.form["ErrorCode"] == "12100"


async def test_both_failing_means_builtin_voicemail(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.routes["/voice"] = Reply(status=500)
    receiver.routes["/fallback"] = Reply(status=404)
    result = await fetch_with_fallback(
        client,
        url=receiver.url("/voice"),
        fallback_url=receiver.url("/fallback"),
        params=_params(),
        auth_token=TOKEN,
    )
    assert result.verbs is None
    assert len(result.errors) == 2
    assert not result.used_fallback


async def test_no_fallback_configured_means_builtin_voicemail(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.routes["/voice"] = Reply(status=502)
    result = await fetch_with_fallback(
        client, url=receiver.url("/voice"), fallback_url=None, params=_params(), auth_token=TOKEN
    )
    assert result.verbs is None
    assert receiver.requests_to("/fallback") == []


async def test_healthy_voice_url_does_not_touch_the_fallback(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.routes["/voice"] = Reply(body="<Response><Hangup/></Response>")
    result = await fetch_with_fallback(
        client,
        url=receiver.url("/voice"),
        fallback_url=receiver.url("/fallback"),
        params=_params(),
        auth_token=TOKEN,
    )
    assert result.url == receiver.url("/voice")
    assert result.errors == ()
    assert receiver.requests_to("/fallback") == []
