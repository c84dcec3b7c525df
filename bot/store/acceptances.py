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
) -> bool:
    """Record that ``user`` accepted a finding on a PR; False when it was already accepted."""
    return insert_once(
        engine,
        accepted_findings,
        installation_id=installation_id,
        repo=repo,
        pr=pr,
        fingerprint=fingerprint,
        user=user,
        reason=reason,
        at=now,
    )


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


def accepted_for_pull(
    engine: Engine, *, installation_id: int, repo: str, pr: int
) -> list[AcceptedFinding]:
    """Every acceptance recorded on a pull request, oldest first (who, why, when)."""
    c = accepted_findings.c
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(c.fingerprint, c.user, c.reason, c.at)
            .where(c.installation_id == installation_id, c.repo == repo, c.pr == pr)
            .order_by(c.at, c.id)
        ).all()
    return [AcceptedFinding(r.fingerprint, r.user, r.reason, r.at) for r in rows]
