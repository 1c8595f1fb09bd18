"""Carriers' messaging webhooks: inbound texts and delivery status.

``/api/messaging/{carrier}/inbound`` and ``/api/messaging/{carrier}/status``
take each carrier's documented shapes: Twilio and Plivo post forms (Twilio
``MessageSid``, ``From``, ``To``, ``Body``, ``NumMedia``, ``MediaUrl0``...,
status ``MessageStatus``; Plivo ``MessageUUID``, ``From``, ``To``, ``Text``,
``Media0``..., status ``Status``), Telnyx posts JSON events
(``message.received``, ``message.sent``, ``message.finalized``) to either.
Each is checked with the carrier's signature when webhook validation is on:
Twilio ``X-Twilio-Signature`` and Plivo ``X-Plivo-Signature-V2`` with the
account's auth token of the number's trunk, Telnyx Ed25519 with the
configured public key. A number or message we do not know answers 404.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.api.deps import DbSession, SettingsDep
from switchboard.api.routes.voice_webhooks import signed_urls
from switchboard.callflow.signature import validate_signature
from switchboard.config import Settings
from switchboard.models import Message, PhoneNumber, Trunk
from switchboard.services.exceptions import BadRequest, Forbidden, NotFound
from switchboard.services.messaging.hooks import MessagingHooks
from switchboard.services.messaging.inbound import InboundText, receive_at_number
from switchboard.services.messaging.status import apply_status, find_by_provider_id
from switchboard.services.numbers import find_active_by_e164
from switchboard.services.phone import normalize_e164

router = APIRouter(prefix="/api/messaging", tags=["carrier messaging webhooks"])

_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_TELNYX_TOLERANCE = 300


def messaging_hooks(request: Request) -> MessagingHooks:
    """The running process's sender and outbox wake-ups, and the segment price."""
    sender = getattr(request.app.state, "messaging", None)
    settings: Settings = request.app.state.settings
    return MessagingHooks(
        segment_price=settings.sms_segment_price,
        notify_sender=sender.notify if sender is not None else None,
        notify_outbox=getattr(request.app.state, "notify_outbox", None),
    )


HooksDep = Annotated[MessagingHooks, Depends(messaging_hooks)]


async def _trunk_of(session: AsyncSession, number: PhoneNumber | None) -> Trunk | None:
    if number is None or number.trunk_id is None:
        return None
    return await session.get(Trunk, number.trunk_id)


