"""Jobs: the dispatch table, the delivery lifecycle, and surviving a killed worker or server."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_testing import (
    ROOT,
    SECRET,
    WEBHOOKS,
    payload,
    payload_bytes,
    post_webhook,
    runtime,
    stored,
)
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError

from bot.checks import pull_lock as locks
from bot.events import dispatch
from bot.jobs.queue import JobQueue, retry_delay
from bot.ops.settings import Settings
from bot.store import acceptances, db, deliveries, installations, tables
from bot.store import locks as lock_store
from bot.web import manifest
from bot.web.app import create_app
from bot.work import JobContext, RetryLater, WebhookEvent

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def jobs(settings: Settings) -> Iterator[JobQueue]:
    engine = db.open_database(settings.database_url)
    yield JobQueue(settings, engine, immediate=True)
    engine.dispose()


def add(jobs: JobQueue, event: str, fixture: str, delivery_id: str, **changes: Any) -> None:
    """Store a real payload as a queued delivery, as the webhook route does (not enqueued)."""
    data = payload(fixture)
    data.update(changes)
    installation = data.get("installation") or {}
    assert deliveries.insert_delivery(
        jobs.engine,
        deliveries.NewDelivery(
            id=delivery_id,
            event=event,
            action=data.get("action"),
            installation_id=installation.get("id"),
            repository=(data.get("repository") or {}).get("full_name"),
            body=json.dumps(data).encode(),
        ),
        now=db.utcnow(),
        requeue_at=None,
    )


def state_of(jobs: JobQueue, delivery_id: str) -> deliveries.Delivery:
    delivery = deliveries.get_delivery(jobs.engine, delivery_id)
    assert delivery is not None
    return delivery


# --- the dispatch table ----------------------------------------------------------------


def test_every_handled_event_is_subscribed_in_app_yml() -> None:
    app_yml = manifest.load_manifest(manifest.BUNDLED_MANIFEST)
    subscribed = set(app_yml["default_events"])
    assert {event for event, _ in dispatch.DISPATCH} <= subscribed


def test_unknown_events_and_actions_have_no_handler() -> None:
    assert dispatch.find_handler("pull_request", "labeled") is None
    assert dispatch.find_handler("ping", None) is None
    assert dispatch.find_handler("pull_request", "opened") is not None


def test_a_job_runs_the_handler_of_its_event_and_action(
    jobs: JobQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[WebhookEvent] = []

    def handler(event: WebhookEvent, context: JobContext) -> None:
        assert context.engine is jobs.engine
        seen.append(event)

    monkeypatch.setattr(dispatch, "DISPATCH", {("pull_request", "opened"): handler})
    add(jobs, "pull_request", "pull_request/opened", "d1")
    assert jobs.process_delivery("d1") == tables.DONE
    [event] = seen
    assert (event.delivery_id, event.name, event.action) == ("d1", "pull_request", "opened")
    assert event.installation_id == 1
    assert event.payload["pull_request"]["number"] == 2
    assert state_of(jobs, "d1").state == tables.DONE


def test_a_pipeline_error_puts_the_delivery_back_for_a_retry(jobs: JobQueue) -> None:
    # The job runs the real pipeline; without usable App credentials it fails, and the
    # delivery is queued again with its error recorded rather than lost or marked done.
    add(jobs, "pull_request", "pull_request/opened", "d1")
    assert jobs.process_delivery("d1") == tables.QUEUED
    delivery = state_of(jobs, "d1")
    assert delivery.attempts == 1
    assert delivery.error


# --- installations ---------------------------------------------------------------------


def test_installation_events_keep_the_installations_table(jobs: JobQueue) -> None:
    add(jobs, "installation", "installation/created", "i1")
    jobs.process_delivery("i1")
    installation = installations.get_installation(jobs.engine, 957387)
    assert installation is not None
    assert installation.account == "Codertocat"
    assert installation.repositories == ["Codertocat/Hello-World"]

    add(jobs, "installation_repositories", "installation_repositories/added", "i2")
    jobs.process_delivery("i2")
    installation = installations.get_installation(jobs.engine, 957387)
    assert installation is not None
    assert installation.repositories == ["Codertocat/Hello-World", "Codertocat/Space"]

    removed = payload("installation_repositories/removed")
    removed["installation"]["id"] = 957387
    removed["repositories_removed"] = [{"full_name": "Codertocat/Hello-World"}]
    add(jobs, "installation_repositories", "installation_repositories/removed", "i3", **removed)
    jobs.process_delivery("i3")
    installation = installations.get_installation(jobs.engine, 957387)
    assert installation is not None
    assert installation.repositories == ["Codertocat/Space"]

    deleted = payload("installation/deleted")
    deleted["installation"]["id"] = 957387
    add(jobs, "installation", "installation/deleted", "i4", **deleted)
    jobs.process_delivery("i4")
    assert installations.get_installation(jobs.engine, 957387) is None
    assert {d.state for d in stored(jobs.engine)} == {tables.DONE}


def test_suspend_and_unsuspend_are_recorded(jobs: JobQueue) -> None:
    add(jobs, "installation", "installation/suspend", "s1")
    jobs.process_delivery("s1")
    suspended = installations.get_installation(jobs.engine, 16598467)
    assert suspended is not None and suspended.suspended_at == dt.datetime(
        2021, 4, 29, 2, 32, 50, tzinfo=dt.UTC
    )
    add(jobs, "installation", "installation/unsuspend", "s2")
    jobs.process_delivery("s2")
    resumed = installations.get_installation(jobs.engine, 16598467)
    assert resumed is not None and resumed.suspended_at is None


def test_repositories_added_to_an_unknown_installation_create_it(jobs: JobQueue) -> None:
    add(jobs, "installation_repositories", "installation_repositories/added", "r1")
    jobs.process_delivery("r1")
    installation = installations.get_installation(jobs.engine, 957387)
    assert installation is not None and installation.repositories == ["Codertocat/Space"]


# --- the lifecycle ---------------------------------------------------------------------


def test_a_delivery_is_processed_once(jobs: JobQueue, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[str] = []
    monkeypatch.setattr(
        dispatch, "DISPATCH", {("installation", "created"): lambda e, c: runs.append(e.delivery_id)}
    )
    add(jobs, "installation", "installation/created", "d1")
    assert jobs.process_delivery("d1") == tables.DONE
    assert jobs.process_delivery("d1") is None  # a second job for it (enqueued twice)
    assert runs == ["d1"]


def test_a_long_job_renews_its_lease(jobs: JobQueue, monkeypatch: pytest.MonkeyPatch) -> None:
    leases: list[dt.datetime | None] = []

    def long_job(event: WebhookEvent, context: JobContext) -> None:
        assert context.renew_lease(3600)
        leases.append(state_of(jobs, event.delivery_id).lease_until)

    monkeypatch.setattr(dispatch, "DISPATCH", {("installation", "created"): long_job})
    add(jobs, "installation", "installation/created", "d1")
    assert jobs.process_delivery("d1") == tables.DONE
    [lease] = leases
    assert lease is not None and lease > db.utcnow() + dt.timedelta(minutes=59)


def test_a_job_longer_than_its_lease_keeps_it_and_its_pull_request_lock(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lease 1 s, a handler of 2.5 s that never renews by itself: the job's heartbeat does,
    so neither the delivery nor the pull request's lock can be taken meanwhile."""
    settings = make_settings(job_lease_seconds=1)
    jobs = JobQueue(settings, db.open_database(settings.database_url), immediate=True)
    taken: list[object] = []

    def slow(event: WebhookEvent, context: JobContext) -> None:
        with locks.pull_lock(context, 1, "o/r", 7):
            time.sleep(2.5)  # past the lease, twice
            now = db.utcnow()
            taken.append(
                deliveries.claim_delivery(
                    jobs.engine, event.delivery_id, now=now, lease_seconds=1, max_attempts=5
                )
            )
            taken.append(
                lock_store.acquire_pull_lock(
                    jobs.engine,
                    installation_id=1,
                    repo="o/r",
                    pr=7,
                    holder="another worker",
                    now=now,
                    until=now + dt.timedelta(seconds=1),
                )
            )

    monkeypatch.setattr(dispatch, "DISPATCH", {("installation", "created"): slow})
    add(jobs, "installation", "installation/created", "d1")
    assert jobs.process_delivery("d1") == tables.DONE
    assert taken == [None, False]
    assert state_of(jobs, "d1").attempts == 1


