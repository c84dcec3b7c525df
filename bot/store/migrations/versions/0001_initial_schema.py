"""Initial schema: deliveries, installations, accepted findings, the blob findings cache,
repository totals, pull-request locks and minimised comments.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the tables of bot/store/tables.py as they were at this revision."""
    op.create_table(
        "accepted_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("pr", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("user", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("installation_id", "repo", "pr", "fingerprint", name="accepted_once"),
    )
    op.create_index(
        "ix_accepted_findings_installation_id", "accepted_findings", ["installation_id"]
    )
    op.create_table(
        "blob_findings",
        sa.Column("policy_key", sa.String(length=64), nullable=False),
        sa.Column("blob_sha", sa.String(length=64), nullable=False),
        sa.Column("path_hash", sa.String(length=32), nullable=False),
        sa.Column("findings", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("policy_key", "blob_sha", "path_hash"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=True),
        sa.Column("installation_id", sa.BigInteger(), nullable=True),
        sa.Column("repository", sa.String(length=300), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed', 'ignored')", name="deliveries_state"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("deliveries_state_lease", "deliveries", ["state", "lease_until"])
    op.create_index("ix_deliveries_installation_id", "deliveries", ["installation_id"])
    op.create_table(
        "installations",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("repository_selection", sa.String(length=20), nullable=True),
        sa.Column("repositories", sa.JSON(), nullable=False),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "minimized_comments",
        sa.Column("node_id", sa.String(length=200), nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("pr", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node_id"),
    )
    op.create_table(
        "pull_locks",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("pr", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("installation_id", "repo", "pr"),
    )
    op.create_table(
        "repo_totals",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("policy_key", sa.String(length=64), nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("installation_id", "repo"),
    )


def downgrade() -> None:
    """Drop every table (``ssot migrate --downgrade base``)."""
    op.drop_table("repo_totals")
    op.drop_table("pull_locks")
    op.drop_table("minimized_comments")
    op.drop_table("installations")
    op.drop_index("ix_deliveries_installation_id", table_name="deliveries")
    op.drop_index("deliveries_state_lease", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("blob_findings")
    op.drop_index("ix_accepted_findings_installation_id", table_name="accepted_findings")
    op.drop_table("accepted_findings")
