"""The organisation dashboard behind sign-in with GitHub, against the fake GitHub on loopback.

The App runs in a TestClient (the browser's side); its calls to GitHub (the token exchange,
``/user``, ``/user/installations``) go over loopback to the fake. The browser's visit to
GitHub's authorize page is an ``httpx`` client on the fake. Who reads what is the table in
dashboard_testing.py.
"""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from bot_testing import runtime
from dashboard_testing import (
    SECRET_CONCEPT,
    World,
    app_settings,
    make_world,
    record_history,
    sample,
)
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.requests import cookie_parser

from bot.ops.settings import SettingsError, load_settings
from bot.store import history
from bot.web.app import create_app
from bot.web.session import SECRET_FILE, SESSION_COOKIE, STATE_COOKIE
from bot.web.signin import safe_next
from fake_github import FakeGitHubServer

CALLBACK = "http://testserver/login/callback"


@dataclass
class Dashboard:
    world: World
    server: FakeGitHubServer
    client: TestClient
    github: httpx.Client  # the browser on the fake GitHub's pages

    def sign_in(self, login: str, *, next_page: str = "/dashboard") -> httpx.Response:
        """The whole web flow: the sign-in button, GitHub's authorize page, the callback."""
        start = self.client.post("/login", data={"next": next_page}, follow_redirects=False)
        assert start.status_code == 303
        authorize = start.headers["location"]
        assert authorize.startswith(f"{self.server.url}login/oauth/authorize?")
        query = parse_qs(urlsplit(authorize).query)
        assert query["client_id"] == [self.world.state.client_id]
        assert query["redirect_uri"] == [CALLBACK]
        assert self.github.get(authorize).status_code == 200
        back = self.github.post(
            "/login/oauth/authorize",
            data={
                "client_id": query["client_id"][0],
                "redirect_uri": query["redirect_uri"][0],
                "state": query["state"][0],
                "login": login,
                "decision": "authorize",
            },
        )
        assert back.status_code == 302 and back.headers["location"].startswith(CALLBACK)
        return self.client.get(back.headers["location"], follow_redirects=False)

    def session_id(self) -> str:
        """The id of the client's session (it keys the cache of what the person can read)."""
        # As the App reads it from the Cookie header: starlette may quote a value that holds
        # `=` when it sets the cookie (1.10 does), and unquotes it when it reads one.
        sent = cookie_parser(f"{SESSION_COOKIE}={self.client.cookies[SESSION_COOKIE]}")
        session = runtime(self.client).seal.open_session(sent[SESSION_COOKIE], now=time.time())
        assert session is not None
        return session.session_id

    def calls(self, path: str) -> int:
        return len(self.world.state.calls_matching(path=path))


@dataclass
class Served:
    """The fake GitHub and the App (its lifespan running), shared by the module's tests."""

    world: World
    server: FakeGitHubServer
    client: TestClient  # one event loop for the App's HTTP client, so one TestClient


EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    world = make_world()
    world.state.callback_urls = [CALLBACK]
    # A repository only erin reads, whose concept's name is an attempt at a script.
    world.state.create_repo("acme", "odd", private=True)
    world.state.set_permission("acme/odd", "erin", "read")
    # An organisation of twelve repositories that only frank reads (the overview pages).
    bigco = world.state.create_installation("bigco")
    for number in range(12):
        world.state.create_repo("bigco", f"svc-{number:02d}", private=True)
        world.state.set_permission(f"bigco/svc-{number:02d}", "frank", "read")
    data_dir = tmp_path_factory.mktemp("dashboard") / "data"
    with FakeGitHubServer(world.state) as server:
        app = create_app(app_settings(world.state, server.url.rstrip("/"), data_dir))
        with TestClient(app) as client:
            engine = runtime(client).engine
            record_history(engine, world)
            history.record_sample(
                engine, sample(world.acme.id, "acme/odd", 0, ((EVIL, "SSOT002", 3, 1),))
            )
            history.record_sample(
                engine, sample(bigco.id, "bigco/svc-11", 0, (("ws", "SSOT002", 2, 1),))
            )
            yield Served(world, server, client)


@pytest.fixture
def dashboard(served: Served) -> Iterator[Dashboard]:
    """A browser with no cookies yet on the shared App and fake GitHub."""
    served.world.state.clear_calls()
    served.client.cookies.clear()
    with httpx.Client(base_url=served.server.url) as github:
        yield Dashboard(served.world, served.server, served.client, github)


