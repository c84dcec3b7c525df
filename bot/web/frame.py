"""The frame every page of the App shares: the header, the stylesheet, escaping.

One stylesheet (``bot/web/static/ssot.css``), served by the App at :data:`STYLESHEET_URL`
with its content's hash in the link, so a browser caches it until it changes. Pages are
plain server-rendered HTML: no script, no front-end build.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from functools import cache
from pathlib import Path

STYLESHEET_FILE = Path(__file__).resolve().parent / "static" / "ssot.css"
STYLESHEET_PATH = "/assets/ssot.css"

# The product's mark: one filled dot inside a ring (one source of truth, held).
LOGO = (
    "<svg width='20' height='20' viewBox='0 0 20 20' aria-hidden='true'>"
    "<circle cx='10' cy='10' r='8' fill='none' stroke='#fff' stroke-width='2'/>"
    "<circle cx='10' cy='10' r='3.5' fill='#3fb950'/></svg>"
)

# The same mark as the browser tab's icon (an inline data URL: no request, no 404).
ICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 20 20'%3E"
    "%3Ccircle cx='10' cy='10' r='8' fill='%2324292f'/%3E"
    "%3Ccircle cx='10' cy='10' r='3.5' fill='%233fb950'/%3E%3C/svg%3E"
)

# (path, label) of the sections in the header, for pages of a configured App.
SECTIONS: tuple[tuple[str, str], ...] = (("/dashboard", "Dashboard"), ("/", "Status"))


def sections(*, status_open: bool) -> tuple[tuple[str, str], ...]:
    """The header's links: without "Status" when the status page needs a bearer token
    (``SSOT_STATUS_TOKEN``), which a browser never sends: the link would only answer 401."""
    return SECTIONS if status_open else tuple(s for s in SECTIONS if s[0] != "/")


def escape(text: str) -> str:
    """``text`` safe in HTML text and in a quoted attribute."""
    return html.escape(text, quote=True)


@cache
def stylesheet() -> bytes:
    """The stylesheet's bytes (read once)."""
    return STYLESHEET_FILE.read_bytes()


@cache
def stylesheet_url() -> str:
    """The stylesheet's URL with a version from its content: a change reaches every browser."""
    return f"{STYLESHEET_PATH}?v={hashlib.sha256(stylesheet()).hexdigest()[:12]}"


def render_page(
    title: str,
    body: str,
    *,
    heading: str | None = None,
    user: str | None = None,
    sections: Sequence[tuple[str, str]] = (),
    current: str | None = None,
    lede: str = "",
) -> str:
    """A whole HTML page: the header (sections, who is signed in), ``heading``, ``body``.

    ``body`` and ``lede`` are HTML already (their values escaped by the caller); ``title``,
    ``heading`` and ``user`` are text and escaped here. ``current`` is the path of the
    section shown, marked for the reader and for assistive technology.
    """
    links = "".join(
        f"<a href='{escape(path)}'{' aria-current=page' if path == current else ''}>"
        f"{escape(label)}</a>"
        for path, label in sections
    )
    who = (
        f"<div class='who'><span>{escape(user)}</span>"
        "<form method='post' action='/logout'><button type='submit'>Sign out</button></form></div>"
        if user
        else ""
    )
    shown = title if heading is None else heading
    # The brand leads home: the status page, unless the header leaves it out (see sections).
    paths = [path for path, _ in sections]
    home = "/" if not paths or "/" in paths else paths[0]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><link rel='icon' href=\"{ICON}\">"
        f"<link rel='stylesheet' href='{escape(stylesheet_url())}'></head><body>"
        f"<header class='top'><a class='brand' href='{escape(home)}'>{LOGO}SSOT guard</a>"
        f"<nav aria-label='Sections'>{links}</nav>{who}</header>"
        f"<main>{f'<h1>{escape(shown)}</h1>' if shown else ''}"
        f"{f'<p class=lede>{lede}</p>' if lede else ''}{body}</main>"
        "<footer>SSOT guard: one source of truth per concept, and the way there.</footer>"
        "</body></html>"
    )
