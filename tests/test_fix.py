"""Automatic fixes for SSOT001 (canonical imports) and SSOT003 (canonical event payloads).

Each fix replaces whole lines; applied, the file still parses and the engine no longer
reports what was fixed. The last tests check that on a few hundred generated snippets.
"""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from collections import Counter
from textwrap import dedent

import pytest

from analyzers.engine import analyze
from analyzers.findings import Finding, Fix
from analyzers.fix import apply_fixes, attach_fixes
from analyzers.lines import split_lines
from analyzers.policy import Policy
from analyzers.policy_loader import load_policy

UM = "netra_backend.app.websocket_core.unified_manager"
FACTORY = "netra_backend.app.websocket_core.websocket_manager_factory"
CORE = "netra_backend.app.websocket_core"
CANONICAL = "netra_backend.app.websocket_core.websocket_manager"
FIXED = f"from {CANONICAL} import WebSocketManager"

POLICY_TOML = f"""
version = 1

[[concept]]
name = "websocket-manager"
canonical = "{CANONICAL}.WebSocketManager"
deprecated = [
  "{UM}.UnifiedWebSocketManager",
  "{FACTORY}.*",
  "{CORE}.WebSocketManager",
]
allowed_in = ["netra_backend/app/websocket_core/websocket_manager.py"]

[[event_schema]]
name = "golden-path"
events = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]
event_key = "event_type"
legacy_keys = {{ type = "event_type", user = "user_id", time = "timestamp", thread = "thread_id" }}
required = ["event_type", "timestamp", "user_id", "thread_id", "data"]
optional = ["run_id", "message_id"]
timestamp = "number"
"""

POLICY = load_policy(POLICY_TOML).policy
SERVICE = "netra_backend/app/services/handler.py"
IN_CORE = "netra_backend/app/websocket_core/handler.py"


def run_fixes(text: str, path: str = SERVICE, policy: Policy = POLICY) -> tuple[list[Finding], str]:
    """The findings of ``text`` with their fixes, and ``text`` with every fix applied."""
    findings = attach_fixes(path, text, analyze(path, text, policy).findings, policy)
    return findings, apply_fixes(text, [f.fix for f in findings if f.fix is not None])


def fixed(text: str, path: str = SERVICE) -> str:
    """``text`` (dedented) after every fix, checked to parse and to hold no fixed finding."""
    findings, result = run_fixes(dedent(text), path)
    ast.parse(result)
    left = {f.fingerprint for f in analyze(path, result, POLICY).active}
    assert not left & {f.fingerprint for f in findings if f.fix is not None}
    return result


# --- the module itself ----------------------------------------------------------------------


def test_importing_the_fix_module_does_not_import_libcst() -> None:
    code = "import sys, analyzers.fix, analyzers.engine; print('libcst' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- SSOT001: imports -------------------------------------------------------------------------


def test_deprecated_import_is_rewritten_keeping_the_local_name() -> None:
    result = fixed(f"from {UM} import UnifiedWebSocketManager\nm = UnifiedWebSocketManager()\n")
    assert result == f"{FIXED} as UnifiedWebSocketManager\nm = UnifiedWebSocketManager()\n"


def test_the_canonical_name_needs_no_alias() -> None:
    assert fixed(f"from {CORE} import WebSocketManager\n") == f"{FIXED}\n"


def test_an_existing_alias_is_kept() -> None:
    assert (
        fixed(f"from {UM} import UnifiedWebSocketManager as Manager\n") == f"{FIXED} as Manager\n"
    )


def test_an_alias_that_is_the_canonical_name_is_dropped() -> None:
    assert fixed(f"from {UM} import UnifiedWebSocketManager as WebSocketManager\n") == f"{FIXED}\n"


def test_an_explicit_re_export_marker_is_kept() -> None:
    text = f"from {CORE} import WebSocketManager as WebSocketManager\n"
    assert fixed(text) == f"{FIXED} as WebSocketManager\n"


def test_a_statement_binding_one_name_twice_gets_no_fix() -> None:
    # The last binding wins; splitting the statement would change which one that is.
    findings, _ = run_fixes(f"from {UM} import UnifiedWebSocketManager as M, helper as M\n")
    assert findings and findings[0].fix is None


