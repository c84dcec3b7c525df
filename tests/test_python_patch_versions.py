"""The engine finds the same things on every CPython the package admits (``>=3.11``).

CPython 3.11.0-3.11.4 matched possessive repeats (``x*+``) wrongly inside repeated groups
(python/cpython#106052, #100061, fixed in 3.11.5). The engine's scan of strings and comments
used them: on Debian 12's python3 (3.11.2) a docstring came out as the empty string ``""``,
and the slices after it missed findings. These tests keep such patterns out, and, where an
affected interpreter is installed, run the engine on it.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

import analyzers
from analyzers.engine import analyze
from analyzers.policy_loader import load_policy

REPO = Path(__file__).resolve().parent.parent
POLICY = REPO / "examples" / "websocket-ssot.toml"

# A docstring, then two legacy payloads: on 3.11.2 with possessive repeats the second and
# third functions' findings were missed (a file of the generated corpus, cut down).
SAMPLE = '''"""Handlers.

    Two lines of text.
"""
import time


def started(self):
    """The run starts."""
    return {"type": "agent_started", "user": self.user_id, "time": str(time.time())}


def completed(self, tool_name):
    """The quota must be checked before the validator is legacy.

    Create the invalid origin of each metric.
    """
    return {
        "type": "agent_completed",
        "user": self.user_id,
        "time": str(time.time()),
        "tool": tool_name,
    }


def tool_done(self, run_id):
    return {
        "type": "tool_completed",
        "user": self.user_id,
        "time": str(time.time()),
        "run_id": run_id,
    }
'''


def _possessive(parsed: Any) -> bool:
    """Whether a parsed pattern (``re._parser``'s tree) holds a possessive repeat."""
    from re import _constants as c

    for op, arg in parsed:
        if op is c.POSSESSIVE_REPEAT:
            return True
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and _possessive(arg[2]):
            return True
        if op is c.SUBPATTERN and _possessive(arg[-1]):
            return True
        if op is c.ATOMIC_GROUP and _possessive(arg):
            return True
        if op in (c.ASSERT, c.ASSERT_NOT) and _possessive(arg[1]):
            return True
        if op is c.BRANCH and any(_possessive(branch) for branch in arg[1]):
            return True
    return False


def _engine_patterns() -> list[tuple[str, re.Pattern[str] | re.Pattern[bytes]]]:
    found: list[tuple[str, re.Pattern[str] | re.Pattern[bytes]]] = []
    for info in pkgutil.walk_packages(analyzers.__path__, "analyzers."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found.append((f"{info.name}.{name}", value))
    return found


def test_the_possessive_check_sees_a_possessive_repeat() -> None:
    from re import _parser

    assert _possessive(_parser.parse(r'"(?:[^"\\]++|\\.)*+"'))
    assert not _possessive(_parser.parse(r'"(?>(?:(?>[^"\\]+)|\\.)*)"'))


def test_no_pattern_of_the_engine_uses_a_possessive_repeat() -> None:
    from re import _parser

    patterns = _engine_patterns()
    assert len(patterns) > 20  # the walk found the engine's patterns
    offenders = [
        name
        for name, pattern in patterns
        if _possessive(_parser.parse(pattern.pattern, pattern.flags))
    ]
    assert offenders == [], "write x*+ as (?>x*): CPython 3.11.0-3.11.4 mismatch it"


def _affected_interpreters() -> list[str]:
    """CPython 3.11.0-3.11.4 interpreters on this machine (Debian 12's python3 is 3.11.2)."""
    found: list[str] = []
    for candidate in ("/usr/bin/python3.11", shutil.which("python3.11")):
        if candidate is None or not os.path.exists(candidate) or candidate in found:
            continue
        probe = "import sys; print(*sys.version_info[:3])"
        try:
            out = subprocess.run(
                [candidate, "-c", probe], capture_output=True, text=True, timeout=30
            ).stdout.split()
        except OSError:
            continue
        if len(out) == 3 and (int(out[0]), int(out[1])) == (3, 11) and int(out[2]) < 5:
            found.append(candidate)
    return found


def _findings_json(text: str) -> list[dict[str, Any]]:
    policy = load_policy(POLICY.read_text(encoding="utf-8")).policy
    result = analyze("app/handlers.py", text, policy)
    return [
        {"rule": f.rule, "line": f.line, "col": f.col, "message": f.message}
        for f in result.findings
    ]


_RUN_THERE = """
import json, sys
sys.path[:0] = [sys.argv[1]]
sys.path.append(sys.argv[2])  # this venv's site-packages: the same compiled ABI (cp311)
from analyzers.engine import analyze
from analyzers.policy_loader import load_policy
policy = load_policy(open(sys.argv[3], encoding="utf-8").read()).policy
text = sys.stdin.read()
result = analyze("app/handlers.py", text, policy)
print(json.dumps([
    {"rule": f.rule, "line": f.line, "col": f.col, "message": f.message}
    for f in result.findings
]))
"""


def test_the_sample_has_the_findings_a_whole_parse_gives() -> None:
    policy = load_policy(POLICY.read_text(encoding="utf-8")).policy
    whole = analyze("app/handlers.py", SAMPLE, policy, full_parse=True).findings
    assert [(f.rule, f.line) for f in whole] == [
        ("SSOT003", 10),
        ("SSOT003", 18),
        ("SSOT003", 27),
    ]
    assert _findings_json(SAMPLE) == [
        {"rule": f.rule, "line": f.line, "col": f.col, "message": f.message} for f in whole
    ]


@pytest.mark.parametrize("python", _affected_interpreters() or [None])
def test_an_affected_python_3_11_finds_what_this_one_finds(python: str | None) -> None:
    if python is None:
        pytest.skip(
            "no CPython 3.11.0-3.11.4 on this machine (Debian 12's /usr/bin/python3.11 is one): "
            "the possessive-repeat bug cannot be reproduced here"
        )
    if sys.version_info[:2] != (3, 11):
        pytest.skip(
            "this venv's compiled dependencies are not for Python 3.11: not importable there"
        )
    site_packages = sysconfig.get_paths()["purelib"]
    there = subprocess.run(
        [python, "-c", _RUN_THERE, str(REPO), site_packages, str(POLICY)],
        input=SAMPLE,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert there.returncode == 0, there.stderr
    assert json.loads(there.stdout) == _findings_json(SAMPLE)
