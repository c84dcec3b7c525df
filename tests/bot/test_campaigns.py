"""Consolidation campaigns end to end: the App against the fake GitHub, driven by real webhook
payloads and the periodic sweep. Plan, open, base moves, regenerate, a person pushes, a
person closes one, merge, an emptied batch, the dashboard data, limits, pauses and refusals.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bot_testing import payload, post_webhook, runtime
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bot.campaigns import schedule
from bot.campaigns.run import Ask, run_campaign
from bot.demo.scenario import opened_payload, push_payload, repository_fields
from bot.github.api import forget_tokens
from bot.ops.settings import Settings
from bot.store import campaigns as store
from bot.store import dashboards, db, installations
from bot.store.campaign_section import checkbox, render_section, ticked
from bot.web.app import create_app
from bot.work import JobContext
from fake_github import (
    AppKeyPair,
    FakeGitHubServer,
    FakeGitHubState,
    Installation,
    Issue,
    PullRequest,
    Repository,
    make_app_keypair,
)

SettingsFactory = Callable[..., Settings]
EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "websocket-ssot.toml"
OWNER, NAME = "acme", "mono"
UNIFIED = "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
CANONICAL = (
    "from netra_backend.app.websocket_core.websocket_manager import "
    "WebSocketManager as UnifiedWebSocketManager\n"
)
CAMPAIGN = """
[campaign]
enabled = true
max_files = 2
max_open = 2
max_per_hour = 10
labels = ["ssot", "debt"]
"""


def module(n: int) -> str:
    return UNIFIED + f"\n\ndef use_{n}(m: UnifiedWebSocketManager) -> None:\n    pass\n"


def repo_files(campaign: str = CAMPAIGN) -> dict[str, str]:
    return {
        ".github/ssot.toml": EXAMPLE_POLICY.read_text(encoding="utf-8") + campaign,
        ".github/CODEOWNERS": "* @acme/platform\npkg/b/ @carol\n",
        "pkg/a/one.py": module(1),
        "pkg/a/two.py": module(2),
        "pkg/a/three.py": module(3),
        "pkg/b/four.py": module(4),
        "pkg/b/broken.py": UNIFIED + "def broken(:\n",
    }


@dataclass
class World:
    state: FakeGitHubState
    server: FakeGitHubServer
    installation: Installation
    repo: Repository
    client: TestClient
    dashboard: Issue

    @property
    def engine(self) -> Engine:
        return runtime(self.client).engine

    @property
    def context(self) -> JobContext:
        rt = runtime(self.client)
        return JobContext(settings=rt.settings, engine=rt.engine)

    def sweep(self, *, due: bool = True) -> list[str]:
        """The periodic task, as if its time had come for the repository."""
        if due:
            found = store.get_repo(self.engine, self.installation.id, self.repo.full_name)
            if found is not None:
                store.save_repo(self.engine, found.but(next_check_at=None))
        return schedule.sweep(self.context.settings, self.context)

    def bot_pulls(self) -> list[PullRequest]:
        return sorted(
            (p for p in self.state.pulls.values() if p.user.login == self.state.bot.login),
            key=lambda p: p.number,
        )

    def pull_of(self, batch_id: str) -> PullRequest:
        row = store.get_batch(self.engine, self.installation.id, self.repo.full_name, batch_id)
        assert row is not None and row.pr is not None, batch_id
        return self.state.pull(self.repo, row.pr)

    def batch(self, batch_id: str) -> store.CampaignBatch:
        row = store.get_batch(self.engine, self.installation.id, self.repo.full_name, batch_id)
        assert row is not None
        return row

    def push_main(self, files: dict[str, str | None], author: str = "dave") -> str:
        """A commit on the default branch, and GitHub's push webhook for it."""
        sha = self.state.commit(self.repo, "main", files, "base moves", author=author)
        body = json.loads(push_payload(self.state, self.repo, self.installation.id))
        body["before"] = self.state.commits[sha].parents[0]
        body["created"] = False
        assert post_webhook(self.client, "push", json.dumps(body).encode()).status_code == 202
        return sha

    def deliver_opened(self, pr: PullRequest) -> None:
        body = opened_payload(self.state, pr, self.installation.id)
        assert post_webhook(self.client, "pull_request", body).status_code == 202

    def deliver_closed(self, pr: PullRequest, sender: str, sender_type: str = "User") -> None:
        data = json.loads(opened_payload(self.state, pr, self.installation.id))
        data["action"] = "closed"
        data["pull_request"].update(state="closed", merged=pr.merged)
        data["sender"].update(login=sender, type=sender_type)
        assert (
            post_webhook(self.client, "pull_request", json.dumps(data).encode()).status_code == 202
        )

    def comment_on_issue(self, number: int, body: str, user: str = "bob") -> None:
        comment = self.state.add_issue_comment(self.repo, number, body, user=user)
        data = payload("issue_comment/created.with-installation")
        data["repository"] = repository_fields(data["repository"], self.repo)
        data["installation"] = dict(data.get("installation") or {}, id=self.installation.id)
        data["issue"]["number"] = number
        data["issue"].pop("pull_request", None)
        data["comment"].update(id=comment.id, node_id=comment.node_id, body=body)
        data["comment"]["user"].update(login=user, id=comment.user.id, type="User")
        data["sender"].update(login=user, id=comment.user.id, type="User")
        response = post_webhook(self.client, "issue_comment", json.dumps(data).encode())
        assert response.status_code == 202

    def edit_dashboard(self, new_body: str, user: str = "bob") -> None:
        """A person edits the dashboard issue (ticks a box): GitHub's issues.edited."""
        old = self.dashboard.body
        self.dashboard.body = new_body
        data = payload("issue_comment/created.with-installation")
        event = {
            "action": "edited",
            "issue": dict(data["issue"], number=self.dashboard.number, body=new_body),
            "changes": {"body": {"from": old}},
            "repository": repository_fields(data["repository"], self.repo),
            "installation": dict(data.get("installation") or {}, id=self.installation.id),
            "sender": dict(data["sender"], login=user, type="User"),
        }
        event["issue"].pop("pull_request", None)
        assert post_webhook(self.client, "issues", json.dumps(event).encode()).status_code == 202

    def keep_dashboard_issue(self) -> None:
        """The App knows the open issue as the repository's dashboard issue (opted in)."""
        dashboards.set_issue_number(
            self.engine,
            self.installation.id,
            self.repo.full_name,
            self.dashboard.number,
            now=db.utcnow(),
        )

    def replies_on(self, number: int) -> list[str]:
        return [
            c.body
            for c in sorted(self.state.issue_comments_for(self.repo, number), key=lambda c: c.id)
            if c.user.login == self.state.bot.login
        ]


