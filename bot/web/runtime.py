"""What the web app's lifespan opens, shared by its routes."""

from __future__ import annotations

import hmac
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fastapi import Request
from sqlalchemy.engine import Engine

from bot.jobs.queue import JobQueue
from bot.ops import metrics
from bot.ops.settings import Settings
from bot.web.delivery_writer import DeliveryWriter
from bot.web.github_signin import VisibilityCache
from bot.web.session import CookieSeal


@dataclass
class Runtime:
    """What the lifespan opens, for the routes."""

    settings: Settings
    engine: Engine
    jobs: JobQueue
    http: httpx.AsyncClient
    env_file: Path
    # Seals the dashboard's session and sign-in cookies (bot.web.session).
    seal: CookieSeal
    # Read at each scrape of /metrics: jobs by state, tasks waiting in the queue.
    collectors: list[metrics.CachedGauges] = field(default_factory=list)
    # Stores and enqueues deliveries in batches (None in immediate mode: jobs run inline).
    writer: DeliveryWriter | None = None
    # One-use `state` values of setup pages shown (the manifest flow's CSRF guard).
    setup_states: OrderedDict[str, None] = field(default_factory=OrderedDict)
    created_app: str | None = None  # slug of the App created since start (restart pending)
    # The one-time token of the setup page, printed to the console at start (as Jupyter
    # does): whoever reaches the server before its operator cannot create the App.
    setup_token: str | None = None
    # What each signed-in person can read, as GitHub said a moment ago.
    visibility: VisibilityCache = field(default_factory=VisibilityCache)


def authorised(rt: Runtime, request: Request) -> bool:
    """Whether ``request`` may read /metrics and the status page: always, unless
    ``SSOT_STATUS_TOKEN`` is set; then only with ``Authorization: Bearer <token>``."""
    token = rt.settings.status_token
    if token is None:
        return True
    given = request.headers.get("authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    return hmac.compare_digest(given.encode(), expected.encode())


def runtime(request: Request) -> Runtime:
    """The :class:`Runtime` of the app serving ``request``."""
    value: Runtime = request.app.state.runtime
    return value
