"""The dashboard issue of each repository, and the secret of its private badges.

``dashboard_issues``: the one issue per repository (its number once created), whether a
human closed it (updates stop until it is reopened), and the debounce: at most one edit per
``debounce`` (the last edit's time), a later request waiting in ``due_at`` so that the last
state is still delivered.

``badge_keys``: the secret a private repository's badge URL must carry (``?key=``), and
whether the repository is private (unknown counts as private: a badge never tells that a
repository exists).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.store.db import insert_once
from bot.store.tables import badge_keys, dashboard_issues

IssueState = Literal["open", "closed"]


@dataclass(frozen=True)
class DashboardIssue:
    """What the App knows of a repository's dashboard issue."""

    installation_id: int
    repo: str
    issue_number: int | None  # None: not created (or found) yet
    state: IssueState  # "closed": a human closed it, no updates until reopened
    closed_by: str | None
    last_edit_at: dt.datetime | None
    due_at: dt.datetime | None  # an update waiting for the debounce (or being made)
    body_digest: str | None  # of the body last written, to skip edits that change nothing
    updated_at: dt.datetime  # the last update requested (or state change)


def _issue(row: Any) -> DashboardIssue:
    return DashboardIssue(
        installation_id=int(row.installation_id),
        repo=row.repo,
        issue_number=row.issue_number,
        state=row.state,
        closed_by=row.closed_by,
        last_edit_at=row.last_edit_at,
        due_at=row.due_at,
        body_digest=row.body_digest,
        updated_at=row.updated_at,
    )


def _key(installation_id: int, repo: str) -> Any:
    c = dashboard_issues.c
    return (c.installation_id == installation_id) & (c.repo == repo)


def get_dashboard(engine: Engine, installation_id: int, repo: str) -> DashboardIssue | None:
    with engine.begin() as conn:
        row = conn.execute(sa.select(dashboard_issues).where(_key(installation_id, repo))).first()
    return None if row is None else _issue(row)


def _ensure(engine: Engine, installation_id: int, repo: str, now: dt.datetime) -> None:
    insert_once(
        engine,
        dashboard_issues,
        installation_id=installation_id,
        repo=repo,
        state="open",
        updated_at=now,
    )


def request_update(
    engine: Engine,
    installation_id: int,
    repo: str,
    *,
    now: dt.datetime,
    debounce: dt.timedelta,
) -> dt.datetime | None:
    """Ask for the issue to show the current state; when that may be done (now, or once
    ``debounce`` has passed since the last edit). None: a human closed it, no update."""
    _ensure(engine, installation_id, repo, now)
    with engine.begin() as conn:
        row = conn.execute(sa.select(dashboard_issues).where(_key(installation_id, repo))).one()
        if row.state == "closed":
            return None
        due: dt.datetime | None = row.due_at
        if due is None:
            due = now if row.last_edit_at is None else max(now, row.last_edit_at + debounce)
        conn.execute(
            dashboard_issues.update()
            .where(_key(installation_id, repo))
            .values(due_at=due, updated_at=now)
        )
    return due


def due_updates(engine: Engine, *, now: dt.datetime, limit: int = 100) -> list[tuple[int, str]]:
    """``(installation_id, repo)`` of the open issues whose update is due, oldest first."""
    c = dashboard_issues.c
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(c.installation_id, c.repo)
            .where(c.due_at <= now, c.state == "open")
            .order_by(c.due_at)
            .limit(limit)
        ).all()
    return [(int(r.installation_id), r.repo) for r in rows]


def claim_update(
    engine: Engine, installation_id: int, repo: str, *, now: dt.datetime, lease: dt.timedelta
) -> bool:
    """Take a due update (one worker only); a worker that dies leaves it due after ``lease``."""
    c = dashboard_issues.c
    with engine.begin() as conn:
        taken = conn.execute(
            dashboard_issues.update()
            .where(_key(installation_id, repo), c.due_at <= now, c.state == "open")
            .values(due_at=now + lease)
        ).rowcount
    return bool(taken)


