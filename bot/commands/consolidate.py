"""``/ssot consolidate [PATH]``: open consolidation pull requests now.

On a pull request or on an issue (the dashboard issue), from a collaborator with write,
maintain or admin access (the collaborator permission API). It asks for the campaign's
batches with a file under ``PATH`` (every batch without one), closed ones included: a batch a
person closed comes back only this way or from the dashboard's checkbox. They open within
``max_open`` and ``max_per_hour``; the reply says what opened, what waits, and why nothing
happened when nothing did (no campaign in the policy, a refused push, a pause).
"""

from __future__ import annotations

from typing import Protocol

from bot.campaigns.run import Ask, Outcome, run_campaign
from bot.commands import replies
from bot.github.api import InstallationClient, collaborator_permission
from bot.work import CheckRequest, JobContext


class CommandCall(Protocol):
    """What this command uses of :class:`bot.commands.runner.CommandCall` (which imports
    this module: a protocol, not an import, keeps the two free of a cycle)."""

    @property
    def request(self) -> CheckRequest: ...
    @property
    def context(self) -> JobContext: ...
    @property
    def gh(self) -> InstallationClient: ...
    @property
    def owner(self) -> str: ...
    @property
    def repo(self) -> str: ...
    @property
    def argument(self) -> str: ...
    def answer(self, body: str, number: int | None = None) -> None: ...


def consolidate(call: CommandCall) -> bool:
    """Run the campaign for what ``call`` asks; True when it ran."""
    user = call.request.sender
    permission, role = collaborator_permission(call.gh, call.owner, call.repo, user)
    if user is None or not replies.can_write(permission, role):
        call.answer(
            replies.reply(
                f"@{user or 'someone'}: only collaborators with write, maintain or admin "
                "access may ask for consolidation pull requests."
            )
        )
        return False
    paths = tuple(call.argument.split())
    number = call.request.pull_number
    outcome = run_campaign(
        call.context,
        call.request.installation_id,
        call.request.repository,
        reason="command",
        ask=Ask(paths=paths),
        dashboard_issue=number,
    )
    call.answer(replies.reply(outcome_text(outcome, paths)))
    return outcome.stopped is None


def outcome_text(outcome: Outcome, paths: tuple[str, ...]) -> str:
    """What the reply says about a run."""
    where = " under " + ", ".join(f"`{p}`" for p in paths) if paths else ""
    if outcome.stopped is not None and not (outcome.opened or outcome.updated):
        return f"No consolidation pull request was opened{where}: {outcome.stopped}."
    lines = []
    if outcome.opened:
        opened = ", ".join(f"#{number} (`{ident}`)" for ident, number in outcome.opened)
        lines.append(f"Opened {opened}.")
    if outcome.updated:
        lines.append("Brought up to date: " + ", ".join(f"`{i}`" for i in outcome.updated) + ".")
    if outcome.waiting:
        lines.append(
            f"{len(outcome.waiting)} more wait for the campaign's limits (`max_open`, "
            "`max_per_hour`) and open as they allow: "
            + ", ".join(f"`{i}`" for i in outcome.waiting[:10])
            + ("..." if len(outcome.waiting) > 10 else "")
            + "."
        )
    if outcome.stopped is not None:
        lines.append(f"Then: {outcome.stopped}.")
    if not lines:
        lines.append(
            f"Nothing to consolidate{where}: no safe fix applies, or its batches are open."
        )
    return "\n\n".join(lines)
