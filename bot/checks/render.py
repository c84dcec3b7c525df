"""The check run's output and the review's comments, rendered from data. No I/O here.

- :func:`render_check`: title, Markdown summary (never over GitHub's 65,535 characters),
  conclusion, one annotation per new finding (sent 50 per request), and the "Fix" button
  when a proven fix exists;
- :func:`plan_review`: at most 30 inline comments, only on lines of the diff, each with a
  suggestion block when the whole fixed range is in the diff, each carrying hidden
  ``<!-- ssot:fingerprint=... -->`` markers so the next push finds it again;
- :func:`outdated_comments`: earlier comments whose findings are gone (to minimise);
- the outputs of the other outcomes: invalid policy, no policy, superseded head.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from analyzers.baseline import Comparison
from analyzers.findings import Finding, Fix
from analyzers.policy_loader import PolicyError
from analyzers.report import Report, escape, render
from analyzers.report.model import sort_key
from analyzers.report.text import plural
from analyzers.rules import RULES
from bot.store.acceptances import AcceptedFinding

CHECK_NAME = "SSOT guard"
MAX_TEXT = 65_535  # check run summary and text
MAX_BODY = 65_536  # review and comment bodies
MAX_TITLE = 255
ANNOTATIONS_PER_REQUEST = 50
MAX_INLINE_COMMENTS = 30
MAX_ANNOTATION_MESSAGE = 4_000
EXTRA_BUDGET = 16_000  # notes and accepted findings, at most; the rest is the report
MIN_REPORT_CHARS = 1_000
FIX_IDENTIFIER = "ssot-fix"
FIX_ACTION = {
    "label": "Fix",
    "description": "Commit the suggested fixes",
    "identifier": FIX_IDENTIFIER,
}
MARKER = "<!-- ssot:fingerprint={} -->"
# Read only from a line that is the marker alone, as marker() writes it: pull-request text
# quoted in the same comment (escaped anyway) cannot add or steer one.
_MARKER = re.compile(r"^<!-- ssot:fingerprint=([0-9A-Za-z_-]{1,64}) -->$", re.M)
DOCS_POLICY = "docs/policy.md"

Conclusion = str  # "success", "failure", "neutral"


def external_id(installation_id: int, repository: str, head_sha: str) -> str:
    """How the bot finds its check run of one head again: ``ssot:{inst}:{repo}:{sha}``."""
    return f"ssot:{installation_id}:{repository}:{head_sha}"


def clip(text: str, limit: int, tail: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - len(tail)] + tail


@dataclass(frozen=True)
class CheckOutput:
    """Everything a completed check run says."""

    conclusion: Conclusion
    title: str
    summary: str
    annotations: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)

    def batches(self, skip: int = 0) -> list[list[dict[str, Any]]]:
        """The annotations after the first ``skip`` (already posted), 50 per request; at
        least one (possibly empty) batch, so the run is always completed."""
        rest = self.annotations[skip:]
        out = [
            rest[i : i + ANNOTATIONS_PER_REQUEST]
            for i in range(0, len(rest), ANNOTATIONS_PER_REQUEST)
        ]
        return out or [[]]


# --- accepted findings ---------------------------------------------------------------------


def apply_acceptances(comparison: Comparison, accepted: Sequence[AcceptedFinding]) -> Comparison:
    """New findings covered by an acceptance no longer block (they become warnings).

    An acceptance covers as many findings of its fingerprint as the pull request had when it
    was given: a fingerprint leaves out the path, so a copy pushed later (the same import at
    the top of another module) is not accepted with them.
    """
    left = {a.fingerprint: a.occurrences for a in accepted}
    by_fingerprint = {a.fingerprint: a for a in accepted}
    covered: set[int] = set()
    for finding in sorted(comparison.new, key=sort_key):
        if finding.severity == "block" and left.get(finding.fingerprint, 0) > 0:
            left[finding.fingerprint] -= 1
            covered.add(id(finding))
    new: list[Finding] = []
    for finding in comparison.new:
        if id(finding) in covered:
            acceptance = by_fingerprint[finding.fingerprint]
            finding = replace(
                finding,
                severity="warn",
                message=f"{finding.message} (accepted by @{acceptance.user})",
            )
        new.append(finding)
    return Comparison(new=new, fixed=list(comparison.fixed), unchanged=list(comparison.unchanged))


def accepted_lines(
    accepted: Sequence[AcceptedFinding], new: Sequence[Finding], budget: int
) -> list[str]:
    """The "Accepted findings" section: who accepted what and why, within ``budget``."""
    if not accepted:
        return []
    where: dict[str, Finding] = {}
    for finding in sorted(new, key=sort_key):
        where.setdefault(finding.fingerprint, finding)
    lines = ["### Accepted findings", ""]
    used = sum(len(line) + 1 for line in lines)
    for shown, item in enumerate(accepted):
        match = where.get(item.fingerprint)
        what = (
            f"**{match.rule}** {escape.code(f'{match.path}:{match.line}')}"
            if match is not None
            else f"{escape.code(item.fingerprint)} (no longer in this pull request)"
        )
        # A commenter's words: a reason must not mention, link or reference anything.
        reason = escape.text(clip(" ".join(item.reason.split()), 300))
        line = f"- {what} accepted by @{item.user} on {item.at:%Y-%m-%d}: {reason}"
        more = f"_{len(accepted) - shown:,} more accepted findings not shown._"
        if used + len(line) + 1 + len(more) + 1 > budget:
            lines.append(more)
            break
        lines.append(line)
        used += len(line) + 1
    return lines


# --- the check run ---------------------------------------------------------------------------


def annotation(finding: Finding) -> dict[str, Any]:
    """The check-run annotation of one finding (columns only on a single line, 1-based)."""
    name = RULES[finding.rule].name if finding.rule in RULES else ""
    message = " ".join(finding.message.split("\n"))
    if finding.fix is not None:
        message += "\nA fix is suggested: the Fix button or `/ssot fix` commits it."
    item: dict[str, Any] = {
        "path": finding.path,
        "start_line": finding.line,
        "end_line": max(finding.end_line, finding.line),
        "annotation_level": "failure" if finding.blocking else "warning",
        "title": clip(f"{finding.rule} {name}".strip(), MAX_TITLE),
        "message": clip(message, MAX_ANNOTATION_MESSAGE),
    }
    if finding.end_line <= finding.line and finding.end_col > finding.col:
        item["start_column"] = finding.col + 1
        item["end_column"] = finding.end_col
    return item


def check_title(report: Report, accepted: int) -> str:
    blocking = len(report.blocking)
    if not report.count("new") and report.fixed and not accepted:
        # A pull request that only removes debt (a consolidation batch): "17 fixed, 0 new".
        return clip(f"{len(report.fixed):,} fixed, 0 new", MAX_TITLE)
    title = plural(blocking, "new blocking finding") if blocking else "No new blocking findings"
    extras = []
    if accepted:
        extras.append(f"{accepted:,} accepted")
    if report.fixed:
        extras.append(f"{len(report.fixed):,} fixed")
    return clip(title + (f" ({', '.join(extras)})" if extras else ""), MAX_TITLE)


def render_check(
    report: Report,
    accepted: Sequence[AcceptedFinding] = (),
    notes: Sequence[str] = (),
    *,
    max_chars: int = MAX_TEXT,
) -> CheckOutput:
    """The completed check run of a pull request's head (``report`` already has the
    acceptances applied, see :func:`apply_acceptances`)."""
    extra: list[str] = []
    for note in notes:
        extra += [clip(note, 2_000), ""]
    budget = min(EXTRA_BUDGET, max_chars - MIN_REPORT_CHARS) - sum(len(x) + 1 for x in extra)
    extra += accepted_lines(accepted, report.new, max(budget, 0))
    tail = "\n".join(extra).strip()
    room = max_chars - (len(tail) + 2 if tail else 0)
    body = render(report, "markdown", max_chars=max(room, MIN_REPORT_CHARS))
    summary = body.rstrip("\n") + ("\n\n" + tail if tail else "") + "\n"
    summary = clip(summary, max_chars, "\n")
    new = sorted((f for f in report.new if f.suppressed is None), key=sort_key)
    accepted_now = {a.fingerprint for a in accepted} & {f.fingerprint for f in new}
    return CheckOutput(
        conclusion="failure" if report.blocking else "success",
        title=check_title(report, len(accepted_now)),
        summary=summary,
        annotations=[annotation(f) for f in new],
        actions=[dict(FIX_ACTION)] if any(f.fix is not None for f in new) else [],
    )


def render_invalid_policy(error: PolicyError) -> CheckOutput:
    """A failing check that says which file, line and key of the policy to fix.

    The message names the key in the policy's words (``[[concept]] 2: target ...``).
    """
    where = escape.code(error.source) + (f", line {error.line}" if error.line else "")
    summary = "\n".join(
        [
            "## :x: SSOT guard: the policy cannot be used",
            "",
            f"{where}: {escape.text(error.message)}",
            "",
            "The policy is read from the pull request's base branch (a pull request cannot "
            "change its own gate): fix it there, then re-run this check.",
            "",
            f"See {DOCS_POLICY} for every key.",
        ]
    )
    return CheckOutput(
        conclusion="failure",
        title=clip(f"Invalid policy: {error}", MAX_TITLE),
        summary=clip(summary + "\n", MAX_TEXT, "\n"),
    )


def render_no_policy(owner: str) -> CheckOutput:
    """The neutral check posted (only when configured) for a repository without a policy."""
    summary = "\n".join(
        [
            "## SSOT guard: no policy",
            "",
            "This repository has no SSOT guard policy, so nothing was checked. To start:",
            "",
            "1. add `.github/ssot.toml` to the default branch (or a `[tool.ssot]` table in "
            f"`pyproject.toml`), or one for every repository in `{owner}/.github`;",
            "2. name each concept's canonical home and its deprecated import paths:",
            "",
            "```toml",
            "[[concept]]",
            'name = "websocket-manager"',
            'canonical = "app.websocket.manager.WebSocketManager"',
            'deprecated = ["app.websocket.legacy.UnifiedWebSocketManager"]',
            "```",
            "",
            f"See {DOCS_POLICY} for every key.",
        ]
    )
    return CheckOutput(conclusion="neutral", title="No SSOT policy", summary=summary + "\n")


def render_analysis_limit(what: str, bound: str) -> CheckOutput:
    """The analysis of this head went past the App's bound: neutral, with the reason."""
    return CheckOutput(
        conclusion="neutral",
        title=f"Not checked: analysis over its {what} bound",
        summary=(
            "## SSOT guard: not checked\n\n"
            f"Analysing this pull request took more than the App allows one pull request "
            f"({what}: {bound}), so it was stopped and nothing is reported. Files made to be "
            "slow or huge to analyse do this; a split pull request, or a run of "
            "`ssot check --base <base>` in CI, checks such a change. The App's operator sets "
            "the bounds (`SSOT_ANALYSIS_SECONDS`, `SSOT_ANALYSIS_MEMORY_MB`).\n"
        ),
    )


