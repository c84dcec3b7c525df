"""Inline suppressions: ``# ssot: ignore[CODE] reason`` marks a finding; it is never dropped."""

from __future__ import annotations

from collections.abc import Callable

from analyzers import Finding, Policy, analyze
from analyzers.suppression import NO_REASON

FindingsFn = Callable[..., list[Finding]]

OLD_IMPORT = "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager"


def test_matching_code_marks_the_finding_suppressed_with_its_reason(findings: FindingsFn) -> None:
    [finding] = findings(f"{OLD_IMPORT}  # ssot: ignore[SSOT001] removed in PR 1033\n")
    assert (finding.rule, finding.suppressed) == ("SSOT001", "removed in PR 1033")
    assert not finding.blocking


def test_suppressed_finding_is_returned_but_not_active(policy: Policy) -> None:
    text = f"{OLD_IMPORT}  # ssot: ignore[SSOT001] migration pending\n"
    result = analyze("pkg/mod.py", text.encode(), policy)
    assert [f.rule for f in result.findings] == ["SSOT001"]
    assert result.active == []


def test_other_code_does_not_suppress(findings: FindingsFn) -> None:
    [finding] = findings(f"{OLD_IMPORT}  # ssot: ignore[SSOT003] wrong rule\n")
    assert finding.suppressed is None
    assert finding.blocking


def test_several_codes_on_one_line_each_suppress_their_own_finding(findings: FindingsFn) -> None:
    text = """\
        import netra_backend.app.websocket_core as wc
        send({"type": "agent_started", "cls": wc.WebSocketManager})  # ssot: ignore[SSOT001,SSOT003] old client
        """
    result = findings(text)
    assert sorted(f.rule for f in result) == ["SSOT001", "SSOT003"]
    assert {f.suppressed for f in result} == {"old client"}


def test_code_is_case_insensitive(findings: FindingsFn) -> None:
    [finding] = findings(f"{OLD_IMPORT}  # ssot: ignore[ssot001] lower case\n")
    assert finding.suppressed == "lower case"


def test_missing_reason_is_recorded_as_no_reason_given(findings: FindingsFn) -> None:
    [finding] = findings(f"{OLD_IMPORT}  # ssot: ignore[SSOT001]\n")
    assert finding.suppressed == NO_REASON == "(no reason given)"


def test_suppression_on_the_last_line_of_a_multi_line_statement(findings: FindingsFn) -> None:
    text = """\
        event = {
            "type": "agent_started",
        }  # ssot: ignore[SSOT003] replayed from the archive
        """
    [finding] = findings(text)
    assert (finding.line, finding.end_line) == (1, 3)
    assert finding.suppressed == "replayed from the archive"


def test_suppression_on_another_line_does_not_suppress(findings: FindingsFn) -> None:
    text = f"""\
        # ssot: ignore[SSOT001] too far away
        {OLD_IMPORT}
        """
    [finding] = findings(text)
    assert finding.suppressed is None


def test_suppression_after_a_form_feed_line_stays_on_its_own_line(findings: FindingsFn) -> None:
    text = f"import os\n\x0c\n{OLD_IMPORT}  # ssot: ignore[SSOT001] paged file\n"
    [finding] = findings(text)
    assert (finding.line, finding.suppressed) == (3, "paged file")
