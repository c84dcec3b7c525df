"""Repository totals: the default branch's count per concept and rule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.tables import repo_totals


@dataclass(frozen=True)
class RepoTotals:
    """Totals of a repository's default branch at ``commit_sha`` under one policy."""

    policy_key: str
    commit_sha: str
    totals: list[tuple[str, str, int, int | None]]  # (concept, rule, count, target)
    files: int
    truncated: bool
    computed_at: dt.datetime


def get_repo_totals(engine: Engine, *, installation_id: int, repo: str) -> RepoTotals | None:
    c = repo_totals.c
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(repo_totals).where(c.installation_id == installation_id, c.repo == repo)
        ).first()
    if row is None:
        return None
    totals = [
        (str(t[0]), str(t[1]), int(t[2]), None if t[3] is None else int(t[3])) for t in row.totals
    ]
    return RepoTotals(
        row.policy_key, row.commit_sha, totals, row.files, bool(row.truncated), row.computed_at
    )


def save_repo_totals(
    engine: Engine, *, installation_id: int, repo: str, totals: RepoTotals
) -> None:
    """Insert or replace the totals of ``repo``."""
    c = repo_totals.c
    values: dict[str, Any] = {
        "policy_key": totals.policy_key,
        "commit_sha": totals.commit_sha,
        "totals": [list(t) for t in totals.totals],
        "files": totals.files,
        "truncated": totals.truncated,
        "computed_at": totals.computed_at,
    }
    with engine.begin() as conn:
        updated = conn.execute(
            repo_totals.update()
            .where(c.installation_id == installation_id, c.repo == repo)
            .values(**values)
        ).rowcount
        if not updated:
            conn.execute(
                repo_totals.insert().values(installation_id=installation_id, repo=repo, **values)
            )
