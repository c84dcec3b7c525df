"""SVG charts for the dashboard, as text: pure functions from points to an ``<svg>`` element.

- :func:`sparkline`: a small line without axes (one per concept in the repository list);
- :func:`line_chart`: axes, one line per series, an optional target line and the projection
  to it at the current pace (the burn-down), and vertical markers where a series ends and
  another begins (a concept the policy renamed starts a new series, said so on the chart).

The charts are inline in the page, need no script, and carry their colours as presentation
attributes, so they render the same without the stylesheet and under a strict CSP. Every text
they show (concept names come from a repository's policy) is escaped. Each chart is an
``role="img"`` with a ``<title>`` and a ``<desc>`` that says in words what the lines show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape

# Line colours, one per series in turn (GitHub's Primer palette: blue, orange, purple, green).
PALETTE = ("#0969da", "#bc4c00", "#8250df", "#1a7f37", "#cf222e", "#57606a")
MUTED = "#8c959f"  # an ended series (a concept's name before a rename), axes, grid
TARGET = "#1a7f37"
FONT = "font-family='system-ui,sans-serif'"

SPARK_WIDTH, SPARK_HEIGHT = 120, 28
CHART_WIDTH, CHART_HEIGHT = 640, 240
# Space for the axes' labels (left, right, top, bottom) inside the chart's box; the top strip
# holds the projection's words.
MARGIN = (48, 16, 26, 28)
# A projection further than this past the last sample is drawn to the chart's edge only.
PROJECTION_HORIZON = timedelta(days=730)


@dataclass(frozen=True)
class Point:
    """One sample: when, and the count then."""

    at: datetime
    value: float


@dataclass(frozen=True)
class Series:
    """One line. ``ended``: a series that stopped (drawn dashed), e.g. a concept renamed
    since. ``colour``: its colour; unset, the next of :data:`PALETTE` (an ended one: muted)."""

    label: str
    points: tuple[Point, ...]
    ended: bool = False
    colour: str | None = None


@dataclass(frozen=True)
class Marker:
    """A vertical line at ``at`` with ``text`` beside it (where a series was renamed)."""

    at: datetime
    text: str


@dataclass(frozen=True)
class Projection:
    """Where the current pace leads: the target reached ``at``, or never (``at`` None).

    ``text`` is what the chart says about it (e.g. "target on 3 May 2026 at this pace")."""

    at: datetime | None
    text: str


@dataclass(frozen=True)
class LinearScale:
    """Maps the domain ``[d0, d1]`` onto the range ``[r0, r1]``; a flat domain maps to the middle."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        if self.d1 == self.d0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (value - self.d0) * (self.r1 - self.r0) / (self.d1 - self.d0)


@dataclass(frozen=True)
class _Frame:
    """A chart's plotting area and its two scales."""

    x: LinearScale
    y: LinearScale
    left: float
    right: float
    top: float
    bottom: float
    ticks: tuple[float, ...] = field(default=())


def thin(points: Sequence[Point], limit: int) -> tuple[Point, ...]:
    """At most ``limit`` of ``points`` (at least 2), evenly spread, the first and last kept:
    a year of pushes draws as well with a hundred points as with thousands."""
    if len(points) <= limit:
        return tuple(points)
    keep = max(limit, 2)
    step = (len(points) - 1) / (keep - 1)
    return tuple(points[round(i * step)] for i in range(keep))


def nice_ticks(high: float, count: int = 4) -> tuple[float, ...]:
    """Round tick values from 0 to at least ``high``: steps of 1, 2 or 5 times a power of ten."""
    if high <= 0:
        return (0.0, 1.0)
    raw = high / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    top = math.ceil(high / step) * step
    return tuple(float(i * step) for i in range(round(top / step) + 1))


