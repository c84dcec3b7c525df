"""The App's durable state: webhook deliveries, installations, accepted findings.

SQLAlchemy Core on the URL of ``SSOT_DATABASE_URL``: SQLite by default (one file, no service),
PostgreSQL with the same code. Every row carries the installation it belongs to.

A delivery is the source of truth for its job until it is marked done::

    queued --claim--> running --done--> done
      ^                  |
      |   error, attempts left (retry later)
      +------------------+--error, no attempts left--> failed
      +-- lease expired (the worker died) --+
    ignored: acknowledged, nothing to do (no handler, or not an App delivery)

``lease_until`` of a running delivery is when its claim lapses; of a queued one, when it is
due to be enqueued again if no worker took it (a lost queue, a retry's back-off).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.types import TypeDecorator

QUEUED, RUNNING, DONE, FAILED, IGNORED = "queued", "running", "done", "failed", "ignored"
STATES = (QUEUED, RUNNING, DONE, FAILED, IGNORED)
MAX_ERROR_CHARS = 4000


def insert_once(engine: Engine, table: sa.Table, **values: object) -> bool:
    """Insert one row; False when a unique key says it is already there (one effect per key)."""
    try:
        with engine.begin() as conn:
            conn.execute(table.insert().values(**values))
    except IntegrityError:
        return False
    return True


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that always comes back timezone-aware in UTC (SQLite keeps none)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        # SQLite compares the stored text: keep one format, without the offset.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


metadata = sa.MetaData()

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),  # X-GitHub-Delivery: one effect per id
    sa.Column("event", sa.String(100), nullable=False),
    sa.Column("action", sa.String(100)),
    sa.Column("installation_id", sa.BigInteger, index=True),
    sa.Column("repository", sa.String(300)),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("body", sa.LargeBinary),  # the raw payload; NULL for ignored deliveries
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("error", sa.Text),
    sa.CheckConstraint(f"state IN {STATES!r}", name="deliveries_state"),
    sa.Index("deliveries_state_lease", "state", "lease_until"),
)

installations = sa.Table(
    "installations",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),  # installation id
    sa.Column("account", sa.String(100), nullable=False),
    sa.Column("repository_selection", sa.String(20)),  # "all" or "selected"
    sa.Column("repositories", sa.JSON, nullable=False),  # full names, sorted
    sa.Column("suspended_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

accepted_findings = sa.Table(
    "accepted_findings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("installation_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("repo", sa.String(300), nullable=False),
    sa.Column("pr", sa.Integer, nullable=False),
    sa.Column("fingerprint", sa.String(200), nullable=False),
    sa.Column("user", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("installation_id", "repo", "pr", "fingerprint", name="accepted_once"),
)


def _cached_findings_columns() -> list[sa.Column[Any]]:
    # The columns of both findings caches (new Column objects for each table).
    return [
        sa.Column("policy_key", sa.String(64), primary_key=True),
        sa.Column("blob_sha", sa.String(64), primary_key=True),
        sa.Column("path_hash", sa.String(32), primary_key=True),
        sa.Column("findings", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", UTCDateTime, nullable=False),
    ]


# Findings of one git blob at one path under one policy (and engine version), for one
# installation: a blob is content-addressed, so a row never goes stale. ``findings`` is the
# JSON that bot.checks.blob_cache encodes (the findings, with the fixes proven so far): it quotes the
# installation's code, so it is the installation's, and goes when it uninstalls.
findings_cache = sa.Table(
    "findings_cache",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    *_cached_findings_columns(),
)

# The same cache shared by every installation, as revisions 0001-0003 had it. Unused since
# revision 0004 (which emptied it); kept only while workers of the previous release may still
# write to it during a rolling upgrade (migrations only add: see docs/operations.md), emptied
# by prune_deliveries' hourly task meanwhile, and dropped by the next release's revision.
legacy_blob_findings = sa.Table("blob_findings", metadata, *_cached_findings_columns())

# Totals per concept and rule of a repository's default branch (refreshed on push).
repo_totals = sa.Table(
    "repo_totals",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("policy_key", sa.String(64), nullable=False),
    sa.Column("commit_sha", sa.String(64), nullable=False),
    sa.Column("totals", sa.JSON, nullable=False),  # [[concept, rule, count, target], ...]
    sa.Column("files", sa.Integer, nullable=False),
    sa.Column("truncated", sa.Boolean, nullable=False),
    sa.Column("computed_at", UTCDateTime, nullable=False),
)

# One job at a time per pull request (pr 0: the repository's totals scan).
pull_locks = sa.Table(
    "pull_locks",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("pr", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("until", UTCDateTime, nullable=False),
)

# Review comments the bot minimised as outdated (GraphQL node ids), so it does it once.
minimized_comments = sa.Table(
    "minimized_comments",
    metadata,
    sa.Column("node_id", sa.String(200), primary_key=True),
    sa.Column("installation_id", sa.BigInteger, nullable=False),
    sa.Column("repo", sa.String(300), nullable=False),
    sa.Column("pr", sa.Integer, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

# Failed deliveries (GUIDs) the bot asked GitHub to deliver again (bot.jobs.sweeper): once each.
redelivery_requests = sa.Table(
    "redelivery_requests",
    metadata,
    sa.Column("guid", sa.String(100), primary_key=True),
    sa.Column("installation_id", sa.BigInteger, index=True),
    sa.Column("hook_delivery_id", sa.BigInteger, nullable=False),  # GitHub's numeric id
    sa.Column("requested_at", UTCDateTime, nullable=False),
)


# GitHub's limits per installation, shared by every worker (bot.github.throttle): until when GitHub
# asked us to stop calling (a rate limit's retry-after or reset), and the content-creating
# calls of the last hour (GitHub's budget of 80 a minute and 500 an hour).
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("blocked_until", UTCDateTime, nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
)

github_writes = sa.Table(
    "github_writes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("installation_id", sa.BigInteger, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_github_writes_installation_at", "installation_id", "at"),
)


# --- engine ------------------------------------------------------------------------------

# libpq's connection parameters (seconds; tcp_user_timeout in milliseconds).
POSTGRES_TIMEOUTS = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}


def create_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite the file's folder is created and writes are serialised.

    SQLite transactions start with ``BEGIN IMMEDIATE`` so that the web process and the worker
    process wait for each other (busy timeout) instead of failing on a read-to-write upgrade.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        # Defaults the URL may override: a database that vanishes without closing the
        # connection (a failover, a dropped network) must fail the statement in about a
        # minute, so that the job is retried, instead of holding its thread for good.
        timeouts = {k: v for k, v in POSTGRES_TIMEOUTS.items() if k not in parsed.query}
        return sa.create_engine(url, pool_pre_ping=True, connect_args=timeouts)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a stored delivery survives a power cut
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_schema(engine: Engine) -> None:
    """Create the tables that do not exist yet (two processes may race here: retry once)."""
    try:
        metadata.create_all(engine)
    except OperationalError:
        metadata.create_all(engine)


def open_database(url: str) -> Engine:
    """:func:`create_engine` and :func:`create_schema` in one call."""
    engine = create_engine(url)
    create_schema(engine)
    return engine


# --- deliveries --------------------------------------------------------------------------


@dataclass(frozen=True)
class NewDelivery:
    """A webhook delivery as received, before it is stored."""

    id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    body: bytes | None
    state: str = QUEUED
    error: str | None = None  # why it is ignored


@dataclass(frozen=True)
class Delivery:
    """A stored delivery."""

    id: str
    event: str
    action: str | None
    installation_id: int | None
    repository: str | None
    received_at: dt.datetime
    body: bytes | None
    state: str
    attempts: int
    lease_until: dt.datetime | None
    error: str | None


def _delivery(row: sa.Row[Any]) -> Delivery:
    return Delivery(**row._asdict())


def insert_delivery(
    engine: Engine, delivery: NewDelivery, *, now: dt.datetime, requeue_at: dt.datetime | None
) -> bool:
    """Store ``delivery``; False when a delivery with that id is already stored (a redelivery).

    ``requeue_at``: when a queued delivery that no worker has claimed is enqueued again.
    """
    values = {
        "id": delivery.id,
        "event": delivery.event,
        "action": delivery.action,
        "installation_id": delivery.installation_id,
        "repository": delivery.repository,
        "received_at": now,
        "body": delivery.body,
        "state": delivery.state,
        "attempts": 0,
        "lease_until": requeue_at if delivery.state == QUEUED else None,
        "error": delivery.error,
    }
    return insert_once(engine, deliveries, **values)


def requeue_failed(engine: Engine, delivery_id: str, *, requeue_at: dt.datetime) -> bool:
    """A redelivery (same id) of a delivery that failed for good: give it fresh attempts.

    Returns False for any other state: done, ignored, queued and running keep one effect.
    """
    c = deliveries.c
    with engine.begin() as conn:
        return bool(
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.state == FAILED)
                .values(state=QUEUED, attempts=0, lease_until=requeue_at)
            ).rowcount
        )


def renew_lease(engine: Engine, delivery_id: str, attempt: int, *, until: dt.datetime) -> bool:
    """Keep claim ``attempt`` alive until ``until`` (a long job); False when it was lost."""
    c = deliveries.c
    with engine.begin() as conn:
        return bool(
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.state == RUNNING, c.attempts == attempt)
                .values(lease_until=until)
            ).rowcount
        )


def get_delivery(engine: Engine, delivery_id: str) -> Delivery | None:
    with engine.begin() as conn:
        row = conn.execute(deliveries.select().where(deliveries.c.id == delivery_id)).first()
    return None if row is None else _delivery(row)


def claim_delivery(
    engine: Engine,
    delivery_id: str,
    *,
    now: dt.datetime,
    lease_seconds: float,
    max_attempts: int,
) -> Delivery | None:
    """Take ``delivery_id`` for processing: queued, or running with an expired lease.

    Returns the claimed delivery (``attempts`` counts this claim and is the lease's token for
    :func:`mark_done` / :func:`mark_failed`), or None when it is done, ignored, failed or held
    by a live lease. A delivery whose worker died ``max_attempts`` times is marked failed.
    """
    c = deliveries.c
    claimable = sa.or_(c.state == QUEUED, sa.and_(c.state == RUNNING, c.lease_until < now))
    with engine.begin() as conn:
        claimed = conn.execute(
            deliveries.update()
            .where(c.id == delivery_id, claimable, c.attempts < max_attempts)
            .values(
                state=RUNNING,
                attempts=c.attempts + 1,
                lease_until=now + dt.timedelta(seconds=lease_seconds),
            )
        ).rowcount
        if not claimed:
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, claimable, c.attempts >= max_attempts)
                .values(
                    state=FAILED,
                    lease_until=None,
                    error=sa.func.coalesce(c.error, "")
                    + f"\ngave up after {max_attempts} attempts (lease expired: worker stopped?)",
                )
            )
            return None
        row = conn.execute(deliveries.select().where(c.id == delivery_id)).one()
    return _delivery(row)


def mark_done(engine: Engine, delivery_id: str, attempt: int) -> bool:
    """Record the job of claim ``attempt`` as done; False when that claim had been lost."""
    c = deliveries.c
    with engine.begin() as conn:
        return bool(
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.state == RUNNING, c.attempts == attempt)
                .values(state=DONE, lease_until=None, error=None)
            ).rowcount
        )


def mark_failed(
    engine: Engine, delivery_id: str, attempt: int, error: str, *, retry_at: dt.datetime | None
) -> bool:
    """Record a failed attempt: queued again for ``retry_at``, or failed for good when None."""
    c = deliveries.c
    values: dict[str, Any] = {"error": error[-MAX_ERROR_CHARS:]}
    if retry_at is None:
        values.update(state=FAILED, lease_until=None)
    else:
        values.update(state=QUEUED, lease_until=retry_at)
    with engine.begin() as conn:
        return bool(
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.state == RUNNING, c.attempts == attempt)
                .values(**values)
            ).rowcount
        )


def postpone(
    engine: Engine, delivery_id: str, attempt: int, reason: str, *, retry_at: dt.datetime
) -> bool:
    """Queue claim ``attempt`` again for ``retry_at`` without counting it as an attempt.

    For "not now" (a rate limit, a busy pull request), not for failures. False when the claim
    had been lost.
    """
    c = deliveries.c
    with engine.begin() as conn:
        return bool(
            conn.execute(
                deliveries.update()
                .where(c.id == delivery_id, c.state == RUNNING, c.attempts == attempt)
                .values(
                    state=QUEUED,
                    attempts=c.attempts - 1,
                    lease_until=retry_at,
                    error=reason[-MAX_ERROR_CHARS:],
                )
            ).rowcount
        )


def deliveries_due(
    engine: Engine, *, now: dt.datetime, all_queued: bool = False, limit: int = 1000
) -> list[str]:
    """Ids of deliveries to enqueue again, oldest first.

    Running ones whose lease expired (their worker died), and queued ones due again (their
    ``lease_until`` passed) or, with ``all_queued`` (at start-up), every queued one.
    """
    c = deliveries.c
    queued = c.state == QUEUED
    if not all_queued:
        queued = sa.and_(queued, sa.or_(c.lease_until.is_(None), c.lease_until < now))
    expired = sa.and_(c.state == RUNNING, c.lease_until < now)
    query = (
        sa.select(c.id).where(sa.or_(queued, expired)).order_by(c.received_at, c.id).limit(limit)
    )
    with engine.begin() as conn:
        return list(conn.execute(query).scalars())


def postpone_requeue(engine: Engine, delivery_ids: Sequence[str], *, until: dt.datetime) -> None:
    """Just enqueued: do not enqueue these queued deliveries again before ``until``."""
    if not delivery_ids:
        return
    c = deliveries.c
    with engine.begin() as conn:
        conn.execute(
            deliveries.update()
            .where(c.id.in_(list(delivery_ids)), c.state == QUEUED)
            .values(lease_until=until)
        )


def count_deliveries(engine: Engine) -> dict[str, int]:
    """Number of stored deliveries per state (every state present, zero or more)."""
    c = deliveries.c
    with engine.begin() as conn:
        rows = conn.execute(sa.select(c.state, sa.func.count()).group_by(c.state)).all()
    counts = dict.fromkeys(STATES, 0)
    counts.update({state: int(n) for state, n in rows})
    return counts


def prune_deliveries(engine: Engine, *, received_before: dt.datetime) -> int:
    """Forget done and ignored deliveries received before the given time (GitHub redelivers
    for 3 days, so keep them longer than that). Returns how many were deleted."""
    c = deliveries.c
    with engine.begin() as conn:
        return int(
            conn.execute(
                deliveries.delete().where(
                    c.state.in_((DONE, IGNORED)), c.received_at < received_before
                )
            ).rowcount
        )


def empty_legacy_cache(engine: Engine) -> int:
    """Delete what workers of the previous release wrote to the shared cache (see
    ``legacy_blob_findings``); how many rows."""
    with engine.begin() as conn:
        return int(conn.execute(legacy_blob_findings.delete()).rowcount)


# --- redelivery requests ------------------------------------------------------------------


def existing_values(engine: Engine, column: sa.Column[str], values: Iterable[str]) -> set[str]:
    """Which of ``values`` are stored in ``column`` (queried in chunks of bound parameters)."""
    wanted = sorted(set(values))
    found: set[str] = set()
    with engine.begin() as conn:
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            found.update(conn.execute(sa.select(column).where(column.in_(chunk))).scalars())
    return found


def known_delivery_ids(engine: Engine, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are stored deliveries."""
    return existing_values(engine, deliveries.c.id, ids)