@pytest.fixture(scope="module")
def keys() -> AppKeyPair:
    return make_app_keypair()


def make_world(
    keys: AppKeyPair,
    make_settings: SettingsFactory,
    files: dict[str, str],
    permissions: dict[str, str] | None = None,
    **settings: Any,
) -> Iterator[World]:
    forget_tokens()
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation(OWNER, permissions=permissions)
    repo = state.create_repo(OWNER, NAME, files=files, author="alice")
    for user in ("bob", "carol", "dave"):
        state.set_permission(repo, user, "write")
    state.add_team(OWNER, "platform", ["alice"])
    dashboard = state.open_issue(repo, "SSOT dashboard", "", user=state.bot.login)
    with FakeGitHubServer(state) as server:
        config = make_settings(
            app_id=keys.app_id,
            private_key=keys.private_key_pem,
            github_url=server.url,
            job_max_attempts=1,
            **{"github_writes_per_minute": 1000, **settings},
        )
        with TestClient(create_app(config, immediate_jobs=True)) as client:
            installations.save_installation(
                runtime(client).engine,
                installation.id,
                account=OWNER,
                repository_selection="all",
                repositories=[repo.full_name],
                suspended_at=None,
                now=db.utcnow(),
            )
            yield World(state, server, installation, repo, client, dashboard)


