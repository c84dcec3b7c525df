"""Scale-out under stress: real ``ssot serve --role web`` and ``ssot worker`` processes on
PostgreSQL and Redis, reporting to the fake GitHub served on loopback by the test process.

Each test gets its own PostgreSQL schema (``search_path``), its own Huey queue name on Redis,
its own App key pair, webhook secret and fake GitHub, so tests can run in parallel
(``pytest -n 2``). A test is skipped, saying why, when PostgreSQL or Redis is unreachable.

The processes are the real commands (``analyzers.cli.main`` with ``serve --role web`` or
``worker``), started through ``python -c`` so that two module constants can be set first:
``bot.jobs.QUEUE_NAME`` (the Huey name, hence the Redis keys: isolation) and, for the tests
that expect retries, ``bot.jobs.RETRY_BASE_SECONDS`` (1 s instead of 30 s, so that a job
retried after a 5xx or a busy pull request runs again within the test's time).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from bot_testing import payload
from test_migrations import POSTGRES, _postgres_or_skip
from test_pipeline import BAD, BASE_FILES, CLEAN, NAME, OWNER, point_repository

from bot import store
from bot.checks import CHECK_NAME
from bot.fake_github import (
    CheckRun,
    FakeGitHubServer,
    FakeGitHubState,
    PullRequest,
    Repository,
    make_app_keypair,
)

pytestmark = [pytest.mark.slow, pytest.mark.services]

REDIS_URL = "redis://127.0.0.1:6379/11"
ROOT = Path(__file__).resolve().parents[2]
LAUNCH = (
    "import sys, bot.jobs as jobs; "
    "jobs.QUEUE_NAME = sys.argv.pop(1); "
    "jobs.RETRY_BASE_SECONDS = int(sys.argv.pop(1)); "
    "from analyzers.cli import main; sys.exit(main())"
)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def _redis_or_skip() -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")


@dataclass
class Cluster:
    """One web process, any number of worker processes, and the fake GitHub they talk to."""

    tmp_path: Path
    state: FakeGitHubState
    server: FakeGitHubServer
    repo: Repository
    installation_id: int
    env: dict[str, str]
    queue_name: str
    retry_base: int
    engine: Any
    secret: str
    web_url: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    # --- processes ------------------------------------------------------------------------

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-c", LAUNCH, self.queue_name, str(self.retry_base), *args]
        with (self.tmp_path / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                command, env=self.env, cwd=self.tmp_path, stdout=log, stderr=log
            )
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.tmp_path / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name}:\n{self.log(name)[-3000:]}" for name in self.processes)

    def start_web(self) -> None:
        port = _free_port()
        web = self._spawn("web", "serve", "--role", "web", "--port", str(port))
        self.web_url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert web.poll() is None, self.log("web")
            try:
                return httpx.get(self.web_url + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, 30, "the web process to be ready")

    def start_workers(self, *names: str, threads: int = 2) -> list[subprocess.Popen[bytes]]:
        """Start ``ssot worker`` processes (at once), and wait until each one consumes."""
        workers = [
            self._spawn(name, "worker", "--workers", str(threads), "--log-level", "debug")
            for name in names
        ]
        for name, worker in zip(names, workers, strict=True):
            # Huey logs its consumer's start-up once the queue is being read.
            wait_for(
                lambda: worker.poll() is None and "huey" in self.log(name).lower(),  # noqa: B023
                30,
                f"{name} to start:\n{self.log(name)}",
            )
        return workers

    def done_by(self, name: str) -> list[str]:
        """The deliveries worker ``name`` logged as done."""
        lines = [json.loads(line) for line in self.log(name).splitlines() if line.startswith("{")]
        return [
            r["delivery_id"]
            for r in lines
            if r.get("logger") == "bot.jobs"
            and r["message"].startswith("delivery ")
            and r["message"].split(" ")[2] == "done"
        ]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    # --- webhooks -------------------------------------------------------------------------

    def post(self, event: str, data: dict[str, Any], delivery: str | None = None) -> httpx.Response:
        body = json.dumps(data).encode()
        signature = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": signature,
        }
        return httpx.post(
            self.web_url + "/api/github/webhooks", content=body, headers=headers, timeout=10
        )

    def pr_payload(self, action: str, pr: PullRequest, head_sha: str) -> dict[str, Any]:
        """The real ``pull_request.<action>`` payload, pointed at ``pr`` at ``head_sha``."""
        data = payload(f"pull_request/{action}")
        data["installation"]["id"] = self.installation_id
        data["number"] = pr.number
        point_repository(data["repository"], self.repo)
        pull = data["pull_request"]
        pull["number"] = pr.number
        pull["head"]["sha"] = head_sha
        pull["head"]["ref"] = pr.head_ref
        point_repository(pull["head"]["repo"], self.repo)
        pull["base"]["ref"] = pr.base_ref
        pull["base"]["sha"] = pr.base_sha
        point_repository(pull["base"]["repo"], self.repo)
        return data

    def post_pr(self, action: str, pr: PullRequest, head_sha: str, delivery: str) -> None:
        response = self.post("pull_request", self.pr_payload(action, pr, head_sha), delivery)
        assert response.status_code == 202, response.text

    # --- state ----------------------------------------------------------------------------

    def open_pr(self, branch: str, files: dict[str, str | bytes | None]) -> PullRequest:
        self.state.commit(self.repo, branch, files, "Change")
        return self.state.open_pull_request(self.repo, branch, "master")

    def push(self, pr: PullRequest, files: dict[str, str | bytes | None]) -> str:
        return self.state.commit(self.repo, pr.head_ref, files, "More")

    def delivery(self, delivery_id: str) -> store.Delivery:
        found = store.get_delivery(self.engine, delivery_id)
        assert found is not None, delivery_id
        return found

    def all_done(self, delivery_ids: list[str]) -> bool:
        counts = {self.delivery(d).state for d in delivery_ids}
        assert store.FAILED not in counts, self.failures(delivery_ids)
        return counts == {store.DONE}

    def failures(self, delivery_ids: list[str]) -> str:
        return "\n".join(
            f"{d}: {self.delivery(d).error}"
            for d in delivery_ids
            if self.delivery(d).state == store.FAILED
        )

    def runs(self, sha: str) -> list[CheckRun]:
        return self.state.check_runs_for(self.repo, head_sha=sha, name=CHECK_NAME)

    def stored_count(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count()).select_from(store.deliveries)
                ).scalar_one()
            )

    def leases_over(self) -> dt.datetime:
        """When every delivery lease and pull-request lock held now has lapsed."""
        with self.engine.connect() as connection:
            times = [
                *connection.execute(sa.select(store.deliveries.c.lease_until)).scalars(),
                *connection.execute(sa.select(store.pull_locks.c.until)).scalars(),
            ]
        return max((t for t in times if t is not None), default=store.utcnow())


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``cluster(lease_seconds=, retry_base=, latency=, max_attempts=)``: a context manager
    giving a :class:`Cluster` on a fresh schema and queue, dropped and flushed afterwards."""
    _redis_or_skip()
    _postgres_or_skip()

    @contextmanager
    def make(
        *,
        lease_seconds: int = 30,
        retry_base: int = 30,
        latency: float = 0.0,
        max_attempts: int = 5,
    ) -> Iterator[Cluster]:
        from huey import RedisHuey

        from bot.github import forget_tokens

        tag = uuid.uuid4().hex[:12]
        schema, queue_name, secret = f"ssot_scale_{tag}", f"ssot-scale-{tag}", f"hook-{tag}"
        admin = sa.create_engine(POSTGRES)
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        database_url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        keys = make_app_keypair()
        state = FakeGitHubState.for_app(keys)
        installation = state.create_installation(OWNER, account_type="User")
        repo = state.create_repo(
            OWNER, NAME, files=BASE_FILES, default_branch="master", owner_type="User"
        )
        forget_tokens()
        engine = store.create_engine(database_url)
        cleanup = RedisHuey(queue_name, url=REDIS_URL, results=False)
        server = FakeGitHubServer(state).start()
        server.faults.latency = latency
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SSOT_", "PROMETHEUS"))}
        env.update(
            PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
            SSOT_APP_ID=str(keys.app_id),
            SSOT_PRIVATE_KEY=keys.private_key_pem.replace("\n", "\\n"),
            SSOT_WEBHOOK_SECRET=secret,
            SSOT_GITHUB_URL=server.url.rstrip("/"),
            SSOT_DATABASE_URL=database_url,
            SSOT_REDIS_URL=REDIS_URL,
            SSOT_DATA_DIR=str(tmp_path / "data"),
            SSOT_JOB_LEASE_SECONDS=str(lease_seconds),
            SSOT_JOB_MAX_ATTEMPTS=str(max_attempts),
        )
        world = Cluster(
            tmp_path=tmp_path,
            state=state,
            server=server,
            repo=repo,
            installation_id=installation.id,
            env=env,
            queue_name=queue_name,
            retry_base=retry_base,
            engine=engine,
            secret=secret,
        )
        try:
            migrated = subprocess.run(
                [sys.executable, "-c", LAUNCH, queue_name, str(retry_base), "migrate"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                timeout=60,
            )
            assert migrated.returncode == 0, migrated.stderr.decode()
            yield world
        except BaseException:
            print(world.logs())
            raise
        finally:
            world.stop()
            server.stop()
            engine.dispose()
            cleanup.storage.flush_all()
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()

    yield make


def test_a_worker_killed_mid_job_leaves_the_job_to_another_worker(
    cluster: Callable[..., Any],
) -> None:
    """Worker A takes the job and is SIGKILLed once the check run is created but before it
    is completed (every fake GitHub call takes 0.2 s). A replacement worker B, started once
    the delivery's lease (3 s) and the pull request's lock have lapsed, finds the delivery
    through its start-up sweep and finishes it: one check run for the head, one review with
    one comment, no duplicate. (B runs with the latency back to 0.02 s per call.)"""
    with cluster(lease_seconds=3, latency=0.2) as world:
        world.start_web()
        [worker_a] = world.start_workers("worker-a", threads=1)
        pr = world.open_pr("feature", {"app/feature.py": BAD})
        world.post_pr("opened", pr, pr.head_sha, "kill-1")

        def mid_job() -> bool:
            runs = world.runs(pr.head_sha)
            return bool(runs) and runs[0].status != "completed"

        wait_for(mid_job, 30, "worker A to create the check run")
        worker_a.send_signal(signal.SIGKILL)
        worker_a.wait(5)
        [run] = world.runs(pr.head_sha)
        assert run.status != "completed", "worker A finished before it was killed"
        stolen = world.delivery("kill-1")
        assert stolen.state == store.RUNNING and stolen.attempts == 1
        # Fast again: B's whole job (about 10 calls) must fit in its own 3 s lease, as the
        # pipeline does not renew it.
        world.server.faults.latency = 0.02

        wait_for(
            lambda: store.utcnow() > world.leases_over() + dt.timedelta(seconds=0.3),
            10,
            "the leases to lapse",
        )
        world.start_workers("worker-b")
        wait_for(lambda: world.all_done(["kill-1"]), 40, "worker B to finish the delivery")

        done = world.delivery("kill-1")
        assert done.attempts == 2  # A's claim, then B's
        [run] = world.runs(pr.head_sha)
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
        pr = world.open_pr("feature", {"app/feature.py": BAD})
        data = world.pr_payload("opened", pr, pr.head_sha)
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
        [run] = world.runs(pr.head_sha)
        assert run.status == "completed" and run.conclusion == "failure"
        assert len(world.state.reviews_for(world.repo, pr.number)) == 1
        assert len(world.state.review_comments_for(world.repo, pr.number)) == 1
        assert len(world.state.calls_matching(method="POST", path="/check-runs")) == 1


def test_a_burst_of_pushes_gets_one_check_per_latest_head_and_no_stale_failure(
    cluster: Callable[..., Any],
) -> None:
    """Ten PRs, three heads each (opened, then two synchronize), the deliveries posted back
    to back, in order per PR, to two workers. The first two heads add a blocking finding, the
    last one does not: every latest head gets exactly one completed, successful check run;
    a superseded head has no check run or a neutral/skipped one, never a failure."""
    with cluster(retry_base=1) as world:
        world.start_web()
        world.start_workers("worker-1", "worker-2")
        prs: list[tuple[PullRequest, list[str]]] = []
        for i in range(10):
            pr = world.open_pr(f"feature-{i}", {f"app/f{i}.py": BAD})
            heads = [pr.head_sha]
            heads.append(world.push(pr, {f"app/g{i}.py": BAD}))
            heads.append(world.push(pr, {f"app/f{i}.py": CLEAN, f"app/g{i}.py": CLEAN}))
            prs.append((pr, heads))
        assert all(world.state.pull(world.repo, pr.number).head_sha == h[-1] for pr, h in prs)
        deliveries: list[str] = []
        for round_ in range(3):  # round by round: each PR's deliveries stay in order
            for pr, heads in prs:
                delivery = f"burst-{pr.number}-{round_}"
                world.post_pr(
                    "opened" if round_ == 0 else "synchronize", pr, heads[round_], delivery
                )
                deliveries.append(delivery)
        wait_for(lambda: world.all_done(deliveries), 50, "every delivery to be done")

        for pr, heads in prs:
            [latest] = world.runs(heads[-1])
            assert latest.status == "completed" and latest.conclusion == "success", (
                pr.number,
                latest.conclusion,
            )
            for stale in heads[:-1]:
                for run in world.runs(stale):
                    assert run.conclusion in ("neutral", "skipped", "cancelled"), (
                        pr.number,
                        stale,
                        run.status,
                        run.conclusion,
                    )
            assert world.state.reviews_for(world.repo, pr.number) == []  # nothing to say
        shares = [world.done_by("worker-1"), world.done_by("worker-2")]
        assert sorted(shares[0] + shares[1]) == sorted(deliveries)
        assert all(shares), "both workers took part in the burst"


def test_every_pr_gets_its_check_run_through_502s_and_a_rate_limit(
    cluster: Callable[..., Any],
) -> None:
    """The fake GitHub answers 502 to the next six calls, then 429 with ``retry-after: 1``
    to one: calls are retried in place once, jobs whose retry failed too are retried with
    back-off (1 s, 2 s, ...), and each of the four PRs still gets exactly one completed
    check run and one review. (An attempt fails only when a call and its retry both meet a
    fault, so seven faults fail a delivery at most three times; up to 8 attempts allowed.)"""
    with cluster(retry_base=1, max_attempts=8) as world:
        world.start_web()
        world.start_workers("worker-1", "worker-2")
        pulls = [world.open_pr(f"feature-{i}", {f"app/f{i}.py": BAD}) for i in range(4)]
        world.server.faults.server_error(6, status=502)
        world.server.faults.rate_limit(1, retry_after=1)
        deliveries = []
        for pr in pulls:
            world.post_pr("opened", pr, pr.head_sha, f"flaky-{pr.number}")
            deliveries.append(f"flaky-{pr.number}")
        wait_for(lambda: world.all_done(deliveries), 50, "every delivery to be done")

        assert world.server.faults.pending == 0
        faults = [c.fault for c in world.state.calls if c.fault in ("502", "429")]
        assert faults.count("502") == 6 and faults.count("429") == 1
        for pr in pulls:
            [run] = world.runs(pr.head_sha)
            assert run.status == "completed" and run.conclusion == "failure"
            assert len(world.state.reviews_for(world.repo, pr.number)) == 1