def test_only_deprecated_names_move_out_of_a_shared_statement() -> None:
    result = fixed(f"from {UM} import helper, UnifiedWebSocketManager, Other\n")
    assert result == f"from {UM} import helper, Other\n{FIXED} as UnifiedWebSocketManager\n"


def test_several_deprecated_names_of_one_statement_share_one_fix() -> None:
    text = f"from {UM} import UnifiedWebSocketManager as A, helper, UnifiedWebSocketManager as B\n"
    findings, result = run_fixes(text)
    fixes = {f.fix for f in findings}
    assert len(findings) == 2 and len(fixes) == 1 and None not in fixes
    assert result == f"from {UM} import helper\n{FIXED} as A, WebSocketManager as B\n"


def test_every_name_deprecated_rewrites_the_statement_in_place() -> None:
    text = f"from {FACTORY} import WebSocketManager as A, WebSocketManager as B  # both\n"
    assert fixed(text) == f"{FIXED} as A, WebSocketManager as B  # both\n"


def test_relative_import_becomes_the_absolute_canonical_import() -> None:
    text = "from .unified_manager import UnifiedWebSocketManager\nfrom . import WebSocketManager as W\n"
    assert fixed(text, IN_CORE) == f"{FIXED} as UnifiedWebSocketManager\n{FIXED} as W\n"


def test_two_dot_relative_import() -> None:
    text = "from ..websocket_core.unified_manager import UnifiedWebSocketManager\n"
    assert fixed(text, IN_CORE) == f"{FIXED} as UnifiedWebSocketManager\n"


def test_import_in_a_type_checking_block_keeps_its_indentation() -> None:
    text = f"""\
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from {UM} import helper, UnifiedWebSocketManager
        x = 1
    """
    assert fixed(text) == dedent(f"""\
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from {UM} import helper
            {FIXED} as UnifiedWebSocketManager
        x = 1
    """)


def test_one_line_type_checking_block_gets_the_new_import_on_the_same_line() -> None:
    text = f"if TYPE_CHECKING: from {UM} import helper, UnifiedWebSocketManager\n"
    assert (
        fixed(text)
        == f"if TYPE_CHECKING: from {UM} import helper; {FIXED} as UnifiedWebSocketManager\n"
    )


def test_import_error_fallback_is_rewritten() -> None:
    text = f"""\
        try:
            {FIXED}
        except ImportError:
            from {UM} import UnifiedWebSocketManager as WebSocketManager
    """
    assert fixed(text) == dedent(f"""\
        try:
            {FIXED}
        except ImportError:
            {FIXED}
    """)


def test_fallback_on_the_except_line_itself_is_rewritten() -> None:
    text = f"try:\n    import fast\nexcept ImportError: from {CORE} import WebSocketManager\n"
    assert fixed(text) == f"try:\n    import fast\nexcept ImportError: {FIXED}\n"


def test_import_inside_a_method() -> None:
    text = f"""\
        class Client:
            def connect(self):
                from {UM} import UnifiedWebSocketManager
                return UnifiedWebSocketManager()
    """
    assert f"        {FIXED} as UnifiedWebSocketManager\n" in fixed(text)


def test_trailing_comment_stays_on_the_line() -> None:
    text = f"from {UM} import UnifiedWebSocketManager  # noqa: F401 keep\n"
    assert fixed(text) == f"{FIXED} as UnifiedWebSocketManager  # noqa: F401 keep\n"


def test_comments_in_a_parenthesised_import_are_kept() -> None:
    text = f"""\
        from {UM} import (
            UnifiedWebSocketManager,  # the old one
            helper,  # still here
        )
    """
    assert fixed(text) == dedent(f"""\
        from {UM} import (
            helper,  # still here
        )
        {FIXED} as UnifiedWebSocketManager  # the old one
    """)


def test_parenthesised_import_of_only_deprecated_names_keeps_its_layout() -> None:
    text = f"""\
        from {FACTORY} import (
            WebSocketManager,  # canonical name already
        )
    """
    assert fixed(text) == dedent(f"""\
        from {CANONICAL} import (
            WebSocketManager,  # canonical name already
        )
    """)


def test_windows_line_endings_are_kept() -> None:
    text = f"import os\r\nfrom {UM} import helper, UnifiedWebSocketManager\r\nx = 1\r\n"
    assert (
        fixed(text)
        == f"import os\r\nfrom {UM} import helper\r\n{FIXED} as UnifiedWebSocketManager\r\nx = 1\r\n"
    )