@pytest.fixture
def world(keys: AppKeyPair, make_settings: SettingsFactory) -> Iterator[World]:
    yield from make_world(keys, make_settings, repo_files())


def text_at(world: World, sha: str, path: str) -> str:
    blob = world.state.commits[sha].files[path]
    return world.state.blobs[blob].decode()


# --- the whole campaign ---------------------------------------------------------------------


def test_a_whole_campaign_plan_open_regenerate_close_merge_and_dashboard(world: World) -> None:
    repo = world.repo.full_name
    inst = world.installation.id
    main_before = world.state.repo(world.repo).branches["main"]

    # The schedule's first run: three batches planned, two opened (max_open = 2).
    assert world.sweep() == [repo]
    rows = {b.batch_id: b for b in store.batches(world.engine, inst, repo)}
    assert {k: v.state for k, v in rows.items()} == {
        "websocket-manager/pkg-a-1": "open",
        "websocket-manager/pkg-a-2": "open",
        "websocket-manager/pkg-b-1": "proposed",
    }
    first, second = world.bot_pulls()
    assert first.head_ref == "ssot/consolidate/websocket-manager/pkg-a-1"
    assert (first.base_ref, first.draft, first.labels) == ("main", False, ["ssot", "debt"])
    assert first.requested_teams == ["platform"]  # CODEOWNERS: * @acme/platform
    head = world.state.commits[first.head_sha]
    assert head.parents == (main_before,)
    assert sorted(
        path
        for path in head.files
        if head.files[path] != world.state.commits[main_before].files.get(path)
    ) == [
        "pkg/a/one.py",
        "pkg/a/three.py",
    ]
    for path in ("pkg/a/one.py", "pkg/a/three.py"):
        fixed = text_at(world, first.head_sha, path)
        ast.parse(fixed)
        assert fixed.startswith(CANONICAL)
    assert first.body is not None
    assert "`pkg/a/one.py`: 1 fix" in first.body and "**SSOT001**" in first.body
    assert "`websocket-manager` SSOT001 -2" in first.body
    # pkg/b/broken.py is named in the batch of its group, still proposed.
    assert rows["websocket-manager/pkg-b-1"].left_out == (
        ("pkg/b/broken.py", "the file does not parse (line 2: invalid syntax)"),
    )

    # The check pipeline runs on the new pull request: a pure-fix PR reads "2 fixed, 0 new".
    world.deliver_opened(first)
    [run] = world.state.check_runs_for(world.repo, first.head_sha)
    assert (run.conclusion, run.output.title) == ("success", "2 fixed, 0 new")
    assert world.batch("websocket-manager/pkg-a-1").check_state == "success"

    # The base changes a file of the first batch: its branch is regenerated on the new base.
    new_main = world.push_main({"pkg/a/one.py": module(1) + "\nEXTRA = 1\n"})
    first = world.state.pull(world.repo, first.number)
    regenerated = world.state.commits[first.head_sha]
    assert regenerated.parents == (new_main,)
    assert text_at(world, first.head_sha, "pkg/a/one.py") == (
        CANONICAL + module(1)[len(UNIFIED) :] + "\nEXTRA = 1\n"
    )
    assert world.batch("websocket-manager/pkg-a-1").head_sha == first.head_sha
    second_head = world.state.pull(world.repo, second.number).head_sha
    assert world.state.commits[second_head].parents == (main_before,), "its files did not change"

    # A person pushes to the second batch's branch; the base then changes its file: the App
    # only says so, once.
    world.state.commit(world.repo, second.head_ref, {"notes.txt": "mine\n"}, "mine", author="dave")
    world.push_main({"pkg/a/two.py": module(2) + "\nMORE = 2\n"})
    world.push_main({"pkg/a/two.py": module(2) + "\nMORE = 3\n"})
    human = [b for b in world.replies_on(second.number) if "Someone pushed" in b]
    assert len(human) == 1
    assert world.state.pull(world.repo, second.number).head_sha != second_head  # theirs, kept
    assert world.batch("websocket-manager/pkg-a-2").human_push_noted

    # A person closes the first batch: never reopened nor proposed again.
    world.state.close_pull_request(world.repo, first, by="bob")
    world.deliver_closed(first, "bob")
    assert world.batch("websocket-manager/pkg-a-1").state == "closed"
    world.sweep()
    assert world.state.pull(world.repo, first.number).state == "closed"
    assert world.batch("websocket-manager/pkg-a-1").state == "closed"
    # Its room went to the third batch.
    third = world.pull_of("websocket-manager/pkg-b-1")
    assert third.state == "open" and third.requested_reviewers == ["carol"]
    assert third.body is not None and "`pkg/b/broken.py`: the file does not parse" in third.body
    assert {
        p for b in store.batches(world.engine, inst, repo) for p in b.files if b.state != "closed"
    } == {
        "pkg/a/two.py",
        "pkg/b/four.py",
    }

    # The second batch is merged.
    world.state.close_pull_request(world.repo, second, merged=True, by="carol")
    world.deliver_closed(world.state.pull(world.repo, second.number), "carol")
    assert world.batch("websocket-manager/pkg-a-2").state == "merged"

    # The dashboard's data: open, merged and closed batch PRs with their check state.
    view = store.dashboard(world.engine, inst, repo)
    assert [b.batch_id for b in view.open] == ["websocket-manager/pkg-b-1"]
    assert [b.batch_id for b in view.merged] == ["websocket-manager/pkg-a-2"]
    assert [b.batch_id for b in view.closed] == ["websocket-manager/pkg-a-1"]
    assert view.fixed_by_merged == 1 and len(view.merged_effect()) == 1
    section = render_section(view)
    assert f"- #{third.number} `websocket-manager/pkg-b-1`: 1 fix in 1 file" in section
    assert "**Merged** (1 finding removed)" in section
    assert f"- #{first.number} `websocket-manager/pkg-a-1`: closed without merging" in section

    # Asked again (/ssot consolidate on the dashboard issue): the closed batch comes back.
    world.comment_on_issue(world.dashboard.number, "/ssot consolidate pkg/a")
    again = world.pull_of("websocket-manager/pkg-a-1")
    assert again.number != first.number and again.state == "open"
    [reply] = [r for r in world.replies_on(world.dashboard.number) if "Opened" in r]
    assert f"#{again.number} (`websocket-manager/pkg-a-1`)" in reply

    # The base fixes the third batch's file itself: the batch is empty, closed by the App.
    world.push_main({"pkg/b/four.py": CANONICAL + "\n"})
    closed = world.state.pull(world.repo, third.number)
    assert closed.state == "closed" and closed.closed_by == world.state.bot.login
    assert any("Nothing is left" in b for b in world.replies_on(third.number))
    assert third.head_ref not in world.state.repo(world.repo).branches
    assert world.batch("websocket-manager/pkg-b-1").state == "empty"
    # GitHub's webhook for the App's own close changes nothing.
    world.deliver_closed(closed, world.state.bot.login, "Bot")
    assert world.batch("websocket-manager/pkg-b-1").state == "empty"


