"""Backfills: a new repository's weekly samples of the last six months, taken at low priority.

One row per repository: the weeks are counted back from ``anchor_at`` (so a resumed backfill
samples the same dates), ``next_week`` is the next one to take. A worker claims a row with a
lease (two workers never sample the same repository at once; a dead worker's row is taken
again once its lease passed), takes a few weeks within the installation's budget, and
releases it with ``not_before`` set to when it may continue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.db import insert_once
from bot.store.tables import MAX_ERROR_CHARS, backfills

BackfillState = Literal["pending", "done", "failed"]


@dataclass(frozen=True)
class Backfill:
    """One repository's backfill."""

    installation_id: int
    repo: str
    state: BackfillState
    anchor_at: dt.datetime
    next_week: int
    not_before: dt.datetime
    lease_until: dt.datetime | None
    attempts: int
    error: str | None
    updated_at: dt.datetime


def _backfill(row: Any) -> Backfill:
    return Backfill(**{k: row._mapping[k] for k in Backfill.__dataclass_fields__})


def _key(installation_id: int, repo: str) -> Any:
    c = backfills.c
    return (c.installation_id == installation_id) & (c.repo == repo)


def request_backfill(engine: Engine, installation_id: int, repo: str, *, now: dt.datetime) -> bool:
    """Queue a backfill of ``repo`` anchored at ``now``; False when it has one already."""
    return insert_once(
        engine,
        backfills,
        installation_id=installation_id,
        repo=repo,
        state="pending",
        anchor_at=now,
        next_week=0,
        not_before=now,
        attempts=0,
        updated_at=now,
    )


def get_backfill(engine: Engine, installation_id: int, repo: str) -> Backfill | None:
    with engine.begin() as conn:
        row = conn.execute(sa.select(backfills).where(_key(installation_id, repo))).first()
    return None if row is None else _backfill(row)


def pending_backfills(engine: Engine, *, now: dt.datetime) -> list[Backfill]:
    """Pending backfills that may run now (not waiting, not leased), oldest first."""
    c = backfills.c
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(backfills)
            .where(
                c.state == "pending",
                c.not_before <= now,
                sa.or_(c.lease_until.is_(None), c.lease_until < now),
            )
            .order_by(c.not_before, c.installation_id, c.repo)
        ).all()
    return [_backfill(r) for r in rows]


def claim_backfill(
    engine: Engine,
    *,
    now: dt.datetime,
    lease: dt.timedelta,
    skip_installations: Collection[int] = (),
) -> Backfill | None:
    """Lease the oldest pending backfill that may run now (not of ``skip_installations``)."""
    c = backfills.c
    for candidate in pending_backfills(engine, now=now):
        if candidate.installation_id in skip_installations:
            continue
        guard = (
            c.lease_until.is_(None)
            if candidate.lease_until is None
            else c.lease_until == candidate.lease_until
        )
        with engine.begin() as conn:
            taken = conn.execute(
                backfills.update()
                .where(_key(candidate.installation_id, candidate.repo), c.state == "pending", guard)
                .values(lease_until=now + lease, attempts=c.attempts + 1, updated_at=now)
            ).rowcount
        if taken:
            return get_backfill(engine, candidate.installation_id, candidate.repo)
    return None


def release_backfill(
    engine: Engine,
    installation_id: int,
    repo: str,
    *,
    next_week: int,
    done: bool,
    not_before: dt.datetime,
    now: dt.datetime,
    error: str | None = None,
    failed: bool = False,
) -> None:
    """Give a claimed backfill back: its progress, and when it may continue."""
    state: BackfillState = "failed" if failed else "done" if done else "pending"
    values: dict[str, Any] = {
        "state": state,
        "next_week": next_week,
        "not_before": not_before,
        "lease_until": None,
        "error": None if error is None else error[:MAX_ERROR_CHARS],
        "updated_at": now,
    }
    if not failed and error is None:
        values["attempts"] = 0
    with engine.begin() as conn:
        conn.execute(backfills.update().where(_key(installation_id, repo)).values(**values))


def forget_backfill(engine: Engine, installation_id: int, repo: str) -> None:
    """Drop a repository's backfill (removed from the installation)."""
    with engine.begin() as conn:
        conn.execute(backfills.delete().where(_key(installation_id, repo)))
