"""GitHub's limits per installation: told waits and the content-creating calls of the hour."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.db import insert_once
from bot.store.tables import github_writes, rate_limits


def blocked_until(engine: Engine, installation_id: int) -> dt.datetime | None:
    """Until when GitHub asked this installation's calls to wait (None: never asked)."""
    c = rate_limits.c
    with engine.connect() as conn:
        value: dt.datetime | None = conn.execute(
            sa.select(c.blocked_until).where(c.installation_id == installation_id)
        ).scalar_one_or_none()
    return value


def block_installation(
    engine: Engine, installation_id: int, *, until: dt.datetime, reason: str
) -> None:
    """Record that GitHub asked this installation to wait until ``until`` (the later wins)."""
    c = rate_limits.c
    later = rate_limits.update().where(
        c.installation_id == installation_id, c.blocked_until < until
    )
    with engine.begin() as conn:
        if conn.execute(later.values(blocked_until=until, reason=reason[:200])).rowcount:
            return
    if insert_once(
        engine,
        rate_limits,
        installation_id=installation_id,
        blocked_until=until,
        reason=reason[:200],
    ):
        return
    # Another worker inserted the row meanwhile (two rate limits at once): keep the later.
    with engine.begin() as conn:
        conn.execute(later.values(blocked_until=until, reason=reason[:200]))


def recent_writes(engine: Engine, installation_id: int, *, since: dt.datetime) -> list[dt.datetime]:
    """When this installation's content-creating calls since ``since`` were made, oldest first."""
    c = github_writes.c
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(c.at)
                .where(c.installation_id == installation_id, c.at > since)
                .order_by(c.at)
            ).scalars()
        )


def record_write(
    engine: Engine, installation_id: int, *, at: dt.datetime, forget_before: dt.datetime
) -> None:
    """Count a content-creating call, and forget this installation's calls before a time."""
    c = github_writes.c
    with engine.begin() as conn:
        conn.execute(
            github_writes.delete().where(c.installation_id == installation_id, c.at < forget_before)
        )
        conn.execute(github_writes.insert().values(installation_id=installation_id, at=at))
