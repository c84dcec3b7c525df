"""Trends of a repository's history: change over N days, pace, when the target is reached.

Pure: samples in (any object with ``commit_sha``, ``committed_at`` and ``totals``, such as the
App's stored history or ``ssot history``'s rows), numbers out. Every view of progress uses
these: the ``ssot history`` CLI, the pull request's summary, the dashboard issue, badges and
the App's web pages.

- A *series* is the run of samples, oldest first, in which one ``(concept, rule)`` is
  present without a gap. A policy that renames a concept ends the old name's series and starts
  the new name's: :func:`concept_series` keeps only the latest run and says what it replaced
  (``renamed_from``) so that a chart can say so.
- The *change* over N days compares the newest point with the last one at or before N days
  ago (or the oldest one, when the series is younger: :attr:`Change.partial`).
- The *pace* is that change over the last 30 days per day; at that pace the target is
  reached on :func:`eta`'s date, or never (a flat or rising count).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Total = tuple[str, str, int, int | None]  # (concept, rule, count, target)
Direction = Literal["falling", "rising", "flat", "unknown"]

PACE_DAYS = 30
MAX_ETA_DAYS = 100 * 365  # further than this is "not at this pace" too


class Sample(Protocol):
    """One commit's totals: what :mod:`bot.store.history` and ``ssot history`` produce."""

    @property
    def commit_sha(self) -> str: ...

    @property
    def committed_at(self) -> dt.datetime: ...

    @property
    def totals(self) -> Sequence[Total]: ...


@dataclass(frozen=True)
class Point:
    """One sample of one series."""

    at: dt.datetime
    count: int
    target: int | None
    sha: str


@dataclass(frozen=True)
class Series:
    """The latest unbroken run of one ``(concept, rule)``'s points, oldest first.

    ``started_at`` is set when older samples exist without this series (the concept was
    added, or renamed: then ``renamed_from`` names its previous name).
    """

    concept: str
    rule: str
    points: tuple[Point, ...]
    started_at: dt.datetime | None = None
    renamed_from: str | None = None

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def note(self) -> str | None:
        """What a chart of this series must say about its start, if anything."""
        if self.started_at is None:
            return None
        day = f"{self.started_at:%Y-%m-%d}"
        if self.renamed_from is not None:
            return f"renamed from {self.renamed_from} on {day}: a new series starts there"
        return f"a new series since {day} (the policy changed its concepts)"


@dataclass(frozen=True)
class Change:
    """How much the count moved from ``since`` to ``until`` (negative: debt went down)."""

    delta: int
    since: Point
    until: Point
    partial: bool  # the series is younger than the window asked for

    @property
    def days(self) -> float:
        return (self.until.at - self.since.at).total_seconds() / 86_400


@dataclass(frozen=True)
class Trend:
    """Everything a view shows about one ``(concept, rule)``: where it is, where it goes."""

    concept: str
    rule: str
    count: int
    target: int | None
    change_7: Change | None
    change_30: Change | None
    pace: float | None  # count per day over the last 30 days; None: not enough history
    eta: dt.date | None  # the target reached at that pace; None: never, or unknown
    series: Series

    @property
    def reached(self) -> bool:
        return self.target is not None and self.count <= self.target

    @property
    def direction(self) -> Direction:
        """Falling (good), rising (bad) or flat over the last 30 days; unknown without history."""
        if self.change_30 is None:
            return "unknown"
        if self.change_30.delta < 0:
            return "falling"
        return "rising" if self.change_30.delta > 0 else "flat"

    @property
    def eta_text(self) -> str:
        """``at this pace: 2027-03-14``, ``not at this pace``, ``target reached``..."""
        return eta_text(self.count, self.target, self.pace, self.eta)


def series_key(totals: Iterable[Total]) -> str:
    """A short key that changes when the set of ``(concept, rule)`` changes (a concept
    renamed, dropped or added): stored with each sample, so a reader sees where a series
    ends without comparing totals."""
    names = sorted({(t[0], t[1]) for t in totals})
    return hashlib.sha256(json.dumps(names).encode()).hexdigest()[:16]


def _keys(sample: Sample) -> set[tuple[str, str]]:
    return {(t[0], t[1]) for t in sample.totals}


def _ordered(samples: Iterable[Sample]) -> list[Sample]:
    return sorted(samples, key=lambda s: s.committed_at)


