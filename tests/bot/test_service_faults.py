"""Service faults: the App's broker or database goes away for a few seconds while real
``ssot serve --role web`` and ``ssot worker`` processes run (tests/bot/cluster.py).

The promise (issue: "nothing accepted is lost"): every delivery is either accepted (2xx) and
then processed, or refused with a non-2xx status, which makes GitHub mark it failed so that
its redelivery (our sweeper's request, or "Redeliver": the same X-GitHub-Delivery id) brings
it back. Processing stays one effect per head: one completed check run, at most one review.

- Redis: a private ``redis-server`` without persistence (the machine's Redis is shared with
  other tests and must not be stopped), SIGKILLed while jobs run and tasks wait in its queue,
  then restarted on the same port: the waiting tasks are gone with it, the stored deliveries
  are enqueued again by the sweeper.
- PostgreSQL: a TCP proxy (tcp_proxy.py) between the processes and the machine's PostgreSQL,
  cut for a few seconds: the webhook route answers 503 naming the database; jobs cut off
  mid-way are taken again once their lease lapsed.

The sweeper runs in each consumer at its start, then every 60 s (Huey's periodic tasks count
from the consumer's start, not from the clock's minute). Whatever the queue lost waits for the
next sweep, so each cluster test takes about 70 s; the figures are printed (``pytest -s``).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from bot_testing import payload_bytes, post_webhook, runtime, stored
from cluster import ClusterError, free_port, unreachable, wait_for
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy
from test_migrations import POSTGRES
from test_ops import sample, scrape
from test_pipeline import BAD, CLEAN
from test_scaleout import REDIS_URL, World

from bot.ops.settings import Settings
from bot.store import db, tables
from bot.store import deliveries as delivery_store
from bot.web.app import create_app
from fake_github import PullRequest

pytestmark = [pytest.mark.slow, pytest.mark.services]

REDIS_SERVER = shutil.which("redis-server")
LEASE_SECONDS = 5
SETTINGS = {
    "job_lease_seconds": LEASE_SECONDS,
    "job_retry_seconds": 1,
    "job_max_attempts": 8,
    "sweep_seconds": 5,
}
LATENCY = 0.1  # per fake GitHub call: a job takes about a second, so jobs are in flight
WORKERS = ("worker-1", "worker-2")  # two threads each
SWEEP_PERIOD = 5.0  # SSOT_SWEEP_SECONDS above
# The longest wait for the deliveries the outage left behind: the next sweep after the
# leases lapsed (at most one period away), then the jobs it enqueued.
RECOVERY_SECONDS = SWEEP_PERIOD + 20
NOWHERE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # refused at once
NOWHERE_REDIS = "redis://127.0.0.1:1/0"


# --- the services and what the test posted --------------------------------------------------


class PrivateRedis:
    """A ``redis-server`` of this test's own: no persistence, on a free port of 127.0.0.1."""

    def __init__(self, directory: Path) -> None:
        assert REDIS_SERVER is not None
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        """Start it (again, on the same port) and wait until it answers ``PING``."""
        assert REDIS_SERVER is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    *("--save", "", "--appendonly", "no", "--bind", "127.0.0.1"),
                    *("--port", str(self.port), "--dir", str(self.directory)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.answers, 10, f"redis-server to answer on port {self.port}")
        return self

    def answers(self) -> bool:
        import redis

        if self.process is not None and self.process.poll() is not None:
            log = (self.directory / "redis.log").read_text(errors="replace")
            raise ClusterError(f"redis-server exited with {self.process.returncode}:\n{log}")
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.exceptions.RedisError:
            return False
        finally:
            client.close()

    def pending(self, queue_name: str) -> int:
        """Tasks waiting in the Huey queue ``queue_name`` (the list its workers pop)."""
        from huey.storage import RedisStorage

        storage = RedisStorage(queue_name, url=self.url)
        try:
            return int(storage.queue_size())
        finally:
            storage.pool.disconnect()

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing saved (there is nothing to save to anyway)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@dataclass
class Posted:
    """One delivery the test posted: its pull request, and what the App answered."""

    id: str
    pr: PullRequest
    bad: bool
    phase: str  # before, during or after the outage
    status: int  # the first answer (0: no answer at all)
    body: Any = None

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Scenario:
    """A cluster (web, two workers) with pull requests ready, and the deliveries posted."""

    world: World
    prs: list[tuple[PullRequest, bool]]
    posted: list[Posted]

    def post(self, index: int, phase: str) -> Posted:
        """Post ``pull_request.opened`` for the ``index``-th pull request; record the answer."""
        pr, bad = self.prs[index]
        delivery = f"{phase}-{pr.number}"
        data = self.world.pr_payload("opened", self.world.repo, pr, pr.head_sha)
        try:
            response = self.world.post("pull_request", data, delivery)
            status, body = response.status_code, _json(response)
        except httpx.HTTPError as exc:  # GitHub too would call it a failed delivery
            status, body = 0, repr(exc)
        posted = Posted(delivery, pr, bad, phase, status, body)
        self.posted.append(posted)
        return posted

    def redeliver_refused(self) -> list[Posted]:
        """What GitHub's redelivery does for each refused delivery: post it again, same id.

        Every one must now be accepted: 202, or 200 "duplicate" should the refused request
        have been stored after all (its commit landed, its answer was lost)."""
        refused = [p for p in self.posted if not p.accepted]
        for p in refused:
            data = self.world.pr_payload("opened", self.world.repo, p.pr, p.pr.head_sha)
            response = self.world.post("pull_request", data, p.id)
            assert response.status_code in (200, 202), (p.id, response.status_code, response.text)
        return refused

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.posted]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _skip_unless(*reasons: str | None) -> None:
    for reason in reasons:
        if reason:
            pytest.skip(reason)


