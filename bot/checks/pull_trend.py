"""The trend beside each total of a pull request's summary. Pure.

For each concept and rule: this pull request's change (new minus fixed findings), the
default branch's change over the last 30 days (from its history, :mod:`bot.store.history`),
and when the target is reached at that pace, counting from the total after this pull request
(``at this pace: 2027-03-14``, ``not at this pace``, ``target reached``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from analyzers import trend
from analyzers.baseline import Comparison
from analyzers.progress import ConceptTotal
from analyzers.report.model import TotalTrend
from analyzers.trend import Sample
from bot.checks.render import count_by_key

Key = tuple[str, str]


def pull_trends(
    totals: Sequence[ConceptTotal],
    comparison: Comparison,
    samples: Sequence[Sample],
    *,
    now: dt.datetime,
) -> dict[Key, TotalTrend]:
    """The cells beside each of ``totals`` (the totals after the pull request)."""
    new, fixed = count_by_key(comparison.new), count_by_key(comparison.fixed)
    out: dict[Key, TotalTrend] = {}
    for total in totals:
        key = (total.concept, total.rule)
        found = trend.trend(samples, total.concept, total.rule, now=now) if samples else None
        change = found.change_30 if found is not None else None
        if change is None:
            last_30 = "n/a"
        elif change.partial:
            last_30 = f"{trend.signed(change.delta)} since {change.since.at:%Y-%m-%d}"
        else:
            last_30 = trend.signed(change.delta)
        pace = found.pace if found is not None else None
        when = trend.eta(total.count, total.target, pace, now=now)
        out[key] = TotalTrend(
            change=trend.signed(new[key] - fixed[key]),
            last_30_days=last_30,
            at_this_pace=trend.eta_text(total.count, total.target, pace, when),
        )
    return out
