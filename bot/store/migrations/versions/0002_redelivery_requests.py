"""Redelivery requests: failed webhook deliveries the sweeper asked GitHub to send again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``redelivery_requests`` as bot/store/tables.py defines it."""
    op.create_table(
        "redelivery_requests",
        sa.Column("guid", sa.String(length=100), nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=True),
        sa.Column("hook_delivery_id", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guid"),
    )
    op.create_index(
        "ix_redelivery_requests_installation_id", "redelivery_requests", ["installation_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_redelivery_requests_installation_id", table_name="redelivery_requests")
    op.drop_table("redelivery_requests")
