"""## What it does
Reports a file that the engine could not analyse, with the reason: a syntax error (with its
line), text that is not UTF-8, a binary file (a NUL byte), a file over the policy's
``max_file_size`` (or one that grows past it while read), or a path that cannot be read or
is no regular file (a symlink to ``/dev/zero`` or to a FIFO, which is never read). The engine
never crashes on such a file and never skips it silently.

Encoding, binary content and size are checked for every file. Syntax is checked where a
finding could be: the engine parses only the statements around the policy's trigger
strings, so a syntax error in one of them (or one that makes a slice unparsable) is
reported, while an error in code that holds no trigger is not (a class, for instance, is
parsed without the bodies of its methods that hold none): no rule could find anything there,
and catching it would cost a full parse of every file (``ruff`` reports those).

## Why is this bad?
A file nobody can analyse is a file in which any amount of debt can hide. Counting it keeps
the totals honest.

## Example
```python
from netra_backend.app.websocket_core.websocket_manager import (WebSocketManager
```

## Use instead
Fix the syntax error, convert the file to UTF-8, or raise ``max_file_size`` in the policy.
Suppress with ``# ssot: ignore[SSOT900] reason`` only for files that are not Python at all.
"""

from __future__ import annotations

from analyzers.rules.base import Rule

CODE = "SSOT900"

RULE = Rule(
    code=CODE,
    name="unanalysable-file",
    summary="file that cannot be analysed",
    doc=__doc__ or "",
    check=None,
)
