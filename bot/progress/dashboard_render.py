"""The dashboard issue's body, rendered from data. No I/O here.

One issue per repository (Renovate's dependency dashboard is the model), found again by the
hidden :data:`MARKER` and edited in place. It shows, per concept and rule: the count and its
target, the change over 7 and 30 days and the date the target is reached at the pace of the
last 30 days; a Mermaid ``xychart-beta`` chart of the last 26 weekly samples (the week's last
sample each; a renamed concept's chart starts at the rename and says so); the ten directories
and CODEOWNERS owners holding most of the debt; the recent pull requests that were blocked or
whose findings were accepted (who, why, link); the consolidation pull requests, with a
checkbox per proposed batch (:mod:`bot.store.campaign_section`, acted on by
:mod:`bot.campaigns`); and the badge URLs.

Every piece of repository content goes through :mod:`bot.progress.escape`. The body never
exceeds GitHub's 65,536 characters: the least important sections give way first.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analyzers import trend
from analyzers.trend import Change, Point, Trend
from bot.progress.escape import chart_label, code, text
from bot.store.history import Breakdown, PullDecision

MARKER = "<!-- ssot:dashboard -->"
TITLE = "SSOT guard: progress dashboard"
MAX_BODY = 65_536
CHART_WEEKS = 26
TOP = 10
_SAFE_URL = re.compile(r"^https://[A-Za-z0-9._~:/?#=&%+-]+$")


@dataclass(frozen=True)
class Badges:
    """Where the repository's badges are served, and the key private ones need."""

    base_url: str | None  # the App's public URL (None: not configured)
    key: str | None  # None: the repository is public, no key in the URL


@dataclass(frozen=True)
class DashboardData:
    """Everything the issue shows."""

    repository: str
    trends: Sequence[Trend]
    breakdown: Mapping[str, Breakdown]
    decisions: Sequence[PullDecision]
    badges: Badges
    commit_sha: str | None
    committed_at: dt.datetime | None
    now: dt.datetime
    campaign: str | None = None  # the consolidation pull requests' section, rendered


def has_marker(body: str | None) -> bool:
    """Whether an issue body is a dashboard's (the author must be checked too)."""
    return MARKER in (body or "")


def render_dashboard(data: DashboardData, *, max_chars: int = MAX_BODY) -> str:
    """The issue body (at most ``max_chars`` characters)."""
    head = [
        MARKER,
        f"This issue shows the progress of {code(data.repository)} toward its "
        "single-source-of-truth policy. SSOT guard keeps it up to date (at most one edit "
        "every 10 minutes). Closing it stops the updates; reopening it resumes them.",
        "",
    ]
    tail = ["", _footer(data)]
    if not data.trends:
        empty = "_No history yet: it starts with the next push to the default branch._"
        return "\n".join([*head, empty, *tail]) + "\n"
    sections: list[list[str]] = [
        _totals(data.trends),
        *([data.campaign.rstrip("\n").split("\n")] if data.campaign else []),
        *(_chart(item) for item in data.trends),
        _breakdown(data.trends, data.breakdown),
        _decisions(data.decisions),
        _badges(data),
    ]
    fixed = len("\n".join(head)) + len("\n".join(tail)) + 2
    budget = max_chars - fixed
    kept: list[str] = []
    dropped = 0
    for section in sections:
        size = len("\n".join(section)) + 2
        if size <= budget - len(_dropped_line(len(sections))) - 2:
            kept += [*section, ""]
            budget -= size
        else:
            dropped += 1
    if dropped:
        kept.append(_dropped_line(dropped))
    body = "\n".join([*head, *kept, *tail]) + "\n"
    return body[:max_chars]


def _dropped_line(count: int) -> str:
    return f"_{count} section(s) not shown: GitHub's issue bodies hold 65,536 characters._"


def _change(change: Change | None) -> str:
    if change is None:
        return "n/a"
    value = trend.signed(change.delta)
    return f"{value} (since {change.since.at:%Y-%m-%d})" if change.partial else value


def _name(item: Trend) -> str:
    return item.concept or "(unanalysable files)"


