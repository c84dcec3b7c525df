"""Progress in the App, against the fake GitHub and GitHub's real payloads: every push to the
default branch recorded with its breakdown, forced pushes, the backfill of a new installation
(weekly, at low priority, within budget), the trend beside a pull request's totals, and the
decisions the dashboard lists."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from bot_testing import payload, runtime
from test_pipeline import (
    BAD,
    BASE_FILES,
    CLEAN,
    NAME,
    OWNER,
    POLICY,
    World,
    legacy_imports,
    make_world,
    point_repository,
    push_payload,
    summary_cell,
)

from analyzers import trend
from bot.progress import tick
from bot.store import backfills, db, deliveries, history, tables
from bot.store import totals as totals_store

REPO = f"{OWNER}/{NAME}"
CODEOWNERS = "* @acme/platform\napp/ @acme/app-team\n"
NOW = db.utcnow()


@pytest.fixture
def world(make_settings: Any) -> Iterator[World]:
    files = {**BASE_FILES, ".github/CODEOWNERS": CODEOWNERS}
    yield from make_world(make_settings, files=files, backfill_requests_per_minute=10_000)


def commit_at(
    world: World, files: dict[str, str | None], when: dt.datetime, branch: str = "master"
) -> str:
    """A commit on ``branch`` with the committer date ``when`` (the branch moves to it)."""
    state = world.state
    parent = world.repo.branches[branch]
    tree = dict(state.get_commit(parent).files)
    for path, content in files.items():
        if content is None:
            tree.pop(path, None)
        else:
            tree[path] = state.store_blob(content)
    sha = state.commit_tree(tree, (parent,), "change", "alice", timestamp=int(when.timestamp()))
    state.push(world.repo, branch, sha)
    return sha


def send_push(world: World, sha: str, *, before: str | None = None, forced: bool = False) -> None:
    data = push_payload(world, sha)
    data["forced"] = forced
    if before is not None:
        data["before"] = before
    assert world.send("push", data).state == tables.DONE


def counts(sample: history.HistorySample) -> dict[tuple[str, str], int]:
    return {(c, r): n for c, r, n, _ in sample.totals}


def run_tick(world: World) -> tuple[int, int]:
    return tick.run(runtime(world.client).jobs.context, seconds=30)


# --- pushes ----------------------------------------------------------------------------------


def test_a_push_to_the_default_branch_is_recorded_with_its_breakdown(world: World) -> None:
    when = NOW - dt.timedelta(days=2)
    sha = commit_at(
        world, {"app/more.py": legacy_imports(2, "X"), "lib/x.py": legacy_imports(1, "L")}, when
    )
    send_push(world, sha)
    [sample] = history.samples(world.engine, world.installation.id, REPO)
    assert (sample.commit_sha, sample.source) == (sha, "push")
    assert sample.committed_at == when.replace(microsecond=0)
    assert counts(sample)[("websocket-manager", "SSOT001")] == 4  # 1 on the base, 3 added
    stored = totals_store.get_repo_totals(
        world.engine, installation_id=world.installation.id, repo=REPO
    )
    assert stored is not None and list(sample.totals) == stored.totals
    assert sample.series == trend.series_key(sample.totals)
    where = sample.breakdown["websocket-manager"]
    assert where.directories == (("app", 3), ("lib", 1))
    assert where.owners == (("@acme/app-team", 3), ("@acme/platform", 1))  # last match wins


def test_a_push_elsewhere_or_without_policy_records_nothing(world: World) -> None:
    data = push_payload(world, world.repo.branches["master"])
    data["ref"] = "refs/heads/feature"
    assert world.send("push", data).state == tables.DONE
    sha = commit_at(world, {".github/ssot.toml": None}, NOW)
    send_push(world, sha)
    assert history.samples(world.engine, world.installation.id, REPO) == []


def test_a_forced_push_forgets_the_samples_of_rewritten_commits(world: World) -> None:
    base = commit_at(world, {"app/a.py": CLEAN}, NOW - dt.timedelta(days=5))
    send_push(world, base)
    gone = []
    for day in (4, 3):
        gone.append(commit_at(world, {f"app/g{day}.py": BAD}, NOW - dt.timedelta(days=day)))
        send_push(world, gone[-1])
    assert len(history.samples(world.engine, world.installation.id, REPO)) == 3
    # The branch is reset to `base` and a new commit pushed over it with --force.
    world.state.push(world.repo, "master", base)
    new = commit_at(world, {"app/fix.py": CLEAN}, NOW - dt.timedelta(days=1))
    send_push(world, new, before=gone[-1], forced=True)
    kept = history.samples(world.engine, world.installation.id, REPO)
    assert [s.commit_sha for s in kept] == [base, new]
    assert counts(kept[-1])[("websocket-manager", "SSOT001")] == 1  # the rewritten debt is gone


# --- backfill --------------------------------------------------------------------------------


def build_year(world: World, days: int = 210, every: int = 3) -> list[tuple[str, dt.datetime, int]]:
    """Commits every ``every`` days for ``days`` days up to now, each adding one deprecated
    import: ``(sha, date, SSOT001 count)``, oldest first, the repository's first included."""
    root = world.state.get_commit(world.repo.branches["master"])
    made = [(root.sha, root.date, 1)]
    for index, ago in enumerate(range(days, 0, -every)):
        when = (NOW - dt.timedelta(days=ago)).replace(microsecond=0)
        sha = commit_at(world, {f"app/m{index}.py": legacy_imports(1, f"M{index}_")}, when)
        made.append((sha, when, 2 + index))  # the base's one, plus one per commit
    return made


