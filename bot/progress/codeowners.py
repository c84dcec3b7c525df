"""CODEOWNERS as GitHub reads it: who owns a path.

GitHub looks for ``.github/CODEOWNERS``, then ``CODEOWNERS``, then ``docs/CODEOWNERS`` and uses
the first it finds (:data:`LOCATIONS`). Each line is a pattern followed by owners (``@user``,
``@org/team`` or an e-mail address); ``#`` starts a comment. The **last** line whose pattern
matches a path gives its owners, and a matching line without owners leaves the path unowned.
Patterns follow ``.gitignore`` with GitHub's exceptions:

- a pattern without a slash (other than a trailing one) matches at any depth: ``*.py``,
  ``apps/`` (a directory named ``apps`` anywhere);
- a leading slash, or a slash in the middle, anchors it at the root: ``/docs/``,
  ``apps/github``;
- a match on a directory covers everything below it, except for a pattern ending in ``/*``,
  which covers the directory's own files only (``docs/*`` owns ``docs/a.md``, not
  ``docs/sub/b.md``);
- ``**`` spans directories; ``\\#`` escapes a leading ``#``; ``!`` (negation) and ``[...]``
  ranges are not supported by GitHub, so such lines are skipped as GitHub skips them.

Pure: text in, owners out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
MAX_BYTES = 3 * 1024 * 1024  # GitHub ignores a larger CODEOWNERS file
UNOWNED = "(no owner)"


@dataclass(frozen=True)
class Rule:
    """One line of a CODEOWNERS file."""

    pattern: str
    owners: tuple[str, ...]
    line: int
    regex: re.Pattern[str]


def _translate(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The regular expression of one CODEOWNERS pattern, or None when GitHub ignores it."""
    if not pattern or pattern.startswith("!") or "[" in pattern or "]" in pattern:
        return None
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    if not body:
        return None
    if body.endswith("/*") and not body.endswith("/**/*"):
        # GitHub: "docs/*" owns the directory's files, not those of its subdirectories.
        tail = ""
    elif directory:
        tail = "/.*"
    else:
        tail = "(?:/.*)?"
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{_translate(body)}{tail}$", re.DOTALL)


def parse(text: str) -> list[Rule]:
    """The rules of a CODEOWNERS file, in order (unusable lines skipped)."""
    rules: list[Rule] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("\\#"):
            line = line[1:]
        # An owner list ends at an inline comment; a pattern may escape spaces as "\ ".
        fields = re.split(r"(?<!\\)\s+", line.split(" #", 1)[0].strip())
        pattern = fields[0].replace("\\ ", " ")
        regex = compile_pattern(pattern)
        if regex is None:
            continue
        owners = tuple(f for f in fields[1:] if f.startswith("@") or "@" in f)
        rules.append(Rule(pattern, owners, number, regex))
    return rules


class CodeOwners:
    """The owners of paths under one CODEOWNERS file (last matching rule wins)."""

    def __init__(self, text: str) -> None:
        self.rules = parse(text)
        self._owners = lru_cache(maxsize=65_536)(self._lookup)

    def owners(self, path: str) -> tuple[str, ...]:
        """The owners of ``path`` (repository-relative, ``/``-separated); () when unowned."""
        return self._owners(path.lstrip("/"))

    def _lookup(self, path: str) -> tuple[str, ...]:
        for rule in reversed(self.rules):
            if rule.regex.match(path):
                return rule.owners
        return ()


def find_location(paths: dict[str, str] | set[str]) -> str | None:
    """Which CODEOWNERS file GitHub uses among ``paths`` (the first of :data:`LOCATIONS`)."""
    return next((p for p in LOCATIONS if p in paths), None)
