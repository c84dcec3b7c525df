"""Run a ``/ssot`` command, or the check run's "Fix" button, for one pull request.

:mod:`bot.events.route` calls :func:`run_command` for a :class:`~bot.work.CheckRequest` that carries a
``command`` (a PR comment) or the ``ssot-fix`` requested action (the check run's button).
For a comment the bot reacts with ``eyes`` while it works, then ``+1`` (done) or
``confused`` (refused, unknown, or failed for good). Answers are issue comments on the pull
request carrying :data:`bot.commands.replies.REPLY_MARKER`.

- ``rescan``: the pipeline's check of the current head (the one check run of that head is
  completed again);
- ``explain CODE``: the rule's documentation page, or the known codes;
- ``fix``: the proven fixes of the findings the PR adds, committed to a same-repository
  branch (:mod:`bot.commands.fix_commit`) when asked (comment or button) by a collaborator
  with write access, the PR's author included (an author without write access could
  otherwise make the App push what they cannot); never to the default branch nor a
  protected one. A fork, a refused push, or nothing to fix gets a reply instead (the push
  itself makes GitHub send ``synchronize``, which checks the new head);
- ``accept REASON``: for write, maintain and admin collaborators only (the collaborator
  permission API; ``author_association`` is not reliable), every new finding of the head
  the commenter saw is recorded as accepted with who and why, and the check runs again. A
  head whose check run started after the comment was written was not seen: refused;
- ``help`` and anything unknown: the list of commands (for collaborators who may write;
  anyone else gets a reaction only).

Answers (reactions and replies) to one person in one repository are capped per hour
(``SSOT_COMMAND_ANSWERS_PER_HOUR``): past it, their commands are ignored, so comment spam
cannot spend the installation's write budget.

A button clicked on the check run of an older head, or a base branch without a usable
policy, is answered with the reason; nothing is changed.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from githubkit.exception import RequestFailed

from bot.checks import decisions, render
from bot.checks.engine_process import AnalysisLimit
from bot.checks.pipeline import PullContext, analyse_pull, check_pull_request, load_pull_context
from bot.checks.publish import find_check_run, parse_timestamp
from bot.checks.render import FIX_IDENTIFIER
from bot.commands import replies
from bot.commands.consolidate import consolidate
from bot.commands.fix_commit import PushRefused, commit_fixes, plan_fixes
from bot.github.api import (
    InstallationClient,
    collaborator_permission,
    get_optional,
    installation_client,
)
from bot.store import acceptances, command_answers, db
from bot.work import CheckRequest, JobContext

log = logging.getLogger(__name__)

Reaction = Literal["eyes", "+1", "confused"]


@dataclass(frozen=True)
class CommandCall:
    """One command being run: where to answer, who asked, and the job's context."""

    request: CheckRequest
    context: JobContext
    gh: InstallationClient
    owner: str
    repo: str
    name: str
    argument: str

    def answer(self, body: str, number: int | None = None) -> None:
        """Post ``body`` as a comment on the pull request."""
        pull = number if number is not None else self.request.pull_number
        if pull is None:
            log.warning("no pull request to answer %s on: %s", self.name, body[:80])
            return
        self.gh.rest.issues.create_comment(self.owner, self.repo, pull, body=body)

    @cached_property
    def may_write(self) -> bool:
        """Whether the sender has write, maintain or admin permission on the repository."""
        return replies.can_write(
            *collaborator_permission(self.gh, self.owner, self.repo, self.request.sender)
        )

    def react(self, content: Reaction) -> None:
        """React to the command's comment (a button click has none)."""
        if self.request.comment_id is None:
            return
        try:
            self.gh.rest.reactions.create_for_issue_comment(
                self.owner, self.repo, self.request.comment_id, content=content
            )
        except RequestFailed as exc:  # a deleted comment: nothing to react to
            log.info("could not react %s: %s", content, exc.response.status_code)


def command_name(request: CheckRequest) -> str | None:
    """The command a request asks for: its comment's command, or ``fix`` for the button."""
    if request.command is not None:
        return request.command
    if request.requested_action == FIX_IDENTIFIER:
        return "fix"
    return None


