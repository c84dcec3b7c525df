"""Deliveries' body hash (a replayed body has no second effect) and ``command_answers``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``deliveries.body_sha256`` (unique) and create ``command_answers``."""
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("body_sha256", sa.String(length=64), nullable=True))
        batch.create_index("deliveries_body_sha256", ["body_sha256"], unique=True)
    op.create_table(
        "command_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_command_answers_who",
        "command_answers",
        ["installation_id", "repo", "login", "at"],
    )


def downgrade() -> None:
    op.drop_index("ix_command_answers_who", table_name="command_answers")
    op.drop_table("command_answers")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("deliveries_body_sha256")
        batch.drop_column("body_sha256")
