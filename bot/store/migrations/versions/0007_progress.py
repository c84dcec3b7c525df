"""Progress: ``history_samples``, ``pull_decisions``, ``dashboard_issues``, ``badge_keys`` and
``backfills`` (bot.store.history, bot.store.dashboards, bot.store.backfills).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the progress tables as bot/store/tables.py defines them."""
    op.create_table(
        "backfills",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("anchor_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_week", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'done', 'failed')", name="backfills_state"),
        sa.PrimaryKeyConstraint("installation_id", "repo"),
    )
    op.create_index("ix_backfills_state_not_before", "backfills", ["state", "not_before"])

    op.create_table(
        "badge_keys",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("installation_id", "repo"),
    )
    op.create_index("ix_badge_keys_repo", "badge_keys", ["repo"])

    op.create_table(
        "dashboard_issues",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("last_edit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("body_digest", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('open', 'closed')", name="dashboard_issues_state"),
        sa.PrimaryKeyConstraint("installation_id", "repo"),
    )
    op.create_index("ix_dashboard_issues_due", "dashboard_issues", ["due_at"])

    op.create_table(
        "history_samples",
        sa.Column("installation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy_key", sa.String(length=64), nullable=False),
        sa.Column("series", sa.String(length=64), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('push', 'backfill', 'cli')", name="history_samples_source"),
        sa.PrimaryKeyConstraint("installation_id", "repo", "commit_sha"),
    )
    op.create_index(
        "ix_history_samples_repo_time",
        "history_samples",
        ["installation_id", "repo", "committed_at"],
    )

    op.create_table(
        "pull_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=False),
        sa.Column("repo", sa.String(length=300), nullable=False),
        sa.Column("pr", sa.Integer(), nullable=False),
        sa.Column("head_sha", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("user", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('blocked', 'accepted', 'passed')", name="pull_decisions_outcome"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "installation_id",
            "repo",
            "pr",
            "head_sha",
            "outcome",
            "user",
            name="pull_decision_once",
        ),
    )
    op.create_index(
        "ix_pull_decisions_repo_at", "pull_decisions", ["installation_id", "repo", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_pull_decisions_repo_at", table_name="pull_decisions")

    op.drop_table("pull_decisions")
    op.drop_index("ix_history_samples_repo_time", table_name="history_samples")

    op.drop_table("history_samples")
    op.drop_index("ix_dashboard_issues_due", table_name="dashboard_issues")

    op.drop_table("dashboard_issues")
    op.drop_index("ix_badge_keys_repo", table_name="badge_keys")

    op.drop_table("badge_keys")
    op.drop_index("ix_backfills_state_not_before", table_name="backfills")

    op.drop_table("backfills")
