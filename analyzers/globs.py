"""Path globs for policy keys (``exclude``, ``allowed_in``, ``test_paths``).

``**`` matches any number of directories, ``*`` and ``?`` stay within one path segment,
``[abc]``, ``[a-z]`` and ``[!abc]`` are character classes. A set of globs is translated into
one RE2 pattern (:mod:`analyzers.patterns`): these are tested for every file of a scan, and a
glob comes from a policy we do not control, so it must match without backtracking (thirty
stars against a long path would never end with ``re``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property, lru_cache

from analyzers.patterns import MAX_PATH_CHARS, LinearPattern, UnsafePattern, compiled

# Most globs one policy key may list; a set of them is one RE2 pattern, compiled and matched
# as a whole, so its size is bounded too (each glob is at most MAX_PATTERN_CHARS long).
MAX_GLOBS = 1_000
# Characters RE2 reads as syntax (or might, in a class), escaped wherever a glob has them.
_PUNCTUATION = frozenset("!\"#$%&'()*+,-.:;<=>?@[\\]^_`{|}~")


def glob_to_regex(pattern: str, *, one_line: bool = False) -> str:
    """Translate one glob into an (unanchored) RE2 pattern source.

    ``one_line``: nothing in it matches a newline (``.`` must then be used without ``(?s)``),
    so that a match over paths joined by newlines stays within one path.
    """
    out: list[str] = []
    not_sep = "[^/\\n]" if one_line else "[^/]"
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
            out.append(not_sep + "*")
            i += 1
        elif c == "?":
            out.append(not_sep)
            i += 1
        elif c == "[" and (end := _class_end(pattern, i)) != -1:
            out.append(_char_class(pattern[i + 1 : end], one_line))
            i = end + 1
        else:
            out.append(_literal(c))
            i += 1
    # A pattern naming a folder also covers everything below it.
    return "".join(out) + "(?:/.*)?"


def _class_end(pattern: str, start: int) -> int:
    """Index of the ``]`` closing a non-empty class opened at ``start``, or -1 (a literal ``[``)."""
    body = start + 1
    if pattern.startswith(("!", "^"), body):
        body += 1
    end = pattern.find("]", body)
    return -1 if end in (-1, body) else end


def _char_class(body: str, one_line: bool = False) -> str:
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    # Every member is escaped except a `-` between two members: a range.
    members = [c if c == "-" and 0 < k < len(body) - 1 else _literal(c) for k, c in enumerate(body)]
    if negate and one_line:
        members.append("\\n")
    return "[" + ("^" if negate else "") + "".join(members) + "]"


def _literal(c: str) -> str:
    return "\\" + c if c in _PUNCTUATION else c


class GlobSet:
    """A set of globs matched against repository-relative POSIX paths.

    Raises :class:`analyzers.patterns.UnsafePattern` when the globs do not compile
    (the policy loader checks each glob first, so a loaded policy's sets always do).
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(p.strip().lstrip("/") for p in patterns if p.strip())
        self._pattern: LinearPattern | None = None
        if self.patterns:
            source = "|".join(f"(?:{glob_to_regex(p)})" for p in self.patterns)
            # (?s): `**` and `*` also cross a newline, which a file name may hold.
            self._pattern = compiled(f"(?s)^(?:{source})$")

    def match(self, path: str) -> bool:
        """True when ``path`` matches any glob of the set.

        A path longer than :data:`MAX_PATH_CHARS` matches nothing: the engine reports it
        as unanalysable (SSOT900) rather than spend time on it.
        """
        if self._pattern is None or len(path) > MAX_PATH_CHARS:
            return False
        return self._pattern.fullmatch(path)

    def unmatched(self, paths: list[str]) -> list[str]:
        """The paths that match no glob of the set, in their order: what :meth:`match` says
        of each, answered by one RE2 pass over them all (a scan asks it of every file, and
        one call per path was a tenth of a warm scan of ten thousand files)."""
        if self._pattern is None or not paths:
            return paths
        joined = "\n".join(paths)
        lines = self._lines_pattern
        # A path holding a newline, or too long to match, takes the path-by-path answer.
        if (
            lines is None
            or joined.count("\n") != len(paths) - 1
            or max(map(len, paths)) > MAX_PATH_CHARS
        ):
            return [p for p in paths if not self.match(p)]
        data = joined.encode("utf-8", "surrogateescape")
        hit = {m.decode("utf-8", "surrogateescape") for m in lines.matches(data)}
        return [p for p in paths if p not in hit] if hit else paths

    @cached_property
    def _lines_pattern(self) -> LinearPattern | None:
        """The set as one pattern matching whole lines; None when a glob itself holds a
        newline (its match could then span two paths)."""
        if any("\n" in p for p in self.patterns):
            return None
        source = "|".join(f"(?:{glob_to_regex(p, one_line=True)})" for p in self.patterns)
        try:
            return compiled(f"(?m)^(?:{source})$")
        except UnsafePattern:  # over RE2's memory budget, where the set itself was not
            return None

    def __bool__(self) -> bool:
        return bool(self.patterns)


@lru_cache(maxsize=256)
def globset(patterns: tuple[str, ...]) -> GlobSet:
    """A :class:`GlobSet`, compiled once per process for the same patterns."""
    return GlobSet(patterns)
