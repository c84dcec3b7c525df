"""The App's schema: every table, in one place, as the migrations see it.

SQLAlchemy Core tables on one :data:`metadata`; the revisions in ``migrations/versions/``
build and change them (``ssot migrate``). The queries of each table family live in the
module named after it (:mod:`bot.store.deliveries`, :mod:`bot.store.installations`...).
Every row that belongs to an installation carries ``installation_id`` (uninstalling deletes
them all: :func:`bot.store.installations.delete_installation`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

QUEUED, RUNNING, DONE, FAILED, IGNORED = "queued", "running", "done", "failed", "ignored"
STATES = (QUEUED, RUNNING, DONE, FAILED, IGNORED)
MAX_ERROR_CHARS = 4000


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that always comes back timezone-aware in UTC (SQLite keeps none)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        # SQLite compares the stored text: keep one format, without the offset.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


metadata = sa.MetaData()

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),  # X-GitHub-Delivery: one effect per id
    sa.Column("event", sa.String(100), nullable=False),
    sa.Column("action", sa.String(100)),
    sa.Column("installation_id", sa.BigInteger, index=True),
    sa.Column("repository", sa.String(300)),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("body", sa.LargeBinary),  # the raw payload; NULL for ignored deliveries
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("error", sa.Text),
    # SHA-256 of the raw body: a captured body replayed under a new GUID is the same
    # delivery (kept as long as the delivery row, longer than GitHub's 3 days of redelivery).
    sa.Column("body_sha256", sa.String(64)),
    sa.CheckConstraint(f"state IN {STATES!r}", name="deliveries_state"),
    sa.Index("deliveries_state_lease", "state", "lease_until"),
    sa.Index("deliveries_body_sha256", "body_sha256", unique=True),
)

installations = sa.Table(
    "installations",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),  # installation id
    sa.Column("account", sa.String(100), nullable=False),
    sa.Column("repository_selection", sa.String(20)),  # "all" or "selected"
    sa.Column("repositories", sa.JSON, nullable=False),  # full names, sorted
    sa.Column("suspended_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

accepted_findings = sa.Table(
    "accepted_findings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("installation_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("repo", sa.String(300), nullable=False),
    sa.Column("pr", sa.Integer, nullable=False),
    sa.Column("fingerprint", sa.String(200), nullable=False),
    sa.Column("user", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    # Findings of this fingerprint the pull request had when it was accepted: the most the
    # acceptance covers (a fingerprint leaves out the path: a later copy elsewhere is new).
    sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("installation_id", "repo", "pr", "fingerprint", name="accepted_once"),
)


def _cached_findings_columns() -> list[sa.Column[Any]]:
    # The columns of both findings caches (new Column objects for each table).
    return [
        sa.Column("policy_key", sa.String(64), primary_key=True),
        sa.Column("blob_sha", sa.String(64), primary_key=True),
        sa.Column("path_hash", sa.String(32), primary_key=True),
        sa.Column("findings", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", UTCDateTime, nullable=False),
    ]


# Findings of one git blob at one path under one policy (and engine version), for one
# installation: a blob is content-addressed, so a row never goes stale. ``findings`` is the
# JSON that bot.checks.blob_cache encodes (the findings, with the fixes proven so far): it quotes the
# installation's code, so it is the installation's, and goes when it uninstalls.
findings_cache = sa.Table(
    "findings_cache",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    *_cached_findings_columns(),
)

# The same cache shared by every installation, as revisions 0001-0003 had it. Unused since
# revision 0004 (which emptied it); kept only while workers of the previous release may still
# write to it during a rolling upgrade (migrations only add: see docs/operations.md), emptied
# by prune_deliveries' hourly task meanwhile, and dropped by the next release's revision.
legacy_blob_findings = sa.Table("blob_findings", metadata, *_cached_findings_columns())

# Totals per concept and rule of a repository's default branch (refreshed on push).
repo_totals = sa.Table(
    "repo_totals",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("policy_key", sa.String(64), nullable=False),
    sa.Column("commit_sha", sa.String(64), nullable=False),
    sa.Column("totals", sa.JSON, nullable=False),  # [[concept, rule, count, target], ...]
    sa.Column("files", sa.Integer, nullable=False),
    sa.Column("truncated", sa.Boolean, nullable=False),
    sa.Column("computed_at", UTCDateTime, nullable=False),
)

# One job at a time per pull request (pr 0: the repository's totals scan).
pull_locks = sa.Table(
    "pull_locks",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("pr", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("until", UTCDateTime, nullable=False),
)

# Review comments the bot minimised as outdated (GraphQL node ids), so it does it once.
minimized_comments = sa.Table(
    "minimized_comments",
    metadata,
    sa.Column("node_id", sa.String(200), primary_key=True),
    sa.Column("installation_id", sa.BigInteger, nullable=False),
    sa.Column("repo", sa.String(300), nullable=False),
    sa.Column("pr", sa.Integer, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

# Failed deliveries (GUIDs) the bot asked GitHub to deliver again (bot.jobs.sweeper): once each.
redelivery_requests = sa.Table(
    "redelivery_requests",
    metadata,
    sa.Column("guid", sa.String(100), primary_key=True),
    sa.Column("installation_id", sa.BigInteger, index=True),
    sa.Column("hook_delivery_id", sa.BigInteger, nullable=False),  # GitHub's numeric id
    sa.Column("requested_at", UTCDateTime, nullable=False),
)


# GitHub's limits per installation, shared by every worker (bot.github.throttle): until when GitHub
# asked us to stop calling (a rate limit's retry-after or reset), and the content-creating
# calls of the last hour (GitHub's budget of 80 a minute and 500 an hour).
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("blocked_until", UTCDateTime, nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
)

# Answers (reactions, replies) to one person's /ssot commands in one repository, for the
# last hour: comment spam cannot spend the installation's write budget (bot.commands.runner).
command_answers = sa.Table(
    "command_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("installation_id", sa.BigInteger, nullable=False),
    sa.Column("repo", sa.String(300), nullable=False),
    sa.Column("login", sa.String(100), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_command_answers_who", "installation_id", "repo", "login", "at"),
)

github_writes = sa.Table(
    "github_writes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("installation_id", sa.BigInteger, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_github_writes_installation_at", "installation_id", "at"),
)

# Consolidation pull requests (bot/campaigns/): one row per batch the App proposed or opened.
# status: proposed (on the dashboard, not opened yet), open, merged, closed (by a person: never
# proposed again unless asked), empty (the App closed it: nothing left to fix).
CAMPAIGN_STATES = ("proposed", "open", "merged", "closed", "empty")
campaign_batches = sa.Table(
    "campaign_batches",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("batch_id", sa.String(200), primary_key=True),
    sa.Column("concept", sa.String(200), nullable=False),
    sa.Column("group_name", sa.String(300), nullable=False),
    sa.Column("part", sa.Integer, nullable=False),
    sa.Column("branch", sa.String(300), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("pr", sa.Integer),
    sa.Column("head_sha", sa.String(64)),  # the commit the App pushed to the branch
    sa.Column("base_sha", sa.String(64)),  # the default-branch commit it was built on
    sa.Column("files", sa.JSON, nullable=False),  # paths, sorted
    sa.Column("fixes", sa.Integer, nullable=False),  # findings the batch removes
    sa.Column("left_out", sa.JSON, nullable=False),  # [[path, reason], ...]
    sa.Column("check_state", sa.String(20)),  # the SSOT guard check of its head
    sa.Column("requested", sa.Boolean, nullable=False),  # a person asked for it: first in line
    sa.Column("closed_by_human", sa.Boolean, nullable=False),
    sa.Column("human_push_noted", sa.Boolean, nullable=False),  # said once: not updated any more
    sa.Column("opened_at", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_campaign_batches_pr", "installation_id", "repo", "pr"),
)

# A repository's campaign: when it last ran on its schedule, when the sweep looks again, a
# pause (GitHub's rate limit met by a campaign write), and a push GitHub refused (the App
# stops until someone asks again, after one clear message).
campaign_repos = sa.Table(
    "campaign_repos",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("last_run_at", UTCDateTime),
    sa.Column("next_check_at", UTCDateTime),
    sa.Column("paused_until", UTCDateTime),
    sa.Column("pause_reason", sa.String(300)),
    sa.Column("blocked", sa.Text),
    sa.Column("blocked_noted", sa.Boolean, nullable=False),
    # A scheduled round is open until every batch of its plan is opened (within the limits).
    sa.Column("round_open", sa.Boolean, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Until when a pull-request check of an installation waits for write budget: campaign writes
# take none meanwhile (bot/github/throttle.py), so checks go first.
write_waits = sa.Table(
    "write_waits",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("checks_waiting_until", UTCDateTime, nullable=False),
)

# --- progress: history, decisions, the dashboard issue, badges, backfills ------------------

SAMPLE_SOURCES = ("push", "backfill", "cli")
DECISION_OUTCOMES = ("blocked", "accepted", "passed")
ISSUE_STATES = ("open", "closed")
BACKFILL_STATES = ("pending", "done", "failed")

# Totals of one commit of a repository's default branch: what every view of progress reads
# (bot.store.history). ``series`` changes when the policy's set of concepts changes (a rename
# starts a new series); ``totals`` is ``[[concept, rule, count, target], ...]``; ``breakdown``
# is ``{concept: {"directories": [[dir, count], ...], "owners": [[owner, count], ...]}}``.
history_samples = sa.Table(
    "history_samples",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("commit_sha", sa.String(64), primary_key=True),
    sa.Column("committed_at", UTCDateTime, nullable=False),
    sa.Column("policy_key", sa.String(64), nullable=False),
    sa.Column("series", sa.String(64), nullable=False),
    sa.Column("totals", sa.JSON, nullable=False),
    sa.Column("breakdown", sa.JSON, nullable=False),
    sa.Column("files", sa.Integer, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(f"source IN {SAMPLE_SOURCES!r}", name="history_samples_source"),
    sa.Index("ix_history_samples_repo_time", "installation_id", "repo", "committed_at"),
)

# What the gate decided on a pull request's head, and who accepted what: the "recent
# decisions" of the dashboard issue and pages.
pull_decisions = sa.Table(
    "pull_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("installation_id", sa.BigInteger, nullable=False),
    sa.Column("repo", sa.String(300), nullable=False),
    sa.Column("pr", sa.Integer, nullable=False),
    sa.Column("head_sha", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("user", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.CheckConstraint(f"outcome IN {DECISION_OUTCOMES!r}", name="pull_decisions_outcome"),
    sa.UniqueConstraint(
        "installation_id", "repo", "pr", "head_sha", "outcome", "user", name="pull_decision_once"
    ),
    sa.Index("ix_pull_decisions_repo_at", "installation_id", "repo", "at"),
)

# The dashboard issue of a repository (one, edited in place): its number, whether a human
# closed it, and the debounce (the last edit, and when the next one is due).
dashboard_issues = sa.Table(
    "dashboard_issues",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("issue_number", sa.Integer),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("closed_by", sa.String(100)),
    sa.Column("last_edit_at", UTCDateTime),
    sa.Column("due_at", UTCDateTime),
    sa.Column("body_digest", sa.String(64)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(f"state IN {ISSUE_STATES!r}", name="dashboard_issues_state"),
    sa.Index("ix_dashboard_issues_due", "due_at"),
)

# The secret in a private repository's badge URL (``?key=``), and whether it is private
# (None: not known yet, treated as private).
badge_keys = sa.Table(
    "badge_keys",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("private", sa.Boolean),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_badge_keys_repo", "repo"),
)

# A new repository's weekly samples of the last six months, taken at low priority: the
# weeks are counted back from ``anchor_at``; ``next_week`` is the next one to sample.
backfills = sa.Table(
    "backfills",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("anchor_at", UTCDateTime, nullable=False),
    sa.Column("next_week", sa.Integer, nullable=False),
    sa.Column("not_before", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(f"state IN {BACKFILL_STATES!r}", name="backfills_state"),
    sa.Index("ix_backfills_state_not_before", "state", "not_before"),
)
