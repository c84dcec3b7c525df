"""The setup page and the manifest flow: app.yml in, credentials in .env (mode 0600) out."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from bot_testing import FAKE_PEM, runtime
from fastapi.testclient import TestClient

from bot.events.dispatch import DISPATCH
from bot.ops.settings import Settings
from bot.web import manifest
from bot.web.app import create_app

CONVERSION = {
    "id": 424242,
    "slug": "ssot-guard-test",
    "html_url": "https://github.com/apps/ssot-guard-test",
    "pem": FAKE_PEM,
    "webhook_secret": "generated-secret",
    "client_id": "Iv1.abc",
    "client_secret": "client-secret",
    "owner": {"login": "octo-org"},
}


class FakeGitHub:
    """GitHub's side of the code exchange, as an httpx transport (no network)."""

    def __init__(self, status: int = 201) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST" and re.fullmatch(
            r"/app-manifests/[^/]+/conversions", request.url.path
        ):
            return httpx.Response(self.status, json=CONVERSION if self.status == 201 else {})
        return httpx.Response(404, json={"message": "Not Found"})


@pytest.fixture
def github() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    return tmp_path / "app" / ".env"


@pytest.fixture
def setup_client(
    make_settings: Callable[..., Settings], github: FakeGitHub, env_file: Path
) -> Iterator[TestClient]:
    """The App before it exists: no credentials; the browser holds the setup token."""
    settings = make_settings(
        app_id=None, private_key=None, webhook_secret=None, public_url="http://testserver"
    )
    app = create_app(settings, env_file=env_file, http_transport=httpx.MockTransport(github))
    with TestClient(app) as client:
        open_setup(client)
        yield client


