"""Schema migrations (Alembic) and ``ssot migrate``.

The schema of ``bot.store.db.metadata`` is built and changed only by the revisions in
``bot/store/migrations/versions/``. ``ssot migrate`` applies them up to the newest ("head"), in one
transaction, under a PostgreSQL advisory lock so that two runs at once (two deploy jobs)
apply each revision once.

Who runs it:

- Scale-out (PostgreSQL): an operator, a deploy job or an init container runs ``ssot migrate``
  before the new version's ``ssot serve --role web`` and ``ssot worker`` start. Those never
  change the schema: they check it, refuse to start when it is behind (naming the command to
  run), and ``/readyz`` reports it.
- Embedded (SQLite): ``ssot serve`` migrates its own file at start.

A database that holds the tables but no Alembic version (created by an earlier version's
``create_all``) is adopted: missing tables are created and it is stamped at head.
"""

from __future__ import annotations

import argparse
import enum
import functools
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.store import db
from bot.store.tables import metadata as schema

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
ADVISORY_LOCK_KEY = 0x550_7D_0001  # any constant shared by every `ssot migrate`
EXIT_OK, EXIT_BEHIND, EXIT_USAGE = 0, 1, 2


class SchemaState(enum.Enum):
    """Where a database stands against this code's revisions."""

    CURRENT = "current"  # at head
    BEHIND = "behind"  # at an older revision: run `ssot migrate`
    AHEAD = "ahead"  # at a revision this code does not know (a newer version migrated it)
    UNVERSIONED = "unversioned"  # tables without an Alembic version (created by create_all)
    EMPTY = "empty"  # nothing yet


@dataclass(frozen=True)
class SchemaStatus:
    """The database's revision, this code's head, and what that means."""

    current: str | None
    head: str
    state: SchemaState

    @property
    def usable(self) -> bool:
        """Whether this code may run on the database as it is (a newer schema is additive)."""
        return self.state in (SchemaState.CURRENT, SchemaState.AHEAD)

    def describe(self) -> str:
        """One line for logs, ``ssot migrate --check`` and ``/readyz``."""
        at = self.current or "no revision"
        if self.state is SchemaState.CURRENT:
            return f"schema at {at} (head)"
        if self.state is SchemaState.AHEAD:
            return f"schema at {at}, newer than this version's head {self.head}"
        return f"schema at {at} ({self.state.value}), this version needs {self.head}: run `ssot migrate`"


class SchemaNotCurrent(RuntimeError):
    """The database must be migrated before this version runs on it."""


def alembic_config(
    url: str | None = None,
    *,
    connection: sa.Connection | None = None,
    stdout: TextIO | None = None,
) -> Config:
    """Alembic's configuration for ``bot/store/migrations`` (no alembic.ini: built here)."""
    config = Config(stdout=stdout or sys.stdout)
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision of this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "bot/store/migrations/versions holds no revision"
    return head


@functools.cache
def _known_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(rev.revision for rev in script.walk_revisions())


def status_of(connection: sa.Connection) -> SchemaStatus:
    """Where the database of ``connection`` stands (reads only)."""
    head = head_revision()
    tables = set(sa.inspect(connection).get_table_names())
    if VERSION_TABLE not in tables:
        ours = tables & set(schema.tables)
        state = SchemaState.UNVERSIONED if ours else SchemaState.EMPTY
        return SchemaStatus(None, head, state)
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        return SchemaStatus(None, head, SchemaState.EMPTY)
    if current == head:
        return SchemaStatus(current, head, SchemaState.CURRENT)
    if current not in _known_revisions():
        return SchemaStatus(current, head, SchemaState.AHEAD)
    return SchemaStatus(current, head, SchemaState.BEHIND)


def schema_status(engine: Engine) -> SchemaStatus:
    """:func:`status_of` on a connection of ``engine``."""
    with engine.connect() as connection:
        return status_of(connection)


