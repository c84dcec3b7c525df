"""The webhook route: verify, store durably, answer at once; one effect per delivery id."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from bot_testing import (
    WEBHOOKS,
    payload,
    payload_bytes,
    post_webhook,
    runtime,
    signed_headers,
    stored,
)
from fastapi.testclient import TestClient

from bot.ops.settings import Settings
from bot.store import tables
from bot.web.app import create_app
from bot.work import CheckRequest

pytestmark = pytest.mark.usefixtures("checks")


def test_a_signed_delivery_is_stored_and_answered_202(
    client: TestClient, engine: Any, checks: list[CheckRequest]
) -> None:
    body = payload_bytes("pull_request/opened")
    response = post_webhook(client, "pull_request", body, delivery="d-1")
    assert response.status_code == 202
    assert response.json() == {"delivery": "d-1", "status": "queued"}
    [delivery] = stored(engine)
    assert (delivery.id, delivery.event, delivery.action) == ("d-1", "pull_request", "opened")
    assert delivery.installation_id == 1
    assert delivery.repository == "Codertocat/Hello-World"
    assert delivery.body == body  # the exact bytes GitHub sent
    assert delivery.state == tables.DONE  # immediate mode: the job ran in the request
    assert len(checks) == 1


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, "sha1=0123", "garbage"],
    ids=["missing", "empty", "wrong", "sha1", "garbage"],
)
def test_a_bad_or_missing_signature_is_401_and_nothing_is_stored(
    client: TestClient, engine: Any, checks: list[CheckRequest], signature: str | None
) -> None:
    body = payload_bytes("pull_request/opened")
    headers = signed_headers("pull_request", body)
    if signature is None:
        del headers["X-Hub-Signature-256"]
    else:
        headers["X-Hub-Signature-256"] = signature
    response = client.post("/api/github/webhooks", content=body, headers=headers)
    assert response.status_code == 401
    assert stored(engine) == []
    assert checks == []


def test_a_body_signed_with_another_secret_is_401(client: TestClient, engine: Any) -> None:
    body = payload_bytes("pull_request/opened")
    headers = signed_headers("pull_request", body, secret="not our secret")
    assert client.post("/api/github/webhooks", content=body, headers=headers).status_code == 401
    assert stored(engine) == []


def test_a_tampered_body_is_401(client: TestClient, engine: Any) -> None:
    body = payload_bytes("pull_request/opened")
    headers = signed_headers("pull_request", body)
    tampered = body.replace(b"Codertocat", b"Mallory!!!", 1)
    assert client.post("/api/github/webhooks", content=tampered, headers=headers).status_code == 401
    assert stored(engine) == []


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_a_signed_body_that_is_not_a_json_object_is_400(
    client: TestClient, engine: Any, body: bytes
) -> None:
    assert post_webhook(client, "pull_request", body).status_code == 400
    assert stored(engine) == []


@pytest.mark.parametrize("header", ["X-GitHub-Delivery", "X-GitHub-Event"])
def test_a_missing_delivery_or_event_header_is_400(
    client: TestClient, engine: Any, header: str
) -> None:
    body = payload_bytes("pull_request/opened")
    headers = signed_headers("pull_request", body)
    del headers[header]
    assert client.post("/api/github/webhooks", content=body, headers=headers).status_code == 400
    assert stored(engine) == []


def test_the_same_delivery_twice_has_one_effect(
    client: TestClient, engine: Any, checks: list[CheckRequest]
) -> None:
    body = payload_bytes("pull_request/synchronize")
    first = post_webhook(client, "pull_request", body, delivery="same-guid")
    again = post_webhook(client, "pull_request", body, delivery="same-guid")
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert len(stored(engine)) == 1
    assert len(checks) == 1  # one job


def test_a_captured_body_replayed_under_a_new_guid_has_no_second_effect(
    client: TestClient, engine: Any, checks: list[CheckRequest]
) -> None:
    # GitHub signs the body, not the X-GitHub-Delivery header: a replay under a fresh GUID
    # (or another X-GitHub-Event) verifies, and must not run the job again.
    body = payload_bytes("pull_request/synchronize")
    first = post_webhook(client, "pull_request", body, delivery="original-guid")
    replay = post_webhook(client, "pull_request", body, delivery="attacker-guid")
    other_event = post_webhook(client, "check_suite", body, delivery="another-guid")
    assert first.status_code == 202
    assert (replay.status_code, replay.json()["status"]) == (200, "duplicate")
    assert (other_event.status_code, other_event.json()["status"]) == (200, "duplicate")
    assert [d.id for d in stored(engine)] == ["original-guid"]
    assert len(checks) == 1


def test_a_signed_but_deeply_nested_body_is_400_not_500(client: TestClient, engine: Any) -> None:
    body = b'{"action": "opened", "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    response = post_webhook(client, "pull_request", body)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert stored(engine) == []


@pytest.mark.parametrize(
    "event, fixture",
    [
        ("ping", "ping/payload.json"),
        ("repository", "repository/created.with-installation"),
        ("pull_request_review_thread", "pull_request_review_thread/resolved"),
        ("pull_request", "pull_request/labeled"),  # a known event, an action we do not handle
        ("check_run", "check_run/completed"),
        ("some_future_event", "pull_request/opened"),
    ],
)
def test_unknown_events_and_actions_are_acknowledged_and_ignored(
    client: TestClient, engine: Any, checks: list[CheckRequest], event: str, fixture: str
) -> None:
    response = post_webhook(client, event, payload_bytes(fixture))
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    [delivery] = stored(engine)
    assert delivery.state == tables.IGNORED
    assert delivery.body is None  # metadata kept for one-effect-per-id, the payload is not
    assert delivery.attempts == 0  # never processed
    assert checks == []


def test_a_repository_webhook_without_installation_is_acknowledged_and_ignored(
    client: TestClient, engine: Any, checks: list[CheckRequest]
) -> None:
    # A repository (not App) webhook: a handled event but no installation to act as.
    response = post_webhook(client, "pull_request", payload_bytes("pull_request/ready_for_review"))
    assert response.status_code == 200
    assert "not the App" in response.json()["reason"]
    assert [d.state for d in stored(engine)] == [tables.IGNORED]
    assert checks == []


def test_every_real_payload_is_answered_2xx(
    client: TestClient, engine: Any, checks: list[CheckRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The jobs run with GitHub out of the picture: PR checks are recorded (``checks``) and the
    # default branch's recount on push is recorded here.
    from bot.checks import repo_totals

    recounts: list[str] = []

    def recount(context: Any, inst: int, repo: str, sha: str, **options: Any) -> None:
        recounts.append(repo)

    monkeypatch.setattr(repo_totals, "refresh_scan", recount)
    files = sorted(WEBHOOKS.glob("*/*.json"))
    assert len(files) > 50
    for path in files:
        response = post_webhook(client, path.parent.name, path.read_bytes())
        assert response.status_code in (200, 202), (path, response.text)
    assert len(stored(engine)) == len(files)
    assert {d.state for d in stored(engine)} <= {tables.DONE, tables.IGNORED}
    assert checks and recounts  # handled events reached their handlers


def test_an_oversized_body_with_content_length_is_413(
    make_settings: Any, checks: list[CheckRequest]
) -> None:
    settings = make_settings(max_webhook_bytes=1000)
    with TestClient(create_app(settings, immediate_jobs=True)) as client:
        response = post_webhook(client, "pull_request", payload_bytes("pull_request/opened"))
        assert response.status_code == 413
        assert stored(runtime(client).engine) == []


def test_the_default_limit_is_githubs_25_mb(client: TestClient, engine: Any) -> None:
    headers = {"Content-Length": str(25 * 1024 * 1024 + 1), **signed_headers("ping", b"{}")}
    # Refused on the header alone: the (short) body is never read.
    response = client.post("/api/github/webhooks", content=b"{}", headers=headers)
    assert response.status_code == 413
    assert stored(engine) == []


async def _post_streamed(
    settings: Settings, chunks: list[bytes], headers: dict[str, str]
) -> tuple[int, int]:
    """POST a chunked body through the ASGI app; (status, chunks the app pulled)."""
    app = create_app(settings, immediate_jobs=True)
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for chunk in chunks:
            pulled += 1
            yield chunk

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            response = await http.post("/api/github/webhooks", content=body(), headers=headers)
        assert stored(app.state.runtime.engine) == []
    return response.status_code, pulled


def test_an_oversized_chunked_body_without_content_length_is_413_and_not_read_to_the_end(
    make_settings: Any,
) -> None:
    settings = make_settings(max_webhook_bytes=1000)
    chunks = [b"x" * 100] * 100  # 10,000 bytes
    headers = signed_headers("pull_request", b"".join(chunks))
    status, pulled = anyio.run(_post_streamed, settings, chunks, headers)
    assert status == 413
    assert pulled <= 11  # stopped right after crossing the limit


def test_a_lying_content_length_cannot_make_us_buffer_more(make_settings: Any) -> None:
    settings = make_settings(max_webhook_bytes=1000)
    chunks = [b"x" * 100] * 100
    headers = {**signed_headers("pull_request", b"".join(chunks)), "Content-Length": "10"}
    status, pulled = anyio.run(_post_streamed, settings, chunks, headers)
    assert status == 413
    assert pulled <= 11


def test_without_a_webhook_secret_nothing_is_accepted(make_settings: Any) -> None:
    settings = make_settings(app_id=None, private_key=None, webhook_secret=None)
    with TestClient(create_app(settings, immediate_jobs=True)) as client:
        response = post_webhook(client, "pull_request", payload_bytes("pull_request/opened"))
        assert response.status_code == 503
        assert stored(runtime(client).engine) == []


def test_a_stored_delivery_is_answered_even_if_the_queue_is_down(
    client: TestClient, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(delivery_id: str, **_: Any) -> None:
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(runtime(client).jobs, "enqueue", broken)
    response = post_webhook(client, "pull_request", payload_bytes("pull_request/opened"))
    assert response.status_code == 202
    assert [d.state for d in stored(engine)] == [tables.QUEUED]  # the sweeper will enqueue it


# --- what the handlers hand to the pipeline -------------------------------------------------


def test_a_new_head_asks_the_pipeline_to_check_it(
    client: TestClient, checks: list[CheckRequest]
) -> None:
    data = payload("pull_request/synchronize")
    post_webhook(client, "pull_request", json.dumps(data).encode(), delivery="sync-1")
    [request] = checks
    assert request.installation_id == data["installation"]["id"]
    assert request.repository == data["pull_request"]["base"]["repo"]["full_name"]
    assert request.pull_number == data["number"]
    assert request.head_sha == data["pull_request"]["head"]["sha"]
    assert request.reason == "pull_request.synchronize"
    assert request.delivery_id == "sync-1"


def test_an_edited_pr_is_checked_again_only_when_its_base_changed(
    client: TestClient, checks: list[CheckRequest]
) -> None:
    data = payload("pull_request/opened")
    data["action"] = "edited"
    data["changes"] = {"title": {"from": "old title"}}
    post_webhook(client, "pull_request", json.dumps(data).encode())
    assert checks == []
    data["changes"] = {"base": {"ref": {"from": "develop"}, "sha": {"from": "0" * 40}}}
    post_webhook(client, "pull_request", json.dumps(data).encode())
    assert [c.reason for c in checks] == ["pull_request.edited"]


def test_a_comment_on_an_issue_is_not_a_command(
    client: TestClient, engine: Any, checks: list[CheckRequest]
) -> None:
    data = payload("issue_comment/created.with-installation")
    data["comment"]["body"] = "/ssot rescan"  # but on an issue, not a pull request
    post_webhook(client, "issue_comment", json.dumps(data).encode())
    assert checks == []
    assert [d.state for d in stored(engine)] == [tables.DONE]


def test_a_command_in_a_pr_comment_reaches_the_pipeline(
    client: TestClient, checks: list[CheckRequest]
) -> None:
    data = payload("issue_comment/created.with-installation")
    data["issue"]["pull_request"] = {"url": data["issue"]["url"].replace("/issues/", "/pulls/")}
    data["comment"]["body"] = "Thanks!\n/ssot accept legacy client, removed in #12"
    post_webhook(client, "issue_comment", json.dumps(data).encode())
    [request] = checks
    assert (request.command, request.command_argument) == (
        "accept",
        "legacy client, removed in #12",
    )
    assert request.pull_number == data["issue"]["number"]
    assert request.comment_id == data["comment"]["id"]
    assert request.head_sha is None
    assert request.sender == data["sender"]["login"]


def test_a_pr_comment_without_a_command_or_by_a_bot_does_nothing(
    client: TestClient, checks: list[CheckRequest]
) -> None:
    data = payload("issue_comment/created.with-installation")
    data["issue"]["pull_request"] = {"url": "https://api.github.com/repos/o/r/pulls/1"}
    post_webhook(client, "issue_comment", json.dumps(data).encode())  # a plain comment
    data["comment"]["body"] = "/ssot rescan"
    data["sender"]["type"] = "Bot"
    post_webhook(client, "issue_comment", json.dumps(data).encode())
    assert checks == []


def test_check_run_buttons_reach_the_pipeline(
    client: TestClient, checks: list[CheckRequest]
) -> None:
    post_webhook(client, "check_run", payload_bytes("check_run/rerequested"))
    post_webhook(client, "check_run", payload_bytes("check_run/requested_action"))
    rerun, button = checks
    # A fork's check run lists no pull request: the pipeline looks it up from the sha.
    assert (rerun.reason, rerun.pull_number) == ("check_run.rerequested", None)
    assert rerun.head_sha == "d6fde92930d4715a2b49857d24b940956b26d2d3"
    assert (button.requested_action, button.pull_number) == ("lgtm|26764", 26764)


def test_rerunning_a_check_suite_checks_its_prs(
    client: TestClient, checks: list[CheckRequest]
) -> None:
    post_webhook(client, "check_suite", payload_bytes("check_suite/rerequested"))
    assert [(c.reason, c.pull_number) for c in checks] == [("check_suite.rerequested", 2)]


def test_a_redelivery_of_a_delivery_that_failed_for_good_runs_it_again(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.events import dispatch

    def broken(event: Any, context: Any) -> None:
        raise RuntimeError("GitHub is down")

    monkeypatch.setattr(dispatch, "DISPATCH", {("installation", "created"): broken})
    body = payload_bytes("installation/created")
    with TestClient(create_app(make_settings(job_max_attempts=1), immediate_jobs=True)) as client:
        engine = runtime(client).engine
        assert post_webhook(client, "installation", body, delivery="r-1").status_code == 202
        assert [d.state for d in stored(engine)] == [tables.FAILED]

        ran: list[str] = []
        monkeypatch.setattr(
            dispatch,
            "DISPATCH",
            {("installation", "created"): lambda e, c: ran.append(e.delivery_id)},
        )
        # GitHub's "Redeliver" button: the same GUID again.
        assert post_webhook(client, "installation", body, delivery="r-1").status_code == 202
        assert ran == ["r-1"]
        assert [(d.state, d.attempts) for d in stored(engine)] == [(tables.DONE, 1)]
        # Done now: a further redelivery is a duplicate.
        assert post_webhook(client, "installation", body, delivery="r-1").status_code == 200
        assert ran == ["r-1"]
