"""The dashboard's HTML and the sign-in page: pure functions from views to pages.

Every value shown (concept names, directories and owners come from repositories; logins and
reasons from pull requests) is escaped; a link is made only of an ``http(s)`` URL. Charts are
inline SVG from :mod:`bot.web.charts`; the frame and stylesheet are :mod:`bot.web.frame`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import quote

from analyzers import trend
from analyzers.policy import SAFE_FIX_RULES
from analyzers.rules import RULES
from bot.ops.settings import Settings
from bot.store.campaigns import CampaignBatch
from bot.store.history import PullDecision
from bot.web import charts
from bot.web.dashboard_view import ConceptView, RepositoryDetail, RepositoryView
from bot.web.frame import SECTIONS, escape, render_page

CHART_POINTS = 120  # points drawn per line (thinned evenly beyond)
TOP = 10  # directories and owners shown per concept
CHART_SIZE = (360, 210)  # a burn-down in a grid cell (about its size on screen)
MERGED_MARKERS = 3  # days with merged consolidation pull requests marked per burn-down


def _rule_name(rule: str) -> str:
    found = RULES.get(rule)
    return found.name if found is not None else rule


def concept_label(concept: str, rule: str) -> str:
    """``websocket-manager (extra-implementation)``; a rule without concept is the rule."""
    return f"{concept} ({_rule_name(rule)})" if concept else _rule_name(rule)


def _day(when: dt.datetime | dt.date) -> str:
    return f"{when.day} {when:%b %Y}"


def _link(url: str, text: str) -> str:
    """A link when ``url`` is a web address, else the text alone (no ``javascript:``)."""
    if url.startswith(("https://", "http://")):
        return f"<a href='{escape(url)}'>{escape(text)}</a>"
    return escape(text)


def repo_path(full_name: str) -> str:
    owner, _, name = full_name.partition("/")
    return f"/dashboard/{quote(owner, safe='')}/{quote(name, safe='')}"


# --- sign-in ---------------------------------------------------------------------------------


def signin_page(settings: Settings, next_page: str, *, notice: str = "", error: str = "") -> str:
    """The sign-in page: what the dashboard is and one button, nothing of any repository."""
    messages = ""
    if notice:
        messages += f"<p class='notice'>{escape(notice)}</p>"
    if error:
        messages += f"<p class='notice' role='alert'>{escape(error)}</p>"
    missing = [
        f"<code>{name}</code>"
        for name, value in (
            ("SSOT_CLIENT_ID", settings.client_id),
            ("SSOT_CLIENT_SECRET", settings.client_secret),
            ("SSOT_PUBLIC_URL", settings.public_url),
        )
        if value is None
    ]
    if not missing:
        action = (
            "<form method='post' action='/login'>"
            f"<input type='hidden' name='next' value='{escape(next_page)}'>"
            "<button class='primary' type='submit'>Sign in with GitHub</button></form>"
        )
    else:
        action = (
            f"<p class='notice'>Sign-in is not configured: {', '.join(missing)} "
            "missing (the App's OAuth client, written to <code>.env</code> by the setup page, "
            "and the address browsers reach this server at).</p>"
        )
    body = (
        f"<div class='card signin'><h1>Sign in to SSOT guard</h1>{messages}"
        "<p>The consolidation progress of every repository you can read on GitHub where the "
        "App is installed.</p>"
        f"{action}</div>"
    )
    return render_page("Sign in: SSOT guard", body, heading="")


# --- pieces of the dashboard ------------------------------------------------------------------


def _chart_series(item: ConceptView) -> list[charts.Series]:
    lines = []
    if item.previous is not None:
        lines.append(_line(item.previous, ended=True))
    lines.append(_line(item.trend.series, ended=False))
    return lines


def _line(series: trend.Series, *, ended: bool, colour: str | None = None) -> charts.Series:
    points = [charts.Point(p.at, p.count) for p in series.points]
    return charts.Series(
        concept_label(series.concept, series.rule),
        charts.thin(points, CHART_POINTS),
        ended=ended,
        colour=colour,
    )


def _markers(item: ConceptView, merged: Sequence[CampaignBatch] = ()) -> list[charts.Marker]:
    """A rename where the concept's new series starts, and its merged consolidation PRs."""
    series = item.trend.series
    markers = []
    if series.started_at is not None:
        text = f"renamed from {series.renamed_from}" if series.renamed_from else "new series"
        markers.append(charts.Marker(series.started_at, text))
    return markers + _merged_markers(item, merged)


