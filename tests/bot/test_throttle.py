"""GitHub's limits per installation (bot.github.throttle), against the fake GitHub on loopback.

The fake counts what GitHub would refuse: content-creating calls of one installation in
flight at once (``serial_content_creation``), more than a budget per minute, calls made while
GitHub had said to wait. The App must never meet those refusals, whether the calls come from
threads of one process or from several processes sharing the database (SQLite through a file
lock, PostgreSQL through an advisory lock).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from githubkit.exception import RateLimitExceeded
from prometheus_client import REGISTRY
from test_migrations import postgres_schema

from bot.github import api
from bot.github.errors import GraphQLRateLimited
from bot.github.throttle import CampaignDeferred, RateLimited, WriteBudget, is_content_creating
from bot.ops.settings import Settings
from bot.store import campaigns as campaign_store
from bot.store import db
from fake_github import FakeGitHubServer, FakeGitHubState, Repository, make_app_keypair
from fake_github.state import AppKeyPair

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


# --- the budget and what counts as content ---------------------------------------------------


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_a_budget_waits_for_the_oldest_call_of_the_window_to_leave_it() -> None:
    budget = WriteBudget(per_minute=3, per_hour=5)
    assert budget.next_slot([], at(0)) == at(0)
    assert budget.next_slot([at(0), at(10)], at(20)) == at(20)
    # Three in the last minute: the first must leave the minute.
    assert budget.next_slot([at(0), at(10), at(20)], at(30)) == at(60)
    assert budget.next_slot([at(0), at(10), at(20)], at(61)) == at(61)
    # Five in the hour (none in the last minute): the first must leave the hour.
    five = [at(0), at(100), at(200), at(300), at(400)]
    assert budget.next_slot(five, at(1000)) == at(3600)
    # A budget of 0 is no budget.
    assert WriteBudget(0, 0).next_slot([at(0)] * 1000, at(1)) == at(1)


@pytest.mark.parametrize(
    ("method", "path", "body", "creating"),
    [
        ("GET", "/repos/o/r/pulls/1", b"", False),
        ("POST", "/repos/o/r/check-runs", b"{}", True),
        ("PATCH", "/repos/o/r/check-runs/1", b"{}", True),
        ("DELETE", "/repos/o/r/issues/comments/1", b"", True),
        ("POST", "/app/installations/7/access_tokens", b"", False),
        ("POST", "/graphql", b'{"query": "query { viewer { login } }"}', False),
        ("POST", "/graphql", b'{"query": "  mutation { minimizeComment }"}', True),
        ("POST", "/api/graphql", b"not json", True),
    ],
)
def test_what_counts_as_content_creating(
    method: str, path: str, body: bytes, creating: bool
) -> None:
    request = httpx.Request(method, "https://api.github.com" + path, content=body)
    assert is_content_creating(request) is creating


# --- one installation against the fake GitHub ------------------------------------------------


@dataclass
class Setup:
    keys: AppKeyPair
    state: FakeGitHubState
    server: FakeGitHubServer
    repo: Repository
    installation_id: int
    settings: Settings
    engine: sa.Engine

    def client(self) -> api.InstallationClient:
        return api.installation_client(self.settings, self.installation_id, engine=self.engine)

    def create_run(self, gh: api.InstallationClient, name: str) -> None:
        gh.request(
            "POST",
            f"/repos/{self.repo.full_name}/check-runs",
            json={"name": name, "head_sha": self.repo.branches["master"]},
        )

    def calls_of_installation(self) -> list[Any]:
        return [c for c in self.state.calls if c.installation_id == self.installation_id]


@pytest.fixture
def setup(make_settings: Any) -> Iterator[Setup]:
    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation("Codertocat", account_type="User")
    repo = state.create_repo(
        "Codertocat", "Hello-World", files={"README.md": "# Hi\n"}, default_branch="master"
    )
    api.forget_tokens()
    with FakeGitHubServer(state) as server:
        settings = make_settings(
            app_id=keys.app_id, private_key=keys.private_key_pem, github_url=server.url
        )
        engine = db.open_database(settings.database_url)
        try:
            yield Setup(keys, state, server, repo, installation.id, settings, engine)
        finally:
            engine.dispose()


def test_threads_of_one_process_create_content_one_at_a_time(setup: Setup) -> None:
    faults = setup.server.faults
    faults.serial_content_creation = True  # GitHub's rule: the fake refuses overlapping writes
    faults.latency = 0.02

    def work(n: int) -> None:
        gh = setup.client()
        for i in range(5):
            setup.create_run(gh, f"run-{n}-{i}")
            gh.request("GET", f"/repos/{setup.repo.full_name}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))

    assert faults.burst_rejections[setup.installation_id] == 0
    assert faults.peak_concurrent_content_creating[setup.installation_id] == 1
    assert len(setup.state.check_runs_for(setup.repo)) == 20
    # Reads are not serialised: they overlapped the writes of other threads.
    assert len(setup.calls_of_installation()) >= 40


def test_a_told_wait_is_honoured_by_every_client_of_the_installation(setup: Setup) -> None:
    """A 429 with ``retry-after: 30`` to one client: that client's job is postponed (30 s is
    too long to sleep in a job), and another client of the installation, in another job or
    worker, does not call GitHub before the 30 s are over."""
    waits = REGISTRY.get_sample_value("ssot_github_waits_total", {"kind": "retry_after"}) or 0
    setup.server.faults.rate_limit(1, retry_after=30, path="/pulls$")
    first = setup.client()
    with pytest.raises(RateLimitExceeded):
        first.request("GET", f"/repos/{setup.repo.full_name}/pulls")
    calls = len(setup.state.calls)

    with pytest.raises(RateLimited) as raised:
        setup.client().request("GET", f"/repos/{setup.repo.full_name}")
    assert len(setup.state.calls) == calls, "no call while GitHub said to wait"
    after = REGISTRY.get_sample_value("ssot_github_waits_total", {"kind": "retry_after"})
    assert after == waits + 1
    wait = (raised.value.at - db.utcnow()).total_seconds()
    assert 25 < wait <= 31

    # Another installation is not held back.
    other = setup.state.create_installation("octo-org", account_type="Organization")
    gh = api.installation_client(setup.settings, other.id, engine=setup.engine)
    assert gh.request("GET", "/installation/repositories").status_code == 200


def test_a_short_told_wait_is_slept_and_the_call_made_once(setup: Setup) -> None:
    setup.server.faults.secondary_rate_limit(1, retry_after=1, path="/check-runs$")
    gh = setup.client()
    setup.create_run(gh, "after-a-second")
    calls = [c for c in setup.state.calls if c.path.endswith("/check-runs")]
    assert [c.fault for c in calls] == ["secondary", None]
    assert calls[1].started_at - calls[0].started_at >= 1.0
    assert len(setup.state.check_runs_for(setup.repo)) == 1


def test_a_graphql_rate_limit_holds_every_client_of_the_installation_a_minute(
    setup: Setup,
) -> None:
    setup.server.faults.graphql_rate_limit(1)
    with pytest.raises(GraphQLRateLimited):
        api.graphql(setup.client(), "query { viewer { login } }")
    calls = len(setup.state.calls)
    with pytest.raises(RateLimited) as raised:
        setup.client().request("GET", f"/repos/{setup.repo.full_name}")
    assert len(setup.state.calls) == calls
    assert 55 < (raised.value.at - db.utcnow()).total_seconds() <= 60


def test_the_last_call_of_the_hour_stops_the_next_one_before_github_refuses_it(
    setup: Setup,
) -> None:
    setup.server.faults.primary_limit_per_hour = 3
    gh = setup.client()
    for _ in range(2):  # the token exchange is the App's, not the installation's
        gh.request("GET", f"/repos/{setup.repo.full_name}")
    with pytest.raises(RateLimited):
        gh.request("GET", f"/repos/{setup.repo.full_name}")
    refused = [c for c in setup.calls_of_installation() if c.fault == "primary"]
    assert refused == []


def test_the_content_budget_is_kept_and_a_long_wait_postpones(
    setup: Setup, make_settings: Any
) -> None:
    """A budget of 4 writes a minute, the fake refusing a fifth: four calls go, the fifth
    is not sent (the wait, up to a minute, is too long for a job) and says when it may."""
    setup.settings = make_settings(
        app_id=setup.keys.app_id,
        private_key=setup.keys.private_key_pem,
        github_url=setup.server.url,
        github_writes_per_minute=4,
    )
    setup.server.faults.content_creation_limit_per_minute = 4
    gh = setup.client()
    for i in range(4):
        setup.create_run(gh, f"run-{i}")
    first = min(c.started_at for c in setup.calls_of_installation() if c.content_creating)
    with pytest.raises(RateLimited) as raised:
        setup.create_run(setup.client(), "one too many")
    assert setup.server.faults.burst_rejections[setup.installation_id] == 0
    assert len(setup.state.check_runs_for(setup.repo)) == 4
    retry_in = (raised.value.at - db.utcnow()).total_seconds()
    assert 45 < retry_in <= 60, retry_in
    assert first  # the window is the fake's own clock: the first write opened it


def test_campaign_writes_keep_to_their_share_and_leave_the_rest_to_checks(
    setup: Setup, make_settings: Any
) -> None:
    """A budget of 4 writes a minute, half of it for campaigns: a campaign client writes twice,
    then gives way (deferred, nothing sent) while a check client still writes twice more."""
    setup.settings = make_settings(
        app_id=setup.keys.app_id,
        private_key=setup.keys.private_key_pem,
        github_writes_per_minute=4,
        github_url=setup.server.url,
    )
    campaign = api.installation_client(
        setup.settings, setup.installation_id, engine=setup.engine, priority="campaign"
    )
    setup.create_run(campaign, "campaign-1")
    setup.create_run(campaign, "campaign-2")
    with pytest.raises(CampaignDeferred) as deferred:
        setup.create_run(campaign, "campaign-3")
    assert "share of the write budget" in str(deferred.value)
    assert deferred.value.at > db.utcnow()
    check = setup.client()
    setup.create_run(check, "check-1")
    setup.create_run(check, "check-2")
    names = sorted(r.name for r in setup.state.check_runs_for(setup.repo))
    assert names == ["campaign-1", "campaign-2", "check-1", "check-2"]


def test_a_check_waiting_for_budget_holds_campaign_writes_back(
    setup: Setup, make_settings: Any
) -> None:
    setup.settings = make_settings(
        app_id=setup.keys.app_id,
        private_key=setup.keys.private_key_pem,
        github_writes_per_minute=2,
        github_url=setup.server.url,
    )
    check = setup.client()
    setup.create_run(check, "check-1")
    setup.create_run(check, "check-2")
    with pytest.raises(RateLimited):
        setup.create_run(setup.client(), "check-3")  # waits for the budget: says so
    waiting = campaign_store.checks_waiting_until(setup.engine, setup.installation_id)
    assert waiting is not None and waiting > db.utcnow()
    campaign = api.installation_client(
        setup.settings, setup.installation_id, engine=setup.engine, priority="campaign"
    )
    with pytest.raises(CampaignDeferred) as deferred:
        setup.create_run(campaign, "campaign")
    assert "waits for write budget" in str(deferred.value)
    assert deferred.value.at == waiting


def test_a_rate_limit_is_not_retried_in_place_for_a_campaign(setup: Setup) -> None:
    setup.server.faults.rate_limit(1, retry_after=1, path=r"/check-runs$", method="POST")
    campaign = api.installation_client(
        setup.settings, setup.installation_id, engine=setup.engine, priority="campaign"
    )
    with pytest.raises(RateLimitExceeded):
        setup.create_run(campaign, "campaign")
    assert setup.state.check_runs_for(setup.repo) == []
    setup.create_run(setup.client(), "check")  # a check waits GitHub's second and goes on
    assert [r.name for r in setup.state.check_runs_for(setup.repo)] == ["check"]


# --- several processes ----------------------------------------------------------------------

WRITER = """
import sys
from bot.github import api
from bot.ops.settings import Settings
from bot.store import db

