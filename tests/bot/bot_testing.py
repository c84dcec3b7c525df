"""Helpers of the App's tests (imported by tests/bot/*; fixtures are in conftest.py).

Webhooks are GitHub's real payloads from ``shared/fixtures/github-webhooks/`` (beside the
repository), posted byte for byte and signed with the test secret.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.store import deliveries, tables
from bot.web.app import Runtime
from bot.web.signature import sign

ROOT = Path(__file__).resolve().parents[2]
WEBHOOKS = Path(
    os.environ.get("SSOT_WEBHOOK_FIXTURES", ROOT.parent / "shared" / "fixtures" / "github-webhooks")
)
SECRET = "test webhook secret"
FAKE_PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END RSA PRIVATE KEY-----\n"
)


def payload_bytes(name: str) -> bytes:
    """The raw bytes of a real payload, e.g. ``payload_bytes("pull_request/opened")``."""
    path = WEBHOOKS / (name if name.endswith(".json") else f"{name}.payload.json")
    if not path.is_file():
        pytest.fail(f"missing webhook fixture {path} (shared/ must sit beside the repository)")
    return path.read_bytes()


def payload(name: str) -> dict[str, Any]:
    """A real payload, parsed (to copy and change a field or two)."""
    data: dict[str, Any] = json.loads(payload_bytes(name))
    return data


def signed_headers(
    event: str, body: bytes, *, delivery: str | None = None, secret: str = SECRET
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret, body),
    }


def post_webhook(
    client: TestClient | httpx.Client,
    event: str,
    body: bytes,
    *,
    delivery: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST ``body`` as GitHub would: signed, with event and delivery headers."""
    all_headers = signed_headers(event, body, delivery=delivery)
    all_headers.update(headers or {})
    return client.post("/api/github/webhooks", content=body, headers=all_headers)


def stored(engine: Any) -> list[deliveries.Delivery]:
    """Every stored delivery, oldest first."""
    with engine.begin() as conn:
        rows = conn.execute(tables.deliveries.select().order_by(tables.deliveries.c.received_at))
        return [deliveries.Delivery(**row._asdict()) for row in rows]


def runtime(client: TestClient) -> Runtime:
    """What the lifespan of ``client``'s App opened (database, job queue)."""
    app = client.app
    assert isinstance(app, FastAPI)
    value: Runtime = app.state.runtime
    return value
