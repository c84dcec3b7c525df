"""Installations (the App on one account) and their repositories; uninstalling forgets every row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.tables import deliveries, installations, metadata


@dataclass(frozen=True)
class Installation:
    id: int
    account: str
    repository_selection: str | None
    repositories: list[str]
    suspended_at: dt.datetime | None
    updated_at: dt.datetime


def get_installation(engine: Engine, installation_id: int) -> Installation | None:
    with engine.begin() as conn:
        row = conn.execute(
            installations.select().where(installations.c.id == installation_id)
        ).first()
    if row is None:
        return None
    values = row._asdict()
    values["repositories"] = list(values["repositories"] or [])
    return Installation(**values)


def list_installations(engine: Engine) -> list[Installation]:
    """Every stored installation, by id."""
    with engine.begin() as conn:
        rows = conn.execute(installations.select().order_by(installations.c.id)).all()
    found = []
    for row in rows:
        values = row._asdict()
        values["repositories"] = list(values["repositories"] or [])
        found.append(Installation(**values))
    return found


def save_installation(
    engine: Engine,
    installation_id: int,
    *,
    account: str,
    repository_selection: str | None,
    repositories: Iterable[str] | None,
    suspended_at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """Insert or replace an installation; ``repositories=None`` keeps the stored list."""
    c = installations.c
    with engine.begin() as conn:
        row = conn.execute(sa.select(c.repositories).where(c.id == installation_id)).first()
        repos = sorted(set(repositories)) if repositories is not None else None
        values: dict[str, Any] = {
            "account": account,
            "repository_selection": repository_selection,
            "suspended_at": suspended_at,
            "updated_at": now,
        }
        if row is None:
            values["repositories"] = repos or []
            conn.execute(installations.insert().values(id=installation_id, **values))
        else:
            if repos is not None:
                values["repositories"] = repos
            conn.execute(installations.update().where(c.id == installation_id).values(**values))


def change_repositories(
    engine: Engine,
    installation_id: int,
    *,
    added: Iterable[str] = (),
    removed: Iterable[str] = (),
    now: dt.datetime,
) -> bool:
    """Add and remove repositories of a stored installation; False when it is not stored."""
    c = installations.c
    with engine.begin() as conn:
        row = conn.execute(sa.select(c.repositories).where(c.id == installation_id)).first()
        if row is None:
            return False
        repos = (set(row.repositories or []) | set(added)) - set(removed)
        conn.execute(
            installations.update()
            .where(c.id == installation_id)
            .values(repositories=sorted(repos), updated_at=now)
        )
    return True


def delete_installation(
    engine: Engine, installation_id: int, *, keep_delivery: str | None = None
) -> bool:
    """Forget an installation and every row of it, in every table; False when not stored.

    ``keep_delivery``: the id of the delivery being processed (the ``installation.deleted``
    one), kept so that its job can record its outcome and a redelivery stays one effect.
    """
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if "installation_id" not in table.c:
                continue
            condition = table.c.installation_id == installation_id
            if table is deliveries and keep_delivery is not None:
                condition = sa.and_(condition, deliveries.c.id != keep_delivery)
            conn.execute(table.delete().where(condition))
        return bool(
            conn.execute(
                installations.delete().where(installations.c.id == installation_id)
            ).rowcount
        )
