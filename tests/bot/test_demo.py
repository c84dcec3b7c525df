"""``ssot demo``: one complete pull-request check of the App against the fake GitHub."""

from __future__ import annotations

import io
import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from bot_testing import WEBHOOKS

from bot.demo import command, scenario


@pytest.fixture(scope="module")
def result() -> command.DemoResult:
    """One run of the demo (the fake GitHub and the App, in this process)."""
    return command.run_demo()


@pytest.fixture(scope="module")
def printed(result: command.DemoResult) -> str:
    """What ``ssot demo`` prints for that run."""
    out = io.StringIO()
    command.print_result(result, out)
    return out.getvalue()


def test_ssot_demo_is_the_demo_command_of_the_app() -> None:
    [entry] = [ep for ep in entry_points(group="ssot.commands") if ep.name == "demo"]
    assert entry.value == "bot.demo.command:demo_command"


@pytest.mark.parametrize(
    ("bundled", "fixture"),
    [
        (scenario.OPENED_PAYLOAD, "pull_request/opened.payload.json"),
        (scenario.PUSH_PAYLOAD, "push/with-installation.payload.json"),
    ],
)
def test_the_bundled_payloads_are_githubs_real_ones(bundled: Path, fixture: str) -> None:
    shared = WEBHOOKS / fixture
    if not shared.is_file():
        pytest.skip(f"no shared fixtures at {WEBHOOKS}")
    assert bundled.read_bytes() == shared.read_bytes()


def test_the_demo_pull_request_fails_on_what_it_adds(printed: str) -> None:
    output = printed
    assert "webhook       push, signed -> 202 queued" in output
    assert "webhook       pull_request, signed -> 202 queued" in output
    assert "=== Check run" in output and ": FAILURE ===" in output
    for code in ("SSOT001", "SSOT002", "SSOT003"):
        assert code in output
    assert "netra_backend/app/agents/notifier.py" in output
    assert "SessionWebSocketManager" in output


def test_the_demo_prints_review_comments_with_suggestion_blocks(printed: str) -> None:
    output = printed
    assert "=== Review" in output
    assert "```suggestion" in output
    assert (
        "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager"
        " as UnifiedWebSocketManager" in output
    )


def test_ssot_demo_json_prints_the_posted_objects(capsys: pytest.CaptureFixture[str]) -> None:
    assert command.demo_command(["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    [run] = data["check_runs"]
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    assert {item["path"] for item in data["annotations"]} >= {
        "netra_backend/app/agents/notifier.py",
        "netra_backend/app/websocket_core/session_manager.py",
    }
    assert any("```suggestion" in c["body"] for c in data["review_comments"])


def test_the_demo_shows_new_fixed_and_unchanged_findings(result: command.DemoResult) -> None:
    [run] = result.check_runs
    summary = run["output"]["summary"]
    assert "3 new findings" in summary and "1 fixed" in summary and "2 unchanged" in summary
    annotated = sorted((a["path"], a["title"].split()[0]) for a in result.annotations)
    assert annotated == [
        ("netra_backend/app/agents/notifier.py", "SSOT001"),
        ("netra_backend/app/agents/notifier.py", "SSOT003"),
        ("netra_backend/app/websocket_core/session_manager.py", "SSOT002"),
    ]
    assert all(a["annotation_level"] == "failure" for a in result.annotations)
