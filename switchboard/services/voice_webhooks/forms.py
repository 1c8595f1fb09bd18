"""The provider's form parameters as the voice webhooks read them, and whom they concern."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import PhoneNumber, RecordingSource, Tenant
from switchboard.services.exceptions import BadRequest
from switchboard.services.numbers import find_active_by_e164

_MAX_SID = 34
_MAX_PATH = 500
_MAX_WHOLE = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """The call a provider's form parameters describe."""

    call_sid: str
    account_sid: str
    from_number: str
    to_number: str
    call_status: str
    direction: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> WebhookCall:
        """Read ``CallSid``, ``AccountSid``, ``From``, ``To``, ``CallStatus``, ``Direction``.

        Raises:
            BadRequest: ``CallSid`` is missing or too long.
        """
        return cls(
            call_sid=_sid(form.get("CallSid"), "CallSid"),
            account_sid=form.get("AccountSid", ""),
            from_number=form.get("From", "")[:64],
            to_number=form.get("To", "")[:64],
            call_status=form.get("CallStatus", "ringing"),
            direction=form.get("Direction", "inbound"),
        )


@dataclass(frozen=True, slots=True)
class Caller:
    """Whom a webhook is about: the tenant (signature key) and the called number."""

    tenant: Tenant | None
    number: PhoneNumber | None


@dataclass(frozen=True, slots=True)
class RecordingReport:
    """A recording status callback's facts."""

    recording_sid: str
    call_sid: str
    recording_url: str
    duration: int | None
    channels: int | None
    status: str
    source: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> RecordingReport:
        """Read the ``Recording*`` parameters and ``CallSid``.

        Raises:
            BadRequest: a SID is missing, or a number is not a whole number.
        """
        url = form.get("RecordingUrl", "").strip()
        if len(url) > _MAX_PATH:
            raise BadRequest("RecordingUrl is too long", field="RecordingUrl")
        return cls(
            recording_sid=_sid(form.get("RecordingSid"), "RecordingSid"),
            call_sid=_sid(form.get("CallSid"), "CallSid"),
            recording_url=url,
            duration=whole_number(form.get("RecordingDuration"), "RecordingDuration"),
            channels=whole_number(form.get("RecordingChannels"), "RecordingChannels"),
            status=form.get("RecordingStatus", "completed") or "completed",
            source=(form.get("RecordingSource") or RecordingSource.RECORD_VERB)[:32],
        )


def _sid(value: str | None, name: str) -> str:
    if not value or len(value) > _MAX_SID:
        raise BadRequest(f"{name} is required", field=name)
    return value


def whole_number(value: str | None, name: str) -> int | None:
    """A form field as a whole number, ``None`` when absent.

    Raises:
        BadRequest: the field is not a whole number.
    """
    if value is None or value == "":
        return None
    if not _DIGITS.fullmatch(value) or int(value) > _MAX_WHOLE:
        raise BadRequest(f"{name} must be a whole number of seconds", field=name)
    return int(value)


async def resolve_caller(
    session: AsyncSession, *, to: str | None, account_sid: str | None
) -> Caller:
    """The tenant of a webhook: the active number called (``To``), else ``AccountSid``."""
    number = await find_active_by_e164(session, to) if to else None
    if number is not None:
        return Caller(await session.get(Tenant, number.tenant_id), number)
    if account_sid:
        stmt = select(Tenant).where(Tenant.account_sid == account_sid)
        return Caller((await session.execute(stmt)).scalars().first(), None)
    return Caller(None, None)
