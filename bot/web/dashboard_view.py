"""What the dashboard shows of a repository, read from the store: its trends and decisions.

The history is :mod:`bot.store.history`'s; trends, pace and the date the target is reached
are :mod:`analyzers.trend`'s, the same numbers as the dashboard issue, the pull request's
summary and ``ssot history``. A renamed concept keeps its older name's run beside it
(``previous``), so a chart draws both with the break between them; a concept the policy
dropped is an ended series of the history chart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from analyzers import trend
from analyzers.trend import Series, Trend
from bot.store import campaigns, history
from bot.store.campaigns import CampaignBatch
from bot.store.history import HistorySample, PullDecision
from bot.web.github_signin import ReadableRepository

HISTORY_DAYS = 365  # the charts' window
MAX_SAMPLES = 5000  # newest samples read per repository (a year of busy pushes)
DECISIONS = 15


@dataclass(frozen=True)
class ConceptView:
    """One ``(concept, rule)`` of the newest sample, with its trend and its run before a rename."""

    trend: Trend
    previous: Series | None = None  # the older name's run, when the concept was renamed


@dataclass(frozen=True)
class RepositoryView:
    """A repository the person can read, and what its history says (nothing, without one)."""

    repo: ReadableRepository
    latest: HistorySample | None
    concepts: tuple[ConceptView, ...] = ()
    ended: tuple[Series, ...] = ()  # runs of concepts no longer in the policy
    # Consolidation pull requests merged within the charts' window, oldest first: the
    # burn-downs mark where each took its findings away.
    merged: tuple[CampaignBatch, ...] = ()

    @property
    def has_history(self) -> bool:
        return self.latest is not None


@dataclass(frozen=True)
class RepositoryDetail:
    """The repository page: the view, and the gate's recent decisions."""

    view: RepositoryView
    decisions: tuple[PullDecision, ...]


def _previous_run(samples: list[HistorySample], series: Series) -> Series | None:
    """The run of the name a concept had before its rename, up to the rename."""
    if series.renamed_from is None or series.started_at is None:
        return None
    started = series.started_at
    before = [s for s in samples if s.committed_at < started]
    run = trend.concept_series(before, series.renamed_from, series.rule)
    return run if run.points else None


def repository_view(
    engine: Engine, repo: ReadableRepository, *, now: dt.datetime
) -> RepositoryView:
    """The view of ``repo``: its trends over the last year (its newest sample when older)."""
    found = history.samples(
        engine,
        repo.installation_id,
        repo.full_name,
        since=now - dt.timedelta(days=HISTORY_DAYS),
        limit=MAX_SAMPLES,
    )
    if not found:
        latest = history.latest_sample(engine, repo.installation_id, repo.full_name)
        found = [latest] if latest is not None else []
    if not found:
        return RepositoryView(repo, None)
    concepts = []
    renamed: set[tuple[str, str]] = set()
    for item in trend.trends(found, now=now):
        previous = _previous_run(found, item.series)
        if previous is not None:
            renamed.add((previous.concept, previous.rule))
        concepts.append(ConceptView(item, previous))
    current = {(t[0], t[1]) for t in found[-1].totals}
    seen: dict[tuple[str, str], None] = {}
    for sample in found:
        for concept, rule, *_ in sample.totals:
            seen.setdefault((concept, rule))
    ended = tuple(
        trend.concept_series(found, concept, rule)
        for concept, rule in seen
        if (concept, rule) not in current and (concept, rule) not in renamed
    )
    since = now - dt.timedelta(days=HISTORY_DAYS)
    merged = sorted(
        (
            batch
            for batch in campaigns.batches(engine, repo.installation_id, repo.full_name, ["merged"])
            if batch.closed_at is not None and batch.closed_at >= since
        ),
        key=lambda batch: (batch.closed_at, batch.batch_id),
    )
    return RepositoryView(repo, found[-1], tuple(concepts), ended, tuple(merged))


def repository_detail(
    engine: Engine, repo: ReadableRepository, *, now: dt.datetime
) -> RepositoryDetail:
    """The view of ``repo`` and its recent blocked and accepted pull requests."""
    decisions = history.recent_decisions(
        engine, repo.installation_id, repo.full_name, limit=DECISIONS
    )
    return RepositoryDetail(repository_view(engine, repo, now=now), tuple(decisions))


def repositories_with_history(engine: Engine, installation_ids: set[int]) -> set[tuple[int, str]]:
    """``(installation, repository)`` pairs that have at least one sample."""
    return {
        (installation_id, item.repo)
        for installation_id in sorted(installation_ids)
        for item in history.repositories_with_history(engine, installation_id)
    }
