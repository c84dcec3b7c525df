"""A scale-out deployment on one machine: real ``ssot serve --role web`` and ``ssot worker``
processes on PostgreSQL and Redis, reporting to a fake GitHub served by the calling process.

The scale-out tests (tests/bot/test_scaleout.py, test_service_faults.py) and the throughput
benchmark (benchmarks/bench_throughput.py) run the App through this class, so that both
exercise the commands an operator runs, configured by environment variables alone.

Each cluster gets its own PostgreSQL schema (``search_path``), its own job queue name
(``SSOT_QUEUE_NAME``: its own Redis keys), App key pair, webhook secret and fake GitHub, so
clusters can run side by side. Everything is removed on the way out of :meth:`running`, also
on a failure: processes stopped, schema dropped, queue keys deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from bot.checks.render import CHECK_NAME
from bot.store import db, tables
from bot.store import deliveries as delivery_store
from fake_github import (
    CheckRun,
    FakeGitHubServer,
    FakeGitHubState,
    Faults,
    Installation,
    PullRequest,
    Repository,
    make_app_keypair,
)

ROOT = Path(__file__).resolve().parents[2]
PULL_REQUEST_PAYLOAD = ROOT / "bot" / "demo" / "payloads" / "pull_request.opened.payload.json"
LAUNCH = "import sys; from analyzers.cli import main; sys.exit(main())"


class ClusterError(AssertionError):
    """A bounded wait ran out or a process died: the message says which and why."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` every 50 ms; :class:`ClusterError` naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def unreachable(postgres_url: str, redis_url: str) -> str | None:
    """Why a cluster cannot run here (PostgreSQL or Redis unreachable), or None."""
    try:
        import redis
    except ImportError:
        return "the 'redis' package is not installed"
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        return f"Redis is not reachable at {redis_url} ({exc})"
    engine = sa.create_engine(postgres_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL is not reachable at {postgres_url}: {first}"
    finally:
        engine.dispose()
    return None


class Cluster:
    """One web process, any number of worker processes, and the fake GitHub they talk to.

    ``postgres_url``: where the schema is created (and what the test reads);
    ``app_postgres_url``: what the processes connect to (default the same; a test puts a
    proxy between them); ``settings``: more ``SSOT_*`` variables for the processes.
    """

    def __init__(
        self,
        tmp_path: Path,
        *,
        postgres_url: str,
        redis_url: str,
        app_postgres_url: str | None = None,
        latency: float = 0.0,
        owner: str = "Codertocat",
        settings: Mapping[str, object] | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        self.tag = uuid.uuid4().hex[:12]
        self.schema = f"ssot_cluster_{self.tag}"
        self.queue_name = f"ssot-cluster-{self.tag}"
        self.secret = f"hook-{self.tag}"
        self.postgres_url = postgres_url
        self.redis_url = redis_url
        self.database_url = _with_schema(postgres_url, self.schema)
        self.app_database_url = _with_schema(app_postgres_url or postgres_url, self.schema)
        self.keys = make_app_keypair()
        self.state = FakeGitHubState.for_app(self.keys)
        self.installation: Installation = self.state.create_installation(owner, account_type="User")
        self.owner = owner
        self.installations = {owner.lower(): self.installation}
        self.faults = Faults(latency=latency)
        self.settings = {k: str(v) for k, v in (settings or {}).items()}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.web_url = ""
        self.engine: Engine
        self.server: FakeGitHubServer
        self.env: dict[str, str] = {}

    # --- life cycle -----------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[Cluster]:
        """Schema created and migrated, fake GitHub up; everything removed on the way out."""
        from bot.github.api import forget_tokens

        forget_tokens()
        with ExitStack() as stack:
            admin = sa.create_engine(self.postgres_url)
            stack.callback(admin.dispose)
            with admin.begin() as connection:
                connection.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            stack.callback(self._drop_schema, admin)
            stack.callback(self._flush_queue)
            self.server = FakeGitHubServer(self.state, self.faults).start()
            stack.callback(self.server.stop)
            self.engine = db.create_engine(self.database_url)
            stack.callback(self.engine.dispose)
            stack.callback(self.stop)  # first out: the processes
            self.env = {
                k: v for k, v in os.environ.items() if not k.startswith(("SSOT_", "PROMETHEUS"))
            }
            self.env.update(
                PYTHONPATH=os.pathsep.join([str(ROOT), self.env.get("PYTHONPATH", "")]),
                SSOT_APP_ID=str(self.keys.app_id),
                SSOT_PRIVATE_KEY=self.keys.private_key_pem.replace("\n", "\\n"),
                SSOT_WEBHOOK_SECRET=self.secret,
                SSOT_GITHUB_URL=self.server.url.rstrip("/"),
                SSOT_DATABASE_URL=self.app_database_url,
                SSOT_REDIS_URL=self.redis_url,
                SSOT_QUEUE_NAME=self.queue_name,
                SSOT_DATA_DIR=str(self.tmp_path / "data"),
            )
            self.env.update({f"SSOT_{k.upper()}": v for k, v in self.settings.items()})
            migrated = subprocess.run(
                [sys.executable, "-c", LAUNCH, "migrate"],
                env=self.env,
                cwd=self.tmp_path,
                capture_output=True,
                timeout=60,
            )
            if migrated.returncode != 0:
                raise ClusterError(f"ssot migrate failed:\n{migrated.stderr.decode()[-3000:]}")
            yield self

    def _drop_schema(self, admin: Engine) -> None:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))

    def _flush_queue(self) -> None:
        import redis

        try:
            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2)
            left = list(client.scan_iter(match=f"*{self.queue_name}*"))
            if left:
                client.delete(*left)
            client.close()
        except redis.exceptions.RedisError:
            pass  # a test that stopped its own Redis has nothing left to flush

    # --- processes ------------------------------------------------------------------------

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """Start ``ssot <args>`` as process ``name``, its output in ``<tmp>/<name>.log``."""
        with (self.tmp_path / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", LAUNCH, *args],
                env=self.env,
                cwd=self.tmp_path,
                stdout=log,
                stderr=log,
            )
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.tmp_path / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        """The end of every process's log (to print when a test fails)."""
        return "\n".join(f"--- {name}:\n{self.log(name)[-3000:]}" for name in self.processes)

    def alive(self) -> bool:
        """True, or :class:`ClusterError` naming the process that exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise ClusterError(
                    f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}"
                )
        return True

    def start_web(self, name: str = "web") -> subprocess.Popen[bytes]:
        """Start ``ssot serve --role web`` and wait until ``/readyz`` answers 200."""
        port = free_port()
        web = self.spawn(name, "serve", "--role", "web", "--port", str(port))
        self.web_url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            if web.poll() is not None:
                raise ClusterError(f"{name} exited:\n{self.log(name)[-3000:]}")
            try:
                return httpx.get(self.web_url + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, 30, "the web process to be ready")
        return web

    def start_workers(self, *names: str, threads: int = 2) -> list[subprocess.Popen[bytes]]:
        """Start ``ssot worker`` processes (at once), and wait until each one consumes."""
        workers = [
            self.spawn(name, "worker", "--workers", str(threads), "--log-level", "debug")
            for name in names
        ]
        for name, worker in zip(names, workers, strict=True):
            # Huey logs its consumer's start-up once the queue is being read.
            wait_for(
                lambda: worker.poll() is None and "huey" in self.log(name).lower(),  # noqa: B023
                30,
                f"{name} to start:\n{self.log(name)[-3000:]}",
            )
        return workers

    def stop(self) -> None:
        """SIGINT every process still running (SIGKILL after 20 s)."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def done_by(self, name: str) -> list[str]:
        """The deliveries worker ``name`` logged as done."""
        records = [json.loads(line) for line in self.log(name).splitlines() if line[:1] == "{"]
        return [
            r["delivery_id"]
            for r in records
            if r.get("logger") == "bot.jobs.queue"
            and r["message"].startswith("delivery ")
            and r["message"].split(" ")[2] == "done"
        ]

    # --- the repository, pull requests and webhooks -----------------------------------------

    def add_installation(self, owner: str) -> Installation:
        """Install the App on one more account (a tenant of its own: its own limits)."""
        installation = self.state.create_installation(owner, account_type="User")
        self.installations[owner.lower()] = installation
        return installation

    def create_repo(
        self, name: str, files: Mapping[str, str | bytes | None], *, owner: str | None = None
    ) -> Repository:
        """A repository of ``owner`` (default: the first installation's account)."""
        return self.state.create_repo(
            owner or self.owner, name, files=dict(files), default_branch="master", owner_type="User"
        )

    def open_pr(
        self, repo: Repository, branch: str, files: Mapping[str, str | bytes | None]
    ) -> PullRequest:
        self.state.commit(repo, branch, dict(files), "Change")
        return self.state.open_pull_request(repo, branch, "master")

    def push(
        self, repo: Repository, pr: PullRequest, files: Mapping[str, str | bytes | None]
    ) -> str:
        return self.state.commit(repo, pr.head_ref, dict(files), "More")

    def pr_payload(
        self, action: str, repo: Repository, pr: PullRequest, head_sha: str
    ) -> dict[str, Any]:
        """A real ``pull_request`` payload, pointed at ``pr`` at ``head_sha``."""
        data: dict[str, Any] = json.loads(PULL_REQUEST_PAYLOAD.read_bytes())
        data["action"] = action
        data["installation"]["id"] = self.installations[repo.owner.login.lower()].id
        data["number"] = pr.number
        pull = data["pull_request"]
        pull["number"] = pr.number
        for target in (data["repository"], pull["base"]["repo"], pull["head"]["repo"]):
            target.update(full_name=repo.full_name, name=repo.name, default_branch="master")
            target["owner"]["login"] = repo.owner.login
        pull["head"].update(sha=head_sha, ref=pr.head_ref)
        pull["base"].update(sha=pr.base_sha, ref=pr.base_ref)
        return data

    def signed(self, event: str, body: bytes, delivery: str) -> dict[str, str]:
        """The headers GitHub sends with ``body``, signed with this cluster's secret."""
        digest = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": f"sha256={digest}",
        }

    def post(
        self, event: str, data: Mapping[str, Any], delivery: str | None = None
    ) -> httpx.Response:
        """Post a signed delivery to the web process."""
        body = json.dumps(data).encode()
        return httpx.post(
            self.web_url + "/api/github/webhooks",
            content=body,
            headers=self.signed(event, body, delivery or str(uuid.uuid4())),
            timeout=10,
        )

    def post_pr(
        self, action: str, repo: Repository, pr: PullRequest, head_sha: str, delivery: str
    ) -> None:
        """Post ``pull_request.<action>`` for ``pr`` at ``head_sha``; it must be queued."""
        response = self.post("pull_request", self.pr_payload(action, repo, pr, head_sha), delivery)
        if response.status_code != 202:
            raise ClusterError(f"webhook answered {response.status_code}: {response.text}")

    # --- what happened ------------------------------------------------------------------------

    def runs(self, repo: Repository, sha: str) -> list[CheckRun]:
        """The App's check runs on ``sha``."""
        return self.state.check_runs_for(repo, head_sha=sha, name=CHECK_NAME)

    def delivery(self, delivery_id: str) -> delivery_store.Delivery:
        found = delivery_store.get_delivery(self.engine, delivery_id)
        if found is None:
            raise ClusterError(f"delivery {delivery_id} is not stored")
        return found

    def states(self, delivery_ids: list[str]) -> dict[str, int]:
        """How many of ``delivery_ids`` are in each job state."""
        c = tables.deliveries.c
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(c.state, sa.func.count()).where(c.id.in_(delivery_ids)).group_by(c.state)
            ).all()
        return {str(state): int(count) for state, count in rows}

    def all_done(self, delivery_ids: list[str]) -> bool:
        """True once every delivery is done; :class:`ClusterError` if one failed for good."""
        states = self.states(delivery_ids)
        if states.get(tables.FAILED):
            raise ClusterError("deliveries failed:\n" + self.failures(delivery_ids))
        return states.get(tables.DONE, 0) == len(set(delivery_ids))

    def failures(self, delivery_ids: list[str]) -> str:
        c = tables.deliveries.c
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(c.id, c.error).where(c.id.in_(delivery_ids), c.state == tables.FAILED)
            ).all()
        return "\n".join(f"{delivery}: {error}" for delivery, error in rows)

    def retried(self, delivery_ids: list[str]) -> int:
        """How many of ``delivery_ids`` took more than one attempt."""
        c = tables.deliveries.c
        with self.engine.connect() as connection:
            count = connection.execute(
                sa.select(sa.func.count()).where(c.id.in_(delivery_ids), c.attempts > 1)
            ).scalar_one()
        return int(count)

    def stored_count(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    sa.select(sa.func.count()).select_from(tables.deliveries)
                ).scalar_one()
            )

    def leases_over(self) -> dt.datetime:
        """When every delivery lease and pull-request lock held now has lapsed."""
        with self.engine.connect() as connection:
            times = [
                *connection.execute(sa.select(tables.deliveries.c.lease_until)).scalars(),
                *connection.execute(sa.select(tables.pull_locks.c.until)).scalars(),
            ]
        return max((t for t in times if t is not None), default=db.utcnow())


def _with_schema(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` first (libpq's ``options``)."""
    parsed = make_url(url)
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False)