@contextmanager
def _migrating(engine: Engine) -> Iterator[sa.Connection]:
    """One transaction; on PostgreSQL, held under the migrations' advisory lock."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        yield connection


def upgrade(engine: Engine, revision: str = "head") -> SchemaStatus:
    """Apply the revisions up to ``revision``; returns the status before.

    An unversioned database (tables from an earlier ``create_all``) is adopted instead:
    its missing tables are created and it is stamped at head.
    """
    with _migrating(engine) as connection:
        before = status_of(connection)
        config = alembic_config(connection=connection)
        if before.state is SchemaState.UNVERSIONED:
            schema.create_all(connection)
            command.stamp(config, "head")
            log.info("adopted a database without migrations: stamped at %s", before.head)
        else:
            command.upgrade(config, revision)
    return before


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the revisions after ``revision`` (``base``: drop every table)."""
    with _migrating(engine) as connection:
        command.downgrade(alembic_config(connection=connection), revision)


def ensure_schema(engine: Engine) -> SchemaStatus:
    """At a process's start: migrate an embedded SQLite database; check any other.

    Raises :class:`SchemaNotCurrent` when a server database is behind (or has no schema);
    connection errors propagate (the caller decides whether to start anyway).
    """
    if engine.dialect.name == "sqlite":
        upgrade(engine)
        return schema_status(engine)
    status = schema_status(engine)
    if not status.usable:
        raise SchemaNotCurrent(status.describe())
    if status.state is SchemaState.AHEAD:
        log.warning(
            "%s: running on it (revisions must stay backward compatible)", status.describe()
        )
    return status


def new_revision(engine: Engine, message: str) -> str:
    """Write a revision with the differences between ``store.metadata`` and the database
    (which must be at head); returns the file's path. For developers, after changing bot/store/tables.py."""
    with engine.begin() as connection:
        config = alembic_config(connection=connection)
        numbers = [int(rev[:4]) for rev in _known_revisions() if rev[:4].isdigit()]
        rev_id = f"{max(numbers, default=0) + 1:04d}"
        script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
    head_revision.cache_clear()
    _known_revisions.cache_clear()
    scripts = script if isinstance(script, list) else [script]
    return ", ".join(str(s.path) for s in scripts if s is not None)


def migrate_command(argv: list[str]) -> int:
    """``ssot migrate``: bring the database of ``SSOT_DATABASE_URL`` to this version's schema."""
    parser = argparse.ArgumentParser(
        prog="ssot migrate",
        description="Apply the database migrations (SSOT_DATABASE_URL) up to this version. "
        "Run it before starting a new version of `ssot serve --role web` and `ssot worker`.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--check",
        action="store_true",
        help="only report; exit 0 when the schema is current, 1 when `ssot migrate` is needed",
    )
    action.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    action.add_argument("--to", metavar="REV", help="upgrade to this revision instead of head")
    action.add_argument(
        "--downgrade", metavar="REV", help="undo the revisions after REV (to roll back a release)"
    )
    action.add_argument(
        "--new-revision",
        metavar="MESSAGE",
        help="(developers) write a revision for the changes made to bot/store/tables.py",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE

    from bot.ops.logs import configure_logging
    from bot.ops.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"ssot migrate: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging("warning", log_format="text", settings=settings)
    if args.sql:
        command.upgrade(alembic_config(settings.database_url), "head", sql=True)
        return EXIT_OK
    engine = db.create_engine(settings.database_url)
    try:
        if args.check:
            status = schema_status(engine)
            print(status.describe())
            return EXIT_OK if status.usable else EXIT_BEHIND
        if args.new_revision:
            print(new_revision(engine, args.new_revision))
            return EXIT_OK
        if args.downgrade:
            downgrade(engine, args.downgrade)
        else:
            before = upgrade(engine, args.to or "head")
            if before.state is SchemaState.UNVERSIONED:
                print("adopted an existing database (created before migrations)")
        print(schema_status(engine).describe())
        return EXIT_OK
    except OperationalError as exc:
        print(f"ssot migrate: error: cannot reach the database: {exc.orig}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        engine.dispose()
