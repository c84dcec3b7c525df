"""What the bot says in answer to a ``/ssot`` command: pure text, no I/O.

Every reply carries :data:`REPLY_MARKER`, a hidden HTML comment, so the bot recognises its
own comments (and never takes one for a command). No reply line starts with ``/ssot``, so a
quoted reply cannot be parsed as a command either.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from analyzers.findings import Finding
from analyzers.report import escape
from analyzers.report.rule_docs import rule_page
from analyzers.rules import RULES

REPLY_MARKER = "<!-- ssot:command-reply -->"
MAX_LISTED = 20  # findings listed by name in one reply; the rest are counted

# Roles of GET /repos/{o}/{r}/collaborators/{user}/permission that may accept findings
# and fix someone else's branch.
WRITE_ROLES = frozenset({"admin", "maintain", "write"})

COMMANDS: dict[str, str] = {
    "rescan": "check the pull request's current head again",
    "explain SSOTnnn": "what a rule reports, why, and what to write instead",
    "fix": (
        "commit the automatic fixes to this branch (same-repository branches other than the "
        "default or a protected one; write, maintain or admin)"
    ),
    "accept <reason>": (
        "accept the findings this pull request adds, with a reason (write, maintain or admin)"
    ),
    "consolidate [PATH]": (
        "open the consolidation pull requests of the policy's [campaign] now, within its "
        "limits, for files under PATH (also on the dashboard issue; write, maintain or admin)"
    ),
    "help": "this list",
}


def is_own_reply(body: str | None) -> bool:
    """Whether a comment body is one of the bot's replies (it must never act on it)."""
    return REPLY_MARKER in (body or "")


def reply(text: str) -> str:
    """``text`` as a comment body the bot recognises as its own."""
    return f"{text.rstrip()}\n\n{REPLY_MARKER}\n"


def can_write(permission: str | None, role_name: str | None) -> bool:
    """Whether a collaborator with this permission (and role) may ``/ssot accept`` (and
    ``/ssot fix`` someone else's branch).

    The API's ``permission`` is the legacy value (``maintain`` reads ``write``); ``role_name``
    is the precise role when GitHub sends it.
    """
    return role_name in WRITE_ROLES or permission in WRITE_ROLES


def help_text(unknown: str | None = None) -> str:
    """The list of commands; ``unknown``: the command that was not understood."""
    lines = []
    if unknown is not None:
        lines += [f"I do not know the command {_code(unknown)}.", ""]
    lines.append("SSOT guard answers these commands in a pull-request comment:")
    lines.append("")
    lines += [f"- `/ssot {name}`: {what}" for name, what in COMMANDS.items()]
    lines += [
        "",
        'The check run\'s "Re-run" does what `rescan` does, and its "Fix" button what `fix` does.',
    ]
    return reply("\n".join(lines))


def rule_code(argument: str) -> str:
    """The rule code named by ``/ssot explain``'s argument: ``ssot001,`` -> ``SSOT001``."""
    words = argument.split()
    return re.sub(r"[^0-9A-Za-z]", "", words[0]).upper() if words else ""


def explain_text(argument: str) -> str:
    """A rule's documentation page, or the list of known codes when ``argument`` is none."""
    code = rule_code(argument)
    if code in RULES:
        return reply(rule_page(code))
    asked = f"{_code(code)} is not a rule code." if code else "Which rule? Name its code."
    rules = [f"- `{rule.code}` ({rule.name}): {rule.summary}" for rule in RULES.values()]
    example = "Example: `/ssot explain SSOT001`"
    return reply("\n".join([asked, "", "Known rules:", "", *rules, "", example]))


def explain_known(argument: str) -> bool:
    """Whether ``/ssot explain argument`` names a known rule."""
    return rule_code(argument) in RULES


def head_moved_text(requested: str, current: str) -> str:
    """A check run's button was clicked for a head that is no longer the PR's."""
    return reply(
        f"This pull request moved on from {requested[:7]} to {current[:7]}: nothing was "
        "changed. Use the buttons of the newest check run, or comment `/ssot fix`."
    )


def no_policy_text(error: str | None) -> str:
    """The base branch has no usable policy, so there is nothing to fix or accept."""
    if error:
        return reply(
            f"The policy of the base branch cannot be used: {escape.text(error)}. "
            "Fix it there first (see docs/policy.md)."
        )
    return reply(
        "This repository has no SSOT policy (`.github/ssot.toml` on the base branch, or in "
        "the organisation's `.github` repository): there is nothing to check."
    )


# --- /ssot accept ---------------------------------------------------------------------------


def accept_refused_text(user: str, permission: str | None) -> str:
    """``user`` may not accept findings."""
    role = _code(permission) if permission else "no"
    return reply(
        f"@{user}, only people with write, maintain or admin permission on this repository "
        f"may accept findings; you have {role} permission. Ask a maintainer to review the "
        "findings, or fix them (`/ssot fix` applies the automatic fixes)."
    )


def accept_needs_reason_text() -> str:
    """``/ssot accept`` without a reason."""
    return reply(
        "Accepting findings needs a reason, recorded with your name: for example "
        "`/ssot accept legacy client kept until the v2 rollout (#1234)`."
    )


def accept_head_moved_text(head_sha: str) -> str:
    """The head is not the one the commenter saw (pushed, or not checked yet, after the
    comment was written): accepting its findings would accept what nobody reviewed."""
    return reply(
        f"This pull request's head ({head_sha[:7]}) is newer than the check run you saw when "
        "you wrote this comment: nothing was accepted. Review the check run of the new head, "
        "then comment `/ssot accept <reason>` again."
    )