def test_deprecated_module_name_other_than_the_concept_gets_no_fix() -> None:
    findings, result = run_fixes(f"from {FACTORY} import create_manager, WebSocketManager\n")
    assert [(f.matched.rpartition(" ")[2], f.fix is not None) for f in findings] == [
        ("create_manager", False),
        ("WebSocketManager", True),
    ]
    assert result == f"from {FACTORY} import create_manager\n{FIXED}\n"


@pytest.mark.parametrize(
    "text",
    [
        f"import {UM} as um\nx = um.UnifiedWebSocketManager\n",
        f"from {UM} import *\n",
        f"import {FACTORY}\n",
        f"from {CORE} import websocket_manager_factory\n",
    ],
    ids=["attribute-use", "star-import", "import-module", "deprecated-module-itself"],
)
def test_no_fix_where_the_replacement_is_unknown(text: str) -> None:
    findings, result = run_fixes(text)
    assert findings and all(f.fix is None for f in findings)
    assert result == text


def test_suppressed_finding_gets_no_fix() -> None:
    text = (
        f"from {UM} import UnifiedWebSocketManager  # ssot: ignore[SSOT001] migration next sprint\n"
    )
    findings, _ = run_fixes(text)
    assert findings[0].suppressed and findings[0].fix is None


def test_fix_in_a_file_with_a_byte_order_mark() -> None:
    findings, result = run_fixes(f"\ufefffrom {UM} import UnifiedWebSocketManager\n")
    assert findings[0].fix is not None
    assert result == f"\ufeff{FIXED} as UnifiedWebSocketManager\n"


def test_two_concepts_in_one_statement_each_get_their_canonical_import() -> None:
    policy = load_policy(
        dedent("""
        [[concept]]
        name = "manager"
        canonical = "core.managers.Manager"
        deprecated = ["legacy.stuff.OldManager"]

        [[concept]]
        name = "emitter"
        canonical = "core.events.Emitter"
        deprecated = ["legacy.stuff.OldEmitter"]
        """)
    ).policy
    text = "from legacy.stuff import OldManager, OldEmitter as E\n"
    findings, result = run_fixes(text, "app/x.py", policy)
    assert all(f.fix is not None for f in findings)
    assert (
        result
        == "from core.managers import Manager as OldManager\nfrom core.events import Emitter as E\n"
    )


# --- SSOT003: payloads ----------------------------------------------------------------------


def test_legacy_keys_are_renamed_and_isoformat_becomes_timestamp() -> None:
    text = 'p = {"type": "agent_started", "time": now.isoformat(), "user": uid, "thread": tid, "data": {}}\n'
    assert fixed(text) == (
        'p = {"event_type": "agent_started", "timestamp": now.timestamp(), "user_id": uid, "thread_id": tid, "data": {}}\n'
    )


def test_other_top_level_keys_move_under_a_new_data_key() -> None:
    text = 'await ws.send_json({"type": "agent_started", "timestamp": t, "user_id": u, "thread_id": th, "agent_name": n, "step": 1})  # go\n'
    assert fixed(text) == (
        'await ws.send_json({"event_type": "agent_started", "timestamp": t, "user_id": u, "thread_id": th, '
        '"data": {"agent_name": n, "step": 1}})  # go\n'
    )


def test_other_top_level_keys_merge_into_an_existing_data_dict() -> None:
    text = "emit({'event_type': 'tool_executing', 'timestamp': t, 'user_id': u, 'thread_id': th, 'data': {'a': 1}, 'tool': name}, room)\n"
    assert fixed(text) == (
        "emit({'event_type': 'tool_executing', 'timestamp': t, 'user_id': u, 'thread_id': th, 'data': {'a': 1, 'tool': name}}, room)\n"
    )


def test_multi_line_payload_keeps_one_key_per_line() -> None:
    text = """\
        def started(now, uid, tid):
            return {
                "type": "agent_started",
                "time": now.isoformat(),  # when
                "user": uid,
                "thread": tid,
                "agent_name": "triage",
                "attempt": 2,
            }
    """
    assert fixed(text) == dedent("""\
        def started(now, uid, tid):
            return {
                "event_type": "agent_started",
                "timestamp": now.timestamp(),  # when
                "user_id": uid,
                "thread_id": tid,
                "data": {"agent_name": "triage", "attempt": 2},
            }
    """)


