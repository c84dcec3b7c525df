"""SSOT001: imports of a concept from a deprecated path (example policy of the failure report)."""

from __future__ import annotations

from collections.abc import Callable

from analyzers import Finding

FindingsFn = Callable[..., list[Finding]]

OLD = "netra_backend.app.websocket_core.unified_manager"
OLD_IMPORT = f"from {OLD} import UnifiedWebSocketManager"


def ssot001(findings: list[Finding]) -> list[tuple[int, int]]:
    return [(f.line, f.col) for f in findings if f.rule == "SSOT001"]


def test_from_import_of_a_deprecated_symbol_is_reported_at_the_name(findings: FindingsFn) -> None:
    [finding] = findings(f"{OLD_IMPORT}\n")
    assert (finding.rule, finding.line, finding.col) == ("SSOT001", 1, len(f"from {OLD} import "))
    assert finding.concept == "websocket-manager"
    assert "netra_backend.app.websocket_core.websocket_manager.WebSocketManager" in finding.message


def test_from_import_of_a_symbol_re_exported_by_the_old_package_is_reported(
    findings: FindingsFn,
) -> None:
    text = "from netra_backend.app.websocket_core import WebSocketManager\n"
    assert ssot001(findings(text)) == [(1, text.index("WebSocketManager"))]


def test_from_import_with_an_alias_keeps_the_alias_in_the_message(findings: FindingsFn) -> None:
    [finding] = findings(f"{OLD_IMPORT} as Manager\n")
    assert "`UnifiedWebSocketManager as Manager`" in finding.message


def test_plain_import_of_a_deprecated_module_is_reported(findings: FindingsFn) -> None:
    text = "import netra_backend.app.websocket_core.websocket_manager_factory\n"
    assert ssot001(findings(text)) == [(1, 7)]


def test_import_as_of_a_deprecated_module_is_reported_once_at_the_module(
    findings: FindingsFn,
) -> None:
    # `import a.b as c` of a module deprecated as a whole (`...websocket_manager_factory.*`):
    # the import is the finding; uses through the alias are not reported again.
    module = "netra_backend.app.websocket_core.websocket_manager_factory"
    text = f"""\
        import {module} as factory

        manager = factory.create_manager()
        """
    [finding] = findings(text)
    assert (finding.rule, finding.line, finding.col) == ("SSOT001", 1, len("import "))
    assert finding.end_col == len(f"import {module} as factory")  # the whole alias
    assert "websocket_manager.WebSocketManager" in finding.message


def test_import_as_of_a_module_holding_a_deprecated_symbol_reports_its_use(
    findings: FindingsFn,
) -> None:
    # The module itself is not deprecated, one of its names is: the use through the alias is.
    text = f"""\
        import {OLD} as um

        manager = um.UnifiedWebSocketManager()
        other = um.helper()
        """
    [finding] = findings(text)
    assert (finding.line, finding.col) == (3, len("manager = "))
    assert "`um.UnifiedWebSocketManager`" in finding.message


def test_module_alias_then_attribute_is_reported_at_the_attribute(findings: FindingsFn) -> None:
    text = """\
        import netra_backend.app.websocket_core as wc

        manager = wc.WebSocketManager()
        """
    [finding] = findings(text)
    assert (finding.line, finding.col) == (3, 10)
    assert "`wc.WebSocketManager`" in finding.message


def test_attribute_chain_from_an_imported_parent_module_is_reported(findings: FindingsFn) -> None:
    text = f"""\
        import {OLD}

        manager = {OLD}.UnifiedWebSocketManager()
        """
    assert ssot001(findings(text)) == [(3, 10)]


def test_uses_of_a_deprecated_name_are_reported_once_at_its_import(findings: FindingsFn) -> None:
    text = f"""\
        {OLD_IMPORT}

        manager = UnifiedWebSocketManager.create()
        other = UnifiedWebSocketManager.registry.lookup()
        """
    assert [f.line for f in findings(text)] == [1]


def test_relative_import_resolves_from_the_file_module_path(findings: FindingsFn) -> None:
    text = "from ..websocket_core.unified_manager import UnifiedWebSocketManager\n"
    assert ssot001(findings(text, path="netra_backend/app/routes/ws.py")) == [(1, 45)]


def test_relative_import_with_three_levels_climbs_three_packages(findings: FindingsFn) -> None:
    text = "from ...websocket_core.unified_manager import UnifiedWebSocketManager\n"
    assert ssot001(findings(text, path="netra_backend/app/api/v1/ws.py")) == [(1, 46)]


def test_relative_import_in_a_package_init_counts_the_package_itself_as_one_level(
    findings: FindingsFn,
) -> None:
    text = "from .unified_manager import UnifiedWebSocketManager\n"
    assert ssot001(findings(text, path="netra_backend/app/websocket_core/__init__.py")) == [(1, 29)]


def test_relative_import_of_a_sibling_with_the_same_name_elsewhere_is_not_reported(
    findings: FindingsFn,
) -> None:
    text = "from .unified_manager import UnifiedWebSocketManager\n"
    assert findings(text, path="netra_backend/app/api/ws.py") == []


