"""The findings cache per installation: ``blob_findings`` gains ``installation_id``.

Its entries quote the code they were found in, so each belongs to the installation whose
check stored it and is deleted when that installation uninstalls. It is a cache: the table
is recreated empty (a blob is analysed again on its next check).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(with_installation: bool) -> None:
    columns: list[sa.Column[object]] = []
    key = ["policy_key", "blob_sha", "path_hash"]
    if with_installation:
        columns.append(
            sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False)
        )
        key.insert(0, "installation_id")
    op.create_table(
        "blob_findings",
        *columns,
        sa.Column("policy_key", sa.String(length=64), nullable=False),
        sa.Column("blob_sha", sa.String(length=64), nullable=False),
        sa.Column("path_hash", sa.String(length=32), nullable=False),
        sa.Column("findings", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*key),
    )


def upgrade() -> None:
    """Recreate ``blob_findings`` keyed by installation first (its rows are a cache)."""
    op.drop_table("blob_findings")
    _create(with_installation=True)


def downgrade() -> None:
    op.drop_table("blob_findings")
    _create(with_installation=False)
