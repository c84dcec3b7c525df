"""The fake GitHub's sign-in with GitHub: the web flow, user tokens, and who sees what.

The API answers are parsed through githubkit's generated models (as in test_fake_github.py),
so their shapes are GitHub's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from githubkit import AppAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.exception import RequestFailed

from fake_github import FakeGitHubServer, FakeGitHubState, Installation, make_app_keypair

CALLBACK = "http://127.0.0.1:9/login/callback"


@dataclass
class World:
    state: FakeGitHubState
    server: FakeGitHubServer
    http: httpx.Client
    acme: Installation
    umbrella: Installation


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """Two organisations with the App; alice reads two of acme's repos, bob one of each org."""
    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys)
    acme = state.create_installation("acme")
    umbrella = state.create_installation("umbrella")
    for name in ("api", "web", "secret"):
        state.create_repo("acme", name, private=True)
    state.create_repo("umbrella", "lab", private=True)
    state.create_repo("elsewhere", "tool")  # no installation of the App covers it
    state.set_permission("acme/api", "alice", "write")
    state.set_permission("acme/web", "alice", "read")
    state.set_permission("acme/web", "bob", "admin")
    state.set_permission("umbrella/lab", "bob", "read")
    state.set_permission("acme/secret", "bob", "none")
    state.set_permission("elsewhere/tool", "bob", "admin")
    state.callback_urls = [CALLBACK]
    with FakeGitHubServer(state) as server, httpx.Client(base_url=server.url) as http:
        yield World(state, server, http, acme, umbrella)


def sign_in(world: World, login: str, *, oauth_state: str = "xyz") -> str:
    """The web flow as a browser and the App go through it: the user access token."""
    state = world.state
    page = world.http.get(
        "/login/oauth/authorize",
        params={"client_id": state.client_id, "redirect_uri": CALLBACK, "state": oauth_state},
    )
    assert page.status_code == 200 and "name='login'" in page.text
    answer = world.http.post(
        "/login/oauth/authorize",
        data={
            "client_id": state.client_id,
            "redirect_uri": CALLBACK,
            "state": oauth_state,
            "login": login,
            "decision": "authorize",
        },
    )
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [oauth_state]
    token = world.http.post(
        "/login/oauth/access_token",
        data={
            "client_id": state.client_id,
            "client_secret": state.client_secret,
            "code": query["code"][0],
            "redirect_uri": CALLBACK,
        },
        headers={"Accept": "application/json"},
    ).json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 8 * 3600
    assert token["access_token"].startswith("ghu_") and token["refresh_token"].startswith("ghr_")
    return str(token["access_token"])


def as_user(world: World, token: str) -> GitHub[TokenAuthStrategy]:
    return GitHub(TokenAuthStrategy(token), base_url=world.server.url, auto_retry=False)


def visible(world: World, token: str) -> dict[int, list[str]]:
    """installation id -> the repositories listed for it, through githubkit's models."""
    gh = as_user(world, token)
    installations = gh.rest.apps.list_installations_for_authenticated_user().parsed_data
    assert installations.total_count == len(installations.installations)
    seen: dict[int, list[str]] = {}
    for installation in installations.installations:
        repos = gh.rest.apps.list_installation_repos_for_authenticated_user(
            installation.id
        ).parsed_data
        seen[installation.id] = [r.full_name for r in repos.repositories]
    return seen


def test_the_web_flow_gives_a_user_token_that_names_the_person(world: World) -> None:
    gh = as_user(world, sign_in(world, "alice"))  # kept: githubkit's namespaces need it alive
    me = gh.rest.users.get_authenticated().parsed_data
    assert me.login == "alice"


def test_each_person_sees_only_the_repositories_they_can_read(world: World) -> None:
    assert visible(world, sign_in(world, "alice")) == {world.acme.id: ["acme/api", "acme/web"]}
    assert visible(world, sign_in(world, "bob")) == {
        world.acme.id: ["acme/web"],
        world.umbrella.id: ["umbrella/lab"],
    }
    assert visible(world, sign_in(world, "carol")) == {}


def test_the_listed_repositories_carry_the_persons_permissions(world: World) -> None:
    gh = as_user(world, sign_in(world, "alice"))
    repos = gh.rest.apps.list_installation_repos_for_authenticated_user(world.acme.id).parsed_data
    flags = {r.full_name: r.permissions for r in repos.repositories}
    assert flags["acme/api"] is not None and flags["acme/api"].push is True
    assert flags["acme/web"] is not None and (flags["acme/web"].pull, flags["acme/web"].push) == (
        True,
        False,
    )


