"""The sweeper against the fake GitHub: failed deliveries re-requested once, unchecked open
pull requests checked, and both scheduled on the consumer."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bot_testing import payload
from githubkit.exception import RequestFailed
from sqlalchemy.engine import Engine

from bot.checks.render import CHECK_NAME
from bot.github.api import forget_tokens
from bot.jobs import sweeper
from bot.jobs.queue import JobQueue
from bot.ops.settings import Settings
from bot.store import db, installations
from bot.store import deliveries as delivery_store
from bot.work import JobContext
from fake_github import (
    FakeGitHubServer,
    FakeGitHubState,
    Installation,
    PullRequest,
    Repository,
    make_app_keypair,
)

ROOT = Path(__file__).resolve().parents[2]
POLICY = (ROOT / "examples" / "websocket-ssot.toml").read_text(encoding="utf-8")
OWNER, NAME = "Codertocat", "Hello-World"
LEGACY = "netra_backend.app.websocket_core.unified_manager"
BAD = f"from {LEGACY} import UnifiedWebSocketManager\n"
CLEAN = "def handler(user):\n    return user\n"


@dataclass
class World:
    state: FakeGitHubState
    server: FakeGitHubServer
    installation: Installation
    repo: Repository
    settings: Settings
    engine: Engine

    @property
    def context(self) -> JobContext:
        return JobContext(settings=self.settings, engine=self.engine)

    def open_pr(self, files: dict[str, str | bytes | None], branch: str) -> PullRequest:
        self.state.commit(self.repo, branch, files, "Change")
        return self.state.open_pull_request(self.repo, branch, "master")

    def runs(self, sha: str) -> list[Any]:
        return self.state.check_runs_for(self.repo, head_sha=sha, name=CHECK_NAME)


@pytest.fixture
def world(make_settings: Any) -> Iterator[World]:
    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation(OWNER, account_type="User")
    repo = state.create_repo(
        OWNER,
        NAME,
        files={".github/ssot.toml": POLICY, "app/views.py": CLEAN, "README.md": "# Hi\n"},
        default_branch="master",
        owner_type=state.user(OWNER).type,
    )
    forget_tokens()
    with FakeGitHubServer(state) as server:
        settings = make_settings(
            app_id=keys.app_id, private_key=keys.private_key_pem, github_url=server.url
        )
        engine = db.open_database(settings.database_url)
        installations.save_installation(
            engine,
            installation.id,
            account=OWNER,
            repository_selection="all",
            repositories=[repo.full_name],
            suspended_at=None,
            now=db.utcnow(),
        )
        yield World(state, server, installation, repo, settings, engine)
        engine.dispose()


def store_delivery(engine: Engine, guid: str) -> None:
    assert delivery_store.insert_delivery(
        engine,
        delivery_store.NewDelivery(
            guid, "pull_request", "opened", 1, "o/r", json.dumps({}).encode()
        ),
        now=db.utcnow(),
        requeue_at=None,
    )


# --- redelivering failed deliveries ----------------------------------------------------------


def test_a_failed_delivery_we_never_stored_is_re_requested_once_and_only_once(
    world: World,
) -> None:
    state = world.state
    body = payload("pull_request/opened")
    lost = state.add_delivery(
        "pull_request", "opened", status_code=502, installation=world.installation, payload=body
    )
    timed_out = state.add_delivery("push", None, status_code=0, installation=world.installation)
    state.redeliver = lambda delivery: 500  # the redelivery fails as well

    first = sweeper.redeliver_failed(world.settings, world.engine)
    assert sorted(first) == sorted([lost.guid, timed_out.guid])
    assert sorted(state.redelivery_requests) == sorted([lost.id, timed_out.id])
    # GitHub now lists a second failed attempt of each GUID: still not asked again.
    assert len(state.deliveries) == 4
    assert sweeper.redeliver_failed(world.settings, world.engine) == []
    assert sweeper.redeliver_failed(world.settings, world.engine) == []
    assert sorted(state.redelivery_requests) == sorted([lost.id, timed_out.id])


def test_stored_succeeded_and_old_deliveries_are_not_re_requested(world: World) -> None:
    state = world.state
    stored = state.add_delivery("pull_request", "opened", status_code=500)
    store_delivery(world.engine, stored.guid)  # it reached us; our own retries handle it
    state.add_delivery("pull_request", "opened", status_code=200)  # succeeded
    retried = state.add_delivery("push", None, status_code=503)
    state.add_delivery("push", None, status_code=200, guid=retried.guid)  # a later success
    old = state.add_delivery("push", None, status_code=500)
    old.delivered_at = db.utcnow() - dt.timedelta(days=4)  # GitHub no longer keeps it
    old.id = 1  # the oldest id: listed last (newest first)

    assert sweeper.redeliver_failed(world.settings, world.engine) == []
    assert state.redelivery_requests == []


def test_many_pages_of_deliveries_are_read(world: World) -> None:
    failed = [world.state.add_delivery("push", None, status_code=500) for _ in range(3)]
    for _ in range(150):
        world.state.add_delivery("push", None, status_code=200)
    assert len(sweeper.redeliver_failed(world.settings, world.engine)) == 3
    assert sorted(world.state.redelivery_requests) == sorted(d.id for d in failed)


def test_a_redelivery_request_github_fails_is_made_again_on_the_next_sweep(
    world: World,
) -> None:
    lost = world.state.add_delivery("push", None, status_code=500)
    # 5xx twice: githubkit's one retry in place fails too, and the sweep raises.
    world.server.faults.server_error(2, path=r"/attempts$", method="POST")
    with pytest.raises(RequestFailed):
        sweeper.redeliver_failed(world.settings, world.engine)
    assert sweeper.redeliver_failed(world.settings, world.engine) == [lost.guid]
    assert sweeper.redeliver_failed(world.settings, world.engine) == []
    assert world.state.redelivery_requests == [lost.id]


# --- reconciling open pull requests ------------------------------------------------------------


def test_an_open_pr_without_a_check_run_gets_one_and_a_checked_one_is_left_alone(
    world: World,
) -> None:
    unchecked = world.open_pr({"app/feature.py": BAD}, "feature")
    assert world.runs(unchecked.head_sha) == []

    assert sweeper.reconcile_open_pulls(world.settings, world.context) == [
        (world.repo.full_name, unchecked.number)
    ]
    (run,) = world.runs(unchecked.head_sha)
    assert run.status == "completed" and run.conclusion == "failure"

    # Now it has a completed run: the next sweep leaves it (and every other PR) alone.
    clean = world.open_pr({"app/other.py": CLEAN}, "other")
    assert sweeper.reconcile_open_pulls(world.settings, world.context) == [
        (world.repo.full_name, clean.number)
    ]
    assert sweeper.reconcile_open_pulls(world.settings, world.context) == []
    assert len(world.runs(unchecked.head_sha)) == 1
    assert len(world.runs(clean.head_sha)) == 1


def test_a_closed_pr_and_a_suspended_installation_are_not_checked(world: World) -> None:
    closed = world.open_pr({"app/feature.py": BAD}, "feature")
    world.state.close_pull_request(world.repo, closed)
    assert sweeper.reconcile_open_pulls(world.settings, world.context) == []

    world.open_pr({"app/other.py": BAD}, "other")
    installations.save_installation(
        world.engine,
        world.installation.id,
        account=OWNER,
        repository_selection="all",
        repositories=None,
        suspended_at=db.utcnow(),
        now=db.utcnow(),
    )
    assert sweeper.reconcile_open_pulls(world.settings, world.context) == []


# --- scheduling --------------------------------------------------------------------------------


def test_both_sweeps_are_periodic_tasks_of_the_consumer(settings: Settings) -> None:
    engine = db.open_database(settings.database_url)
    queue = JobQueue(settings, engine, immediate=True)
    names = {task.name for task in queue.huey._registry.periodic_tasks}
    assert {"redeliver_failed", "reconcile_open_pulls"} <= names
    engine.dispose()
