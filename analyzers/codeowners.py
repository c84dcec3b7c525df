"""CODEOWNERS, read as GitHub reads it: who owns a path, and who reviews it.

GitHub looks for the file in ``.github/``, the repository root, then ``docs/``, and uses the
first it finds; within it, the last pattern that matches a path wins (a pattern without
owners leaves the path unowned). The matching itself is the ``codeowners`` package's, a
port of the Go library that follows GitHub's rules (gitignore-style patterns without
negation). Owners are ``@user``, ``@org/team`` or an e-mail address; only the first two can
be asked for a review.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from analyzers.patterns import UnsafePattern, compiled

if TYPE_CHECKING:
    from codeowners import CodeOwners


class _LinearSearch:
    """A CODEOWNERS pattern's expression matched by RE2, with the ``search`` the package
    calls (a truthy result or None)."""

    def __init__(self, expression: str) -> None:
        # Python's end-of-string ``\Z`` is RE2's ``\z``.
        self._pattern = compiled(expression.replace(r"\Z", r"\z"))

    def search(self, path: str) -> bool | None:
        return True if self._pattern.search(path) else None


CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
MAX_LINE = 4_000  # a longer line is no pattern GitHub would use; it is skipped


@dataclass(frozen=True)
class Reviewers:
    """Who to ask for a review: user logins and team slugs (of the repository's owner)."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class Owners:
    """A parsed CODEOWNERS file (empty text: nobody owns anything)."""

    text: str = ""

    @cached_property
    def _parsed(self) -> CodeOwners:
        from codeowners import CodeOwners

        lines = [line for line in self.text.splitlines() if len(line) <= MAX_LINE]
        parsed = CodeOwners("\n".join(lines))
        # The package compiles each pattern for Python's backtracking ``re``, where a line
        # such as ``*a*a*a...*ab`` takes exponential time on a long path that almost matches:
        # anyone who can push a CODEOWNERS file could stall the App. The same expressions
        # are matched by RE2 instead, in linear time; one RE2 cannot read is skipped.
        linear = []
        for regex, *rest in parsed.paths:
            try:
                linear.append((_LinearSearch(regex.pattern), *rest))
            except UnsafePattern:
                continue
        parsed.paths = linear  # type: ignore[assignment]
        return parsed

    def of(self, path: str) -> tuple[str, ...]:
        """The owners of ``path`` as written (``@user``, ``@org/team``, e-mail), in order."""
        if not self.text.strip():
            return ()
        return tuple(owner for _kind, owner in self._parsed.of(path))


def reviewers(owners: Iterable[str], *, exclude: Iterable[str] = ()) -> Reviewers:
    """``owners`` sorted into users and teams, e-mail addresses and ``exclude`` left out.

    A team is named ``@org/slug``; GitHub's review request takes the slug alone.
    """
    skip = {name.lower().lstrip("@") for name in exclude}
    users: list[str] = []
    teams: list[str] = []
    for owner in owners:
        if not owner.startswith("@"):
            continue  # an e-mail address: no account to ask
        name = owner[1:]
        if "/" in name:
            slug = name.split("/", 1)[1]
            if slug and slug.lower() not in {t.lower() for t in teams}:
                teams.append(slug)
        elif name and name.lower() not in skip and name.lower() not in {u.lower() for u in users}:
            users.append(name)
    return Reviewers(tuple(users), tuple(teams))
