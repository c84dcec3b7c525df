"""Operations: /metrics counts what happens, /readyz tells whether the replica can work, and
the logs are JSON lines with the delivery's context and without any secret."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from bot_testing import FAKE_PEM, SECRET, payload, payload_bytes, post_webhook, runtime
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.events import route
from bot.github import api
from bot.ops import logs as app_logging
from bot.ops import metrics
from bot.ops.settings import Settings
from bot.store import db, installations, tables
from bot.store import deliveries as delivery_store
from bot.web.app import create_app
from bot.work import CheckRequest, JobContext
from fake_github import FakeGitHubServer, FakeGitHubState, make_app_keypair

CLIENT_SECRET = "client-secret-0123456789abcdef"
NOWHERE_DATABASE = "postgresql+psycopg://ssot:dbpass-s3cret@127.0.0.1:1/nowhere"
NOWHERE_REDIS = "redis://127.0.0.1:1/0"


# --- helpers ---------------------------------------------------------------------------


def sample(text: str, name: str, **labels: str) -> float:
    """The value of sample ``name`` with ``labels`` in a /metrics text (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == name and all(item.labels.get(k) == v for k, v in labels.items()):
                return float(item.value)
    return 0.0


def scrape(client: TestClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


class LogCapture:
    """Everything the real logging setup writes, as text and as parsed JSON lines."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def logs() -> Iterator[Callable[..., LogCapture]]:
    """``logs(settings=None, level="debug")``: install the App's logging on a buffer."""
    root = logging.getLogger()
    level = root.level
    installed: list[logging.Handler] = []

    def install(settings: Settings | None = None, level: str = "debug") -> LogCapture:
        stream = io.StringIO()
        installed.append(
            app_logging.configure_logging(
                level, log_format="json", stream=stream, settings=settings
            )
        )
        return LogCapture(stream)

    yield install
    for handler in installed:
        root.removeHandler(handler)
    root.setLevel(level)
    app_logging.REDACTOR.clear()


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[CheckRequest]:
    calls: list[CheckRequest] = []

    def record(request: CheckRequest, context: JobContext) -> None:
        logging.getLogger("bot.checks.pipeline").info(
            "checking %s#%s", request.repository, request.pull_number
        )
        calls.append(request)

    monkeypatch.setattr(route, "run_check_request", record)
    return calls


# --- /metrics --------------------------------------------------------------------------


def test_metrics_count_deliveries_by_event_and_outcome(
    client: TestClient, checks: list[CheckRequest]
) -> None:
    before = scrape(client)
    body = payload_bytes("pull_request/opened")
    assert post_webhook(client, "pull_request", body, delivery="m-1").status_code == 202
    assert post_webhook(client, "pull_request", body, delivery="m-1").status_code == 200
    bad = client.post(
        "/api/github/webhooks", content=body, headers={"X-Hub-Signature-256": "sha256=00"}
    )
    assert bad.status_code == 401
    assert post_webhook(client, "watch", b'{"action": "started"}').status_code == 200
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    total = "ssot_webhook_deliveries_total"
    assert delta(total, event="pull_request", outcome="queued") == 1
    assert delta(total, event="pull_request", outcome="duplicate") == 1
    assert delta(total, event="none", outcome="unauthorized") == 1
    assert delta(total, event="other", outcome="ignored") == 1  # unknown events: bounded labels
    assert delta("ssot_webhook_response_seconds_count") == 4


def test_metrics_count_jobs_by_outcome_with_their_duration(
    client: TestClient, checks: list[CheckRequest]
) -> None:
    before = scrape(client)
    post_webhook(client, "pull_request", payload_bytes("pull_request/opened"))  # job runs inline
    after = scrape(client)
    labels = {"event": "pull_request", "outcome": "done"}
    assert (
        sample(after, "ssot_jobs_run_total", **labels)
        - sample(before, "ssot_jobs_run_total", **labels)
        == 1
    )
    count = "ssot_job_duration_seconds_count"
    assert sample(after, count, **labels) - sample(before, count, **labels) == 1


def test_metrics_show_jobs_by_state_from_the_store(
    settings: Settings, checks: list[CheckRequest]
) -> None:
    with TestClient(create_app(settings)) as client:  # a real queue, no consumer: jobs wait
        for number in range(3):  # three pull requests (one body twice is a replay)
            data = json.loads(payload_bytes("pull_request/opened"))
            data["number"] = number + 1
            post_webhook(client, "pull_request", json.dumps(data).encode())
        post_webhook(client, "watch", b'{"action": "started"}')
        text = scrape(client)
    assert sample(text, "ssot_jobs", state="queued") == 3
    assert sample(text, "ssot_jobs", state="ignored") == 1
    assert sample(text, "ssot_jobs", state="done") == 0
    assert sample(text, "ssot_queue_pending") == 3


def test_github_calls_are_counted_with_the_rate_limit_left() -> None:
    def fake_github(request: httpx.Request) -> httpx.Response:
        remaining = "4321" if request.url.path == "/rate_limit" else "99"
        resource = "core" if request.url.path == "/rate_limit" else "graphql"
        status = 200 if request.method == "GET" else 403
        return httpx.Response(
            status,
            json={},
            headers={"x-ratelimit-remaining": remaining, "x-ratelimit-resource": resource},
        )

    def value(name: str, **labels: str) -> float:
        return sample(metrics.exposition().decode(), name, **labels)

    ok_before = value("ssot_github_requests_total", method="GET", status="200")
    denied_before = value("ssot_github_requests_total", method="POST", status="403")
    with httpx.Client(
        transport=httpx.MockTransport(fake_github),
        base_url="http://github.invalid",
        event_hooks=metrics.github_event_hooks(),
    ) as client:
        client.get("/rate_limit")
        assert value("ssot_github_rate_limit_remaining", resource="core") == 4321
        client.post("/graphql")
    assert value("ssot_github_requests_total", method="GET", status="200") == ok_before + 1
    assert value("ssot_github_requests_total", method="POST", status="403") == denied_before + 1
    assert value("ssot_github_rate_limit_remaining", resource="graphql") == 99


def test_the_hooks_plug_into_githubkit() -> None:
    from githubkit import GitHub

    seen: list[str] = []

    def fake_github(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={}, headers={"x-ratelimit-remaining": "1234"})

    gh = GitHub(
        "ghs_" + "x" * 36,
        base_url="http://github.invalid/",
        transport=httpx.MockTransport(fake_github),
        event_hooks=metrics.github_event_hooks(),
        http_cache=False,
    )
    before = sample(
        metrics.exposition().decode(), "ssot_github_requests_total", method="GET", status="200"
    )
    gh.request("GET", "/rate_limit")
    text = metrics.exposition().decode()
    assert seen == ["/rate_limit"]
    assert sample(text, "ssot_github_requests_total", method="GET", status="200") == before + 1
    assert sample(text, "ssot_github_rate_limit_remaining", resource="core") == 1234


def test_findings_posted_are_counted() -> None:
    def posted(kind: str) -> float:
        return sample(metrics.exposition().decode(), "ssot_findings_posted_total", kind=kind)

    annotations, comments = posted("annotation"), posted("review_comment")
    metrics.record_findings_posted(7, "annotation")
    metrics.record_findings_posted(2, "review_comment")
    metrics.record_findings_posted(0, "review_comment")
    assert posted("annotation") == annotations + 7
    assert posted("review_comment") == comments + 2


# --- /healthz and /readyz ----------------------------------------------------------------


def test_readyz_is_200_when_the_database_and_the_queue_answer(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"] and checks["schema"]["ok"]
    assert checks["broker"]["pending"] == 0


def test_readyz_is_503_when_the_database_url_points_nowhere(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(database_url=NOWHERE_DATABASE)
    with TestClient(create_app(settings)) as client:  # starts anyway: the database may come
        assert client.get("/healthz").status_code == 200  # alive: do not restart the pod
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert "OperationalError" in body["checks"]["database"]["detail"]
    assert body["checks"]["broker"]["ok"] is True
    assert "dbpass-s3cret" not in response.text


def test_readyz_is_503_when_redis_is_down(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(redis_url=NOWHERE_REDIS)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["broker"]["ok"] is False and "Connection" in checks["broker"]["detail"]


def test_readyz_gives_up_on_a_check_that_hangs() -> None:
    import time

    import anyio

    from bot.web import health

    result = anyio.run(lambda: health.run_check("slow", lambda: time.sleep(2), timeout=0.2))
    assert not result.ok and "no answer within 0.2 s" in result.detail


# --- logs ------------------------------------------------------------------------------


def test_logs_are_json_lines_with_the_delivery_context(
    client: TestClient, checks: list[CheckRequest], logs: Callable[..., LogCapture]
) -> None:
    captured = logs(level="info")
    post_webhook(client, "pull_request", payload_bytes("pull_request/opened"), delivery="ctx-1")
    records = captured.records()  # every line is a JSON object, or this raises
    assert records
    mine = [r for r in records if r.get("delivery_id") == "ctx-1"]
    loggers = {r["logger"] for r in mine}
    assert {
        "bot.web.webhooks",
        "bot.checks.pipeline",
        "bot.jobs.queue",
    } <= loggers  # route, handler, job
    for record in mine:
        assert record["installation_id"] == 1
        assert record["repository"] == "Codertocat/Hello-World"
        assert record["pull_request"] == 2
        assert {"time", "level", "logger", "message"} <= record.keys()
    # The context ends with the request: a line logged afterwards carries none of it.
    logging.getLogger("bot.web.webhooks").info("after the request")
    last = captured.records()[-1]
    assert last["message"] == "after the request" and "delivery_id" not in last


def test_log_context_follows_a_comment_on_a_pull_request(
    client: TestClient, checks: list[CheckRequest], logs: Callable[..., LogCapture]
) -> None:
    captured = logs(level="info")
    data = payload("issue_comment/created")
    data["issue"]["pull_request"] = {"url": "https://api.github.com/repos/o/r/pulls/7"}
    data["issue"]["number"] = 7
    post_webhook(client, "issue_comment", json.dumps(data).encode(), delivery="ctx-2")
    web = [
        r
        for r in captured.records()
        if r.get("delivery_id") == "ctx-2" and r["logger"] == "bot.web.webhooks"
    ]
    assert web and web[0]["pull_request"] == 7


TOKEN = "ghs_" + "A1b2C3d4" * 4 + "-_x"
JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOjEyMywiaWF0IjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("message", "args", "secret"),
    [
        ("calling with %s", (f"Authorization: token {TOKEN}",), TOKEN),
        ("headers %s", ({"authorization": f"Bearer {JWT}"},), JWT),
        ("bearer in text: Bearer %s", (JWT,), JWT),
        (
            "token %s",
            ("0123456789abcdef0123456789abcdef01234567",),
            "0123456789abcdef0123456789abcdef",
        ),
        ("personal token %s", ("ghp_" + "Z" * 36,), "ghp_" + "Z" * 36),
        ("the key: %s", (FAKE_PEM,), "MIIBOgIBAAJBAKj34GkxFhD9"),
        ("one line of the key: %s", ("MIIBOgIBAAJBAKj34GkxFhD9",), "MIIBOgIBAAJBAKj34GkxFhD9"),
        ("secret is %s", (SECRET,), SECRET),
        ("client secret is %r", (CLIENT_SECRET,), CLIENT_SECRET),
        ("database at %s", ("postgresql+psycopg://ssot:pg-pass-123@db/ssot",), "pg-pass-123"),
        ("payload %s", (json.dumps({"webhook_secret": "wh-value-9"}),), "wh-value-9"),
    ],
)
def test_a_record_with_a_secret_is_redacted(
    make_settings: Callable[..., Settings],
    logs: Callable[..., LogCapture],
    message: str,
    args: tuple[Any, ...],
    secret: str,
) -> None:
    captured = logs(make_settings(client_secret=CLIENT_SECRET))
    logging.getLogger("tests.ops").warning(message, *args)
    [record] = captured.records()
    assert secret not in captured.text
    assert "[REDACTED" in record["message"]


def test_secrets_in_exceptions_extras_and_stacks_are_redacted(
    settings: Settings, logs: Callable[..., LogCapture]
) -> None:
    captured = logs(settings)
    log = logging.getLogger("tests.ops")
    try:
        raise RuntimeError(f"GitHub said no to token {TOKEN} with key {FAKE_PEM}")
    except RuntimeError:
        log.exception("request failed", extra={"headers": {"Authorization": f"token {TOKEN}"}})
    log.info("where am I, secret %s", SECRET, stack_info=True)
    text = captured.text
    for secret in (TOKEN, "MIIBOgIBAAJBAKj34GkxFhD9", SECRET):
        assert secret not in text
    first, second = captured.records()
    assert "RuntimeError" in first["exception"] and "[REDACTED" in first["exception"]
    assert "[REDACTED]" in first["headers"]
    assert "stack" in second


def test_ordinary_words_are_not_redacted(logs: Callable[..., LogCapture]) -> None:
    captured = logs()
    logging.getLogger("tests.ops").info("installation token renewed; the token expired at 10:00")
    assert (
        captured.records()[0]["message"] == "installation token renewed; the token expired at 10:00"
    )


def test_no_secret_reaches_the_logs_during_a_webhook_and_a_job(
    make_settings: Callable[..., Settings],
    logs: Callable[..., LogCapture],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A delivery through the real route and job, whose handler exchanges a real installation
    token with (the fake) GitHub and then logs carelessly: headers, settings, and an error
    holding the key. Nothing secret may appear in anything written, at any level."""
    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation("Codertocat", account_type="User")
    api.forget_tokens()
    careless = logging.getLogger("bot.checks.pipeline")

    def careless_check(request: CheckRequest, context: JobContext) -> None:
        gh = api.installation_client(
            context.settings, request.installation_id, engine=context.engine
        )
        response = gh.request("GET", "/installation/repositories")
        careless.debug(
            "GitHub answered %s to %s", response.status_code, dict(response.raw_request.headers)
        )
        careless.info("settings: %r, key %s", context.settings, context.settings.private_key_pem())
        raise RuntimeError(
            f"failed with {dict(response.raw_request.headers)} and key {keys.private_key_pem}"
        )

    monkeypatch.setattr(route, "run_check_request", careless_check)
    with FakeGitHubServer(state) as server:
        settings = make_settings(
            app_id=keys.app_id,
            private_key=keys.private_key_pem,
            github_url=server.url.rstrip("/"),
            client_secret=CLIENT_SECRET,
        )
        captured = logs(settings, level="debug")
        with TestClient(create_app(settings, immediate_jobs=True)) as client:
            data = payload("pull_request/opened")
            data["installation"]["id"] = installation.id
            delivery = str(uuid.uuid4())
            response = post_webhook(
                client, "pull_request", json.dumps(data).encode(), delivery=delivery
            )
            assert response.status_code == 202
            stored = delivery_store.get_delivery(runtime(client).engine, delivery)
            assert stored is not None and stored.state == tables.QUEUED  # failed, will retry
            post_webhook(
                client, "pull_request", b"{}", headers={"X-Hub-Signature-256": "sha256=bad"}
            )
    text = captured.text
    tokens = list(state.tokens)
    assert tokens, "the job did not exchange an installation token"
    assert delivery in text and "failed with" in text  # the careless lines were captured
    key_lines = [line for line in keys.private_key_pem.splitlines() if not line.startswith("-----")]
    for secret in [*tokens, SECRET, CLIENT_SECRET, *key_lines]:
        assert secret not in text
    assert "PRIVATE KEY-----" not in text
    assert "eyJ" not in text  # no JWT (the App's, sent to exchange the token)
    for record in captured.records():  # all JSON, context on the job's lines
        if record.get("logger") == "bot.jobs.queue" and "failed" in record["message"]:
            assert (
                record["delivery_id"] == delivery and record["installation_id"] == installation.id
            )


# --- the webhook route's batching writer (group commit) --------------------------------------


def _new(delivery_id: str, state: str = tables.QUEUED) -> delivery_store.NewDelivery:
    return delivery_store.NewDelivery(delivery_id, "pull_request", "opened", 1, "o/r", b"{}", state)


def _write_concurrently(writer: Any, deliveries: list[delivery_store.NewDelivery]) -> list[Any]:
    import asyncio

    async def run() -> list[Any]:
        now = db.utcnow()
        return await asyncio.gather(
            *(writer.store(d, now=now, requeue_at=now) for d in deliveries), return_exceptions=True
        )

    return asyncio.run(run())


@pytest.fixture
def queue_and_engine(settings: Settings) -> Iterator[tuple[Any, Any]]:
    from bot.jobs.queue import JobQueue

    engine = db.open_database(settings.database_url)
    jobs = JobQueue(settings, engine)  # a real SqliteHuey: pending tasks can be counted
    yield jobs, engine
    engine.dispose()


def test_the_writer_stores_each_id_once_and_enqueues_what_it_stored(
    queue_and_engine: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.web import delivery_writer

    jobs, engine = queue_and_engine
    sizes: list[int] = []
    real = delivery_writer._insert_deliveries

    def counted(engine: Any, batch: Any) -> list[bool]:
        sizes.append(len(batch))
        return real(engine, batch)

    monkeypatch.setattr(delivery_writer, "_insert_deliveries", counted)
    writer = delivery_writer.DeliveryWriter(engine, jobs).start()
    try:
        batch = [_new(f"w-{i % 40}") for i in range(80)]  # every id twice, at once
        batch.append(_new("w-ignored", tables.IGNORED))
        results = _write_concurrently(writer, batch)
        assert _write_concurrently(writer, [_new("w-1")]) == [False]  # stored before
    finally:
        writer.stop()
    assert max(sizes) > 1 and sum(sizes) == 82  # grouped into few transactions
    assert results.count(True) == 41 and results.count(False) == 40
    for i in range(40):
        pair = [r for d, r in zip(batch, results, strict=True) if d.id == f"w-{i}"]
        assert sorted(pair) == [False, True]
    assert delivery_store.count_deliveries(engine)["queued"] == 40
    assert jobs.huey.pending_count() == 40  # ignored ones are stored, not enqueued


def test_the_writer_falls_back_to_one_transaction_each_on_a_conflict(
    queue_and_engine: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    from bot.web import delivery_writer

    jobs, engine = queue_and_engine
    now = db.utcnow()
    delivery_store.insert_delivery(engine, _new("taken"), now=now, requeue_at=now)

    def raced(engine: Any, batch: Any) -> list[bool]:  # another replica won a race
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr(delivery_writer, "_insert_deliveries", raced)
    writer = delivery_writer.DeliveryWriter(engine, jobs).start()
    try:
        results = _write_concurrently(writer, [_new("taken"), _new("fresh")])
    finally:
        writer.stop()
    assert results == [False, True]
    assert jobs.huey.pending_count() == 1


def test_a_database_error_fails_the_requests_of_its_batch_only(
    settings: Settings, checks: list[CheckRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.web import delivery_writer

    calls = {"n": 0}
    real = delivery_writer._insert_deliveries

    def flaky(engine: Any, batch: Any) -> list[bool]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real(engine, batch)

    monkeypatch.setattr(delivery_writer, "_insert_deliveries", flaky)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        before = scrape(client)
        body = payload_bytes("pull_request/opened")
        assert post_webhook(client, "pull_request", body, delivery="e-1").status_code == 500
        assert post_webhook(client, "pull_request", body, delivery="e-1").status_code == 202
        after = scrape(client)
    labels = {"event": "pull_request", "outcome": "error"}
    total = "ssot_webhook_deliveries_total"
    assert sample(after, total, **labels) - sample(before, total, **labels) == 1


def test_a_delivery_stored_by_the_writer_is_answered_even_if_the_queue_is_down(
    settings: Settings, checks: list[CheckRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(settings)) as client:
        jobs = runtime(client).jobs

        def broken(ids: Any) -> None:
            raise ConnectionError("queue unreachable")

        monkeypatch.setattr(jobs, "enqueue_many", broken)
        response = post_webhook(client, "pull_request", payload_bytes("pull_request/opened"))
        assert response.status_code == 202
        stored = delivery_store.count_deliveries(runtime(client).engine)
    assert stored["queued"] == 1  # the sweeper enqueues it


def test_enqueue_many_keeps_the_order_on_sqlite(queue_and_engine: tuple[Any, Any]) -> None:
    jobs, _ = queue_and_engine
    jobs.enqueue_many(["a", "b", "c"])
    assert jobs.huey.pending_count() == 3
    assert [task.args for task in jobs.huey.pending()] == [("a",), ("b",), ("c",)]


@pytest.mark.services
def test_enqueue_many_keeps_the_order_on_redis(make_settings: Callable[..., Settings]) -> None:
    from bot.jobs.queue import JobQueue

    redis = pytest.importorskip("redis", reason="the 'redis' package is not installed")
    url = "redis://127.0.0.1:6379/13"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    settings = make_settings(redis_url=url)
    engine = db.open_database(settings.database_url)
    jobs = JobQueue(settings, engine)
    try:
        jobs.huey.flush()
        jobs.enqueue_many(["a", "b", "c"])
        assert [jobs.huey.dequeue().args for _ in range(3)] == [("a",), ("b",), ("c",)]
    finally:
        jobs.huey.flush()
        engine.dispose()


# --- what operators read and deploy -------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def test_every_metric_in_operations_md_is_exposed(client: TestClient) -> None:
    import re

    documented = set(re.findall(r"`(ssot_[a-z_]+)`", (ROOT / "docs" / "operations.md").read_text()))
    assert len(documented) >= 10
    families = {f.name for f in text_string_to_metric_families(scrape(client))}
    for name in documented:
        assert name.removesuffix("_total") in families, f"{name} is documented but not exposed"
    ours = {name for name in families if name.startswith("ssot_")}
    undocumented = {n for n in ours if n not in documented and f"{n}_total" not in documented}
    assert not undocumented, f"document these in docs/operations.md: {sorted(undocumented)}"


def test_the_dockerfile_builds_in_stages_and_runs_as_an_unprivileged_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) >= 2 and "AS build" in stages[0] and "AS runtime" in stages[-1]
    assert "COPY --from=build /opt/ssot /opt/ssot" in lines
    [user] = [line for line in lines if line.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in ("0", "root")
    assert lines[-2] == 'ENTRYPOINT ["ssot"]'
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text()
    assert "!bot/**" in ignore and "!analyzers/**" in ignore
    # every package the wheel declares reaches the image (the demo needs the fake GitHub)
    for package in ("analyzers", "bot", "fake_github"):
        assert f"COPY {package} ./{package}" in lines and f"!{package}/**" in ignore


def test_compose_runs_web_two_workers_redis_and_postgres_chosen_by_settings() -> None:
    import yaml

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "worker", "redis", "postgres", "migrate"} <= services.keys()
    assert services["web"]["command"][:3] == ["serve", "--role", "web"]
    assert services["worker"]["command"][0] == "worker"
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["migrate"]["command"] == ["migrate"]
    for name in ("web", "worker", "migrate"):
        env = services[name]["environment"]
        assert env["SSOT_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["SSOT_REDIS_URL"].startswith("redis://")
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert compose["secrets"]["github_app_private_key"]["file"]
    example = (DEPLOY / "compose.env.example").read_text()
    for variable in ("SSOT_APP_ID", "SSOT_WEBHOOK_SECRET", "POSTGRES_PASSWORD"):
        assert f"{variable}=" in example


def _k8s() -> dict[str, dict[str, Any]]:
    import yaml

    found: dict[str, dict[str, Any]] = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            found[f"{doc['kind']}/{doc.get('metadata', {}).get('name', path.stem)}"] = doc
    return found


def test_kubernetes_manifests_run_web_and_workers_with_probes_secrets_and_autoscaling() -> None:
    import yaml

    docs = _k8s()
    web, worker = docs["Deployment/ssot-web"], docs["Deployment/ssot-worker"]
    secret_keys = set(docs["Secret/ssot-guard"]["stringData"])
    for deployment, args in ((web, ["serve", "--role", "web"]), (worker, ["worker"])):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        [container] = pod["containers"]
        assert container["args"][: len(args)] == args
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["resources"]["requests"]["cpu"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        [migrate] = pod["initContainers"]
        assert migrate["args"] == ["migrate"]
        for item in [*container.get("env", []), *migrate.get("env", [])]:
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:  # every secret reference names a key the Secret has
                assert ref["name"] == "ssot-guard" and ref["key"] in secret_keys
        mounted = {v["name"]: v for v in pod["volumes"]}
        assert mounted["github-app-key"]["secret"]["secretName"] == "ssot-guard"
        assert mounted["github-app-key"]["secret"]["items"][0]["key"] in secret_keys
    web_container = web["spec"]["template"]["spec"]["containers"][0]
    assert web_container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web_container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    worker_container = worker["spec"]["template"]["spec"]["containers"][0]
    assert "--metrics-port" in worker_container["args"]
    hpa = docs["HorizontalPodAutoscaler/ssot-worker"]
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "ssot-worker"
    }  # fmt: skip
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    service = docs["Service/ssot-web"]
    assert (
        service["spec"]["selector"].items() <= web["spec"]["template"]["metadata"]["labels"].items()
    )
    config = docs["ConfigMap/ssot-guard"]["data"]
    assert config["SSOT_REDIS_URL"].startswith("redis://")
    assert config["SSOT_PRIVATE_KEY_PATH"].startswith("/var/run/secrets/ssot/")
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk - {"secret.example.yaml"}  # the real Secret is never committed


def test_every_setting_in_deploy_is_one_the_app_reads() -> None:
    """A misspelt variable in a manifest is silently ignored by the App: catch it here."""
    import re

    import yaml

    from bot.ops.settings import Settings, env_name

    known = {env_name(name) for name in Settings.model_fields}
    used: dict[str, str] = {}
    for name in _k8s()["ConfigMap/ssot-guard"]["data"]:
        used[name] = "k8s/configmap.yaml"
    for doc in _k8s().values():
        for container in (
            doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        ):
            for item in container.get("env", []):
                used[item["name"]] = f"k8s {doc['kind']} {doc['metadata']['name']}"
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for service, spec in compose["services"].items():
        for name in spec.get("environment", {}):
            used[name] = f"compose.yaml {service}"
    example = (DEPLOY / "compose.env.example").read_text()
    for name in re.findall(r"^(SSOT_[A-Z_]+)=", example, flags=re.MULTILINE):
        used[name] = "compose.env.example"
    ours = {name: where for name, where in used.items() if name.startswith("SSOT_")}
    assert len(ours) >= 8
    unknown = {name: where for name, where in ours.items() if name not in known}
    assert not unknown, f"settings the App does not read: {unknown}"


# --- scale-out: web and worker processes on PostgreSQL and Redis, chosen by settings alone -------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.services
def test_web_and_worker_processes_scale_out_on_postgresql_and_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import subprocess
    import sys

    from test_migrations import POSTGRES, _postgres_or_skip

    redis = pytest.importorskip("redis", reason="the 'redis' package is not installed")
    redis_url = "redis://127.0.0.1:6379/12"
    try:
        redis.Redis.from_url(redis_url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    _postgres_or_skip()
    schema = f"ssot_ops_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    database_url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SSOT_", "PROMETHEUS"))}
    env.update(
        SSOT_APP_ID="1",
        SSOT_PRIVATE_KEY=FAKE_PEM.replace("\n", "\\n"),
        SSOT_WEBHOOK_SECRET=SECRET,
        SSOT_DATABASE_URL=database_url,
        SSOT_REDIS_URL=redis_url,
        SSOT_DATA_DIR=str(tmp_path / "data"),
    )
    run = [sys.executable, "-c", "import sys; from analyzers.cli import main; sys.exit(main())"]
    web_port, worker_port = _free_port(), _free_port()
    processes: list[subprocess.Popen[bytes]] = []
    log_files = [tmp_path / "web.log", tmp_path / "worker.log"]
    try:
        migrated = subprocess.run([*run, "migrate"], env=env, cwd=tmp_path, capture_output=True)
        assert migrated.returncode == 0, migrated.stderr.decode()
        with log_files[0].open("wb") as web_log, log_files[1].open("wb") as worker_log:
            processes.append(
                subprocess.Popen(
                    [*run, "serve", "--role", "web", "--port", str(web_port)],
                    env=env, cwd=tmp_path, stderr=web_log, stdout=web_log,
                )
            )  # fmt: skip
            processes.append(
                subprocess.Popen(
                    [*run, "worker", "--metrics-port", str(worker_port), "--metrics-host", "127.0.0.1"],
                    env=env, cwd=tmp_path, stderr=worker_log, stdout=worker_log,
                )
            )  # fmt: skip
        web = f"http://127.0.0.1:{web_port}"

        def ready() -> bool:
            assert all(p.poll() is None for p in processes), log_files[0].read_text()
            try:
                return httpx.get(web + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for(ready)
        assert len(_children(processes[0].pid)) == 0  # --role web starts no consumer
        body = payload_bytes("installation/created")
        with httpx.Client(base_url=web) as client:
            response = post_webhook(client, "installation", body, delivery="scale-1")
        assert response.status_code == 202
        engine = db.create_engine(database_url)
        try:

            def done() -> bool:
                delivery = delivery_store.get_delivery(engine, "scale-1")
                return delivery is not None and delivery.state == tables.DONE

            _wait_for(done)
            assert installations.get_installation(engine, 957387) is not None
        finally:
            engine.dispose()
        worker_metrics = httpx.get(f"http://127.0.0.1:{worker_port}/metrics").text
        labels = {"event": "installation", "outcome": "done"}
        assert sample(worker_metrics, "ssot_jobs_run_total", **labels) == 1
        web_metrics = httpx.get(web + "/metrics").text
        assert (
            sample(
                web_metrics, "ssot_webhook_deliveries_total", event="installation", outcome="queued"
            )
            == 1
        )
        assert sample(web_metrics, "ssot_jobs", state="done") == 1
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(45)
            except subprocess.TimeoutExpired:
                process.kill()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    for path in log_files:
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        assert lines, f"{path.name} is empty"
        text = path.read_text()
        for secret in (SECRET, "MIIBOgIBAAJBAKj34GkxFhD9"):
            assert secret not in text
    worker_lines = [json.loads(line) for line in log_files[1].read_text().splitlines()]
    [finished] = [
        r for r in worker_lines if r.get("delivery_id") == "scale-1" and "done" in r["message"]
    ]
    assert finished["installation_id"] == 957387 and finished["logger"] == "bot.jobs.queue"


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.slow
def test_ssot_serve_shows_the_job_counters_of_its_worker_process(
    settings: Settings, tmp_path: Path
) -> None:
    """Embedded: jobs run in a child process, yet the one /metrics counts them."""
    import os
    import signal
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SSOT_", "PROMETHEUS"))}
    env.update(
        SSOT_APP_ID="1",
        SSOT_PRIVATE_KEY=FAKE_PEM.replace("\n", "\\n"),
        SSOT_WEBHOOK_SECRET=SECRET,
        SSOT_DATA_DIR=str(settings.data_dir),
    )
    port = _free_port()
    run = "import sys; from analyzers.cli import main; sys.exit(main())"
    with (tmp_path / "serve.log").open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-c", run, "serve", "--port", str(port)],
            env=env, cwd=tmp_path, stdout=log_file, stderr=log_file,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                return httpx.get(base + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for(ready)
        with httpx.Client(base_url=base) as client:
            body = payload_bytes("installation/created")
            assert post_webhook(client, "installation", body, delivery="emb-1").status_code == 202

            def counted() -> bool:
                text = client.get("/metrics").text
                return (
                    sample(text, "ssot_jobs_run_total", event="installation", outcome="done") == 1
                )

            _wait_for(counted)
            text = client.get("/metrics").text
        assert (
            sample(text, "ssot_webhook_deliveries_total", event="installation", outcome="queued")
            == 1
        )
        assert (
            sample(text, "ssot_job_duration_seconds_count", event="installation", outcome="done")
            == 1
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
    lines = [
        json.loads(line)
        for line in (tmp_path / "serve.log").read_text().splitlines()
        if line.strip()
    ]
    assert any(r.get("delivery_id") == "emb-1" and r["logger"] == "bot.jobs.queue" for r in lines)
