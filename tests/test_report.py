"""Output formats, checked on findings the engine really produces with the example policy."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from analyzers.baseline import compare
from analyzers.findings import Finding, Fix
from analyzers.report import (
    FORMATS,
    ConceptTotal,
    Report,
    build_check_report,
    build_scan_report,
    json_format,
    markdown,
    render,
    sarif,
    text,
)
from analyzers.report import annotations as github
from analyzers.rules import RULES
from tests.test_escape import LIVE_TEXT
from tests.test_escape import render as render_markdown

PATH = "netra_backend/app/agents/supervisor.py"
TEST_PATH = "tests/unit/test_ws.py"
# The `findings` fixture of conftest.py: findings(text, path) -> list[Finding].
FindingsFn = Callable[..., list[Finding]]

BASE = """\
from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager
from netra_backend.app.websocket_core.websocket_manager_factory import create_manager


def started(ws, now, uid):
    ws.send_json({"type": "agent_started", "time": now.isoformat(), "user": uid})
"""

HEAD = """\
from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager
from netra_backend.app.websocket_core import WebSocketManager  # ssot: ignore[SSOT001] removed in #1040


class LegacyWebSocketManager:
    def add_connection(self, conn): ...
    def broadcast(self, msg): ...


def started(ws, now, uid):
    ws.send_json({"type": "agent_started", "time": now.isoformat(), "user": uid})
"""

TEST_FILE = """\
class MockWebSocketManager:
    def add_connection(self, conn): ...
    def broadcast(self, msg): ...