def render_superseded(head_sha: str) -> CheckOutput:
    """A commit that is no longer the pull request's head: neutral, never failing."""
    return CheckOutput(
        conclusion="neutral",
        title=f"Superseded by {head_sha[:12]}",
        summary=(
            "## SSOT guard: superseded\n\n"
            f"The pull request's head moved to `{head_sha}` while this commit was being "
            "checked; the check of that commit replaces this one.\n"
        ),
    )


# --- the review --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewComment:
    """One inline comment: on ``line`` (or ``start_line..line``) of the head, RIGHT side."""

    path: str
    line: int
    body: str
    fingerprints: tuple[str, ...]
    start_line: int | None = None

    def payload(self) -> dict[str, Any]:
        """The ``comments[]`` item of ``POST /pulls/{n}/reviews``."""
        item: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "side": "RIGHT",
            "body": self.body,
        }
        if self.start_line is not None:
            item["start_line"] = self.start_line
            item["start_side"] = "RIGHT"
        return item


@dataclass(frozen=True)
class ExistingComment:
    """A review comment the bot posted earlier, with the fingerprints its markers name."""

    id: int
    node_id: str
    path: str
    fingerprints: tuple[str, ...]


@dataclass(frozen=True)
class ReviewPlan:
    """What to post: the comments, and how many new findings stay in the check run only."""

    comments: list[ReviewComment]
    not_inline: int
    new: int

    @property
    def empty(self) -> bool:
        return not self.comments