def open_setup(client: TestClient) -> None:
    """Follow the setup address printed at start: the token becomes the browser's cookie."""
    token = runtime(client).setup_token
    assert token is not None
    response = client.get("/", params={"token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert client.cookies.get("ssot_setup") == token


def form_of(page: str) -> tuple[str, dict[str, Any]]:
    """The manifest form's action and the manifest it posts."""
    action = re.search(r"<form action='([^']+)' method='post'>", page)
    value = re.search(r"name='manifest' value='([^']+)'", page)
    assert action is not None and value is not None, page
    return unescape(action.group(1)), json.loads(unescape(value.group(1)))


def state_in(action: str) -> str:
    found = re.search(r"[?&]state=([^&]+)", action)
    assert found is not None
    return found.group(1)


def test_app_yml_asks_for_the_permissions_and_events_the_app_needs() -> None:
    data = manifest.load_manifest(manifest.BUNDLED_MANIFEST)
    assert data["default_permissions"] == {
        "checks": "write",
        "pull_requests": "write",
        "issues": "write",
        "contents": "write",
        "metadata": "read",
    }
    assert set(data["default_events"]) == {
        "pull_request",
        "issue_comment",
        "issues",
        "check_run",
        "check_suite",
        "installation",
        "installation_repositories",
        "push",
    }
    # Every event the App handles is one it subscribes to.
    assert {event for event, _ in DISPATCH} <= set(data["default_events"])
    assert data["public"] is False
    assert data["name"] and "hook_attributes" in data and "redirect_url" in data


def test_without_credentials_the_home_page_creates_the_app_from_the_manifest(
    setup_client: TestClient,
) -> None:
    response = setup_client.get("/")
    assert response.status_code == 200
    action, posted = form_of(response.text)
    assert action.startswith("https://github.com/settings/apps/new?state=")
    assert posted["hook_attributes"]["url"] == "http://testserver/api/github/webhooks"
    assert posted["redirect_url"] == "http://testserver/setup/callback"
    assert posted["callback_urls"] == ["http://testserver/login/callback"]  # dashboard sign-in
    assert posted["url"] == "http://testserver"
    assert posted["default_permissions"]["checks"] == "write"
    assert "pull_request" in posted["default_events"]
    assert "GitHub cannot reach this address" not in response.text  # testserver is not local


def test_an_organisation_gets_its_own_new_app_page(setup_client: TestClient) -> None:
    action, _ = form_of(setup_client.get("/", params={"org": "octo-org"}).text)
    assert action.startswith("https://github.com/organizations/octo-org/settings/apps/new?state=")
    assert setup_client.get("/", params={"org": "../evil"}).status_code == 400


def test_the_public_url_and_enterprise_server_are_honoured(
    make_settings: Callable[..., Settings], env_file: Path
) -> None:
    settings = make_settings(
        app_id=None,
        private_key=None,
        webhook_secret=None,
        github_url="https://ghe.example.com/api/v3",
        public_url="https://ssot.example.com/",
    )
    with TestClient(create_app(settings, env_file=env_file)) as client:
        open_setup(client)
        action, posted = form_of(client.get("/").text)
    assert action.startswith("https://ghe.example.com/settings/apps/new?state=")
    assert posted["hook_attributes"]["url"] == "https://ssot.example.com/api/github/webhooks"


def test_a_local_address_is_flagged(make_settings: Callable[..., Settings], env_file: Path) -> None:
    settings = make_settings(
        app_id=None, private_key=None, webhook_secret=None, public_url="http://127.0.0.1:8000"
    )
    with TestClient(create_app(settings, env_file=env_file)) as client:
        open_setup(client)
        assert "GitHub cannot reach this address" in client.get("/").text


def test_the_callback_exchanges_the_code_and_writes_env_with_mode_0600(
    setup_client: TestClient, github: FakeGitHub, env_file: Path
) -> None:
    env_file.parent.mkdir(parents=True)
    env_file.write_text(
        "# mine\nSSOT_DATA_DIR=/srv/ssot\nSSOT_PRIVATE_KEY_PATH=/old/key.pem\nSSOT_APP_ID=1\n"
    )
    state = state_in(form_of(setup_client.get("/").text)[0])
    response = setup_client.get("/setup/callback", params={"code": "abc123", "state": state})
    assert response.status_code == 200
    assert "Restart" in response.text and "ssot-guard-test" in response.text
    [request] = github.requests
    assert request.url == "https://api.github.com/app-manifests/abc123/conversions"

    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.app_id == 424242
    assert settings.private_key_pem() == FAKE_PEM
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == "generated-secret"
    assert settings.client_id == "Iv1.abc"
    assert settings.client_secret is not None
    assert settings.client_secret.get_secret_value() == "client-secret"
    assert settings.private_key_path is None  # replaced by the new key
    assert settings.data_dir == Path("/srv/ssot")  # other lines kept
    assert env_file.read_text().startswith("# mine\n")

    # Until the restart the page says so, and the flow cannot run twice.
    assert "Restart" in setup_client.get("/").text
    again = setup_client.get("/setup/callback", params={"code": "abc123", "state": state})
    assert again.status_code == 404
    # No absolute path of the server on the page.
    assert str(env_file.parent) not in response.text and str(env_file) not in response.text


def test_a_callback_without_a_state_we_issued_is_refused(
    setup_client: TestClient, github: FakeGitHub, env_file: Path
) -> None:
    setup_client.get("/")
    for params in ({"code": "abc"}, {"code": "abc", "state": "forged"}):
        assert setup_client.get("/setup/callback", params=params).status_code == 400
    assert github.requests == []
    assert not env_file.exists()


def test_a_failed_exchange_writes_nothing(
    setup_client: TestClient, github: FakeGitHub, env_file: Path
) -> None:
    github.status = 404  # an expired or used code
    state = state_in(form_of(setup_client.get("/").text)[0])
    response = setup_client.get("/setup/callback", params={"code": "old", "state": state})
    assert response.status_code == 502
    assert "start again" in response.text
    assert not env_file.exists()


def test_with_credentials_home_is_a_status_page_and_setup_is_closed(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "App 1 is running" in page.text
    assert "<form" not in page.text
    assert client.get("/setup/callback", params={"code": "x", "state": "y"}).status_code == 404


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_write_env_file_keeps_a_multiline_value_of_another_variable(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text('OTHER="line one\nline two"\nSSOT_WEBHOOK_SECRET=old\n')
    manifest.write_env_file(path, CONVERSION)
    text = path.read_text()
    assert text.startswith('OTHER="line one\nline two"\n')
    assert "old" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- the setup cannot be taken over -----------------------------------------------------------


def test_without_the_printed_token_there_is_no_setup_page(
    make_settings: Callable[..., Settings], env_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(
        app_id=None, private_key=None, webhook_secret=None, public_url="https://ssot.example"
    )
    with TestClient(create_app(settings, env_file=env_file)) as client:
        token = runtime(client).setup_token
        assert token and f"https://ssot.example/?token={token}" in capsys.readouterr().err
        for params in ({}, {"token": "guessed"}):
            response = client.get("/", params=params)
            assert response.status_code == 403
            assert "<form" not in response.text
        assert not runtime(client).setup_states


def test_a_callback_from_another_browser_is_refused(
    setup_client: TestClient, github: FakeGitHub, env_file: Path
) -> None:
    # The state leaked (a Referer, a log): without the setup cookie it is worth nothing.
    state = state_in(form_of(setup_client.get("/").text)[0])
    setup_client.cookies.clear()
    response = setup_client.get("/setup/callback", params={"code": "abc", "state": state})
    assert response.status_code == 403
    assert github.requests == []
    assert not env_file.exists()


def test_the_manifest_never_takes_its_urls_from_the_host_header(setup_client: TestClient) -> None:
    page = setup_client.get("/", headers={"host": "evil.example"}).text
    _, posted = form_of(page)
    assert posted["hook_attributes"]["url"] == "http://testserver/api/github/webhooks"
    assert "evil.example" not in page


def test_without_a_public_url_the_setup_page_asks_for_one(
    make_settings: Callable[..., Settings], env_file: Path
) -> None:
    settings = make_settings(app_id=None, private_key=None, webhook_secret=None)
    with TestClient(create_app(settings, env_file=env_file)) as client:
        open_setup(client)
        response = client.get("/")
        assert response.status_code == 400 and "SSOT_PUBLIC_URL" in response.text


def test_openapi_and_the_docs_pages_are_off(client: TestClient) -> None:
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code == 404


def test_metrics_and_the_status_page_can_require_a_token(
    make_settings: Callable[..., Settings], env_file: Path
) -> None:
    settings = make_settings(status_token="s3cret")
    with TestClient(create_app(settings, env_file=env_file)) as client:
        for path in ("/metrics", "/"):
            assert client.get(path).status_code == 401
            wrong = {"Authorization": "Bearer nope"}
            assert client.get(path, headers=wrong).status_code == 401
            right = {"Authorization": "Bearer s3cret"}
            assert client.get(path, headers=right).status_code == 200
        assert client.get("/healthz").status_code == 200  # probes stay open
