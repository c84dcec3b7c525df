"""The engine parses only slices around trigger hits; it must find exactly what a whole-file
parse finds.

The differential test runs both paths over the Python standard library with a policy whose
triggers are common there (``os.path.join``, ``typing``, ``read``/``write`` methods, ``"error"``
events), so the slicer meets real code: decorators, nested blocks, continuation lines, strings
of every kind. The hand-written cases after it pin down each trap on its own.
"""

from __future__ import annotations

import ast
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import pytest

from analyzers import Finding, Policy, analyze, load_policy, source, triggers

PolicyFn = Callable[[str], Policy]

STDLIB_POLICY = load_policy(
    dedent(
        """
    [[concept]]
    name = "mapping"
    canonical = "collections.abc.Mapping"
    deprecated = ["os.path.join", "typing.*", "collections.OrderedDict"]
    # ABC and TestCase are named far more often than derived from (abc.ABCMeta, a call of
    # unittest.TestCase.setUp): base hits outside class headers meet real code.
    implementation = { name = "(?i)(handler|reader|writer)$", methods = ["read", "write", "close", "flush"], min_methods = 2, bases = ["abc.ABC", "unittest.TestCase"] }

    [[event_schema]]
    name = "io-events"
    events = ["error", "data", "close", "open"]
    event_key = "type"
    legacy_keys = { kind = "type" }
    required = ["type", "timestamp"]

    # Rare as event names, but logging configurations and test fixtures in the stdlib
    # spell them as dict displays, so SSOT003 has real payloads to report.
    [[event_schema]]
    name = "logging-config"
    events = ["DEBUG", "INFO", "WARNING", "ERROR", "NOTSET"]
    event_key = "level"
    legacy_keys = { lvl = "level" }
    required = ["level", "handlers"]

    [[event_schema]]
    name = "fixtures"
    events = ["bar", "xxx"]
    event_key = "foo"
    required = ["foo", "timestamp"]
    """
    ),
    "stdlib-policy.toml",
).policy
MAX_FILES = 2500


@dataclass
class FileRun:
    """Both paths over one file, and what the slicer had to do."""

    path: str
    full: list[Finding]
    sliced: list[Finding]
    parses_full_file: bool
    slices_parsed: int
    slices_failed: int
    fell_back: bool


STDLIB = Path(sysconfig.get_paths()["stdlib"])


def stdlib_files() -> list[tuple[str, bytes]]:
    paths = sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts)[:MAX_FILES]
    return [(p.relative_to(STDLIB).as_posix(), p.read_bytes()) for p in paths]


