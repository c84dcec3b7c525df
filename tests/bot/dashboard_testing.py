"""The dashboard's test world: the fake GitHub with two organisations and four people, the
App's settings for it, and history written through bot.store.history's own functions.

Who reads what (explicit permissions in the fake):

=============  ===========  ===========  ==============  ==============
repository     alice        bob          carol           history
=============  ===========  ===========  ==============  ==============
acme/api       write        -            -               20 weeks, a rename
acme/web       read         admin        -               none
acme/secret    -            none         -               yes (must never show)
umbrella/lab   -            read         -               3 weeks
=============  ===========  ===========  ==============  ==============
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy.engine import Engine

from analyzers import trend
from bot.ops.settings import Settings
from bot.store import campaigns, history
from bot.store.history import Breakdown, HistorySample, PullDecision
from fake_github import FakeGitHubState, Installation, make_app_keypair

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright's own download is not used
ROOT = Path(__file__).resolve().parents[2]
SECRET_CONCEPT = "top-secret-concept"


@dataclass
class World:
    state: FakeGitHubState
    acme: Installation
    umbrella: Installation


def make_world() -> World:
    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys)
    acme = state.create_installation("acme")
    umbrella = state.create_installation("umbrella")
    for name in ("api", "web", "secret"):
        state.create_repo("acme", name, private=True)
    state.create_repo("umbrella", "lab", private=True)
    state.set_permission("acme/api", "alice", "write")
    state.set_permission("acme/web", "alice", "read")
    state.set_permission("acme/web", "bob", "admin")
    state.set_permission("acme/secret", "bob", "none")
    state.set_permission("umbrella/lab", "bob", "read")
    state.user("carol")
    return World(state, acme, umbrella)


def app_settings(
    state: FakeGitHubState, github_url: str, data_dir: Path, **overrides: Any
) -> Settings:
    """A configured App whose GitHub (API and web) is the fake at ``github_url``."""
    values: dict[str, Any] = {
        "app_id": state.app_id,
        "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
        "webhook_secret": "dashboard test secret",
        "client_id": state.client_id,
        "client_secret": state.client_secret,
        "github_url": github_url,
        "github_web_url": github_url,
        "data_dir": data_dir,
        "database_url": f"sqlite:///{data_dir / 'ssot.db'}",
        "public_url": "http://testserver",  # TestClient's; the browser tests give theirs
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def sample(
    installation_id: int,
    repo: str,
    days_ago: float,
    totals: tuple[history.Total, ...],
    breakdown: dict[str, Breakdown] | None = None,
) -> HistorySample:
    at = NOW - dt.timedelta(days=days_ago)
    return HistorySample(
        installation_id=installation_id,
        repo=repo,
        commit_sha=hashlib.sha1(f"{repo}:{days_ago}".encode()).hexdigest(),
        committed_at=at,
        policy_key="policy-1",
        series=trend.series_key(totals),
        totals=totals,
        source="push",
        recorded_at=at,
        files=1200,
        breakdown=breakdown or {},
    )


def record_history(engine: Engine, world: World) -> None:
    """acme/api: 20 weekly samples, "ws-manager" renamed "websocket-manager" 8 weeks ago, a
    consolidation pull request merged 3 weeks ago; umbrella/lab: three; acme/secret: one;
    decisions on acme/api and acme/secret."""
    acme, umbrella = world.acme.id, world.umbrella.id
    for week in range(20):
        days_ago = 7 * (19 - week)
        name = "ws-manager" if week < 12 else "websocket-manager"
        implementations = 1058 - 9 * week
        totals: tuple[history.Total, ...] = (
            (name, "SSOT001", 674 - 12 * week, 0),
            (name, "SSOT002", implementations, 1),
            ("golden-path", "SSOT003", 40 - week, 0),
        )
        breakdown = {
            name: Breakdown(
                directories=(
                    ("netra_backend/app/websocket_core", implementations // 2),
                    ("netra_backend/app/agents", implementations // 4),
                    ("tests/<unit>", 5),
                ),
                owners=(("@acme/platform", implementations // 2), ("@acme/agents", 200)),
            )
        }
        history.record_sample(engine, sample(acme, "acme/api", days_ago, totals, breakdown))
    merged_at = NOW - dt.timedelta(days=21)
    campaigns.save_batch(
        engine,
        campaigns.CampaignBatch(
            installation_id=acme,
            repo="acme/api",
            batch_id="websocket-manager/netra_backend-app-1",
            concept="websocket-manager",
            group="netra_backend/app",
            part=1,
            branch="ssot/consolidate/websocket-manager/netra_backend-app-1",
            state="merged",
            files=("netra_backend/app/agents/notifier.py",),
            fixes=12,
            updated_at=merged_at,
            pr=47,
            opened_at=merged_at - dt.timedelta(days=2),
            closed_at=merged_at,
        ),
    )
    for days_ago, count in ((14, 30), (7, 31), (0, 33)):
        history.record_sample(
            engine,
            sample(umbrella, "umbrella/lab", days_ago, (("event-bus", "SSOT002", count, 1),)),
        )
    history.record_sample(
        engine, sample(acme, "acme/secret", 1, ((SECRET_CONCEPT, "SSOT002", 99, 1),))
    )
    decisions = [
        ("acme/api", 41, "blocked", "dave", "adds 2 deprecated imports of ws-manager", 2),
        ("acme/api", 44, "accepted", "alice", "vendored client, replaced next sprint", 1),
        ("acme/secret", 7, "blocked", "mallory", "secret decision", 1),
    ]
    for repo, pr, outcome, user, reason, days_ago in decisions:
        history.record_decision(
            engine,
            PullDecision(
                installation_id=acme,
                repo=repo,
                pr=pr,
                head_sha=f"{pr:040d}",
                outcome=outcome,  # type: ignore[arg-type]
                user=user,
                reason=reason,
                url=f"https://github.com/{repo}/pull/{pr}",
                at=NOW - dt.timedelta(days=days_ago),
            ),
        )


def screenshots_dir() -> Path:
    """Where the browser tests keep their screenshots (kept after the run, git-ignored)."""
    base = Path(os.environ.get("TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder = base / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def serve(make_app: Callable[[str], Any]) -> Iterator[tuple[Any, str]]:
    """``make_app(url)``'s ASGI app served by uvicorn on 127.0.0.1 (a free port, known before
    the app is made: its settings name it) in a thread; the app and its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = make_app(f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10.0
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the App did not start on 127.0.0.1")
            time.sleep(0.005)
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
