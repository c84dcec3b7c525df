"""History of a repository's default branch, and the gate's decisions on pull requests.

- ``history_samples``: the totals per concept and rule of one commit (a push, a backfilled
  week, or a CLI import), with the breakdown per directory and CODEOWNERS owner. Every view
  of progress reads it: the pull request's summary, the dashboard issue, badges and the
  web pages. Samples come back as :class:`HistorySample`, which
  :mod:`analyzers.trend` takes as it is.
- ``pull_decisions``: what the gate decided on a pull request's head (``blocked``,
  ``passed``) and who accepted findings with ``/ssot accept`` (``accepted``), with why and a
  link: the "recent decisions" of the dashboard.

The functions take and return plain dataclasses; nothing of SQLAlchemy leaks out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.db import insert_once
from bot.store.tables import history_samples, pull_decisions

Source = Literal["push", "backfill", "cli"]
Outcome = Literal["blocked", "accepted", "passed"]
Total = tuple[str, str, int, int | None]  # (concept, rule, count, target)


@dataclass(frozen=True)
class Breakdown:
    """Where one concept's debt sits: the directories and CODEOWNERS owners holding most of
    it, each with its count of findings, most first."""

    directories: tuple[tuple[str, int], ...] = ()
    owners: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class HistorySample:
    """The totals of one commit of a repository's default branch."""

    installation_id: int
    repo: str  # "owner/name"
    commit_sha: str
    committed_at: dt.datetime
    policy_key: str
    series: str  # analyzers.trend.series_key of the totals
    totals: tuple[Total, ...]
    source: Source
    recorded_at: dt.datetime
    files: int = 0  # Python files counted
    breakdown: Mapping[str, Breakdown] = field(default_factory=dict)  # per concept


@dataclass(frozen=True)
class RepositoryHistory:
    """A repository of an installation that has history, and how much."""

    repo: str
    samples: int
    first_at: dt.datetime
    latest_at: dt.datetime


@dataclass(frozen=True)
class PullDecision:
    """What happened to one pull request's head: blocked, passed, or findings accepted."""

    installation_id: int
    repo: str
    pr: int
    head_sha: str
    outcome: Outcome
    user: str  # the PR's author (blocked, passed) or who accepted (accepted)
    reason: str
    url: str  # the pull request (or its check run) on GitHub
    at: dt.datetime


# --- samples ---------------------------------------------------------------------------------


def _breakdown_json(breakdown: Mapping[str, Breakdown]) -> dict[str, Any]:
    return {
        concept: {
            "directories": [list(d) for d in item.directories],
            "owners": [list(o) for o in item.owners],
        }
        for concept, item in breakdown.items()
    }


def _breakdown_of(data: Any) -> dict[str, Breakdown]:
    if not isinstance(data, dict):
        return {}
    return {
        str(concept): Breakdown(
            directories=tuple((str(d), int(n)) for d, n in item.get("directories") or []),
            owners=tuple((str(o), int(n)) for o, n in item.get("owners") or []),
        )
        for concept, item in data.items()
        if isinstance(item, dict)
    }


def _totals_of(data: Any) -> tuple[Total, ...]:
    return tuple(
        (str(t[0]), str(t[1]), int(t[2]), None if t[3] is None else int(t[3])) for t in data or []
    )


def _sample(row: Any) -> HistorySample:
    return HistorySample(
        installation_id=int(row.installation_id),
        repo=row.repo,
        commit_sha=row.commit_sha,
        committed_at=row.committed_at,
        policy_key=row.policy_key,
        series=row.series,
        totals=_totals_of(row.totals),
        source=row.source,
        recorded_at=row.recorded_at,
        files=int(row.files),
        breakdown=_breakdown_of(row.breakdown),
    )


