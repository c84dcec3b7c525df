"""Tenant isolation: every stored row belongs to one installation, and uninstalling the App
deletes all of that installation's rows, in every table, and nothing of another one."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from bot_testing import payload
from sqlalchemy.engine import Engine

from bot.jobs.queue import DECISION_RETENTION, JobQueue
from bot.ops.settings import Settings
from bot.store import (
    acceptances,
    backfills,
    command_answers,
    comments,
    dashboards,
    db,
    deliveries,
    findings_cache,
    history,
    installations,
    limits,
    locks,
    tables,
)
from bot.store import campaigns as campaign_store
from bot.store import totals as totals_store

GONE, KEPT = 957387, 42
REPO = {GONE: "gone/repo", KEPT: "kept/repo"}

# Tables whose rows belong to no installation, and why. Adding a table to bot/store/tables.py
# without an ``installation_id`` column makes the test below fail until it is listed here.
SHARED = {
    # The previous release's shared findings cache: unused since revision 0004, which emptied
    # it; kept for a rolling upgrade and emptied every hour; dropped by the next release.
    "blob_findings",
}
KEYED_BY_ID = {"installations"}  # its ``id`` is the installation id


def owner_column(table: sa.Table) -> sa.Column[Any]:
    if table.name in KEYED_BY_ID:
        return table.c.id
    assert "installation_id" in table.c, (
        f"table {table.name!r} has no installation_id: tenant data must say whose it is "
        "(or list the table in SHARED with the reason)"
    )
    return table.c.installation_id


@pytest.fixture
def jobs(settings: Settings) -> Iterator[JobQueue]:
    engine = db.open_database(settings.database_url)
    yield JobQueue(settings, engine, immediate=True)
    engine.dispose()


def fill(engine: Engine, installation_id: int) -> None:
    """A row of ``installation_id`` in every table, through the store's own functions."""
    now = db.utcnow()
    repo = REPO[installation_id]
    installations.save_installation(
        engine,
        installation_id,
        account=repo.split("/")[0],
        repository_selection="selected",
        repositories=[repo],
        suspended_at=None,
        now=now,
    )
    assert deliveries.insert_delivery(
        engine,
        deliveries.NewDelivery(f"d-{installation_id}", "push", None, installation_id, repo, b"{}"),
        now=now,
        requeue_at=None,
    )
    assert acceptances.accept_finding(
        engine,
        installation_id=installation_id,
        repo=repo,
        pr=1,
        fingerprint="fp",
        user="alice",
        reason="ok",
        now=now,
    )
    findings_cache.put_blob_findings(
        engine, installation_id, "policy", [("same-blob", "path", b"[]")], now=now
    )
    totals_store.save_repo_totals(
        engine,
        installation_id=installation_id,
        repo=repo,
        totals=totals_store.RepoTotals(
            "policy", "c0ffee", [("concept", "SSOT001", 1, None)], 1, False, now
        ),
    )
    assert locks.acquire_pull_lock(
        engine, installation_id=installation_id, repo=repo, pr=1, holder="h", now=now, until=now
    )
    comments.record_minimized(
        engine,
        [f"node-{installation_id}"],
        installation_id=installation_id,
        repo=repo,
        pr=1,
        now=now,
    )
    assert deliveries.claim_redelivery(
        engine,
        f"guid-{installation_id}",
        hook_delivery_id=1,
        installation_id=installation_id,
        now=now,
    )
    limits.block_installation(engine, installation_id, until=now, reason="rate limited")
    limits.record_write(engine, installation_id, at=now, forget_before=now)
    campaign_store.save_batch(
        engine,
        campaign_store.CampaignBatch(
            installation_id,
            repo,
            "c/g-1",
            "c",
            "g",
            1,
            "ssot/consolidate/c/g-1",
            "open",
            ("a.py",),
            1,
            now,
            pr=1,
        ),
    )
    campaign_store.save_repo(engine, campaign_store.CampaignRepo(installation_id, repo, now))
    campaign_store.note_checks_waiting(engine, installation_id, now)
    assert command_answers.take_answer(
        engine, installation_id=installation_id, repo=repo, login="bob", now=now, per_hour=1
    )
    history.record_sample(
        engine,
        history.HistorySample(
            installation_id=installation_id,
            repo=repo,
            commit_sha="c0ffee",
            committed_at=now,
            policy_key="policy",
            series="s",
            totals=(("concept", "SSOT001", 1, 0),),
            source="push",
            recorded_at=now,
        ),
    )
    assert history.record_decision(
        engine,
        history.PullDecision(installation_id, repo, 1, "head", "blocked", "alice", "r", "u", now),
    )
    dashboards.request_update(engine, installation_id, repo, now=now, debounce=now - now)
    dashboards.badge_repo(engine, installation_id, repo, now=now)
    assert backfills.request_backfill(engine, installation_id, repo, now=now)


