"""Policy patterns and globs are matched in linear time (RE2), so no policy can stall a scan.

The two attacks of issue 11: a class-name pattern that backtracks exponentially in ``re``
(``^(\\w|\\w)*...$`` against a 40-character class name) and a glob of thirty stars against a
60-character path. Before RE2 each of them kept ``ssot scan`` busy for good.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from analyzers.engine import analyze
from analyzers.globs import MAX_GLOBS, GlobSet, glob_to_regex
from analyzers.patterns import MAX_PATH_CHARS, LinearPattern, UnsafePattern, compiled
from analyzers.policy_loader import PolicyError, load_policy

# Thirty stars: `*a*a...*ab`. With `re`, a near miss tries every way of spreading the a's.
THIRTY_STARS = "*a" * 30 + "b"
HOSTILE_POLICY = f"""\
exclude = ["{THIRTY_STARS}"]

[[concept]]
name = "hub"
canonical = "app.hub.Hub"
deprecated = ["app.old.Hub"]
implementation = {{ name = '^(\\w|\\w)*Hub$' }}
"""
IMPORT_OLD = "from app.old import Hub\n"
# Generous: the scan takes well under a second; before the fix it never ended.
SCAN_TIMEOUT = 120
JSON = ("--format", "json", "--jobs", "1")


def test_ssot_scan_with_backtracking_patterns_ends(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    files = {
        ".github/ssot.toml": HOSTILE_POLICY,
        # A 40-character near miss of the class pattern, and a hit.
        "app/near.py": f"class {'A' * 40}:\n    pass\n",
        "app/hubs.py": f"class {'A' * 40}Hub:\n    pass\n",
        # A 60-character near miss of the glob (scanned), and a folder the glob excludes.
        "a" * 57 + ".py": IMPORT_OLD,
        "a" * 40 + "ab/excluded.py": IMPORT_OLD,
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "analyzers.cli", "scan", "--root", str(repo), "--no-cache", *JSON],
        capture_output=True,
        text=True,
        timeout=SCAN_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = sorted((f["rule"], f["path"]) for f in json.loads(done.stdout)["findings"])
    assert found == [("SSOT001", "a" * 57 + ".py"), ("SSOT002", "app/hubs.py")]


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("**/migrations/**", "app/migrations/0001.py", True),
        ("**/migrations/**", "migrations/0001.py", True),
        ("**/migrations/**", "app/migrations.py", False),
        ("tests/*.py", "tests/test_a.py", True),
        ("tests/*.py", "tests/sub/test_a.py", False),
        ("tests", "tests/sub/test_a.py", True),  # a folder covers what is below it
        ("app/?.py", "app/a.py", True),
        ("app/?.py", "app/ab.py", False),
        ("app/[a-c].py", "app/b.py", True),
        ("app/[!a-c].py", "app/b.py", False),
        ("app/[!a-c].py", "app/d.py", True),
        ("a+b(c).py", "a+b(c).py", True),  # regex characters are literal in a glob
        ("a+b(c).py", "aab(c).py", False),
        ("app/[].py", "app/[].py", True),  # an empty class is literal text
        ("**", "a\nb.py", True),  # a newline in a file name is a character like others
        (THIRTY_STARS, "a" * 57 + ".py", False),
        (THIRTY_STARS, "a" * 40 + "ab/x.py", True),
    ],
)
def test_glob_semantics(glob: str, path: str, matches: bool) -> None:
    assert GlobSet([glob]).match(path) is matches


def test_unmatched_answers_for_all_paths_at_once_what_match_says_of_each() -> None:
    globs = GlobSet(["**/migrations/**", "app/*.py", "lib/[!x]y.py", "c?d/**", THIRTY_STARS])
    paths = [
        *("svc/migrations/0001.py", "app/a.py", "app/b/c.py", "lib/zy.py", "lib/xy.py"),
        *("cXd/e.py", "c/d.py", "ok.py", "app/\u00e9.py", "lib/\udcffy.py"),
        *("a" * 40 + "ab/x.py", "a" * 57 + ".py"),
    ]
    kept = [p for p in paths if not globs.match(p)]
    assert kept == [
        "app/b/c.py",
        "lib/xy.py",
        "c/d.py",
        "ok.py",
        "lib/\udcffy.py",
        "a" * 57 + ".py",
    ]
    assert globs.unmatched(paths) == kept
    # A path with a newline, or longer than the cap, is answered path by path, as match does.
    odd = [*paths, "app/new\nline.py", "app/" + "a" * MAX_PATH_CHARS + ".py"]
    assert globs.unmatched(odd) == [p for p in odd if not globs.match(p)]
    assert GlobSet(["app/\nx.py"]).unmatched(["app/", "x.py"]) == ["app/", "x.py"]
    # A negated class must not take the newline between two paths: "a\nb/c" would be one
    # match, and "b/c" would then escape its own glob.
    assert GlobSet(["a[!x]b", "b/c"]).unmatched(["a", "b/c"]) == ["a"]
    assert GlobSet([]).unmatched(paths) == paths


def test_unmatched_answers_path_by_path_when_the_one_pass_pattern_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from analyzers import globs

    real = globs.compiled

    def over_budget(pattern: str) -> LinearPattern:
        if pattern.startswith("(?m)"):  # the newline-joined form only
            raise UnsafePattern("too big", "pattern too large - compile failed")
        return real(pattern)

    monkeypatch.setattr(globs, "compiled", over_budget)
    assert GlobSet(["app/*.py"]).unmatched(["app/a.py", "lib/b.py"]) == ["lib/b.py"]


def test_a_path_longer_than_the_cap_matches_no_glob_and_is_ssot900() -> None:
    policy = load_policy(HOSTILE_POLICY).policy
    path = "app/" + "a" * MAX_PATH_CHARS + ".py"
    assert not GlobSet(["**"]).match(path)
    result = analyze(path, IMPORT_OLD.encode(), policy)
    assert [(f.rule, f.scope) for f in result.findings] == [("SSOT900", "source")]
    assert f"path longer than {MAX_PATH_CHARS:,} characters" in result.findings[0].message


@pytest.mark.parametrize(
    ("glob", "why"),
    [("app/[z-a].py", "invalid character class range"), ("x" * 501, "longer than 500")],
)
def test_a_glob_that_cannot_be_matched_is_rejected_naming_the_key(glob: str, why: str) -> None:
    with pytest.raises(PolicyError) as error:
        load_policy(f'test_paths = ["tests/**", "{glob}"]\n')
    assert (error.value.key, error.value.line) == ("test_paths.1", 1)
    assert why in error.value.message


def test_more_globs_than_the_cap_are_rejected_naming_the_key() -> None:
    # A set of globs is one RE2 pattern: its size is bounded by the count and the length cap.
    globs = ", ".join(f'"gen/{i}/**"' for i in range(MAX_GLOBS + 1))
    with pytest.raises(PolicyError) as error:
        load_policy(f"exclude = [{globs}]\n")
    assert error.value.key == "exclude"
    assert f"more than {MAX_GLOBS:,}" in error.value.message


def test_re2_reads_case_flags_and_unicode_classes() -> None:
    assert compiled(r"(?i)websocket\w*manager").search("UnifiedWebSocketManager")
    assert compiled(r"^\pL+Manager$").search("ÜberManager")
    # \w is ASCII in RE2 (documented in docs/policy.md): write \pL for any letter.
    assert not compiled(r"^\w+Manager$").search("ÜberManager")


def test_a_refused_pattern_says_why_and_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnsafePattern) as error:
        compiled(r"(a)\1")
    assert "back-reference `\\1`" in str(error.value)
    assert error.value.reason == "invalid escape sequence: \\1"
    assert capfd.readouterr().err == ""


def test_a_compiled_pattern_survives_pickling_to_a_worker_process() -> None:
    pattern = pickle.loads(pickle.dumps(compiled("^(Test|Mock)")))
    assert pattern.search("TestThing") and not pattern.search("Thing")


def test_the_glob_translation_is_re2_syntax_without_backtracking_constructs() -> None:
    source = glob_to_regex("**/a*b?[!c]/**")
    assert source == "(?:.*/)?a[^/]*b[^/][^c]/.*(?:/.*)?"
