"""Fixtures of the App's tests: settings on a temporary database, a client, the pipeline's
calls. Helpers (signing, posting, real payloads) are in bot_testing.py."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_testing import FAKE_PEM, SECRET, runtime
from fastapi.testclient import TestClient

from bot.checks import engine_process
from bot.events import route
from bot.ops.settings import Settings
from bot.web.app import create_app
from bot.work import CheckRequest, JobContext

SettingsFactory = Callable[..., Settings]


@pytest.fixture(scope="session", autouse=True)
def _engine_forkserver() -> None:
    """Start the forkserver of pull-request analyses once per test process, as ``ssot
    worker`` does at start: the first check must not pay for it inside a webhook's deadline
    (immediate mode runs the job in the request)."""
    engine_process.warm_up()


@pytest.fixture(autouse=True)
def _no_ssot_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own SSOT_* variables must not change what the tests see."""
    for name in list(os.environ):
        if name.startswith("SSOT_") and name != "SSOT_WEBHOOK_FIXTURES":
            monkeypatch.delenv(name)


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Settings of a configured App on a fresh SQLite database under ``tmp_path``."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "app_id": 1,
            "private_key": FAKE_PEM,
            "webhook_secret": SECRET,
            "data_dir": tmp_path / "data",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The App with jobs run at once inside the request (Huey's immediate mode)."""
    with TestClient(create_app(settings, immediate_jobs=True)) as test_client:
        yield test_client


@pytest.fixture
def engine(client: TestClient) -> Any:
    """The database of ``client``'s running App."""
    return runtime(client).engine


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[CheckRequest]:
    """Every check request the handlers make (to the pipeline or a command), recorded instead."""
    calls: list[CheckRequest] = []

    def record(request: CheckRequest, context: JobContext) -> None:
        calls.append(request)

    monkeypatch.setattr(route, "run_check_request", record)
    return calls


_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the browser tests' screenshots are, when this run took some."""
    from dashboard_testing import screenshots_dir

    folder = screenshots_dir()
    if any(shot.stat().st_mtime >= _STARTED for shot in folder.glob("*.png")):
        terminalreporter.write_line(f"browser screenshots: {folder}")