def installation_created(world: World) -> dict[str, Any]:
    data = payload("installation/created")
    data["installation"]["id"] = world.installation.id
    data["repositories"] = [
        {"id": world.repo.id, "name": NAME, "full_name": REPO, "private": False, "node_id": "x"}
    ]
    return data


def expected_week(made: list[tuple[str, dt.datetime, int]], anchor: dt.datetime, week: int) -> Any:
    until = anchor - dt.timedelta(weeks=week)
    return max((m for m in made if m[1] <= until), key=lambda m: m[1])


def weeks_to_sample(made: list[tuple[str, dt.datetime, int]], world: World) -> int:
    """How many distinct commits the 26 weekly dates name."""
    job = backfills.get_backfill(world.engine, world.installation.id, REPO)
    assert job is not None
    return len({expected_week(made, job.anchor_at, week)[0] for week in range(26)})


def test_a_new_installation_backfills_26_weekly_samples_of_six_months(world: World) -> None:
    made = build_year(world)
    assert world.send("installation", installation_created(world)).state == tables.DONE
    job = backfills.get_backfill(world.engine, world.installation.id, REPO)
    assert job is not None and job.state == "pending"
    world.state.clear_calls()
    assert run_tick(world)[1] == 26
    samples = history.samples(world.engine, world.installation.id, REPO)
    assert len(samples) == 26 and {s.source for s in samples} == {"backfill"}
    for week in range(26):
        sha, when, count = expected_week(made, job.anchor_at, week)
        found = history.sample_at(world.engine, world.installation.id, REPO, sha)
        assert found is not None, week
        assert found.committed_at == when
        assert counts(found)[("websocket-manager", "SSOT001")] == count
    done = backfills.get_backfill(world.engine, world.installation.id, REPO)
    assert done is not None and (done.state, done.next_week) == ("done", 26)
    # After the first sample, a week costs a few requests: the changed blobs only.
    assert len(world.state.calls_matching(path="/commits")) == 26
    assert len(world.state.calls) < 26 * 6


def test_the_backfill_yields_to_pull_request_jobs_of_the_installation(world: World) -> None:
    made = build_year(world, days=30)
    world.send("installation", installation_created(world))
    waiting = deliveries.NewDelivery(
        str(uuid.uuid4()), "pull_request", "opened", world.installation.id, REPO, b"{}"
    )
    deliveries.insert_delivery(world.engine, waiting, now=db.utcnow(), requeue_at=None)
    assert run_tick(world) == (0, 0)
    assert history.samples(world.engine, world.installation.id, REPO) == []
    with world.engine.begin() as conn:  # its job ran
        conn.execute(tables.deliveries.update().values(state=tables.DONE))
    # 30 days of commits (this week and four before), then the repository's first commit.
    assert run_tick(world)[1] == weeks_to_sample(made, world) == 6
    assert len(history.samples(world.engine, world.installation.id, REPO)) == 6


