"""Posting what :mod:`bot.checks.render` rendered: the check run, the review, minimised comments.

One check run per head: found again by its ``external_id`` among the head's runs named
"SSOT guard" (so a retried job, a duplicate delivery or a re-run never adds a second one),
else created ``in_progress``. Completing it sends the annotations 50 per PATCH; a run that
already holds some (an earlier attempt of the same head) gets only the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, cast

from githubkit.exception import RequestFailed

from bot.checks import render as checks
from bot.checks.render import CHECK_NAME, CheckOutput, ExistingComment, ReviewComment
from bot.github.api import InstallationClient, chunks, get_pages, graphql, graphql_string
from bot.ops import metrics

log = logging.getLogger(__name__)

MINIMIZE_PER_REQUEST = 25


@dataclass(frozen=True)
class CheckRunRef:
    """The check run of one head: its id, and how many annotations it already holds."""

    id: int
    annotations: int
    completed: bool
    started_at: dt.datetime | None = None  # when GitHub says the run started


def _timestamp(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def find_check_run(
    gh: InstallationClient, owner: str, repo: str, head_sha: str, external_id: str
) -> CheckRunRef | None:
    """Our run of ``head_sha`` (the oldest one carrying ``external_id``), if any."""
    runs = get_pages(
        gh,
        f"/repos/{owner}/{repo}/commits/{head_sha}/check-runs",
        {"check_name": CHECK_NAME, "filter": "all"},
        key="check_runs",
    )
    mine = [r for r in runs if r.get("external_id") == external_id]
    if not mine:
        return None
    run = min(mine, key=lambda r: int(r["id"]))
    return CheckRunRef(
        id=int(run["id"]),
        annotations=int((run.get("output") or {}).get("annotations_count") or 0),
        completed=run.get("status") == "completed",
        started_at=parse_timestamp(run.get("started_at")),
    )


def parse_timestamp(value: object) -> dt.datetime | None:
    """GitHub's ``2026-11-25T10:00:00Z`` as an aware datetime (None when absent or bad)."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def ensure_check_run(
    gh: InstallationClient, owner: str, repo: str, head_sha: str, external_id: str
) -> CheckRunRef:
    """The run of ``head_sha``: found again, or created ``in_progress`` now."""
    found = find_check_run(gh, owner, repo, head_sha, external_id)
    if found is not None:
        return found
    body = {
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "status": "in_progress",
        "external_id": external_id,
        # No started_at: GitHub stamps an in_progress run with its own clock, the clock of
        # comments' created_at, which /ssot accept compares it with.
        "output": {
            "title": "Checking…",
            "summary": "SSOT guard is comparing this commit with its base.",
        },
    }
    created = gh.rest.checks.create(owner, repo, data=cast(Any, body)).json()
    return CheckRunRef(id=int(created["id"]), annotations=0, completed=False)


def complete_check_run(
    gh: InstallationClient, owner: str, repo: str, run: CheckRunRef, output: CheckOutput
) -> int:
    """PATCH the run with ``output``: annotation batches first, the conclusion last.

    Returns the number of PATCH requests sent.
    """
    skip = min(run.annotations, len(output.annotations))
    batches = output.batches(skip)
    text = {"title": output.title, "summary": output.summary}
    for batch in batches[:-1]:
        body: dict[str, Any] = {"output": {**text, "annotations": batch}}
        gh.rest.checks.update(owner, repo, run.id, data=cast(Any, body))
    final: dict[str, Any] = {
        "status": "completed",
        "conclusion": output.conclusion,
        "completed_at": _timestamp(),
        "output": {**text, **({"annotations": batches[-1]} if batches[-1] else {})},
        "actions": output.actions,
    }
    gh.rest.checks.update(owner, repo, run.id, data=cast(Any, final))
    metrics.record_findings_posted(len(output.annotations) - skip, "annotation")
    return len(batches)


def bot_review_comments(
    gh: InstallationClient, owner: str, repo: str, number: int, bot_user_id: int
) -> list[ExistingComment]:
    """The PR's review comments posted by this App that carry fingerprint markers.

    Only comments authored by the App's own bot user count: anyone (another App, a GitHub
    Action posting a PR's text) can write a marker into a comment of theirs.
    """
    found: list[ExistingComment] = []
    for item in get_pages(gh, f"/repos/{owner}/{repo}/pulls/{number}/comments"):
        if (item.get("user") or {}).get("id") != bot_user_id:
            continue
        fingerprints = checks.fingerprints_in(item.get("body"))
        if fingerprints:
            found.append(
                ExistingComment(
                    id=int(item["id"]),
                    node_id=str(item["node_id"]),
                    path=str(item.get("path") or ""),
                    fingerprints=fingerprints,
                )
            )
    return found


def post_review(
    gh: InstallationClient,
    owner: str,
    repo: str,
    number: int,
    head_sha: str,
    body: str,
    comments: list[ReviewComment],
) -> bool:
    """One COMMENT review with ``comments`` on ``head_sha``; False when GitHub refused it."""
    data = {
        "commit_id": head_sha,
        "event": "COMMENT",
        "body": body,
        "comments": [c.payload() for c in comments],
    }
    try:
        gh.rest.pulls.create_review(owner, repo, number, data=cast(Any, data))
    except RequestFailed as exc:
        if exc.response.status_code != 422:
            raise
        # The check run already holds every finding; a refused review must not fail the job.
        log.warning("review on %s/%s#%s refused: %s", owner, repo, number, exc.response.text)
        return False
    metrics.record_findings_posted(len(comments), "review_comment")
    return True


def minimize(gh: InstallationClient, node_ids: list[str]) -> list[str]:
    """Minimise comments as OUTDATED (GraphQL ``minimizeComment``); the ids that were."""
    done: list[str] = []
    for batch in chunks(node_ids, MINIMIZE_PER_REQUEST):
        fields = [
            f"m{i}: minimizeComment(input: {{subjectId: {graphql_string(node_id)}, "
            "classifier: OUTDATED}) { minimizedComment { isMinimized } }"
            for i, node_id in enumerate(batch)
        ]
        data, errors = graphql(gh, "mutation {\n" + "\n".join(fields) + "\n}")
        if errors:
            log.warning("minimising comments: %s", errors[:3])
        done += [node_id for i, node_id in enumerate(batch) if data.get(f"m{i}")]
    return done
