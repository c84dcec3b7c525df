"""The user docs cannot drift from the code they describe.

Rule pages are generated from the rule docstrings; regenerate them with
``SSOT_UPDATE_DOCS=1 .venv/bin/python -m pytest tests/test_docs.py``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from analyzers.policy import (
    Campaign,
    Concept,
    Dashboard,
    EventSchema,
    Implementation,
    Policy,
    RuleSettings,
)
from analyzers.policy_loader import PolicyError, load_policy
from analyzers.report.rule_docs import rule_page, rule_pages
from analyzers.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RULE_DOCS = DOCS / "rules"
UPDATE = os.environ.get("SSOT_UPDATE_DOCS") == "1"


def fenced_blocks(text: str, language: str) -> list[str]:
    """The contents of the ```language fenced blocks of a Markdown text."""
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.M | re.S)


def block_after(text: str, marker: str, language: str) -> str:
    """The first ```language block after an HTML comment marker."""
    start = text.index(f"<!-- {marker} -->")
    return fenced_blocks(text[start:], language)[0]


@pytest.mark.parametrize("code", list(RULES))
def test_rule_page_equals_the_text_generated_from_the_rule_docstring(code: str) -> None:
    path = RULE_DOCS / f"{code}.md"
    if UPDATE:
        path.write_text(rule_page(code), encoding="utf-8")
    assert path.is_file(), f"{path} is missing; run SSOT_UPDATE_DOCS=1 pytest tests/test_docs.py"
    assert path.read_text(encoding="utf-8") == rule_page(code), (
        f"{path.name} differs from the rule's docstring; "
        "run SSOT_UPDATE_DOCS=1 pytest tests/test_docs.py to regenerate it"
    )


def test_there_is_no_rule_page_for_a_rule_that_does_not_exist() -> None:
    assert sorted(p.name for p in RULE_DOCS.glob("*.md")) == sorted(rule_pages())


def test_rule_page_starts_with_code_and_name_then_the_summary() -> None:
    page = rule_page("SSOT001")
    assert page.startswith(
        "# SSOT001: non-canonical-import\n\nImport of a concept from a deprecated path.\n\n"
    )
    assert "## What it does" in page and "## Use instead" in page


def test_rule_page_accepts_a_lower_case_code() -> None:
    assert rule_page("ssot002") == rule_page("SSOT002")


@pytest.mark.parametrize(
    "model", [Policy, Concept, Implementation, EventSchema, RuleSettings, Campaign, Dashboard]
)
def test_policy_reference_documents_every_key_of_the_policy_model(model: type) -> None:
    text = (DOCS / "policy.md").read_text(encoding="utf-8")
    missing = [f.name for f in dataclasses.fields(model) if f"`{f.name}`" not in text]
    assert not missing, f"docs/policy.md does not document {model.__name__} keys {missing}"


def test_policy_reference_shows_the_example_policy_verbatim() -> None:
    text = (DOCS / "policy.md").read_text(encoding="utf-8")
    example = (ROOT / "examples" / "websocket-ssot.toml").read_text(encoding="utf-8")
    assert example in fenced_blocks(text, "toml")


def test_every_toml_example_in_the_policy_reference_loads_unless_it_shows_an_error() -> None:
    text = (DOCS / "policy.md").read_text(encoding="utf-8")
    error_example = block_after(text, "error-example", "toml")
    for block in fenced_blocks(text, "toml"):
        if block == error_example:
            continue
        source = "pyproject.toml" if "[tool.ssot" in block else ".github/ssot.toml"
        if "extends" in block:
            continue  # needs its parent policy
        load_policy(block, source)


def test_the_error_shown_in_the_policy_reference_is_the_one_the_loader_gives() -> None:
    text = (DOCS / "policy.md").read_text(encoding="utf-8")
    policy_text = block_after(text, "error-example", "toml")
    shown = block_after(text, "error-example", "text").strip()
    with pytest.raises(PolicyError) as caught:
        load_policy(policy_text, ".github/ssot.toml")
    assert str(caught.value) == shown


def test_cli_page_is_a_stub_with_its_heading() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert text.startswith("# The ssot command\n")
