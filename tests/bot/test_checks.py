"""The check run's output and the review's comments, rendered from data (no network)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from analyzers.baseline import Comparison
from analyzers.findings import Finding, Fix
from analyzers.policy_loader import PolicyError
from analyzers.report import build_check_report, escape
from bot.checks import render as checks
from bot.checks.render import (
    ExistingComment,
    apply_acceptances,
    comment_body,
    external_id,
    fingerprints_in,
    marker,
    outdated_comments,
    plan_review,
    render_check,
    render_invalid_policy,
    review_body,
    suggestion,
)
from bot.store.acceptances import AcceptedFinding

WHEN = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)


def finding(
    line: int,
    path: str = "app/a.py",
    *,
    rule: str = "SSOT001",
    severity: str = "block",
    fix: Fix | None = None,
    matched: str | None = None,
    end_line: int | None = None,
) -> Finding:
    return Finding(
        rule=rule,
        concept="websocket-manager",
        path=path,
        line=line,
        col=4,
        end_line=end_line or line,
        end_col=20,
        message=f"deprecated import on line {line}",
        matched=matched or f"from legacy import M{line}",
        severity=severity,  # type: ignore[arg-type]
        fix=fix,
    )


def every_line(path: str, line: int) -> bool:
    return True


# --- suggestions and markers ------------------------------------------------------------------


def test_a_suggestion_replaces_the_lines_without_the_trailing_newline() -> None:
    assert suggestion("from canonical import M\n") == "```suggestion\nfrom canonical import M\n```"


def test_a_suggestion_fence_is_longer_than_any_backtick_run_in_the_code() -> None:
    code = 'DOC = """\n```python\nx = 1\n```\n"""\n'
    block = suggestion(code)
    assert block.startswith("````suggestion\n") and block.endswith("\n````")
    assert suggestion("x = '`````'\n").startswith("``````suggestion\n")


def test_a_deletion_is_an_empty_suggestion() -> None:
    assert suggestion("") == "```suggestion\n```"


def test_a_crlf_line_keeps_its_content_only() -> None:
    assert suggestion("import x\r\n") == "```suggestion\nimport x\n```"


def test_markers_are_hidden_comments_naming_the_fingerprint() -> None:
    assert marker("88600b6344dfa192") == "<!-- ssot:fingerprint=88600b6344dfa192 -->"
    first, second = finding(1), finding(2)
    body = comment_body([first, second], None)
    assert fingerprints_in(body) == (first.fingerprint, second.fingerprint)
    assert fingerprints_in("<!-- ssot:fingerprint=abc -->\nthen a human") == ("abc",)
    # Only a line that is the marker alone, as the App writes it, counts.
    assert fingerprints_in("<!-- ssot:fingerprint=abc --> quoted by a human") == ()
    assert fingerprints_in("see `<!-- ssot:fingerprint=abc -->`") == ()
    assert fingerprints_in(None) == ()


def test_the_external_id_names_installation_repository_and_head() -> None:
    assert external_id(7, "acme/app", "abc123") == "ssot:7:acme/app:abc123"


# --- the review plan ----------------------------------------------------------------------------


def test_at_most_30_comments_blocking_ones_first() -> None:
    warnings = [finding(n, severity="warn") for n in range(1, 21)]
    blocking = [finding(n, path="app/b.py") for n in range(1, 26)]
    plan = plan_review([*warnings, *blocking], every_line)
    assert len(plan.comments) == 30
    assert [c.path for c in plan.comments[:25]] == ["app/b.py"] * 25
    assert plan.not_inline == 15 and plan.new == 45
    assert "15 other findings" in review_body(plan, 45)


def test_comments_only_on_lines_github_accepts() -> None:
    plan = plan_review([finding(3), finding(9)], lambda path, line: line == 9)
    assert [(c.path, c.line) for c in plan.comments] == [("app/a.py", 9)]
    assert plan.not_inline == 1


def test_no_comment_twice_for_the_same_finding_nor_for_an_accepted_one() -> None:
    old, accepted, fresh = finding(1), finding(2), finding(3)
    plan = plan_review(
        [old, accepted, fresh],
        every_line,
        already={(old.path, old.fingerprint)},
        accepted={accepted.fingerprint},
    )
    assert [c.fingerprints for c in plan.comments] == [(fresh.fingerprint,)]


def test_the_same_fingerprint_in_another_file_is_commented_there() -> None:
    here, there = (
        finding(1, matched="from legacy import X"),
        finding(1, "app/b.py", matched="from legacy import X"),
    )
    plan = plan_review([here, there], every_line, already={(here.path, here.fingerprint)})
    assert [c.path for c in plan.comments] == ["app/b.py"]


def test_a_multi_line_fix_is_a_suggestion_on_its_whole_range() -> None:
    fix = Fix("canonical", 4, 6, "from canonical import (\n    M,\n)\n")
    plan = plan_review([finding(5, fix=fix)], every_line)
    (comment,) = plan.comments
    assert (comment.start_line, comment.line) == (4, 6)
    assert comment.payload()["start_side"] == "RIGHT" and comment.payload()["side"] == "RIGHT"
    assert "```suggestion\nfrom canonical import (\n    M,\n)\n```" in comment.body


def test_a_fix_reaching_outside_the_diff_is_not_suggested() -> None:
    fix = Fix("canonical", 4, 6, "x\n")
    plan = plan_review([finding(5, fix=fix)], lambda path, line: line != 6)
    (comment,) = plan.comments
    assert (comment.start_line, comment.line) == (None, 5)
    assert "suggestion" not in comment.body
    assert "start_line" not in comment.payload()


def test_findings_sharing_one_fix_share_one_comment() -> None:
    fix = Fix("canonical", 1, 1, "from canonical import A, B\n")
    first = finding(1, fix=fix, matched="A")
    second = finding(1, fix=fix, matched="B")
    (comment,) = plan_review([first, second], every_line).comments
    assert comment.fingerprints == (first.fingerprint, second.fingerprint)
    assert comment.body.count("```suggestion") == 1


def test_suppressed_findings_get_no_comment() -> None:
    quiet = Finding(
        **{**finding(1).to_dict(), "fix": None, "suppressed": "legacy", "fingerprint": ""}
    )
    assert plan_review([quiet], every_line).empty


def test_comments_whose_findings_are_gone_are_outdated() -> None:
    kept = ExistingComment(1, "N1", "app/a.py", ("aaa",))
    gone = ExistingComment(2, "N2", "app/a.py", ("bbb",))
    moved = ExistingComment(3, "N3", "app/old.py", ("aaa",))
    assert outdated_comments([kept, gone, moved], {("app/a.py", "aaa")}) == [gone, moved]


# --- the check run ------------------------------------------------------------------------------


def test_a_new_blocking_finding_fails_with_an_annotation_per_finding() -> None:
    new = [finding(1), finding(2, severity="warn")]
    output = render_check(build_check_report(Comparison(new=new), files=1))
    assert output.conclusion == "failure"
    assert output.title == "1 new blocking finding"
    assert [a["annotation_level"] for a in output.annotations] == ["failure", "warning"]
    assert output.annotations[0]["start_column"] == 5 and output.annotations[0]["end_column"] == 20
    assert output.actions == []


def test_columns_only_for_a_single_line_annotation() -> None:
    item = checks.annotation(finding(3, end_line=5))
    assert (item["start_line"], item["end_line"]) == (3, 5)
    assert "start_column" not in item and "end_column" not in item


def test_annotations_go_50_per_request_and_skip_those_already_posted() -> None:
    output = render_check(build_check_report(Comparison(new=[finding(n) for n in range(1, 121)])))
    assert [len(b) for b in output.batches()] == [50, 50, 20]
    assert [len(b) for b in output.batches(skip=100)] == [20]
    assert output.batches(skip=120) == [[]]  # still one request, to complete the run


def test_the_fix_button_appears_when_a_fix_exists_and_fits_githubs_limits() -> None:
    output = render_check(
        build_check_report(Comparison(new=[finding(1, fix=Fix("t", 1, 1, "x\n"))]))
    )
    (action,) = output.actions
    assert action["identifier"] == "ssot-fix"
    assert len(action["label"]) <= 20 and len(action["description"]) <= 40
    assert len(action["identifier"]) <= 20


def test_a_huge_summary_is_cut_cleanly_under_65535_characters() -> None:
    new = [finding(n, path=f"pkg/module_{n}.py") for n in range(1, 5001)]
    accepted = [AcceptedFinding(f"fp{n}", "maintainer", "x" * 500, WHEN) for n in range(200)]
    notes = ["_Total: the default branch plus this pull request._"]
    output = render_check(build_check_report(Comparison(new=new)), accepted, notes)
    assert len(output.summary) <= 65_535
    assert "more findings not shown" in output.summary
    assert "more accepted findings not shown" in output.summary
    assert "_Total: the default branch" in output.summary
    assert len(output.annotations) == 5000


def test_a_smaller_budget_is_respected_too() -> None:
    new = [finding(n) for n in range(1, 400)]
    output = render_check(build_check_report(Comparison(new=new)), max_chars=5_000)
    assert len(output.summary) <= 5_000


def test_accepted_findings_no_longer_block_and_say_who_and_why() -> None:
    new = finding(1)
    accepted = [AcceptedFinding(new.fingerprint, "alice", "removed in #12", WHEN)]
    comparison = apply_acceptances(Comparison(new=[new]), accepted)
    (after,) = comparison.new
    assert after.fingerprint == new.fingerprint and not after.blocking
    output = render_check(build_check_report(comparison), accepted)
    assert output.conclusion == "success"
    assert output.title == "No new blocking findings (1 accepted)"
    assert f"accepted by @alice on 2025-01-06: {escape.text('removed in #12')}" in output.summary
    assert "#12" not in output.summary  # the commenter's reason references no issue


def test_an_acceptance_covers_as_many_findings_as_it_counted() -> None:
    # Two copies of one import (same fingerprint: the path is left out of it), one accepted.
    first, second = finding(1, "app/a.py"), finding(1, "app/b.py")
    assert first.fingerprint == second.fingerprint
    once = [AcceptedFinding(first.fingerprint, "alice", "ok", WHEN, occurrences=1)]
    after = apply_acceptances(Comparison(new=[second, first]), once)
    assert [(f.path, f.blocking) for f in after.new] == [("app/b.py", True), ("app/a.py", False)]
    twice = [AcceptedFinding(first.fingerprint, "alice", "ok", WHEN, occurrences=2)]
    after = apply_acceptances(Comparison(new=[second, first]), twice)
    assert not any(f.blocking for f in after.new)


def test_an_invalid_policy_names_file_line_and_key() -> None:
    message = "[[concept]] 1: target must be 0 or more"
    error = PolicyError(".github/ssot.toml", 12, "concept.0.target", message)
    output = render_invalid_policy(error)
    assert output.conclusion == "failure"
    assert output.title == f"Invalid policy: .github/ssot.toml:12: {message}"
    # The message quotes the policy (a repository's text): escaped in the Markdown.
    assert f"`.github/ssot.toml`, line 12: {escape.text(message)}" in output.summary
    long = PolicyError("p" * 300, 1, "k", "m")
    assert len(render_invalid_policy(long).title) <= 255


def test_a_superseded_head_is_neutral() -> None:
    output = checks.render_superseded("f" * 40)
    assert output.conclusion == "neutral" and output.title == "Superseded by ffffffffffff"
    assert output.annotations == [] and output.actions == []


def test_a_pull_request_that_only_fixes_reads_n_fixed_0_new() -> None:
    """A consolidation batch's check: the title says what it removes and that it adds nothing."""
    fixed = [finding(n) for n in range(1, 18)]
    output = render_check(build_check_report(Comparison(fixed=fixed)))
    assert (output.conclusion, output.title) == ("success", "17 fixed, 0 new")
    warned = replace(finding(40), severity="warn")
    mixed = render_check(build_check_report(Comparison(new=[warned], fixed=fixed)))
    assert mixed.title == "No new blocking findings (17 fixed)"
