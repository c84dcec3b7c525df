"""Review comments the bot minimised as outdated, so that it does it once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.store.db import existing_values
from bot.store.tables import minimized_comments


def minimized_among(engine: Engine, node_ids: Iterable[str]) -> set[str]:
    """Which of ``node_ids`` the bot has already minimised."""
    return existing_values(engine, minimized_comments.c.node_id, node_ids)


def record_minimized(
    engine: Engine,
    node_ids: Iterable[str],
    *,
    installation_id: int,
    repo: str,
    pr: int,
    now: dt.datetime,
) -> None:
    for node_id in node_ids:
        try:
            with engine.begin() as conn:
                conn.execute(
                    minimized_comments.insert().values(
                        node_id=node_id, installation_id=installation_id, repo=repo, pr=pr, at=now
                    )
                )
        except IntegrityError:
            pass
