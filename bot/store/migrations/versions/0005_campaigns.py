"""Consolidation campaigns: ``campaign_batches``, ``campaign_repos`` and ``write_waits``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the campaign tables as bot/store/tables.py defines them."""
    op.create_table(
        "campaign_batches",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("batch_id", sa.String(length=200), nullable=False),
        sa.Column("concept", sa.String(length=200), nullable=False),
        sa.Column("group_name", sa.String(length=300), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("branch", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pr", sa.Integer(), nullable=True),
        sa.Column("head_sha", sa.String(length=64), nullable=True),
        sa.Column("base_sha", sa.String(length=64), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("fixes", sa.Integer(), nullable=False),
        sa.Column("left_out", sa.JSON(), nullable=False),
        sa.Column("check_state", sa.String(length=20), nullable=True),
        sa.Column("requested", sa.Boolean(), nullable=False),
        sa.Column("closed_by_human", sa.Boolean(), nullable=False),
        sa.Column("human_push_noted", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("installation_id", "repo", "batch_id"),
    )
    op.create_index("ix_campaign_batches_pr", "campaign_batches", ["installation_id", "repo", "pr"])
    op.create_table(
        "campaign_repos",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pause_reason", sa.String(length=300), nullable=True),
        sa.Column("blocked", sa.Text(), nullable=True),
        sa.Column("blocked_noted", sa.Boolean(), nullable=False),
        sa.Column("round_open", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("installation_id", "repo"),
    )
    op.create_table(
        "write_waits",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("checks_waiting_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("installation_id"),
    )


def downgrade() -> None:
    op.drop_table("write_waits")
    op.drop_table("campaign_repos")
    op.drop_index("ix_campaign_batches_pr", table_name="campaign_batches")
    op.drop_table("campaign_batches")
