"""What the dashboard reads of a repository's history: trends, renamed and dropped concepts,
history older than the charts' window, none at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_testing import NOW, sample
from sqlalchemy.engine import Engine

from bot.store import campaigns, db, history
from bot.web.dashboard_pages import burndowns
from bot.web.dashboard_view import repository_detail, repository_view
from bot.web.github_signin import ReadableRepository

REPO = ReadableRepository(7, "acme/api", private=True, html_url="https://github.com/acme/api")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = db.create_engine(f"sqlite:///{tmp_path / 'view.db'}")
    db.create_schema(engine)
    yield engine
    engine.dispose()


def test_a_repository_without_history_has_an_empty_view(engine: Engine) -> None:
    view = repository_view(engine, REPO, now=NOW)
    assert not view.has_history and view.concepts == () and view.ended == ()
    assert repository_detail(engine, REPO, now=NOW).decisions == ()


def test_a_renamed_concept_keeps_its_older_run_beside_it_not_among_the_ended(
    engine: Engine,
) -> None:
    for days_ago, name, count in (
        (21, "ws", 10),
        (14, "ws", 9),
        (7, "ws-manager", 8),
        (0, "ws-manager", 7),
    ):
        history.record_sample(
            engine, sample(7, "acme/api", days_ago, ((name, "SSOT002", count, 1),))
        )
    view = repository_view(engine, REPO, now=NOW)
    [concept] = view.concepts
    assert concept.trend.series.renamed_from == "ws"
    assert [p.count for p in concept.trend.series.points] == [8, 7]
    assert concept.previous is not None and [p.count for p in concept.previous.points] == [10, 9]
    assert view.ended == ()


def test_a_concept_the_policy_dropped_is_an_ended_series(engine: Engine) -> None:
    history.record_sample(
        engine, sample(7, "acme/api", 14, (("ws", "SSOT002", 5, 1), ("old", "SSOT001", 3, 0)))
    )
    history.record_sample(engine, sample(7, "acme/api", 7, (("ws", "SSOT002", 4, 1),)))
    view = repository_view(engine, REPO, now=NOW)
    assert [c.trend.concept for c in view.concepts] == ["ws"]
    assert [(s.concept, s.rule, [p.count for p in s.points]) for s in view.ended] == [
        ("old", "SSOT001", [3])
    ]


def test_history_older_than_the_window_still_shows_the_latest_counts(engine: Engine) -> None:
    history.record_sample(engine, sample(7, "acme/api", 500, (("ws", "SSOT002", 12, 1),)))
    view = repository_view(engine, REPO, now=NOW)
    assert view.has_history
    [concept] = view.concepts
    assert concept.trend.count == 12 and concept.trend.target == 1


def test_another_installations_samples_of_the_same_name_are_not_read(engine: Engine) -> None:
    history.record_sample(engine, sample(8, "acme/api", 1, (("ws", "SSOT002", 12, 1),)))
    assert not repository_view(engine, REPO, now=NOW).has_history
    assert repository_view(
        engine, ReadableRepository(8, "acme/api", True, ""), now=NOW + dt.timedelta(seconds=1)
    ).has_history


def merged_batch(number: int, concept: str, fixes: int, days_ago: float) -> campaigns.CampaignBatch:
    at = NOW - dt.timedelta(days=days_ago)
    return campaigns.CampaignBatch(
        installation_id=7,
        repo="acme/api",
        batch_id=f"{concept}/pkg-{number}",
        concept=concept,
        group=f"pkg/{number}",
        part=1,
        branch=f"ssot/consolidate/{concept}/pkg-{number}",
        state="merged",
        files=("pkg/a.py",),
        fixes=fixes,
        updated_at=at,
        pr=number,
        opened_at=at - dt.timedelta(days=1),
        closed_at=at,
    )


def test_the_burn_down_marks_where_merged_consolidation_prs_took_findings_away(
    engine: Engine,
) -> None:
    for days_ago, count in ((28, 40), (14, 31), (0, 28)):
        totals = (("ws", "SSOT001", count, 0), ("ws", "SSOT002", 5, 1))
        history.record_sample(engine, sample(7, "acme/api", days_ago, totals))
    campaigns.save_batch(engine, merged_batch(12, "ws", 6, 20))
    campaigns.save_batch(engine, merged_batch(13, "ws", 3, 10))
    campaigns.save_batch(engine, merged_batch(14, "other", 9, 10))  # another concept
    campaigns.save_batch(engine, merged_batch(9, "ws", 2, 400))  # before the charts' window
    view = repository_view(engine, REPO, now=NOW)
    assert [b.pr for b in view.merged] == [12, 14, 13]  # oldest first, within the window
    page = burndowns(view, size=(360, 210))
    ssot001, ssot002 = page.split("<figure")[1:]
    assert "#12 merged: \u22126" in ssot001 and "#13 merged: \u22123" in ssot001
    assert "#14" not in ssot001 and "#9 " not in ssot001
    assert "merged" not in ssot002  # batches rewrite imports: SSOT001's count, not SSOT002's
