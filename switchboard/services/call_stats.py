"""Call volume and outcomes over time, for the console's charts.

The database counts calls per UTC hour and business status (one grouped
query the ``(tenant_id, started_at)`` index serves, whatever the volume);
the hours are then folded into days of the tenant's time zone here. Zones
with a half-hour offset put calls of the half hour around midnight on the
neighbouring day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import CallLog, CallLogStatus, utcnow
from switchboard.services.exceptions import BadRequest

OUTCOMES = ("answered", "missed", "voicemail", "other")
_OUTCOME_OF = {
    CallLogStatus.ANSWERED_BY_STAFF.value: "answered",
    CallLogStatus.ANSWERED_BY_CALLS_PROVIDER.value: "answered",
    CallLogStatus.MISSED.value: "missed",
    CallLogStatus.MISSED_CALL_HANDLED.value: "missed",
    CallLogStatus.VOICEMAIL_RECEIVED.value: "voicemail",
}
MAX_DAYS = 90


@dataclass
class DayOutcomes:
    """Calls that started on one local day, by outcome."""

    day: date
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def total(self) -> int:
        """Every call of the day."""
        return sum(self.counts.values())


async def daily_outcomes(
    session: AsyncSession,
    tenant_id: str,
    *,
    days: int = 14,
    timezone: str = "UTC",
    now: datetime | None = None,
) -> list[DayOutcomes]:
    """The tenant's calls per local day for the last ``days`` days (today last).

    Raises:
        BadRequest: ``days`` outside 1..90.
    """
    if not 1 <= days <= MAX_DAYS:
        raise BadRequest(f"days must be between 1 and {MAX_DAYS}", field="days")
    zone = ZoneInfo(timezone)
    today = (now or utcnow()).astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), zone)
    if session.get_bind().dialect.name == "postgresql":
        hour = func.to_char(
            func.date_trunc("hour", func.timezone("UTC", CallLog.started_at)), "YYYY-MM-DD HH24"
        )
    else:
        hour = func.strftime("%Y-%m-%d %H", CallLog.started_at)
    stmt = (
        select(hour.label("hour"), CallLog.status, func.count())
        .where(CallLog.tenant_id == tenant_id, CallLog.started_at >= since)
        .group_by(hour, CallLog.status)
    )
    result = {first + timedelta(days=i): DayOutcomes(first + timedelta(days=i))
              for i in range(days)}
    for bucket, status, count in (await session.execute(stmt)).all():
        started = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=ZoneInfo("UTC"))
        row = result.get(started.astimezone(zone).date())
        if row is not None:
            row.counts[_OUTCOME_OF.get(status, "other")] += int(count)
    return list(result.values())