def _merged_markers(item: ConceptView, merged: Sequence[CampaignBatch]) -> list[charts.Marker]:
    # A batch applies the campaign's safe fixes, import rewrites: it moves the count of its
    # concept under those rules. One marker a day, the last few (labels must stay legible).
    found = item.trend
    if found.rule not in SAFE_FIX_RULES:
        return []
    by_day: dict[dt.date, list[CampaignBatch]] = {}
    for batch in merged:
        if batch.concept == found.concept and batch.closed_at is not None:
            by_day.setdefault(batch.closed_at.date(), []).append(batch)
    markers = []
    for day, batches in sorted(by_day.items())[-MERGED_MARKERS:]:
        removed = sum(b.fixes for b in batches)
        who = f"#{batches[0].pr}" if len(batches) == 1 else f"{len(batches)} batch PRs"
        at = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        markers.append(charts.Marker(at, f"{who} merged: \u2212{removed:,}"))
    return markers


def _projection(item: trend.Trend) -> charts.Projection | None:
    if item.target is None:
        return None
    at = None
    if item.eta is not None and not item.reached:
        at = dt.datetime.combine(item.eta, dt.time(), tzinfo=dt.UTC)
    return charts.Projection(at, item.eta_text)


def _change(change: trend.Change | None) -> str:
    if change is None:
        return "<td class='num muted'>&ndash;</td>"
    css = "down" if change.delta < 0 else "up" if change.delta > 0 else "muted"
    since = f"since {_day(change.since.at)}"
    mark = "*" if change.partial else ""
    return (
        f"<td class='num {css}' title='{escape(since)}'>{escape(trend.signed(change.delta))}"
        f"{mark}</td>"
    )


def _progress(item: trend.Trend) -> str:
    target = "" if item.target is None else f" → {item.target:,}"
    return f"<span class='count'>{item.count:,}</span>{escape(target)}"