def _timestamp(when: datetime) -> float:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _num(value: float) -> str:
    """A coordinate with at most one decimal, so the SVG stays small and diffable."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _count(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:,.1f}"


def _day(when: datetime) -> str:
    return f"{when.day} {when:%b %Y}"


def _svg(width: int, height: int, title: str, desc: str, body: str, css_class: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='{css_class}' role='img' "
        f"width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        f"aria-label='{escape(title)}'>"
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{body}</svg>"
    )


def _polyline(points: Sequence[tuple[float, float]], colour: str, width: float, dash: str) -> str:
    coordinates = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
    dashes = f" stroke-dasharray='{dash}'" if dash else ""
    return (
        f"<polyline points='{coordinates}' fill='none' stroke='{colour}' "
        f"stroke-width='{_num(width)}' stroke-linejoin='round' stroke-linecap='round'{dashes}/>"
    )


def _dot(x: float, y: float, colour: str, radius: float) -> str:
    return f"<circle cx='{_num(x)}' cy='{_num(y)}' r='{_num(radius)}' fill='{colour}'/>"


def _describe(series: Sequence[Series]) -> str:
    parts = []
    for line in series:
        if not line.points:
            parts.append(f"{line.label}: no samples")
            continue
        first, last = line.points[0], line.points[-1]
        text = f"{line.label}: {_count(first.value)} on {_day(first.at)}"
        if len(line.points) > 1:
            text += f", {_count(last.value)} on {_day(last.at)}"
        if line.ended:
            text += " (series ended)"
        parts.append(text)
    return "; ".join(parts)


def sparkline(
    series: Sequence[Series], *, label: str, width: int = SPARK_WIDTH, height: int = SPARK_HEIGHT
) -> str:
    """A small line per series, no axes; the last sample of the last series is a dot.

    Several series side by side (a concept before and after a rename) keep their gap: a line
    is never drawn across the break. No samples: a flat dashed line and "no history".
    """
    points = [p for line in series for p in line.points]
    if not points:
        body = _polyline([(2, height / 2), (width - 2, height / 2)], MUTED, 1, "2 3") + _text(
            width / 2, height / 2 - 3, "no history", "middle", MUTED, 9
        )
        return _svg(width, height, label, "No samples yet.", body, "spark")
    times = [_timestamp(p.at) for p in points]
    x = LinearScale(min(times), max(times), 3, width - 3)
    y = LinearScale(0, max(p.value for p in points) or 1, height - 3, 3)
    body = ""
    live = [line for line in series if line.points]
    for index, line in enumerate(live):
        colour = line.colour or (MUTED if line.ended else PALETTE[0])
        coordinates = [(x(_timestamp(p.at)), y(p.value)) for p in line.points]
        if len(coordinates) > 1:
            body += _polyline(coordinates, colour, 1.5, "")
        if len(coordinates) == 1 or index == len(live) - 1:
            body += _dot(*coordinates[-1], colour, 2)
    return _svg(width, height, label, _describe(series), body, "spark")


def _text(
    x: float, y: float, text: str, anchor: str, colour: str, size: int, *, extra: str = ""
) -> str:
    return (
        f"<text x='{_num(x)}' y='{_num(y)}' text-anchor='{anchor}' fill='{colour}' "
        f"font-size='{size}' {FONT}{extra}>{escape(text)}</text>"
    )


def _time_ticks(start: float, end: float, count: int = 4) -> list[float]:
    if end <= start:
        return [start]
    return [start + (end - start) * i / count for i in range(count + 1)]


def _time_label(when: float, span_days: float) -> str:
    moment = datetime.fromtimestamp(when, UTC)
    if span_days > 180:
        return f"{moment:%b %Y}"
    return f"{moment.day} {moment:%b}"


def _frame(
    series: Sequence[Series],
    target: float | None,
    projection: Projection | None,
    markers: Sequence[Marker],
    width: int,
    height: int,
) -> _Frame:
    points = [p for line in series for p in line.points]
    times = [_timestamp(p.at) for p in points] + [_timestamp(m.at) for m in markers]
    start, end = min(times), max(times)
    if projection is not None and projection.at is not None:
        end = max(end, min(_timestamp(projection.at), end + PROJECTION_HORIZON.total_seconds()))
    if end == start:  # one sample: a day either side, so the dot sits in the middle
        start, end = start - 86400, end + 86400
    high = max([p.value for p in points] + ([target] if target is not None else []))
    ticks = nice_ticks(high)
    left, right, top, bottom = MARGIN[0], width - MARGIN[1], MARGIN[2], height - MARGIN[3]
    return _Frame(
        x=LinearScale(start, end, left, right),
        y=LinearScale(0, ticks[-1], bottom, top),
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        ticks=ticks,
    )


def _axes(frame: _Frame) -> str:
    body = ""
    for tick in frame.ticks:
        y = frame.y(tick)
        body += (
            f"<line x1='{_num(frame.left)}' y1='{_num(y)}' x2='{_num(frame.right)}' "
            f"y2='{_num(y)}' stroke='{MUTED}' stroke-opacity='0.3' stroke-width='1'/>"
        )
        body += _text(frame.left - 6, y + 4, _count(tick), "end", MUTED, 11)
    span_days = (frame.x.d1 - frame.x.d0) / 86400
    # About one date per 110 pixels: "Sep 2027" must not touch its neighbours.
    ticks = _time_ticks(frame.x.d0, frame.x.d1, max(1, int((frame.right - frame.left) // 110)))
    for index, when in enumerate(ticks):
        # The outer labels lean inwards, so none is cut at the chart's edges.
        anchor = "start" if index == 0 else "end" if index == len(ticks) - 1 else "middle"
        label = _time_label(when, span_days)
        body += _text(frame.x(when), frame.bottom + 18, label, anchor, MUTED, 11)
    return body


def line_chart(
    series: Sequence[Series],
    *,
    label: str,
    target: float | None = None,
    projection: Projection | None = None,
    markers: Sequence[Marker] = (),
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
) -> str:
    """A chart with axes: one line per series over time, from 0 up.

    ``target``: a dashed horizontal line labelled with it. ``projection``: a dashed line from
    the last sample of the last live series to the target at the projected date (drawn to
    the chart's edge when that is further than two years), labelled with its text.
    ``markers``: vertical lines with a label (a concept renamed: its new series starts there).
    """
    live = [line for line in series if line.points]
    if not live:
        body = _text(width / 2, height / 2, "No history yet", "middle", MUTED, 14)
        return _svg(width, height, label, "No samples yet.", body, "chart")
    frame = _frame(live, target, projection, markers, width, height)
    body = _axes(frame)
    if target is not None:
        y = frame.y(target)
        body += (
            f"<line x1='{_num(frame.left)}' y1='{_num(y)}' x2='{_num(frame.right)}' y2='{_num(y)}' "
            f"stroke='{TARGET}' stroke-width='1.5' stroke-dasharray='6 4'/>"
        )
        body += _text(frame.right - 2, y - 5, f"target {_count(target)}", "end", TARGET, 11)
    # Two series renamed at once: one marker. Each label on its own line, so that markers
    # close in time (a rename, then a merged consolidation PR) stay legible.
    for row, marker in enumerate(dict.fromkeys(markers)):
        x = frame.x(_timestamp(marker.at))
        body += (
            f"<line x1='{_num(x)}' y1='{_num(frame.top)}' x2='{_num(x)}' y2='{_num(frame.bottom)}' "
            f"stroke='{MUTED}' stroke-width='1' stroke-dasharray='3 3'/>"
        )
        anchor = "end" if x > (frame.left + frame.right) / 2 else "start"
        offset = -4 if anchor == "end" else 4
        body += _text(x + offset, frame.top + 10 + 13 * row, marker.text, anchor, MUTED, 11)
    last: tuple[float, float] | None = None
    for line, colour in zip(live, line_colours(live), strict=True):
        coordinates = [(frame.x(_timestamp(p.at)), frame.y(p.value)) for p in line.points]
        if len(coordinates) > 1:
            body += _polyline(coordinates, colour, 2, "4 3" if line.ended else "")
        body += _dot(*coordinates[-1], colour, 3)
        if not line.ended:
            last = coordinates[-1]
    if projection is not None and last is not None:
        body += _projection(frame, projection, last, target)
    return _svg(width, height, label, _describe(series) + _said(target, projection), body, "chart")


def _projection(
    frame: _Frame, projection: Projection, last: tuple[float, float], target: float | None
) -> str:
    body = ""
    if projection.at is not None and target is not None:
        end_x = min(frame.x(_timestamp(projection.at)), frame.right)
        # Where the straight line to the target crosses the chart's edge, if it does.
        full_x = frame.x(_timestamp(projection.at))
        ratio = 1.0 if full_x == last[0] else (end_x - last[0]) / (full_x - last[0])
        end_y = last[1] + (frame.y(target) - last[1]) * ratio
        body += _polyline([last, (end_x, end_y)], PALETTE[0], 1.5, "2 4")
    # In the strip above the plot, where no line goes.
    body += _text(frame.left, frame.top - 10, projection.text, "start", PALETTE[0], 11)
    return body


def line_colours(series: Sequence[Series]) -> list[str]:
    """The colour of each line, as :func:`line_chart` draws them (for a legend beside it)."""
    palette = iter(PALETTE)
    return [line.colour or (MUTED if line.ended else next(palette, PALETTE[-1])) for line in series]


def _said(target: float | None, projection: Projection | None) -> str:
    text = ""
    if target is not None:
        text += f"; target {_count(target)}"
    if projection is not None:
        text += f"; {projection.text}"
    return text