def claim_redelivery(
    engine: Engine,
    guid: str,
    *,
    hook_delivery_id: int,
    installation_id: int | None,
    now: dt.datetime,
) -> bool:
    """Record that ``guid`` is being redelivered; False when it already was (once per GUID)."""
    return insert_once(
        engine,
        redelivery_requests,
        guid=guid,
        installation_id=installation_id,
        hook_delivery_id=hook_delivery_id,
        requested_at=now,
    )


def release_redelivery(engine: Engine, guid: str) -> None:
    """Forget a redelivery claim whose request failed (the next sweep tries again)."""
    with engine.begin() as conn:
        conn.execute(redelivery_requests.delete().where(redelivery_requests.c.guid == guid))


def prune_redeliveries(engine: Engine, *, requested_before: dt.datetime) -> int:
    """Forget redelivery requests older than GitHub keeps deliveries (3 days)."""
    c = redelivery_requests.c
    with engine.begin() as conn:
        return int(
            conn.execute(
                redelivery_requests.delete().where(c.requested_at < requested_before)
            ).rowcount
        )


# --- installations -----------------------------------------------------------------------


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


# --- accepted findings (``/ssot accept``) ---------------------------------------------------


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


# --- findings per blob (the App's analysis cache) ------------------------------------------

BlobKey = tuple[str, str]  # (blob sha, path hash)
_CHUNK = 400  # keys per IN (...) query: well under SQLite's bound-parameter limit