def finish_update(
    engine: Engine,
    installation_id: int,
    repo: str,
    *,
    claimed_at: dt.datetime,
    now: dt.datetime,
    debounce: dt.timedelta,
    issue_number: int | None,
    body_digest: str | None,
    edited: bool,
) -> None:
    """Record a finished update (``edited``: GitHub was written to). An update requested
    while it ran is due once ``debounce`` has passed; else nothing is due."""
    c = dashboard_issues.c
    values: dict[str, Any] = {"issue_number": issue_number, "body_digest": body_digest}
    if edited:
        values["last_edit_at"] = now
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(c.updated_at, c.last_edit_at).where(_key(installation_id, repo))
        ).first()
        if row is None:
            return
        last = now if edited else row.last_edit_at
        again = row.updated_at > claimed_at
        values["due_at"] = (max(now, last + debounce) if last else now) if again else None
        conn.execute(dashboard_issues.update().where(_key(installation_id, repo)).values(**values))


def release_update(
    engine: Engine, installation_id: int, repo: str, *, retry_at: dt.datetime
) -> None:
    """An update that could not be made now (GitHub said wait, or failed): due at ``retry_at``."""
    with engine.begin() as conn:
        conn.execute(
            dashboard_issues.update()
            .where(_key(installation_id, repo), dashboard_issues.c.state == "open")
            .values(due_at=retry_at)
        )


def mark_closed(
    engine: Engine, installation_id: int, repo: str, *, by: str, now: dt.datetime
) -> None:
    """A human closed the issue: no more updates until it is reopened."""
    _ensure(engine, installation_id, repo, now)
    with engine.begin() as conn:
        conn.execute(
            dashboard_issues.update()
            .where(_key(installation_id, repo))
            .values(state="closed", closed_by=by[:100], due_at=None, updated_at=now)
        )


def mark_reopened(engine: Engine, installation_id: int, repo: str, *, now: dt.datetime) -> None:
    """The issue was reopened: updates resume (the caller requests one)."""
    _ensure(engine, installation_id, repo, now)
    with engine.begin() as conn:
        conn.execute(
            dashboard_issues.update()
            .where(_key(installation_id, repo))
            .values(state="open", closed_by=None, updated_at=now)
        )


def set_issue_number(
    engine: Engine, installation_id: int, repo: str, number: int | None, *, now: dt.datetime
) -> None:
    """Remember the issue's number (None: it is gone, the next update looks for it again)."""
    _ensure(engine, installation_id, repo, now)
    with engine.begin() as conn:
        conn.execute(
            dashboard_issues.update()
            .where(_key(installation_id, repo))
            .values(issue_number=number, body_digest=None)
        )


# --- badges ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadgeRepo:
    """A repository's badge secret and visibility (``private`` None: not known yet)."""

    installation_id: int
    repo: str
    key: str
    private: bool | None

    @property
    def needs_key(self) -> bool:
        """Whether the badge URL must carry the key (private, or not known to be public)."""
        return self.private is not False


def new_badge_key() -> str:
    """A fresh secret for a badge URL (URL-safe, 128 bits)."""
    return secrets.token_urlsafe(16)


def badge_repo(engine: Engine, installation_id: int, repo: str, *, now: dt.datetime) -> BadgeRepo:
    """The badge settings of ``repo``, its key made on first use."""
    c = badge_keys.c
    key = (c.installation_id == installation_id) & (c.repo == repo)
    insert_once(
        engine,
        badge_keys,
        installation_id=installation_id,
        repo=repo,
        key=new_badge_key(),
        private=None,
        created_at=now,
    )
    with engine.begin() as conn:
        row = conn.execute(sa.select(badge_keys).where(key)).one()
    return BadgeRepo(int(row.installation_id), row.repo, row.key, row.private)


def set_private(
    engine: Engine, installation_id: int, repo: str, private: bool, *, now: dt.datetime
) -> None:
    """Record whether ``repo`` is private (from a webhook payload's ``repository.private``)."""
    badge_repo(engine, installation_id, repo, now=now)
    c = badge_keys.c
    with engine.begin() as conn:
        conn.execute(
            badge_keys.update()
            .where(c.installation_id == installation_id, c.repo == repo)
            .values(private=private)
        )


def find_badge_repo(engine: Engine, repo: str) -> BadgeRepo | None:
    """The badge settings of ``owner/name`` (GitHub's names are case-insensitive)."""
    c = badge_keys.c
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(badge_keys)
            .where(sa.func.lower(c.repo) == repo.lower())
            .order_by(c.created_at.desc())
        ).first()
    return (
        None if row is None else BadgeRepo(int(row.installation_id), row.repo, row.key, row.private)
    )
