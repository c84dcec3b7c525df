"""Settings: SSOT_* variables and .env; every problem names its variable; exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bot_testing import FAKE_PEM, ROOT

from bot import serve
from bot.ops.settings import MAX_WEBHOOK_BYTES, Settings, SettingsError, get_settings, load_settings


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    get_settings.cache_clear()


def problems_of(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    return caught.value.problems


def test_defaults_run_embedded_without_credentials() -> None:
    settings = load_settings()
    assert not settings.has_credentials
    assert settings.database_url == f"sqlite:///{Path('.ssot') / 'ssot.db'}"
    assert settings.redis_url is None
    assert settings.github_url == "https://api.github.com"
    assert settings.web_url == "https://github.com"
    assert settings.max_webhook_bytes == MAX_WEBHOOK_BYTES == 25 * 1024 * 1024
    assert settings.neutral_without_policy is False


def test_database_defaults_to_a_file_under_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSOT_DATA_DIR", "/srv/ssot")
    assert load_settings().database_url == "sqlite:////srv/ssot/ssot.db"


def test_variables_are_read_with_the_ssot_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSOT_APP_ID", "12345")
    monkeypatch.setenv("SSOT_PRIVATE_KEY", FAKE_PEM.replace("\n", "\\n"))  # one-line form
    monkeypatch.setenv("SSOT_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("SSOT_DATABASE_URL", "postgresql://ssot@127.0.0.1/ssot")
    monkeypatch.setenv("SSOT_MAX_WEBHOOK_BYTES", "1000")
    monkeypatch.setenv("SSOT_NEUTRAL_WITHOUT_POLICY", "true")
    settings = load_settings()
    assert settings.app_id == 12345
    assert settings.private_key_pem() == FAKE_PEM
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == "s3cret"
    assert settings.database_url == "postgresql://ssot@127.0.0.1/ssot"
    assert settings.max_webhook_bytes == 1000
    assert settings.neutral_without_policy is True


def test_dotenv_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        f'SSOT_APP_ID=7\nSSOT_PRIVATE_KEY="{FAKE_PEM.replace(chr(10), chr(92) + "n")}"\n'
        "SSOT_WEBHOOK_SECRET=from-file\nSSOT_DATA_DIR=from-file\nUNRELATED=1\n"
    )
    monkeypatch.setenv("SSOT_DATA_DIR", "from-env")
    settings = load_settings()
    assert settings.app_id == 7
    assert settings.private_key_pem() == FAKE_PEM
    assert settings.data_dir == Path("from-env")


def test_private_key_may_be_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pem = tmp_path / "app.pem"
    pem.write_text(FAKE_PEM)
    monkeypatch.setenv("SSOT_APP_ID", "1")
    monkeypatch.setenv("SSOT_PRIVATE_KEY_PATH", str(pem))
    monkeypatch.setenv("SSOT_WEBHOOK_SECRET", "x")
    assert load_settings().private_key_pem() == FAKE_PEM


def test_enterprise_server_web_url_is_derived_from_the_api_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSOT_GITHUB_URL", "https://ghe.example.com/api/v3/")
    settings = load_settings()
    assert settings.github_url == "https://ghe.example.com/api/v3"
    assert settings.web_url == "https://ghe.example.com"


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"SSOT_APP_ID": "abc"}, "SSOT_APP_ID: must be an integer"),
        (
            {"SSOT_NEUTRAL_WITHOUT_POLICY": "maybe"},
            "SSOT_NEUTRAL_WITHOUT_POLICY: must be true or false",
        ),
        ({"SSOT_MAX_WEBHOOK_BYTES": "0"}, "SSOT_MAX_WEBHOOK_BYTES: must be greater than 0"),
        ({"SSOT_MAX_WEBHOOK_BYTES": "lots"}, "SSOT_MAX_WEBHOOK_BYTES: must be an integer"),
        ({"SSOT_GITHUB_URL": "api.github.com"}, "SSOT_GITHUB_URL: must be an http(s) URL"),
        ({"SSOT_DATABASE_URL": "not a url"}, "SSOT_DATABASE_URL: not a database URL"),
        ({"SSOT_REDIS_URL": "http://127.0.0.1:6379"}, "SSOT_REDIS_URL: must be a redis:// URL"),
        ({"SSOT_APP_ID": "1"}, "SSOT_PRIVATE_KEY: required when SSOT_APP_ID is set"),
        (
            {"SSOT_APP_ID": "1", "SSOT_PRIVATE_KEY": FAKE_PEM},
            "SSOT_WEBHOOK_SECRET: required when SSOT_APP_ID is set",
        ),
        ({"SSOT_PRIVATE_KEY": FAKE_PEM}, "SSOT_APP_ID: required when a private key is set"),
        ({"SSOT_APP_ID": "1", "SSOT_PRIVATE_KEY": "hunter2"}, "SSOT_PRIVATE_KEY: not a PEM"),
        (
            {
                "SSOT_APP_ID": "1",
                "SSOT_PRIVATE_KEY_PATH": "/no/such.pem",
                "SSOT_WEBHOOK_SECRET": "x",
            },
            "SSOT_PRIVATE_KEY_PATH: no such file: /no/such.pem",
        ),
    ],
)
def test_a_bad_setting_is_one_message_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    problems = problems_of(monkeypatch, **env)
    assert len(problems) == 1
    assert problems[0].startswith(expected), problems[0]


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSOT_APP_ID", "")
    assert load_settings().app_id is None


def test_get_settings_reads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    monkeypatch.setenv("SSOT_DATA_DIR", "elsewhere")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().data_dir == Path("elsewhere")


@pytest.mark.parametrize("command", [serve.serve_command, serve.worker_command])
def test_commands_exit_2_with_the_variable_named(
    command: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SSOT_APP_ID", "abc")
    assert callable(command)
    assert command([]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith("error: SSOT_APP_ID: must be an integer")
    assert len(err.strip().splitlines()) == 1


def test_ssot_serve_from_the_cli_prints_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSOT_")}
    env["SSOT_APP_ID"] = "abc"
    result = subprocess.run(
        [sys.executable, "-m", "analyzers.cli", "serve"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "ssot serve: error: SSOT_APP_ID: must be an integer"
    assert "Traceback" not in result.stderr


def test_settings_accept_keyword_overrides(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.database_url == f"sqlite:///{tmp_path / 'ssot.db'}"