def concept_series(samples: Iterable[Sample], concept: str, rule: str) -> Series:
    """The latest unbroken run of ``(concept, rule)`` in ``samples`` (any order)."""
    ordered = _ordered(samples)
    points: list[Point] = []
    start = len(ordered)
    for index in range(len(ordered) - 1, -1, -1):
        found = next((t for t in ordered[index].totals if t[0] == concept and t[1] == rule), None)
        if found is None:
            if points:
                break
            continue  # absent from the newest samples: the run is an older one
        points.append(
            Point(ordered[index].committed_at, found[2], found[3], ordered[index].commit_sha)
        )
        start = index
    points.reverse()
    if not points or start == 0:
        return Series(concept, rule, tuple(points))
    before, first = _keys(ordered[start - 1]), _keys(ordered[start])
    vanished = {c for c, r in before - first if r == rule}
    appeared = {c for c, r in first - before if r == rule}
    renamed = next(iter(vanished)) if len(vanished) == 1 and appeared == {concept} else None
    return Series(concept, rule, tuple(points), started_at=points[0].at, renamed_from=renamed)


def change_over(points: Sequence[Point], days: float, *, now: dt.datetime) -> Change | None:
    """The change of the last ``days`` days: newest point minus the last one at or before
    ``now - days`` (the oldest one when none is that old). None: a single recent point."""
    if not points:
        return None
    latest = points[-1]
    start = now - dt.timedelta(days=days)
    older = [p for p in points if p.at <= start]
    since = older[-1] if older else points[0]
    if since is latest and since.at > start:
        return None
    return Change(latest.count - since.count, since, latest, partial=not older)


def pace_per_day(
    points: Sequence[Point], *, now: dt.datetime, days: float = PACE_DAYS
) -> float | None:
    """Count per day over the last ``days`` days (negative: falling); None when the
    history covers less than a day."""
    change = change_over(points, days, now=now)
    if change is None:
        return None
    if change.delta == 0 and not change.partial:
        return 0.0  # unchanged for the whole window (possibly a single, older point)
    if change.days < 1:
        return None
    return change.delta / change.days


def eta(count: int, target: int | None, pace: float | None, *, now: dt.datetime) -> dt.date | None:
    """The day ``count`` reaches ``target`` at ``pace`` per day; today when it already has,
    None when it never will at that pace (or no target or pace is known)."""
    if target is None:
        return None
    if count <= target:
        return now.date()
    if pace is None or pace >= 0:
        return None
    days = (count - target) / -pace
    if days > MAX_ETA_DAYS:
        return None
    return (now + dt.timedelta(days=days)).date()


def eta_text(count: int, target: int | None, pace: float | None, when: dt.date | None) -> str:
    """The words for :func:`eta`'s answer."""
    if target is None:
        return "no target"
    if count <= target:
        return "target reached"
    if pace is None:
        return "not enough history"
    if when is None:
        return "not at this pace"
    return f"at this pace: {when:%Y-%m-%d}"


def trend(samples: Iterable[Sample], concept: str, rule: str, *, now: dt.datetime) -> Trend | None:
    """The trend of ``(concept, rule)``; None when the newest sample does not count it."""
    ordered = _ordered(samples)
    if not ordered or (concept, rule) not in _keys(ordered[-1]):
        return None
    series = concept_series(ordered, concept, rule)
    latest = series.points[-1]
    pace = pace_per_day(series.points, now=now)
    return Trend(
        concept=concept,
        rule=rule,
        count=latest.count,
        target=latest.target,
        change_7=change_over(series.points, 7, now=now),
        change_30=change_over(series.points, 30, now=now),
        pace=pace,
        eta=eta(latest.count, latest.target, pace, now=now),
        series=series,
    )


def trends(samples: Iterable[Sample], *, now: dt.datetime) -> list[Trend]:
    """The trend of every ``(concept, rule)`` of the newest sample, in its order."""
    ordered = _ordered(samples)
    if not ordered:
        return []
    out: list[Trend] = []
    for concept, rule, *_ in ordered[-1].totals:
        found = trend(ordered, concept, rule, now=now)
        if found is not None:
            out.append(found)
    return out


def signed(value: int) -> str:
    """``+3``, ``-12``, ``0``: a change as text."""
    return f"{value:+,}" if value else "0"


def weekly(points: Sequence[Point], weeks: int = 26) -> list[Point]:
    """The last point of each ISO week, for the newest ``weeks`` weeks that have one: a
    chart's points, whether the history came from every push or from weekly backfills."""
    by_week: dict[tuple[int, int], Point] = {}
    for point in sorted(points, key=lambda p: p.at):
        year, week, _ = point.at.isocalendar()
        by_week[(year, week)] = point
    return [by_week[key] for key in sorted(by_week)][-weeks:]