def run_command(request: CheckRequest, context: JobContext) -> None:
    """Run the command of ``request`` and answer on the pull request (see module docstring).

    Raising makes the job retry; on its last attempt the comment gets ``confused`` and a
    reply saying it failed.
    """
    name = command_name(request)
    if name is None or _is_own_reply(request):
        return
    owner, repo = request.repository.split("/", 1)
    call = CommandCall(
        request=request,
        context=context,
        gh=installation_client(context.settings, request.installation_id, engine=context.engine),
        owner=owner,
        repo=repo,
        name=name,
        argument=request.command_argument.strip(),
    )
    if not _within_answer_budget(call):
        log.info("commands of %s in %s over the hourly answers: ignored", request.sender, repo)
        return
    if (name in ("help", "explain") or name not in COMMANDS) and not call.may_write:
        # Anyone can comment: a reply to each would let them spend our writes.
        call.react("eyes" if name in COMMANDS else "confused")
        return
    call.react("eyes")
    run = COMMANDS.get(name, _unknown)
    try:
        done = run(call)
    except AnalysisLimit as limit:
        call.react("confused")
        call.answer(replies.analysis_limit_text(name, limit.what, limit.bound))
        return
    except Exception:
        if context.attempt >= context.settings.job_max_attempts:
            with contextlib.suppress(Exception):  # GitHub itself may be what fails
                call.react("confused")
                call.answer(replies.failed_text(name, context.attempt))
        raise
    call.react("+1" if done else "confused")


# --- the commands: each returns True when done, False when refused -----------------------


def _help(call: CommandCall) -> bool:
    call.answer(replies.help_text())
    return True


def _unknown(call: CommandCall) -> bool:
    call.answer(replies.help_text(unknown=call.name))
    return False


def _explain(call: CommandCall) -> bool:
    call.answer(replies.explain_text(call.argument))
    return replies.explain_known(call.argument)


def _rescan(call: CommandCall) -> bool:
    return check_pull_request(call.request, call.context) is not None


def _fix(call: CommandCall) -> bool:
    if not call.may_write:
        call.answer(replies.fix_refused_permission_text(call.request.sender or "someone"))
        return False
    pull = _loaded(call)
    if pull is None:
        return False
    if pull.is_fork:
        call.answer(replies.fix_fork_text(pull.head_repo), pull.number)
        return False
    guarded = _guarded_branch(pull)
    if guarded is not None:
        call.answer(replies.fix_guarded_branch_text(pull.head_ref, guarded), pull.number)
        return False
    assert pull.policy is not None
    new = analyse_pull(pull, call.context).comparison.new
    plan = plan_fixes(new, pull.head_content, pull.policy.policy)
    if plan.empty:
        call.answer(replies.fix_nothing_text(len(plan.unfixable)), pull.number)
        return True
    message = replies.fix_commit_message(plan.fixed, call.request.sender, pull.number)
    try:
        sha = commit_fixes(
            pull.gh,
            pull.owner,
            pull.repo,
            head_sha=pull.head_sha,
            branch=pull.head_ref,
            contents=plan.contents,
            message=message,
        )
    except PushRefused as refused:
        reply = replies.fix_refused_text(pull.head_ref, refused.status, refused.message)
        call.answer(reply, pull.number)
        return False
    if sha is None:
        call.answer(replies.fix_nothing_text(len(plan.fixed) + len(plan.unfixable)), pull.number)
        return True
    reply = replies.fix_committed_text(
        sha, pull.head_ref, plan.fixed, plan.contents, len(plan.unfixable)
    )
    call.answer(reply, pull.number)
    return True


