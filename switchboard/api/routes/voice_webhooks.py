"""Seed 000 ``/api/voice/*``: the built-in voice app as provider webhooks.

``POST /incoming``, ``/status`` and ``/recording`` take the provider's
form-encoded parameters and, when ``Settings.webhook_validation`` is on, its
``X-Twilio-Signature`` (403 when missing or wrong), keyed by the auth token
of the tenant owning the called number (``To``) or the ``AccountSid``. The
signed URL is the public one (``Settings.public_base_url`` + path + query);
the URL the request reached is accepted too, for deployments without a
public base URL. ``/incoming`` answers TwiML; the others answer an empty
``<Response/>`` (what a provider expects of a callback).

``/recording`` fetches a provider's completed recording (``RecordingUrl``)
once, through the fetch policy, into storage; ``GET /recording?callLogId=|
voicemailId=`` (the dashboard's playback, in
:mod:`switchboard.api.routes.compat_playback`) serves that file and never
fetches a URL.

These routes need only the database: they work with the engine down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from switchboard.api.deps import DbSession, RecordingFetcherDep, SettingsDep
from switchboard.callflow.signature import validate_signature
from switchboard.callflow.voicedoc.writer import CONTENT_TYPE, render_voice_document
from switchboard.config import Settings
from switchboard.models import utcnow
from switchboard.services import voice_webhooks as service
from switchboard.services.exceptions import Forbidden

router = APIRouter(prefix="/api/voice", tags=["dashboard: voice webhooks"])

_TWIML: dict[int | str, dict[str, Any]] = {
    200: {"content": {CONTENT_TYPE: {}}, "description": "A TwiML voice document"}
}
_CALL_FIELDS = ("AccountSid", "From", "To", "Caller", "Called", "CallStatus", "Direction",
                "ApiVersion")


def _form(required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, Any]:
    """OpenAPI for a provider's form-encoded webhook body and its signature header."""
    fields = {name: {"type": "string"} for name in (*required, *optional)}
    schema = {"type": "object", "required": list(required), "properties": fields}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        },
        "parameters": [
            {
                "name": "X-Twilio-Signature",
                "in": "header",
                "required": False,
                "description": "Base64 HMAC-SHA1 of the URL and sorted parameters, keyed by "
                "the tenant's auth token (required when webhook validation is on)",
                "schema": {"type": "string"},
            }
        ],
    }


@dataclass(frozen=True, slots=True)
class Webhook:
    """A verified webhook request: its form fields and whom it is about."""

    fields: dict[str, str]
    caller: service.Caller


def signed_urls(request: Request, settings: Settings) -> list[str]:
    """The URLs a signature may cover: the public one first, then the one reached."""
    urls = []
    if settings.public_base_url:
        query = f"?{request.url.query}" if request.url.query else ""
        urls.append(settings.public_base_url.rstrip("/") + request.url.path + query)
    urls.append(str(request.url))
    return urls


async def verified_webhook(request: Request, session: DbSession, settings: SettingsDep) -> Webhook:
    """Read the form and check its signature (when validation is on).

    Raises:
        Forbidden: validation is on and the signature is missing or wrong, or
            no tenant (hence no key) matches ``To`` or ``AccountSid``.
    """
    form = await request.form()
    pairs = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    fields = dict(pairs)
    caller = await service.resolve_caller(
        session, to=fields.get("To"), account_sid=fields.get("AccountSid")
    )
    if settings.webhook_validation:
        header = request.headers.get("X-Twilio-Signature")
        token = caller.tenant.auth_token if caller.tenant else None
        if token is None or not any(
            validate_signature(token, url, pairs, header) for url in signed_urls(request, settings)
        ):
            raise Forbidden("Invalid webhook signature")
    return Webhook(fields=fields, caller=caller)


VerifiedWebhook = Annotated[Webhook, Depends(verified_webhook)]


def _twiml(document: str) -> Response:
    return Response(content=document, media_type=CONTENT_TYPE)


@router.post("/incoming", response_class=Response, responses=_TWIML,
             summary="Voice URL of the built-in app",
             openapi_extra=_form(("CallSid",), (*_CALL_FIELDS, "DialCallStatus",
                                                "DialCallSid", "DialCallDuration")))
async def incoming(
    webhook: VerifiedWebhook,
    session: DbSession,
    settings: SettingsDep,
    step: Annotated[int | None, Query(ge=0, le=10_000)] = None,
) -> Response:
    """Log the call and answer the next dial of its forwarding plan, or the voicemail.

    Without ``step`` this is the call arriving; with it, the ``action`` of the
    plan's ``Dial`` number ``step`` reporting its ``DialCallStatus``.
    """
    call = service.WebhookCall.from_form(webhook.fields)
    verbs = await service.answer_incoming(
        session,
        call,
        webhook.caller,
        step=step,
        dial_status=webhook.fields.get("DialCallStatus"),
        now=utcnow(),
        silence_seconds=settings.voicemail_silence_seconds,
    )
    return _twiml(render_voice_document(verbs))


@router.post("/status", response_class=Response, responses=_TWIML,
             summary="Call status callback",
             openapi_extra=_form(("CallSid", "CallStatus"), (*_CALL_FIELDS, "CallDuration",
                                                             "Timestamp", "SequenceNumber")))
async def status(webhook: VerifiedWebhook, session: DbSession) -> Response:
    """Update the call log (status, duration) and the tenant's voice minutes, once per call."""
    call = service.WebhookCall.from_form(webhook.fields)
    duration = service.whole_number(webhook.fields.get("CallDuration"), "CallDuration")
    await service.record_status(session, call, webhook.caller, duration=duration, now=utcnow())
    return _twiml(render_voice_document([]))


@router.post("/recording", response_class=Response, responses=_TWIML,
             summary="Recording status callback",
             openapi_extra=_form(("CallSid", "RecordingSid"),
                                 ("AccountSid", "RecordingUrl", "RecordingStatus",
                                  "RecordingDuration", "RecordingChannels", "RecordingSource")))
async def recording_callback(
    webhook: VerifiedWebhook,
    session: DbSession,
    fetcher: RecordingFetcherDep,
    kind: Annotated[str | None, Query(alias="type", pattern="^(voicemail|recording)$")] = None,
) -> Response:
    """Store a recording, its audio fetched once into storage; ``type=voicemail``: a voicemail.

    502 when the provider did not give the audio now: the provider repeats the callback.
    """
    report = service.RecordingReport.from_form(webhook.fields)
    await service.record_recording(
        session, report, webhook.caller, voicemail=kind == "voicemail", fetcher=fetcher
    )
    return _twiml(render_voice_document([]))