def _totals(trends: Sequence[Trend]) -> list[str]:
    lines = [
        "## Where each concept stands",
        "",
        "| Concept | Rule | Count -> target | 7 days | 30 days | At this pace |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for item in trends:
        goal = "" if item.target is None else f" -> {item.target:,}"
        lines.append(
            f"| {text(_name(item))} | {item.rule} | {item.count:,}{goal} | "
            f"{_change(item.change_7)} | {_change(item.change_30)} | {item.eta_text} |"
        )
    return lines


def chart(points: Sequence[Point], title: str) -> list[str]:
    """A Mermaid ``xychart-beta`` of ``points`` (the count, and the target as a second line)."""
    labels = ", ".join(f'"{p.at:%m-%d}"' for p in points)
    counts = [p.count for p in points]
    targets = [p.target for p in points]
    top = max([*counts, *(t for t in targets if t is not None), 1])
    ceiling = max(int(top * 1.1) + 1, 1)
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{chart_label(title, 120)}"',
        f"    x-axis [{labels}]",
        f'    y-axis "count" 0 --> {ceiling}',
        f"    line [{', '.join(str(c) for c in counts)}]",
    ]
    if all(t is not None for t in targets):
        lines.append(f"    line [{', '.join(str(t) for t in targets)}]")
    lines.append("```")
    return lines


def _chart(item: Trend) -> list[str]:
    points = trend.weekly(item.series.points, CHART_WEEKS)
    title = f"{_name(item)} {item.rule}"
    lines = [f"### {text(_name(item))} {item.rule}", ""]
    if item.series.note:
        lines += [f"_{text(item.series.note)}._", ""]
    lines += chart(points, title)
    if item.target is not None:
        lines += ["", f"_The second line is the target ({item.target:,})._"]
    return lines


def _breakdown(trends: Sequence[Trend], breakdown: Mapping[str, Breakdown]) -> list[str]:
    lines = ["## Where the debt is", ""]
    shown = False
    for concept in dict.fromkeys(t.concept for t in trends if t.concept):
        item = breakdown.get(concept)
        if item is None or not (item.directories or item.owners):
            continue
        shown = True
        lines += [f"<details><summary>{text(concept)}</summary>", ""]
        lines += ["| Directory | Findings |", "| --- | ---: |"]
        lines += [f"| {code(d)} | {n:,} |" for d, n in item.directories[:TOP]]
        if item.owners:
            lines += ["", "| CODEOWNERS owner | Findings |", "| --- | ---: |"]
            lines += [f"| {code(o)} | {n:,} |" for o, n in item.owners[:TOP]]
        lines += ["", "</details>", ""]
    if not shown:
        lines.append("_Nothing to show: no findings in the newest sample._")
    return lines


def _link(url: str, label: str) -> str:
    return f"[{label}]({url})" if _SAFE_URL.match(url) else label


def _decisions(decisions: Sequence[PullDecision]) -> list[str]:
    lines = ["## Recent decisions", ""]
    if not decisions:
        return [*lines, "_No pull request was blocked, and no finding accepted, yet._"]
    lines += ["| When | Pull request | Decision | Who | Why |", "| --- | --- | --- | --- | --- |"]
    for item in decisions:
        icon = ":x: blocked" if item.outcome == "blocked" else ":white_check_mark: accepted"
        reason = " ".join(item.reason.split())
        reason = reason if len(reason) <= 200 else reason[:199] + "…"
        lines.append(
            f"| {item.at:%Y-%m-%d %H:%M} | {_link(item.url, f'PR {item.pr}')} | {icon} | "
            f"{text(item.user)} | {text(reason)} |"
        )
    return lines


def badge_url(base_url: str, repository: str, concept: str, key: str | None) -> str:
    """The badge of ``concept`` (its key in the URL for a private repository)."""
    query = {"concept": concept, **({"key": key} if key else {})}
    path = "/".join(urllib.parse.quote(part, safe="") for part in repository.split("/", 1))
    return f"{base_url.rstrip('/')}/badges/{path}.svg?{urllib.parse.urlencode(query)}"


def _badges(data: DashboardData) -> list[str]:
    lines = ["## Badges", ""]
    base = data.badges.base_url
    if not base:
        return [*lines, "_Badges need the App's public URL (`SSOT_PUBLIC_URL`)._"]
    concepts = list(dict.fromkeys(t.concept for t in data.trends if t.concept))
    lines += ["Markdown for a README, one badge per concept:", "", "````md"]
    for concept in concepts:
        url = badge_url(base, data.repository, concept, data.badges.key)
        lines.append(f"![{chart_label(concept)}]({url})")
    lines.append("````")
    if data.badges.key:
        lines += [
            "",
            "This repository is private: the `key` in these URLs shows its counts to whoever "
            "has them. Keep them where only its readers look (this issue is one).",
        ]
    return lines


def _footer(data: DashboardData) -> str:
    if data.commit_sha and data.committed_at:
        at = f"counted at `{data.commit_sha[:12]}` ({data.committed_at:%Y-%m-%d %H:%M} UTC)"
    else:
        at = "no sample yet"
    return f"<sub>SSOT guard, {at}; trends as of {data.now:%Y-%m-%d}.</sub>"