def test_a_batch_a_person_pushed_to_is_theirs_even_when_the_base_empties_it(world: World) -> None:
    # Once the App has told a person the branch is theirs, it never closes it either; the
    # dashboard shows the check of their head.
    world.sweep()
    row = world.batch("websocket-manager/pkg-a-2")
    pull = world.pull_of(row.batch_id)
    world.state.commit(world.repo, pull.head_ref, {"notes.txt": "mine\n"}, "mine", author="dave")
    # The check of their head is the batch's check state on the dashboard.
    world.deliver_opened(world.state.pull(world.repo, pull.number))
    assert world.batch(row.batch_id).check_state == "success"
    main = world.state.repo(world.repo).branches["main"]
    world.push_main(
        {path: text_at(world, main, path).replace(UNIFIED, CANONICAL) for path in row.files}
    )
    assert world.state.pull(world.repo, pull.number).state == "open"
    replies = world.replies_on(pull.number)
    assert sum("Someone pushed" in r for r in replies) == 1
    assert not any("Nothing is left" in r for r in replies)
    assert world.batch(row.batch_id).state == "open"


def test_a_ticked_checkbox_on_the_dashboard_opens_that_batch(
    keys: AppKeyPair, make_settings: SettingsFactory
) -> None:
    campaign = CAMPAIGN.replace("max_open = 2", "max_open = 5").replace(
        "enabled = true", 'enabled = true\nschedule = "off"'
    )
    for world in make_world(keys, make_settings, repo_files(campaign)):
        outcome = run_campaign(
            world.context, world.installation.id, world.repo.full_name, reason="sweep"
        )
        assert outcome.opened == [] and world.bot_pulls() == []  # "off": only when asked
        proposed = store.dashboard(
            world.engine, world.installation.id, world.repo.full_name
        ).proposed
        body = "\n".join(checkbox(b.batch_id, b.batch_id) for b in proposed)
        world.dashboard.body = body
        world.edit_dashboard(
            body.replace(
                "- [ ] <!-- ssot:batch=websocket-manager/pkg-b-1",
                "- [x] <!-- ssot:batch=websocket-manager/pkg-b-1",
            )
        )
        [pr] = world.bot_pulls()
        assert pr.head_ref == "ssot/consolidate/websocket-manager/pkg-b-1"
        # Someone without write access ticks another: nothing happens.
        world.state.set_permission(world.repo, "eve", "read")
        world.edit_dashboard(world.dashboard.body.replace("- [ ]", "- [x]", 1), user="eve")
        assert len(world.bot_pulls()) == 1