def test_relative_import_of_the_package_re_export_from_a_sibling_module(
    findings: FindingsFn,
) -> None:
    text = "from . import WebSocketManager\n"
    assert ssot001(findings(text, path="netra_backend/app/websocket_core/routes.py")) == [(1, 14)]


def test_import_inside_a_function_is_reported_with_the_function_as_scope(
    findings: FindingsFn,
) -> None:
    text = f"""\
        def connect():
            {OLD_IMPORT}
            return UnifiedWebSocketManager()
        """
    [finding] = findings(text)
    assert (finding.line, finding.scope_name) == (2, "connect")


def test_import_under_type_checking_is_reported(findings: FindingsFn) -> None:
    text = f"""\
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            {OLD_IMPORT}
        """
    assert [f.line for f in findings(text)] == [4]


def test_import_error_fallback_branch_is_reported_and_the_canonical_try_is_not(
    findings: FindingsFn,
) -> None:
    text = """\
        try:
            from netra_backend.app.websocket_core.websocket_manager import WebSocketManager
        except ImportError:
            from netra_backend.app.websocket_core import WebSocketManager
        """
    assert [f.line for f in findings(text)] == [4]


def test_name_in_a_multi_line_parenthesised_import_is_reported_on_its_own_line(
    findings: FindingsFn,
) -> None:
    text = f"""\
        from {OLD} import (
            helper,
            UnifiedWebSocketManager,
        )
        """
    assert ssot001(findings(text)) == [(3, 4)]


def test_star_import_from_a_module_holding_a_deprecated_name_is_reported(
    findings: FindingsFn,
) -> None:
    assert ssot001(findings(f"from {OLD} import *\n")) == [(1, len(f"from {OLD} import "))]


def test_star_import_from_a_deprecated_module_is_reported(findings: FindingsFn) -> None:
    text = "from netra_backend.app.websocket_core.websocket_manager_factory import *\n"
    assert [f.line for f in findings(text)] == [1]


def test_import_text_in_a_docstring_is_not_reported(findings: FindingsFn) -> None:
    text = f'''\
        """How to migrate.

        {OLD_IMPORT}
        """
        '''
    assert findings(text) == []


def test_import_text_in_a_comment_is_not_reported(findings: FindingsFn) -> None:
    assert findings(f"import json  # was: {OLD_IMPORT}\n# {OLD_IMPORT}\n") == []


def test_import_text_in_a_one_line_string_is_not_reported(findings: FindingsFn) -> None:
    assert findings(f"HINT = '{OLD_IMPORT}'\n") == []


def test_canonical_import_is_not_reported(findings: FindingsFn) -> None:
    text = """\
        from netra_backend.app.websocket_core.websocket_manager import WebSocketManager
        from netra_backend.app.websocket_core import websocket_manager
        import netra_backend.app.websocket_core.websocket_manager
        """
    assert findings(text) == []


def test_deprecated_import_in_a_file_of_allowed_in_is_not_reported(findings: FindingsFn) -> None:
    path = "netra_backend/app/websocket_core/websocket_manager.py"
    assert findings(f"{OLD_IMPORT}\n", path=path) == []


def test_deprecated_import_next_to_a_file_of_allowed_in_is_reported(findings: FindingsFn) -> None:
    path = "netra_backend/app/websocket_core/websocket_manager_v2.py"
    assert [f.rule for f in findings(f"{OLD_IMPORT}\n", path=path)] == ["SSOT001"]


def test_deprecated_import_in_a_test_file_has_test_scope(findings: FindingsFn) -> None:
    [finding] = findings(f"{OLD_IMPORT}\n", path="tests/unit/test_ws.py")
    assert finding.scope == "test"


FORWARD_REFERENCES = """\
    import netra_backend.app.websocket_core as core
    import netra_backend.app.websocket_core.unified_manager as um

    def handle(manager: "um.UnifiedWebSocketManager", other: "um.Other") -> "um.UnifiedWebSocketManager":
        factory: "core.websocket_manager_factory" = make()
        return manager
    """


def test_forward_references_to_deprecated_paths_are_reported(findings: FindingsFn) -> None:
    # A string annotation names a path through an import's alias: an argument, a return and
    # a variable annotation, and a whole deprecated module spelled from its parent package.
    found = [
        (f.line, f.col, f.matched) for f in findings(FORWARD_REFERENCES) if f.rule == "SSOT001"
    ]
    line = FORWARD_REFERENCES.splitlines()[3].lstrip()
    assert found == [
        (4, line.index('"um.Unified'), f"{OLD}.UnifiedWebSocketManager"),
        (4, line.rindex('"um.Unified'), f"{OLD}.UnifiedWebSocketManager"),
        (5, 4 + len("factory: "), "netra_backend.app.websocket_core.websocket_manager_factory.*"),
    ]
    assert found == [
        (f.line, f.col, f.matched)
        for f in findings(FORWARD_REFERENCES, full_parse=True)
        if f.rule == "SSOT001"
    ]


def test_a_forward_reference_to_a_deprecated_module_alone_is_reported(
    findings: FindingsFn,
) -> None:
    # The only string of the file names the module (deprecated as a whole), not a symbol.
    text = """\
        import netra_backend.app.websocket_core as core

        factory: "core.websocket_manager_factory" = make()
        """
    assert ssot001(findings(text)) == [(3, len("factory: "))]