def get_blob_findings(
    engine: Engine, installation_id: int, policy_key: str, keys: Sequence[BlobKey]
) -> dict[BlobKey, bytes]:
    """The stored findings JSON of each key found for the installation under ``policy_key``."""
    c = findings_cache.c
    found: dict[BlobKey, bytes] = {}
    wanted = sorted(set(keys))
    with engine.begin() as conn:
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            shas = {sha for sha, _ in chunk}
            rows = conn.execute(
                sa.select(c.blob_sha, c.path_hash, c.findings).where(
                    c.installation_id == installation_id,
                    c.policy_key == policy_key,
                    c.blob_sha.in_(shas),
                )
            ).all()
            keep = set(chunk)
            for row in rows:
                key = (row.blob_sha, row.path_hash)
                if key in keep:
                    found[key] = bytes(row.findings)
    return found


def put_blob_findings(
    engine: Engine,
    installation_id: int,
    policy_key: str,
    rows: Sequence[tuple[str, str, bytes]],
    *,
    now: dt.datetime,
) -> None:
    """Store ``(blob sha, path hash, findings JSON)`` rows (replacing old ones).

    Two workers storing the same blob at once is harmless: the loser's rows are dropped.
    """
    c = findings_cache.c
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        values = [
            {
                "installation_id": installation_id,
                "policy_key": policy_key,
                "blob_sha": sha,
                "path_hash": path_hash,
                "findings": data,
                "stored_at": now,
            }
            for sha, path_hash, data in chunk
        ]
        try:
            with engine.begin() as conn:
                for sha, path_hash, _ in chunk:
                    conn.execute(
                        findings_cache.delete().where(
                            c.installation_id == installation_id,
                            c.policy_key == policy_key,
                            c.blob_sha == sha,
                            c.path_hash == path_hash,
                        )
                    )
                conn.execute(findings_cache.insert(), values)
        except IntegrityError:
            pass  # another worker stored the same blobs meanwhile: theirs are as good


# --- repository totals ------------------------------------------------------------------------


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


# --- per-pull-request lock ----------------------------------------------------------------------


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


# --- minimised review comments ------------------------------------------------------------------


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


# --- GitHub's limits per installation (bot.github.throttle) ---------------------------------------


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
