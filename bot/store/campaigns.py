"""Consolidation campaigns: the batches the App proposed or opened, and each repository's
campaign state. Typed rows in and out (no SQLAlchemy rows leave this module).

The dashboard issue reads what it shows about campaigns from here (:func:`dashboard`), never
from ``bot/campaigns/``; :mod:`bot.store.campaign_section` renders it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.tables import CAMPAIGN_STATES, campaign_batches, campaign_repos, write_waits

BatchState = Literal["proposed", "open", "merged", "closed", "empty"]


@dataclass(frozen=True)
class CampaignBatch:
    """One batch of a repository's campaign (see bot/store/tables.py for the states)."""

    installation_id: int
    repo: str
    batch_id: str
    concept: str
    group: str
    part: int
    branch: str
    state: BatchState
    files: tuple[str, ...]
    fixes: int
    updated_at: dt.datetime
    pr: int | None = None
    head_sha: str | None = None
    base_sha: str | None = None
    left_out: tuple[tuple[str, str], ...] = ()
    check_state: str | None = None
    requested: bool = False
    closed_by_human: bool = False
    human_push_noted: bool = False
    opened_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None

    def but(self, **changes: Any) -> CampaignBatch:
        """A copy with ``changes``."""
        return replace(self, **changes)


@dataclass(frozen=True)
class CampaignRepo:
    """A repository's campaign: schedule bookkeeping, a pause, a refused push."""

    installation_id: int
    repo: str
    updated_at: dt.datetime
    last_run_at: dt.datetime | None = None
    next_check_at: dt.datetime | None = None
    paused_until: dt.datetime | None = None
    pause_reason: str | None = None
    blocked: str | None = None
    blocked_noted: bool = False
    round_open: bool = False

    def but(self, **changes: Any) -> CampaignRepo:
        return replace(self, **changes)


_COLUMNS = {"group": "group_name", "state": "status"}


def _row_values(batch: CampaignBatch) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields(batch):
        value = getattr(batch, f.name)
        if f.name == "files":
            value = sorted(value)
        elif f.name == "left_out":
            value = [list(item) for item in value]
        values[_COLUMNS.get(f.name, f.name)] = value
    if batch.state not in CAMPAIGN_STATES:
        raise ValueError(f"unknown batch state {batch.state!r}")
    return values


def _batch(row: Any) -> CampaignBatch:
    data = row._asdict()
    data["group"] = data.pop("group_name")
    data["state"] = data.pop("status")
    data["files"] = tuple(data["files"] or ())
    data["left_out"] = tuple((str(p), str(r)) for p, r in data["left_out"] or ())
    data["requested"] = bool(data["requested"])
    data["closed_by_human"] = bool(data["closed_by_human"])
    data["human_push_noted"] = bool(data["human_push_noted"])
    return CampaignBatch(**data)


def batches(
    engine: Engine,
    installation_id: int,
    repo: str,
    states: Iterable[BatchState] | None = None,
) -> list[CampaignBatch]:
    """The repository's batches (in ``states`` only, if given), by id."""
    c = campaign_batches.c
    query = sa.select(campaign_batches).where(c.installation_id == installation_id, c.repo == repo)
    if states is not None:
        query = query.where(c.status.in_(list(states)))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(c.batch_id)).all()
    return [_batch(row) for row in rows]


def get_batch(
    engine: Engine, installation_id: int, repo: str, batch_id: str
) -> CampaignBatch | None:
    c = campaign_batches.c
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(campaign_batches).where(
                c.installation_id == installation_id, c.repo == repo, c.batch_id == batch_id
            )
        ).first()
    return None if row is None else _batch(row)


def batch_for_pull(
    engine: Engine, installation_id: int, repo: str, pr: int
) -> CampaignBatch | None:
    """The batch whose pull request is ``repo#pr``, if it is one."""
    c = campaign_batches.c
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(campaign_batches).where(
                c.installation_id == installation_id, c.repo == repo, c.pr == pr
            )
        ).first()
    return None if row is None else _batch(row)


def save_batch(engine: Engine, batch: CampaignBatch) -> None:
    """Insert or replace one batch."""
    c = campaign_batches.c
    values = _row_values(batch)
    key = (
        c.installation_id == batch.installation_id,
        c.repo == batch.repo,
        c.batch_id == batch.batch_id,
    )
    with engine.begin() as conn:
        if not conn.execute(campaign_batches.update().where(*key).values(**values)).rowcount:
            conn.execute(campaign_batches.insert().values(**values))


def forget_proposed(engine: Engine, installation_id: int, repo: str, keep: Sequence[str]) -> int:
    """Delete proposed batches not in ``keep`` that nobody asked for; how many."""
    c = campaign_batches.c
    with engine.begin() as conn:
        return int(
            conn.execute(
                campaign_batches.delete().where(
                    c.installation_id == installation_id,
                    c.repo == repo,
                    c.status == "proposed",
                    sa.not_(c.requested),
                    c.batch_id.not_in(list(keep)) if keep else sa.true(),
                )
            ).rowcount
        )


