"""The policy validator built from the written core schema is pydantic's own, without pydantic."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic_core
import pytest

from analyzers import PolicyError, load_policy, policy_core_schema, policy_schema
from analyzers.policy import Policy

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "websocket-ssot.toml"
REGENERATE = "write it again: python -m analyzers.policy_schema"
# Written with another pydantic-core, the schema is not used (pydantic builds the validator).
WRITTEN_FOR_ANOTHER_CORE = pytest.mark.skipif(
    pydantic_core.__version__ != policy_core_schema.PYDANTIC_CORE,
    reason=f"the schema was written with pydantic-core {policy_core_schema.PYDANTIC_CORE}, "
    f"{pydantic_core.__version__} is installed: the loader uses pydantic ({REGENERATE})",
)

# Policies that pydantic must refuse, each for another kind of error.
BAD = [
    {"version": 1, "concept": [{"name": "x"}]},  # canonical missing
    {"version": 1, "concpet": []},  # a typo: extra key
    {"version": 1, "max_file_size": "big"},  # wrong type
    {"version": 1, "concept": [{"name": "x", "canonical": "a.B", "deprecated": "a.C"}]},
    {"version": 1, "rules": {"SSOT001": {"severity": "loud"}}},  # not one of the literals
]


@pytest.fixture
def fresh_validator() -> Iterator[None]:
    policy_schema.policy_validator.cache_clear()
    yield
    policy_schema.policy_validator.cache_clear()


def outcome(data: dict[str, Any]) -> Policy | list[dict[str, Any]]:
    try:
        result: Policy = policy_schema.policy_validator().validate_python(data)
    except pydantic_core.ValidationError as exc:
        return exc.errors(include_url=False)
    return result


@WRITTEN_FOR_ANOTHER_CORE
def test_the_written_schema_is_what_pydantic_generates_from_the_dataclasses() -> None:
    written = policy_schema.SCHEMA_MODULE.read_text(encoding="utf-8")
    assert written == policy_schema.generated_module(), REGENERATE


def test_the_written_schema_was_generated_from_this_policy_module() -> None:
    # Checked on any pydantic: an edited analyzers/policy.py makes the written schema unused.
    assert policy_schema.policy_source_digest() == policy_core_schema.POLICY_SHA256, REGENERATE


@WRITTEN_FOR_ANOTHER_CORE
def test_a_policy_is_validated_without_importing_pydantic() -> None:
    script = (
        "import sys; from analyzers import load_policy; "
        f"p = load_policy(open({str(EXAMPLE)!r}).read()).policy; "
        "print(len(p.concept), *(m in sys.modules for m in "
        "('pydantic', 'pydantic_core', 'pydantic_core.core_schema', 'pydantic_core._pydantic_core')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    concepts = str(len(load_policy(EXAMPLE.read_text()).policy.concept))
    # Only pydantic-core's compiled module: not its package, whose __init__ imports core_schema.
    assert out == [concepts, "False", "False", "False", "True"]


@WRITTEN_FOR_ANOTHER_CORE
def test_pydantic_imported_after_a_policy_shares_its_compiled_module_and_errors() -> None:
    # The App imports pydantic (and so pydantic-core's package) after a policy may have been
    # validated with the compiled module loaded on its own: one module, one ValidationError.
    misspelt = 'version = 1\n[[concpet]]\nname = "x"\n'
    script = f"""
import sys
from analyzers import PolicyError, load_policy
load_policy(open({str(EXAMPLE)!r}).read())
loaded = sys.modules["pydantic_core._pydantic_core"]
import pydantic, pydantic_core
import pydantic_core._pydantic_core as again
assert again is loaded and pydantic_core.ValidationError is loaded.ValidationError
assert pydantic_core.SchemaValidator is loaded.SchemaValidator
try:
    pydantic.TypeAdapter(int).validate_python("x")
except pydantic_core.ValidationError as exc:
    print("pydantic", exc.error_count())
try:
    load_policy({misspelt!r})
except PolicyError as exc:
    print("policy", exc.key)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["pydantic", "1", "policy", "concpet"]


@pytest.fixture
def adapters(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The types that pydantic's TypeAdapter is asked to build a validator for."""
    import pydantic

    asked: list[object] = []
    real = pydantic.TypeAdapter

    def recording(kind: Any) -> Any:
        asked.append(kind)
        return real(kind)

    monkeypatch.setattr(pydantic, "TypeAdapter", recording)
    return asked


@WRITTEN_FOR_ANOTHER_CORE
def test_the_written_validator_gives_what_pydantic_gives(
    fresh_validator: None, adapters: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [tomllib.loads(EXAMPLE.read_text()), {"version": 1}, *BAD]
    written = [outcome(case) for case in cases]
    assert adapters == []  # built from the written schema
    policy_schema.policy_validator.cache_clear()
    monkeypatch.setattr(policy_core_schema, "PYDANTIC_CORE", "0.0.0")  # as if another release
    assert [outcome(case) for case in cases] == written
    assert adapters == [Policy]  # this time pydantic built it
    assert isinstance(written[0], Policy) and written[0].concept
    assert all(isinstance(w, list) and w for w in written[2:])


def test_an_edited_policy_module_falls_back_to_pydantic(
    fresh_validator: None, adapters: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policy_core_schema, "POLICY_SHA256", "0" * 64)
    with pytest.raises(PolicyError, match="concpet"):
        load_policy('version = 1\n[[concpet]]\nname = "x"\n')
    assert load_policy(EXAMPLE.read_text()).policy.concept
    assert adapters == [Policy]