def record_sample(engine: Engine, sample: HistorySample) -> bool:
    """Store ``sample``, replacing an earlier one of the same commit; True when it is new.

    A commit's totals under one policy never change, but the policy (or the engine) may
    have since: the newest computation wins.
    """
    c = history_samples.c
    values: dict[str, Any] = {
        "committed_at": sample.committed_at,
        "policy_key": sample.policy_key,
        "series": sample.series,
        "totals": [list(t) for t in sample.totals],
        "breakdown": _breakdown_json(sample.breakdown),
        "files": sample.files,
        "source": sample.source,
        "recorded_at": sample.recorded_at,
    }
    key = (
        (c.installation_id == sample.installation_id)
        & (c.repo == sample.repo)
        & (c.commit_sha == sample.commit_sha)
    )
    with engine.begin() as conn:
        if conn.execute(history_samples.update().where(key).values(**values)).rowcount:
            return False
    if insert_once(
        engine,
        history_samples,
        installation_id=sample.installation_id,
        repo=sample.repo,
        commit_sha=sample.commit_sha,
        **values,
    ):
        return True
    with engine.begin() as conn:  # another worker inserted it meanwhile: ours is as new
        conn.execute(history_samples.update().where(key).values(**values))
    return False


def samples(
    engine: Engine,
    installation_id: int,
    repo: str,
    *,
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> list[HistorySample]:
    """The samples of ``repo``, oldest first: those committed at or after ``since``, the
    newest ``limit`` of them."""
    c = history_samples.c
    query = sa.select(history_samples).where(c.installation_id == installation_id, c.repo == repo)
    if since is not None:
        query = query.where(c.committed_at >= since)
    query = query.order_by(c.committed_at.desc(), c.recorded_at.desc())
    if limit is not None:
        query = query.limit(limit)
    with engine.begin() as conn:
        rows = conn.execute(query).all()
    return [_sample(row) for row in reversed(rows)]


def latest_sample(engine: Engine, installation_id: int, repo: str) -> HistorySample | None:
    """The newest sample of ``repo`` (by commit time), or None without history."""
    found = samples(engine, installation_id, repo, limit=1)
    return found[0] if found else None


def trend_samples(
    engine: Engine,
    installation_id: int,
    repo: str,
    *,
    now: dt.datetime,
    days: Sequence[int] = (7, 30),
    weeks: int = 26,
) -> list[HistorySample]:
    """The few samples a trend needs, oldest first, however long the history: the newest;
    the newest at or before each of ``days`` days ago and each of the last ``weeks`` weeks;
    the oldest; and where the newest series starts (its first sample and the one before).

    A repository pushed to a hundred times a day has thousands of samples a month; the
    change over 30 days, the pace and a chart of 26 weekly points need these few (each an
    indexed query).
    """
    c = history_samples.c
    base = sa.select(history_samples).where(c.installation_id == installation_id, c.repo == repo)
    newest_first = (c.committed_at.desc(), c.recorded_at.desc())
    cutoffs = [now - dt.timedelta(days=d) for d in days]
    cutoffs += [now - dt.timedelta(weeks=k) for k in range(1, weeks)]
    found: dict[str, Any] = {}
    with engine.begin() as conn:
        newest = conn.execute(base.order_by(*newest_first).limit(1)).first()
        if newest is None:
            return []
        rows: list[Any] = [newest]
        for cutoff in cutoffs:
            rows.append(
                conn.execute(
                    base.where(c.committed_at <= cutoff).order_by(*newest_first).limit(1)
                ).first()
            )
        rows.append(conn.execute(base.order_by(c.committed_at, c.recorded_at).limit(1)).first())
        before = conn.execute(
            base.where(c.series != newest.series).order_by(*newest_first).limit(1)
        ).first()
        if before is not None:
            rows.append(before)
            rows.append(
                conn.execute(
                    base.where(c.committed_at > before.committed_at)
                    .order_by(c.committed_at, c.recorded_at)
                    .limit(1)
                ).first()
            )
    for row in rows:
        if row is not None:
            found.setdefault(row.commit_sha, row)
    # Ties (two commits of the same second) in the order they were recorded.
    return sorted(
        (_sample(r) for r in found.values()), key=lambda s: (s.committed_at, s.recorded_at)
    )


def sample_at(
    engine: Engine, installation_id: int, repo: str, commit_sha: str
) -> HistorySample | None:
    """The sample of one commit, if it was recorded."""
    c = history_samples.c
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(history_samples).where(
                c.installation_id == installation_id, c.repo == repo, c.commit_sha == commit_sha
            )
        ).first()
    return None if row is None else _sample(row)


