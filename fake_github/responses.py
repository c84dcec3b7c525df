"""The fake's HTTP helpers shared by its route modules: GitHub's JSON responses (ETags,
caching headers), pagination with ``Link`` headers, request bodies."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from .limits import GitHubError, validation_failed

T = TypeVar("T")


def api_base(request: Request) -> str:
    return str(request.base_url)


def json_response(
    request: Request, data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """JSON with GitHub's caching headers; a GET whose ETag matches gets 304."""
    payload = json.dumps(data, separators=(",", ":")).encode()
    extra = {"x-github-api-version-selected": "2026-03-10", **(headers or {})}
    if request.method == "GET" and status == 200:
        etag = f'W/"{hashlib.sha256(payload).hexdigest()[:40]}"'
        extra["etag"] = etag
        extra["cache-control"] = "private, max-age=60, s-maxage=60"
        extra["vary"] = "Accept, Authorization, Cookie, X-GitHub-OTP"
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=extra)
    return Response(
        payload, status_code=status, headers=extra, media_type="application/json; charset=utf-8"
    )


def paginate(request: Request, items: list[T]) -> tuple[list[T], dict[str, str]]:
    """One page of ``items`` (``per_page`` default 30, max 100) and GitHub's ``Link`` header."""
    try:
        per_page = min(max(int(request.query_params.get("per_page", "30")), 1), 100)
        page = max(int(request.query_params.get("page", "1")), 1)
    except ValueError:
        raise validation_failed(
            "Pagination", "per_page", "per_page and page must be integers"
        ) from None
    last = max(math.ceil(len(items) / per_page), 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    links: list[str] = []

    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "per_page")]

    def link(number: int, rel: str) -> None:
        query = urlencode([*kept, ("per_page", per_page), ("page", number)])
        links.append(f'<{request.url.replace(query=query)}>; rel="{rel}"')

    if page > 1:
        link(page - 1, "prev")
    if page < last:
        link(page + 1, "next")
        link(last, "last")
    if page > 1:
        link(1, "first")
    return chunk, ({"link": ", ".join(links)} if links else {})


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise GitHubError(400, "Problems parsing JSON") from None