def test_an_installation_the_person_cannot_see_is_not_found(world: World) -> None:
    gh = as_user(world, sign_in(world, "alice"))
    with pytest.raises(RequestFailed) as failed:
        gh.rest.apps.list_installation_repos_for_authenticated_user(world.umbrella.id)
    assert failed.value.response.status_code == 404


def test_a_code_works_once(world: World) -> None:
    code = world.state.authorize_user("alice", CALLBACK)
    exchange = {
        "client_id": world.state.client_id,
        "client_secret": world.state.client_secret,
        "code": code,
    }
    headers = {"Accept": "application/json"}
    first = world.http.post("/login/oauth/access_token", json=exchange, headers=headers).json()
    again = world.http.post("/login/oauth/access_token", json=exchange, headers=headers).json()
    assert "access_token" in first
    assert again["error"] == "bad_verification_code"


def test_wrong_client_credentials_and_redirect_uris_are_refused_as_github_does(
    world: World,
) -> None:
    code = world.state.authorize_user("alice", CALLBACK)
    wrong = world.http.post(
        "/login/oauth/access_token",
        data={"client_id": world.state.client_id, "client_secret": "nope", "code": code},
        headers={"Accept": "application/json"},
    )
    assert wrong.status_code == 200 and wrong.json()["error"] == "incorrect_client_credentials"
    moved = world.http.post(
        "/login/oauth/access_token",
        data={
            "client_id": world.state.client_id,
            "client_secret": world.state.client_secret,
            "code": code,
            "redirect_uri": "http://127.0.0.1:9/elsewhere",
        },
    )
    # Without Accept: application/json GitHub answers form-encoded.
    assert parse_qs(moved.text)["error"] == ["redirect_uri_mismatch"]
    foreign = world.http.get(
        "/login/oauth/authorize",
        params={"client_id": world.state.client_id, "redirect_uri": "https://evil.example/cb"},
    )
    assert foreign.status_code == 400
    unknown = world.http.get("/login/oauth/authorize", params={"client_id": "Iv1.unknown"})
    assert unknown.status_code == 404


def test_cancelling_returns_access_denied_with_the_state(world: World) -> None:
    answer = world.http.post(
        "/login/oauth/authorize",
        data={
            "client_id": world.state.client_id,
            "redirect_uri": CALLBACK,
            "state": "s1",
            "decision": "cancel",
        },
    )
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s1"]
    assert "code" not in query


def test_a_refresh_token_gives_a_new_token_once(world: World) -> None:
    code = world.state.authorize_user("bob", CALLBACK)
    credentials = {"client_id": world.state.client_id, "client_secret": world.state.client_secret}
    headers = {"Accept": "application/json"}
    first = world.http.post(
        "/login/oauth/access_token", json={**credentials, "code": code}, headers=headers
    ).json()
    refresh = {
        **credentials,
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
    }
    second = world.http.post("/login/oauth/access_token", json=refresh, headers=headers).json()
    assert second["access_token"] != first["access_token"]
    replay = world.http.post("/login/oauth/access_token", json=refresh, headers=headers).json()
    assert replay["error"] == "bad_refresh_token"


def test_user_endpoints_refuse_installation_tokens_and_expired_user_tokens() -> None:
    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation("acme")
    state.create_repo("acme", "api")
    state.set_permission("acme/api", "alice", "read")
    user_token = state.issue_user_token("alice").token
    with FakeGitHubServer(state) as server:
        app = GitHub(AppAuthStrategy(keys.app_id, keys.private_key_pem), base_url=server.url)
        installation_gh = app.with_auth(app.auth.as_installation(installation.id))
        with pytest.raises(RequestFailed) as refused:
            installation_gh.rest.users.get_authenticated()
        assert refused.value.response.status_code == 403
        user_gh = GitHub(TokenAuthStrategy(user_token), base_url=server.url, auto_retry=False)
        assert user_gh.rest.users.get_authenticated().parsed_data.login == "alice"
        state.expire_user_tokens()
        with pytest.raises(RequestFailed) as expired:
            user_gh.rest.users.get_authenticated()
        assert expired.value.response.status_code == 401