def test_dict_call_payload() -> None:
    text = 'p = dict(type="tool_completed", time=time.time(), user=u, thread_id=t, result=r, data=dict(ok=True))\n'
    assert fixed(text) == (
        'p = dict(event_type="tool_completed", timestamp=time.time(), user_id=u, thread_id=t, data=dict(ok=True, result=r))\n'
    )


def test_only_data_missing_gets_an_empty_data_dict() -> None:
    text = 'p = {"event_type": "agent_completed", "timestamp": 1.5, "user_id": u, "thread_id": t}\n'
    assert (
        fixed(text)
        == 'p = {"event_type": "agent_completed", "timestamp": 1.5, "user_id": u, "thread_id": t, "data": {}}\n'
    )


def test_two_payloads_on_one_line_are_fixed_together() -> None:
    text = 'pair = ({"type": "agent_started", "timestamp": 1, "user_id": u, "thread_id": t, "data": {}}, {"type": "agent_completed", "timestamp": 2, "user_id": u, "thread_id": t, "data": {}})\n'
    findings, result = run_fixes(text)
    assert len(findings) == 2 and findings[0].fix == findings[1].fix is not None
    assert result.count('"event_type"') == 2 and '"type"' not in result


@pytest.mark.parametrize(
    "payload",
    [
        '{"type": "agent_started", "time": now.isoformat(), "user": uid}',  # thread_id missing
        '{"type": "agent_started", "time": "2024-01-01T00:00:00", "user": uid, "thread": t, "data": {}}',
        '{"type": "agent_started", "time": now.strftime("%s"), "user": uid, "thread": t, "data": {}}',
        '{"type": "agent_started", "time": f"{now}", "user": uid, "thread": t, "data": {}}',
        '{"type": "agent_started", "time": datetime.utcnow().isoformat(), "user": uid, "thread": t, "data": {}}',
        '{"type": "agent_started", "event_type": "agent_started", "timestamp": 1, "user": uid, "thread": t, "data": {}}',
        '{"type": "agent_started", "timestamp": 1, "user": uid, "thread": t, "data": extra, "step": 2}',
        '{"type": "agent_started", "timestamp": 1, "user": uid, "thread": t, "data": {"step": 1}, "step": 2}',
    ],
    ids=[
        "required-key-missing",
        "string-literal-timestamp",
        "strftime-timestamp",
        "f-string-timestamp",
        "naive-utcnow",
        "legacy-and-canonical-key-both-present",
        "data-is-not-a-literal",
        "key-already-in-data",
    ],
)
def test_no_payload_fix_when_the_result_could_not_be_canonical(payload: str) -> None:
    findings, _ = run_fixes(f"send({payload})\n")
    assert findings and all(f.fix is None for f in findings)


def test_a_rewrite_that_does_not_parse_is_never_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    import analyzers.fix

    monkeypatch.setattr(
        analyzers.fix, "_rewrite_imports", lambda lines, region: "from broken import (\n"
    )
    findings, _ = run_fixes(f"from {UM} import UnifiedWebSocketManager\n")
    assert findings and findings[0].fix is None


def test_a_rewrite_that_leaves_the_finding_is_never_offered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import analyzers.fix

    monkeypatch.setattr(
        analyzers.fix, "_rewrite_payloads", lambda code, schemas: code.replace("user", "usr")
    )
    findings, _ = run_fixes(
        'p = {"type": "agent_started", "timestamp": 1, "user": u, "thread_id": t, "data": {}}\n'
    )
    assert findings and findings[0].fix is None


# --- apply_fixes ------------------------------------------------------------------------------


def test_apply_fixes_works_bottom_up_and_skips_overlaps() -> None:
    text = "a\nb\nc\nd\n"
    fixes = [
        Fix("one", 1, 1, "A\n"),
        Fix("three-four", 3, 4, "CD\n"),
        Fix("overlaps three-four", 2, 3, "BC\n"),
        Fix("one", 1, 1, "A\n"),
    ]
    assert apply_fixes(text, fixes) == "A\nb\nCD\n"


