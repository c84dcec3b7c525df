"""Loading a policy: the example loads; every error names file, line and key."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from analyzers import PolicyError, load_policy
from analyzers.policy_loader import ParentFetcher

EXAMPLE_POLICY = Path(__file__).resolve().parent.parent / "examples" / "websocket-ssot.toml"
CONCEPTS = dedent(
    """\
    version = 1

    [[concept]]
    name = "websocket-manager"
    canonical = "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"
    deprecated = ["netra_backend.app.websocket_core.unified_manager.UnifiedWebSocketManager"]

    [[concept]]
    name = "event-bus"
    canonical = "netra_backend.app.events.bus.EventBus"
    """
)


def error_of(
    text: str, source: str = ".github/ssot.toml", fetch: ParentFetcher | None = None
) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_policy(dedent(text), source, fetch)
    return caught.value


def test_example_policy_loads() -> None:
    loaded = load_policy(EXAMPLE_POLICY.read_text(encoding="utf-8"), "examples/websocket-ssot.toml")
    [concept] = loaded.policy.concepts
    assert (
        concept.canonical == "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"
    )
    assert [s.name for s in loaded.policy.event_schemas] == ["golden-path"]
    assert loaded.policy.severity("SSOT002", "test") == "warn"
    assert loaded.chain == ("examples/websocket-ssot.toml",)


def test_toml_syntax_error_names_the_file_and_line() -> None:
    error = error_of('version = 1\n\n[[concept]\nname = "a"\n')
    assert (error.source, error.line) == (".github/ssot.toml", 3)
    assert str(error).startswith(".github/ssot.toml:3: invalid TOML:")


def test_unknown_key_in_a_concept_names_its_line_and_key() -> None:
    error = error_of(CONCEPTS + 'deprcated = ["netra_backend.app.events.EventBus"]\n')
    assert (error.line, error.key) == (11, "concept.1.deprcated")
    assert str(error) == (
        ".github/ssot.toml:11: unknown key 'deprcated' in [[concept]] 2 "
        "(did you mean 'deprecated'?)"
    )


def test_unknown_top_level_key_is_an_error() -> None:
    error = error_of("concepts = []\n")
    assert (error.line, error.key) == (1, "concepts")


def test_wrong_type_names_the_line_and_key() -> None:
    error = error_of(CONCEPTS + 'target = "one"\n')
    assert (error.line, error.key) == (11, "concept.1.target")
    assert "integer" in error.message


def test_wrong_severity_value_names_the_rule_table() -> None:
    error = error_of('[rules.SSOT001]\nseverity = "loud"\n')
    assert (error.line, error.key) == (2, "rules.SSOT001.severity")


def test_invalid_regex_names_the_implementation_line() -> None:
    error = error_of(CONCEPTS + '\n[concept.implementation]\nname = "([a-z"\n')
    assert (error.line, error.key) == (13, "concept.1.implementation.name")
    assert "invalid regular expression" in error.message


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(\w+)\1", "back-reference"),
        ("(?P<a>x)(?P=a)", "back-reference"),
        ("Manager(?=Base)", "look-ahead"),
        ("(?<!Base)Manager", "look-behind"),
        ("(?>a+)b", "atomic group"),
        (r"Manager\Z", "\\z"),
        ("a{,3}", "{0,n}"),
    ],
)
def test_a_pattern_that_cannot_be_matched_in_linear_time_is_rejected(
    pattern: str, why: str
) -> None:
    error = error_of(CONCEPTS + f"\n[concept.implementation]\nname = '{pattern}'\n")
    assert (error.line, error.key) == (13, "concept.1.implementation.name")
    assert why in error.message


def test_a_pattern_longer_than_the_cap_is_rejected() -> None:
    error = error_of(CONCEPTS + f"\n[concept.implementation]\nname = '{'a' * 501}'\n")
    assert error.key == "concept.1.implementation.name"
    assert "longer than 500 characters" in error.message


@pytest.mark.parametrize(
    "pattern", [r"(?i)websocket\w*manager", "(Mock|Fake)+Manager", "(a+)+$", r"(\w|\w)*-$"]
)
def test_nested_and_overlapping_repeats_are_accepted(pattern: str) -> None:
    # RE2 matches them in linear time, so there is no reason to refuse them.
    text = CONCEPTS + f"\n[concept.implementation]\nname = '{pattern}'\n"
    assert load_policy(dedent(text)).policy.concepts[1].implementation is not None


def test_min_methods_larger_than_the_methods_list_is_rejected() -> None:
    text = (
        CONCEPTS
        + '\n[concept.implementation]\nmethods = ["publish", "subscribe"]\nmin_methods = 3\n'
    )
    error = error_of(text)
    assert (error.line, error.key) == (14, "concept.1.implementation.min_methods")
    assert error.message == (
        "[concept.implementation] of [[concept]] 2: min_methods must be between 1 and 2"
    )


@pytest.mark.parametrize("glob", ["../x", "/etc", "a/../../x", "C:/x", "~/x"])
def test_glob_escaping_the_repository_is_rejected(glob: str) -> None:
    error = error_of(CONCEPTS + f'allowed_in = ["{glob}"]\n')
    assert (error.line, error.key) == (11, "concept.1.allowed_in.0")
    assert "outside the repository" in error.message


def test_exclude_glob_escaping_the_repository_is_rejected() -> None:
    error = error_of('exclude = ["src/**", "/etc/**"]\n')
    assert error.key == "exclude.1"


def test_unknown_rule_code_is_rejected() -> None:
    error = error_of('[rules.SSOT007]\nseverity = "warn"\n')
    assert (error.line, error.key) == (1, "rules.SSOT007")
    assert "SSOT001" in error.message


def test_tool_ssot_table_of_a_pyproject_loads() -> None:
    text = '[project]\nname = "app"\n\n[tool.ssot]\nversion = 1\n\n[[tool.ssot.concept]]\nname = "a"\ncanonical = "pkg.mod.A"\n'
    loaded = load_policy(text, "pyproject.toml")
    assert [c.name for c in loaded.policy.concepts] == ["a"]


def test_error_in_a_pyproject_names_the_line_in_that_file() -> None:
    text = dedent(
        """\
        [project]
        name = "app"

        [tool.ssot]
        version = 1

        [[tool.ssot.concept]]
        name = "a"
        canonical = "pkg.mod.A"
        canonicl = "pkg.mod.B"
        """
    )
    error = error_of(text, "pyproject.toml")
    assert (error.source, error.line, error.key) == ("pyproject.toml", 10, "concept.0.canonicl")


def test_pyproject_without_tool_ssot_is_an_error() -> None:
    error = error_of('[project]\nname = "app"\n', "pyproject.toml")
    assert error.key == "tool.ssot"


PARENT = """\
    [[concept]]
    name = "websocket-manager"
    canonical = "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"
    deprecated = ["netra_backend.app.websocket_core.unified_manager.UnifiedWebSocketManager"]
    target = 10

    [rules.SSOT001]
    severity = "warn"
    """


def org_fetcher(policies: dict[str, tuple[str, str]]) -> ParentFetcher:
    return lambda name: (policies[name][0], dedent(policies[name][1])) if name in policies else None


def test_extends_merges_concepts_by_name_and_rules_by_code() -> None:
    child = """\
        extends = "org"

        [[concept]]
        name = "websocket-manager"
        target = 1

        [[concept]]
        name = "event-bus"
        canonical = "netra_backend.app.events.bus.EventBus"

        [rules.SSOT002]
        severity = "warn"
        """
    loaded = load_policy(
        dedent(child), fetch_parent=org_fetcher({"org": ("org/.github/ssot.toml", PARENT)})
    )
    manager, bus = loaded.policy.concepts
    assert (manager.target, manager.deprecated) == (
        1,
        ("netra_backend.app.websocket_core.unified_manager.UnifiedWebSocketManager",),
    )
    assert bus.name == "event-bus"
    assert (
        loaded.policy.severity("SSOT001", "source"),
        loaded.policy.severity("SSOT002", "source"),
    ) == (
        "warn",
        "warn",
    )
    assert loaded.chain == (".github/ssot.toml", "org/.github/ssot.toml")


def test_extends_cycle_is_detected() -> None:
    fetch = org_fetcher({"a": ("a.toml", 'extends = "b"\n'), "b": ("b.toml", 'extends = "a"\n')})
    error = error_of('extends = "a"\n', fetch=fetch)
    assert (error.source, error.key) == ("a.toml", "extends")
    assert "cycle" in error.message


def test_extends_back_to_the_policy_itself_is_a_cycle() -> None:
    fetch = org_fetcher({"org": (".github/ssot.toml", 'extends = "org"\n')})
    assert "cycle" in error_of('extends = "org"\n', fetch=fetch).message


def test_missing_parent_names_the_extends_line() -> None:
    error = error_of('version = 1\nextends = "org"\n', fetch=org_fetcher({}))
    assert (error.line, error.key) == (2, "extends")
    assert "cannot find parent policy 'org'" in error.message


def test_digest_is_stable_for_the_same_meaning() -> None:
    first = load_policy(CONCEPTS).policy
    reformatted = load_policy(
        "# same policy, other layout\n" + CONCEPTS.replace(" = ", "=").replace("\n\n", "\n\n\n")
    ).policy
    assert first.digest == reformatted.digest


def test_digest_changes_when_the_policy_changes() -> None:
    first = load_policy(CONCEPTS).policy
    changed = load_policy(CONCEPTS + 'allowed_in = ["netra_backend/app/events/bus.py"]\n').policy
    assert first.digest != changed.digest


# -- errors in the policy's words ----------------------------------------------------------

CONCEPT = '[[concept]]\nname = "a"\ncanonical = "pkg.mod.A"\n'
SCHEMA = '[[event_schema]]\nname = "golden-path"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            CONCEPT + 'deprecatd = ["pkg.old.A"]\n',
            ".github/ssot.toml:4: unknown key 'deprecatd' in [[concept]] 1 "
            "(did you mean 'deprecated'?)",
        ),
        (
            SCHEMA + 'events = "agent_started"\n',
            ".github/ssot.toml:3: [[event_schema]] 1: events must be an array of strings, "
            'not "agent_started"',
        ),
        (
            SCHEMA + 'events = ["agent_started", 3]\n',
            ".github/ssot.toml:3: [[event_schema]] 1: events must be an array of strings; "
            "item 2 is 3",
        ),
        (
            SCHEMA,
            ".github/ssot.toml:1: missing key 'events' in [[event_schema]] 1 (an array of strings)",
        ),
        (
            '[rules.SSOT001]\nseverity = "loud"\n',
            '.github/ssot.toml:2: [rules.SSOT001]: severity must be one of "block", "warn", '
            '"off", not "loud"',
        ),
        (
            '[rules]\nSSOT001 = "warn"\n',
            '.github/ssot.toml:2: [rules.SSOT001] must be a table, not "warn"',
        ),
        (
            '[concept]\nname = "a"\n',
            ".github/ssot.toml:1: concept must be an array of tables, not a table "
            "(write [[concept]], with two brackets)",
        ),
        (
            CONCEPT + '\n[concept.implementation]\nnmae = "x"\n',
            ".github/ssot.toml:6: unknown key 'nmae' in [concept.implementation] of "
            "[[concept]] 1 (did you mean 'name'?)",
        ),
        (
            "concepts = []\n",
            ".github/ssot.toml:1: unknown key 'concepts' in the top level of the policy "
            "(did you mean 'concept'?)",
        ),
        (
            # A key that ends like pydantic's names of union members is still a key.
            '"]" = []\n',
            ".github/ssot.toml:1: unknown key ']' in the top level of the policy; known keys: "
            "campaign, concept, dashboard, event_schema, exclude, extends, max_file_size, "
            "rules, source_roots, test_classes, test_paths, version",
        ),
        (
            'max_file_size = "big"\n',
            '.github/ssot.toml:1: max_file_size must be an integer, not "big"',
        ),
        (
            CONCEPT + 'deprecated = ["pkg/old.py"]\n',
            ".github/ssot.toml:4: [[concept]] 1: deprecated item 1: 'pkg/old.py' is not a "
            "dotted path (module.Symbol or module.*)",
        ),
    ],
)
def test_an_error_speaks_of_tables_and_keys_not_of_the_validator(text: str, expected: str) -> None:
    assert str(error_of(text)) == expected


@pytest.mark.parametrize("value", ["2", "true", "1.0", '"1"', "0"])
def test_a_policy_of_another_format_version_is_refused(value: str) -> None:
    # pydantic's lax mode would read true, 1.0 and "1" as 1, and 2 is a format this release
    # cannot know: either way the policy would be read with the wrong meaning, silently.
    error = error_of(f"# a comment\nversion = {value}\n")
    assert (error.line, error.key) == (2, "version")
    assert "policy format 1 only" in error.message


def test_an_unknown_key_with_no_near_name_lists_the_known_ones() -> None:
    error = error_of('[rules.SSOT001]\nloudness = "high"\n')
    assert error.message == "unknown key 'loudness' in [rules.SSOT001]; known keys: severity, tests"


def test_an_error_in_a_pyproject_names_the_tool_ssot_tables() -> None:
    error = error_of('[[tool.ssot.concept]]\nname = "a"\ncanonical = "A"\n', "pyproject.toml")
    assert str(error) == (
        "pyproject.toml:3: [[tool.ssot.concept]] 1: canonical must be a dotted path module.Symbol"
    )


@pytest.mark.parametrize("parent", ["../base.toml", "/etc/ssot.toml", "policies/../../x.toml"])
def test_extends_a_path_outside_the_repository_says_it_leaves_it(parent: str) -> None:
    # Said before any file is looked for: "cannot find" would send the user looking for it.
    error = error_of(f'version = 1\nextends = "{parent}"\n', fetch=org_fetcher({}))
    assert (error.line, error.key) == (2, "extends")
    assert error.message.startswith(f'extends = "{parent}" leaves the repository;')
