"""Alembic's environment for the App's database: the target is ``bot.store.db.metadata``.

``bot.store.migrate`` runs Alembic with an open connection in ``config.attributes["connection"]``
(one transaction, and on PostgreSQL an advisory lock, around the whole upgrade); without one,
the URL in the ``sqlalchemy.url`` option is used. ``--sql`` (offline mode) prints the SQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.types import TypeDecorator

from bot.store import db, tables

config = context.config
target_metadata = tables.metadata


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write a TypeDecorator (``UTCDateTime``) as the type it stores, so that revisions do not
    import the application's code, which changes after them."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _options(connection: sa.Connection | None) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        "compare_server_default": True,
        "render_item": render_item,
        # SQLite alters a table by copying it: let autogenerate write batch operations.
        "render_as_batch": connection is None or connection.dialect.name == "sqlite",
    }


def run_migrations_offline() -> None:
    """Print the SQL of the migrations for the URL's dialect (``ssot migrate --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_options(None),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the connection bot.store.migrate opened (or one to the configured URL)."""
    connection: sa.Connection | None = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **_options(connection))
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = db.create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as opened:
            context.configure(connection=opened, **_options(opened))
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
