"""The database: engines for SQLite (embedded) and PostgreSQL, and what every table uses.

SQLAlchemy Core on the URL of ``SSOT_DATABASE_URL``: SQLite by default (one file, no service),
PostgreSQL with the same code. The schema is :mod:`bot.store.tables`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.store.tables import metadata


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


IN_CHUNK = 400  # keys per IN (...) query: well under SQLite's bound-parameter limit


def existing_values(engine: Engine, column: sa.Column[str], values: Iterable[str]) -> set[str]:
    """Which of ``values`` are stored in ``column`` (queried in chunks of bound parameters)."""
    wanted = sorted(set(values))
    found: set[str] = set()
    with engine.begin() as conn:
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            found.update(conn.execute(sa.select(column).where(column.in_(chunk))).scalars())
    return found


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
