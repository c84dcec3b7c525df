"""The findings cache per installation: ``findings_cache``; ``blob_findings`` emptied.

An entry quotes the code it was found in, so it belongs to the installation whose check
stored it and is deleted when that installation uninstalls. The shared ``blob_findings`` is
emptied (it is a cache: a blob is analysed again on its next check) but kept, as revisions only
add: workers of the previous release may still use it during a rolling upgrade. The next
release drops it.

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


def upgrade() -> None:
    """Create ``findings_cache`` as bot/store/tables.py defines it; empty ``blob_findings``."""
    op.create_table(
        "findings_cache",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("policy_key", sa.String(length=64), nullable=False),
        sa.Column("blob_sha", sa.String(length=64), nullable=False),
        sa.Column("path_hash", sa.String(length=32), nullable=False),
        sa.Column("findings", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("installation_id", "policy_key", "blob_sha", "path_hash"),
    )
    op.execute(sa.text("DELETE FROM blob_findings"))


def downgrade() -> None:
    op.drop_table("findings_cache")