def marker(fingerprint: str) -> str:
    """The hidden marker that lets the bot find its comment on a finding again."""
    return MARKER.format(fingerprint)


def fingerprints_in(body: str | None) -> tuple[str, ...]:
    """The fingerprints named by markers in a comment body."""
    return tuple(_MARKER.findall(body or ""))


def suggestion(replacement: str) -> str:
    """A suggestion block replacing the commented lines with ``replacement``.

    The fence is longer than any run of backticks in the content, so code holding
    backticks cannot end the block early.
    """
    content = replacement[:-1] if replacement.endswith("\n") else replacement
    content = content[:-1] if content.endswith("\r") else content
    runs = [len(run) for run in re.findall(r"`+", content)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}suggestion\n{content}\n{fence}" if content else f"{fence}suggestion\n{fence}"


def comment_body(findings: Sequence[Finding], fix: Fix | None) -> str:
    """Messages, the suggestion when there is one, and one marker per finding."""
    lines: list[str] = []
    for finding in findings:
        icon = ":x:" if finding.blocking else ":warning:"
        lines.append(f"{icon} **{finding.rule}** {escape.message(finding.message)}")
    if fix is not None:
        lines += ["", suggestion(fix.replacement)]
    rule = findings[0].rule
    lines += [
        "",
        f"<sub>Why: `/ssot explain {rule}`. Intended: `/ssot accept <reason>` (maintainers).</sub>",
    ]
    lines += [marker(f.fingerprint) for f in findings]
    return "\n".join(lines)