@contextmanager
def scenario(
    tmp_path: Path,
    *,
    redis_url: str,
    app_postgres_url: str | None = None,
    count: int,
    **settings: object,
) -> Iterator[Scenario]:
    """A running cluster with ``count`` pull requests opened (every other one adds a
    blocking finding), web and workers started; the logs are printed if the test fails.
    ``settings``: instead of those of :data:`SETTINGS`."""
    world = World(
        tmp_path,
        postgres_url=POSTGRES,
        app_postgres_url=app_postgres_url,
        redis_url=redis_url,
        latency=LATENCY,
        settings={**SETTINGS, **settings},
    )
    with world.running():
        world.create()
        prs = []
        for i in range(count):
            bad = i % 2 == 0
            prs.append((world.open(f"feature-{i}", {f"app/f{i}.py": BAD if bad else CLEAN}), bad))
        world.start_web()
        world.start_workers(*WORKERS)
        try:
            yield Scenario(world, prs, [])
        except BaseException:
            print(world.logs())
            raise


@contextmanager
def behind_a_proxy(tmp_path: Path, *, count: int) -> Iterator[tuple[TcpProxy, Scenario]]:
    """:func:`scenario` whose processes reach PostgreSQL through a :class:`TcpProxy` (the
    test itself reads it directly)."""
    _skip_unless(unreachable(POSTGRES, REDIS_URL))
    target = make_url(POSTGRES)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        through_proxy = target.set(port=proxy.port).render_as_string(hide_password=False)
        with scenario(
            tmp_path, redis_url=REDIS_URL, app_postgres_url=through_proxy, count=count
        ) as s:
            yield proxy, s


def wait_done(world: World, ids: list[str], timeout: float, what: str) -> dict[str, float]:
    """Wait until every delivery of ``ids`` is done; when each was first seen done (seconds
    from now). :class:`ClusterError` as soon as one failed for good, or after ``timeout``."""
    c = tables.deliveries.c
    start = time.monotonic()
    seen: dict[str, float] = {}
    while True:
        with world.engine.connect() as connection:
            rows = connection.execute(sa.select(c.id, c.state, c.error).where(c.id.in_(ids))).all()
        now = time.monotonic() - start
        for delivery, state, error in rows:
            if state == tables.FAILED:
                raise ClusterError(f"delivery {delivery} failed for good: {error}")
            if state == tables.DONE:
                seen.setdefault(delivery, now)
        if len(seen) == len(set(ids)):
            return seen
        if now > timeout:
            missing = sorted(set(ids) - set(seen))
            raise ClusterError(
                f"timed out after {timeout:.0f} s waiting for {what}: not done {missing}, "
                f"states {world.states(ids)}"
            )
        time.sleep(0.2)


def running_and_queued(world: World, ids: list[str]) -> tuple[list[str], list[str]]:
    """The deliveries of ``ids`` that are running (claimed), and those still queued."""
    c = tables.deliveries.c
    with world.engine.connect() as connection:
        rows = connection.execute(sa.select(c.id, c.state).where(c.id.in_(ids))).all()
    running = sorted(d for d, state in rows if state == tables.RUNNING)
    queued = sorted(d for d, state in rows if state == tables.QUEUED)
    return running, queued