def test_max_per_hour_holds_and_the_round_goes_on_later(
    keys: AppKeyPair, make_settings: SettingsFactory
) -> None:
    campaign = CAMPAIGN.replace("max_open = 2", "max_open = 5").replace(
        "max_per_hour = 10", "max_per_hour = 1"
    )
    for world in make_world(keys, make_settings, repo_files(campaign)):
        world.sweep()
        assert len(world.bot_pulls()) == 1
        world.sweep()
        assert len(world.bot_pulls()) == 1, "one an hour"
        state = store.get_repo(world.engine, world.installation.id, world.repo.full_name)
        assert state is not None and state.round_open
        # An hour later the round goes on, without waiting for the next weekly run.
        for row in store.batches(
            world.engine, world.installation.id, world.repo.full_name, ["open"]
        ):
            store.save_batch(world.engine, row.but(opened_at=row.opened_at - dt.timedelta(hours=2)))  # type: ignore[operator]
        world.sweep()
        assert len(world.bot_pulls()) == 2


def test_the_apps_settings_cap_what_a_policys_campaign_may_ask(
    keys: AppKeyPair, make_settings: SettingsFactory
) -> None:
    # A writer of one repository asks for many large batches at once; the operator's caps
    # hold: one pull request of at most one file.
    campaign = (
        CAMPAIGN.replace("max_open = 2", "max_open = 500")
        .replace("max_per_hour = 10", "max_per_hour = 500")
        .replace("max_files = 2", "max_files = 10000")
    )
    for world in make_world(
        keys,
        make_settings,
        repo_files(campaign),
        campaign_max_open=1,
        campaign_max_files=1,
        campaign_max_per_hour=5,
    ):
        world.sweep()
        (pull,) = world.bot_pulls()
        head = world.state.repo(world.repo).branches[pull.head_ref]
        changed = [
            path
            for path, blob in world.state.commits[head].files.items()
            if world.state.commits[world.state.repo(world.repo).branches["main"]].files.get(path)
            != blob
        ]
        assert len(changed) == 1


