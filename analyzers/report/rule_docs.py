"""Rule documentation pages, generated from each rule module's docstring.

The docstring is the single source of truth (as in ruff): ``ssot explain``, the SARIF rule
help and ``docs/rules/SSOTnnn.md`` all print the same text, and ``tests/test_docs.py``
fails when a page in ``docs/`` no longer equals :func:`rule_page`.
"""

from __future__ import annotations

from analyzers.rules import RULES, get_rule


def rule_title(code: str) -> str:
    """``SSOT001: non-canonical-import``."""
    rule = get_rule(code)
    return f"{rule.code}: {rule.name}"


def rule_page(code: str) -> str:
    """The Markdown page of one rule: title, one-line summary, then the docstring."""
    rule = get_rule(code)
    summary = rule.summary[:1].upper() + rule.summary[1:]
    return f"# {rule_title(code)}\n\n{summary}.\n\n{rule.doc.strip()}\n"


def rule_pages() -> dict[str, str]:
    """``{"SSOT001.md": page, ...}`` for every registered rule."""
    return {f"{code}.md": rule_page(code) for code in RULES}


def doc_section(doc: str, heading: str) -> str:
    """The text under ``## heading`` in a rule docstring (empty when there is none)."""
    lines = doc.strip().splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("## "):
            if inside:
                break
            inside = line[3:].strip().rstrip("?").lower() == heading.rstrip("?").lower()
            continue
        if inside:
            out.append(line)
    return "\n".join(out).strip()