async def _form(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def _check_twilio(request: Request, settings: Settings, token: str | None,
                  pairs: list[tuple[str, str]]) -> None:
    if not settings.webhook_validation:
        return
    header = request.headers.get("X-Twilio-Signature")
    if not token or not any(validate_signature(token, url, pairs, header)
                            for url in signed_urls(request, settings)):
        raise Forbidden("Invalid webhook signature")


def plivo_signature(auth_token: str, url: str, nonce: str) -> str:
    """Plivo's V2 signature: Base64 HMAC-SHA256 of the URL (no query) and the nonce."""
    base = url.split("?", 1)[0]
    digest = hmac.new(auth_token.encode(), (base + nonce).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _check_plivo(request: Request, settings: Settings, token: str | None) -> None:
    if not settings.webhook_validation:
        return
    header = request.headers.get("X-Plivo-Signature-V2", "")
    nonce = request.headers.get("X-Plivo-Signature-V2-Nonce", "")
    if not token or not header or not any(
        hmac.compare_digest(plivo_signature(token, url, nonce), header)
        for url in signed_urls(request, settings)
    ):
        raise Forbidden("Invalid webhook signature")


def _check_telnyx(request: Request, settings: Settings, raw: bytes) -> None:
    if not settings.webhook_validation:
        return
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    stamp = request.headers.get("telnyx-timestamp", "")
    signature = request.headers.get("telnyx-signature-ed25519", "")
    if not settings.telnyx_public_key or not stamp.isdigit() or not signature:
        raise Forbidden("Invalid webhook signature")
    if abs(time.time() - int(stamp)) > _TELNYX_TOLERANCE:
        raise Forbidden("Webhook timestamp too old")
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(settings.telnyx_public_key))
        key.verify(base64.b64decode(signature), stamp.encode() + b"|" + raw)
    except (InvalidSignature, ValueError, binascii.Error):
        raise Forbidden("Invalid webhook signature") from None


async def _number_for(session: AsyncSession, to: str, integration: str) -> PhoneNumber:
    try:
        e164 = normalize_e164(to, field="To")
    except BadRequest:
        raise NotFound("Unknown number", field="To") from None
    number = await find_active_by_e164(session, e164)
    trunk = await _trunk_of(session, number)
    if number is None or trunk is None or trunk.integration != integration:
        raise NotFound("Unknown number", field="To")
    return number


async def _message_for(session: AsyncSession, transport: str, provider_id: str) -> Message:
    message = await find_by_provider_id(session, transport, provider_id) if provider_id else None
    if message is None:
        raise NotFound("Unknown message", field="MessageSid")
    return message


# -- Twilio ------------------------------------------------------------------

@router.post("/twilio/inbound", summary="Twilio: an inbound SMS/MMS")
async def twilio_inbound(
    request: Request, session: DbSession, settings: SettingsDep, hooks: HooksDep
) -> Response:
    """Store and act on the text; answers empty TwiML (replies go through the outbox)."""
    pairs = await _form(request)
    fields = dict(pairs)
    number = await _number_for(session, fields.get("To", ""), "twilio")
    trunk = await _trunk_of(session, number)
    _check_twilio(request, settings, trunk.auth_token if trunk else None, pairs)
    media = [fields[f"MediaUrl{i}"] for i in range(int(fields.get("NumMedia") or 0) if
             (fields.get("NumMedia") or "0").isdigit() else 0) if f"MediaUrl{i}" in fields]
    await receive_at_number(
        session, number,
        InboundText(from_number=fields.get("From", ""), to_number=number.e164,
                    body=fields.get("Body", ""), transport="twilio", media_urls=media,
                    provider_id=fields.get("MessageSid")),
        segment_price=hooks.segment_price, notify_sender=hooks.notify_sender,
        notify_outbox=hooks.notify_outbox,
    )
    return Response(_EMPTY_TWIML, media_type="application/xml")


@router.post("/twilio/status", status_code=204, summary="Twilio: a message's delivery status")
async def twilio_status(request: Request, session: DbSession, settings: SettingsDep) -> Response:
    """Apply ``MessageStatus`` (``ErrorCode`` on failure) to the message."""
    pairs = await _form(request)
    fields = dict(pairs)
    message = await _message_for(session, "twilio", fields.get("MessageSid", ""))
    number = await session.get(PhoneNumber, message.number_id) if message.number_id else None
    trunk = await _trunk_of(session, number)
    _check_twilio(request, settings, trunk.auth_token if trunk else None, pairs)
    await apply_status(session, message, fields.get("MessageStatus", ""),
                       error_code=fields.get("ErrorCode"))
    return Response(status_code=204)


# -- Plivo -------------------------------------------------------------------

@router.post("/plivo/inbound", status_code=204, summary="Plivo: an inbound SMS/MMS")
async def plivo_inbound(
    request: Request, session: DbSession, settings: SettingsDep, hooks: HooksDep
) -> Response:
    """Store and act on the text (``From``, ``To``, ``Text``, ``MessageUUID``, ``Media0``...)."""
    fields = dict(await _form(request))
    number = await _number_for(session, fields.get("To", ""), "plivo")
    trunk = await _trunk_of(session, number)
    _check_plivo(request, settings, trunk.auth_token if trunk else None)
    media = [v for k, v in sorted(fields.items()) if k.startswith("Media") and k[5:].isdigit()]
    await receive_at_number(
        session, number,
        InboundText(from_number=fields.get("From", ""), to_number=number.e164,
                    body=fields.get("Text", ""), transport="plivo", media_urls=media,
                    provider_id=fields.get("MessageUUID")),
        segment_price=hooks.segment_price, notify_sender=hooks.notify_sender,
        notify_outbox=hooks.notify_outbox,
    )
    return Response(status_code=204)


@router.post("/plivo/status", status_code=204, summary="Plivo: a message's delivery status")
async def plivo_status(request: Request, session: DbSession, settings: SettingsDep) -> Response:
    """Apply ``Status`` (``ErrorCode`` on failure) to the message ``MessageUUID``."""
    fields = dict(await _form(request))
    message = await _message_for(session, "plivo", fields.get("MessageUUID", ""))
    number = await session.get(PhoneNumber, message.number_id) if message.number_id else None
    trunk = await _trunk_of(session, number)
    _check_plivo(request, settings, trunk.auth_token if trunk else None)
    await apply_status(session, message, fields.get("Status", ""),
                       error_code=fields.get("ErrorCode"))
    return Response(status_code=204)


# -- Telnyx ------------------------------------------------------------------

def _object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a malformed event)."""
    return value if isinstance(value, dict) else {}


@router.post("/telnyx/inbound", status_code=204, summary="Telnyx: a messaging event")
@router.post("/telnyx/status", status_code=204, summary="Telnyx: a messaging event")
async def telnyx_event(
    request: Request, session: DbSession, settings: SettingsDep, hooks: HooksDep
) -> Response:
    """``message.received`` stores the text; ``message.sent``/``.finalized`` apply a status."""
    raw = await request.body()
    _check_telnyx(request, settings, raw)
    try:
        data = _object(json.loads(raw).get("data"))
    except (ValueError, AttributeError):
        raise BadRequest("Not a Telnyx event", field="data") from None
    payload = _object(data.get("payload"))
    event = str(data.get("event_type") or "")
    recipients = payload.get("to")
    first = _object(recipients[0] if isinstance(recipients, list) and recipients else None)
    if event == "message.received":
        number = await _number_for(session, str(first.get("phone_number", "")), "telnyx")
        sender = _object(payload.get("from"))
        items = payload.get("media")
        media = [str(m["url"]) for m in (items if isinstance(items, list) else [])
                 if isinstance(m, dict) and m.get("url")]
        await receive_at_number(
            session, number,
            InboundText(from_number=str(sender.get("phone_number", "")),
                        to_number=number.e164, body=str(payload.get("text") or ""),
                        transport="telnyx", media_urls=media,
                        provider_id=str(payload.get("id") or "") or None),
            segment_price=hooks.segment_price, notify_sender=hooks.notify_sender,
            notify_outbox=hooks.notify_outbox,
        )
    elif event in ("message.sent", "message.finalized"):
        message = await _message_for(session, "telnyx", str(payload.get("id") or ""))
        errors = payload.get("errors")
        code = (str(errors[0].get("code")) if isinstance(errors, list) and errors
                and isinstance(errors[0], dict) else None)
        await apply_status(session, message, str(first.get("status") or ""), error_code=code)
    return Response(status_code=204)
