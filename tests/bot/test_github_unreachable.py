"""GitHub out of reach: the fake GitHub stopped under a running App, or a URL nobody listens on.

What a person must be able to act on: the host and ``SSOT_GITHUB_URL`` named, "attempt n of
m, retrying in s", no traceback for a network error (it is not a bug), and the status page
listing the deliveries that retry or failed, with their last error.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path

import anyio
import httpx
import pytest
from bot_testing import runtime
from fastapi.testclient import TestClient
from test_pipeline import BAD, World, make_world

from bot.jobs.queue import JobQueue
from bot.ops.settings import Settings
from bot.store import db, deliveries, tables
from bot.web import manifest
from bot.web.app import create_app
from fake_github import make_app_keypair


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_github(world: World) -> str:
    """Stop the fake GitHub under the running App; the URL the App still points at."""
    url = world.settings.github_url
    world.server.stop()
    return url


@pytest.fixture
def world(make_settings: Callable[..., Settings]) -> Iterator[World]:
    yield from make_world(make_settings)


def job_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "bot.jobs.queue" and r.levelno >= logging.WARNING
    ]


def test_a_job_that_cannot_reach_github_names_the_host_and_retries_without_a_traceback(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    url = stop_github(world)
    host = url.split("://", 1)[1].rstrip("/")
    with caplog.at_level(logging.WARNING):
        delivery = world.send("pull_request", world.pr_payload("opened", pr))

    assert (delivery.state, delivery.attempts) == (tables.QUEUED, 1)
    assert delivery.error is not None
    assert delivery.error.startswith(f"attempt 1 of 5: GitHub at {host} could not be reached (")
    assert f"check SSOT_GITHUB_URL ({url.rstrip('/')})" in delivery.error
    [record] = job_records(caplog)
    message = record.getMessage()
    assert f"GitHub at {host} could not be reached" in message
    assert message.endswith("attempt 1 of 5, retrying in 30 s")
    assert not record.exc_info and "Traceback" not in caplog.text


def test_the_last_attempt_fails_for_good_saying_so_without_a_traceback(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    for world in make_world(make_settings, job_max_attempts=1):
        pr = world.open_pr({"app/feature.py": BAD})
        stop_github(world)
        with caplog.at_level(logging.WARNING):
            delivery = world.send("pull_request", world.pr_payload("opened", pr))
        assert delivery.state == tables.FAILED
        [record] = job_records(caplog)
        assert record.levelno == logging.ERROR
        assert "failed for good, attempt 1 of 1: GitHub at 127.0.0.1:" in record.getMessage()
        assert not record.exc_info


def test_any_other_error_still_logs_its_traceback(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    # A bug must stay debuggable: only network errors lose the traceback.
    for world in make_world(make_settings):
        pr = world.open_pr({"app/feature.py": BAD})
        data = world.pr_payload("opened", pr)
        del data["pull_request"]["head"]
        with caplog.at_level(logging.WARNING):
            delivery = world.send("pull_request", data)
        assert delivery.state == tables.QUEUED
        [record] = job_records(caplog)
        assert "attempt 1 of 5, retrying in 30 s" in record.getMessage()
        assert record.exc_info  # (type, value, traceback)


def test_the_status_page_lists_retrying_and_failed_deliveries_with_their_last_error(
    world: World,
) -> None:
    done = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", done)
    pr = world.open_pr({"app/other.py": BAD}, branch="other")
    stop_github(world)
    retrying = world.send("pull_request", world.pr_payload("opened", pr), delivery="d-retry")
    assert retrying.error is not None
    # Another one, its second attempt failed for good (as the job leaves it). Another body:
    # the same body under another id would be a replay, with no effect of its own.
    again = world.pr_payload("opened", pr)
    again["pull_request"]["title"] = "Another delivery"
    world.send("pull_request", again, delivery="d-failed")
    later = db.utcnow() + dt.timedelta(hours=2)
    deliveries.claim_delivery(world.engine, "d-failed", now=later, lease_seconds=60, max_attempts=9)
    error = "attempt 2 of 5: RuntimeError: boom"
    deliveries.mark_failed(world.engine, "d-failed", 2, error, retry_at=None)

    page = unescape(world.client.get("/").text)
    counts = {
        state: int(n) for state, n in re.findall(r"<tr><td>(\w+)</td><td>(\d+)</td></tr>", page)
    }
    assert counts["retrying"] == 1 and counts["failed"] == 1 and counts["queued"] == 0
    assert counts["done"] >= 1
    assert "<h2>Retrying and failed deliveries</h2>" in page
    assert "<td>d-retry</td><td>pull_request.opened</td>" in page
    assert "retrying (1 of 5 attempts)" in page
    assert "could not be reached" in page and "check SSOT_GITHUB_URL" in page
    assert "<td>d-failed</td>" in page and "failed (2 of 5 attempts)" in page
    assert error in page


def test_a_sweep_without_github_logs_one_line_naming_it(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    keys = make_app_keypair()
    port = unused_port()
    settings = make_settings(
        app_id=keys.app_id, private_key=keys.private_key_pem, github_url=f"http://127.0.0.1:{port}"
    )
    engine = db.open_database(settings.database_url)
    try:
        jobs = JobQueue(settings, engine, immediate=True)
        with caplog.at_level(logging.WARNING):
            assert jobs.redeliver_failed() == 0
        [record] = job_records(caplog)
        assert record.getMessage().startswith(
            f"redelivering failed deliveries: GitHub at 127.0.0.1:{port} could not be reached"
        )
        assert record.getMessage().endswith("trying again in 10 minutes")
        assert not record.exc_info
    finally:
        engine.dispose()


# --- setup -----------------------------------------------------------------------------------


@pytest.fixture
def unreachable_setup(
    make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, str]]:
    """The App before it exists, with SSOT_GITHUB_URL where nothing listens."""
    monkeypatch.setattr(manifest, "CONVERSION_RETRY_SECONDS", 0.01)
    url = f"http://127.0.0.1:{unused_port()}"
    settings = make_settings(
        app_id=None,
        private_key=None,
        webhook_secret=None,
        github_url=url,
        public_url="http://testserver",
    )
    app = create_app(settings, env_file=tmp_path / ".env")
    with TestClient(app) as client:
        client.get("/", params={"token": runtime(client).setup_token})  # the printed address
        yield client, url


def test_setup_without_github_names_the_host_retries_and_keeps_the_link_usable(
    unreachable_setup: tuple[TestClient, str], caplog: pytest.LogCaptureFixture
) -> None:
    client, url = unreachable_setup
    found = re.search(r"state=([^&'\"]+)", client.get("/").text)
    assert found is not None
    state = found.group(1)
    with caplog.at_level(logging.WARNING, logger="bot.web.manifest"):
        response = client.get("/setup/callback", params={"code": "abc123", "state": state})
    assert response.status_code == 502
    host = url.split("://", 1)[1]
    text = unescape(response.text)
    assert f"GitHub at {host} could not be reached" in text
    assert f"check SSOT_GITHUB_URL ({url})" in text
    assert "attempt 3 of 3" in text and "reload this page" in text
    retries = [r.getMessage() for r in caplog.records if r.name == "bot.web.manifest"]
    assert [m.rsplit(";", 1)[1] for m in retries] == [
        " attempt 1 of 3, retrying in 0 s",
        " attempt 2 of 3, retrying in 0 s",
    ]
    assert not any(r.exc_info for r in caplog.records)
    # The code was never used: the same link tries again (it is not "unknown or used").
    again = client.get("/setup/callback", params={"code": "abc123", "state": state})
    assert again.status_code == 502 and "could not be reached" in again.text


def test_a_code_exchange_that_may_have_reached_github_is_not_sent_twice() -> None:
    sent: list[httpx.Request] = []

    def timing_out(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise httpx.ReadTimeout("no answer", request=request)

    async def exchange() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(timing_out)) as client:
            await manifest.convert_code(client, "https://ghe.example.com/api/v3", "abc")

    with pytest.raises(manifest.ManifestError) as caught:
        anyio.run(exchange)
    assert len(sent) == 1
    assert not isinstance(caught.value, manifest.GitHubUnreachable)
    assert "GitHub at ghe.example.com could not be reached (ReadTimeout: no answer)" in str(
        caught.value
    )
    assert "SSOT_GITHUB_URL (https://ghe.example.com/api/v3)" in str(caught.value)


def test_a_delivery_github_told_to_wait_is_postponed_not_retrying(world: World) -> None:
    new = deliveries.NewDelivery("d-wait", "pull_request", "opened", 1, "o/r", b"{}")
    assert deliveries.insert_delivery(world.engine, new, now=db.utcnow(), requeue_at=None)
    claimed = deliveries.claim_delivery(
        world.engine, "d-wait", now=db.utcnow(), lease_seconds=60, max_attempts=5
    )
    assert claimed is not None
    # As a job leaves it after a rate limit: queued again, the attempt not counted.
    later = db.utcnow() + dt.timedelta(minutes=5)
    reason = "postponed: RateLimitExceeded: wait"
    assert deliveries.postpone(world.engine, "d-wait", claimed.attempts, reason, retry_at=later)
    counts = deliveries.count_statuses(world.engine)
    assert (counts["postponed"], counts["retrying"], counts["queued"]) == (1, 0, 0)
    [item] = deliveries.unsettled_deliveries(world.engine)
    assert (item.id, item.status, item.next_try, item.error) == (
        "d-wait",
        "postponed",
        later,
        reason,
    )
    assert "<td>postponed</td>" in world.client.get("/").text
