"""GitHub's limits per installation: ``rate_limits`` and ``github_writes`` (bot.github.throttle).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``rate_limits`` and ``github_writes`` as bot/store/tables.py defines them."""
    op.create_table(
        "rate_limits",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("installation_id"),
    )
    op.create_table(
        "github_writes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_github_writes_installation_at", "github_writes", ["installation_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_github_writes_installation_at", table_name="github_writes")
    op.drop_table("github_writes")
    op.drop_table("rate_limits")
