"""Scale-out under stress: real ``ssot serve --role web`` and ``ssot worker`` processes on
PostgreSQL and Redis, reporting to the fake GitHub served on loopback by the test process
(:class:`cluster.Cluster`, tests/bot/cluster.py).

Each test gets its own PostgreSQL schema, its own job queue name on Redis
(``SSOT_QUEUE_NAME``), its own App key pair, webhook secret and fake GitHub, so tests can run
in parallel (``pytest -n 2``). A test is skipped, saying why, when PostgreSQL or Redis is
unreachable. The processes are configured by ``SSOT_*`` variables alone, as in production;
tests that expect retries set ``SSOT_JOB_RETRY_SECONDS=1`` so that a retried job runs again
within the test's time.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cluster import Cluster, unreachable, wait_for
from test_migrations import POSTGRES
from test_pipeline import BAD, BASE_FILES, CLEAN, NAME

from bot.store import db, tables
from fake_github import CheckRun, PullRequest

pytestmark = [pytest.mark.slow, pytest.mark.services]

REDIS_URL = "redis://127.0.0.1:6379/11"


class World(Cluster):
    """A cluster with one repository (the real payloads' ``Codertocat/Hello-World``)."""

    def create(self) -> None:
        self.repo = self.create_repo(NAME, BASE_FILES)

    def open(self, branch: str, files: dict[str, str | bytes | None]) -> PullRequest:
        return self.open_pr(self.repo, branch, files)

    def push_to(self, pr: PullRequest, files: dict[str, str | bytes | None]) -> str:
        return self.push(self.repo, pr, files)

    def post_pull(self, action: str, pr: PullRequest, head_sha: str, delivery: str) -> None:
        self.post_pr(action, self.repo, pr, head_sha, delivery)

    def runs_of(self, sha: str) -> list[CheckRun]:
        return self.runs(self.repo, sha)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``cluster(latency=, **settings)``: a context manager giving a running :class:`World`
    (``settings``: ``SSOT_*`` variables of the processes, e.g. ``job_lease_seconds=3``)."""
    reason = unreachable(POSTGRES, REDIS_URL)
    if reason:
        pytest.skip(reason)

    @contextmanager
    def make(*, latency: float = 0.0, **settings: object) -> Iterator[World]:
        settings = {"job_lease_seconds": 30, "job_max_attempts": 5, **settings}
        world = World(
            tmp_path,
            postgres_url=POSTGRES,
            redis_url=REDIS_URL,
            latency=latency,
            settings=settings,
        )
        with world.running():
            world.create()
            try:
                yield world
            except BaseException:
                print(world.logs())
                raise

    yield make


def test_a_worker_killed_mid_job_leaves_the_job_to_another_worker(
    cluster: Callable[..., Any],
) -> None:
    """Worker A takes the job and is SIGKILLed once the check run is created but before it
    is completed (every fake GitHub call takes 0.2 s). A replacement worker B, started once
    the delivery's lease (3 s) and the pull request's lock have lapsed, finds the delivery
    through its start-up sweep and finishes it: one check run for the head, one review with
    one comment, no duplicate. (B runs with the latency back to 0.02 s per call.)"""
    with cluster(job_lease_seconds=3, latency=0.2) as world:
        world.start_web()
        [worker_a] = world.start_workers("worker-a", threads=1)
        pr = world.open("feature", {"app/feature.py": BAD})
        world.post_pull("opened", pr, pr.head_sha, "kill-1")

        def mid_job() -> bool:
            runs = world.runs_of(pr.head_sha)
            return bool(runs) and runs[0].status != "completed"

        wait_for(mid_job, 30, "worker A to create the check run")
        worker_a.send_signal(signal.SIGKILL)
        worker_a.wait(5)
        [run] = world.runs_of(pr.head_sha)
        assert run.status != "completed", "worker A finished before it was killed"
        stolen = world.delivery("kill-1")
        assert stolen.state == tables.RUNNING and stolen.attempts == 1
        # Fast again: B's whole job (about 10 calls) must fit in its own 3 s lease, as the
        # pipeline does not renew it.
        world.server.faults.latency = 0.02

        wait_for(
            lambda: db.utcnow() > world.leases_over() + dt.timedelta(seconds=0.3),
            10,
            "the leases to lapse",
        )
        world.start_workers("worker-b")
        wait_for(lambda: world.all_done(["kill-1"]), 40, "worker B to finish the delivery")

        done = world.delivery("kill-1")
        assert done.attempts == 2  # A's claim, then B's
        [run] = world.runs_of(pr.head_sha)
        assert run.status == "completed" and run.conclusion == "failure"
        assert len(world.state.reviews_for(world.repo, pr.number)) == 1
        comments = world.state.review_comments_for(world.repo, pr.number)
        assert [(c.path, c.line) for c in comments] == [("app/feature.py", 1)]
        assert world.done_by("worker-b") == ["kill-1"] and world.done_by("worker-a") == []


def test_the_same_delivery_posted_ten_times_is_stored_and_checked_once(
    cluster: Callable[..., Any],
) -> None:
    """Ten concurrent posts of one delivery id to the web process, two workers: one stored
    delivery (one 202, nine 200 "duplicate"), one check run, one review."""
    with cluster() as world:
        world.start_web()
        world.start_workers("worker-1", "worker-2")
        pr = world.open("feature", {"app/feature.py": BAD})
        data = world.pr_payload("opened", world.repo, pr, pr.head_sha)
        with ThreadPoolExecutor(10) as pool:
            statuses = sorted(
                pool.map(
                    lambda _: world.post("pull_request", data, "same-1").status_code, range(10)
                )
            )
        assert statuses == [200] * 9 + [202]
        wait_for(lambda: world.all_done(["same-1"]), 30, "the delivery to be done")
        time.sleep(1.0)  # a duplicate job, had one been queued, would run meanwhile
        assert world.stored_count() == 1
        assert world.delivery("same-1").attempts == 1
        [run] = world.runs_of(pr.head_sha)
        assert run.status == "completed" and run.conclusion == "failure"
        assert len(world.state.reviews_for(world.repo, pr.number)) == 1
        assert len(world.state.review_comments_for(world.repo, pr.number)) == 1
        assert len(world.state.calls_matching(method="POST", path="/check-runs")) == 1


def test_a_burst_of_fifty_prs_gets_one_check_per_latest_head_and_no_stale_failure(
    cluster: Callable[..., Any],
) -> None:
    """Fifty PRs, three heads each (opened, then two synchronize), the 150 deliveries posted
    within about a second by 16 concurrent senders, two workers of two threads. The first two
    heads add a blocking finding, the last one does not: every latest head gets exactly one
    completed, successful check run; a superseded head has no check run or a neutral/skipped
    one, never a failure. The fake refuses any two content-creating calls of the installation
    in flight at once, and never has to. (The per-minute content budget is off here: 50 PRs
    need more than GitHub's 80 writes a minute; the budget has its own tests.)"""
    with cluster(github_writes_per_minute=0, github_writes_per_hour=0) as world:
        world.faults.serial_content_creation = True
        world.start_web()
        world.start_workers("worker-1", "worker-2")
        prs: list[tuple[PullRequest, list[str]]] = []
        for i in range(50):
            pr = world.open(f"feature-{i}", {f"app/f{i}.py": BAD})
            heads = [pr.head_sha]
            heads.append(world.push_to(pr, {f"app/g{i}.py": BAD}))
            heads.append(world.push_to(pr, {f"app/f{i}.py": CLEAN, f"app/g{i}.py": CLEAN}))
            prs.append((pr, heads))
        posts = [
            (
                "opened" if round_ == 0 else "synchronize",
                pr,
                heads[round_],
                f"burst-{pr.number}-{round_}",
            )
            for round_ in range(3)
            for pr, heads in prs
        ]
        deliveries = [post[3] for post in posts]
        requests = []
        for action, pr, head, delivery in posts:  # signed beforehand: the burst is the posts
            body = json.dumps(world.pr_payload(action, world.repo, pr, head)).encode()
            requests.append((body, world.signed("pull_request", body, delivery)))
        url = world.web_url + "/api/github/webhooks"
        with httpx.Client(timeout=10, limits=httpx.Limits(max_connections=16)) as client:

            def send(request: tuple[bytes, dict[str, str]]) -> int:
                return client.post(url, content=request[0], headers=request[1]).status_code

            started = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                statuses = list(pool.map(send, requests))
            posted_in = time.monotonic() - started
        assert statuses == [202] * len(requests)
        wait_for(lambda: world.all_done(deliveries), 150, "every delivery to be done")

        for pr, heads in prs:
            [latest] = world.runs_of(heads[-1])
            assert latest.status == "completed" and latest.conclusion == "success", (
                pr.number,
                latest.conclusion,
            )
            for stale in heads[:-1]:
                for run in world.runs_of(stale):
                    assert run.conclusion in ("neutral", "skipped", "cancelled"), (
                        pr.number,
                        stale,
                        run.status,
                        run.conclusion,
                    )
            assert world.state.reviews_for(world.repo, pr.number) == []  # nothing to say
        installation = world.installation.id
        assert world.faults.burst_rejections[installation] == 0
        assert world.faults.peak_concurrent_content_creating[installation] == 1
        shares = [world.done_by("worker-1"), world.done_by("worker-2")]
        assert sorted(shares[0] + shares[1]) == sorted(deliveries)
        assert all(shares), "both workers took part in the burst"
        assert posted_in < 3, f"150 deliveries took {posted_in:.1f} s to post"
        print(f"\nburst: 150 deliveries posted in {posted_in:.2f} s, all done")


def told_waits(world: World) -> list[tuple[float, float, str]]:
    """``(when the App learnt it, until, reason)`` of each wait GitHub told, from the workers'
    logs (bot.github.throttle logs each one as it records it for every worker)."""
    told = []
    for name in world.processes:
        for line in world.log(name).splitlines():
            if not line.startswith("{") or "to wait until" not in line:
                continue
            record = json.loads(line)
            learnt = dt.datetime.fromisoformat(record["time"]).timestamp()
            until = record["message"].split("to wait until ")[1].split(" ")[0]
            told.append((learnt, dt.datetime.fromisoformat(until).timestamp(), record["message"]))
    return told


def calls_while_told_to_wait(calls: list[Any], told: list[tuple[float, float, str]]) -> list[str]:
    """Calls started after the App learnt of a wait and before its end (50 ms of slack for
    the clocks of two processes)."""
    return [
        f"{c.method} {c.path} {c.started_at - learnt:.2f} s after: {why}"
        for learnt, until, why in told
        for c in calls
        if learnt + 0.05 < c.started_at < until - 0.05
    ]


def test_every_pr_gets_its_result_through_5xx_and_rate_limits_within_the_told_limits(
    cluster: Callable[..., Any],
) -> None:
    """Six PRs, two workers. The fake GitHub answers 502 to six calls, then a 403 rate limit
    (wait 1 s), two secondary rate limits on check runs (wait 2 s), and a 429 asking for 12 s
    (longer than a job sleeps: the job is postponed). It also refuses overlapping content-
    creating calls and more than 20 of them a minute, the App's budget being 20 too.

    Every PR gets exactly one completed check run and one review; no call of the
    installation starts once the App has learnt that GitHub said to wait (a call already in
    flight, or sent by a worker that had not heard yet, is GitHub's to refuse, as it would
    be against GitHub itself); the fake never had to refuse a write for overlap or budget."""
    with cluster(job_retry_seconds=1, job_max_attempts=8, github_writes_per_minute=20) as world:
        faults = world.faults
        faults.serial_content_creation = True
        faults.content_creation_limit_per_minute = 20
        world.start_web()
        world.start_workers("worker-1", "worker-2")
        pulls = [world.open(f"feature-{i}", {f"app/f{i}.py": BAD}) for i in range(6)]
        # Only the installation's calls: the App's own sweep of its hook deliveries (at every
        # tenth minute) would otherwise take a fault that no installation is told about.
        ours = r"^/(?!app/hook/)"
        faults.server_error(6, status=502, path=ours)
        faults.rate_limit(1, retry_after=1, status=403, path=ours)
        faults.secondary_rate_limit(2, retry_after=2, path="/check-runs")
        faults.rate_limit(1, retry_after=12, path=ours)
        deliveries = []
        for pr in pulls:
            world.post_pull("opened", pr, pr.head_sha, f"flaky-{pr.number}")
            deliveries.append(f"flaky-{pr.number}")
        wait_for(lambda: world.all_done(deliveries), 120, "every delivery to be done")

        assert faults.pending == 0
        calls = world.state.calls_matching(installation_id=world.installation.id)
        labels = [c.fault for c in world.state.calls if c.fault]  # App-level calls too
        assert sorted(labels) == sorted(["502"] * 6 + ["403", "secondary", "secondary", "429"])
        told = told_waits(world)
        assert len(told) >= 4, told  # the 403, the two secondary limits, the 429
        assert calls_while_told_to_wait(calls, told) == []
        installation = world.installation.id
        assert faults.burst_rejections[installation] == 0
        assert faults.peak_concurrent_content_creating[installation] == 1
        assert faults.peak_content_creation_per_minute(installation) <= 20
        for pr in pulls:
            [run] = world.runs_of(pr.head_sha)
            assert run.status == "completed" and run.conclusion == "failure"
            assert len(world.state.reviews_for(world.repo, pr.number)) == 1