def plan_review(
    new: Sequence[Finding],
    commentable: Callable[[str, int], bool],
    already: Iterable[tuple[str, str]] = (),
    accepted: Iterable[str] = (),
    limit: int = MAX_INLINE_COMMENTS,
) -> ReviewPlan:
    """Inline comments for new findings on lines GitHub accepts, at most ``limit``.

    ``commentable(path, line)``: the line is in the diff (RIGHT side). ``already``:
    ``(path, fingerprint)`` pairs an earlier comment of the bot names (never commented
    twice); ``accepted``: fingerprints a maintainer accepted (not commented). Findings that
    share one fix share one comment. Blocking findings come first.
    """
    seen = set(already)
    skip = set(accepted)
    candidates: list[Finding] = []
    for finding in sorted(new, key=lambda f: (not f.blocking, *sort_key(f))):
        key = (finding.path, finding.fingerprint)
        if finding.suppressed is not None or key in seen or finding.fingerprint in skip:
            continue
        seen.add(key)
        candidates.append(finding)
    groups: dict[tuple[str, int, int | None, str], list[Finding]] = {}
    fixes: dict[tuple[str, int, int | None, str], Fix | None] = {}
    for finding in candidates:
        anchor = _anchor(finding, commentable)
        if anchor is None:
            continue
        line, start, fix = anchor
        group = (finding.path, line, start, fix.replacement if fix else f"#{finding.fingerprint}")
        groups.setdefault(group, []).append(finding)
        fixes[group] = fix
    comments: list[ReviewComment] = []
    for group, findings in groups.items():
        if len(comments) >= limit:
            break
        path, line, start, _ = group
        body = comment_body(findings, fixes[group])
        if len(body) > MAX_BODY:
            body = clip(comment_body(findings, None), MAX_BODY)
        comments.append(
            ReviewComment(path, line, body, tuple(f.fingerprint for f in findings), start)
        )
    inline = sum(len(c.fingerprints) for c in comments)
    return ReviewPlan(comments=comments, not_inline=len(candidates) - inline, new=len(candidates))


def _anchor(
    finding: Finding, commentable: Callable[[str, int], bool]
) -> tuple[int, int | None, Fix | None] | None:
    """``(line, start_line, fix)`` of a finding's comment, or None when it cannot have one."""
    fix = finding.fix
    if fix is not None and all(
        commentable(finding.path, n) for n in range(fix.start_line, fix.end_line + 1)
    ):
        start = fix.start_line if fix.start_line < fix.end_line else None
        return fix.end_line, start, fix
    if commentable(finding.path, finding.line):
        return finding.line, None, None
    return None


def review_body(plan: ReviewPlan, total_new: int) -> str:
    """The review's own text: how many findings are commented and where the rest are."""
    commented = plan.new - plan.not_inline
    text = f"**SSOT guard**: {plural(commented, 'new finding')} commented below."
    rest = total_new - commented
    if rest > 0:
        text += (
            f" {plural(rest, 'other finding')} of this pull request "
            "(outside the diff, already commented, accepted, or over the limit of "
            f"{MAX_INLINE_COMMENTS} comments) are in the check run's annotations."
        )
    return text


def outdated_comments(
    existing: Iterable[ExistingComment], current: Iterable[tuple[str, str]]
) -> list[ExistingComment]:
    """Earlier comments none of whose findings is still new (to minimise as OUTDATED)."""
    keys = set(current)
    return [c for c in existing if not any((c.path, fp) in keys for fp in c.fingerprints)]


def count_by_key(findings: Iterable[Finding]) -> Counter[tuple[str, str]]:
    """Unsuppressed findings counted per (concept, rule)."""
    return Counter((f.concept, f.rule) for f in findings if f.suppressed is None)
