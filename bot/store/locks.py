"""One job at a time per pull request: lease rows shared by every worker."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.db import insert_once
from bot.store.tables import pull_locks


def acquire_pull_lock(
    engine: Engine,
    *,
    installation_id: int,
    repo: str,
    pr: int,
    holder: str,
    now: dt.datetime,
    until: dt.datetime,
) -> bool:
    """Take the lock of one pull request until ``until``; False while another holder has it.

    A lock whose ``until`` passed (its worker died) is taken over.
    """
    c = pull_locks.c
    key = sa.and_(c.installation_id == installation_id, c.repo == repo, c.pr == pr)
    with engine.begin() as conn:
        if conn.execute(
            pull_locks.update()
            .where(key, sa.or_(c.until < now, c.holder == holder))
            .values(holder=holder, until=until)
        ).rowcount:
            return True
    return insert_once(
        engine,
        pull_locks,
        installation_id=installation_id,
        repo=repo,
        pr=pr,
        holder=holder,
        until=until,
    )


def renew_pull_lock(
    engine: Engine, *, installation_id: int, repo: str, pr: int, holder: str, until: dt.datetime
) -> bool:
    """Extend ``holder``'s lock of one pull request to ``until``; False when it lost it."""
    c = pull_locks.c
    key = sa.and_(c.installation_id == installation_id, c.repo == repo, c.pr == pr)
    with engine.begin() as conn:
        return bool(
            conn.execute(
                pull_locks.update().where(key, c.holder == holder).values(until=until)
            ).rowcount
        )


def release_pull_lock(
    engine: Engine, *, installation_id: int, repo: str, pr: int, holder: str
) -> None:
    c = pull_locks.c
    with engine.begin() as conn:
        conn.execute(
            pull_locks.delete().where(
                c.installation_id == installation_id,
                c.repo == repo,
                c.pr == pr,
                c.holder == holder,
            )
        )
