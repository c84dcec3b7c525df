"""The dashboard issue against the fake GitHub: one per repository, found again by its marker
(only in issues the App's bot user wrote), edited in place, debounced, stopped by a person
closing it and resumed when it is reopened; its body rendered within GitHub's limits with
every piece of repository content escaped."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from bot_testing import payload
from test_pipeline import (
    BAD,
    BASE_FILES,
    NAME,
    OWNER,
    POLICY,
    World,
    legacy_imports,
    make_world,
    push_payload,
)
from test_pipeline import point_repository as point
from test_progress import commit_at, run_tick, send_push

from analyzers.trend import Change, Point, Series, Trend
from bot.progress import dashboard_render
from bot.progress.dashboard_render import MARKER, Badges, DashboardData, render_dashboard
from bot.store import dashboards, db, tables
from bot.store.history import Breakdown, PullDecision
from fake_github import Issue

REPO = f"{OWNER}/{NAME}"
DASHBOARD_POLICY = POLICY + "\n[dashboard]\nissue = true\n"
NOW = db.utcnow()


@pytest.fixture
def world(make_settings: Any) -> Iterator[World]:
    files = {
        **BASE_FILES,
        ".github/ssot.toml": DASHBOARD_POLICY,
        ".github/CODEOWNERS": "* @acme/platform\n",
    }
    yield from make_world(make_settings, files=files, public_url="https://ssot.example.com")


def dashboards_of(world: World) -> list[Issue]:
    return [i for i in world.state.issues_of(world.repo) if i.body and MARKER in i.body]


def push_change(world: World, files: dict[str, str | None], days_ago: float = 0) -> str:
    sha = commit_at(world, files, NOW - dt.timedelta(days=days_ago))
    send_push(world, sha)
    return sha


def debounce_passed(world: World) -> None:
    """Ten minutes later: the last edit is older than the debounce."""
    with world.engine.begin() as conn:
        past = db.utcnow() - dt.timedelta(minutes=11)
        conn.execute(tables.dashboard_issues.update().values(last_edit_at=past, due_at=past))


def issues_event(world: World, action: str, number: int, sender: str) -> dict[str, Any]:
    """An ``issues`` webhook built from the real issue object of an ``issue_comment`` payload
    (the fixtures hold no ``issues`` event; its payload is action, issue, repository,
    sender and installation, as here)."""
    source = payload("issue_comment/created.with-installation")
    issue = source["issue"]
    issue.update(number=number, state="closed" if action == "closed" else "open")
    issue.pop("pull_request", None)
    point(source["repository"], world.repo)
    source["sender"]["login"] = sender
    source["installation"]["id"] = world.installation.id
    return {
        "action": action,
        "issue": issue,
        "repository": source["repository"],
        "sender": source["sender"],
        "installation": source["installation"],
    }


def test_a_push_creates_the_dashboard_issue_once_then_edits_it_in_place(world: World) -> None:
    push_change(world, {"app/a.py": legacy_imports(3, "A")}, days_ago=20)
    run_tick(world)
    [issue] = dashboards_of(world)
    assert issue.user.login == world.state.bot.login
    assert issue.title == dashboard_render.TITLE
    assert "| websocket-manager | SSOT001 | 4 -> 0 |" in (issue.body or "")
    push_change(world, {"app/a.py": legacy_imports(1, "A")}, days_ago=1)
    debounce_passed(world)
    run_tick(world)
    [same] = dashboards_of(world)
    assert same.number == issue.number and same.edits == 1
    body = same.body or ""
    assert "| websocket-manager | SSOT001 | 2 -> 0 |" in body
    assert "| -2 (since" in body  # the change over 7 and 30 days, from the first sample


def test_edits_are_debounced_and_the_last_state_is_delivered(world: World) -> None:
    push_change(world, {"app/a.py": legacy_imports(3, "A")}, days_ago=3)
    run_tick(world)
    [issue] = dashboards_of(world)
    # Two more pushes within the ten minutes: no edit now...
    push_change(world, {"app/a.py": legacy_imports(2, "A")}, days_ago=2)
    push_change(world, {"app/a.py": legacy_imports(7, "A")}, days_ago=1)
    run_tick(world)
    assert issue.edits == 0
    stored = dashboards.get_dashboard(world.engine, world.installation.id, REPO)
    assert stored is not None and stored.due_at is not None
    assert stored.last_edit_at is not None
    assert stored.due_at == stored.last_edit_at + dt.timedelta(minutes=10)
    # ...one edit once they have passed, showing the newest push.
    debounce_passed(world)
    run_tick(world)
    assert issue.edits == 1
    assert "| websocket-manager | SSOT001 | 8 -> 0 |" in (issue.body or "")
    run_tick(world)
    assert issue.edits == 1  # nothing new: nothing due


def test_the_issue_shows_chart_breakdown_decisions_and_badges(world: World) -> None:
    for week in range(30, 0, -1):
        push_change(world, {"app/a.py": legacy_imports(30 - week, "A")}, days_ago=7 * week)
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    debounce_passed(world)
    run_tick(world)
    [issue] = dashboards_of(world)
    body = issue.body or ""
    chart = body[body.index("```mermaid") :]
    assert chart.startswith("```mermaid\nxychart-beta\n")
    line = next(x for x in chart.splitlines() if x.strip().startswith("line ["))
    assert line.count(",") == 25  # the last 26 weekly samples
    assert "`@acme/platform`" in body  # an owner, as code: nobody is mentioned
    assert f"[PR {pr.number}](https://github.com/{REPO}/pull/{pr.number})" in body
    assert ":x: blocked" in body and "alice" in body
    assert f"https://ssot.example.com/badges/{OWNER}/{NAME}.svg?concept=websocket-manager" in body


def test_a_marker_in_an_issue_someone_else_wrote_is_not_the_dashboard(world: World) -> None:
    planted = world.state.open_issue(
        world.repo, "Not yours", f"{MARKER}\nplanted by a user", user="mallory"
    )
    push_change(world, {"app/a.py": legacy_imports(1, "A")})
    run_tick(world)
    ours = [i for i in dashboards_of(world) if i.user.type == "Bot"]
    assert len(ours) == 1 and ours[0].number != planted.number
    assert planted.body == f"{MARKER}\nplanted by a user" and planted.edits == 0


def test_an_existing_dashboard_is_found_again_when_the_app_forgot_it(world: World) -> None:
    mine = world.state.open_issue(
        world.repo, dashboard_render.TITLE, f"{MARKER}\nold", user=world.state.bot
    )
    push_change(world, {"app/a.py": legacy_imports(1, "A")})
    run_tick(world)
    assert [i.number for i in dashboards_of(world)] == [mine.number]
    assert mine.edits == 1 and "| websocket-manager |" in (mine.body or "")
    # Deleted by an admin: the next update makes a new one (never two at once).
    world.state.delete_issue(world.repo, mine.number)
    push_change(world, {"app/a.py": legacy_imports(2, "A")})
    debounce_passed(world)
    run_tick(world)
    assert len(dashboards_of(world)) == 1


def test_a_person_closing_the_issue_stops_updates_until_it_is_reopened(world: World) -> None:
    push_change(world, {"app/a.py": legacy_imports(1, "A")})
    run_tick(world)
    [issue] = dashboards_of(world)
    world.state.set_issue_state(world.repo, issue.number, "closed", by="alice")
    world.send("issues", issues_event(world, "closed", issue.number, "alice"))
    stored = dashboards.get_dashboard(world.engine, world.installation.id, REPO)
    assert stored is not None and (stored.state, stored.closed_by) == ("closed", "alice")
    push_change(world, {"app/a.py": legacy_imports(5, "A")})
    debounce_passed(world)
    run_tick(world)
    assert issue.edits == 0 and issue.state == "closed"
    world.state.set_issue_state(world.repo, issue.number, "open", by="alice")
    world.send("issues", issues_event(world, "reopened", issue.number, "alice"))
    debounce_passed(world)
    run_tick(world)
    assert issue.edits == 1 and "| 6 -> 0 |" in (issue.body or "")


def test_closing_by_the_app_itself_or_of_another_issue_changes_nothing(world: World) -> None:
    push_change(world, {"app/a.py": legacy_imports(1, "A")})
    run_tick(world)
    [issue] = dashboards_of(world)
    other = world.state.open_issue(world.repo, "Bug", "text", user="bob")
    world.send("issues", issues_event(world, "closed", other.number, "bob"))
    world.send("issues", issues_event(world, "closed", issue.number, world.state.bot.login))
    stored = dashboards.get_dashboard(world.engine, world.installation.id, REPO)
    assert stored is not None and stored.state == "open"


def test_a_closed_dashboard_whose_webhook_was_lost_is_left_closed(world: World) -> None:
    push_change(world, {"app/a.py": legacy_imports(1, "A")})
    run_tick(world)
    [issue] = dashboards_of(world)
    world.state.set_issue_state(world.repo, issue.number, "closed", by="carol")
    push_change(world, {"app/a.py": legacy_imports(2, "A")})
    debounce_passed(world)
    run_tick(world)
    assert issue.edits == 0
    stored = dashboards.get_dashboard(world.engine, world.installation.id, REPO)
    assert stored is not None and (stored.state, stored.closed_by) == ("closed", "carol")


def test_no_issue_without_the_policys_opt_in(make_settings: Any) -> None:
    for world in make_world(make_settings):  # the plain example policy
        push_change(world, {"app/a.py": legacy_imports(1, "A")})
        run_tick(world)
        assert world.state.issues_of(world.repo) == []
        assert dashboards.get_dashboard(world.engine, world.installation.id, REPO) is None


def test_issues_disabled_or_not_permitted_is_not_retried(world: World) -> None:
    world.repo.has_issues = False
    push_change(world, {"app/a.py": legacy_imports(1, "A")})
    run_tick(world)
    assert world.state.issues_of(world.repo) == []
    stored = dashboards.get_dashboard(world.engine, world.installation.id, REPO)
    assert stored is not None and stored.due_at is None  # not due again until a new request
    world.repo.has_issues = True
    world.installation.permissions["issues"] = "read"
    push_change(world, {"app/a.py": legacy_imports(2, "A")})
    debounce_passed(world)
    run_tick(world)
    assert world.state.issues_of(world.repo) == []


def test_a_private_repositorys_issue_shows_its_badge_key(world: World) -> None:
    sha = commit_at(world, {"app/a.py": legacy_imports(1, "A")}, NOW)
    push = push_payload(world, sha)
    push["repository"]["private"] = True
    world.send("push", push)
    run_tick(world)
    [issue] = dashboards_of(world)
    badge = dashboards.find_badge_repo(world.engine, REPO)
    assert badge is not None and badge.needs_key
    assert f"&key={badge.key}" in (issue.body or "")
    assert "This repository is private" in (issue.body or "")


# --- the body, rendered ------------------------------------------------------------------------


def make_trend(concept: str, count: int = 10, points: int = 3) -> Trend:
    series = tuple(
        Point(NOW - dt.timedelta(weeks=points - i), count + points - i, 1, f"s{i}")
        for i in range(points)
    )
    change = Change(-1, series[0], series[-1], partial=False)
    return Trend(
        concept, "SSOT002", count, 1, change, change, -0.1, None, Series(concept, "SSOT002", series)
    )


def data(**changes: Any) -> DashboardData:
    values: dict[str, Any] = {
        "repository": REPO,
        "trends": [make_trend("websocket-manager")],
        "breakdown": {},
        "decisions": [],
        "badges": Badges("https://ssot.example.com", None),
        "commit_sha": "a" * 40,
        "committed_at": NOW,
        "now": NOW,
    }
    values.update(changes)
    return DashboardData(**values)


def test_repository_content_is_inert_in_the_issue() -> None:
    hostile = "@org/everyone see #12 <!-- [x](https://evil.example) `tick` | cell"
    decision = PullDecision(1, REPO, 7, "h", "accepted", "@mallory", hostile, "javascript:x", NOW)
    body = render_dashboard(
        data(
            trends=[make_trend(hostile)],
            breakdown={hostile: Breakdown(((hostile, 3),), ((hostile, 2),))},
            decisions=[decision],
        )
    )
    # Outside code spans (whose content is literal), only the App's marker opens a comment.
    outside = re.sub(r"(`+)(?:(?!\1).)+\1", "", body)
    assert outside.count("<!--") == 1 and body.startswith(MARKER)
    assert "@org" not in outside.replace("\\@\u200borg", "")  # nobody is mentioned
    assert "\\@\u200b" in outside and "\\#\u200b12" in outside  # nor issue 12 referenced
    assert "](https://evil.example)" not in outside and "javascript:" not in body
    assert "[PR 7]" not in body  # a link only to https URLs
    chart_titles = [line for line in body.splitlines() if line.strip().startswith("title ")]
    assert chart_titles and all(line.count('"') == 2 for line in chart_titles)


def test_the_body_never_exceeds_githubs_65536_characters() -> None:
    many = [make_trend(f"concept-{i:03d}-" + "x" * 60, points=26) for i in range(300)]
    big = Breakdown(tuple((f"dir/{i}" + "y" * 50, i) for i in range(20)), ())
    body = render_dashboard(data(trends=many, breakdown={t.concept: big for t in many}))
    assert len(body) <= dashboard_render.MAX_BODY
    assert body.startswith(MARKER)
    assert "section(s) not shown" in body
    assert "| concept-299-" in body  # the totals table comes first, whole


def test_a_renamed_concepts_chart_says_a_new_series_starts() -> None:
    item = make_trend("websocket-manager")
    renamed = Series(item.concept, item.rule, item.series.points, started_at=NOW, renamed_from="ws")
    body = render_dashboard(data(trends=[Trend(**{**item.__dict__, "series": renamed})]))
    assert f"renamed from ws on {NOW:%Y-%m-%d}: a new series starts there" in body


def test_the_consolidation_batches_are_listed_with_a_checkbox_each(world: World) -> None:
    # bot/campaigns/ proposes batches in the store; the dashboard issue lists them, and a
    # ticked checkbox is what it acts on (one syntax: bot.store.campaign_section).
    from bot.store import campaigns
    from bot.store.campaign_section import checked_batches

    campaigns.save_batch(
        world.engine,
        campaigns.CampaignBatch(
            world.installation.id,
            REPO,
            "websocket-manager/app-1",
            "websocket-manager",
            "app",
            1,
            "ssot/consolidate/websocket-manager/app-1",
            "proposed",
            ("app/a.py",),
            3,
            NOW,
        ),
    )
    push_change(world, {"app/a.py": legacy_imports(3, "A")})
    run_tick(world)
    [issue] = dashboards_of(world)
    body = issue.body or ""
    assert "## Consolidation pull requests" in body
    line = next(x for x in body.splitlines() if "ssot:batch=websocket-manager/app-1" in x)
    assert line.startswith("- [ ] ")
    assert checked_batches(body.replace(line, line.replace("[ ]", "[x]"))) == {
        "websocket-manager/app-1"
    }
