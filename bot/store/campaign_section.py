"""The dashboard issue's campaign section, and its checkboxes: pure text, no I/O.

The dashboard issue (one per repository, edited in place, Renovate's dependency dashboard
is the model) is written by ``bot/progress/``; a batch's line in it is a checkbox that
``bot/campaigns/`` acts on when a person ticks it (``issues.edited``). Both sides use the one
syntax below, so it lives here, beside the data it renders (:mod:`bot.store.campaigns`):

    - [ ] <!-- ssot:batch=websocket-manager/netra_backend-app-1 --> ...

The hidden marker survives GitHub's rendering and any edit of the visible text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from analyzers.report.text import plural
from bot.store.campaigns import CampaignBatch, Dashboard

MARKER = "<!-- ssot:batch={} -->"
_BOX = re.compile(
    r"^\s*[-*] \[(?P<mark>[ xX])\] <!-- ssot:batch=(?P<id>[A-Za-z0-9._/-]{1,200}) -->"
)
MAX_LISTED = 50  # per list: the issue body stays far under GitHub's 65,536 characters


def checkbox(batch_id: str, text: str, *, checked: bool = False) -> str:
    """The line of a batch the dashboard proposes: ticking it asks the App to open it."""
    return f"- [{'x' if checked else ' '}] {MARKER.format(batch_id)} {text}"


def checked_batches(body: str | None) -> set[str]:
    """The ids of the batches ticked in an issue body."""
    found: set[str] = set()
    for line in (body or "").splitlines():
        match = _BOX.match(line)
        if match and match.group("mark") in "xX":
            found.add(match.group("id"))
    return found


def ticked(before: str | None, after: str | None) -> list[str]:
    """The batches ticked by an edit (checked after it, not before), sorted."""
    return sorted(checked_batches(after) - checked_batches(before))


def _pull(batch: CampaignBatch) -> str:
    return f"#{batch.pr}" if batch.pr is not None else "(no pull request)"


def _check(batch: CampaignBatch) -> str:
    icons = {"success": ":white_check_mark:", "failure": ":x:", "neutral": ":grey_question:"}
    return icons.get(batch.check_state or "", ":hourglass:") + f" {batch.check_state or 'pending'}"


def _listed(items: Sequence[CampaignBatch], line: Callable[[CampaignBatch], str]) -> list[str]:
    lines = [line(b) for b in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"- _{len(items) - MAX_LISTED:,} more not shown_")
    return lines


def render_section(view: Dashboard) -> str:
    """The campaign part of the dashboard issue: open, proposed (with checkboxes), merged and
    closed batch pull requests with their check state, and why the campaign stopped."""
    out = ["## Consolidation pull requests", ""]
    if view.blocked:
        out += [
            f":no_entry: GitHub refused the App's push: {view.blocked}. The campaign stopped; "
            "allow the App to push `ssot/consolidate/*` branches, then comment "
            "`/ssot consolidate` to start again.",
            "",
        ]
    if view.paused_until is not None:
        out += [
            f"_Paused by GitHub's rate limit until {view.paused_until:%Y-%m-%d %H:%M} UTC._",
            "",
        ]
    if not (view.open or view.proposed or view.merged or view.closed):
        return "\n".join([*out, "_No batch yet._", ""])
    if view.open:
        out += ["**Open**", ""]
        out += _listed(
            view.open,
            lambda b: (
                f"- {_pull(b)} `{b.batch_id}`: {plural(b.fixes, 'fix', 'fixes')} in "
                f"{plural(len(b.files), 'file')}, check {_check(b)}"
            ),
        )
        out.append("")
    if view.proposed:
        out += ["**Proposed** (tick one to open it now, within the campaign's limits)", ""]
        out += _listed(
            view.proposed,
            lambda b: checkbox(
                b.batch_id,
                f"`{b.batch_id}`: {plural(b.fixes, 'fix', 'fixes')} in "
                f"{plural(len(b.files), 'file')}",
            ),
        )
        out.append("")
    if view.merged:
        out += [f"**Merged** ({plural(view.fixed_by_merged, 'finding')} removed)", ""]
        out += _listed(
            view.merged, lambda b: f"- {_pull(b)} `{b.batch_id}`: {plural(b.fixes, 'fix', 'fixes')}"
        )
        out.append("")
    if view.closed:
        out += ["**Closed**", ""]
        out += _listed(
            view.closed,
            lambda b: (
                f"- {_pull(b)} `{b.batch_id}`: "
                + (
                    "closed without merging; not proposed again (tick it back with "
                    "`/ssot consolidate`)"
                    if b.state == "closed"
                    else "nothing left to fix"
                )
            ),
        )
        out.append("")
    return "\n".join(out)
