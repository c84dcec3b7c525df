"""``GET /assets/ssot.css``: the App's one stylesheet (see :mod:`bot.web.frame`)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.web.frame import STYLESHEET_PATH, stylesheet, stylesheet_url

router = APIRouter()


@router.get(STYLESHEET_PATH, include_in_schema=False)
async def stylesheet_file(request: Request) -> Response:
    """The stylesheet; cached for a year when asked for by its versioned URL (the pages' link)."""
    content = stylesheet()
    etag = f'"{hashlib.sha256(content).hexdigest()[:16]}"'
    versioned = f"{request.url.path}?{request.url.query}" == stylesheet_url()
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="text/css; charset=utf-8", headers=headers)