def test_the_backfill_spends_its_budget_then_continues_at_a_later_tick(
    make_settings: Any,
) -> None:
    for world in make_world(make_settings, backfill_requests_per_minute=12):
        made = build_year(world, days=60)
        world.send("installation", installation_created(world))
        first = run_tick(world)[1]
        job = backfills.get_backfill(world.engine, world.installation.id, REPO)
        assert job is not None and job.state == "pending"
        expected = weeks_to_sample(made, world)
        assert 0 < first < expected and job.next_week >= first
        assert job.not_before > db.utcnow()  # the next tick's share
        taken = first
        for _ in range(20):
            with world.engine.begin() as conn:  # a minute later
                conn.execute(tables.backfills.update().values(not_before=db.utcnow()))
            taken += run_tick(world)[1]
        job = backfills.get_backfill(world.engine, world.installation.id, REPO)
        assert job is not None and job.state == "done"
        assert taken == len(history.samples(world.engine, world.installation.id, REPO))
        assert taken == expected == 10  # weeks 0-8, then the first commit


def test_the_backfill_leaves_the_installation_its_reserve(make_settings: Any) -> None:
    # The fake counts 5,000 an hour: a reserve of 4,990 leaves the backfill about ten requests.
    for world in make_world(make_settings, backfill_reserve=4_990):
        build_year(world, days=60)
        world.send("installation", installation_created(world))
        run_tick(world)
        job = backfills.get_backfill(world.engine, world.installation.id, REPO)
        assert job is not None and job.state == "pending" and job.next_week < 9
        # It waits for the hour's reset, not for the next tick.
        assert job.not_before > db.utcnow() + dt.timedelta(minutes=50)


def test_a_repository_without_policy_is_backfilled_at_once(world: World) -> None:
    build_year(world, days=30)
    commit_at(world, {".github/ssot.toml": None}, NOW)
    world.send("installation", installation_created(world))
    assert run_tick(world)[1] == 0
    job = backfills.get_backfill(world.engine, world.installation.id, REPO)
    assert job is not None and job.state == "done"


def test_repositories_added_later_are_backfilled_and_removed_ones_forgotten(world: World) -> None:
    data = payload("installation_repositories/added")
    data["installation"]["id"] = world.installation.id
    data["repositories_added"] = [{"id": 1, "full_name": REPO, "name": NAME, "private": True}]
    assert world.send("installation_repositories", data).state == tables.DONE
    assert backfills.get_backfill(world.engine, world.installation.id, REPO) is not None
    gone = payload("installation_repositories/removed")
    gone["installation"]["id"] = world.installation.id
    gone["repositories_removed"] = [{"id": 1, "full_name": REPO, "name": NAME}]
    assert world.send("installation_repositories", gone).state == tables.DONE
    assert backfills.get_backfill(world.engine, world.installation.id, REPO) is None


# --- the trend beside a pull request's totals, and decisions ---------------------------------


def test_the_summary_shows_the_prs_change_the_last_30_days_and_the_target_date(
    world: World,
) -> None:
    # The default branch went from 21 to 11 deprecated imports in the last 30 days.
    first = commit_at(world, {"app/old.py": legacy_imports(20, "O")}, NOW - dt.timedelta(days=30))
    send_push(world, first)
    second = commit_at(world, {"app/old.py": legacy_imports(10, "O")}, NOW - dt.timedelta(hours=1))
    send_push(world, second)
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    summary = world.run(pr.head_sha).output.summary or ""
    assert summary_cell(summary, "SSOT001", "Total -> target") == "12 -> 0"
    assert summary_cell(summary, "SSOT001", "This PR") == "+1"
    assert summary_cell(summary, "SSOT001", "Last 30 days") == "-10"
    # 12 left at about 10 in 30 days (1/3 a day): about 36 days from now.
    pace = -10 / ((NOW - dt.timedelta(hours=1)) - (NOW - dt.timedelta(days=30))).total_seconds()
    expected = trend.eta(12, 0, pace * 86_400, now=db.utcnow())
    assert expected is not None
    cell = summary_cell(summary, "SSOT001", "At this pace")
    assert cell in {f"at this pace: {expected + dt.timedelta(days=d):%Y-%m-%d}" for d in (-1, 0, 1)}


