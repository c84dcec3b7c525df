"""Benchmark the App's throughput: pull-request checks per minute with 1 and with 2 workers.

The scale-out set-up of tests/bot/test_scaleout.py: one real ``ssot serve --role web``
process and N real ``ssot worker`` processes on PostgreSQL (127.0.0.1:5432, database
``test``, a schema of its own) and Redis (127.0.0.1:6379, a Huey queue name of its own),
reporting to the fake GitHub served on loopback by this process with 50 ms added to every
API call. For each worker count, on a fresh schema, queue and fake GitHub:

- ``--prs`` pull requests of 3 changed files each are opened on the fake (every file adds a
  deprecated import: the check fails and posts a review with 3 comments);
- their ``pull_request.opened`` webhooks (the real payload, signed) are posted to the web
  process back to back;
- the time is taken from the first post until every PR's check run is completed (the
  fake's state, polled every 50 ms); then the jobs are let finish (their reviews) to count
  the API calls they made.

The table gives, per worker count, the seconds, the checks per minute, the API calls and
the speed-up against the first worker count. A run is stopped after ``--timeout`` seconds
(180) with a message saying how far it got. Everything is removed afterwards, also on a
failure or Ctrl-C: the processes stopped, the schema dropped, the queue's Redis keys deleted.
When PostgreSQL or Redis is unreachable the benchmark says so and exits 0 (skipped).

Usage::

    python benchmarks/bench_throughput.py --prs 20
    python benchmarks/bench_throughput.py --prs 10 --workers 1,2,3 --threads 1 --latency 0.02
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bot import store  # noqa: E402
from bot.checks import CHECK_NAME  # noqa: E402
from bot.fake_github import (  # noqa: E402
    FakeGitHubServer,
    FakeGitHubState,
    Faults,
    PullRequest,
    Repository,
    make_app_keypair,
)

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/11"
POLICY = (REPO / "examples" / "websocket-ssot.toml").read_text(encoding="utf-8")
FIXTURE = REPO.parent / "shared" / "fixtures" / "github-webhooks" / "pull_request"
LEGACY = "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
OWNER = "Codertocat"
FILES_PER_PR = 3
MAX_PRS = 200
# The real commands, with the Huey queue name set first (isolation of the Redis keys).
LAUNCH = (
    "import sys, bot.jobs as jobs; "
    "jobs.QUEUE_NAME = sys.argv.pop(1); "
    "from analyzers.cli import main; sys.exit(main())"
)


class Stopped(Exception):
    """A bounded wait ran out, or a process died: the message says what happened."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise Stopped(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def unreachable() -> str | None:
    """Why the benchmark cannot run here (PostgreSQL or Redis unreachable), or None."""
    try:
        import redis
    except ImportError:
        return "the 'redis' package is not installed"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        return f"Redis is not reachable at 127.0.0.1:6379 ({exc})"
    engine = sa.create_engine(POSTGRES, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL is not reachable at 127.0.0.1:5432 (database test): {first}"
    finally:
        engine.dispose()
    return None


def module(name: str) -> str:
    """A plausible module of about 40 lines, unique to ``name`` (no blob cache hit)."""
    body = [f'"""Service module {name}."""', "", "from __future__ import annotations", ""]
    for n in range(12):
        body += [f"def handler_{n}(event: dict[str, object]) -> object:", "    return event", ""]
    return "\n".join(body) + "\n"


@dataclass
class Result:
    workers: int
    threads: int
    prs: int
    seconds: float  # first post -> every check run completed
    calls: int  # API calls of the jobs, to the last review
    failures: int  # check runs not concluded "failure" (every PR has a finding)
    reviews: int
    retried: int  # deliveries that took more than one attempt (back-off: 30 s, 60 s, ...)

    @property
    def per_minute(self) -> float:
        return self.prs / self.seconds * 60


@dataclass
class Cluster:
    """A web process, worker processes, the fake GitHub, a schema and a Huey queue."""

    tmp: Path
    latency: float
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    web_url: str = ""

    def __post_init__(self) -> None:
        self.schema = f"ssot_bench_{self.tag}"
        self.queue_name = f"ssot-bench-{self.tag}"
        self.secret = f"hook-{self.tag}"
        self.keys = make_app_keypair()
        self.state = FakeGitHubState.for_app(self.keys)
        self.installation = self.state.create_installation(OWNER, account_type="User")
        self.database_url = f"{POSTGRES}?options=-csearch_path%3D{self.schema}"

    @contextmanager
    def running(self) -> Iterator[Cluster]:
        """Everything up (migrated schema, fake GitHub); everything removed on the way out."""
        from bot.github import forget_tokens

        forget_tokens()
        with ExitStack() as stack:
            admin = sa.create_engine(POSTGRES)
            stack.callback(admin.dispose)
            with admin.begin() as connection:
                connection.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            stack.callback(self._drop_schema, admin)
            stack.callback(self._flush_redis)
            self.server = FakeGitHubServer(self.state, Faults(latency=self.latency)).start()
            stack.callback(self.server.stop)
            self.engine = store.create_engine(self.database_url)
            stack.callback(self.engine.dispose)
            stack.callback(self.stop)  # first out: the processes
            self.env = {
                k: v for k, v in os.environ.items() if not k.startswith(("SSOT_", "PROMETHEUS"))
            }
            self.env.update(
                PYTHONPATH=os.pathsep.join([str(REPO), self.env.get("PYTHONPATH", "")]),
                SSOT_APP_ID=str(self.keys.app_id),
                SSOT_PRIVATE_KEY=self.keys.private_key_pem.replace("\n", "\\n"),
                SSOT_WEBHOOK_SECRET=self.secret,
                SSOT_GITHUB_URL=self.server.url.rstrip("/"),
                SSOT_DATABASE_URL=self.database_url,
                SSOT_REDIS_URL=REDIS_URL,
                SSOT_DATA_DIR=str(self.tmp / "data"),
            )
            migrated = subprocess.run(
                [sys.executable, "-c", LAUNCH, self.queue_name, "migrate"],
                env=self.env,
                cwd=self.tmp,
                capture_output=True,
                timeout=60,
            )
            if migrated.returncode != 0:
                raise Stopped(f"ssot migrate failed:\n{migrated.stderr.decode()[-3000:]}")
            yield self

    def _drop_schema(self, admin: sa.Engine) -> None:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))

    def _flush_redis(self) -> None:
        import redis
        from huey import RedisHuey

        RedisHuey(self.queue_name, url=REDIS_URL, results=False).storage.flush_all()
        client = redis.Redis.from_url(REDIS_URL)
        left = list(client.scan_iter(match=f"*{self.tag}*"))
        if left:
            client.delete(*left)
        client.close()

    # --- processes ------------------------------------------------------------------------

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-c", LAUNCH, self.queue_name, *args]
        with (self.tmp / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(command, env=self.env, cwd=self.tmp, stdout=log, stderr=log)
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name}:\n{self.log(name)[-2000:]}" for name in self.processes)

    def alive(self) -> bool:
        """True, or :class:`Stopped` when a process has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise Stopped(f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}")
        return True

    def start(self, workers: int, threads: int) -> None:
        port = _free_port()
        self._spawn("web", "serve", "--role", "web", "--port", str(port))
        self.web_url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            self.alive()
            try:
                return httpx.get(self.web_url + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, 30, "the web process to be ready")
        names = [f"worker-{i + 1}" for i in range(workers)]
        for name in names:
            self._spawn(name, "worker", "--workers", str(threads), "--log-level", "debug")
        for name in names:
            # Huey logs its consumer's start-up once the queue is being read.
            wait_for(
                lambda: self.alive() and "huey" in self.log(name).lower(),  # noqa: B023
                30,
                f"{name} to start",
            )

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

    # --- the pull requests and their webhooks ---------------------------------------------

    def repository(self, prs: int) -> Repository:
        files: dict[str, str | bytes | None] = {
            f"app/svc_{i}_{j}.py": module(f"{i}-{j}")
            for i in range(prs)
            for j in range(FILES_PER_PR)
        }
        files[".github/ssot.toml"] = POLICY
        files["README.md"] = "# Hello\n"
        return self.state.create_repo(
            OWNER, f"repo-{self.tag}", files=files, default_branch="master", owner_type="User"
        )

    def open_prs(self, repo: Repository, prs: int) -> list[PullRequest]:
        pulls = []
        for i in range(prs):
            head: dict[str, str | bytes | None] = {
                f"app/svc_{i}_{j}.py": LEGACY + module(f"{i}-{j}") for j in range(FILES_PER_PR)
            }
            self.state.commit(repo, f"feature-{i}", head, "Use the old manager")
            pulls.append(self.state.open_pull_request(repo, f"feature-{i}", "master"))
        return pulls

    def webhook(self, repo: Repository, pr: PullRequest) -> bytes:
        data: dict[str, Any] = json.loads((FIXTURE / "opened.payload.json").read_bytes())
        data["installation"]["id"] = self.installation.id
        data["number"] = data["pull_request"]["number"] = pr.number
        for target in (data["repository"], data["pull_request"]["base"]["repo"]):
            target.update(full_name=repo.full_name, name=repo.name, default_branch="master")
        data["pull_request"]["head"]["repo"].update(full_name=repo.full_name, name=repo.name)
        data["pull_request"]["head"].update(sha=pr.head_sha, ref=pr.head_ref)
        data["pull_request"]["base"].update(sha=pr.base_sha, ref="master")
        return json.dumps(data).encode()

    def headers(self, body: bytes, delivery: str) -> dict[str, str]:
        digest = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": f"sha256={digest}",
        }

    def states(self, deliveries: list[str]) -> dict[str, int]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(store.deliveries.c.state, sa.func.count())
                .where(store.deliveries.c.id.in_(deliveries))
                .group_by(store.deliveries.c.state)
            ).all()
        return {str(state): int(count) for state, count in rows}

    def retried(self, deliveries: list[str]) -> int:
        c = store.deliveries.c
        with self.engine.connect() as connection:
            count = connection.execute(
                sa.select(sa.func.count()).where(c.id.in_(deliveries), c.attempts > 1)
            ).scalar_one()
        return int(count)


def measure(
    workers: int, threads: int, prs: int, latency: float, timeout: float, tmp: Path
) -> Result:
    cluster = Cluster(tmp=tmp, latency=latency)
    try:
        with cluster.running():
            cluster.start(workers, threads)
            repo = cluster.repository(prs)
            pulls = cluster.open_prs(repo, prs)
            bodies = [
                (cluster.webhook(repo, pr), f"bench-{cluster.tag}-{pr.number}") for pr in pulls
            ]
            deliveries = [delivery for _, delivery in bodies]
            heads = {pr.head_sha for pr in pulls}
            cluster.state.clear_calls()
            url = cluster.web_url + "/api/github/webhooks"

            started = time.monotonic()
            deadline = started + timeout
            with httpx.Client(timeout=10) as client:
                for body, delivery in bodies:
                    response = client.post(
                        url, content=body, headers=cluster.headers(body, delivery)
                    )
                    if response.status_code != 202:
                        raise Stopped(f"webhook answered {response.status_code}: {response.text}")
            completed: set[str] = set()
            checked = started
            while True:
                runs = cluster.state.check_runs_for(repo, name=CHECK_NAME)
                completed = {r.head_sha for r in runs if r.status == "completed"} & heads
                if len(completed) == len(heads):
                    break
                now = time.monotonic()
                if now > deadline:
                    raise Stopped(
                        f"stopped after {timeout:.0f} s: {len(completed)} of {prs} check runs "
                        f"completed with {workers} worker(s) (deliveries: "
                        f"{cluster.states(deliveries)})"
                    )
                if now - checked > 1:  # a dead worker or a failed job: stop early
                    checked = now
                    cluster.alive()
                    failed = cluster.states(deliveries).get(store.FAILED, 0)
                    if failed:
                        raise Stopped(f"{failed} deliveries failed with {workers} worker(s)")
                time.sleep(0.05)
            seconds = time.monotonic() - started

            # Let the jobs finish (their reviews come after the check run) to count the calls.
            remaining = max(deadline - time.monotonic(), 5.0)
            wait_for(
                lambda: cluster.states(deliveries).get(store.DONE, 0) == prs,
                remaining,
                "every delivery to be done after its check run was completed",
            )
            runs = cluster.state.check_runs_for(repo, name=CHECK_NAME)
            return Result(
                workers=workers,
                threads=threads,
                prs=prs,
                seconds=seconds,
                calls=len(cluster.state.calls),
                failures=sum(1 for r in runs if r.conclusion != "failure"),
                reviews=sum(len(cluster.state.reviews_for(repo, pr.number)) for pr in pulls),
                retried=cluster.retried(deliveries),
            )
    except Stopped:
        print(cluster.logs(), file=sys.stderr)
        raise


def table(rows: list[Result]) -> str:
    head = (
        "| workers | threads each | PRs | seconds | checks per minute | API calls "
        "| reviews | jobs retried | speed-up |"
    )
    lines = [head, "|" + "---|" * 9]
    base = rows[0].per_minute if rows else 1.0
    for r in rows:
        lines.append(
            f"| {r.workers} | {r.threads} | {r.prs} | {r.seconds:.2f} | {r.per_minute:.1f} | "
            f"{r.calls} | {r.reviews} | {r.retried} | {r.per_minute / base:.2f}x |"
        )
    return "\n".join(lines)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # clean up as on Ctrl-C


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prs", type=int, default=20, help=f"pull requests per run (<= {MAX_PRS})")
    parser.add_argument("--workers", default="1,2", help="worker process counts, e.g. 1,2")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (default 2)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API call")
    parser.add_argument("--timeout", type=float, default=180, help="seconds per run at most")
    parser.add_argument("--keep", type=Path, help="write the processes' logs there, and keep them")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    if not 1 <= args.prs <= MAX_PRS or not counts or not all(1 <= n <= 8 for n in counts):
        parser.error(f"--prs must be 1..{MAX_PRS}, --workers counts 1..8")
    if not FIXTURE.is_dir():
        print(f"SKIPPED: the webhook fixtures are missing ({FIXTURE})")
        return 0
    reason = unreachable()
    if reason:
        print(f"SKIPPED: {reason}")
        return 0
    signal.signal(signal.SIGTERM, _terminate)

    rows: list[Result] = []
    error = ""
    with ExitStack() as stack:
        tmp = args.keep or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="ssot-bench-throughput-"))
        )
        for workers in counts:
            run_dir = tmp / f"workers-{workers}"
            run_dir.mkdir(parents=True, exist_ok=True)
            try:
                rows.append(
                    measure(workers, args.threads, args.prs, args.latency, args.timeout, run_dir)
                )
            except Stopped as exc:
                error = str(exc)
                break
    print(
        f"SSOT guard App throughput: {args.prs} PRs of {FILES_PER_PR} changed files each, "
        f"{args.latency * 1000:.0f} ms per API call, web + N `ssot worker` processes "
        f"on PostgreSQL + Redis\n"
    )
    print(table(rows))
    bad = [r for r in rows if r.failures or r.reviews != r.prs]
    for r in bad:
        print(
            f"\nUNEXPECTED with {r.workers} worker(s): {r.failures} check runs not 'failure', "
            f"{r.reviews} reviews for {r.prs} PRs"
        )
    for r in rows:
        if r.retried:
            print(
                f"\nNOTE with {r.workers} worker(s): {r.retried} job(s) failed an attempt and "
                "were retried after the back-off (30 s): the seconds include it (the error is "
                "in the worker's log: --keep DIR)"
            )
    if error:
        print(f"\nSTOPPED: {error}")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
