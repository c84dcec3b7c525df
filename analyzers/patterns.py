"""Policy patterns (regular expressions and globs) matched in time linear in the text.

A policy is written by whoever can push to a repository, and the App applies it to every
pull request of an installation that may span an organisation. Python's ``re`` backtracks:
``^(\\w|\\w)*-$`` searched in a 40-character class name, or a glob of thirty stars matched
against a 60-character path, takes longer than the age of the universe while holding the
GIL. RE2 (Google's engine, the ``google-re2`` binding) compiles a pattern into an automaton
and matches in time linear in the text, with a bounded amount of memory; what it cannot do
that way (back-references, look-around) it refuses to compile. So every policy pattern is
compiled here, and a pattern that RE2 refuses is refused by the policy loader, naming its key.

RE2 differs from ``re`` in ways a policy author may meet (see docs/policy.md): ``\\w``, ``\\d``,
``\\s`` and ``\\b`` are ASCII-only (``\\pL`` is any letter), the end of the text is ``\\z`` (or
``$``), and ``{,n}`` is literal text rather than a repeat.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Longer patterns are refused: nobody writes a 500-character class-name pattern by hand, and
# the cost of matching (linear in the text) also grows with the size of the automaton.
MAX_PATTERN_CHARS = 500
# A repository path longer than Linux's PATH_MAX cannot be checked out; the engine reports
# such a path (SSOT900) instead of matching it against anything.
MAX_PATH_CHARS = 4096
# RE2's budget for one compiled pattern; a pattern needing more is refused, never slowed down.
_MAX_MEM = 8 << 20
# ``{,n}`` is a repeat to ``re`` and literal text to RE2: refuse it rather than mean two things.
_LOWER_BOUNDLESS_REPEAT = re.compile(r"(?<!\\)\{,\d")

# RE2's error text -> what the author did and what to write instead.
_UNSUPPORTED = (
    ("invalid perl operator: (?=", "a look-ahead `(?=...)`"),
    ("invalid perl operator: (?!", "a negative look-ahead `(?!...)`"),
    ("invalid perl operator: (?<=", "a look-behind `(?<=...)`"),
    ("invalid perl operator: (?<!", "a negative look-behind `(?<!...)`"),
    ("invalid perl operator: (?(", "a conditional group `(?(1)...)`"),
    ("invalid perl operator: (?>", "an atomic group `(?>...)`"),
)


class UnsafePattern(ValueError):
    """A pattern that cannot be matched in linear time, or is not a pattern at all.

    ``str()`` is a message for the policy author; ``reason`` is RE2's own words.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class LinearPattern:
    """A compiled RE2 pattern whose ``search`` and ``fullmatch`` answer yes or no."""

    __slots__ = ("_regexp", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        import re2  # here, not at import: `ssot --help` must not need it

        options = re2.Options()
        options.log_errors = False  # RE2 would print every refused pattern on stderr
        options.never_capture = True  # yes/no answers only: the DFA alone suffices
        options.max_mem = _MAX_MEM
        self._regexp: Any = re2.compile(pattern, options)

    def search(self, text: str) -> bool:
        """True when the pattern matches somewhere in ``text``."""
        # Bytes skip the binding's str offset bookkeeping (twice as fast per call);
        # surrogateescape gives back the bytes a path was decoded from.
        return self._regexp.search(text.encode("utf-8", "surrogateescape")) is not None

    def search_bytes(self, data: bytes) -> bool:
        """True when the pattern matches somewhere in UTF-8 ``data``."""
        return self._regexp.search(data) is not None

    def fullmatch(self, text: str) -> bool:
        """True when the pattern matches the whole of ``text``."""
        return self._regexp.fullmatch(text.encode("utf-8", "surrogateescape")) is not None

    def matches(self, data: bytes) -> list[bytes]:
        """The texts of the successive non-overlapping matches in UTF-8 ``data``."""
        return [m.group() for m in self._regexp.finditer(data)]

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Policies (with their cached patterns) travel to worker processes by pickle.
        return (LinearPattern, (self.pattern,))

    def __repr__(self) -> str:
        return f"LinearPattern({self.pattern!r})"


def pattern_problem(pattern: str) -> str | None:
    """Why a policy regular expression is refused, or None when RE2 can match it."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"regular expression longer than {MAX_PATTERN_CHARS} characters"
    if _LOWER_BOUNDLESS_REPEAT.search(pattern):
        return f"{quoted(pattern)}: write a repeat with its lower bound, `{{0,n}}`, not `{{,n}}`"
    try:
        compiled(pattern)
    except UnsafePattern as exc:
        return str(exc)
    return None


@lru_cache(maxsize=256)
def compiled(pattern: str) -> LinearPattern:
    """A policy regular expression compiled by RE2, once per process.

    Raises :class:`UnsafePattern` with a message for the policy author when RE2 refuses it.
    """
    import re2

    try:
        return LinearPattern(pattern)
    except re2.error as exc:
        reason = _error_text(exc)
        raise UnsafePattern(_explain(pattern, reason), reason) from None


def _error_text(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else ""
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)


def quoted(pattern: str) -> str:
    """``pattern`` as a TOML literal string would hold it (``repr`` doubles backslashes)."""
    if "'" in pattern or not pattern.isprintable():
        return repr(pattern)
    return f"'{pattern}'"


def _explain(pattern: str, error: str) -> str:
    shown = quoted(pattern)
    linear = "which cannot be matched in linear time; policy patterns are RE2 syntax"
    for prefix, what in _UNSUPPORTED:
        if error.startswith(prefix):
            return f"{shown} uses {what}, {linear}"
    if error == "invalid perl operator: (?P" and "(?P=" in pattern:
        return f"{shown} uses a named back-reference `(?P=name)`, {linear}"
    if re.fullmatch(r"invalid escape sequence: \\[1-9]", error):
        return f"{shown} uses a back-reference `{error[-2:]}`, {linear}"
    if error == "invalid escape sequence: \\Z":
        return f"{shown}: write `\\z` (or `$`) for the end of the text; `\\Z` is not RE2 syntax"
    if error.startswith(("pattern too large", "invalid repetition size")):
        return f"{shown} is too large to match in linear time ({error}); simplify it"
    return f"invalid regular expression {shown}: {error}"
