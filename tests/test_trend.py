"""analyzers.trend: change over N days, pace, the date the target is reached, series on rename."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from analyzers import trend
from analyzers.trend import Point, Total

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Row:
    commit_sha: str
    committed_at: dt.datetime
    totals: tuple[Total, ...]


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def history(*points: tuple[float, int], concept: str = "ws", target: int | None = 1) -> list[Row]:
    """Samples of one concept's SSOT002 count, ``(days ago, count)`` each."""
    return [
        Row(f"sha{i}", days_ago(ago), ((concept, "SSOT002", count, target),))
        for i, (ago, count) in enumerate(points)
    ]


def test_the_change_over_30_days_compares_with_the_last_point_before_the_window() -> None:
    rows = history((60, 150), (31, 120), (20, 110), (1, 100))
    found = trend.trend(rows, "ws", "SSOT002", now=NOW)
    assert found is not None
    assert found.change_30 is not None
    assert found.change_30.delta == -20  # 100 now, 120 thirty-one days ago
    assert found.change_30.since.sha == "sha1"
    assert not found.change_30.partial
    assert found.change_7 is not None and found.change_7.delta == -10  # vs 20 days ago


def test_a_series_younger_than_the_window_is_compared_with_its_first_point() -> None:
    rows = history((10, 50), (2, 40))
    change = trend.change_over(trend.concept_series(rows, "ws", "SSOT002").points, 30, now=NOW)
    assert change is not None
    assert (change.delta, change.partial) == (-10, True)


def test_a_single_recent_point_has_no_change_yet() -> None:
    rows = history((2, 40))
    found = trend.trend(rows, "ws", "SSOT002", now=NOW)
    assert found is not None
    assert found.change_30 is None and found.pace is None
    assert found.direction == "unknown"
    assert found.eta_text == "not enough history"


def test_a_single_old_point_means_nothing_changed_in_the_window() -> None:
    found = trend.trend(history((45, 40)), "ws", "SSOT002", now=NOW)
    assert found is not None
    assert found.change_30 is not None and found.change_30.delta == 0
    assert found.direction == "flat"
    assert found.eta_text == "not at this pace"


def test_the_target_date_follows_the_pace_of_the_last_30_days() -> None:
    # 130 -> 100 in 30 days: 1 a day; 99 more to reach 1 takes 99 days.
    rows = history((30, 130), (0, 100))
    found = trend.trend(rows, "ws", "SSOT002", now=NOW)
    assert found is not None
    assert found.pace == -1.0
    assert found.eta == (NOW + dt.timedelta(days=99)).date()
    assert found.eta_text == f"at this pace: {found.eta:%Y-%m-%d}"
    assert found.direction == "falling"


def test_a_rising_count_never_reaches_its_target() -> None:
    found = trend.trend(history((30, 90), (0, 100)), "ws", "SSOT002", now=NOW)
    assert found is not None
    assert found.eta is None and found.eta_text == "not at this pace"
    assert found.direction == "rising"


def test_a_reached_target_says_so() -> None:
    found = trend.trend(history((30, 3), (0, 1)), "ws", "SSOT002", now=NOW)
    assert found is not None
    assert found.reached and found.eta_text == "target reached"


def test_a_pace_that_takes_more_than_a_century_is_not_a_date() -> None:
    assert trend.eta(1_000_000, 0, -0.01, now=NOW) is None
    assert trend.eta(10, None, -1.0, now=NOW) is None
    assert trend.eta_text(10, None, -1.0, None) == "no target"


def test_a_renamed_concept_starts_a_new_series_that_says_so() -> None:
    rows = [
        *history((90, 200), (60, 180), concept="websocket"),
        *history((25, 170), (0, 150), concept="websocket-manager"),
    ]
    series = trend.concept_series(rows, "websocket-manager", "SSOT002")
    assert [p.count for p in series.points] == [170, 150]
    assert series.renamed_from == "websocket"
    assert series.started_at == days_ago(25)
    assert series.note is not None and "renamed from websocket" in series.note
    # The old name's history is not this series': the change is counted from the rename.
    found = trend.trend(rows, "websocket-manager", "SSOT002", now=NOW)
    assert found is not None and found.change_30 is not None
    assert found.change_30.delta == -20 and found.change_30.partial


def test_a_concept_added_beside_others_is_a_new_series_but_not_a_rename() -> None:
    old = Row("a", days_ago(40), (("ws", "SSOT002", 10, 1), ("events", "SSOT003", 5, 0)))
    new = Row(
        "b",
        days_ago(5),
        (("ws", "SSOT002", 9, 1), ("events", "SSOT003", 5, 0), ("db", "SSOT002", 3, 1)),
    )
    added = trend.concept_series([old, new], "db", "SSOT002")
    assert added.renamed_from is None
    assert added.note is not None and "new series" in added.note
    kept = trend.concept_series([old, new], "ws", "SSOT002")
    assert kept.note is None and len(kept.points) == 2


def test_the_series_key_changes_with_the_concepts_not_with_the_counts() -> None:
    a = trend.series_key([("ws", "SSOT002", 10, 1)])
    assert a == trend.series_key([("ws", "SSOT002", 3, 1)])
    assert a != trend.series_key([("websocket", "SSOT002", 10, 1)])


def test_trends_follow_the_newest_samples_order_and_skip_dropped_concepts() -> None:
    rows = [
        Row("a", days_ago(40), (("old", "SSOT001", 4, 0), ("ws", "SSOT002", 10, 1))),
        Row("b", days_ago(1), (("ws", "SSOT002", 8, 1), ("events", "SSOT003", 2, 0))),
    ]
    found = trend.trends(rows, now=NOW)
    assert [(t.concept, t.rule, t.count) for t in found] == [
        ("ws", "SSOT002", 8),
        ("events", "SSOT003", 2),
    ]
    assert trend.trends([], now=NOW) == []


def test_points_are_sorted_by_commit_time_whatever_the_input_order() -> None:
    rows = list(reversed(history((20, 30), (10, 20), (0, 10))))
    series = trend.concept_series(rows, "ws", "SSOT002")
    assert [p.count for p in series.points] == [30, 20, 10]
    assert series.latest == Point(days_ago(0), 10, 1, "sha2")


def test_signed_changes() -> None:
    assert [trend.signed(v) for v in (-1200, 0, 3)] == ["-1,200", "0", "+3"]


def test_weekly_keeps_each_weeks_last_point_for_the_newest_weeks() -> None:
    points = [Point(days_ago(d), 100 - d, 1, f"s{d}") for d in range(200, -1, -1)]
    chart = trend.weekly(points, weeks=26)
    assert len(chart) == 26
    assert chart[-1].sha == "s0"  # this week's newest
    weeks = [p.at.isocalendar()[:2] for p in chart]
    assert len(set(weeks)) == 26 and weeks == sorted(weeks)
    assert trend.weekly([], weeks=26) == []
