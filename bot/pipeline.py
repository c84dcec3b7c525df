"""The pull-request pipeline: fetch policy and files, analyse, compare, report.

Not wired yet: the handlers of ``bot.handlers`` already call :func:`run_pull_request_check`,
so whoever writes the pipeline replaces only the body of this function (keep its signature).
"""

from __future__ import annotations

from bot.events import CheckRequest, JobContext


def run_pull_request_check(request: CheckRequest, context: JobContext) -> None:
    """Check the pull request of ``request`` and report on it (check run, review, reactions).

    Runs inside a job: raising makes the delivery retry with back-off, then fail.
    """
    raise NotImplementedError("pipeline not wired yet")
