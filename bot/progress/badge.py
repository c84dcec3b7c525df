"""What a badge shows, and the badge itself as a shields-style SVG. Pure.

``label | count -> target``, coloured by the trend of the last 30 days: green when the count
falls, red when it rises, grey when it is flat or the history is too short to say. Every
piece of text is XML-escaped (a concept's name comes from the repository's policy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from analyzers import trend
from analyzers.trend import Direction, Sample

COLOURS: dict[Direction, str] = {
    "falling": "#4c1",
    "rising": "#e05d44",
    "flat": "#9f9f9f",
    "unknown": "#9f9f9f",
}
GREY = "#9f9f9f"
MAX_LABEL = 60


@dataclass(frozen=True)
class Badge:
    """The two halves of a badge and its colour."""

    label: str
    value: str
    colour: str


def badge_for(
    samples: Sequence[Sample], concept: str, rule: str | None, *, now: dt.datetime
) -> Badge:
    """The badge of ``concept`` (and ``rule``: by default its implementations, SSOT002, when
    the policy counts them, else its first rule) from a repository's history."""
    label = concept[:MAX_LABEL] or "ssot"
    ordered = sorted(samples, key=lambda s: s.committed_at)
    if not ordered:
        return Badge(label, "no data yet", GREY)
    rules = [t[1] for t in ordered[-1].totals if t[0] == concept]
    if not rules or (rule is not None and rule not in rules):
        return Badge(label, "unknown concept", GREY)
    chosen = rule or ("SSOT002" if "SSOT002" in rules else rules[0])
    found = trend.trend(ordered, concept, chosen, now=now)
    if found is None:
        return Badge(label, "no data yet", GREY)
    goal = "" if found.target is None else f" -> {found.target:,}"
    return Badge(label, f"{found.count:,}{goal}", COLOURS[found.direction])


def _width(text: str) -> int:
    # Verdana 11px averages about 6.5 px a character; shields' own widths are per glyph.
    return int(len(text) * 6.5) + 10


def render_svg(badge: Badge) -> str:
    """The badge as an SVG document (flat style, 20 px high)."""
    left, right = _width(badge.label), _width(badge.value)
    total = left + right
    label, value = escape(badge.label, quote=True), escape(badge.value, quote=True)
    colour = escape(badge.colour, quote=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{label}: {value}"><title>{label}: {value}</title>'
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'font-size="11">'
        f'<text x="{left / 2:.1f}" y="14">{label}</text>'
        f'<text x="{left + right / 2:.1f}" y="14">{value}</text></g></svg>'
    )
