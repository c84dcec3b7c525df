"""What a batch's pull request, commit and comments say: pure text from a plan's batch."""

from __future__ import annotations

from analyzers.campaign import Batch
from analyzers.report import escape
from analyzers.report.text import plural

MAX_BODY = 65_536  # pull request bodies and comments
MAX_TITLE = 256
MARKER = "<!-- ssot:campaign-batch={} -->"
_FINDINGS_SHOWN = 200


def title(batch: Batch) -> str:
    """``SSOT: use the canonical websocket-manager in netra_backend/app (1/3)``-like titles."""
    where = batch.group if not batch.group.startswith("(") else batch.group.strip("()")
    text = f"SSOT: consolidate {batch.concept} in {where} (part {batch.part})"
    return text[:MAX_TITLE]


def commit_message(batch: Batch) -> str:
    return (
        f"{title(batch)}\n\n"
        f"{plural(len(batch.fixes), 'finding')} fixed in {plural(len(batch.files), 'file')} by "
        f"SSOT guard's safe automatic fixes (batch {batch.id})."
    )


def body(batch: Batch, base_branch: str, base_sha: str) -> str:
    """The pull request's description: why, what changes, what is left out, how to steer."""
    change = ", ".join(f"{escape.code(c)} {r} {n:+,}" for c, r, n in batch.totals_change())
    lines = [
        f"SSOT guard's consolidation campaign: this pull request applies the policy's safe "
        f"automatic fixes for **{escape.text(batch.concept)}** to "
        f"{plural(len(batch.files), 'file')} of {escape.code(batch.group)}, built on "
        f"{escape.code(base_branch)} at `{base_sha[:12]}`. Each file was proven after its "
        "fixes: it parses, and a scan reports nothing new and exactly these findings fewer.",
        "",
        f"**Totals once merged:** {change}.",
        "",
        "### Files and findings",
        "",
    ]
    shown = 0
    for item in batch.files:
        left = f" ({item.remaining} left: no safe fix)" if item.remaining else ""
        lines.append(f"- {escape.code(item.path)}: {plural(len(item.fixed), 'fix', 'fixes')}{left}")
        for finding in sorted(item.fixed, key=lambda f: f.line):
            if shown >= _FINDINGS_SHOWN:
                break
            message = " ".join(finding.message.split())
            lines.append(f"  - line {finding.line}: **{finding.rule}** {escape.message(message)}")
            shown += 1
    if shown < len(batch.fixes):
        lines.append(f"- _{len(batch.fixes) - shown:,} more findings not listed_")
    if batch.left_out:
        lines += [
            "",
            "### Left out",
            "",
            "These files have findings this batch would fix, but the fix cannot parse or "
            "rewrite them safely; they need a person:",
            "",
        ]
        lines += [
            f"- {escape.code(item.path)}: {escape.text(item.reason)}" for item in batch.left_out
        ]
    lines += [
        "",
        "---",
        "<sub>SSOT guard keeps this branch current while nobody else pushes to it: when "
        f"{escape.code(base_branch)} changes these files it regenerates the commit. Push to it "
        "yourself and it stops updating it. Close this pull request and the batch is not proposed "
        "again unless someone asks (`/ssot consolidate` or the dashboard issue). Locally: "
        f"`ssot consolidate --plan`.</sub>",
        MARKER.format(batch.id),
    ]
    text = "\n".join(lines)
    if len(text) > MAX_BODY:
        text = text[: MAX_BODY - 40].rsplit("\n", 1)[0] + "\n\n_(description cut)_"
    return text


def human_push_comment(branch: str, head_sha: str) -> str:
    return (
        f"Someone pushed to {escape.code(branch)} (now at `{head_sha[:12]}`), so SSOT guard no "
        "longer regenerates this branch when the base branch changes: it is yours now. "
        "Close this pull request to drop the batch."
    )


def emptied_comment(base_branch: str) -> str:
    return (
        f"Nothing is left for this batch to fix on {escape.code(base_branch)} (the findings "
        "were fixed there, or the files moved): SSOT guard closes it."
    )


def blocked_comment(branch: str, status: int, message: str) -> str:
    """The one message when GitHub refuses the App's push (a protection rule, a permission)."""
    why = " ".join(message.split()) or "no reason given"
    return (
        f"SSOT guard could not push its consolidation branch {escape.code(branch)}: GitHub "
        f"answered {status} ({escape.code(why)}). The campaign has stopped and will not retry. "
        "Let the App "
        "write `ssot/consolidate/*` branches (branch protection or rulesets, and the App's "
        "`contents: write` permission), then comment `/ssot consolidate` to start again."
    )