def attempts(world: World, ids: list[str]) -> dict[str, int]:
    c = tables.deliveries.c
    with world.engine.connect() as connection:
        rows = connection.execute(sa.select(c.id, c.attempts).where(c.id.in_(ids))).all()
    return {d: int(n) for d, n in rows}


def assert_one_effect_per_head(s: Scenario) -> None:
    """Each head: one completed check run with the right conclusion, created once; a blocking
    finding gets one review with one comment, a clean head none."""
    world = s.world
    for i, (pr, bad) in enumerate(s.prs):
        runs = [(r.status, r.conclusion) for r in world.runs_of(pr.head_sha)]
        assert runs == [("completed", "failure" if bad else "success")], (pr.number, runs)
        reviews = world.state.reviews_for(world.repo, pr.number)
        comments = [
            (c.path, c.line) for c in world.state.review_comments_for(world.repo, pr.number)
        ]
        if bad:
            assert len(reviews) == 1, (pr.number, len(reviews))
            assert comments == [(f"app/f{i}.py", 1)], (pr.number, comments)
        else:
            assert reviews == [] and comments == [], (pr.number, reviews, comments)
    created = world.state.calls_matching(method="POST", path="/check-runs")
    assert len(created) == len(s.prs)


def assert_processes_survived(world: World) -> None:
    """Every process started by the test still runs, and no Huey thread had to be revived."""
    assert world.alive()
    for name in ("web", *WORKERS):
        log = world.log(name)
        assert "died, restarting" not in log, f"{name} lost a thread:\n{log[-3000:]}"


def by_phase(s: Scenario, done: dict[str, float]) -> str:
    """When the last delivery of each phase was done (from the end of the outage)."""
    phases: dict[str, list[float]] = {}
    for p in s.posted:
        phases.setdefault(p.phase, []).append(done[p.id])
    return ", ".join(f"{phase} by {max(times):.1f} s" for phase, times in phases.items())


def sweeps(world: World) -> int:
    """How many times the workers' sweeper enqueued deliveries again (their logs)."""
    return sum(world.log(name).count("delivery(ies) again") for name in WORKERS)


# --- Redis restarted mid-run ------------------------------------------------------------------


def test_redis_killed_and_restarted_mid_run_loses_no_accepted_delivery(tmp_path: Path) -> None:
    """A private Redis (no persistence) is SIGKILLed while two workers run jobs and more tasks
    wait in its queue; deliveries posted during the outage are still accepted (202: stored,
    enqueued later); Redis comes back empty on the same port. Every accepted delivery is done
    within seconds (the sweeper sees that Redis restarted and enqueues every queued delivery
    again, long before their two-minute leases would have let it), each head has exactly one
    completed check run with the right conclusion, each blocking head one review with one
    comment, and the web and worker processes are the ones started at the beginning."""
    _skip_unless(
        None
        if REDIS_SERVER
        else "the redis-server binary is not installed (apt install redis-server)",
        unreachable(POSTGRES, REDIS_URL),
    )
    redis_server = PrivateRedis(tmp_path / "redis").start()
    try:
        # Leases of two minutes: the lost tasks must come back because the sweeper sees that
        # Redis restarted, not because their deliveries' leases ran out.
        with scenario(tmp_path, redis_url=redis_server.url, count=18, job_lease_seconds=120) as s:
            world = s.world
            started = time.monotonic()  # the consumers' first sweep: the next is a period on
            for i in range(10):
                assert s.post(i, "before").status == 202
            before = list(s.ids)

            def in_flight() -> bool:
                running, _ = running_and_queued(world, before)
                return len(running) >= 2 and redis_server.pending(world.queue_name) >= 2

            wait_for(in_flight, 20, "jobs running while others wait in the queue")
            lost = redis_server.pending(world.queue_name)
            redis_server.kill()
            killed = time.monotonic()

            for i in range(10, 15):
                s.post(i, "during")
            ready = httpx.get(world.web_url + "/readyz", timeout=10)
            time.sleep(max(0.0, killed + 3.0 - time.monotonic()))  # a 3 s outage at least
            redis_server.start()
            restarted = time.monotonic()

            for i in range(15, 18):
                assert s.post(i, "after").status == 202

            during = [p for p in s.posted if p.phase == "during"]
            assert [p.status for p in during] == [202] * len(during), [
                (p.id, p.status, p.body) for p in during
            ]
            # /readyz saw the broker down (a load balancer would stop sending us webhooks).
            assert ready.status_code == 503 and not ready.json()["checks"]["broker"]["ok"]

            assert s.redeliver_refused() == []  # none was refused: the database took them
            done = wait_done(world, s.ids, RECOVERY_SECONDS, "every accepted delivery")

            assert_one_effect_per_head(s)
            assert_processes_survived(world)
            assert sweeps(world) >= 1, "the sweeper never enqueued what Redis lost"
            assert any("job queue restarted" in world.log(w) for w in WORKERS)
            print(
                f"\nredis: {lost} task(s) waiting when killed at "
                f"{killed - started:.1f} s after the workers started; restarted after "
                f"{restarted - killed:.1f} s; all {len(done)} deliveries done "
                f"{max(done.values()):.1f} s after the restart ({by_phase(s, done)}) "
                f"({time.monotonic() - started:.1f} s after the workers started); "
                f"attempts > 1: {world.retried(s.ids)}"
            )
    finally:
        redis_server.stop()


