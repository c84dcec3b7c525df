"""Under CI=true, a test that needs PostgreSQL or Redis fails when the service is absent.

Proven on the suite's own PostgreSQL tests, run by pytest in a subprocess with
TEST_POSTGRES_URL pointed at a port where nothing listens: skipped on a laptop, failed in CI.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_postgres_tests(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["TEST_POSTGRES_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:{unused_port()}/test"
    if ci is not None:
        env["CI"] = ci
    pytest_args = ["-q", "-p", "no:cacheprovider", "-m", "services", "tests/bot/test_migrations.py"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def outcomes(done: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """``{"skipped": 6, "deselected": 8}`` from pytest's last line."""
    last = done.stdout.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}


@pytest.mark.slow
def test_without_ci_a_missing_service_skips_its_tests_saying_why() -> None:
    done = run_postgres_tests(ci=None)
    assert done.returncode == 0, done.stdout + done.stderr
    counts = outcomes(done)
    assert counts["skipped"] >= 5 and "failed" not in counts and "passed" not in counts
    assert "PostgreSQL is not reachable at postgresql+psycopg://postgres@127.0.0.1:" in done.stdout


@pytest.mark.slow
def test_under_ci_a_missing_service_fails_its_tests() -> None:
    done = run_postgres_tests(ci="true")
    assert done.returncode == 1, done.stdout + done.stderr
    counts = outcomes(done)
    # A skip in a fixture becomes an error of the test's setup: it fails the run all the same.
    assert counts.get("failed", 0) + counts.get("errors", 0) >= 5
    assert "skipped" not in counts and "passed" not in counts
    assert "CI=true, so this test may not skip" in done.stdout
    assert "PostgreSQL is not reachable" in done.stdout