def accept_nothing_text() -> str:
    """No new finding on the current head: nothing to accept."""
    return reply("This pull request adds no finding at its current head: nothing to accept.")


def accepted_text(findings: list[Finding], user: str, reason: str, head_sha: str) -> str:
    """The findings ``user`` accepted on ``head_sha``, listed by place and rule."""
    lines = [
        f"@{user} accepted {_count(len(findings), 'finding')} added by this pull request "
        f"(at {head_sha[:7]}), for this reason:",
        "",
        f"> {escape.text(reason)}",
        "",
        *_listing(findings),
        "",
        "They are listed as accepted in the check run and no longer fail it. A finding that "
        "the next commits add is new again.",
    ]
    return reply("\n".join(lines))


# --- /ssot fix ------------------------------------------------------------------------------


def fix_refused_permission_text(user: str) -> str:
    """Someone who may not push to the branch asked for ``/ssot fix``."""
    return reply(
        f"@{user}, `/ssot fix` pushes to this pull request's branch: only people with "
        "write, maintain or admin permission on this repository may ask for it. The "
        "suggested changes in the review can be applied by the author."
    )


def fix_guarded_branch_text(branch: str, what: str) -> str:
    """The PR's branch is the default branch or a protected one: the App never pushes there."""
    return reply(
        f"{_code(branch)} is {what}: SSOT guard does not push there. Apply the suggested "
        "changes from the review, or run `ssot fix` in your checkout and push."
    )


def fix_fork_text(head_repo: str) -> str:
    """The head branch lives in a fork (``head_repo``, empty once deleted): no push there."""
    where = f"the fork {_code(head_repo)}" if head_repo else "a fork that was deleted"
    return reply(
        f"The branch of this pull request lives in {where}, where the "
        "App cannot push. Apply the suggested changes from the review, or run `ssot fix` "
        "in your checkout and push."
    )


def fix_refused_text(branch: str, status: int, message: str) -> str:
    """GitHub refused the push of the fix commit (protected branch, missing permission)."""
    why = f": {escape.text(message)}" if message else ""
    return reply(
        f"GitHub refused the push of the fixes to {_code(branch)} ({status}{why}). The "
        "branch may be protected, or have moved since the check: apply the suggested changes "
        "from the review, or run `ssot fix` in your checkout and push."
    )


def fix_nothing_text(unfixable: int) -> str:
    """No automatic fix applies: nothing was committed."""
    if unfixable:
        return reply(
            f"Nothing to commit: none of the {_count(unfixable, 'finding')} this pull request "
            "adds has an automatic fix. `/ssot explain SSOTnnn` says what to write instead."
        )
    return reply("Nothing to commit: this pull request adds no finding with an automatic fix.")


def fix_committed_text(
    commit_sha: str, branch: str, fixed: list[Finding], files: Iterable[str], unfixable: int
) -> str:
    """The fix commit was pushed to ``branch``."""
    paths = sorted(files)
    lines = [
        f"Pushed {commit_sha[:7]} to {_code(branch)}: {_count(len(fixed), 'fix', 'fixes')} "
        f"in {_count(len(paths), 'file')}.",
        "",
        *_listing(fixed),
    ]
    if unfixable:
        lines += ["", f"{_count(unfixable, 'finding')} without an automatic fix remain."]
    lines += ["", "The check runs again on the new head."]
    return reply("\n".join(lines))


def fix_commit_message(fixed: list[Finding], user: str | None, pull_number: int) -> str:
    """The message of the fix commit: what it changes, and who asked for it."""
    by_rule = Counter(f.rule for f in fixed)
    rules = ", ".join(f"{code} x{n}" for code, n in sorted(by_rule.items()))
    who = f" by @{user}" if user else ""
    return (
        f"ssot: apply {_count(len(fixed), 'automatic fix', 'automatic fixes')} ({rules})\n\n"
        f"Requested{who} on pull request #{pull_number} (SSOT guard `/ssot fix`).\n"
    )


def analysis_limit_text(command: str, what: str, bound: str) -> str:
    """The analysis a command needed went past the App's bound for one pull request."""
    return reply(
        f"{_code('/ssot ' + command)} was not done: analysing this pull request takes more than "
        f"the App allows one pull request ({what}: {bound})."
    )


def failed_text(command: str, attempts: int) -> str:
    """A command that failed on the App's side (GitHub or the analysis) on its last try."""
    return reply(
        f"{_code('/ssot ' + command)} failed on the App's side ({_count(attempts, 'attempt')}). "
        "Comment it again later; if it fails again, the App's logs say why."
    )


# --- helpers --------------------------------------------------------------------------------


def _listing(findings: list[Finding]) -> list[str]:
    ordered = sorted(findings, key=lambda f: (f.path, f.line, f.rule))
    lines = [
        f"- {_code(f'{f.path}:{f.line}')} {f.rule}: {escape.message(f.message)}"
        for f in ordered[:MAX_LISTED]
    ]
    if len(ordered) > MAX_LISTED:
        lines.append(f"- and {len(ordered) - MAX_LISTED} more")
    return lines


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _code(text: str) -> str:
    """Pull-request text (a path, a branch, a command) as a code span that nothing in it can
    end early (:mod:`analyzers.report.escape`), cut to 200 characters."""
    return escape.code(text[:200])