def opened_since(engine: Engine, installation_id: int, repo: str, since: dt.datetime) -> int:
    """How many batch pull requests were opened in ``repo`` since ``since``."""
    c = campaign_batches.c
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(
                    c.installation_id == installation_id, c.repo == repo, c.opened_at > since
                )
            ).scalar_one()
        )


def record_check(
    engine: Engine,
    installation_id: int,
    repo: str,
    pr: int,
    conclusion: str,
    now: dt.datetime,
) -> bool:
    """Remember the conclusion of the check of a batch pull request's head; False when
    ``repo#pr`` is no batch (nothing written).

    Whoever's commit the head is: after a person pushed to the batch, their head's check is
    the batch's state (the pipeline never gets here for a head already superseded).
    """
    c = campaign_batches.c
    with engine.begin() as conn:
        return bool(
            conn.execute(
                campaign_batches.update()
                .where(
                    c.installation_id == installation_id,
                    c.repo == repo,
                    c.pr == pr,
                )
                .values(check_state=conclusion, updated_at=now)
            ).rowcount
        )


# --- a repository's campaign ----------------------------------------------------------------


def get_repo(engine: Engine, installation_id: int, repo: str) -> CampaignRepo | None:
    c = campaign_repos.c
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(campaign_repos).where(c.installation_id == installation_id, c.repo == repo)
        ).first()
    if row is None:
        return None
    data = row._asdict()
    data["blocked_noted"] = bool(data["blocked_noted"])
    data["round_open"] = bool(data["round_open"])
    return CampaignRepo(**data)


def repo_or_new(engine: Engine, installation_id: int, repo: str, now: dt.datetime) -> CampaignRepo:
    """The stored campaign of ``repo``, or a fresh one (not stored until saved)."""
    return get_repo(engine, installation_id, repo) or CampaignRepo(installation_id, repo, now)


def save_repo(engine: Engine, state: CampaignRepo) -> None:
    """Insert or replace a repository's campaign state."""
    c = campaign_repos.c
    values = {f.name: getattr(state, f.name) for f in fields(state)}
    key = (c.installation_id == state.installation_id, c.repo == state.repo)
    with engine.begin() as conn:
        if not conn.execute(campaign_repos.update().where(*key).values(**values)).rowcount:
            conn.execute(campaign_repos.insert().values(**values))


# --- checks first: when a check waits for write budget ------------------------------------


def note_checks_waiting(engine: Engine, installation_id: int, until: dt.datetime) -> None:
    """A pull-request check of the installation waits for write budget until ``until``."""
    c = write_waits.c
    with engine.begin() as conn:
        updated = conn.execute(
            write_waits.update()
            .where(c.installation_id == installation_id, c.checks_waiting_until < until)
            .values(checks_waiting_until=until)
        ).rowcount
        if updated:
            return
        exists = conn.execute(
            sa.select(c.installation_id).where(c.installation_id == installation_id)
        ).first()
        if exists is None:
            conn.execute(
                write_waits.insert().values(
                    installation_id=installation_id, checks_waiting_until=until
                )
            )


def checks_waiting_until(engine: Engine, installation_id: int) -> dt.datetime | None:
    """Until when a check of the installation said it waits for write budget (None: never)."""
    c = write_waits.c
    with engine.connect() as conn:
        value: dt.datetime | None = conn.execute(
            sa.select(c.checks_waiting_until).where(c.installation_id == installation_id)
        ).scalar_one_or_none()
    return value


# --- what the dashboard issue shows ---------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    """A repository's campaign for its dashboard issue: batches by state, and why it stopped."""

    proposed: list[CampaignBatch] = field(default_factory=list)
    open: list[CampaignBatch] = field(default_factory=list)
    merged: list[CampaignBatch] = field(default_factory=list)
    closed: list[CampaignBatch] = field(default_factory=list)  # by a person, or empty
    blocked: str | None = None
    paused_until: dt.datetime | None = None

    @property
    def fixed_by_merged(self) -> int:
        """Findings the merged batches removed (their effect on the burn-down)."""
        return sum(b.fixes for b in self.merged)

    def merged_effect(self) -> list[tuple[dt.datetime, int]]:
        """``(merged at, findings removed)`` per merged batch, oldest first: the steps a
        burn-down chart can mark."""
        return sorted((b.closed_at, b.fixes) for b in self.merged if b.closed_at is not None)


def dashboard(engine: Engine, installation_id: int, repo: str) -> Dashboard:
    """Everything the dashboard issue shows about ``repo``'s campaign."""
    rows = batches(engine, installation_id, repo)
    state = get_repo(engine, installation_id, repo)
    return Dashboard(
        proposed=[b for b in rows if b.state == "proposed"],
        open=[b for b in rows if b.state == "open"],
        merged=[b for b in rows if b.state == "merged"],
        closed=[b for b in rows if b.state in ("closed", "empty")],
        blocked=state.blocked if state else None,
        paused_until=state.paused_until if state else None,
    )
