"""Property tests of the policy loader: generated patterns, globs and documents.

Whatever a repository writes into its policy, loading it ends in a policy or a
:class:`PolicyError` (never another exception), and the patterns and globs of a policy that
loads are matched against hostile class names and paths in bounded time. The deadline is a
hang detector, a hundred times what one example takes, not a speed claim.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import analyze
from analyzers.policy_loader import PolicyError, load_policy

REGEX_TOKENS = [
    *"ab.-^$|*+?()[]\\",
    r"\w",
    r"\d",
    r"\s",
    r"\b",
    "(?:",
    "(?i)",
    "(?s)",
    "(?x)",
    "(?=",
    "(?!",
    "(?<=",
    "(?<!",
    "(?>",
    "(?P<n>",
    "(?P=n)",
    "(?#",
    r"\1",
    r"\Z",
    r"\z",
    r"\pL",
    r"\u00e9",
    "*?",
    "++",
    "{2}",
    "{1,}",
    "{,3}",
    "{1001}",
    "(\\w|\\w)*",
    "[^",
    "[[:alpha:]]",
    "é",
]
GLOB_TOKENS = [
    *"*?[]!-/ab.~\\{}()+|^$ \n\x00é",
    "**",
    "**/",
    "[!",
    "..",
    "C:",
    "*a",
]
patterns = st.one_of(
    st.lists(st.sampled_from(REGEX_TOKENS), max_size=25).map("".join), st.text(max_size=40)
)
globs = st.one_of(
    st.lists(st.sampled_from(GLOB_TOKENS), max_size=40).map("".join), st.text(max_size=40)
)
# Hostile inputs to match: near misses of backtracking patterns, long and odd names.
CLASS_NAMES = ["A" * 40, "a" * 40 + "Hub", "WebSocketManager", "Über" * 10, "_" * 60, "x"]
PATHS = ["a" * 57 + ".py", "app/" + "a/" * 40 + "b.py", "tests/test_x.py", "é/ü.py", "a\nb.py"]


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def document(table: dict[str, Any]) -> str:
    return "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in table.items())


def load(text: str) -> Any:
    try:
        return load_policy(text).policy
    except PolicyError as error:
        # A refusal names where: a key, or the TOML line.
        assert error.key or error.line or "TOML" in error.message, error
        return None


def exercise(policy: Any) -> None:
    """Match every pattern and glob of a loaded policy against hostile names and paths."""
    for path in PATHS:
        policy.excluded.match(path)
        policy.path_scope(path)
        body = "".join(f"class {name}:\n    pass\n" for name in CLASS_NAMES)
        analyze(path, body.encode(), policy)
    for name in CLASS_NAMES:
        policy.test_class_re.search(name)


hang_detector = settings(
    max_examples=200,
    deadline=timedelta(seconds=20),
    suppress_health_check=[HealthCheck.too_slow],
)


@hang_detector
@given(name=patterns, test_classes=patterns, exclude=st.lists(globs, max_size=4))
def test_generated_patterns_and_globs_load_or_are_refused(
    name: str, test_classes: str, exclude: list[str]
) -> None:
    text = document(
        {
            "exclude": exclude,
            "test_classes": test_classes,
            "concept": [
                {
                    "name": "hub",
                    "canonical": "app.hub.Hub",
                    "deprecated": ["app.old.Hub"],
                    "implementation": {"name": name},
                    "allowed_in": exclude[:2],
                }
            ],
        }
    )
    policy = load(text)
    if policy is not None:
        exercise(policy)


JOINABLE_PATHS = st.lists(
    st.lists(st.sampled_from([*"ab./é\n*", "\udcff", "migrations/", "a/b/", "x.py"]), max_size=12)
    .map("".join)
    .filter(bool),
    max_size=12,
)


@hang_detector
@given(exclude=st.lists(globs, min_size=1, max_size=4), paths=JOINABLE_PATHS)
def test_globs_answer_for_all_paths_at_once_as_for_each_path(
    exclude: list[str], paths: list[str]
) -> None:
    # The scan filters its whole listing with GlobSet.unmatched (one RE2 pass over the paths
    # joined by newlines); it must keep exactly the paths that match() says are not excluded.
    from analyzers.globs import GlobSet
    from analyzers.patterns import UnsafePattern

    try:
        glob_set = GlobSet(exclude)
    except UnsafePattern:
        return  # refused by the loader before any scan (test_generated_patterns_... above)
    assert glob_set.unmatched(paths) == [p for p in paths if not glob_set.match(p)]


POLICY_KEYS = [
    "version",
    "extends",
    "exclude",
    "source_roots",
    "test_paths",
    "test_classes",
    "max_file_size",
    "concept",
    "event_schema",
    "rules",
]
INNER_KEYS = [
    *("name", "canonical", "deprecated", "implementation", "allowed_in", "target"),
    *("bases", "methods", "min_methods", "events", "event_key", "legacy_keys", "required"),
    *("optional", "data_key", "timestamp_key", "timestamp", "SSOT001", "severity", "tests"),
]
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    patterns,
    globs,
    st.sampled_from(["block", "warn", "off", "number", "a.b.C", "a.*", "app/**"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(INNER_KEYS), st.text(max_size=8)), inner),
    ),
    max_leaves=20,
)


@hang_detector
@given(st.dictionaries(st.one_of(st.sampled_from(POLICY_KEYS), st.text(max_size=8)), values))
def test_generated_documents_load_or_are_refused(table: dict[str, Any]) -> None:
    policy = load(document(table))
    if policy is not None:
        exercise(policy)


@hang_detector
@given(st.text(max_size=300))
def test_arbitrary_text_loads_or_is_refused(text: str) -> None:
    load(text)


def test_deeply_nested_toml_is_refused_not_a_crash() -> None:
    assert load("x = " + "[" * 100_000 + "]" * 100_000 + "\n") is None
