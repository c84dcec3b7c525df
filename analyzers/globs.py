"""Path globs for policy keys (``exclude``, ``allowed_in``, ``test_paths``).

``**`` matches any number of directories, ``*`` and ``?`` stay within one path segment.
Compiled into one regular expression per set because these are tested for every file of
a scan, and importing a gitignore library costs more at start-up than the whole warm scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def glob_to_regex(pattern: str) -> str:
    """Translate one glob into an anchored regular-expression source."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    # A pattern naming a folder also covers everything below it.
    return "".join(out) + "(?:/.*)?"


class GlobSet:
    """A set of globs matched against repository-relative POSIX paths."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(p.strip().lstrip("/") for p in patterns if p.strip())
        if self.patterns:
            source = "|".join(f"(?:{glob_to_regex(p)})" for p in self.patterns)
            self._regex: re.Pattern[str] | None = re.compile(f"^(?:{source})$")
        else:
            self._regex = None

    def match(self, path: str) -> bool:
        """True when ``path`` matches any glob of the set."""
        return self._regex is not None and self._regex.match(path) is not None

    def __bool__(self) -> bool:
        return bool(self.patterns)


@lru_cache(maxsize=256)
def globset(patterns: tuple[str, ...]) -> GlobSet:
    """A :class:`GlobSet`, compiled once per process for the same patterns."""
    return GlobSet(patterns)