"""

# The numbers of the team's failure report (issue #1033).
TOTALS = [
    ConceptTotal("websocket-manager", "SSOT001", 674, 0),
    ConceptTotal("websocket-manager", "SSOT002", 1058, 1),
    ConceptTotal("golden-path", "SSOT003", 5, 0),
]


@pytest.fixture
def check_report(findings: FindingsFn) -> Report:
    """A change that adds a manager class, a test double and a suppressed import, and fixes
    a factory import; the deprecated import and the legacy payload stay (unchanged)."""
    base = {PATH: findings(BASE, PATH)}
    head = {PATH: findings(HEAD, PATH), TEST_PATH: findings(TEST_FILE, TEST_PATH)}
    return build_check_report(compare(base, head), TOTALS, files=2, base="0123456789abcdef")


@pytest.fixture
def scan_report(findings: FindingsFn) -> Report:
    found = findings(HEAD, PATH) + findings(TEST_FILE, TEST_PATH)
    return build_scan_report(found, TOTALS, files=2)


def by_rule(items: list[Finding], rule: str) -> Finding:
    return next(f for f in items if f.rule == rule)


def many_findings(findings: FindingsFn, count: int) -> list[Finding]:
    """``count`` distinct SSOT001 findings (each import has its own alias)."""
    source = "".join(
        f"from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager as M{i}\n"
        for i in range(count)
    )
    found = findings(source, PATH)
    assert len(found) == count
    return found


# -- the model ---------------------------------------------------------------------------


def test_check_report_sorts_findings_into_new_unchanged_and_fixed(check_report: Report) -> None:
    assert sorted((f.rule, f.path, f.line) for f in check_report.new) == [
        ("SSOT001", PATH, 2),
        ("SSOT002", PATH, 5),
        ("SSOT002", TEST_PATH, 1),
    ]
    assert sorted((f.rule, f.line) for f in check_report.unchanged) == [
        ("SSOT001", 1),
        ("SSOT003", 11),
    ]
    assert [(f.rule, f.line) for f in check_report.fixed] == [("SSOT001", 2)]


def test_suppressed_findings_are_counted_and_not_listed(check_report: Report) -> None:
    assert check_report.suppressed == 1
    assert [f.suppressed for f in check_report.suppressed_new] == ["removed in #1040"]
    assert all(f.suppressed is None for f in check_report.listed(verbose=True))


def test_only_new_blocking_findings_block_a_check(check_report: Report) -> None:
    # The suppressed import and the test double (tests = "warn") do not block.
    assert [(f.rule, f.path) for f in check_report.blocking] == [("SSOT002", PATH)]


def test_a_scan_has_no_new_or_fixed_findings(scan_report: Report) -> None:
    with pytest.raises(ValueError, match="no baseline"):
        Report(mode="scan", new=scan_report.unchanged)


# -- text --------------------------------------------------------------------------------


def test_text_lists_each_new_finding_as_path_line_col_code_severity_message(
    check_report: Report,
) -> None:
    lines = render(check_report, "text").splitlines()
    manager = by_rule(check_report.new, "SSOT002")
    assert f"{PATH}:5:1: SSOT002 [block] {manager.message}" in lines
    assert lines[0].startswith(f"{PATH}:5:1: SSOT002 [block] class `LegacyWebSocketManager`")
    assert not any(":1:62: SSOT001" in line for line in lines), "unchanged findings are not listed"


def test_text_columns_are_one_based(check_report: Report) -> None:
    finding = by_rule(check_report.unchanged, "SSOT001")
    assert finding.col == 61
    assert text.finding_line(finding).startswith(f"{PATH}:1:62: SSOT001 ")


def test_text_marks_a_finding_that_only_warns(check_report: Report) -> None:
    # The test double: SSOT002 has `tests = "warn"` in the example policy.
    double = next(f for f in check_report.new if f.path == TEST_PATH)
    assert double.severity == "warn"
    assert f"{TEST_PATH}:1:1: SSOT002 [warn] " in render(check_report, "text")


def test_columns_are_one_based_in_every_format(findings: FindingsFn) -> None:
    line = "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager"
    [finding] = findings(line + "\n", PATH)
    start = line.index("UnifiedWebSocketManager") + 1  # 1-based, as editors count
    end = len(line) + 1  # the column after the last character, as SARIF has it
    report = build_scan_report([finding])
    assert f"{PATH}:1:{start}: " in render(report, "text", verbose=True)
    [item] = json.loads(render(report, "json"))["findings"]
    assert (item["line"], item["col"], item["end_col"]) == (1, start, end)
    assert f"line=1,col={start},endLine=1,endColumn={end}," in render(report, "github")
    assert f"`{PATH}:1:{start}`" in render(report, "markdown", verbose=True)
    region = sarif_results(report)[0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startColumn"], region["endColumn"]) == (start, end)


def test_text_ends_with_a_summary_line(check_report: Report) -> None:
    assert render(check_report, "text").splitlines()[-1] == (
        "2 new findings (1 blocking), 1 fixed, 2 unchanged in 2 files; 1 suppressed."
    )


def test_text_scan_shows_totals_and_lists_findings_only_when_verbose(scan_report: Report) -> None:
    quiet = render(scan_report, "text")
    assert "SSOT002" in quiet and "1,058 -> 1" in quiet
    assert f"{PATH}:" not in quiet
    assert quiet.splitlines()[-1] == "Found 4 findings (3 blocking) in 2 files; 1 suppressed."
    assert f"{PATH}:1:62: SSOT001 " in render(scan_report, "text", verbose=True)


def test_text_summary_counts_fixable_findings(check_report: Report) -> None:
    finding = by_rule(check_report.new, "SSOT002")
    fixable = replace(finding, fix=Fix("use the canonical manager", 5, 7, ""))
    report = replace(check_report, new=[fixable if f is finding else f for f in check_report.new])
    assert "1 fixable with `ssot fix`." in render(report, "text")


# -- JSON --------------------------------------------------------------------------------


def test_json_round_trips_a_check_report(check_report: Report) -> None:
    data = render(check_report, "json")
    again = json_format.parse(data)
    assert render(again, "json") == data
    assert sorted(again.new, key=lambda f: f.fingerprint) == sorted(
        check_report.new, key=lambda f: f.fingerprint
    )
    assert (again.unchanged, again.fixed) == (
        sorted(check_report.unchanged, key=lambda f: (f.path, f.line)),
        check_report.fixed,
    )
    assert again.totals == TOTALS and again.base == check_report.base


def test_json_round_trips_a_scan_report(scan_report: Report) -> None:
    again = json_format.parse(render(scan_report, "json"))
    assert again.mode == "scan"
    assert sorted(again.unchanged, key=lambda f: (f.path, f.line)) == sorted(
        scan_report.unchanged, key=lambda f: (f.path, f.line)
    )


def test_json_has_a_schema_version_and_every_finding_with_status_and_fingerprint(
    check_report: Report,
) -> None:
    data = json.loads(render(check_report, "json"))
    assert data["schema_version"] == json_format.SCHEMA_VERSION
    assert data["summary"] == {
        "files_analysed": 2,
        "new": 2,
        "fixed": 1,
        "unchanged": 2,
        "blocking": 1,
        "suppressed": 1,
    }
    statuses = sorted((item["status"], item["rule"], item["line"]) for item in data["findings"])
    assert statuses == [
        ("fixed", "SSOT001", 2),
        ("new", "SSOT001", 2),
        ("new", "SSOT002", 1),
        ("new", "SSOT002", 5),
        ("unchanged", "SSOT001", 1),
        ("unchanged", "SSOT003", 11),
    ]
    expected = {
        f.fingerprint for f in [*check_report.new, *check_report.unchanged, *check_report.fixed]
    }
    assert {item["fingerprint"] for item in data["findings"]} == expected
    suppressed = [item for item in data["findings"] if item["suppressed"]]
    assert [item["suppressed"] for item in suppressed] == ["removed in #1040"]


def test_json_scan_findings_have_no_status(scan_report: Report) -> None:
    data = json.loads(render(scan_report, "json"))
    assert {item["status"] for item in data["findings"]} == {None}


def test_json_is_the_same_whatever_order_the_findings_arrive_in(check_report: Report) -> None:
    shuffled = replace(check_report, new=list(reversed(check_report.new)))
    assert render(shuffled, "json") == render(check_report, "json")


def test_json_refuses_another_schema_version(check_report: Report) -> None:
    data = json.loads(render(check_report, "json"))
    data["schema_version"] = 99
    with pytest.raises(ValueError, match="schema_version 99"):
        json_format.parse(json.dumps(data))


# -- SARIF -------------------------------------------------------------------------------

SARIF_LEVELS = {"none", "note", "warning", "error"}


def assert_valid_sarif(log: dict[str, Any]) -> None:
    """The SARIF 2.1.0 properties required by the schema and by GitHub code scanning."""
    assert log["version"] == "2.1.0"
    assert "sarif-2.1.0" in log["$schema"]
    assert isinstance(log["runs"], list) and log["runs"]
    for run in log["runs"]:
        driver = run["tool"]["driver"]
        assert isinstance(driver["name"], str) and driver["name"]
        rules = driver.get("rules", [])
        ids = [rule["id"] for rule in rules]
        assert len(ids) == len(set(ids)), "rule ids are unique"
        for rule in rules:
            assert rule["shortDescription"]["text"]
            assert rule["fullDescription"]["text"]
            assert rule["help"]["text"]
            assert rule["defaultConfiguration"]["level"] in SARIF_LEVELS
        for result in run["results"]:
            assert result["ruleId"] in ids
            if "ruleIndex" in result:
                assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["level"] in SARIF_LEVELS
            assert isinstance(result["message"]["text"], str) and result["message"]["text"]
            assert 1 <= len(result["locations"]) <= 10
            for location in result["locations"]:
                physical = location["physicalLocation"]
                uri = physical["artifactLocation"]["uri"]
                assert uri and not uri.startswith("/") and "\\" not in uri, (
                    "a repository-relative URI"
                )
                region = physical["region"]
                assert region["startLine"] >= 1 and region["startColumn"] >= 1
                assert region["endLine"] >= region["startLine"]
                if region["endLine"] == region["startLine"]:
                    assert region["endColumn"] >= region["startColumn"]
            for value in result.get("partialFingerprints", {}).values():
                assert isinstance(value, str) and value
            for suppression in result.get("suppressions", []):
                assert suppression["kind"] in {"inSource", "external"}
            if "baselineState" in result:
                assert result["baselineState"] in {"new", "unchanged", "updated", "absent"}


def sarif_results(report: Report) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads(render(report, "sarif"))["runs"][0]["results"]
    return results


def result_at(results: list[dict[str, Any]], rule: str, path: str, line: int) -> dict[str, Any]:
    return next(
        r
        for r in results
        if r["ruleId"] == rule
        and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == path
        and r["locations"][0]["physicalLocation"]["region"]["startLine"] == line
    )


def test_sarif_is_structurally_valid(check_report: Report, scan_report: Report) -> None:
    assert_valid_sarif(json.loads(render(check_report, "sarif")))
    assert_valid_sarif(json.loads(render(scan_report, "sarif")))


def test_sarif_driver_lists_every_rule_with_its_documentation() -> None:
    driver = json.loads(render(Report(mode="scan"), "sarif"))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "ssot-guard"
    assert [rule["id"] for rule in driver["rules"]] == list(RULES)
    first = driver["rules"][0]
    assert first["name"] == "non-canonical-import"
    assert first["shortDescription"]["text"] == RULES["SSOT001"].summary
    assert first["fullDescription"]["text"].startswith("Reports every import of a concept")
    assert first["help"]["text"] == RULES["SSOT001"].doc.strip()


def test_sarif_levels_follow_severity(check_report: Report) -> None:
    results = sarif_results(check_report)
    assert result_at(results, "SSOT002", PATH, 5)["level"] == "error"
    assert result_at(results, "SSOT002", TEST_PATH, 1)["level"] == "warning"


def test_sarif_region_is_one_based_with_an_exclusive_end(check_report: Report) -> None:
    results = sarif_results(check_report)
    region = result_at(results, "SSOT001", PATH, 1)["locations"][0]["physicalLocation"]["region"]
    finding = by_rule(check_report.unchanged, "SSOT001")
    assert region == {
        "startLine": 1,
        "startColumn": finding.col + 1,
        "endLine": 1,
        "endColumn": finding.end_col + 1,
    }
    assert finding.end_col - finding.col == len("UnifiedWebSocketManager")


def test_sarif_carries_the_fingerprint(check_report: Report) -> None:
    result = result_at(sarif_results(check_report), "SSOT002", PATH, 5)
    fingerprint = by_rule(check_report.new, "SSOT002").fingerprint
    assert result["partialFingerprints"] == {
        "ssot/v1": fingerprint,
        "primaryLocationLineHash": f"{fingerprint}:1",
    }


def test_sarif_numbers_identical_findings_of_one_file(findings: FindingsFn) -> None:
    line = "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
    twice = findings(line * 2, PATH)
    assert twice[0].fingerprint == twice[1].fingerprint
    results = sarif_results(build_scan_report(twice))
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert hashes == [f"{twice[0].fingerprint}:1", f"{twice[0].fingerprint}:2"]


def test_sarif_suppressed_finding_has_an_in_source_suppression_with_its_reason(
    check_report: Report,
) -> None:
    result = result_at(sarif_results(check_report), "SSOT001", PATH, 2)
    assert result["suppressions"] == [{"kind": "inSource", "justification": "removed in #1040"}]


def test_sarif_leaves_out_fixed_findings_and_states_the_baseline(check_report: Report) -> None:
    results = sarif_results(check_report)
    assert len(results) == len(check_report.new) + len(check_report.unchanged)
    assert result_at(results, "SSOT002", PATH, 5)["baselineState"] == "new"
    assert result_at(results, "SSOT003", PATH, 11)["baselineState"] == "unchanged"


def test_sarif_scan_results_have_no_baseline_state(scan_report: Report) -> None:
    assert all("baselineState" not in r for r in sarif_results(scan_report))


# -- GitHub annotations ------------------------------------------------------------------


def test_annotation_names_file_span_and_rule(check_report: Report) -> None:
    finding = by_rule(check_report.unchanged, "SSOT001")
    assert github.annotation(finding) == (
        f"::error file={PATH},line=1,col=62,endLine=1,endColumn=85,title=SSOT001::"
        + finding.message.replace("%", "%25")
    )


def test_annotation_of_a_multi_line_finding_has_no_columns(check_report: Report) -> None:
    line = github.annotation(by_rule(check_report.new, "SSOT002"))
    assert line.startswith(f"::error file={PATH},line=5,endLine=7,title=SSOT002::")


def test_annotation_escapes_percent_and_line_breaks_in_the_message(check_report: Report) -> None:
    finding = replace(by_rule(check_report.new, "SSOT002"), message="100% legacy,\r\nsee: #1033")
    message = github.annotation(finding).split("::", 2)[2]
    assert message == "100%25 legacy,%0D%0Asee: #1033"
    assert "\n" not in github.annotation(finding)


def test_annotation_escapes_colon_and_comma_in_properties(check_report: Report) -> None:
    finding = replace(by_rule(check_report.new, "SSOT002"), path="odd,dir/a:b%.py")
    assert "file=odd%2Cdir/a%3Ab%25.py,line=5," in github.annotation(finding)
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_annotations_use_warning_for_warn_findings_and_end_with_a_summary_notice(
    check_report: Report,
) -> None:
    lines = render(check_report, "github").splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::warning", "::notice"]
    assert lines[-1] == (
        "::notice title=SSOT guard::2 new findings (1 blocking), 1 fixed, 2 unchanged in 2 files; "
        "1 suppressed."
    )


def test_annotations_of_a_scan_cover_every_unsuppressed_finding(scan_report: Report) -> None:
    lines = render(scan_report, "github").splitlines()
    assert len(lines) == 4 + 1


# -- Markdown ----------------------------------------------------------------------------


def table_row(md: str, concept: str, rule: str) -> list[str]:
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 2 and cells[0] == concept and cells[1].startswith(rule):
            return cells
    raise AssertionError(f"no row for {concept} {rule} in:\n{md}")


def test_markdown_table_has_new_fixed_unchanged_suppressed_and_progress(
    check_report: Report,
) -> None:
    md = render(check_report, "markdown")
    assert "| Concept | Rule | New | Fixed | Unchanged | Suppressed | Total -> target |" in md
    assert table_row(md, "websocket-manager", "SSOT002") == [
        "websocket-manager",
        "SSOT002 extra-implementation",
        "2",
        "0",
        "0",
        "0",
        "1,058 -> 1",
    ]
    assert table_row(md, "websocket-manager", "SSOT001")[2:] == ["0", "1", "1", "1", "674 -> 0"]
    assert table_row(md, "golden-path", "SSOT003")[2:] == ["0", "0", "1", "0", "5 -> 0"]


def test_markdown_title_gives_the_verdict(check_report: Report) -> None:
    assert render(check_report, "markdown").startswith(
        "## :x: SSOT guard: 1 new blocking finding\n"
    )
    clean = replace(check_report, new=[f for f in check_report.new if not f.blocking])
    assert render(clean, "markdown").startswith(
        "## :white_check_mark: SSOT guard: no new blocking findings\n"
    )


def test_markdown_lists_new_findings_blocking_first_and_the_suppressions_added(
    check_report: Report,
) -> None:
    md = render(check_report, "markdown")
    new_section = md.split("### New findings\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert new_section[0].startswith(f"- :x: `{PATH}:5:1` **SSOT002**")
    assert new_section[1].startswith(f"- :warning: `{TEST_PATH}:1:1` **SSOT002**")
    assert "**Suppressed:** 1 finding with `# ssot: ignore[...]` (1 added by this change)." in md
    suppressed = md.split("### Suppressed by this change\n\n", 1)[1]
    assert suppressed.startswith(f"- `{PATH}:2:46` **SSOT001**")
    # A reason is pull-request text: `#1040` must not become a live issue reference.
    assert "(suppressed: removed in \\#\u200b1040)" in suppressed


# What the summary is made of: no link, image, raw HTML or comment.
SUMMARY_TAGS = {"h2", "h3", "p", "ul", "li", "strong", "code", "em", "table", "thead", "tbody"}
SUMMARY_TAGS |= {"tr", "th", "td"}


def test_markdown_escapes_what_a_pull_request_puts_in_it(check_report: Report) -> None:
    hostile = "@org/everyone <!-- [x](https://evil.example) `|` -->"
    finding = replace(
        check_report.new[0], path=f"app/{hostile}.py", concept=hostile, message=f"`{hostile}`"
    )
    page = render_markdown(render(replace(check_report, new=[finding]), "markdown"))
    assert set(page.tags) <= SUMMARY_TAGS, page.tags
    assert not LIVE_TEXT.search("".join(page.text))
    assert any(code.startswith(f"app/{hostile}.py:") for code in page.code)


def test_markdown_that_fits_has_no_not_shown_line(check_report: Report) -> None:
    assert "not shown" not in render(check_report, "markdown")


def test_markdown_is_cut_under_max_chars_and_says_how_many_are_not_shown(
    findings: FindingsFn,
) -> None:
    report = build_scan_report(many_findings(findings, 120), TOTALS, files=1)
    md = render(report, "markdown", verbose=True, max_chars=5_000)
    assert len(md) <= 5_000
    listed = [line for line in md.splitlines() if line.startswith("- ")]
    match = re.search(r"^_(\d[\d,]*) more findings not shown\._$", md, flags=re.M)
    assert match is not None and md.endswith(match.group(0) + "\n")
    assert listed and len(listed) + int(match.group(1).replace(",", "")) == 120


def test_markdown_stays_under_githubs_limit_by_default(findings: FindingsFn) -> None:
    report = build_scan_report(many_findings(findings, 400), TOTALS, files=1)
    full = markdown.render(report, verbose=True, max_chars=10_000_000)
    assert len(full) > markdown.MAX_CHARS, "the test needs a report larger than the limit"
    md = render(report, "markdown", verbose=True)
    assert markdown.MAX_CHARS == 65_535
    assert len(md) <= 65_535
    assert "more findings not shown._" in md


@pytest.mark.parametrize("max_chars", [1_000, 1_001, 1_500, 2_345, 4_096])
def test_markdown_never_exceeds_max_chars(findings: FindingsFn, max_chars: int) -> None:
    report = build_scan_report(many_findings(findings, 40), TOTALS, files=1)
    assert len(render(report, "markdown", verbose=True, max_chars=max_chars)) <= max_chars


def test_markdown_cuts_a_table_that_does_not_fit(check_report: Report) -> None:
    totals = [ConceptTotal(f"concept-{i}", "SSOT002", 1000 + i, 1) for i in range(200)]
    md = render(replace(check_report, totals=totals), "markdown", max_chars=3_000)
    assert len(md) <= 3_000
    assert re.search(r"^_\d+ more rows not shown\._$", md, flags=re.M)


def test_markdown_refuses_a_limit_too_small_for_its_summary(check_report: Report) -> None:
    with pytest.raises(ValueError, match="max_chars"):
        render(check_report, "markdown", max_chars=100)


# -- the dispatcher ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_text_ending_with_a_newline(check_report: Report, fmt: str) -> None:
    out = render(check_report, fmt)
    assert out.endswith("\n") and len(out) > 1


def test_render_names_the_known_formats_for_an_unknown_one(check_report: Report) -> None:
    with pytest.raises(ValueError, match="text, json, sarif, github, markdown"):
        render(check_report, "xml")


def test_json_and_sarif_modules_are_what_render_uses(check_report: Report) -> None:
    assert render(check_report, "json") == json_format.render(check_report)
    assert render(check_report, "sarif") == sarif.render(check_report)


def test_plural_counts_with_a_regular_or_an_irregular_plural() -> None:
    from analyzers.report.text import plural

    assert [plural(n, "file") for n in (0, 1, 1058)] == ["0 files", "1 file", "1,058 files"]
    assert [plural(n, "fix", "fixes") for n in (1, 2)] == ["1 fix", "2 fixes"]