def test_without_history_the_summary_says_the_trend_is_not_known(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    summary = world.run(pr.head_sha).output.summary or ""
    assert summary_cell(summary, "SSOT001", "Last 30 days") == "n/a"
    assert summary_cell(summary, "SSOT001", "At this pace") == "not enough history"


def test_blocked_and_passed_heads_are_recorded_as_decisions(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    world.send_pr("synchronize", pr)  # the same head checked again: one decision
    [blocked] = history.recent_decisions(world.engine, world.installation.id, REPO)
    assert (blocked.pr, blocked.outcome, blocked.user, blocked.head_sha) == (
        pr.number,
        "blocked",
        "alice",
        pr.head_sha,
    )
    assert blocked.url.endswith(f"/{REPO}/pull/{pr.number}")
    assert "SSOT001 app/feature.py:1" in blocked.reason
    world.push(pr, {"app/feature.py": CLEAN})
    world.send_pr("synchronize", pr)
    passed = history.recent_decisions(
        world.engine, world.installation.id, REPO, outcomes=("passed",)
    )
    assert [d.head_sha for d in passed] == [world.state.pull(world.repo, pr.number).head_sha]


def test_an_accepted_finding_is_recorded_with_who_why_and_a_link(world: World) -> None:
    pr = world.open_pr({"app/feature.py": BAD})
    world.send_pr("opened", pr)
    world.state.set_permission(world.repo, "maintainer", "maintain")
    comment = world.state.add_issue_comment(
        world.repo, pr.number, "/ssot accept migration shim until Q3", user="maintainer"
    )
    data = payload("issue_comment/created.with-installation")
    data["installation"]["id"] = world.installation.id
    point_repository(data["repository"], world.repo)
    data["issue"]["number"] = pr.number
    data["issue"]["pull_request"] = {"url": "x"}
    # Written after the head's check run started: the head the maintainer saw.
    comment.created_at += dt.timedelta(seconds=1)
    data["comment"].update(
        id=comment.id,
        body=comment.body,
        created_at=comment.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    data["comment"]["html_url"] = f"https://github.com/{REPO}/pull/{pr.number}#issuecomment-1"
    data["sender"]["login"] = "maintainer"
    assert world.send("issue_comment", data).state == tables.DONE
    accepted = history.recent_decisions(
        world.engine, world.installation.id, REPO, outcomes=("accepted",)
    )
    assert [(d.user, d.reason, d.url) for d in accepted] == [
        ("maintainer", "migration shim until Q3", data["comment"]["html_url"])
    ]


def test_a_policy_with_dashboard_keys_keeps_the_findings_cache(world: World) -> None:
    # [dashboard] changes nothing that is found: the policy's cache key stays the same.
    from analyzers.policy_loader import load_policy

    plain = load_policy(POLICY, "a").policy
    with_dashboard = load_policy(POLICY + "\n[dashboard]\nissue = true\ndepth = 3\n", "a").policy
    assert plain.digest == with_dashboard.digest
    assert with_dashboard.dashboard.depth == 3


def test_the_progress_tick_is_a_periodic_task_of_every_consumer(world: World) -> None:
    queue = runtime(world.client).jobs
    assert "progress" in {task.name for task in queue.huey._registry.periodic_tasks}
    made = build_year(world, days=14)
    world.send("installation", installation_created(world))
    assert queue.progress_tick()[1] == weeks_to_sample(made, world)  # the consumer's minute
