"""How many answers one person's ``/ssot`` commands got in one repository in the last hour."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.tables import command_answers

WINDOW = dt.timedelta(hours=1)


def take_answer(
    engine: Engine, *, installation_id: int, repo: str, login: str, now: dt.datetime, per_hour: int
) -> bool:
    """Count one answer to ``login`` in ``repo``; False (nothing counted) when they already
    had ``per_hour`` answers in the last hour. Older rows of that person are forgotten."""
    c = command_answers.c
    who = (c.installation_id == installation_id, c.repo == repo, c.login == login)
    with engine.begin() as conn:
        conn.execute(command_answers.delete().where(*who, c.at <= now - WINDOW))
        count = conn.execute(sa.select(sa.func.count()).where(*who)).scalar_one()
        if count >= per_hour:
            return False
        conn.execute(
            command_answers.insert().values(
                installation_id=installation_id, repo=repo, login=login, at=now
            )
        )
    return True