# --- PostgreSQL briefly unavailable -----------------------------------------------------------


def test_postgres_cut_off_for_seconds_refuses_with_503_and_finishes_every_job(
    tmp_path: Path,
) -> None:
    """The processes reach PostgreSQL through a proxy, cut for 4 s while jobs run. Deliveries
    posted meanwhile are refused with 503 naming the database; posted again with the same id
    once it answers (GitHub's redelivery), they are accepted and processed. Jobs cut off
    mid-way are taken again after their lease lapsed and finished; each head has exactly one
    completed check run with the right conclusion, no review is posted twice, and the web
    and worker processes are the ones started at the beginning."""
    with behind_a_proxy(tmp_path, count=18) as (proxy, s):
        world = s.world
        started = time.monotonic()
        for i in range(10):
            assert s.post(i, "before").status == 202
        before = list(s.ids)

        def in_flight() -> bool:
            running, queued = running_and_queued(world, before)
            return len(running) >= 2 and len(queued) >= 1

        wait_for(in_flight, 20, "jobs running while others wait")
        running_at_cut, _ = running_and_queued(world, before)
        proxy.cut()
        cut = time.monotonic()

        for i in range(10, 15):
            s.post(i, "during")
        ready = httpx.get(world.web_url + "/readyz", timeout=10)
        time.sleep(max(0.0, cut + 4.0 - time.monotonic()))
        proxy.restore()
        restored = time.monotonic()

        during = [p for p in s.posted if p.phase == "during"]
        for p in during:
            assert p.status == 503, (p.id, p.status, p.body)
            assert p.body["reason"] == "database" and p.body["status"] == "unavailable"
        assert ready.status_code == 503 and not ready.json()["checks"]["database"]["ok"]

        # GitHub's redelivery of the refused ones (same ids), then new deliveries.
        assert len(s.redeliver_refused()) == len(during)
        for i in range(15, 18):
            assert s.post(i, "after").status == 202
        done = wait_done(world, s.ids, RECOVERY_SECONDS, "every delivery")

        tries = attempts(world, running_at_cut)
        assert any(n > 1 for n in tries.values()), (
            f"no job running at the cut was taken again: {tries}"
        )
        assert_one_effect_per_head(s)
        assert_processes_survived(world)
        print(
            f"\npostgres: cut {cut - started:.1f} s after the workers started, for "
            f"{restored - cut:.1f} s; running at the cut: {tries}; all {len(done)} "
            f"deliveries done {max(done.values()):.1f} s after the restore "
            f"({by_phase(s, done)}) "
            f"({time.monotonic() - started:.1f} s after the workers started); "
            f"attempts > 1: {world.retried(s.ids)}; proxied connections: {proxy.accepted}"
        )