def _parses(data: bytes) -> bool:
    try:
        source.parse_quietly(data.decode("utf-8").removeprefix("\ufeff"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return False
    return True


@pytest.fixture(scope="module")
def stdlib_runs() -> list[FileRun]:
    """Every stdlib file analysed sliced and whole; computed once for the tests below."""
    patch = pytest.MonkeyPatch()
    counts = {"slices": 0, "failed": 0, "fallbacks": 0}
    real_source, real_whole = source.Slicer._parse_source, source.parse_whole

    def counting_source(
        self: source.Slicer, code: str, start: int, indent: int
    ) -> list[ast.stmt] | None:
        counts["slices"] += 1
        statements = real_source(self, code, start, indent)
        counts["failed"] += statements is None
        return statements

    def counting_whole(text: str) -> source.ParsedSource:
        counts["fallbacks"] += 1
        return real_whole(text)

    # Only the slicer's own calls are counted: the engine's full_parse path imported
    # parse_whole under its own name.
    patch.setattr(source.Slicer, "_parse_source", counting_source)
    patch.setattr(source, "parse_whole", counting_whole)
    runs = []
    try:
        for path, data in stdlib_files():
            full = analyze(path, data, STDLIB_POLICY, full_parse=True).findings
            counts.update(slices=0, failed=0, fallbacks=0)
            sliced = analyze(path, data, STDLIB_POLICY).findings
            runs.append(
                FileRun(
                    path,
                    full,
                    sliced,
                    _parses(data),
                    counts["slices"],
                    counts["failed"],
                    counts["fallbacks"] > 0,
                )
            )
    finally:
        patch.undo()
    return runs


@pytest.mark.slow
def test_stdlib_differential_compares_a_real_tree_that_exercises_every_rule(
    stdlib_runs: list[FileRun],
) -> None:
    by_rule: dict[str, int] = {}
    for run in stdlib_runs:
        for finding in run.full:
            by_rule[finding.rule] = by_rule.get(finding.rule, 0) + 1
    assert len(stdlib_runs) > 1000
    assert sum(run.slices_parsed for run in stdlib_runs) > 5000
    assert by_rule.get("SSOT001", 0) > 500
    assert by_rule.get("SSOT002", 0) > 50
    assert by_rule.get("SSOT003", 0) > 50


@pytest.mark.slow
def test_sliced_parse_finds_exactly_what_a_whole_file_parse_finds_in_the_stdlib(
    stdlib_runs: list[FileRun],
) -> None:
    mismatches = [
        (
            run.path,
            [(f.rule, f.line, f.col) for f in run.full if f not in run.sliced],
            [(f.rule, f.line, f.col) for f in run.sliced if f not in run.full],
        )
        for run in stdlib_runs
        if run.parses_full_file and run.sliced != run.full
    ]
    assert mismatches == []


@pytest.mark.slow
def test_unparsable_stdlib_file_gives_the_full_parse_ssot900_or_nothing_when_no_parsed_slice_failed(
    stdlib_runs: list[FileRun],
) -> None:
    broken = [run for run in stdlib_runs if not run.parses_full_file]
    assert broken, "the stdlib has test files with syntax errors"
    for run in broken:
        assert [f.rule for f in run.full] == ["SSOT900"], run.path
        if run.sliced != run.full:
            # The sliced path may only differ when the error lies in code it never had to
            # parse: a file whose triggers all sit in strings and comments, or a method body
            # that a class skeleton leaves out. Every region it did parse was valid (one that
            # failed would have widened up to the whole file), so what it reports comes from a
            # valid class skeleton: lib2to3's Python 2 grammar tests declare real TestCase
            # classes whose print statements sit in method bodies the skeleton leaves out.
            assert run.slices_failed == 0, run.path
            source = (STDLIB / run.path).read_text(encoding="utf-8", errors="replace")
            lines = source.splitlines()
            for finding in run.sliced:
                assert finding.rule == "SSOT002", (run.path, finding)
                assert lines[finding.line - 1].lstrip().startswith("class "), (run.path, finding)


@pytest.mark.slow
def test_slicer_never_needs_the_whole_file_fallback_on_valid_stdlib_files(
    stdlib_runs: list[FileRun],
) -> None:
    fell_back = [run.path for run in stdlib_runs if run.parses_full_file and run.fell_back]
    assert fell_back == []


def test_full_parse_reports_the_line_of_a_stdlib_syntax_error() -> None:
    path = (
        Path(sysconfig.get_paths()["stdlib"]) / "lib2to3" / "tests" / "data" / "py2_test_grammar.py"
    )
    if not path.is_file():
        pytest.skip("lib2to3's Python 2 grammar test file is gone from this Python")
    data = path.read_bytes()
    with pytest.raises(SyntaxError) as error:
        source.parse_quietly(data.decode("utf-8"))
    [finding] = analyze("py2_test_grammar.py", data, STDLIB_POLICY, full_parse=True).findings
    assert (finding.rule, finding.line) == ("SSOT900", error.value.lineno)


# Hand-written traps. Each case is analysed both ways (they must agree) and with the slicer's
# whole-file fallback disabled: on valid code the slicer must find the statement itself, or
# these cases would pass through the fallback without testing the slicer at all.


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> source.ParsedSource:
        raise AssertionError("the slicer fell back to a whole-file parse")

    monkeypatch.setattr(source, "parse_whole", refuse)


def both_ways(text: str, policy: Policy, path: str = "pkg/mod.py") -> list[tuple[str, int]]:
    """(rule, line) of each finding, after checking that both paths agree in every field."""
    data = dedent(text).encode("utf-8")
    sliced = analyze(path, data, policy).findings
    full = analyze(path, data, policy, full_parse=True).findings
    assert sliced == full
    return [(f.rule, f.line) for f in sliced]


OLD_IMPORT = "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager"


def test_import_quoted_in_a_module_docstring_at_column_0_is_not_reported(
    no_fallback: None, policy: Policy
) -> None:
    text = f'"""Migration notes.\n\n{OLD_IMPORT}\n"""\n{OLD_IMPORT}\n'
    assert both_ways(text, policy) == [("SSOT001", 5)]


def test_import_in_comments_is_not_reported(no_fallback: None, policy: Policy) -> None:
    text = f"""\
        import json
        # {OLD_IMPORT}
        def f():
            # {OLD_IMPORT}
            return json
        """
    assert both_ways(text, policy) == []


def test_payload_in_a_decorator_argument_is_found(no_fallback: None, policy: Policy) -> None:
    text = """\
        @app.on({"type": "agent_started"})
        def on_start():
            pass
        """
    assert both_ways(text, policy) == [("SSOT003", 1)]


def test_decorated_class_with_multi_line_decorator_is_sliced_whole(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        @dataclass
        @register(
            name="pool",
        )
        class Pool:
            def add_connection(self): ...

            def send_to_user(self): ...
        """
    assert both_ways(text, policy) == [("SSOT002", 5)]


def test_payload_default_in_a_multi_line_signature_with_a_line_at_column_0(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        class Sender:
            def send(
                self,
                payload={"type": "agent_started",
        "user": "u"},
            ):
                return payload
        """
    assert both_ways(text, policy) == [("SSOT003", 4)]


def test_imports_in_elif_and_else_branches_are_found_in_their_function(
    no_fallback: None, policy: Policy
) -> None:
    text = f"""\
        def load(flag):
            if flag == 1:
                pass
            elif flag == 2:
                {OLD_IMPORT}
            else:
                from netra_backend.app.websocket_core.websocket_manager_factory import create
            return flag
        """
    assert both_ways(text, policy) == [("SSOT001", 5), ("SSOT001", 7)]
    assert {
        f.scope_name for f in analyze("pkg/mod.py", dedent(text).encode(), policy).findings
    } == {"load"}


def test_try_except_else_finally_clauses_are_all_reached(no_fallback: None, policy: Policy) -> None:
    text = f"""\
        try:
            import json
        except ImportError:
            {OLD_IMPORT}
        else:
            started = {{"type": "agent_started"}}
        finally:
            done = {{"type": "agent_completed"}}
        """
    assert both_ways(text, policy) == [("SSOT001", 4), ("SSOT003", 6), ("SSOT003", 8)]


def test_with_block_whose_header_continues_with_a_backslash(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        def run(ws):
            with open("a") as a, \\
                    open("b") as b:
                ws.send(json.dumps({"type": "tool_executing", "user": "u"}))
        """
    assert both_ways(text, policy) == [("SSOT003", 4)]


def test_class_nested_in_classes_keeps_its_scope(no_fallback: None, policy: Policy) -> None:
    text = """\
        class Outer:
            class Inner:
                class ConnectionWebSocketManager:
                    pass
        """
    assert both_ways(text, policy) == [("SSOT002", 3)]
    [finding] = analyze("pkg/mod.py", dedent(text).encode(), policy).findings
    assert finding.scope_name == "Outer.Inner"


def test_dict_items_at_column_0_inside_brackets_stay_in_their_statement(
    no_fallback: None, policy: Policy
) -> None:
    text = 'payload = dict(\ntype="agent_started",\nuser="u",\n)\n'
    assert both_ways(text, policy) == [("SSOT003", 1)]


def test_backslash_continuation_line_at_column_0_stays_in_its_statement(
    no_fallback: None, policy: Policy
) -> None:
    text = f"{OLD_IMPORT}\nManager = \\\nUnifiedWebSocketManager\n"
    assert both_ways(text, policy) == [("SSOT001", 1), ("SSOT002", 2)]


def test_tab_indented_blocks(no_fallback: None, policy: Policy) -> None:
    text = f"class Service:\n\tdef start(self):\n\t\tif True:\n\t\t\t{OLD_IMPORT}\n\t\treturn 1\n"
    assert both_ways(text, policy) == [("SSOT001", 4)]
    [finding] = analyze("pkg/mod.py", text.encode(), policy).findings
    assert finding.scope_name == "Service.start"


def test_match_statement_case_bodies_are_sliced_and_patterns_are_not_payloads(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        def route(message):
            match message:
                case {"type": "agent_started"}:
                    return {"type": "agent_started", "user": "u"}
                case _:
                    return None
        """
    assert both_ways(text, policy) == [("SSOT003", 4)]


def test_payload_inside_an_f_string_replacement_field(no_fallback: None, policy: Policy) -> None:
    text = """\
        def log(user):
            print(f"sent {json.dumps({'type': 'agent_started', 'user': user})}")
        """
    assert both_ways(text, policy) == [("SSOT003", 2)]


def test_payload_inside_a_multi_line_f_string_is_code_not_text(
    no_fallback: None, policy: Policy
) -> None:
    text = 'def log():\n    return f"""\n{ {\'type\': \'agent_started\'} }\n"""\n'
    assert both_ways(text, policy) == [("SSOT003", 3)]


def test_event_name_in_a_triple_quoted_value_is_still_an_event(
    no_fallback: None, policy: Policy
) -> None:
    text = 'event = {"type": """agent_started""", "user": "u"}\n'
    assert both_ways(text, policy) == [("SSOT003", 1)]


def test_file_ending_without_a_newline(no_fallback: None, policy: Policy) -> None:
    text = f"def f():\n    {OLD_IMPORT}"
    assert both_ways(text, policy) == [("SSOT001", 2)]


def test_form_feed_line_between_methods_keeps_the_class_whole(
    no_fallback: None, policy: Policy
) -> None:
    text = "class Pool:\n    def add_connection(self): ...\n\x0c\n    def send_to_user(self): ...\n"
    assert both_ways(text, policy) == [("SSOT002", 1)]


def test_second_of_two_concatenated_triple_quoted_strings_is_text(
    no_fallback: None, policy: Policy
) -> None:
    text = f'DOC = """\na""" + """\n{OLD_IMPORT}\n"""\n'
    assert both_ways(text, policy) == []


def test_one_quote_string_continued_with_a_backslash_is_text(
    no_fallback: None, policy: Policy
) -> None:
    text = f"X = 'a\\\nb', '''\n{OLD_IMPORT}\n'''\n"
    assert both_ways(text, policy) == []


def test_crlf_line_endings(no_fallback: None, policy: Policy) -> None:
    text = f"import os\r\n\r\ndef f():\r\n\r\n    x = 1\r\n    {OLD_IMPORT}\r\n    return x\r\n"
    assert both_ways(text, policy) == [("SSOT001", 6)]


def test_root_package_import_without_any_trigger_resolves_a_deprecated_attribute(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        import netra_backend

        def connect():
            return netra_backend.app.websocket_core.WebSocketManager()
        """
    assert both_ways(text, policy) == [("SSOT001", 4)]


def test_parenthesised_import_with_a_bracket_in_a_comment_still_binds_its_names(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        from netra_backend import (  # the app package (renamed in 2024)
            app as application,
        )

        manager = application.websocket_core.WebSocketManager()
        """
    assert both_ways(text, policy) == [("SSOT001", 5)]


def test_import_alias_without_any_trigger_resolves_a_re_export(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        from netra_backend.app.websocket_core import unified_manager as um
        from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager as U

        Manager = U
        """
    assert both_ways(text, policy) == [("SSOT001", 2), ("SSOT002", 4)]


def test_aliased_base_class_is_resolved_through_its_import(
    no_fallback: None, make_policy: PolicyFn
) -> None:
    policy = make_policy(
        """
        [[concept]]
        name = "websocket-manager"
        canonical = "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"
        implementation = { bases = ["netra_backend.app.websocket_core.base.BaseConnectionPool"] }
        """
    )
    text = """\
        from netra_backend.app.websocket_core.base import BaseConnectionPool as Base

        x = 1


        class Proxy(Base):
            pass
        """
    assert both_ways(text, policy) == [("SSOT002", 6)]


def test_string_annotation_resolves_through_a_root_import(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        import netra_backend


        def handle(manager: "netra_backend.app.websocket_core.WebSocketManager") -> None:
            pass
        """
    assert both_ways(text, policy) == [("SSOT001", 4)]


def test_syntax_error_inside_the_statement_of_a_hit_gives_the_same_ssot900_both_ways(
    policy: Policy,
) -> None:
    text = f"import os\n\ndef f(:\n    {OLD_IMPORT}\n"
    assert both_ways(text, policy) == [("SSOT900", 3)]


def test_syntax_error_when_every_hit_is_in_a_string_gives_nothing_sliced(policy: Policy) -> None:
    text = f'"""{OLD_IMPORT}"""\n\ndef f(:\n    pass\n'
    data = text.encode()
    assert [f.rule for f in analyze("pkg/mod.py", data, policy, full_parse=True).findings] == [
        "SSOT900"
    ]
    assert analyze("pkg/mod.py", data, policy).findings == []


def test_syntax_error_away_from_every_hit_does_not_hide_the_findings_around_them(
    policy: Policy,
) -> None:
    # A decision, not an accident: the sliced path parses every statement that can hold or
    # resolve a finding; a syntax error elsewhere cannot hide one, so the file is analysed
    # (and debt in it stays counted) rather than reported as unanalysable. Only the
    # reference full-file path, which parses everything, sees that error.
    text = f"{OLD_IMPORT}\n\n\ndef broken(:\n    pass\n"
    data = text.encode()
    assert [(f.rule, f.line) for f in analyze("pkg/mod.py", data, policy).findings] == [
        ("SSOT001", 1)
    ]
    assert [
        (f.rule, f.line) for f in analyze("pkg/mod.py", data, policy, full_parse=True).findings
    ] == [("SSOT900", 4)]


def test_coverage_is_the_union_of_its_ranges() -> None:
    from analyzers.source import Coverage

    cover = Coverage()
    for start, end in [(10, 20), (30, 40), (15, 32), (100, 110), (5, 6)]:
        cover.add(start, end)
    assert (cover.starts, cover.ends) == ([5, 10, 100], [6, 40, 110])
    assert [p for p in (4, 5, 6, 9, 10, 39, 40, 100, 109, 110) if cover.covers(p)] == [
        5,
        10,
        39,
        100,
        109,
    ]


def test_a_file_with_thousands_of_imports_is_analysed_in_linear_time(policy: Policy) -> None:
    # Every import is a hit; checking each against every parsed region used to be quadratic.
    lines = [
        f"from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager as U{i}"
        for i in range(3000)
    ]
    result = analyze("pkg/mod.py", "\n".join(lines).encode(), policy)
    assert len(result.findings) == 3000


def test_a_sketched_class_ends_where_its_last_method_ends(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        class PoolWebSocketManager:
            def add_connection(self, conn):
                if conn:
                    return conn
                return None

            def send_to_user(self, user, message):
                for attempt in range(3):
                    try:
                        return message
                    except ValueError:
                        continue
            # a trailing comment is not part of the class
        """
    assert both_ways(text, policy) == [("SSOT002", 1)]
    [finding] = analyze("pkg/mod.py", dedent(text).encode(), policy).findings
    assert (finding.end_line, finding.end_col) == (12, 24)


def test_a_class_defined_in_a_method_of_a_sketched_class_is_found(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        class TestWebSocketManagerIsolation:
            def test_pool(self):
                class FakeWebSocketManager:
                    pass
                return FakeWebSocketManager

            def test_other(self):
                return {"type": "agent_started", "user": "u"}
        """
    assert both_ways(text, policy) == [("SSOT002", 1), ("SSOT002", 3), ("SSOT003", 8)]
    scopes = [f.scope_name for f in analyze("tests/t.py", dedent(text).encode(), policy).findings]
    assert scopes == [
        "",
        "TestWebSocketManagerIsolation.test_pool",
        "TestWebSocketManagerIsolation.test_other",
    ]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # kept whole (the class must end where it ends): the last statement of its last method
        (
            "class TestPool:\n"
            "    def setup(self):\n"
            "        self.x = 1\n"
            "\n"
            "    def test_pool(self):\n"
            "        class FakeWebSocketManager:\n"
            "            pass\n",
            [("SSOT002", 8)],
        ),
        # what a class header asks: a deprecated base through an alias, a payload in a decorator
        (
            "@register({'type': 'agent_started', 'user': 'u'})\n"
            "class Pool(um.UnifiedWebSocketManager):\n"
            "    def send(self):\n"
            "        return 1\n",
            [("SSOT003", 3), ("SSOT001", 4)],
        ),
    ],
)
def test_a_sketched_class_answers_for_its_classes_and_its_header(
    code: str, expected: list[tuple[str, int]], no_fallback: None, policy: Policy
) -> None:
    assert both_ways(ALIAS_IMPORT + code, policy) == expected


def test_a_skeleton_keeps_of_its_other_statements_the_names_of_its_methods() -> None:
    # A class question asks for the class's methods by name: not their decorators, arguments
    # or bodies, nor the other statements of the class. Only its last statement is kept whole
    # (the class ends where it ends), and every line stays where it was.
    text = (
        "class PoolWebSocketManager(Base):\n"
        '    """A pool."""\n'
        "    limit = compute(\n"
        "        1)\n"
        "    @property\n"
        "    async def add_connection(self, conn: Connection) -> None:\n"
        "        await conn.open()\n"
        "    def helper(self): return 1\n"
        "    def send_to_user(self, user):\n"
        "        return user\n"
    )
    [skeleton] = source.Slicer(text).parse([(0, "class")]).slices
    [cls] = skeleton.statements
    assert isinstance(cls, ast.ClassDef)
    methods = [(type(s).__name__, s.name, s.lineno) for s in cls.body]  # type: ignore[attr-defined]
    assert methods == [
        ("AsyncFunctionDef", "add_connection", 5),
        ("FunctionDef", "helper", 8),
        ("FunctionDef", "send_to_user", 9),
    ]
    sketched = [s for s in cls.body if s.lineno < 9]
    assert all(not s.args.args and not s.decorator_list for s in sketched)  # type: ignore[attr-defined]
    assert (cls.end_lineno, cls.end_col_offset) == (10, len("        return user"))


def test_a_class_in_a_block_of_a_class_body_is_found_on_its_own(
    no_fallback: None, policy: Policy
) -> None:
    text = """\
        class Outer:
            if True:
                class FakeWebSocketManager:
                    pass

            def last(self):
                return 1
        """
    assert both_ways(text, policy) == [("SSOT002", 3)]


def test_a_one_line_class_in_a_class_body_is_kept_in_the_skeleton(
    no_fallback: None, policy: Policy
) -> None:
    # Not the last statement and with no indented body: the sketch keeps it as it is.
    text = """\
        class Outer:
            class ExtraWebSocketManager(Base): pass
            def last(self):
                return 1
        """
    assert both_ways(text, policy) == [("SSOT002", 2)]


def test_only_the_classes_of_a_skeleton_and_their_headers_are_indexed() -> None:
    # Its other hits are sliced on their own: the expressions of its methods (most of its
    # nodes) need no walk.
    from analyzers.context import _walk

    text = (
        "@decorate(option=1)\n"
        "class Outer(Base, metaclass=Meta):\n"
        "    limit: int = compute(1)\n"
        "    def method(self, arg: int) -> int:\n"
        "        return arg + 1\n"
        "    class Inner(Other):\n"
        "        def last(self):\n"
        "            return [n for n in range(3)]\n"
    )
    [skeleton] = source.Slicer(text).parse([(text.index("class Outer"), "class")]).slices
    assert skeleton.skeleton
    index = _walk(skeleton)
    classes = [(node.name, scope) for node, scope in index[ast.ClassDef]]  # type: ignore[attr-defined]
    assert classes == [("Outer", ()), ("Inner", ("Outer",))]
    names = sorted(node.id for node, _ in index[ast.Name])  # type: ignore[attr-defined]
    assert names == ["Base", "Meta", "Other", "decorate"]
    assert {ast.Return, ast.arg, ast.AnnAssign, ast.ListComp}.isdisjoint(index)


def test_a_sketched_class_leaves_out_method_bodies_without_a_hit(policy: Policy) -> None:
    # The body of `helper` does not parse; it holds no trigger, so the class's skeleton never
    # parses it (a whole-file parse reports the error; the sliced path, by design, does not).
    text = (
        "class LegacyWebSocketManager:\n"
        "    def helper(self):\n"
        "        x = = 1\n"
        "\n"
        "    def other(self):\n"
        "        return 1\n"
    )
    sliced = analyze("pkg/mod.py", text.encode(), policy).findings
    assert [(f.rule, f.line) for f in sliced] == [("SSOT002", 1)]
    full = analyze("pkg/mod.py", text.encode(), policy, full_parse=True).findings
    assert [f.rule for f in full] == ["SSOT900"]


ALIAS_IMPORT = "import netra_backend.app.websocket_core.unified_manager as um\n\n"


def test_a_hit_in_a_def_header_parses_the_header_alone(no_fallback: None, policy: Policy) -> None:
    # An annotation asks nothing of the body, often most of a long method: it is left out.
    text = (
        ALIAS_IMPORT + "async def handle(manager: um.UnifiedWebSocketManager) -> None:\n"
        "    for i in range(10):\n"
        "        print(i)\n"
    )
    assert both_ways(text, policy) == [("SSOT001", 3)]
    parsed = source.Slicer(text).parse([(text.index("UnifiedWebSocketManager)"), "stmt")])
    [header] = parsed.slices
    [func] = header.statements
    assert isinstance(func, ast.AsyncFunctionDef) and func.name == "handle"
    assert [type(s).__name__ for s in func.body] == ["Pass"]
    assert text[header.start : header.end] == text[len(ALIAS_IMPORT) : text.index("    for")]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # the header and the body each hold a hit
        (
            "def handle(manager: um.UnifiedWebSocketManager):\n"
            "    helper = 1\n"
            "    return um.UnifiedWebSocketManager()\n",
            [("SSOT001", 3), ("SSOT001", 5)],
        ),
        # a decorator is part of the header
        (
            "@um.UnifiedWebSocketManager.register\ndef handle(manager):\n    return manager\n",
            [("SSOT001", 3)],
        ),
        # a method's header, in a class sketched for its name
        (
            "class LegacyWebSocketManager:\n"
            "    def send(self, manager: um.UnifiedWebSocketManager) -> None:\n"
            "        return um.UnifiedWebSocketManager()\n",
            [("SSOT002", 3), ("SSOT001", 4), ("SSOT001", 5)],
        ),
        # `async with` and `async for` are no defs: their headers keep their bodies
        (
            "async def handle():\n"
            "    async with um.UnifiedWebSocketManager() as manager:\n"
            "        await manager.send(um.UnifiedWebSocketManager)\n"
            "    async for item in um.UnifiedWebSocketManager.items():\n"
            "        print(item)\n",
            [("SSOT001", 4), ("SSOT001", 5), ("SSOT001", 6)],
        ),
    ],
)
def test_hits_around_and_inside_def_headers_are_found_as_a_whole_file_parse_finds_them(
    code: str, expected: list[tuple[str, int]], no_fallback: None, policy: Policy
) -> None:
    assert both_ways(ALIAS_IMPORT + code, policy) == expected


def test_a_hit_near_the_top_does_not_scan_the_rest_of_a_long_file() -> None:
    body = "".join(f'def f{i}():\n    """Doc {i}."""\n    return {i}\n\n' for i in range(2000))
    text = f"{OLD_IMPORT}\n\n{body}"
    slicer = source.Slicer(text)
    parsed = slicer.parse([(text.index("unified_manager"), "stmt")])
    assert [type(s).__name__ for sl in parsed.slices for s in sl.statements] == ["ImportFrom"]
    assert slicer._scanned < len(text) // 10


# What the prefilter asks for: the construct a rule reports, not the word. A file whose only
# mention of an event name, a base or a bound name is elsewhere is not parsed at all, so these
# check the hits themselves (both ways: the native matcher, where installed, and str.find).


def _hit_sets(policy: Policy, text: str) -> list[list[tuple[int, str]]]:
    trigger_set = triggers.use_native(policy)
    text = dedent(text)
    return [list(trigger_set.hits(text, native=native)) for native in (True, False)]


@pytest.mark.parametrize(
    "text",
    [
        'errors["event_type"] = "agent_started"',
        'reply = {"reason": "agent_started"}',
        'if state == "agent_started":\n    pass',
        'seen = {name: "agent_started"}',
        'emit("agent_started")',
        'handlers = dict(kind="agent_started")',
    ],
)
def test_an_event_name_outside_its_event_key_is_no_hit(text: str, policy: Policy) -> None:
    assert _hit_sets(policy, text) == [[], []]


@pytest.mark.parametrize(
    "text",
    [
        'send({"event_type": "agent_started", "user_id": 1})',
        'send({"type": "agent_started", "user_id": 1})',
        'send(dict(type="agent_started", user_id=1))',
        # A key the prefilter cannot read for sure is kept: the parse decides.
        'send({"ty" "pe": "agent_started", "user_id": 1})',
        'send({("type"): "agent_started", "user_id": 1})',
        'send({"\\x74ype": "agent_started", "user_id": 1})',
    ],
)
def test_an_event_name_under_its_event_key_or_an_unreadable_key_is_reported(
    text: str, no_fallback: None, policy: Policy
) -> None:
    assert all(hits for hits in _hit_sets(policy, text))
    assert both_ways(text, policy) == [("SSOT003", 1)]


BASE_POLICY = """
    [[concept]]
    name = "websocket-manager"
    canonical = "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"
    implementation = { bases = ["netra_backend.app.websocket_core.base.BaseConnectionPool"] }
    """


@pytest.mark.parametrize(
    "text",
    [
        "def size(pool: BaseConnectionPool) -> int:\n    return 0",
        "pools = make(BaseConnectionPool, 3)",
        "# class Old(BaseConnectionPool) was removed",
        "class Pool:\n    kind = BaseConnectionPool",
    ],
)
def test_a_base_named_outside_a_class_header_is_no_hit(text: str, make_policy: PolicyFn) -> None:
    assert _hit_sets(make_policy(BASE_POLICY), text) == [[], []]


def test_a_base_in_a_multi_line_class_header_with_a_comment_is_found(
    no_fallback: None, make_policy: PolicyFn
) -> None:
    text = """\
        from netra_backend.app.websocket_core.base import BaseConnectionPool


        class Pool(
            Mixin,  # (kept first: it overrides close)
            BaseConnectionPool,
        ):
            pass


        class Plain \\
                (BaseConnectionPool):
            pass
        """
    policy = make_policy(BASE_POLICY)
    assert all(hits for hits in _hit_sets(policy, text))
    assert both_ways(text, policy) == [("SSOT002", 4), ("SSOT002", 11)]


@pytest.mark.parametrize(
    "imports",
    [
        "from netra_backend.app.websocket_core.base import BaseConnectionPool as Base",
        "from netra_backend.app.websocket_core.base import (\n    BaseConnectionPool as Base,\n)",
    ],
)
def test_a_base_aliased_by_an_import_from_the_canonical_home_is_found(
    imports: str, no_fallback: None, make_policy: PolicyFn
) -> None:
    # The base lives in the concept's canonical package: the import itself is no finding, but
    # the class that derives from the alias is.
    policy = make_policy(
        """
        [[concept]]
        name = "websocket-manager"
        canonical = "netra_backend.app.websocket_core.base.WebSocketManager"
        implementation = { bases = ["netra_backend.app.websocket_core.base.BaseConnectionPool"] }
        """
    )
    text = f"{imports}\n\n\nclass Proxy(Base):\n    pass\n"
    line = text.count("\n", 0, text.index("class Proxy")) + 1
    assert both_ways(text, policy) == [("SSOT002", line)]


@pytest.mark.parametrize(
    ("use", "matters"),
    [
        ("um.UnifiedWebSocketManager()", True),
        ("class Proxy(um):", True),
        ("Manager = um", True),
        ("Manager = (\n    um\n)", True),
        ("def f(m: um) -> None:", False),
        ("register(um)", False),
        ("if um == other:", False),
    ],
)
def test_a_bound_name_matters_where_a_rule_can_report_it(use: str, matters: bool) -> None:
    text = f"x = 1\n{use}\n"
    start = text.index("um", text.index("\n"))
    assert triggers.use_matters(text, start, start + 2) is matters


@pytest.mark.parametrize(
    "imports",
    [
        "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager as WSM",
        "from netra_backend.app.websocket_core.websocket_manager import (\n"
        "    WebSocketManager as WSM,\n)",
    ],
)
def test_the_canonical_class_re_exported_through_an_alias_of_its_import_is_found(
    imports: str, no_fallback: None, policy: Policy
) -> None:
    # The import from the canonical home binds nothing deprecated, but its alias does bind the
    # canonical class under another name, and a second name for it is what SSOT002 counts.
    text = f"{imports}\n\nx = 1\n\nManager = WSM\n"
    assert both_ways(text, policy) == [("SSOT002", text.count("\n"))]


@pytest.mark.parametrize(
    "text",
    [
        # A subclass's longer name holds the base's name; it is another name (the real tree's
        # `FreedomproDataUpdateCoordinator` holds `DataUpdateCoordinator`).
        "from .coordinator import FreedomBaseConnectionPoolV2",
        "class Device(Entity[LocalBaseConnectionPool], Sensor):\n    pass",
        "class Pool(BaseConnectionPoolMixin):\n    pass",
        "class Pool(ÜberBaseConnectionPool):\n    pass",
    ],
)
def test_a_name_that_only_contains_a_trigger_is_no_hit(text: str, make_policy: PolicyFn) -> None:
    assert _hit_sets(make_policy(BASE_POLICY), text) == [[], []]


def test_a_trigger_is_a_hit_as_a_whole_word_beside_dots_brackets_and_quotes(
    make_policy: PolicyFn,
) -> None:
    text = (
        "from netra_backend.app.websocket_core.base import BaseConnectionPool as B\n"
        "class Pool(base.BaseConnectionPool):\n    pass\n"
        "class Typed(B[int]):\n    pass\n"
    )
    starts = [text.index("BaseConnectionPool"), text.index("BaseConnectionPool)")]
    for hits in _hit_sets(make_policy(BASE_POLICY), text):
        assert [pos for pos, _ in hits if pos in starts] == starts


def test_a_literal_that_is_both_a_symbol_and_a_base_is_asked_both_questions(
    make_policy: PolicyFn,
) -> None:
    # Home Assistant's coordinator: the canonical class is also the base that every copy
    # derives from. Its name in a class header is a class hit; a re-export of it is a statement
    # hit; an annotation is neither.
    policy = make_policy(
        """
        [[concept]]
        name = "update-coordinator"
        canonical = "pkg.update_coordinator.DataUpdateCoordinator"
        implementation = { bases = ["pkg.update_coordinator.DataUpdateCoordinator"] }
        """
    )
    text = (
        "from pkg.update_coordinator import DataUpdateCoordinator\n"
        "class Mine(DataUpdateCoordinator[int]):\n    pass\n"
        "Coordinator = DataUpdateCoordinator\n"
        "def f(c: DataUpdateCoordinator) -> None:\n    pass\n"
    )
    header = text.index("DataUpdateCoordinator", text.index("class"))
    alias = text.index("DataUpdateCoordinator", header + 1)
    for hits in _hit_sets(policy, text):
        assert (header, "class") in hits
        assert (alias, "stmt") in hits
        assert [pos for pos, _ in hits if pos > text.index("def f")] == []
    assert [(f.rule, f.line) for f in analyze("pkg/mine.py", text.encode(), policy).findings] == [
        ("SSOT002", 2),
        ("SSOT002", 4),
    ]
