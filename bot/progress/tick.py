"""The progress tick: every minute, the due dashboard issues, then backfills.

Run by the job queue as a periodic task (:meth:`bot.jobs.queue.JobQueue.progress_tick`) in
one worker thread; everything it does is claimed in the database first (a lease per issue and
per backfill), so ticks of several workers, or a tick that outlasts its minute, never do the
same work twice.
"""

from __future__ import annotations

import time

from bot.progress import backfill, dashboard_issue
from bot.work import JobContext

TICK_SECONDS = 45.0  # the next tick starts a minute after this one did


def run(context: JobContext, *, seconds: float = TICK_SECONDS) -> tuple[int, int]:
    """One tick: ``(dashboard issues looked at, backfill samples taken)``."""
    deadline = time.monotonic() + seconds
    issues = dashboard_issue.update_due(context)
    samples = backfill.run(context, deadline=deadline)
    return issues, samples