settings = Settings(_env_file=None)
engine = db.create_engine(settings.database_url)
installation, repo, sha, tag = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
gh = api.installation_client(settings, installation, engine=engine)
for i in range(6):
    gh.request("POST", f"/repos/{repo}/check-runs", json={"name": f"{tag}-{i}", "head_sha": sha})
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared' / 'ssot.db'}"
    else:
        yield from postgres_schema()


def test_processes_sharing_the_database_create_content_one_at_a_time(
    setup: Setup, database_url: str
) -> None:
    """Three worker processes write for one installation at once: the fake, refusing any
    overlap, never has to, because the processes take the database's lock in turn."""
    faults = setup.server.faults
    faults.serial_content_creation = True
    faults.latency = 0.02
    db.open_database(database_url).dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSOT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SSOT_APP_ID=str(setup.keys.app_id),
        SSOT_PRIVATE_KEY=setup.keys.private_key_pem.replace("\n", "\\n"),
        SSOT_GITHUB_URL=setup.server.url.rstrip("/"),
        SSOT_DATABASE_URL=database_url,
        SSOT_WEBHOOK_SECRET="unused",
    )
    target = [str(setup.installation_id), setup.repo.full_name, setup.repo.branches["master"]]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, *target, f"p{n}"],
            env=env,
            stderr=subprocess.PIPE,
        )
        for n in range(3)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err.decode()[-3000:]

    assert faults.burst_rejections[setup.installation_id] == 0
    assert faults.peak_concurrent_content_creating[setup.installation_id] == 1
    assert len(setup.state.check_runs_for(setup.repo)) == 18
