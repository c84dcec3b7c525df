"""Lines numbered the way Python's tokenizer (and so ``ast``) numbers them."""

from __future__ import annotations

import re

# str.splitlines also splits on form feeds, \x1c-\x1e, \x85 and U+2028, which Python's
# tokenizer does not treat as line ends: every line number after one would shift.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """``text`` as lines with their endings, numbered like ``ast`` line numbers."""
    return _LINE.findall(text)


def source_lines(text: str) -> list[str]:
    """``text`` as lines without their endings, numbered like ``ast`` line numbers."""
    return [line.rstrip("\r\n") for line in _LINE.findall(text)]
