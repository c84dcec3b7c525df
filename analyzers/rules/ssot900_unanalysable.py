"""## What it does
Reports a file that the engine could not analyse, with the reason: a syntax error (with its
line), text that is not UTF-8, a binary file (a NUL byte), or a file over the policy's
``max_file_size``. The engine never crashes on such a file and never skips it silently.

A file that holds none of the policy's trigger strings cannot hold a finding whatever its
syntax, so only files that could hold one are parsed (and so only they can report a syntax
error); encoding, binary content and size are checked for every file.

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
