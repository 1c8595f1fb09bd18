"""The overview: today's figures, call volume and outcomes over two weeks, recent calls."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from switchboard.api.deps import DbSession
from switchboard.services import call_logs as call_log_service
from switchboard.services import call_stats
from switchboard.services import endpoints as endpoint_service
from switchboard.services import numbers as number_service
from switchboard.services import voicemails as vm_service
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import ViewerDep
from switchboard.web.render import page

router = APIRouter(prefix="/console", route_class=ConsoleRoute)


@router.get("/")
async def overview(request: Request, viewer: ViewerDep, session: DbSession) -> HTMLResponse:
    """Figures, charts and the latest calls of the tenant."""
    days = await call_stats.daily_outcomes(session, viewer.tenant_id, days=14,
                                           timezone=viewer.tenant.timezone)
    recent = await call_log_service.list_page(
        session, viewer.tenant_id, call_log_service.CallLogFilter(), page=1, limit=8)
    numbers = await number_service.list_numbers(session, viewer.tenant_id, page=1, limit=1)
    engine = getattr(request.app.state, "engine", None)
    live = len(engine.control.live_calls(viewer.tenant_id)) if engine is not None else None
    chart = {
        "labels": [d.day.strftime("%b %d") for d in days],
        "series": {name: [d.counts[name] for d in days] for name in call_stats.OUTCOMES},
    }
    today = days[-1]
    return page(
        request, "dashboard.html", viewer, active="dashboard", title="Overview",
        chart=chart, today=today, week_total=sum(d.total for d in days[-7:]),
        unread=await vm_service.unread_count(session, viewer.tenant_id),
        live=live, number_count=numbers.total, recent=recent.items,
        labels=await endpoint_service.endpoint_labels(session, viewer.tenant_id),
    )
