"""``accepted_findings.occurrences``: how many findings of a fingerprint one acceptance covers.

A fingerprint leaves out the path (debt keeps its identity when it moves), so the same
deprecated import at the top of two modules shares one. An acceptance now covers as many
findings of its fingerprint as the pull request had when it was given, not every later one.
Rows written before count as one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column, 1 for every acceptance already given."""
    with op.batch_alter_table("accepted_findings") as batch:
        batch.add_column(sa.Column("occurrences", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("accepted_findings") as batch:
        batch.drop_column("occurrences")
