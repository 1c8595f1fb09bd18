"""``/metrics``: Prometheus figures any API process can answer (no auth, no tenant data).

Today these are the transcription queue and its recent throughput, computed
from the database at scrape time (:mod:`switchboard.transcription.metrics`),
so every API process reports the same numbers whichever workers run.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from switchboard.api.deps import DbSession
from switchboard.transcription.metrics import queue_exposition, queue_figures

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
async def metrics(session: DbSession) -> Response:
    """Transcription queue gauges in the Prometheus text format."""
    figures = await queue_figures(session)
    return Response(content=queue_exposition(figures), media_type=CONTENT_TYPE_LATEST)