def test_apply_fixes_ignores_fixes_outside_the_file() -> None:
    assert apply_fixes("a\n", [Fix("far", 3, 3, "x\n"), Fix("backwards", 1, 0, "x\n")]) == "a\n"


def test_lines_are_split_where_python_splits_them() -> None:
    assert split_lines("a\fb\r\nc\rd\ne") == ["a\fb\r\n", "c\r", "d\n", "e"]


# --- round trip over generated snippets -------------------------------------------------------

IMPORT_NAMES = {
    UM: ["UnifiedWebSocketManager", "helper", "Registry"],
    CORE: ["WebSocketManager", "other", "unified_manager"],
    FACTORY: ["WebSocketManager", "create_manager"],
    CANONICAL: ["WebSocketManager", "ConnectionInfo"],
    ".unified_manager": ["UnifiedWebSocketManager", "helper"],
    ".": ["WebSocketManager", "unified_manager"],
    ".websocket_manager_factory": ["WebSocketManager", "create_manager"],
}
FIXABLE_NAMES = {"UnifiedWebSocketManager", "WebSocketManager"}


def import_statement(rng: random.Random, in_core: bool) -> str:
    modules = [m for m in IMPORT_NAMES if in_core or not m.startswith(".")]
    module = rng.choice(modules)
    names = rng.sample(IMPORT_NAMES[module], k=rng.randint(1, len(IMPORT_NAMES[module])))
    parts = []
    bound: set[str] = set(names)
    for i, name in enumerate(names):
        alias = rng.choice(["", "", f" as Alias{i}", " as WebSocketManager"])
        if alias.endswith(" WebSocketManager") and "WebSocketManager" in bound - {name}:
            alias = ""  # a statement binding one name twice is not a case to fix
        bound.add(alias.rpartition(" ")[2])
        parts.append(name + alias)
    comment = rng.choice(["", "  # why", "  # noqa: F401"])
    layout = rng.choice(["line", "parens", "lines", "lines-commented"])
    if layout == "line":
        return f"from {module} import {', '.join(parts)}{comment}"
    if layout == "parens":
        return f"from {module} import ({', '.join(parts)}){comment}"
    sep = ",  # note\n    " if layout == "lines-commented" else ",\n    "
    trailing = rng.choice([",", ""])
    return f"from {module} import (\n    {sep.join(parts)}{trailing}\n){comment}"


def in_context(rng: random.Random, statement: str) -> str:
    one_line = "\n" not in statement
    contexts = ["module", "def", "method", "type-checking", "try", "except"]
    if one_line:
        contexts += ["one-line-if", "one-line-except"]
    context = rng.choice(contexts)

    def indent(text: str, prefix: str) -> str:
        return "\n".join(prefix + line for line in text.split("\n"))

    if context == "module":
        return statement + "\n"
    if context == "def":
        return "def handler():\n" + indent(statement, "    ") + "\n    return None\n"
    if context == "method":
        return (
            "class Client:\n    def run(self):\n"
            + indent(statement, "        ")
            + "\n        pass\n"
        )
    if context == "type-checking":
        return "if TYPE_CHECKING:\n" + indent(statement, "    ") + "\n"
    if context == "try":
        return "try:\n" + indent(statement, "    ") + "\nexcept ImportError:\n    pass\n"
    if context == "except":
        return "try:\n    import fast\nexcept ImportError:\n" + indent(statement, "    ") + "\n"
    if context == "one-line-if":
        return f"if TYPE_CHECKING: {statement}\n"
    return f"try:\n    import fast\nexcept ImportError: {statement}\n"


EVENTS = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]