def test_a_branch_protection_that_refuses_the_push_stops_the_campaign_with_one_message(
    keys: AppKeyPair, make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    for world in make_world(keys, make_settings, repo_files()):
        world.state.deny_push(world.repo, "ssot/*", 422)
        with caplog.at_level("WARNING"):
            world.sweep()
            world.sweep()
        refusals = [r for r in caplog.records if "GitHub refused the push" in r.getMessage()]
        assert len(refusals) == 1
        creates = world.state.calls_matching(method="POST", path="/git/refs")
        assert len(creates) == 1, "no retry loop"
        state = store.get_repo(world.engine, world.installation.id, world.repo.full_name)
        assert state is not None and state.blocked is not None
        assert "Repository rule violations found" in state.blocked
        # Asked on the dashboard issue: each ask is tried once and answered, no loop.
        world.comment_on_issue(world.dashboard.number, "/ssot consolidate")
        world.comment_on_issue(world.dashboard.number, "/ssot consolidate")
        said = world.replies_on(world.dashboard.number)
        assert len(said) == 2
        assert all("refused the push of ssot/consolidate/" in b and "422" in b for b in said)
        assert len(world.state.calls_matching(method="POST", path="/git/refs")) == 3
        assert world.bot_pulls() == []


def test_a_run_that_only_proposes_batches_asks_the_dashboard_issue_to_list_them(
    keys: AppKeyPair, make_settings: SettingsFactory
) -> None:
    # schedule = "off": the sweep plans and proposes, opens nothing; the new checkboxes must
    # reach the dashboard issue without waiting for another push.
    campaign = CAMPAIGN + 'schedule = "off"\n'
    for world in make_world(keys, make_settings, repo_files(campaign)):
        world.keep_dashboard_issue()
        later = db.utcnow() + dt.timedelta(days=1)  # past any debounce
        assert dashboards.due_updates(world.engine, now=later) == []
        world.sweep()
        assert world.bot_pulls() == []
        proposed = store.batches(
            world.engine, world.installation.id, world.repo.full_name, ["proposed"]
        )
        assert proposed
        due = dashboards.due_updates(world.engine, now=later)
        assert due == [(world.installation.id, world.repo.full_name)]


def test_a_refused_push_found_by_the_schedule_is_said_once_on_the_dashboard_issue(
    keys: AppKeyPair, make_settings: SettingsFactory
) -> None:
    """No one asked: the scheduled run finds the refusal and says it on the repository's
    dashboard issue (the one the App keeps), once, however many sweeps follow."""
    for world in make_world(keys, make_settings, repo_files()):
        world.keep_dashboard_issue()
        world.state.deny_push(world.repo, "ssot/*", 422)
        world.sweep()
        world.sweep()
        [said] = world.replies_on(world.dashboard.number)
        assert "could not push its consolidation branch" in said
        assert len(world.state.calls_matching(method="POST", path="/git/refs")) == 1


def test_a_refused_push_from_a_ticked_box_is_said_once_on_the_dashboard_issue(
    keys: AppKeyPair, make_settings: SettingsFactory
) -> None:
    for world in make_world(keys, make_settings, repo_files()):
        world.state.deny_push(world.repo, "ssot/*", 403)
        for _ in range(2):
            outcome = run_campaign(
                world.context,
                world.installation.id,
                world.repo.full_name,
                reason="checkbox",
                ask=Ask(batch_ids=("websocket-manager/pkg-a-1",)),
                dashboard_issue=world.dashboard.number,
            )
            assert outcome.stopped is not None and "403" in outcome.stopped
        [said] = world.replies_on(world.dashboard.number)
        assert "could not push its consolidation branch" in said
        assert "Resource not accessible by integration" in said


def test_without_contents_write_the_push_is_refused_403_and_said_once(
    keys: AppKeyPair, make_settings: SettingsFactory
) -> None:
    granted = {
        "checks": "write",
        "pull_requests": "write",
        "issues": "write",
        "contents": "read",
        "metadata": "read",
    }
    for world in make_world(keys, make_settings, repo_files(), permissions=granted):
        world.comment_on_issue(world.dashboard.number, "/ssot consolidate")
        [said] = world.replies_on(world.dashboard.number)
        assert "403 Resource not accessible by integration" in said
        assert world.bot_pulls() == []


def test_a_rate_limit_on_a_campaign_write_pauses_the_campaign_not_the_checks(
    keys: AppKeyPair, make_settings: SettingsFactory
) -> None:
    for world in make_world(keys, make_settings, repo_files()):
        world.server.faults.secondary_rate_limit(
            1, retry_after=1, path=r"/git/blobs$", method="POST"
        )
        outcome = run_campaign(
            world.context, world.installation.id, world.repo.full_name, reason="sweep"
        )
        assert outcome.stopped is not None and outcome.stopped.startswith("paused until")
        state = store.get_repo(world.engine, world.installation.id, world.repo.full_name)
        assert state is not None and state.paused_until is not None
        assert state.paused_until >= db.utcnow() + dt.timedelta(minutes=14)
        assert world.sweep(due=True) == [], "a paused campaign is skipped"
        # A pull request's check still runs (after GitHub's one-second wait).
        world.state.commit(world.repo, "feature", {"pkg/c.py": UNIFIED}, "c", author="bob")
        pr = world.state.open_pull_request(world.repo, "feature", user="bob")
        world.deliver_opened(pr)
        [run] = world.state.check_runs_for(world.repo, pr.head_sha)
        assert run.conclusion == "failure"


def test_campaign_writes_give_way_to_checks_waiting_for_the_write_budget(
    keys: AppKeyPair, make_settings: SettingsFactory
) -> None:
    for world in make_world(keys, make_settings, repo_files()):
        store.note_checks_waiting(
            world.engine, world.installation.id, db.utcnow() + dt.timedelta(minutes=2)
        )
        outcome = run_campaign(
            world.context, world.installation.id, world.repo.full_name, reason="sweep"
        )
        assert outcome.stopped is not None and "waits for write budget" in outcome.stopped
        assert world.state.calls_matching(method="POST", path="/git/") == []
        assert world.bot_pulls() == []


def test_a_disabled_campaign_opens_nothing_and_says_why(
    keys: AppKeyPair, make_settings: SettingsFactory
) -> None:
    for world in make_world(
        keys, make_settings, repo_files(CAMPAIGN.replace("enabled = true", "enabled = false"))
    ):
        world.comment_on_issue(world.dashboard.number, "/ssot consolidate")
        [said] = world.replies_on(world.dashboard.number)
        assert "[campaign] is not enabled in the policy" in said
        assert world.bot_pulls() == []


def test_consolidate_needs_write_access(world: World) -> None:
    world.state.set_permission(world.repo, "eve", "read")
    world.comment_on_issue(world.dashboard.number, "/ssot consolidate", user="eve")
    [said] = world.replies_on(world.dashboard.number)
    assert "only collaborators with write" in said
    assert world.bot_pulls() == []


# --- pure parts -------------------------------------------------------------------------------


def test_checkbox_syntax_and_what_an_edit_ticked() -> None:
    line = checkbox("c/pkg-a-1", "`c/pkg-a-1`: 2 fixes")
    assert line == "- [ ] <!-- ssot:batch=c/pkg-a-1 --> `c/pkg-a-1`: 2 fixes"
    before = "\n".join([line, checkbox("c/pkg-b-1", "b", checked=True)])
    after = before.replace("- [ ] <!-- ssot:batch=c/pkg-a-1", "- [x] <!-- ssot:batch=c/pkg-a-1")
    assert ticked(before, after) == ["c/pkg-a-1"]
    assert ticked(after, before) == []
    assert ticked(None, "* [X] <!-- ssot:batch=c/x-2 --> y") == ["c/x-2"]


def test_dashboard_section_says_a_refused_push_and_lists_nothing_yet() -> None:
    view = store.Dashboard(blocked="422 Protected branch update failed")
    text = render_section(view)
    assert "GitHub refused the App's push: 422 Protected branch update failed" in text
    assert "_No batch yet._" in text


def test_batch_rows_round_trip(world: World) -> None:
    now = db.utcnow()
    row = store.CampaignBatch(
        world.installation.id,
        "acme/x",
        "c/g-1",
        "c",
        "g",
        1,
        "ssot/consolidate/c/g-1",
        "open",
        ("b.py", "a.py"),
        3,
        now,
        pr=7,
        left_out=(("z.py", "why"),),
    )
    store.save_batch(world.engine, row)
    back = store.batch_for_pull(world.engine, world.installation.id, "acme/x", 7)
    assert back == dataclasses.replace(row, files=("a.py", "b.py"))
