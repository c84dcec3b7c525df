"""``ssot demo``: one complete pull-request check of the App against the fake GitHub."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bot_testing import WEBHOOKS

from bot.demo import command, scenario
from bot.demo import history as demo_history
from fake_github import FakeGitHubState, make_app_keypair


@pytest.fixture(scope="module")
def result() -> command.DemoResult:
    """One run of the demo (the fake GitHub and the App, in this process)."""
    return command.run_demo()


@pytest.fixture(scope="module")
def printed(result: command.DemoResult) -> str:
    """What ``ssot demo`` prints for that run."""
    out = io.StringIO()
    command.print_result(result, out)
    command.print_dashboard(result, out, serving=False)
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
    assert "webhook       push x6 (main's last 6 weeks), signed -> 202 queued" in output
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


def test_the_demo_ends_with_the_dashboards_url(printed: str, result: command.DemoResult) -> None:
    assert result.dashboard_url.startswith("http://127.0.0.1:")
    assert result.dashboard_url.endswith("/dashboard")
    assert printed.rstrip().splitlines()[-3] == f"=== Dashboard: {result.dashboard_url} ==="
    assert "`ssot demo --serve` keeps it up" in printed


def test_the_demo_repository_has_six_weeks_of_main_with_a_policy_rename() -> None:
    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys)
    base = scenario.sample_files()
    repo = state.create_repo(scenario.OWNER, scenario.NAME, files=base)
    shas = demo_history.build_main(state, repo, base, now=dt.datetime.now(dt.UTC))
    # main ends where the example repository is, a commit a week up to now.
    head = state.get_commit(repo.branches["main"])
    assert head.sha == shas[-1]
    assert {p: state.blobs[b] for p, b in head.files.items()} == base
    dates = [state.get_commit(sha).date for sha in shas]
    assert [round((b - a).total_seconds() / 86400) for a, b in itertools.pairwise(dates)] == [7] * 5
    policies = [state.blobs[state.get_commit(sha).files[".github/ssot.toml"]] for sha in shas]
    assert [b'name = "ws-manager"' in p for p in policies] == [True, True] + [False] * 4
    sizes = [len(state.get_commit(sha).files) for sha in shas]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]  # debt removed


def test_the_app_recorded_every_push_of_main_as_history(result: command.DemoResult) -> None:
    assert result.history_samples == 6


def test_ssot_demo_serve_keeps_the_dashboard_up_for_a_person_to_sign_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: dict[str, str] = {}

    def visit(result: command.DemoResult) -> None:
        """What a person does while `ssot demo --serve` waits: sign in, look, for two people."""
        printed = capsys.readouterr().out
        assert f"=== Dashboard: {result.dashboard_url} ===" in printed
        assert "Serving until Ctrl-C." in printed
        for login in ("alice", "bob"):
            with httpx.Client(trust_env=False) as browser:
                first = browser.get(result.dashboard_url)
                assert first.status_code == 303 and "/login?next=" in first.headers["location"]
                app = result.dashboard_url.removesuffix("/dashboard")
                start = browser.post(f"{app}/login", data={"next": "/dashboard"})
                authorize = start.headers["location"]
                assert authorize.startswith(f"{result.github_url}/login/oauth/authorize?")
                query = parse_qs(urlsplit(authorize).query)
                back = browser.post(
                    f"{result.github_url}/login/oauth/authorize",
                    data={
                        "client_id": query["client_id"][0],
                        "redirect_uri": query["redirect_uri"][0],
                        "state": query["state"][0],
                        "login": login,
                        "decision": "authorize",
                    },
                )
                signed_in = browser.get(back.headers["location"])
                assert signed_in.headers["location"] == "/dashboard"
                seen[login] = browser.get(f"{app}/dashboard/acme/sample-repo").text

    assert command.demo_command(["--serve"], wait=visit) == 0
    assert "renamed from ws-manager" in seen["alice"] and "History" in seen["alice"]
    assert "Not found" in seen["bob"] and "History" not in seen["bob"]