def rows_of(engine: Engine, table: sa.Table, installation_id: int) -> int:
    with engine.begin() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(table)
            .where(owner_column(table) == installation_id)
        ).scalar_one()
    return int(count)


def total_rows(engine: Engine, table: sa.Table) -> int:
    with engine.begin() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_every_table_says_which_installation_a_row_belongs_to() -> None:
    for table in tables.metadata.tables.values():
        if table.name not in SHARED:
            owner_column(table)


def test_uninstalling_deletes_every_row_of_that_installation_and_none_of_another(
    jobs: JobQueue,
) -> None:
    engine = jobs.engine
    fill(engine, GONE)
    fill(engine, KEPT)
    owned = [t for t in tables.metadata.tables.values() if t.name not in SHARED]
    for table in owned:  # the fixture covers every table: a new one must be filled too
        assert rows_of(engine, table, GONE) >= 1, f"fill() writes no row of {table.name}"
        assert rows_of(engine, table, KEPT) >= 1, f"fill() writes no row of {table.name}"
    before = {t.name: rows_of(engine, t, KEPT) for t in owned}
    shared_before = {name: total_rows(engine, tables.metadata.tables[name]) for name in SHARED}

    deleted = payload("installation/deleted")
    deleted["installation"]["id"] = GONE
    assert deliveries.insert_delivery(
        engine,
        deliveries.NewDelivery(
            "uninstall", "installation", "deleted", GONE, None, json.dumps(deleted).encode()
        ),
        now=db.utcnow(),
        requeue_at=None,
    )
    assert jobs.process_delivery("uninstall") == tables.DONE

    for table in owned:
        left = rows_of(engine, table, GONE)
        if table is tables.deliveries:
            # Only the uninstall delivery itself: done, so a redelivery of it stays one effect.
            assert left == 1
            uninstall = deliveries.get_delivery(engine, "uninstall")
            assert uninstall is not None and uninstall.state == tables.DONE
        else:
            assert left == 0, f"{table.name} keeps rows of the deleted installation"
        assert rows_of(engine, table, KEPT) == before[table.name], table.name
    for name in SHARED:
        assert total_rows(engine, tables.metadata.tables[name]) == shared_before[name]
    assert installations.get_installation(engine, KEPT) is not None
    assert acceptances.accepted_fingerprints(
        engine, installation_id=KEPT, repo=REPO[KEPT], pr=1
    ) == {"fp"}


def test_deleting_an_installation_directly_removes_all_its_rows(jobs: JobQueue) -> None:
    engine = jobs.engine
    fill(engine, GONE)
    fill(engine, KEPT)
    assert installations.delete_installation(engine, GONE)
    for table in tables.metadata.tables.values():
        if table.name not in SHARED:
            assert rows_of(engine, table, GONE) == 0, table.name
            assert rows_of(engine, table, KEPT) >= 1, table.name
    assert not installations.delete_installation(engine, GONE)  # already gone


def test_the_hourly_prune_empties_the_previous_release_shared_cache(jobs: JobQueue) -> None:
    """Workers of the previous release may still fill ``blob_findings`` during a rolling
    upgrade: its rows quote some installation's code, so they do not outlive the hour."""
    with jobs.engine.begin() as conn:
        conn.execute(
            tables.legacy_blob_findings.insert().values(
                policy_key="old",
                blob_sha="sha",
                path_hash="path",
                findings=b"[]",
                stored_at=db.utcnow(),
            )
        )
    jobs.prune()
    assert total_rows(jobs.engine, tables.legacy_blob_findings) == 0


def test_the_hourly_prune_forgets_decisions_older_than_half_a_year(jobs: JobQueue) -> None:
    now = db.utcnow()
    for pr, age in ((1, DECISION_RETENTION + dt.timedelta(days=1)), (2, dt.timedelta(days=1))):
        decided = history.PullDecision(
            KEPT, REPO[KEPT], pr, "h", "passed", "a", "r", "u", now - age
        )
        assert history.record_decision(jobs.engine, decided)
    jobs.prune()
    kept = history.recent_decisions(jobs.engine, KEPT, outcomes=("passed",))
    assert [d.pr for d in kept] == [2]