def repositories_on(page: str) -> list[str]:
    return re.findall(r"<h2><a href='/dashboard/[^']+'>([^<]+)</a>", page)


# --- without sign-in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard",
        "/dashboard?page=abc",
        "/dashboard/acme/api",
        "/dashboard/acme/secret",
        "/dashboard/x/y/z",
    ],
)
def test_without_sign_in_every_dashboard_page_goes_to_the_sign_in_page(
    dashboard: Dashboard, path: str
) -> None:
    answer = dashboard.client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={quote(path, safe='/')}"
    page = dashboard.client.get(answer.headers["location"])
    assert page.status_code == 200 and "Sign in with GitHub" in page.text
    assert f"name='next' value='{path}'" in page.text  # back there after signing in
    shown = page.text.replace(f"name='next' value='{path}'", "")
    for leak in ("acme", "umbrella", "api", "ws-manager", SECRET_CONCEPT):
        assert leak not in shown  # not even a repository's name
    assert dashboard.calls("/user") == 0  # nothing was asked of GitHub either


def test_the_header_links_the_status_page_only_where_a_browser_may_open_it(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With SSOT_STATUS_TOKEN set the status page answers only a bearer token, which no
    # browser sends: a "Status" link would lead a signed-in person to a 401.
    dashboard.sign_in("alice")
    for path in ("/dashboard", "/dashboard/acme/api", "/dashboard/acme/nothing"):
        assert "href='/'" in dashboard.client.get(path).text
    rt = runtime(dashboard.client)
    locked = rt.settings.model_copy(update={"status_token": SecretStr("s3cret")})
    monkeypatch.setattr(rt, "settings", locked)
    for path in ("/dashboard", "/dashboard/acme/api", "/dashboard/acme/nothing"):
        page = dashboard.client.get(path).text
        assert "href='/'" not in page and "href='/dashboard'" in page


def test_a_forged_or_tampered_session_cookie_is_no_session(dashboard: Dashboard) -> None:
    dashboard.sign_in("alice")
    sealed = dashboard.client.cookies[SESSION_COOKIE]
    for value in ("alice", sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")):
        dashboard.client.cookies.set(SESSION_COOKIE, value)
        answer = dashboard.client.get("/dashboard", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


# --- signing in and out -------------------------------------------------------------------------


def test_signing_in_sets_a_sealed_http_only_same_site_session_and_returns_to_the_page(
    dashboard: Dashboard,
) -> None:
    answer = dashboard.sign_in("alice", next_page="/dashboard/acme/api")
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/acme/api"
    cookies = answer.headers.get_list("set-cookie")
    [session] = [c for c in cookies if c.startswith(f"{SESSION_COOKIE}=")]
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/" in session
    assert "alice" not in session and "ghu_" not in session  # the token is not readable
    assert any(c.startswith(f'{STATE_COOKIE}=""') for c in cookies)  # the state is used up
    assert dashboard.client.get("/dashboard/acme/api").status_code == 200


def test_each_person_sees_only_what_github_says_they_can_read(dashboard: Dashboard) -> None:
    dashboard.sign_in("alice")
    page = dashboard.client.get("/dashboard").text
    assert repositories_on(page) == ["acme/api", "acme/web"]
    assert SECRET_CONCEPT not in page and "umbrella" not in page
    dashboard.client.post("/logout")
    dashboard.sign_in("bob")
    assert repositories_on(dashboard.client.get("/dashboard").text) == [
        "umbrella/lab",  # with history first
        "acme/web",
    ]
    dashboard.client.post("/logout")
    dashboard.sign_in("carol")
    page = dashboard.client.get("/dashboard").text
    assert repositories_on(page) == [] and "cannot read any repository" in page


def test_the_overview_shows_ten_repositories_a_page_those_with_history_first(
    dashboard: Dashboard,
) -> None:
    dashboard.sign_in("frank")
    first = dashboard.client.get("/dashboard").text
    assert repositories_on(first) == ["bigco/svc-11"] + [f"bigco/svc-{n:02d}" for n in range(9)]
    assert "12 repositories you can read, 1 with history" in first
    assert "page 1 of 2" in first and "href='/dashboard?page=2'" in first
    second = dashboard.client.get("/dashboard?page=2").text
    assert repositories_on(second) == ["bigco/svc-09", "bigco/svc-10"]
    assert repositories_on(dashboard.client.get("/dashboard?page=99").text) == repositories_on(
        second
    )  # past the end: the last page


def test_a_repository_the_person_cannot_read_is_not_found_and_shows_nothing(
    dashboard: Dashboard,
) -> None:
    dashboard.sign_in("alice")
    for path in ("/dashboard/acme/secret", "/dashboard/umbrella/lab", "/dashboard/acme/nope"):
        answer = dashboard.client.get(path)
        assert answer.status_code == 404
        assert SECRET_CONCEPT not in answer.text and "secret decision" not in answer.text
        assert "event-bus" not in answer.text


def test_a_callback_with_another_state_or_from_another_browser_is_refused(
    dashboard: Dashboard,
) -> None:
    start = dashboard.client.post("/login", follow_redirects=False)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    code = dashboard.world.state.authorize_user("alice", CALLBACK)
    forged = dashboard.client.get(f"/login/callback?code={code}&state=not-{state}")
    assert forged.status_code == 400 and SESSION_COOKIE not in dashboard.client.cookies
    other_browser = TestClient(dashboard.client.app)
    answer = other_browser.get(f"/login/callback?code={code}&state={state}")
    assert answer.status_code == 400 and SESSION_COOKIE not in other_browser.cookies
    assert dashboard.calls("/login/oauth/access_token") == 0  # the code was never exchanged


def test_cancelling_at_github_signs_nobody_in(dashboard: Dashboard) -> None:
    start = dashboard.client.post("/login", follow_redirects=False)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    answer = dashboard.client.get(f"/login/callback?error=access_denied&state={state}")
    assert answer.status_code == 400 and "cancelled" in answer.text
    assert SESSION_COOKIE not in dashboard.client.cookies


def test_signing_out_forgets_the_session(dashboard: Dashboard) -> None:
    dashboard.sign_in("alice")
    answer = dashboard.client.post("/logout", follow_redirects=False)
    assert answer.headers["location"] == "/login?signed_out=1"
    assert SESSION_COOKIE not in dashboard.client.cookies
    assert dashboard.client.get("/dashboard", follow_redirects=False).status_code == 303
    assert "You are signed out" in dashboard.client.get("/login?signed_out=1").text


def test_a_token_github_no_longer_accepts_sends_the_person_to_sign_in_again(
    dashboard: Dashboard,
) -> None:
    dashboard.sign_in("alice")
    dashboard.world.state.expire_user_tokens()
    runtime(dashboard.client).visibility.forget(dashboard.session_id())  # the minute is over
    answer = dashboard.client.get("/dashboard", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert SESSION_COOKIE not in dashboard.client.cookies


def test_what_a_person_can_read_is_asked_once_a_minute_not_at_every_page(
    dashboard: Dashboard,
) -> None:
    dashboard.sign_in("alice")
    for path in ("/dashboard", "/dashboard/acme/api", "/dashboard?page=1"):
        assert dashboard.client.get(path).status_code == 200
    assert dashboard.calls("/user/installations") == 2  # the list, then acme's repositories
    # A permission removed on GitHub shows once the minute is over.
    dashboard.world.state.set_permission("acme/web", "alice", "none")
    try:
        cache = runtime(dashboard.client).visibility
        session_id = dashboard.session_id()
        repos = cache.get(session_id, now=time.time())
        assert repos is not None
        cache.put(session_id, repos, now=time.time() - cache.seconds)  # as if a minute ago
        assert repositories_on(dashboard.client.get("/dashboard").text) == ["acme/api"]
    finally:
        dashboard.world.state.set_permission("acme/web", "alice", "read")


def test_the_next_page_after_sign_in_stays_on_the_dashboard() -> None:
    assert safe_next("/dashboard/acme/api?x=1") == "/dashboard/acme/api?x=1"
    for outside in ("https://evil.example/", "//evil.example/dashboard", "/setup", None, ""):
        assert safe_next(outside) == "/dashboard"


def test_dashboard_pages_forbid_framing_scripts_and_caching(dashboard: Dashboard) -> None:
    dashboard.sign_in("alice")
    for path in ("/login", "/dashboard", "/dashboard/acme/api"):
        headers = dashboard.client.get(path, follow_redirects=False).headers
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["cache-control"] == "no-store"


# --- what the pages show -----------------------------------------------------------------------


def test_the_overview_shows_counts_sparklines_and_a_burn_down_per_concept(
    dashboard: Dashboard,
) -> None:
    dashboard.sign_in("alice")
    page = dashboard.client.get("/dashboard").text
    api = page[page.index("acme/api") : page.index("acme/web</a>")]
    # The newest sample: 1058 - 9*19 = 887 implementations toward 1, 446 imports toward 0.
    assert "<span class='count'>887</span> → 1" in api
    assert "<span class='count'>446</span> → 0" in api
    assert "<span class='count'>21</span> → 0" in api
    assert api.count("class='spark'") == 3
    assert api.count("burn-down") >= 3
    # 30 days: the newest sample against the last one at or before 30 days ago (35 days).
    assert "-60</td>" in api and "-45</td>" in api and "-5</td>" in api
    assert "at this pace: " in api
    web = page[page.index("acme/web</a>") :]
    assert "No history yet" in web


def test_the_repository_page_shows_where_the_debt_is_and_recent_decisions(
    dashboard: Dashboard,
) -> None:
    dashboard.sign_in("alice")
    page = dashboard.client.get("/dashboard/acme/api").text
    assert "<code>netra_backend/app/websocket_core</code>" in page
    assert "<code>@acme/platform</code>" in page
    assert "<code>tests/&lt;unit&gt;</code>" in page  # escaped
    assert "adds 2 deprecated imports of ws-manager" in page and ">dave<" in page
    assert "<a href='https://github.com/acme/api/pull/41'>#41</a>" in page
    assert "vendored client, replaced next sprint" in page
    assert "secret decision" not in page  # another repository's
    assert "class='chart'" in page


def test_a_renamed_concept_is_a_new_series_and_the_charts_say_so(dashboard: Dashboard) -> None:
    dashboard.sign_in("alice")
    page = dashboard.client.get("/dashboard/acme/api").text
    assert "renamed from ws-manager" in page
    assert "ws-manager (extra-implementation) (ended)" in page  # the history chart's legend
    assert "websocket-manager (extra-implementation)" in page


def test_a_repository_without_history_says_so(dashboard: Dashboard) -> None:
    dashboard.sign_in("bob")
    page = dashboard.client.get("/dashboard/acme/web")
    assert page.status_code == 200 and "No history yet" in page.text
    assert "class='chart'" not in page.text


def test_everything_from_a_repository_is_escaped(dashboard: Dashboard) -> None:
    dashboard.sign_in("erin")
    for path in ("/dashboard", "/dashboard/acme/odd"):
        text = dashboard.client.get(path).text
        assert EVIL not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        (
            {"client_id": None, "client_secret": None},
            "SSOT_CLIENT_ID</code>, <code>SSOT_CLIENT_SECRET",
        ),
        ({"public_url": None}, "SSOT_PUBLIC_URL"),  # never the request's Host header
    ],
)
def test_without_an_oauth_client_or_public_url_the_sign_in_page_says_what_is_missing(
    tmp_path: Path, unset: dict[str, None], named: str
) -> None:
    world = make_world()
    settings = app_settings(world.state, "http://127.0.0.1:9", tmp_path, **unset)
    with TestClient(create_app(settings)) as client:
        page = client.get("/login").text
        assert named in page and "Sign in with GitHub</button>" not in page
        assert client.post("/login", follow_redirects=False).status_code == 503


# --- the session secret -------------------------------------------------------------------------


def test_the_session_secret_is_generated_once_and_kept_so_sessions_survive_a_restart(
    dashboard: Dashboard,
) -> None:
    dashboard.sign_in("alice")
    settings = runtime(dashboard.client).settings
    key = settings.data_dir / SECRET_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with TestClient(create_app(settings)) as restarted:
        restarted.cookies.set(SESSION_COOKIE, dashboard.client.cookies[SESSION_COOKIE])
        assert restarted.get("/dashboard").status_code == 200
    other = settings.model_copy(update={"session_secret": SecretStr("y" * 40)})
    with TestClient(create_app(other)) as elsewhere:
        elsewhere.cookies.set(SESSION_COOKIE, dashboard.client.cookies[SESSION_COOKIE])
        assert elsewhere.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_short_session_secret_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSOT_SESSION_SECRET", "short")
    with pytest.raises(SettingsError, match="SSOT_SESSION_SECRET: at least 32 characters"):
        load_settings(_env_file=None)
