"""The progress model: history samples, pull decisions, dashboard issues, badge keys and
backfills, on SQLite and on PostgreSQL (bot.store.history, dashboards, backfills)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from test_migrations import postgres_schema

from analyzers import trend
from bot.store import backfills, dashboards, db, history, installations, migrate
from bot.store.history import Breakdown, HistorySample, PullDecision

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
REPO = "acme/monorepo"
TEN_MINUTES = dt.timedelta(minutes=10)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def engine(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/progress.db"
        engine = db.create_engine(url)
        migrate.upgrade(engine)
        yield engine
        engine.dispose()
        return
    for url in postgres_schema():
        engine = db.create_engine(url)
        migrate.upgrade(engine)
        yield engine
        engine.dispose()


def sample(
    sha: str,
    days_ago: float,
    count: int,
    *,
    concept: str = "ws",
    installation_id: int = 7,
    repo: str = REPO,
    source: history.Source = "push",
) -> HistorySample:
    totals: tuple[history.Total, ...] = ((concept, "SSOT002", count, 1),)
    return HistorySample(
        installation_id=installation_id,
        repo=repo,
        commit_sha=sha,
        committed_at=NOW - dt.timedelta(days=days_ago),
        policy_key="p1",
        series=trend.series_key(totals),
        totals=totals,
        source=source,
        recorded_at=NOW,
        files=120,
        breakdown={concept: Breakdown((("app/ws", count),), (("@acme/platform", count),))},
    )


def test_samples_come_back_oldest_first_as_they_were_stored(engine: Engine) -> None:
    for item in (sample("c", 1, 90), sample("a", 30, 100), sample("b", 10, 95)):
        assert history.record_sample(engine, item)
    found = history.samples(engine, 7, REPO)
    assert [s.commit_sha for s in found] == ["a", "b", "c"]
    assert found[0] == sample("a", 30, 100)  # totals, breakdown, aware times: all round-trip
    assert found[0].committed_at.tzinfo is not None
    assert history.latest_sample(engine, 7, REPO) == sample("c", 1, 90)
    assert history.sample_at(engine, 7, REPO, "b") == sample("b", 10, 95)
    assert history.sample_at(engine, 7, REPO, "zzz") is None


def test_limit_keeps_the_newest_and_since_the_later_ones(engine: Engine) -> None:
    for i in range(5):
        history.record_sample(engine, sample(f"s{i}", 50 - 10 * i, 100 - i))
    assert [s.commit_sha for s in history.samples(engine, 7, REPO, limit=2)] == ["s3", "s4"]
    since = NOW - dt.timedelta(days=25)
    assert [s.commit_sha for s in history.samples(engine, 7, REPO, since=since)] == ["s3", "s4"]


def test_a_commit_sampled_again_is_replaced_not_duplicated(engine: Engine) -> None:
    assert history.record_sample(engine, sample("a", 3, 100, source="backfill"))
    assert not history.record_sample(engine, sample("a", 3, 97, source="push"))
    [only] = history.samples(engine, 7, REPO)
    assert (only.totals[0][2], only.source) == (97, "push")


def test_samples_of_other_repositories_and_installations_stay_apart(engine: Engine) -> None:
    history.record_sample(engine, sample("a", 3, 1))
    history.record_sample(engine, sample("a", 3, 2, repo="acme/other"))
    history.record_sample(engine, sample("a", 3, 3, installation_id=8))
    assert [s.totals[0][2] for s in history.samples(engine, 7, REPO)] == [1]
    repos = history.repositories_with_history(engine, 7)
    assert [(r.repo, r.samples) for r in repos] == [("acme/monorepo", 1), ("acme/other", 1)]
    assert repos[0].latest_at == NOW - dt.timedelta(days=3)


def test_a_force_push_forgets_the_samples_after_the_merge_base(engine: Engine) -> None:
    for sha, ago in (("base", 20), ("gone1", 10), ("gone2", 5), ("kept", 4)):
        history.record_sample(engine, sample(sha, ago, 50))
    dropped = history.drop_rewritten(
        engine, 7, REPO, after=NOW - dt.timedelta(days=20), keep={"kept"}
    )
    assert dropped == 2
    assert [s.commit_sha for s in history.samples(engine, 7, REPO)] == ["base", "kept"]


def decision(pr: int, outcome: history.Outcome, minutes: int, user: str = "alice") -> PullDecision:
    return PullDecision(
        installation_id=7,
        repo=REPO,
        pr=pr,
        head_sha=f"head{pr}",
        outcome=outcome,
        user=user,
        reason="2 new blocking findings",
        url=f"https://github.com/{REPO}/pull/{pr}",
        at=NOW + dt.timedelta(minutes=minutes),
    )


def test_decisions_are_recorded_once_and_listed_newest_first(engine: Engine) -> None:
    assert history.record_decision(engine, decision(1, "blocked", 0))
    assert not history.record_decision(engine, decision(1, "blocked", 5))  # a rescan
    history.record_decision(engine, decision(1, "accepted", 6, user="maintainer"))
    history.record_decision(engine, decision(2, "passed", 7))
    recent = history.recent_decisions(engine, 7, REPO)
    assert [(d.pr, d.outcome, d.user) for d in recent] == [
        (1, "accepted", "maintainer"),
        (1, "blocked", "alice"),
    ]
    every = history.recent_decisions(engine, 7, outcomes=("blocked", "accepted", "passed"))
    assert [d.outcome for d in every] == ["passed", "accepted", "blocked"]


def test_decisions_older_than_the_cut_are_pruned(engine: Engine) -> None:
    history.record_decision(engine, decision(1, "blocked", -60 * 24 * 200))
    history.record_decision(engine, decision(2, "passed", -60 * 24 * 200))
    history.record_decision(engine, decision(3, "accepted", 0))
    cut = NOW - dt.timedelta(days=183)
    assert history.prune_decisions(engine, before=cut) == 2
    every = history.recent_decisions(engine, 7, outcomes=("blocked", "accepted", "passed"))
    assert [d.pr for d in every] == [3]
    assert history.prune_decisions(engine, before=cut) == 0


def test_an_update_runs_now_then_waits_for_the_debounce(engine: Engine) -> None:
    assert dashboards.request_update(engine, 7, REPO, now=NOW, debounce=TEN_MINUTES) == NOW
    assert dashboards.due_updates(engine, now=NOW) == [(7, REPO)]
    assert dashboards.claim_update(engine, 7, REPO, now=NOW, lease=dt.timedelta(minutes=5))
    assert not dashboards.claim_update(engine, 7, REPO, now=NOW, lease=dt.timedelta(minutes=5))
    dashboards.finish_update(
        engine,
        7,
        REPO,
        claimed_at=NOW,
        now=NOW,
        debounce=TEN_MINUTES,
        issue_number=12,
        body_digest="d1",
        edited=True,
    )
    assert dashboards.due_updates(engine, now=NOW + dt.timedelta(hours=1)) == []
    later = NOW + dt.timedelta(minutes=3)
    assert dashboards.request_update(engine, 7, REPO, now=later, debounce=TEN_MINUTES) == (
        NOW + TEN_MINUTES
    )
    # Requested again before then: still one update, at the same time.
    again = NOW + dt.timedelta(minutes=4)
    assert dashboards.request_update(engine, 7, REPO, now=again, debounce=TEN_MINUTES) == (
        NOW + TEN_MINUTES
    )
    assert dashboards.due_updates(engine, now=NOW + dt.timedelta(minutes=9)) == []
    assert dashboards.due_updates(engine, now=NOW + TEN_MINUTES) == [(7, REPO)]
    issue = dashboards.get_dashboard(engine, 7, REPO)
    assert issue is not None and issue.issue_number == 12 and issue.body_digest == "d1"


def test_a_request_made_during_an_edit_is_delivered_after_the_debounce(engine: Engine) -> None:
    dashboards.request_update(engine, 7, REPO, now=NOW, debounce=TEN_MINUTES)
    assert dashboards.claim_update(engine, 7, REPO, now=NOW, lease=dt.timedelta(minutes=5))
    during = NOW + dt.timedelta(seconds=5)
    dashboards.request_update(engine, 7, REPO, now=during, debounce=TEN_MINUTES)
    done = NOW + dt.timedelta(seconds=10)
    dashboards.finish_update(
        engine,
        7,
        REPO,
        claimed_at=NOW,
        now=done,
        debounce=TEN_MINUTES,
        issue_number=12,
        body_digest="d1",
        edited=True,
    )
    issue = dashboards.get_dashboard(engine, 7, REPO)
    assert issue is not None and issue.due_at == done + TEN_MINUTES


def test_a_closed_issue_gets_no_update_until_reopened(engine: Engine) -> None:
    dashboards.request_update(engine, 7, REPO, now=NOW, debounce=TEN_MINUTES)
    dashboards.mark_closed(engine, 7, REPO, by="alice", now=NOW)
    assert dashboards.due_updates(engine, now=NOW + dt.timedelta(days=1)) == []
    assert dashboards.request_update(engine, 7, REPO, now=NOW, debounce=TEN_MINUTES) is None
    issue = dashboards.get_dashboard(engine, 7, REPO)
    assert issue is not None and (issue.state, issue.closed_by) == ("closed", "alice")
    dashboards.mark_reopened(engine, 7, REPO, now=NOW)
    assert dashboards.request_update(engine, 7, REPO, now=NOW, debounce=TEN_MINUTES) == NOW


def test_a_badge_key_is_made_once_and_found_by_name_in_any_case(engine: Engine) -> None:
    first = dashboards.badge_repo(engine, 7, REPO, now=NOW)
    assert first.needs_key  # visibility unknown: treated as private
    assert dashboards.badge_repo(engine, 7, REPO, now=NOW).key == first.key
    assert len(first.key) >= 20
    dashboards.set_private(engine, 7, REPO, False, now=NOW)
    found = dashboards.find_badge_repo(engine, "ACME/Monorepo")
    assert found is not None and found.key == first.key and not found.needs_key
    assert dashboards.find_badge_repo(engine, "acme/unknown") is None


def test_a_backfill_is_claimed_by_one_worker_until_its_lease_passes(engine: Engine) -> None:
    assert backfills.request_backfill(engine, 7, REPO, now=NOW)
    assert not backfills.request_backfill(engine, 7, REPO, now=NOW)
    lease = dt.timedelta(minutes=5)
    assert backfills.claim_backfill(engine, now=NOW, lease=lease, skip_installations={7}) is None
    claimed = backfills.claim_backfill(engine, now=NOW, lease=lease)
    assert claimed is not None and (claimed.repo, claimed.next_week, claimed.attempts) == (
        REPO,
        0,
        1,
    )
    assert backfills.claim_backfill(engine, now=NOW, lease=lease) is None
    assert backfills.claim_backfill(engine, now=NOW + lease * 2, lease=lease) is not None


def test_a_released_backfill_continues_from_its_next_week(engine: Engine) -> None:
    backfills.request_backfill(engine, 7, REPO, now=NOW)
    backfills.claim_backfill(engine, now=NOW, lease=dt.timedelta(minutes=5))
    later = NOW + dt.timedelta(minutes=1)
    backfills.release_backfill(engine, 7, REPO, next_week=4, done=False, not_before=later, now=NOW)
    assert backfills.claim_backfill(engine, now=NOW, lease=dt.timedelta(minutes=5)) is None
    again = backfills.claim_backfill(engine, now=later, lease=dt.timedelta(minutes=5))
    assert again is not None and again.next_week == 4 and again.anchor_at == NOW
    backfills.release_backfill(engine, 7, REPO, next_week=26, done=True, not_before=later, now=NOW)
    found = backfills.get_backfill(engine, 7, REPO)
    assert found is not None and found.state == "done"
    assert backfills.pending_backfills(engine, now=NOW + dt.timedelta(days=1)) == []


def test_uninstalling_forgets_the_progress_of_the_installation(engine: Engine) -> None:
    installations.save_installation(
        engine,
        7,
        account="acme",
        repository_selection="all",
        repositories=[REPO],
        suspended_at=None,
        now=NOW,
    )
    history.record_sample(engine, sample("a", 1, 5))
    history.record_decision(engine, decision(1, "blocked", 0))
    dashboards.request_update(engine, 7, REPO, now=NOW, debounce=TEN_MINUTES)
    dashboards.badge_repo(engine, 7, REPO, now=NOW)
    backfills.request_backfill(engine, 7, REPO, now=NOW)
    history.record_sample(engine, sample("a", 1, 5, installation_id=8))
    assert installations.delete_installation(engine, 7)
    assert history.samples(engine, 7, REPO) == []
    assert history.recent_decisions(engine, 7) == []
    assert dashboards.get_dashboard(engine, 7, REPO) is None
    assert dashboards.find_badge_repo(engine, REPO) is None
    assert backfills.get_backfill(engine, 7, REPO) is None
    assert len(history.samples(engine, 8, REPO)) == 1


def test_trend_samples_are_the_few_a_trend_needs_however_long_the_history(
    engine: Engine,
) -> None:
    # Four samples a day for 200 days: 800 rows, of which a trend needs about 30.
    for i in range(800):
        history.record_sample(engine, sample(f"s{i:03d}", 200 - i / 4, 1000 - i))
    found = history.trend_samples(engine, 7, REPO, now=NOW)
    assert len(found) <= 30
    shas = [s.commit_sha for s in found]
    assert shas == sorted(shas)  # oldest first
    assert shas[0] == "s000" and shas[-1] == "s799"
    series = trend.concept_series(found, "ws", "SSOT002")
    change = trend.change_over(series.points, 30, now=NOW)
    # The newest (s799, 6 hours old) against s680, exactly 30 days old: one less per sample.
    assert change is not None and change.delta == -(799 - 680)
    assert len(trend.weekly(series.points, 26)) == 26


def test_trend_samples_find_where_a_renamed_concept_starts(engine: Engine) -> None:
    for i in range(40):
        name = "ws" if i < 25 else "websocket"
        history.record_sample(engine, sample(f"s{i:02d}", 80 - 2 * i, 100 - i, concept=name))
    found = history.trend_samples(engine, 7, REPO, now=NOW)
    series = trend.concept_series(found, "websocket", "SSOT002")
    assert series.renamed_from == "ws"
    assert series.started_at == NOW - dt.timedelta(days=80 - 50)  # sample 25, exactly