def _accept(call: CommandCall) -> bool:
    user = call.request.sender
    permission, role = collaborator_permission(call.gh, call.owner, call.repo, user)
    if user is None or not replies.can_write(permission, role):
        call.answer(replies.accept_refused_text(user or "someone", role or permission))
        return False
    if not call.argument:
        call.answer(replies.accept_needs_reason_text())
        return False
    pull = _loaded(call)
    if pull is None:
        return False
    if not _head_seen_by_commenter(call, pull):
        call.answer(replies.accept_head_moved_text(pull.head_sha), pull.number)
        return False
    new = [f for f in analyse_pull(pull, call.context).comparison.new if f.suppressed is None]
    if not new:
        call.answer(replies.accept_nothing_text(), pull.number)
        return True
    now = db.utcnow()
    # As many of each fingerprint as the commenter saw: a copy pushed later is new again.
    for fingerprint, seen in Counter(f.fingerprint for f in new).items():
        acceptances.accept_finding(
            call.context.engine,
            installation_id=call.request.installation_id,
            repo=call.request.repository,
            pr=pull.number,
            fingerprint=fingerprint,
            user=user,
            reason=call.argument,
            now=now,
            occurrences=seen,
        )
    event = call.request.event
    comment = (event.payload.get("comment") or {}) if event is not None else {}
    decisions.record(
        call.context,
        installation_id=call.request.installation_id,
        repository=call.request.repository,
        pr=pull.number,
        head_sha=pull.head_sha,
        outcome="accepted",
        user=user,
        reason=call.argument,
        url=str(
            comment.get("html_url")
            or f"{call.context.settings.web_url}/{pull.repository}/pull/{pull.number}"
        ),
        policy=pull.policy.policy if pull.policy is not None else None,
    )
    # The check run of the head lists them as accepted, and no longer fails on them.
    check_pull_request(call.request, call.context)
    call.answer(replies.accepted_text(new, user, call.argument, pull.head_sha), pull.number)
    return True


COMMANDS: dict[str, Callable[[CommandCall], bool]] = {
    "help": _help,
    "explain": _explain,
    "rescan": _rescan,
    "fix": _fix,
    "accept": _accept,
    "consolidate": consolidate,
}


# --- helpers -------------------------------------------------------------------------------


def _loaded(call: CommandCall) -> PullContext | None:
    """The pull request at the requested head with a usable policy; else the reason is
    answered (a closed PR gets nothing) and None returned."""
    pull = load_pull_context(call.request, call.context)
    if pull is None:
        return None
    if pull.stale:
        call.answer(replies.head_moved_text(pull.head_sha, pull.current_head), pull.number)
        return None
    if pull.policy is None:
        error = str(pull.policy_error) if pull.policy_error is not None else None
        call.answer(replies.no_policy_text(error), pull.number)
        return None
    return pull


def _within_answer_budget(call: CommandCall) -> bool:
    """Count this command's answers against its sender's hourly budget in the repository."""
    if call.request.sender is None:
        return True
    return command_answers.take_answer(
        call.context.engine,
        installation_id=call.request.installation_id,
        repo=call.request.repository,
        login=call.request.sender.lower(),
        now=db.utcnow(),
        per_hour=call.context.settings.command_answers_per_hour,
    )


def _guarded_branch(pull: PullContext) -> str | None:
    """Why ``/ssot fix`` must not push to the PR's head branch, or None when it may.

    The default branch (a PR from it into another branch) and protected branches are not
    the App's to write, whatever a PR asks: GitHub's own branch protection may not stop an
    App that was granted bypass, and the default branch is what every clone builds.
    """
    if pull.default_branch and pull.head_ref == pull.default_branch:
        return "the repository's default branch"
    branch = get_optional(pull.gh, f"/repos/{pull.owner}/{pull.repo}/branches/{pull.head_ref}")
    if branch is None or branch.get("protected"):
        return "a protected branch"
    return None


def _head_seen_by_commenter(call: CommandCall, pull: PullContext) -> bool:
    """Whether the PR's current head is the one the commenter saw: its check run (the
    App's, found by ``external_id``) started before the comment was written. A push after
    the comment makes a newer head whose run starts later, so it is never accepted. Both
    times are GitHub's (see :func:`bot.checks.publish.ensure_check_run`), to the second: a
    run started in the comment's second had no result to see yet."""
    event = call.request.event
    comment = (event.payload.get("comment") or {}) if event is not None else {}
    written = parse_timestamp(comment.get("created_at"))
    if written is None:
        return False
    external = render.external_id(pull.installation_id, pull.repository, pull.head_sha)
    run = find_check_run(pull.gh, pull.owner, pull.repo, pull.head_sha, external)
    started = run.started_at if run is not None else None
    return started is not None and started < written


def _is_own_reply(request: CheckRequest) -> bool:
    if request.event is None or request.command is None:
        return False
    comment = request.event.payload.get("comment") or {}
    return replies.is_own_reply(comment.get("body"))
