"""Badges: ``GET /badges/{owner}/{repo}.svg?concept=NAME`` (``&rule=SSOTnnn``, ``&key=...``).

A shields-style SVG of a concept's count and target, coloured by its trend
(:mod:`bot.progress.badge`), from the repository's history. It carries an ``ETag`` (a
request with a matching ``If-None-Match`` gets ``304``) and ``Cache-Control`` (five minutes).

A private repository's badge needs its key (``?key=``, shown in its dashboard issue): without
it, or with a wrong one, the answer is the same ``404`` as for a repository the App does not
know, so a badge URL never tells that a private repository exists. A repository whose
visibility the App has not seen yet in a webhook counts as private.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bot.progress.badge import Badge, badge_for, render_svg
from bot.store import dashboards, db, history
from bot.web.runtime import runtime

router = APIRouter()

MAX_AGE = 300
SVG = "image/svg+xml; charset=utf-8"
NOT_FOUND = Response("Not Found\n", status_code=404, media_type="text/plain")


@router.get("/badges/{owner}/{name}.svg")
async def badge(request: Request, owner: str, name: str, concept: str = "") -> Response:
    """The badge of ``concept`` in ``owner/name`` (404 for what may not be shown)."""
    rt = runtime(request)
    key = request.query_params.get("key") or ""
    rule = request.query_params.get("rule") or None

    def load() -> tuple[Badge, bool] | None:
        found = dashboards.find_badge_repo(rt.engine, f"{owner}/{name}")
        if found is None:
            return None
        if found.needs_key and not hmac.compare_digest(key.encode(), found.key.encode()):
            return None
        now = db.utcnow()
        samples = history.trend_samples(
            rt.engine, found.installation_id, found.repo, now=now, weeks=0
        )
        return badge_for(samples, concept, rule, now=now), found.needs_key

    loaded = await run_in_threadpool(load)
    if loaded is None:
        return NOT_FOUND
    shown, private = loaded
    svg = render_svg(shown)
    etag = '"' + hashlib.sha256(svg.encode()).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"{'private' if private else 'public'}, max-age={MAX_AGE}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    }
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(svg, media_type=SVG, headers=headers)
