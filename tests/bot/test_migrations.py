"""Schema migrations: ``ssot migrate`` builds exactly the schema of ``bot.store.db.metadata``,
on SQLite and on PostgreSQL, and a table or column added to bot/store/tables.py without a revision is
caught here."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from bot.store import acceptances, db, deliveries, installations, migrate, tables
from bot.store.migrate import SchemaState, migrate_command
from bot.store.tables import metadata as schema

# The shared PostgreSQL; TEST_POSTGRES_URL points the tests elsewhere (tests/test_ci_services.py
# points them at a port where nothing listens).
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def differences(engine: Engine, metadata: sa.MetaData = schema) -> list[Any]:
    """What autogenerate would write to turn the database into ``metadata``."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def check_constraint_names(engine: Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {
        table: {c["name"] for c in inspector.get_check_constraints(table) if c.get("name")}
        for table in schema.tables
    }


def expected_check_constraints() -> dict[str, set[str]]:
    return {
        name: {
            str(c.name)
            for c in table.constraints
            if isinstance(c, sa.CheckConstraint) and isinstance(c.name, str)
        }
        for name, table in schema.tables.items()
    }


def assert_schema_is_store_metadata(engine: Engine) -> None:
    tables = set(sa.inspect(engine).get_table_names())
    missing = set(schema.tables) - tables
    assert not missing, (
        f"bot/store/tables.py defines {sorted(missing)} but no migration creates them: "
        "run `ssot migrate --new-revision 'what changed'` and review the file it writes"
    )
    assert tables == set(schema.tables) | {migrate.VERSION_TABLE}
    assert differences(engine) == [], (
        "the migrated schema differs from bot/store/tables.py: write a revision "
        "(`ssot migrate --new-revision ...`)"
    )
    assert check_constraint_names(engine) == expected_check_constraints()
    assert migrate.schema_status(engine).state is SchemaState.CURRENT


# --- SQLite ------------------------------------------------------------------------------


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = db.create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    yield engine
    engine.dispose()


def test_upgrade_head_on_a_fresh_sqlite_file_builds_exactly_the_store_schema(
    sqlite: Engine,
) -> None:
    assert migrate.schema_status(sqlite).state is SchemaState.EMPTY
    migrate.upgrade(sqlite)
    assert_schema_is_store_metadata(sqlite)


def test_the_comparison_catches_a_table_or_column_without_a_revision(sqlite: Engine) -> None:
    migrate.upgrade(sqlite)
    drifted = sa.MetaData()
    for table in schema.tables.values():
        table.to_metadata(drifted)
    sa.Table("blob_cache", drifted, sa.Column("sha", sa.String(64), primary_key=True))
    drifted.tables["deliveries"].append_column(sa.Column("note", sa.Text))
    found = differences(sqlite, drifted)
    assert ("add_table", "blob_cache") in [(d[0], d[1].name) for d in found if d[0] == "add_table"]
    assert any(d[0] == "add_column" and d[3].name == "note" for d in found)


def test_downgrade_to_base_drops_everything_and_upgrade_rebuilds_it(sqlite: Engine) -> None:
    migrate.upgrade(sqlite)
    migrate.downgrade(sqlite, "base")
    assert set(sa.inspect(sqlite).get_table_names()) == {migrate.VERSION_TABLE}
    migrate.upgrade(sqlite)
    assert_schema_is_store_metadata(sqlite)


def test_a_database_created_before_migrations_is_adopted_with_its_rows(sqlite: Engine) -> None:
    db.create_schema(sqlite)  # what `ssot serve` did before migrations existed
    deliveries.insert_delivery(
        sqlite,
        deliveries.NewDelivery("old-1", "push", None, 1, "o/r", b"{}"),
        now=NOW,
        requeue_at=None,
    )
    assert migrate.schema_status(sqlite).state is SchemaState.UNVERSIONED
    assert migrate.upgrade(sqlite).state is SchemaState.UNVERSIONED
    assert_schema_is_store_metadata(sqlite)
    assert deliveries.get_delivery(sqlite, "old-1") is not None
    migrate.upgrade(sqlite)  # and again: nothing to do
    assert deliveries.get_delivery(sqlite, "old-1") is not None


