"""Where the debt is: findings per directory and per CODEOWNERS owner, with CODEOWNERS read as
GitHub reads it (:mod:`analyzers.codeowners`: last match wins, gitignore-like patterns,
``docs/*`` not recursive, ``!`` lines ignored)."""

from __future__ import annotations

import pytest

from analyzers.codeowners import Owners
from analyzers.findings import Finding
from bot.progress.breakdown import breakdown, directory_of

# GitHub's own example file (docs: "Example of a CODEOWNERS file"), trimmed.
EXAMPLE = """\
# This is a comment.
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
\\#hash @hash-owner
!negated @nobody
"""


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ("@global-owner1", "@global-owner2")),
        ("src/app.js", ("@js-owner",)),  # a later line wins over "*"
        ("main.go", ("docs@example.com",)),
        ("notes/a.txt", ("@octo-org/octocats",)),
        ("build/logs/today.log", ("@octocat",)),  # /build/logs/ matches, **/logs later
        ("x/build/logs/today.log", ("@octocat",)),
        ("docs/getting-started.md", ("@doctocat",)),  # /docs/ is later than docs/*
        ("scripts/run.py", ("@doctocat", "@octocat")),
        ("deep/a/logs/x.py", ("@octocat",)),
        ("apps/web/main.py", ("@octocat",)),  # /apps/
        ("apps/github/main.py", ()),  # a matching line without owners: unowned
        ("#hash", ("@hash-owner",)),
        ("negated", ("@global-owner1", "@global-owner2")),  # "!" lines are ignored
    ],
)
def test_the_last_matching_line_gives_the_owners(path: str, owners: tuple[str, ...]) -> None:
    assert Owners(EXAMPLE).of(path) == owners


def test_a_directory_star_pattern_owns_its_files_only() -> None:
    rules = Owners("docs/* @docs\n")
    assert rules.of("docs/a.md") == ("@docs",)
    assert rules.of("docs/build/b.md") == ()
    assert rules.of("sub/docs/a.md") == ()  # a middle slash anchors at the root


def test_a_pattern_without_slash_matches_at_any_depth_and_below_a_directory() -> None:
    rules = Owners("tests @qa\n")
    assert rules.of("tests/a.py") == ("@qa",)
    assert rules.of("pkg/tests/unit/b.py") == ("@qa",)
    assert rules.of("pkg/testsuite/b.py") == ()


def finding(path: str, concept: str = "ws", suppressed: str | None = None) -> Finding:
    return Finding(
        rule="SSOT001",
        concept=concept,
        path=path,
        line=1,
        col=0,
        end_line=1,
        end_col=1,
        message="m",
        matched="x",
        severity="block",
        scope="source",
        fingerprint=f"{path}-{concept}",
        suppressed=suppressed,
    )


def test_the_breakdown_counts_per_directory_and_per_owner_most_first() -> None:
    owners = Owners("* @platform\napp/billing/ @billing @finance\n")
    found = breakdown(
        [
            finding("app/billing/a.py"),
            finding("app/billing/b.py"),
            finding("app/chat/c.py"),
            finding("setup.py"),
            finding("app/chat/quiet.py", suppressed="reason"),
            finding("app/chat/d.py", concept="events"),
        ],
        owners=owners,
        depth=2,
    )
    assert found["ws"].directories == (("app/billing", 2), (".", 1), ("app/chat", 1))
    assert found["ws"].owners == (("@billing", 2), ("@finance", 2), ("@platform", 2))
    assert found["events"].directories == (("app/chat", 1),)


def test_without_codeowners_owners_are_empty_and_unowned_files_are_said() -> None:
    assert breakdown([finding("a/b.py")], owners=None, depth=1)["ws"].owners == ()
    unowned = breakdown([finding("a/b.py")], owners=Owners("docs/ @d\n"), depth=1)
    assert unowned["ws"].owners == (("(no owner)", 1),)


def test_directories_are_cut_at_the_policys_depth() -> None:
    assert directory_of("a/b/c/d.py", 2) == "a/b"
    assert directory_of("a/b/c/d.py", 5) == "a/b/c"
    assert directory_of("top.py", 2) == "."
