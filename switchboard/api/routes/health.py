"""``/health`` (liveness) and ``/health/ready`` (database and every registered component)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from switchboard.api.deps import HealthDep

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class ComponentReport(BaseModel):
    """One component's state."""

    ok: bool
    detail: str


class Readiness(BaseModel):
    """Every component's state; ``failed`` names the ones that are not OK."""

    status: Literal["ok", "unavailable"]
    components: dict[str, ComponentReport]
    failed: list[str]


@router.get("/health", response_model=Liveness, summary="Liveness (no auth)")
async def liveness() -> Liveness:
    """Answer 200 while the process serves requests."""
    return Liveness()


@router.get(
    "/health/ready",
    response_model=Readiness,
    summary="Readiness (no auth)",
    responses={503: {"model": Readiness, "description": "A component is not ready"}},
)
async def readiness(health: HealthDep) -> JSONResponse:
    """Run every component check: 200 when all are OK, else 503 naming the failed ones."""
    results = await health.check_all()
    failed = [name for name, result in results.items() if not result.ok]
    report = Readiness(
        status="unavailable" if failed else "ok",
        components={n: ComponentReport(ok=r.ok, detail=r.detail) for n, r in results.items()},
        failed=failed,
    )
    return JSONResponse(report.model_dump(), status_code=503 if failed else 200)