def concepts_table(view: RepositoryView) -> str:
    """Per concept: count -> target, change over 7 and 30 days, a sparkline, the date at pace."""
    rows = ""
    for item in view.concepts:
        found = item.trend
        label = concept_label(found.concept, found.rule)
        spark = charts.sparkline(_chart_series(item), label=f"{label}: history")
        note = found.series.note
        rows += (
            f"<tr><th scope='row'>{escape(found.concept or '(files)')}"
            f"<div class='muted small'>{escape(_rule_name(found.rule))}</div></th>"
            f"<td class='num'>{_progress(found)}</td>"
            f"{_change(found.change_7)}{_change(found.change_30)}"
            f"<td>{spark}</td><td>{escape(found.eta_text)}"
            f"{f'<div class=small>{escape(note)}</div>' if note else ''}</td></tr>"
        )
    return (
        "<table><thead><tr><th>concept</th><th class='num'>now → target</th>"
        "<th class='num'>7 days</th><th class='num'>30 days</th><th>history</th>"
        f"<th>reaching the target</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def burndowns(view: RepositoryView, *, size: tuple[int, int]) -> str:
    """A burn-down per concept: its samples toward the target, projected at the current pace."""
    figures = ""
    for item in view.concepts:
        found = item.trend
        label = concept_label(found.concept, found.rule)
        chart = charts.line_chart(
            _chart_series(item),
            label=f"{label}: burn-down",
            target=found.target,
            projection=_projection(found),
            markers=_markers(item, view.merged),
            width=size[0],
            height=size[1],
        )
        figures += (
            f"<figure class='card'><figcaption><strong>{escape(label)}</strong> "
            f"<span class='muted'>{escape(found.eta_text)}</span></figcaption>{chart}</figure>"
        )
    return f"<div class='grid'>{figures}</div>"


def _sample_line(view: RepositoryView) -> str:
    latest = view.latest
    if latest is None:
        return ""
    return (
        f"default branch at <code>{escape(latest.commit_sha[:7])}</code>, "
        f"{escape(_day(latest.committed_at))}"
    )


NO_HISTORY = (
    "<p class='muted'>No history yet. The App records the default branch's totals at every "
    "push (a new installation is backfilled with weekly samples), once the repository has a "
    "policy (<code>.github/ssot.toml</code>).</p>"
)


def repository_card(view: RepositoryView) -> str:
    """A repository in the overview: name, counts, sparklines and a burn-down per concept."""
    repo = view.repo
    private = " <span class='badge'>private</span>" if repo.private else ""
    head = (
        f"<div class='repo-head'><h2><a href='{escape(repo_path(repo.full_name))}'>"
        f"{escape(repo.full_name)}</a>{private}</h2>"
        f"<span class='muted small'>{_sample_line(view)}</span></div>"
    )
    if not view.has_history:
        return f"<section class='card'>{head}{NO_HISTORY}</section>"
    return (
        f"<section class='card'>{head}{concepts_table(view)}"
        f"{burndowns(view, size=CHART_SIZE)}</section>"
    )


def _pager(page: int, pages: int) -> str:
    if pages <= 1:
        return ""
    links = []
    if page > 1:
        links.append(f"<a href='/dashboard?page={page - 1}' rel='prev'>← newer</a>")
    links.append(f"<span class='muted'>page {page} of {pages}</span>")
    if page < pages:
        links.append(f"<a href='/dashboard?page={page + 1}' rel='next'>more →</a>")
    return f"<nav class='pager' aria-label='Pages'>{''.join(links)}</nav>"


# --- the pages ---------------------------------------------------------------------------------


def overview_page(
    login: str,
    views: Sequence[RepositoryView],
    *,
    total: int,
    with_history: int,
    page: int,
    pages: int,
    sections: Sequence[tuple[str, str]] = SECTIONS,
) -> str:
    """``/dashboard``: every repository the person can read, a page of them at a time."""
    if total == 0:
        body = (
            "<div class='card'><p>You cannot read any repository where the App is installed. "
            "Ask an owner of your organisation to install it, or to give you access to a "
            "repository that has it.</p></div>"
        )
        lede = ""
    else:
        body = "".join(repository_card(view) for view in views) + _pager(page, pages)
        lede = (
            f"{total:,} {'repository' if total == 1 else 'repositories'} you can read, "
            f"{with_history:,} with history. Counts are the default branch's at its latest "
            "recorded commit; the lines are its history."
        )
    return render_page(
        "Dashboard: SSOT guard",
        body,
        heading="Dashboard",
        user=login,
        sections=sections,
        current="/dashboard",
        lede=escape(lede),
    )


def _ranked(rows: Sequence[tuple[str, int]], header: str) -> str:
    if not rows:
        return f"<p class='muted'>No {escape(header)} recorded.</p>"
    body = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td class='num'>{count:,}</td></tr>"
        for name, count in rows[:TOP]
    )
    return (
        f"<table><thead><tr><th>{escape(header)}</th><th class='num'>findings</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def where_the_debt_is(view: RepositoryView) -> str:
    """Per concept of the newest sample: the directories and owners holding most debt."""
    latest = view.latest
    if latest is None or not latest.breakdown:
        return "<p class='muted'>No breakdown recorded for the latest commit.</p>"
    parts = ""
    for concept, item in latest.breakdown.items():
        parts += (
            f"<div><h3>{escape(concept or '(files)')}</h3>"
            f"<div class='grid'>{_ranked(item.directories, 'directory')}"
            f"{_ranked(item.owners, 'CODEOWNERS owner')}</div></div>"
        )
    return parts


def decisions_table(decisions: Sequence[PullDecision]) -> str:
    """The pull requests the gate blocked or whose findings someone accepted: who, why, link."""
    if not decisions:
        return "<p class='muted'>No pull request was blocked or accepted yet.</p>"
    rows = "".join(
        f"<tr><td class='outcome-{escape(d.outcome)}'>{escape(d.outcome)}</td>"
        f"<td>{_link(d.url, f'#{d.pr}')}</td><td>{escape(d.user)}</td>"
        f"<td>{escape(d.reason)}</td><td class='muted small'>{escape(_day(d.at))}</td></tr>"
        for d in decisions
    )
    return (
        "<table><thead><tr><th>decision</th><th>pull request</th><th>who</th><th>why</th>"
        f"<th>when</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def history_chart(view: RepositoryView) -> str:
    """Every series of the repository on one chart; renames and dropped concepts said so."""
    lines: list[charts.Series] = []
    markers: list[charts.Marker] = []
    for index, item in enumerate(view.concepts):
        # A renamed concept's older run in its colour, dashed: one concept, two series.
        colour = charts.PALETTE[index % len(charts.PALETTE)]
        if item.previous is not None:
            lines.append(_line(item.previous, ended=True, colour=colour))
        lines.append(_line(item.trend.series, ended=False, colour=colour))
        markers.extend(_markers(item))
    lines.extend(_line(series, ended=True) for series in view.ended)
    chart = charts.line_chart(
        lines, label=f"{view.repo.full_name}: history", markers=markers, width=1080, height=300
    )
    dashed = " stroke-dasharray='4 3'"
    legend = "".join(
        f"<li><svg width='18' height='4' aria-hidden='true'><line x1='0' y1='2' x2='18' y2='2' "
        f"stroke='{colour}' stroke-width='3'{dashed if line.ended else ''}/>"
        f"</svg> {escape(line.label)}{' (ended)' if line.ended else ''}</li>"
        for line, colour in zip(lines, charts.line_colours(lines), strict=True)
    )
    return f"{chart}<ul class='legend'>{legend}</ul>"


def repository_page(
    login: str, detail: RepositoryDetail, sections: Sequence[tuple[str, str]] = SECTIONS
) -> str:
    """``/dashboard/{owner}/{repo}``: counts, history, burn-downs, debt by place, decisions."""
    view = detail.view
    repo = view.repo
    github = _link(repo.html_url, "on GitHub")
    lede = f"{_sample_line(view)} · {github}" if view.has_history else github
    if not view.has_history:
        body = f"<section class='card'>{NO_HISTORY}</section>"
    else:
        files = view.latest.files if view.latest is not None else 0
        body = (
            f"<section class='card'><h2>Progress</h2>{concepts_table(view)}"
            f"<p class='muted small'>{files:,} Python files at the latest commit. "
            "* the series is younger than the period.</p></section>"
            f"<section class='card'><h2>History</h2>{history_chart(view)}</section>"
            f"<h2>Burn-down per concept</h2>{burndowns(view, size=CHART_SIZE)}"
            f"<section class='card'><h2>Where the debt is</h2>{where_the_debt_is(view)}</section>"
        )
    body += (
        f"<section class='card'><h2>Recent decisions</h2>{decisions_table(detail.decisions)}"
        "</section>"
    )
    return render_page(
        f"{repo.full_name}: SSOT guard",
        body,
        heading=repo.full_name,
        user=login,
        sections=sections,
        current="/dashboard",
        lede=lede,
    )
