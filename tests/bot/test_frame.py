"""Every page of the App in one frame: the header, one stylesheet served by the App."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from bot.ops.settings import Settings
from bot.web.app import create_app
from bot.web.frame import STYLESHEET_FILE, render_page


def stylesheet_link(html: str) -> str:
    found = re.search(r"<link rel='stylesheet' href='([^']+)'>", html)
    assert found is not None, html
    return found.group(1)


def test_the_status_and_setup_pages_share_the_frame_and_its_stylesheet(
    client: TestClient, make_settings: Callable[..., Settings]
) -> None:
    status = client.get("/").text
    with TestClient(
        create_app(make_settings(app_id=None, private_key=None, webhook_secret=None))
    ) as setup_client:
        setup = setup_client.get("/").text
    for html in (status, setup):
        assert "<header class='top'><a class='brand' href='/'>" in html
        assert stylesheet_link(html).startswith("/assets/ssot.css?v=")
        assert "<style>" not in html and " style=" not in html  # one stylesheet, no inline CSS
    assert stylesheet_link(status) == stylesheet_link(setup)
    assert "<a href='/dashboard'>Dashboard</a>" in status  # a configured App's sections


def test_the_stylesheet_is_served_and_cached_until_it_changes(client: TestClient) -> None:
    link = stylesheet_link(client.get("/").text)
    answer = client.get(link)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/css")
    assert answer.content == STYLESHEET_FILE.read_bytes()
    assert "immutable" in answer.headers["cache-control"]
    # An unversioned or stale link is revalidated rather than cached for a year.
    assert client.get("/assets/ssot.css?v=old").headers["cache-control"] == "no-cache"
    again = client.get(link, headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


def test_the_frame_escapes_its_texts_and_marks_the_current_section() -> None:
    html = render_page(
        "<b>t</b>",
        "<p>body</p>",
        user="<img src=x>",
        sections=(("/dashboard", "Dashboard"),),
        current="/dashboard",
    )
    assert "<b>t</b>" not in html and "&lt;b&gt;t&lt;/b&gt;" in html
    assert "<img src=x>" not in html and "&lt;img src=x&gt;" in html
    assert "<a href='/dashboard' aria-current=page>Dashboard</a>" in html
    assert "action='/logout'" in html  # who is signed in can sign out