def repositories_with_history(engine: Engine, installation_id: int) -> list[RepositoryHistory]:
    """Every repository of the installation with at least one sample, by name."""
    c = history_samples.c
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(
                c.repo,
                sa.func.count().label("samples"),
                sa.func.min(c.committed_at).label("first_at"),
                sa.func.max(c.committed_at).label("latest_at"),
            )
            .where(c.installation_id == installation_id)
            .group_by(c.repo)
            .order_by(c.repo)
        ).all()
    return [
        RepositoryHistory(row.repo, int(row.samples), row.first_at, row.latest_at) for row in rows
    ]


def drop_rewritten(
    engine: Engine,
    installation_id: int,
    repo: str,
    *,
    after: dt.datetime,
    keep: Collection[str] = (),
) -> int:
    """Forget the samples committed after ``after`` except the commits in ``keep``; how many.

    After a force push to the default branch, the commits after the new head's merge base
    with the old one are no longer its history: their samples would draw a curve of a
    branch that does not exist.
    """
    c = history_samples.c
    condition = (c.installation_id == installation_id) & (c.repo == repo) & (c.committed_at > after)
    if keep:
        condition = condition & c.commit_sha.not_in(list(keep))
    with engine.begin() as conn:
        return int(conn.execute(history_samples.delete().where(condition)).rowcount)


# --- decisions ---------------------------------------------------------------------------------


def record_decision(engine: Engine, decision: PullDecision) -> bool:
    """Store a decision; False when the same one (PR, head, outcome, user) is already stored."""
    return insert_once(
        engine,
        pull_decisions,
        installation_id=decision.installation_id,
        repo=decision.repo,
        pr=decision.pr,
        head_sha=decision.head_sha,
        outcome=decision.outcome,
        user=decision.user[:100],
        reason=decision.reason,
        url=decision.url[:500],
        at=decision.at,
    )


def prune_decisions(engine: Engine, *, before: dt.datetime) -> int:
    """Forget decisions made before ``before``; how many.

    A decision is stored for every head of every pull request (``passed`` ones included):
    without pruning the table grows with every push of an organisation, for pages that only
    ever show the newest few.
    """
    with engine.begin() as conn:
        deleted = conn.execute(pull_decisions.delete().where(pull_decisions.c.at < before))
    return int(deleted.rowcount)


def recent_decisions(
    engine: Engine,
    installation_id: int,
    repo: str | None = None,
    *,
    limit: int = 10,
    outcomes: Sequence[Outcome] = ("blocked", "accepted"),
    since: dt.datetime | None = None,
) -> list[PullDecision]:
    """The newest decisions of ``repo`` (or of every repository of the installation), newest
    first, only of ``outcomes``."""
    c = pull_decisions.c
    query = sa.select(pull_decisions).where(
        c.installation_id == installation_id, c.outcome.in_(list(outcomes))
    )
    if repo is not None:
        query = query.where(c.repo == repo)
    if since is not None:
        query = query.where(c.at >= since)
    with engine.begin() as conn:
        rows = conn.execute(query.order_by(c.at.desc(), c.id.desc()).limit(limit)).all()
    return [
        PullDecision(
            installation_id=int(r.installation_id),
            repo=r.repo,
            pr=int(r.pr),
            head_sha=r.head_sha,
            outcome=r.outcome,
            user=r.user,
            reason=r.reason,
            url=r.url,
            at=r.at,
        )
        for r in rows
    ]