def test_a_hung_database_gets_a_503_before_github_gives_up_and_loses_nothing(
    tmp_path: Path,
) -> None:
    """PostgreSQL stops answering without closing anything (the proxy holds every byte: a
    failover, a network dropping packets). Deliveries posted meanwhile are answered 503 within
    the store deadline, before GitHub's 10 s, instead of never; once the database moves again,
    their redelivery is accepted (202, or 200 "duplicate" when the held-back commit landed
    after all) and each head gets exactly one check run."""
    with behind_a_proxy(tmp_path, count=6) as (proxy, s):
        world = s.world
        for i in range(2):
            assert s.post(i, "before").status == 202
        proxy.hang()
        started = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            during = list(pool.map(lambda i: s.post(i, "during"), range(2, 5)))
        answered_in = time.monotonic() - started
        proxy.resume()
        for p in during:
            assert p.status == 503, (p.id, p.status, p.body)
            assert p.body["reason"] == "database"
        assert answered_in < 10.0, f"answered after {answered_in:.1f} s: GitHub gave up"
        assert len(s.redeliver_refused()) == 3
        assert s.post(5, "after").status == 202
        wait_done(world, s.ids, RECOVERY_SECONDS, "every delivery")
        assert_one_effect_per_head(s)
        assert_processes_survived(world)


def test_a_worker_started_while_postgres_is_down_waits_for_it(tmp_path: Path) -> None:
    """``ssot worker`` started while its database is unreachable keeps running (its start-up
    says it "will keep trying"), and processes deliveries once the database answers: a
    worker replica rescheduled during a database failover must not crash-loop."""
    _skip_unless(unreachable(POSTGRES, REDIS_URL))
    target = make_url(POSTGRES)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        world = World(
            tmp_path,
            postgres_url=POSTGRES,
            app_postgres_url=target.set(port=proxy.port).render_as_string(hide_password=False),
            redis_url=REDIS_URL,
            settings=SETTINGS,
        )
        with world.running():
            world.create()
            pr = world.open("feature-0", {"app/f0.py": BAD})
            world.start_web()
            proxy.cut()
            worker = world.spawn("worker-1", "worker", "--workers", "1", "--log-level", "debug")
            time.sleep(3.0)
            assert worker.poll() is None, (
                f"worker exited with {worker.returncode}:\n{world.log('worker-1')[-3000:]}"
            )
            proxy.restore()
            world.post_pull("opened", pr, pr.head_sha, "late-1")
            wait_for(lambda: world.all_done(["late-1"]), 30, "the delivery to be done")
            assert world.alive()


# --- the webhook route alone: what it answers when a service is down ---------------------------


@pytest.mark.parametrize("immediate_jobs", [False, True], ids=["writer", "inline"])
def test_a_delivery_the_database_cannot_store_is_refused_with_503(
    make_settings: Callable[..., Settings], immediate_jobs: bool
) -> None:
    """Nothing listens at the database's address: the route answers 503 naming the database
    (GitHub marks the delivery failed and it is redelivered), counted as "unavailable";
    through the batching DeliveryWriter and without it."""
    settings = make_settings(database_url=NOWHERE_DATABASE)
    with TestClient(create_app(settings, immediate_jobs=immediate_jobs)) as client:
        before = scrape(client)
        response = post_webhook(
            client, "pull_request", payload_bytes("pull_request/opened"), delivery="db-down-1"
        )
        after = scrape(client)
    assert response.status_code == 503
    assert response.json()["reason"] == "database"
    assert response.json()["delivery"] == "db-down-1"
    labels = {"event": "pull_request", "outcome": "unavailable"}
    name = "ssot_webhook_deliveries_total"
    assert sample(after, name, **labels) - sample(before, name, **labels) == 1


def test_a_delivery_stored_while_redis_is_down_is_accepted(
    make_settings: Callable[..., Settings],
) -> None:
    """Nothing listens at Redis's address: the delivery is stored, so it is accepted with 202
    through the DeliveryWriter, quickly; and it is due at once (the sweeper's next run
    enqueues it), not after the lease of a delivery whose job was enqueued (10 minutes)."""
    settings = make_settings(redis_url=NOWHERE_REDIS, job_lease_seconds=600)
    with TestClient(create_app(settings)) as client:
        started = time.perf_counter()
        response = post_webhook(
            client, "pull_request", payload_bytes("pull_request/opened"), delivery="redis-down-1"
        )
        seconds = time.perf_counter() - started
        [delivery] = stored(runtime(client).engine)
        due = delivery_store.deliveries_due(runtime(client).engine, now=db.utcnow())
    assert response.status_code == 202, response.text
    assert delivery.id == "redis-down-1" and delivery.state == tables.QUEUED
    assert due == ["redis-down-1"]
    assert seconds < 5.0  # GitHub gives up after 10 s