def test_not_now_postpones_without_spending_an_attempt(
    jobs: JobQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(event: WebhookEvent, context: JobContext) -> None:
        raise RetryLater("GitHub asked to wait", at=db.utcnow() + dt.timedelta(seconds=90))

    monkeypatch.setattr(dispatch, "DISPATCH", {("installation", "created"): busy})
    add(jobs, "installation", "installation/created", "d1")
    labels = {"event": "installation", "outcome": "postponed"}
    counted = REGISTRY.get_sample_value("ssot_jobs_run_total", labels) or 0
    for _ in range(jobs.settings.job_max_attempts + 2):
        assert jobs.process_delivery("d1") == tables.QUEUED
        deliveries.postpone_requeue(jobs.engine, ["d1"], until=db.utcnow())  # "later" is now
    delivery = state_of(jobs, "d1")
    assert (delivery.state, delivery.attempts) == (tables.QUEUED, 0)
    assert delivery.error == "postponed: RetryLater: GitHub asked to wait"
    assert REGISTRY.get_sample_value("ssot_jobs_run_total", labels) == counted + 7


def test_a_live_lease_is_not_taken_by_another_worker(jobs: JobQueue) -> None:
    add(jobs, "installation", "installation/created", "d1")
    deliveries.claim_delivery(jobs.engine, "d1", now=db.utcnow(), lease_seconds=600, max_attempts=5)
    assert jobs.process_delivery("d1") is None
    assert state_of(jobs, "d1").state == tables.RUNNING


def test_a_failing_handler_is_retried_with_backoff_then_failed(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(job_max_attempts=2)
    jobs = JobQueue(settings, db.open_database(settings.database_url), immediate=True)

    def boom(event: WebhookEvent, context: JobContext) -> None:
        raise RuntimeError("GitHub said 502")

    monkeypatch.setattr(dispatch, "DISPATCH", {("installation", "created"): boom})
    add(jobs, "installation", "installation/created", "d1")
    before = db.utcnow()
    assert jobs.process_delivery("d1") == tables.QUEUED
    first = state_of(jobs, "d1")
    assert first.error == "attempt 1 of 2: RuntimeError: GitHub said 502"
    assert first.lease_until is not None
    assert first.lease_until >= before + dt.timedelta(seconds=retry_delay(1))
    assert jobs.process_delivery("d1") == tables.FAILED
    final = state_of(jobs, "d1")
    assert (final.state, final.attempts) == (tables.FAILED, 2)
    assert jobs.process_delivery("d1") is None  # failed is final


def test_retry_delays_grow_and_are_capped() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_delay(50) == 3600


def test_a_delivery_whose_worker_died_is_enqueued_again_and_completes(jobs: JobQueue) -> None:
    add(jobs, "installation", "installation/created", "d1")
    # A worker claimed it, then was killed: the delivery stays running until its lease ends.
    claimed = deliveries.claim_delivery(
        jobs.engine, "d1", now=NOW, lease_seconds=60, max_attempts=5
    )
    assert claimed is not None and claimed.state == tables.RUNNING
    assert jobs.requeue_due() == 1  # the lease (in 2025) has expired
    delivery = state_of(jobs, "d1")
    assert (delivery.state, delivery.attempts) == (tables.DONE, 2)
    assert installations.get_installation(jobs.engine, 957387) is not None


def test_a_delivery_whose_worker_keeps_dying_is_failed(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(job_max_attempts=1)
    jobs = JobQueue(settings, db.open_database(settings.database_url), immediate=True)
    add(jobs, "installation", "installation/created", "d1")
    deliveries.claim_delivery(jobs.engine, "d1", now=NOW, lease_seconds=60, max_attempts=1)
    jobs.requeue_due()
    delivery = state_of(jobs, "d1")
    assert delivery.state == tables.FAILED
    assert delivery.error is not None and "lease expired" in delivery.error


def test_queued_deliveries_are_enqueued_again_only_when_overdue(jobs: JobQueue) -> None:
    add(jobs, "installation", "installation/created", "d1")
    deliveries.postpone_requeue(jobs.engine, ["d1"], until=db.utcnow() + dt.timedelta(hours=1))
    assert deliveries.deliveries_due(jobs.engine, now=db.utcnow()) == []
    assert deliveries.deliveries_due(jobs.engine, now=db.utcnow(), all_queued=True) == ["d1"]


class _SweptOnce(Exception):
    """Raised by the sleep of a sweeper loop under test, to end it after one pass."""


def test_one_sweeper_loop_pass_on_sqlite_runs_what_nobody_took_then_sleeps(
    jobs: JobQueue,
) -> None:
    # No Redis, no PostgreSQL: the embedded queue, whose epoch is None (it keeps its tasks).
    add(jobs, "installation", "installation/created", "overdue")
    add(jobs, "installation", "installation/created", "not-yet")
    deliveries.postpone_requeue(jobs.engine, ["not-yet"], until=db.utcnow() + dt.timedelta(hours=1))
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        raise _SweptOnce

    with pytest.raises(_SweptOnce):
        jobs._sweep_forever(sleep=sleep)
    assert slept == [jobs.settings.sweep_seconds]
    assert state_of(jobs, "overdue").state == tables.DONE  # enqueued, and run at once
    assert state_of(jobs, "not-yet").state == tables.QUEUED
    assert jobs.sweep_once(None) is None  # SQLite has no epoch: never "restarted"


def test_a_sweep_after_the_queue_restarted_enqueues_every_queued_delivery(
    jobs: JobQueue, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    add(jobs, "installation", "installation/created", "d1")
    deliveries.postpone_requeue(jobs.engine, ["d1"], until=db.utcnow() + dt.timedelta(hours=1))
    monkeypatch.setattr(jobs, "queue_epoch", lambda: "run-2")
    assert jobs.sweep_once("run-2") == "run-2"  # same server: d1 is not due yet
    assert state_of(jobs, "d1").state == tables.QUEUED
    with caplog.at_level(logging.WARNING):
        assert jobs.sweep_once("run-1") == "run-2"
    assert state_of(jobs, "d1").state == tables.DONE
    assert "the job queue restarted" in caplog.text


def test_a_sweep_that_fails_keeps_its_epoch_and_does_not_raise(
    jobs: JobQueue, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def database_down(*, all_queued: bool = False) -> int:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(jobs, "requeue_due", database_down)
    with caplog.at_level(logging.ERROR):
        assert jobs.sweep_once("run-1") == "run-1"
    assert "the sweeper will retry" in caplog.text


def test_a_restarted_app_finishes_what_a_killed_one_stored(
    make_settings: Callable[..., Settings],
) -> None:
    # The first process stored the delivery and was killed before it could enqueue it.
    settings = make_settings()
    jobs = JobQueue(settings, db.open_database(settings.database_url), immediate=True)
    add(jobs, "installation", "installation/created", "d1")
    jobs.engine.dispose()
    with TestClient(create_app(settings, immediate_jobs=True)) as client:
        engine = runtime(client).engine
        assert [d.state for d in stored(engine)] == [tables.DONE]


def test_old_done_deliveries_are_pruned(jobs: JobQueue) -> None:
    add(jobs, "installation", "installation/created", "d1")
    jobs.process_delivery("d1")
    assert (
        deliveries.prune_deliveries(jobs.engine, received_before=db.utcnow() - dt.timedelta(days=7))
        == 0
    )
    assert (
        deliveries.prune_deliveries(
            jobs.engine, received_before=db.utcnow() + dt.timedelta(seconds=1)
        )
        == 1
    )


def test_accepted_findings_are_recorded_once_per_installation(jobs: JobQueue) -> None:
    values: dict[str, Any] = {
        "repo": "o/r",
        "pr": 3,
        "fingerprint": "fp",
        "user": "maintainer",
        "reason": "legacy",
        "now": NOW,
    }
    assert acceptances.accept_finding(jobs.engine, installation_id=1, **values)
    assert not acceptances.accept_finding(jobs.engine, installation_id=1, **values)
    assert acceptances.accept_finding(jobs.engine, installation_id=2, **values)
    assert acceptances.accepted_fingerprints(jobs.engine, installation_id=1, repo="o/r", pr=3) == {
        "fp"
    }


# --- a real consumer process -----------------------------------------------------------


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSOT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SSOT_DATA_DIR=str(settings.data_dir),
        SSOT_DATABASE_URL=settings.database_url,
        SSOT_WEBHOOK_SECRET=SECRET,
    )
    return env


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not true after {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()


def _done(engine: Any, delivery_id: str) -> bool:
    delivery = deliveries.get_delivery(engine, delivery_id)
    return delivery is not None and delivery.state == tables.DONE


@pytest.mark.slow
def test_a_sqlite_huey_consumer_process_runs_the_jobs_end_to_end(
    settings: Settings, tmp_path: Path
) -> None:
    with TestClient(create_app(settings)) as client:  # a real SqliteHuey, no consumer yet
        engine = runtime(client).engine
        response = post_webhook(
            client, "installation", payload_bytes("installation/created"), delivery="e2e-1"
        )
        assert response.status_code == 202
        assert [d.state for d in stored(engine)] == [tables.QUEUED]  # waiting in jobs.db

        worker = subprocess.Popen(
            [sys.executable, "-m", "bot.worker"], cwd=tmp_path, env=_env(settings)
        )
        try:
            _wait_for(lambda: _done(engine, "e2e-1"))
            assert installations.get_installation(engine, 957387) is not None

            # A delivery whose worker was killed mid-job: the sweeper hands it to this one.
            jobs: JobQueue = runtime(client).jobs
            add(jobs, "installation_repositories", "installation_repositories/added", "e2e-2")
            deliveries.claim_delivery(engine, "e2e-2", now=NOW, lease_seconds=60, max_attempts=5)
            assert jobs.requeue_due() == 1
            _wait_for(lambda: _done(engine, "e2e-2"))
            installation = installations.get_installation(engine, 957387)
            assert installation is not None and "Codertocat/Space" in installation.repositories
        finally:
            assert _stop(worker) == 0


# --- `ssot serve`: web and worker together ---------------------------------------------


def _children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # an orphan's zombie, should nobody reap it


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_serve(
    settings: Settings, cwd: Path, *, sigint_ignored: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    """``ssot serve`` on a free port; ``sigint_ignored``: as a shell starts a background job
    (``ssot serve &`` without job control), SIGINT ignored, and its children inherit that."""
    import httpx

    port = _free_port()
    env = _env(settings)
    env.update(
        SSOT_APP_ID="1",
        SSOT_PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\\nx\\n-----END RSA PRIVATE KEY-----",
    )
    code = "import sys; from bot.serve import serve_command; sys.exit(serve_command(sys.argv[1:]))"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--port", str(port), "--log-level", "warning"],
        cwd=cwd,
        env=env,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if sigint_ignored
        else None,
    )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert process.poll() is None, "ssot serve exited"
        try:
            return httpx.get(base + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    _wait_for(healthy)
    _wait_for(lambda: len(_children_of(process.pid)) == 1)  # its job consumer
    return process, base


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find processes")
def test_ssot_serve_processes_a_replayed_delivery_and_stops_its_worker(
    settings: Settings, tmp_path: Path
) -> None:
    from bot.replay import replay_command

    process, base = _start_serve(settings, tmp_path)
    try:
        [worker] = _children_of(process.pid)
        fixture = WEBHOOKS / "installation" / "created.payload.json"
        argv = [
            "installation",
            str(fixture),
            "--url",
            base + "/api/github/webhooks",
            "--secret",
            SECRET,
        ]
        assert replay_command([*argv, "--delivery", "serve-1"]) == 0
        engine = db.create_engine(settings.database_url)
        _wait_for(lambda: _done(engine, "serve-1"))
        assert replay_command([*argv, "--secret", "wrong"]) == 1  # 401
        engine.dispose()
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        _wait_for(lambda: _gone(worker), timeout=10)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find processes")
@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["foreground", "background-job"])
def test_a_killed_ssot_serve_leaves_no_worker_behind(
    settings: Settings, tmp_path: Path, sigint_ignored: bool
) -> None:
    # The worker stops itself with SIGINT when its parent is gone; started with SIGINT
    # ignored (inherited from a shell's background job), that signal was lost and the
    # worker ran on for good.
    process, _ = _start_serve(settings, tmp_path, sigint_ignored=sigint_ignored)
    [worker] = _children_of(process.pid)
    process.kill()
    process.wait(10)
    _wait_for(lambda: _gone(worker), timeout=15)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find processes")
def test_ssot_serve_started_as_a_background_job_stops_its_worker_at_once(
    settings: Settings, tmp_path: Path
) -> None:
    # `ssot serve &`: SIGINT, the worker's graceful stop, was ignored, so stopping the App
    # waited 40 s for it before SIGTERM.
    process, _ = _start_serve(settings, tmp_path, sigint_ignored=True)
    try:
        [worker] = _children_of(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        assert _gone(worker)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_a_consumer_stopped_while_it_starts_stops_gracefully(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: Any
) -> None:
    # `ssot serve` stopped a moment after it started: the SIGINT reached the child while it
    # was importing. Raised there it killed the child with a traceback or, inside one of the
    # import system's weakref callbacks, was dropped, and serve then waited 40 s (CI failure).
    from bot.serve import WorkerProcess

    for key, value in _env(settings).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    worker = WorkerProcess(extra_args=["--log-level", "info", "--log-format", "text"])
    worker.start()
    assert worker.stop(timeout=30) == 0
    err = capfd.readouterr().err
    assert "KeyboardInterrupt" not in err
    assert "Received SIGINT" in err  # the consumer's own graceful stop took it


def _run_python(code: str) -> str:
    """Run ``code`` in a child; its output, once it exited 0."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# In a child: these replace the process's SIGINT handler, which pytest's must stay.
_HAND_OVER = """
import os, signal, time
from bot.jobs import early_stop
early_stop.hold_sigint()
if {send}:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs in the main thread, at its next instruction
print(early_stop.stop_requested())
watch = early_stop.hand_over_when_replaced()
got = []
signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))  # as Huey's start does
watch.join(10)
time.sleep(0.05)
print(got)
"""


def test_a_sigint_held_while_starting_is_handed_to_the_handler_that_takes_over() -> None:
    assert _run_python(_HAND_OVER.format(send=True)).splitlines() == [
        "True",
        f"[{int(signal.SIGINT)}]",
    ]


def test_without_a_sigint_the_handler_that_takes_over_receives_none() -> None:
    assert _run_python(_HAND_OVER.format(send=False)).splitlines() == ["False", "[]"]


def test_a_sigint_sent_before_python_starts_waits_for_the_hold() -> None:
    # WorkerProcess starts the child with SIGINT blocked; one sent then stays pending until
    # hold_sigint unblocks it, and is recorded, not raised.
    code = """
import os, signal, time
os.kill(os.getpid(), signal.SIGINT)  # blocked: pending
from bot.jobs import early_stop
early_stop.hold_sigint()
time.sleep(0.05)
print(early_stop.stop_requested())
"""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        assert _run_python(code) == "True"
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


@pytest.mark.services
def test_jobs_go_to_redis_when_ssot_redis_url_is_set(
    make_settings: Callable[..., Settings],
) -> None:
    redis = pytest.importorskip("redis", reason="the 'redis' package is not installed")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings = make_settings(redis_url=url)
    jobs = JobQueue(settings, db.open_database(settings.database_url))
    try:
        assert type(jobs.huey).__name__ == "RedisHuey"
        jobs.huey.flush()
        jobs.enqueue("some-delivery")
        assert jobs.huey.pending_count() == 1
    finally:
        jobs.huey.flush()
