"""One job at a time per pull request: a lease row in the database, shared by every worker.

A job that finds the lease held raises :class:`PullRequestBusy`; the job machinery records
the error and retries the delivery later, by which time the running job has finished (and
has either reported, or found that its head was superseded). A lease expires after
``SSOT_JOB_LEASE_SECONDS`` like a delivery's, so a dead worker does not block a PR for
good. Within one thread the lock is reentrant: a command that runs the check inside its own
job (``/ssot accept`` then the check) does not lock itself out.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from bot import store
from bot.events import JobContext

_held = threading.local()


class PullRequestBusy(RuntimeError):
    """Another job holds this pull request: raise so that the delivery is retried."""


@contextmanager
def pull_lock(context: JobContext, installation_id: int, repo: str, pr: int) -> Iterator[None]:
    """Hold the lease of ``repo#pr`` (``pr`` 0: the repository's totals scan) meanwhile."""
    key = (installation_id, repo.lower(), pr)
    held: set[tuple[int, str, int]] = getattr(_held, "keys", set())
    _held.keys = held
    if key in held:
        yield
        return
    holder = f"{context.delivery_id or 'direct'}/{os.getpid()}/{uuid.uuid4().hex[:12]}"
    now = store.utcnow()
    until = now + dt.timedelta(seconds=context.settings.job_lease_seconds)
    if not store.acquire_pull_lock(
        context.engine,
        installation_id=installation_id,
        repo=key[1],
        pr=pr,
        holder=holder,
        now=now,
        until=until,
    ):
        what = f"{repo}#{pr}" if pr else f"{repo} (totals)"
        raise PullRequestBusy(f"another job is working on {what}; this one is retried later")
    held.add(key)
    try:
        yield
    finally:
        held.discard(key)
        store.release_pull_lock(
            context.engine, installation_id=installation_id, repo=key[1], pr=pr, holder=holder
        )
