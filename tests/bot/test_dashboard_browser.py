"""The dashboard in a real browser: Chromium (Debian's ``chromium`` package) driven by
Playwright against the App and the fake GitHub, both served by uvicorn on 127.0.0.1.

A person signs in through the fake GitHub's authorize page, sees only their repositories,
opens one, signs out. Screenshots of each page are kept in the folder printed at the end of
the run (``test-artifacts/screenshots`` in the checkout, or ``$TEST_ARTIFACTS``). Without
Chromium or Playwright the tests skip saying so; under CI (``CI`` set) they fail instead,
since ``.ci/run`` installs the browser.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dashboard_testing import (
    CHROMIUM,
    World,
    app_settings,
    make_world,
    record_history,
    screenshots_dir,
    serve,
)

from bot.web.app import create_app
from fake_github import FakeGitHubServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if shutil.which(CHROMIUM) is None:
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Site:
    world: World
    app_url: str
    github_url: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The fake GitHub and the App, served on loopback, with history."""
    world = make_world()
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    with FakeGitHubServer(world.state) as github:
        settings = app_settings(world.state, github.url.rstrip("/"), data_dir)

        def make_app(url: str) -> Any:
            return create_app(settings.model_copy(update={"public_url": url}))

        with serve(make_app) as (app, app_url):
            record_history(app.state.runtime.engine, world)
            yield Site(world, app_url, github.url.rstrip("/"))


@pytest.fixture
def console_errors() -> list[str]:
    """What the page logged as errors (a CSP violation, a failed load)."""
    return []


@pytest.fixture
def page(browser: Any, site: Site, console_errors: list[str]) -> Iterator[Any]:
    """A fresh browser context (no cookies) and its page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        yield tab
    finally:
        context.close()


def shot(page: Any, name: str) -> Path:
    path = screenshots_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, site: Site, login: str) -> None:
    """From the sign-in page through GitHub's authorize page back to the dashboard."""
    page.get_by_role("button", name="Sign in with GitHub").click()
    page.wait_for_url(f"{site.github_url}/login/oauth/authorize?*")
    page.get_by_label("Username").fill(login)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(site.app_url) + r"/dashboard.*"))


def repository_names(page: Any) -> list[str]:
    return [name.strip() for name in page.locator("section.card .repo-head h2 a").all_inner_texts()]


def test_a_person_signs_in_sees_their_repositories_opens_one_and_signs_out(
    page: Any, site: Site, console_errors: list[str]
) -> None:
    page.goto(f"{site.app_url}/dashboard")
    assert page.url.startswith(f"{site.app_url}/login?next=")
    assert page.get_by_role("heading", name="Sign in to SSOT guard").is_visible()
    shot(page, "01-sign-in")

    sign_in(page, site, "alice")
    assert repository_names(page) == ["acme/api", "acme/web"]
    assert page.locator("svg.spark").count() == 3  # one per concept of acme/api
    assert page.locator("svg.chart").count() == 3  # a burn-down per concept
    assert page.get_by_text("No history yet").is_visible()  # acme/web
    shot(page, "02-dashboard-alice")

    page.get_by_role("link", name="acme/api").click()
    page.wait_for_url(f"{site.app_url}/dashboard/acme/api")
    assert page.get_by_role("heading", name="acme/api", exact=True).is_visible()
    assert page.locator("svg.chart").count() == 4  # the history and three burn-downs
    assert page.get_by_text("renamed from ws-manager").first.is_visible()
    decisions = page.locator("table", has_text="pull request").last
    assert decisions.get_by_role("link", name="#41").get_attribute("href") == (
        "https://github.com/acme/api/pull/41"
    )
    assert page.get_by_role("cell", name="@acme/platform").first.is_visible()
    shot(page, "03-repository-acme-api")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site.app_url}/login?signed_out=1")
    assert page.get_by_text("You are signed out.").is_visible()
    page.goto(f"{site.app_url}/dashboard/acme/api")
    assert page.url.startswith(f"{site.app_url}/login")
    assert console_errors == []  # no CSP violation, no failed load


def test_another_person_sees_other_repositories_and_not_alices(page: Any, site: Site) -> None:
    page.goto(f"{site.app_url}/dashboard")
    sign_in(page, site, "bob")
    assert repository_names(page) == ["umbrella/lab", "acme/web"]
    assert page.get_by_text("not at this pace").first.is_visible()  # umbrella/lab is rising
    shot(page, "04-dashboard-bob")
    answer = page.goto(f"{site.app_url}/dashboard/acme/api")
    assert answer is not None and answer.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert "ws-manager" not in page.content()


def test_the_status_page_wears_the_dashboards_frame(
    page: Any, site: Site, console_errors: list[str]
) -> None:
    page.goto(f"{site.app_url}/")
    header = page.locator("header.top")
    assert header.get_by_role("link", name="Dashboard").is_visible()
    status_colour = header.evaluate("e => getComputedStyle(e).backgroundColor")
    shot(page, "05-status")
    page.goto(f"{site.app_url}/login")
    assert page.locator("header.top").evaluate("e => getComputedStyle(e).backgroundColor") == (
        status_colour
    )
    assert status_colour == "rgb(36, 41, 47)"  # the stylesheet loaded (CSP allows it)
    assert console_errors == []
