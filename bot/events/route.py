"""Where a handler's :class:`~bot.work.CheckRequest` goes: a command or the pipeline.

A request carrying a comment command or a check-run button is run by
:mod:`bot.commands.runner`; any other one is a full check by :mod:`bot.checks.pipeline`.
Both are below this layer, so neither needs to know the other exists.
"""

from __future__ import annotations

from bot.checks import pipeline
from bot.commands import runner
from bot.work import CheckRequest, JobContext


def run_check_request(request: CheckRequest, context: JobContext) -> None:
    """Check, or run the command of, the pull request of ``request`` (inside a job:
    raising makes the delivery retry with back-off, then fail)."""
    if request.command is not None or request.requested_action is not None:
        runner.run_command(request, context)
        return
    pipeline.check_pull_request(request, context)
