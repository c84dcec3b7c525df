"""One job at a time per pull request: a lease row in the database, shared by every worker.

A job that finds the lease held raises :class:`PullRequestBusy`; the job machinery postpones
the delivery by a few seconds (not a failed attempt), by which time the running job has
usually finished (and has either reported, or found that its head was superseded). A lease
expires after ``SSOT_JOB_LEASE_SECONDS`` like a delivery's, so a dead worker does not block a
PR for good; a live job renews it with its delivery's (:func:`renew_held`). Within one thread the lock is reentrant: a command that runs the check inside its own
job (``/ssot accept`` then the check) does not lock itself out.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from bot.store import db, locks
from bot.work import JobContext, RetryLater

_held = threading.local()
# Every lock held in this process, by holder: what renew_held() extends.
_holders: dict[str, tuple[int, str, int]] = {}
_holders_guard = threading.Lock()


BUSY_RETRY = dt.timedelta(seconds=3)


class PullRequestBusy(RetryLater):
    """Another job holds this pull request: the delivery is postponed a little."""


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
    now = db.utcnow()
    until = now + dt.timedelta(seconds=context.settings.job_lease_seconds)
    if not locks.acquire_pull_lock(
        context.engine,
        installation_id=installation_id,
        repo=key[1],
        pr=pr,
        holder=holder,
        now=now,
        until=until,
    ):
        what = f"{repo}#{pr}" if pr else f"{repo} (totals)"
        raise PullRequestBusy(
            f"another job is working on {what}; this one is postponed", at=now + BUSY_RETRY
        )
    held.add(key)
    with _holders_guard:
        _holders[holder] = key
    try:
        yield
    finally:
        held.discard(key)
        with _holders_guard:
            _holders.pop(holder, None)
        locks.release_pull_lock(
            context.engine, installation_id=installation_id, repo=key[1], pr=pr, holder=holder
        )


def renew_held(context: JobContext, delivery_id: str) -> int:
    """Extend by a full lease every lock this process holds for ``delivery_id``; how many."""
    with _holders_guard:
        mine = [(h, k) for h, k in _holders.items() if h.startswith(f"{delivery_id}/")]
    until = db.utcnow() + dt.timedelta(seconds=context.settings.job_lease_seconds)
    renewed = 0
    for holder, (installation_id, repo, pr) in mine:
        renewed += locks.renew_pull_lock(
            context.engine,
            installation_id=installation_id,
            repo=repo,
            pr=pr,
            holder=holder,
            until=until,
        )
    return renewed