def payload_snippet(rng: random.Random) -> tuple[str, bool]:
    """A payload (maybe legacy) in some statement, and whether a fix must be offered for it."""
    call = rng.random() < 0.3
    fixable = True
    items: list[tuple[str, str]] = [(rng.choice(["type", "event_type"]), repr(rng.choice(EVENTS)))]
    time_value = rng.choice(
        [
            *("now.isoformat()", "now.isoformat()", "time.time()", "time.time()"),
            *("'2024-01-01'", "now.strftime('%s')", "datetime.utcnow().isoformat()", None),
        ]
    )
    if time_value is None or time_value in (
        "'2024-01-01'",
        "now.strftime('%s')",
        "datetime.utcnow().isoformat()",
    ):
        fixable = False
    if time_value is not None:
        items.append((rng.choice(["time", "timestamp"]), time_value))
    for legacy, canonical in (("user", "user_id"), ("thread", "thread_id")):
        if rng.random() < 0.9:
            items.append((rng.choice([legacy, canonical]), canonical[:1]))
        else:
            fixable = False
    strays = rng.sample(["agent_name", "tool", "result"], k=rng.randint(0, 2))
    items += [(s, repr(s.upper())) for s in strays]
    data = rng.choice(["none", "dict", "call", "name"])
    if data == "dict":
        items.append(("data", "{'seen': 1}" if not call else "dict(seen=1)"))
    elif data == "call":
        items.append(("data", "dict(seen=1)"))
    elif data == "name":
        items.append(("data", "extra"))
        fixable = fixable and not strays
    rng.shuffle(items)
    quote = rng.choice(["'", '"'])
    if call:
        entries = [f"{k}={v}" for k, v in items]
        opening, closing = "dict(", ")"
    else:
        entries = [f"{quote}{k}{quote}: {v}" for k, v in items]
        opening, closing = "{", "}"
    if rng.random() < 0.5:
        body = opening + ", ".join(entries) + closing
    else:
        trailing = rng.choice([",", ""])
        body = opening + "\n        " + ",\n        ".join(entries) + trailing + "\n    " + closing
    statement = rng.choice(
        ["payload = {}", "await ws.send_json({})", "return {}", "emit('x', {}, room=room)  # sent"]
    )
    return "async def send(ws, now, room):\n    " + statement.format(body) + "\n", fixable


def assert_round_trip(path: str, text: str) -> list[Finding]:
    """Every offered fix, alone and all together, parses and removes what it claims to."""
    findings = attach_fixes(path, text, analyze(path, text, POLICY).findings, POLICY)
    for finding in findings:
        fix = finding.fix
        if fix is None:
            continue
        result = apply_fixes(text, [fix])
        ast.parse(result)
        new_end = fix.start_line + len(split_lines(fix.replacement)) - 1
        left = [
            f.fingerprint
            for f in analyze(path, result, POLICY).active
            if f.rule == finding.rule and fix.start_line <= f.line <= new_end
        ]
        # What stays on the rewritten lines is only what this fix did not claim to fix.
        others = [
            f.fingerprint
            for f in findings
            if f.rule == finding.rule and fix.start_line <= f.line <= fix.end_line and f.fix != fix
        ]
        assert not Counter(left) - Counter(others), (text, fix)
    result = apply_fixes(text, [f.fix for f in findings if f.fix is not None])
    ast.parse(result)
    unfixed = Counter(f.fingerprint for f in findings if f.fix is None and f.suppressed is None)
    remaining = Counter(f.fingerprint for f in analyze(path, result, POLICY).active)
    assert not remaining - unfixed, (text, result)
    return findings


@pytest.mark.parametrize("seed", range(0, 300, 25))
def test_import_fixes_round_trip_on_generated_snippets(seed: int) -> None:
    offered = 0
    for case in range(seed, seed + 25):
        rng = random.Random(case)
        in_core = rng.random() < 0.4
        path = IN_CORE if in_core else SERVICE
        text = "from typing import TYPE_CHECKING\n" + "".join(
            in_context(rng, import_statement(rng, in_core)) for _ in range(rng.randint(1, 3))
        )
        for finding in assert_round_trip(path, text):
            name = finding.matched.split(" import ")[1].split(" as ")[0]
            # Every deprecated import of the concept's own names gets a fix; nothing else does.
            assert (finding.fix is not None) == (name in FIXABLE_NAMES), (case, text, finding)
            offered += finding.fix is not None
    assert offered > 10


@pytest.mark.parametrize("seed", range(0, 300, 25))
def test_payload_fixes_round_trip_on_generated_snippets(seed: int) -> None:
    offered = 0
    for case in range(seed, seed + 25):
        rng = random.Random(case)
        text, fixable = payload_snippet(rng)
        findings = [f for f in assert_round_trip(SERVICE, text) if f.rule == "SSOT003"]
        if findings:
            assert (findings[0].fix is not None) == fixable, (case, text)
            offered += findings[0].fix is not None
    assert offered >= 5
