"""The engine around the rules: unanalysable files, the prefilter, fingerprints, severities."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from textwrap import dedent

import pytest

from analyzers import Finding, Policy, analyze
from analyzers.triggers import triggers_for

FindingsFn = Callable[..., list[Finding]]
PolicyFn = Callable[[str], Policy]

OLD = "netra_backend.app.websocket_core.unified_manager"
OLD_IMPORT = f"from {OLD} import UnifiedWebSocketManager"


def fingerprints(findings: list[Finding]) -> list[str]:
    return [f.fingerprint for f in findings]


# SSOT900: files the engine cannot read as Python


def test_syntax_error_near_a_trigger_gives_ssot900_with_its_line(findings: FindingsFn) -> None:
    text = f"import os\n\ndef connect(:\n    {OLD_IMPORT}\n"
    [finding] = findings(text)
    assert (finding.rule, finding.line) == ("SSOT900", 3)
    assert finding.message.startswith("file cannot be analysed: syntax error:")
    assert "(line 3)" in finding.message


def test_ssot900_takes_the_severity_of_the_policy(findings: FindingsFn) -> None:
    [finding] = findings(f"{OLD_IMPORT}(\n")
    assert (finding.rule, finding.severity, finding.blocking) == ("SSOT900", "warn", False)


def test_non_utf8_file_gives_ssot900(policy: Policy) -> None:
    data = f"# caf\xe9\n{OLD_IMPORT}\n".encode("latin-1")
    [finding] = analyze("pkg/mod.py", data, policy).findings
    assert (finding.rule, finding.message) == (
        "SSOT900",
        "file cannot be analysed: not UTF-8 (byte 5)",
    )


def test_nul_byte_gives_ssot900(policy: Policy) -> None:
    data = f"{OLD_IMPORT}\n".encode() + b"\0"
    [finding] = analyze("pkg/mod.py", data, policy).findings
    assert finding.message == "file cannot be analysed: binary content (NUL byte)"


def test_file_over_max_file_size_gives_ssot900(policy: Policy) -> None:
    data = f"{OLD_IMPORT}\n".encode()
    small = replace(policy, max_file_size=len(data) - 1)
    [finding] = analyze("pkg/mod.py", data, small).findings
    assert finding.rule == "SSOT900"
    assert "over the size limit" in finding.message


def test_file_of_exactly_max_file_size_is_analysed(policy: Policy) -> None:
    data = f"{OLD_IMPORT}\n".encode()
    exact = replace(policy, max_file_size=len(data))
    assert [f.rule for f in analyze("pkg/mod.py", data, exact).findings] == ["SSOT001"]


def test_encoding_is_checked_even_in_a_file_without_triggers(policy: Policy) -> None:
    result = analyze("pkg/mod.py", b"x = '\xff'\n", policy)
    assert [f.rule for f in result.findings] == ["SSOT900"]


def test_file_without_triggers_returns_no_findings_and_is_not_a_candidate(policy: Policy) -> None:
    result = analyze("pkg/mod.py", b"import os\n\ndef broken(:\n", policy)
    assert (result.findings, result.candidate) == ([], False)


def test_file_with_a_relevant_trigger_but_nothing_wrong_is_parsed(policy: Policy) -> None:
    # A canonical payload names a golden-path event as a value: it must be parsed to know.
    data = b'x = {"event_type": "agent_started", "timestamp": 1.0, "user_id": "u", "thread_id": "t", "data": {}}\n'
    result = analyze("pkg/mod.py", data, policy)
    assert (result.findings, result.candidate) == ([], True)


def test_canonical_import_alone_is_not_parsed(policy: Policy) -> None:
    # The trigger literals stand only on the canonical path: no rule can find anything.
    data = b"from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"
    result = analyze("pkg/mod.py", data, policy)
    assert (result.findings, result.candidate) == ([], False)


def test_event_names_in_a_list_are_not_parsed(policy: Policy) -> None:
    data = b'EVENTS = [\n    "agent_started",\n    "agent_completed",\n]\n'
    result = analyze("pkg/mod.py", data, policy)
    assert (result.findings, result.candidate) == ([], False)


def test_other_submodules_of_a_deprecated_package_are_not_parsed(policy: Policy) -> None:
    data = b"from netra_backend.app.websocket_core.auth import verify\n"
    assert analyze("pkg/mod.py", data, policy).candidate is False


def test_a_parameter_annotated_with_a_concept_s_class_is_not_parsed(policy: Policy) -> None:
    # A def's parameters import and assign nothing: the commonest continuation line that
    # names a concept's class (a third of the files parsed in vain on a real tree).
    data = b"def connect(\n    manager: UnifiedWebSocketManager,\n    user_id: str,\n) -> None:\n    pass\n"
    assert analyze("pkg/mod.py", data, policy).candidate is False


SYMBOL = "UnifiedWebSocketManager"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"from .compat import (\n    {SYMBOL},\n)\n", True),
        (f"from .compat import a, \\\n    {SYMBOL}\n", True),
        (f"Alias = (\n    {SYMBOL}\n)\n", True),
        (f"from .. import (  # legacy\n    {SYMBOL},\n)\n", True),
        (f"from .. import (\n    # legacy\n\n    {SYMBOL},\n)\n", True),
        (f"handlers = {{\n    'ws': 1,\n    name: {SYMBOL},\n}}\n", True),
        # A bracket in a string or a comment is not read: such a line is kept.
        (f'def connect(x="(",\n    manager: {SYMBOL},\n):\n    pass\n', True),
        (f"def connect(  # the (old) one\n    manager: {SYMBOL},\n):\n    pass\n", True),
        (f"def connect(\n    manager: {SYMBOL},\n):\n    pass\n", False),
        (f"async def connect(\n    self, manager: {SYMBOL} | None,\n):\n    pass\n", False),
        (f"def connect(\n    manager: dict[\n        str, {SYMBOL}],\n):\n    pass\n", False),
        (f"class Handler(\n    Base,\n    Generic[{SYMBOL}],\n):\n    pass\n", False),
    ],
    ids=[
        "parenthesised import",
        "backslashed import",
        "assignment",
        "comment after the parenthesis",
        "comment line inside the parentheses",
        "dict item",
        "string before",
        "comment before",
        "parameter",
        "async parameters",
        "inside a subscript",
        "class bases",
    ],
)
def test_a_continuation_line_naming_a_symbol_is_kept_unless_it_is_a_def_or_class_header(
    policy: Policy, text: str, kept: bool
) -> None:
    line = next(i for i, ln in enumerate(text.splitlines()) if SYMBOL in ln)
    hit_lines = {text.count("\n", 0, pos) for pos, _ in triggers_for(policy).hits(text)}
    assert (line in hit_lines) is kept


CORE = "from netra_backend.app.websocket_core import"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"{CORE} websocket_manager\n", False),
        (f"{CORE} websocket_manager as wm, auth  # the new ones\n", False),
        (f"{CORE} WebSocketManager\n", True),
        (f"{CORE} websocket_manager as wm, unified_manager\n", True),
        (f"{CORE} (\n    websocket_manager,\n)\n", True),
        (f"{CORE} websocket_manager, \\\n    unified_manager\n", True),
        (f"{CORE} *\n", True),
        (f"{CORE} websocket_manager; import os\n", True),
        (f"{CORE} websocket_manager,\n", True),  # a syntax error is parsed, and reported
    ],
    ids=[
        "another module",
        "others, aliased, with a comment",
        "a deprecated name",
        "one deprecated among others",
        "parenthesised",
        "backslashed",
        "star",
        "a second statement",
        "trailing comma",
    ],
)
def test_a_from_import_of_a_deprecated_path_s_package_is_kept_when_it_may_take_a_deprecated_name(
    policy: Policy, text: str, kept: bool
) -> None:
    assert any(pos < text.index("\n") for pos, _ in triggers_for(policy).hits(text)) is kept
    if not kept:  # and what is not parsed has nothing to find
        assert analyze("pkg/mod.py", text, policy, full_parse=True).findings == []


@pytest.mark.parametrize(
    "text",
    [
        "from .. import (  # legacy\n    WebSocketManager,\n)\n",
        "from .. import (\n    # legacy\n    WebSocketManager,\n)\n",
    ],
    ids=["after the parenthesis", "a line of its own"],
)
def test_a_comment_in_an_import_s_parentheses_hides_no_deprecated_name(
    policy: Policy, text: str
) -> None:
    # `..` is netra_backend.app.websocket_core: the name alone says it is the deprecated path.
    path = "netra_backend/app/websocket_core/sub/mod.py"
    assert [f.rule for f in analyze(path, text, policy).findings] == ["SSOT001"]


def test_utf8_bom_file_is_analysed_with_columns_of_the_text_after_it(policy: Policy) -> None:
    data = b"\xef\xbb\xbf" + f"{OLD_IMPORT}\n".encode()
    [finding] = analyze("pkg/mod.py", data, policy).findings
    assert (finding.rule, finding.line, finding.col) == ("SSOT001", 1, len(f"from {OLD} import "))


def test_text_and_bytes_give_the_same_findings(policy: Policy) -> None:
    text = f"def f():\n    {OLD_IMPORT}\n"
    assert (
        analyze("pkg/mod.py", text, policy).findings
        == analyze("pkg/mod.py", text.encode(), policy).findings
    )


def test_invalid_escape_in_analysed_code_emits_no_warning(policy: Policy) -> None:
    text = f"{OLD_IMPORT}\npattern = '\\d+'\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analyze("pkg/mod.py", text.encode(), policy)
        analyze("pkg/mod.py", text.encode(), policy, full_parse=True)
    assert [str(w.message) for w in caught] == []


# Fingerprints: rule + concept + normalised matched text + scope; never line or path


def test_fingerprint_survives_moving_the_code_down_20_lines(findings: FindingsFn) -> None:
    before = findings(f"{OLD_IMPORT}\n")
    after = findings("\n" * 20 + f"{OLD_IMPORT}\n")
    assert (before[0].line, after[0].line) == (1, 21)
    assert fingerprints(before) == fingerprints(after)


def test_fingerprint_survives_reformatting_an_import(findings: FindingsFn) -> None:
    one_line = findings(f"{OLD_IMPORT}\n")
    wrapped = findings(f"from {OLD} import (\n    UnifiedWebSocketManager,\n)\n")
    assert fingerprints(one_line) == fingerprints(wrapped)


def test_fingerprint_survives_reformatting_a_payload(findings: FindingsFn) -> None:
    compact = findings('event = {"type": "agent_started", "user": "u1"}\n')
    spread = findings("event = {\n    'user':   'u1',\n    'type': 'agent_started'\n}\n")
    assert fingerprints(compact) == fingerprints(spread)


def test_fingerprint_survives_a_different_path(findings: FindingsFn) -> None:
    here = findings(f"{OLD_IMPORT}\n", path="pkg/a.py")
    there = findings(f"{OLD_IMPORT}\n", path="other/place/b.py")
    assert fingerprints(here) == fingerprints(there)


def test_fingerprint_changes_with_the_matched_text(findings: FindingsFn) -> None:
    plain = findings(f"{OLD_IMPORT}\n")
    aliased = findings(f"{OLD_IMPORT} as Old\n")
    assert fingerprints(plain) != fingerprints(aliased)


def test_identical_findings_in_one_scope_share_a_fingerprint(findings: FindingsFn) -> None:
    text = f"""\
        def connect():
            {OLD_IMPORT}
            {OLD_IMPORT}
        """
    first, second = findings(text)
    assert (first.line, second.line) == (2, 3)
    assert first.fingerprint == second.fingerprint


def test_identical_findings_in_different_scopes_differ(findings: FindingsFn) -> None:
    text = f"""\
        def connect():
            {OLD_IMPORT}

        def disconnect():
            {OLD_IMPORT}
        """
    first, second = findings(text)
    assert first.fingerprint != second.fingerprint


# Severities


def test_severity_off_drops_the_findings_of_that_rule(
    findings: FindingsFn, make_policy: PolicyFn
) -> None:
    policy = make_policy(
        f"""
        [[concept]]
        name = "websocket-manager"
        canonical = "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"
        deprecated = ["{OLD}.UnifiedWebSocketManager"]
        implementation = {{ name = "(?i)websocket\\\\w*manager" }}

        [rules.SSOT001]
        severity = "off"
        """
    )
    text = f"{OLD_IMPORT}\n\nclass OtherWebSocketManager:\n    pass\n"
    assert [f.rule for f in findings(text, policy=policy)] == ["SSOT002"]


def test_tests_severity_off_drops_only_test_findings(
    findings: FindingsFn, make_policy: PolicyFn
) -> None:
    policy = make_policy(
        """
        [[concept]]
        name = "websocket-manager"
        canonical = "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"
        implementation = { name = "(?i)websocket\\\\w*manager" }

        [rules.SSOT002]
        severity = "block"
        tests = "off"
        """
    )
    text = "class MockWebSocketManager:\n    pass\n\nclass OtherWebSocketManager:\n    pass\n"
    assert [f.matched for f in findings(text, policy=policy)] == ["class OtherWebSocketManager"]


def test_ssot900_off_reports_nothing_for_an_unanalysable_file(make_policy: PolicyFn) -> None:
    policy = make_policy(
        f"""
        [[concept]]
        name = "websocket-manager"
        canonical = "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"
        deprecated = ["{OLD}.UnifiedWebSocketManager"]

        [rules.SSOT900]
        severity = "off"
        """
    )
    result = analyze("pkg/mod.py", dedent(f"{OLD_IMPORT}(\n").encode(), policy)
    assert (result.findings, result.candidate) == ([], True)


def test_prefixed_event_value_is_still_a_payload(policy: Policy) -> None:
    data = b'x = {"type": r"agent_started", "time": "t"}\n'
    [finding] = analyze("pkg/mod.py", data, policy).findings
    assert finding.rule == "SSOT003"
