"""SSOT002: another implementation (or a re-exporting alias) of a concept."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from analyzers import Finding, Policy, analyze

FindingsFn = Callable[..., list[Finding]]
PolicyFn = Callable[[str], Policy]

CANONICAL_MODULE = "netra_backend/app/websocket_core/websocket_manager.py"
OLD_IMPORT = "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager"


def ssot002(findings: list[Finding]) -> list[tuple[int, str]]:
    return [(f.line, f.matched) for f in findings if f.rule == "SSOT002"]


@pytest.fixture(scope="module")
def bases_policy(make_policy: PolicyFn) -> Policy:
    """A concept recognised by its base class only, with no allowed_in (canonical home test)."""
    return make_policy(
        """
        [[concept]]
        name = "connection-pool"
        canonical = "netra_backend.app.pool.ConnectionPool"
        implementation = { bases = ["netra_backend.app.pool_base.BasePool"] }
        """
    )


def test_class_whose_name_matches_the_pattern_is_reported(findings: FindingsFn) -> None:
    [finding] = findings("class UserWebSocketManager:\n    pass\n")
    assert (finding.rule, finding.line, finding.col) == ("SSOT002", 1, 0)
    assert "name matches" in finding.message
    assert finding.severity == "block"


def test_class_with_min_methods_signature_methods_is_reported(findings: FindingsFn) -> None:
    text = """\
        class ConnectionHub:
            def add_connection(self, conn): ...

            def broadcast(self, message): ...
        """
    [finding] = findings(text)
    assert "defines `add_connection`, `broadcast`" in finding.message


def test_async_signature_methods_count_too(findings: FindingsFn) -> None:
    text = """\
        class ConnectionHub:
            async def send_to_user(self, user, message): ...

            async def remove_connection(self, conn): ...
        """
    assert ssot002(findings(text)) == [(1, "class ConnectionHub")]


def test_class_with_fewer_than_min_methods_signature_methods_is_not_reported(
    findings: FindingsFn,
) -> None:
    text = """\
        class ConnectionHub:
            def add_connection(self, conn): ...

            def close(self): ...
        """
    assert findings(text) == []


def test_class_derived_from_a_base_is_reported(findings: FindingsFn, bases_policy: Policy) -> None:
    text = """\
        from netra_backend.app.pool_base import BasePool

        class RedisPool(BasePool):
            pass
        """
    [finding] = findings(text, policy=bases_policy)
    assert finding.line == 3
    assert "derives from `netra_backend.app.pool_base.BasePool`" in finding.message


@pytest.mark.parametrize("full_parse", [False, True])
@pytest.mark.parametrize(
    ("imports", "base"),
    [
        ("from netra_backend.app.pool_base import BasePool", "BasePool[Redis]"),
        ("from netra_backend.app.pool_base import BasePool as Base", "Base[Redis, int]"),
        ("import netra_backend.app.pool_base as pb", "pb.BasePool[Redis][int]"),
    ],
)
def test_class_derived_from_a_generic_base_is_reported(
    imports: str, base: str, full_parse: bool, findings: FindingsFn, bases_policy: Policy
) -> None:
    # Home Assistant's coordinators are `class XCoordinator(DataUpdateCoordinator[Data])`: the
    # type argument does not make it another base (sliced and whole-file parses agree).
    text = f"{imports}\n\nclass RedisPool({base}):\n    pass\n"
    [finding] = findings(text, policy=bases_policy, full_parse=full_parse)
    assert finding.line == 3
    assert "derives from `netra_backend.app.pool_base.BasePool`" in finding.message


@pytest.mark.parametrize(
    "header",
    [
        "class Sensor(Entity[BasePool[Redis]]):",
        "class Sensor(\n    Entity[\n        BasePool],\n):",
    ],
    ids=["one line", "over lines"],
)
def test_a_base_named_only_as_a_type_argument_is_not_parsed_for(
    header: str, findings: FindingsFn, bases_policy: Policy
) -> None:
    # Home Assistant's entities are `class X(CoordinatorEntity[DataUpdateCoordinator[D]])`:
    # they derive from the entity, and the coordinator they name is no base of theirs.
    text = f"from netra_backend.app.pool_base import BasePool\n\n{header}\n    pass\n"
    assert findings(text, policy=bases_policy, full_parse=True) == []
    sliced = analyze("pkg/mod.py", text.encode(), bases_policy)
    assert (sliced.findings, sliced.candidate) == ([], False)


def test_class_derived_from_an_imported_alias_of_a_base_is_reported(
    findings: FindingsFn, bases_policy: Policy
) -> None:
    text = """\
        from netra_backend.app.pool_base import BasePool as Base

        class RedisPool(Base):
            pass
        """
    [finding] = findings(text, policy=bases_policy)
    assert "derives from `netra_backend.app.pool_base.BasePool`" in finding.message


def test_class_derived_from_a_base_through_a_module_alias_is_reported(
    findings: FindingsFn, bases_policy: Policy
) -> None:
    text = """\
        import netra_backend.app.pool_base as pb

        class RedisPool(pb.BasePool):
            pass
        """
    assert ssot002(findings(text, policy=bases_policy)) == [(3, "class RedisPool")]


def test_canonical_class_in_its_canonical_module_is_not_reported(
    findings: FindingsFn, bases_policy: Policy
) -> None:
    text = """\
        from netra_backend.app.pool_base import BasePool

        class ConnectionPool(BasePool):
            pass
        """
    assert findings(text, path="netra_backend/app/pool.py", policy=bases_policy) == []


def test_second_class_in_the_canonical_module_is_reported(
    findings: FindingsFn, bases_policy: Policy
) -> None:
    text = """\
        from netra_backend.app.pool_base import BasePool

        class ConnectionPool(BasePool):
            pass

        class ConnectionPoolV2(BasePool):
            pass
        """
    assert ssot002(findings(text, path="netra_backend/app/pool.py", policy=bases_policy)) == [
        (6, "class ConnectionPoolV2")
    ]


def test_canonical_name_in_another_module_is_reported(
    findings: FindingsFn, bases_policy: Policy
) -> None:
    text = """\
        from netra_backend.app.pool_base import BasePool

        class ConnectionPool(BasePool):
            pass
        """
    assert ssot002(
        findings(text, path="netra_backend/app/legacy_pool.py", policy=bases_policy)
    ) == [(3, "class ConnectionPool")]


def test_class_in_a_file_of_allowed_in_is_not_reported(findings: FindingsFn) -> None:
    text = """\
        class WebSocketManager:
            def add_connection(self, conn): ...

            def broadcast(self, message): ...
        """
    assert findings(text, path=CANONICAL_MODULE) == []


def test_class_in_a_test_path_has_test_scope_and_the_tests_severity(findings: FindingsFn) -> None:
    [finding] = findings("class UserWebSocketManager:\n    pass\n", path="tests/unit/test_ws.py")
    assert (finding.scope, finding.severity) == ("test", "warn")


@pytest.mark.parametrize(
    "name",
    [
        "TestWebSocketManager",
        "MockWebSocketManager",
        "FakeWebSocketManager",
        "WebSocketManagerStub",
    ],
)
def test_test_double_named_class_in_source_has_test_scope(findings: FindingsFn, name: str) -> None:
    [finding] = findings(f"class {name}:\n    pass\n")
    assert (finding.scope, finding.severity) == ("test", "warn")


def test_class_nested_in_a_test_class_has_test_scope(findings: FindingsFn) -> None:
    text = """\
        class TestRouting:
            class RecordingWebSocketManager:
                pass
        """
    [finding] = findings(text)
    assert (finding.scope, finding.scope_name) == ("test", "TestRouting")


def test_ordinary_class_in_source_has_source_scope_and_blocks(findings: FindingsFn) -> None:
    [finding] = findings("class RetryingWebSocketManager:\n    pass\n")
    assert (finding.scope, finding.severity, finding.blocking) == ("source", "block", True)


def test_class_nested_in_a_function_is_reported_with_the_function_as_scope(
    findings: FindingsFn,
) -> None:
    text = """\
        def make_manager():
            class LocalWebSocketManager:
                pass
            return LocalWebSocketManager
        """
    [finding] = findings(text)
    assert (finding.line, finding.col, finding.scope_name) == (2, 4, "make_manager")


def test_module_level_alias_of_a_deprecated_class_is_reported(findings: FindingsFn) -> None:
    text = f"""\
        {OLD_IMPORT}

        WSM = UnifiedWebSocketManager
        """
    [alias] = [f for f in findings(text) if f.rule == "SSOT002"]
    assert alias.line == 3
    assert (
        alias.matched
        == "WSM = netra_backend.app.websocket_core.unified_manager.UnifiedWebSocketManager"
    )


def test_canonical_name_bound_to_the_old_class_outside_the_canonical_module_is_reported(
    findings: FindingsFn,
) -> None:
    text = f"""\
        {OLD_IMPORT}

        WebSocketManager = UnifiedWebSocketManager
        """
    path = "netra_backend/app/websocket_core/__init__.py"
    assert [f.line for f in findings(text, path=path) if f.rule == "SSOT002"] == [3]


def test_alias_of_the_canonical_class_under_another_name_is_reported(findings: FindingsFn) -> None:
    text = """\
        from netra_backend.app.websocket_core.websocket_manager import WebSocketManager

        Manager = WebSocketManager
        """
    assert [f.line for f in findings(text)] == [3]


def test_alias_inside_a_function_is_not_a_re_export(findings: FindingsFn) -> None:
    text = """\
        from netra_backend.app.websocket_core.websocket_manager import WebSocketManager

        def build():
            Manager = WebSocketManager
            return Manager()
        """
    assert findings(text) == []


def test_unrelated_class_and_assignment_are_not_reported(findings: FindingsFn) -> None:
    text = """\
        import json

        class Serializer:
            def add_connection(self): ...

        dumps = json.dumps
        """
    assert findings(text) == []