def test_ssot_migrate_applies_and_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    url = f"sqlite:///{tmp_path / 'cmd.db'}"
    monkeypatch.setenv("SSOT_DATABASE_URL", url)
    assert migrate_command(["--check"]) == 1
    assert "run `ssot migrate`" in capsys.readouterr().out
    assert migrate_command([]) == 0
    assert f"schema at {migrate.head_revision()} (head)" in capsys.readouterr().out
    assert migrate_command(["--check"]) == 0
    engine = db.create_engine(url)
    try:
        assert_schema_is_store_metadata(engine)
    finally:
        engine.dispose()


def test_ssot_migrate_is_a_registered_command() -> None:
    from importlib.metadata import entry_points

    [entry] = [ep for ep in entry_points(group="ssot.commands") if ep.name == "migrate"]
    assert entry.load() is migrate_command


def test_ssot_migrate_sql_prints_the_ddl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SSOT_DATABASE_URL", POSTGRES)  # offline: nothing is connected
    assert migrate_command(["--sql"]) == 0
    sql = capsys.readouterr().out
    for table in schema.tables:
        assert f"CREATE TABLE {table}" in sql
    assert "TIMESTAMP WITH TIME ZONE" in sql


# --- PostgreSQL ---------------------------------------------------------------------------


def _postgres_or_skip() -> None:
    engine = sa.create_engine(POSTGRES, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:
        where = sa.make_url(POSTGRES).render_as_string(hide_password=True)
        pytest.skip(f"PostgreSQL is not reachable at {where}: {exc}")
    finally:
        engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to PostgreSQL's database ``test``, in a schema of its own (dropped afterwards)."""
    yield from postgres_schema()


def postgres_schema() -> Iterator[str]:
    """Yield a URL to a new schema of PostgreSQL's database ``test``; drop it afterwards.

    Skips the test, saying why, when PostgreSQL is not reachable."""
    _postgres_or_skip()
    schema = f"ssot_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    engine = db.create_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.mark.services
def test_upgrade_head_on_postgresql_builds_exactly_the_store_schema(pg: Engine) -> None:
    assert migrate.schema_status(pg).state is SchemaState.EMPTY
    with pytest.raises(migrate.SchemaNotCurrent, match="run `ssot migrate`"):
        migrate.ensure_schema(pg)  # web and worker never migrate a server database
    migrate.upgrade(pg)
    assert_schema_is_store_metadata(pg)
    assert migrate.ensure_schema(pg).state is SchemaState.CURRENT
    migrate.downgrade(pg, "base")
    assert set(sa.inspect(pg).get_table_names()) == {migrate.VERSION_TABLE}


@pytest.mark.services
def test_two_migrations_at_once_on_postgresql_both_succeed(pg_url: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        engine = db.create_engine(pg_url)
        try:
            migrate.upgrade(engine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    engine = db.create_engine(pg_url)
    try:
        assert_schema_is_store_metadata(engine)
    finally:
        engine.dispose()


@pytest.mark.services
def test_the_store_works_on_postgresql(
    pg: Engine, pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SSOT_DATABASE_URL", pg_url)
    assert migrate_command([]) == 0

    body = b'{"action": "opened", "x": "\\u00e9"}'
    new = deliveries.NewDelivery("pg-1", "pull_request", "opened", 42, "o/r", body)
    later = NOW + dt.timedelta(minutes=10)
    assert deliveries.insert_delivery(pg, new, now=NOW, requeue_at=later)
    assert not deliveries.insert_delivery(pg, new, now=NOW, requeue_at=later)  # one effect per id
    claimed = deliveries.claim_delivery(pg, "pg-1", now=NOW, lease_seconds=60, max_attempts=2)
    assert claimed is not None and claimed.body == body and claimed.received_at == NOW
    assert claimed.lease_until == NOW + dt.timedelta(seconds=60)
    assert deliveries.claim_delivery(pg, "pg-1", now=NOW, lease_seconds=60, max_attempts=2) is None
    expired = NOW + dt.timedelta(minutes=5)
    assert deliveries.deliveries_due(pg, now=expired) == ["pg-1"]
    assert deliveries.claim_delivery(pg, "pg-1", now=expired, lease_seconds=60, max_attempts=2)
    # A third claim after the second lease expired: out of attempts, failed with a reason.
    assert (
        deliveries.claim_delivery(pg, "pg-1", now=later, lease_seconds=60, max_attempts=2) is None
    )
    failed = deliveries.get_delivery(pg, "pg-1")
    assert (
        failed is not None and failed.state == tables.FAILED and "gave up" in (failed.error or "")
    )
    assert deliveries.requeue_failed(pg, "pg-1", requeue_at=later)
    again = deliveries.claim_delivery(pg, "pg-1", now=later, lease_seconds=60, max_attempts=2)
    assert again is not None and deliveries.mark_done(pg, "pg-1", again.attempts)
    assert deliveries.count_deliveries(pg)["done"] == 1

    installations.save_installation(
        pg, 42, account="o", repository_selection="selected", repositories=["o/b", "o/a"],
        suspended_at=None, now=NOW,
    )  # fmt: skip
    assert installations.change_repositories(pg, 42, added=["o/c"], removed=["o/a"], now=NOW)
    installation = installations.get_installation(pg, 42)
    assert installation is not None and installation.repositories == ["o/b", "o/c"]

    accept = {"installation_id": 42, "repo": "o/r", "pr": 1, "fingerprint": "f", "user": "u"}
    assert acceptances.accept_finding(pg, **accept, reason="ok", now=NOW)
    assert not acceptances.accept_finding(pg, **accept, reason="again", now=NOW)
    assert acceptances.accepted_fingerprints(pg, installation_id=42, repo="o/r", pr=1) == {"f"}


@pytest.mark.services
def test_every_table_round_trips_its_column_types_on_postgresql(pg: Engine) -> None:
    """Whatever tables bot/store/tables.py gains: each column type (JSON, bytes, aware timestamps,
    booleans, big integers) comes back from PostgreSQL as it went in."""
    migrate.upgrade(pg)
    for table in schema.sorted_tables:
        row = {column.name: _value_for(column) for column in table.columns}
        with pg.begin() as connection:
            connection.execute(table.insert().values(**row))
            back = connection.execute(sa.select(table)).one()._asdict()
        assert back == row, table.name


def _value_for(column: sa.Column[Any]) -> Any:
    allowed = _allowed_values(column)
    if allowed:
        return allowed[0]
    kind = column.type
    if isinstance(kind, tables.UTCDateTime):
        return NOW
    if isinstance(kind, sa.JSON):
        return {"list": [1, "é", None], "nested": {"ok": True}}
    if isinstance(kind, sa.LargeBinary):
        return b"\x00\xff raw bytes"
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.BigInteger):
        return 2**40
    if isinstance(kind, sa.Integer):
        return 7
    if isinstance(kind, sa.String):
        text = "é-text"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no test value for {column.table.name}.{column.name}: {kind!r}")


def _allowed_values(column: sa.Column[Any]) -> list[str]:
    """The values a ``CHECK (column IN (...))`` constraint of its table allows."""
    table = column.table
    assert isinstance(table, sa.Table)
    for constraint in table.constraints:
        if isinstance(constraint, sa.CheckConstraint):
            found = re.fullmatch(rf"{column.name} IN \((.*)\)", str(constraint.sqltext))
            if found:
                return re.findall(r"'([^']*)'", found.group(1))
    return []


@pytest.mark.services
@pytest.mark.parametrize("command", [["serve", "--role", "web"], ["worker"]])
def test_web_and_worker_refuse_to_start_on_a_database_that_is_not_migrated(
    pg_url: str, tmp_path: Path, command: list[str]
) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("SSOT_")}
    env.update(SSOT_DATABASE_URL=pg_url, SSOT_DATA_DIR=str(tmp_path / "data"))
    run = "import sys; from analyzers.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", run, *command, "--port", "1"] if command[0] == "serve"
        else [sys.executable, "-c", run, *command],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "run `ssot migrate`" in done.stderr


def test_postgres_connections_give_up_on_a_database_that_vanished(pg_url: str) -> None:
    """libpq's timeouts are set (a URL may override one), so a dead connection fails its
    statement instead of holding a worker thread for good."""
    engine = db.create_engine(pg_url + "&connect_timeout=5")
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            parameters = raw.info.get_parameters()
    finally:
        engine.dispose()
    assert parameters["connect_timeout"] == "5"  # the URL's own value wins
    assert parameters["keepalives_idle"] == "30"
    assert parameters["tcp_user_timeout"] == "60000"
