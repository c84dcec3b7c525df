"""Findings accepted with ``/ssot accept``: who, why, on which pull request."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.db import insert_once
from bot.store.tables import accepted_findings


def accept_finding(
    engine: Engine,
    *,
    installation_id: int,
    repo: str,
    pr: int,
    fingerprint: str,
    user: str,
    reason: str,
    now: dt.datetime,
    occurrences: int = 1,
) -> bool:
    """Record that ``user`` accepted ``occurrences`` findings of a fingerprint on a PR.

    False when that fingerprint was already accepted: the first acceptance keeps its who and
    why, and covers the larger of the two counts (someone saw more copies and accepted them).
    """
    if insert_once(
        engine,
        accepted_findings,
        installation_id=installation_id,
        repo=repo,
        pr=pr,
        fingerprint=fingerprint,
        user=user,
        reason=reason,
        at=now,
        occurrences=occurrences,
    ):
        return True
    c = accepted_findings.c
    with engine.begin() as conn:
        conn.execute(
            accepted_findings.update()
            .where(
                c.installation_id == installation_id,
                c.repo == repo,
                c.pr == pr,
                c.fingerprint == fingerprint,
                c.occurrences < occurrences,
            )
            .values(occurrences=occurrences)
        )
    return False


def accepted_fingerprints(engine: Engine, *, installation_id: int, repo: str, pr: int) -> set[str]:
    c = accepted_findings.c
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(c.fingerprint).where(
                c.installation_id == installation_id, c.repo == repo, c.pr == pr
            )
        ).scalars()
        return set(rows)


@dataclass(frozen=True)
class AcceptedFinding:
    """A finding someone accepted on a pull request with ``/ssot accept``."""

    fingerprint: str
    user: str
    reason: str
    at: dt.datetime
    occurrences: int = 1  # findings of this fingerprint it covers (as many as were seen)


def accepted_for_pull(
    engine: Engine, *, installation_id: int, repo: str, pr: int
) -> list[AcceptedFinding]:
    """Every acceptance recorded on a pull request, oldest first (who, why, when)."""
    c = accepted_findings.c
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(c.fingerprint, c.user, c.reason, c.at, c.occurrences)
            .where(c.installation_id == installation_id, c.repo == repo, c.pr == pr)
            .order_by(c.at, c.id)
        ).all()
    return [AcceptedFinding(r.fingerprint, r.user, r.reason, r.at, r.occurrences) for r in rows]
