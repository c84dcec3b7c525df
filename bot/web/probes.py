"""Probes for operators: ``/healthz`` (alive), ``/readyz`` (ready, see
:mod:`bot.web.health`) and ``/metrics`` (Prometheus, see :mod:`bot.ops.metrics`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.ops import metrics
from bot.web.health import readiness
from bot.web.runtime import authorised, runtime

router = APIRouter()


@router.get("/healthz")
async def healthz() -> Response:
    """Alive (liveness): the process answers. Dependencies are /readyz's business."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Ready (readiness): database, schema and job queue answer; 503 with the reasons."""
    rt = runtime(request)
    ready, body = await readiness(rt.engine, rt.jobs.huey)
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics_endpoint(request: Request) -> Response:
    """Prometheus metrics (text exposition format); ``SSOT_STATUS_TOKEN`` guards it."""
    rt = runtime(request)
    if not authorised(rt, request):
        return Response("a bearer token is required\n", status_code=401)
    text = await run_in_threadpool(metrics.exposition, rt.collectors)
    return Response(text, media_type=metrics.CONTENT_TYPE)
