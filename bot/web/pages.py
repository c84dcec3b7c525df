"""The App's HTML pages, rendered on the server: pure functions from data to HTML.

Every value shown is escaped with :func:`escape`; :func:`page` gives every page the same
frame and stylesheet (:mod:`bot.web.frame`), the dashboard's too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.jobs.queue import describe_backend
from bot.ops.settings import Settings
from bot.store.deliveries import Unsettled
from bot.web.frame import SECTIONS, escape, render_page

__all__ = ["created_page", "escape", "page", "setup_page", "status_page"]


def page(title: str, body: str, *, sections: bool = False, current: str | None = None) -> str:
    """A page in the App's frame, its body in a card; ``sections``: the header's links."""
    return render_page(
        title,
        f"<div class='card'>{body}</div>",
        sections=SECTIONS if sections else (),
        current=current,
    )


def setup_page(
    settings: Settings, app_manifest: dict[str, Any], action: str, org: str | None, public_url: str
) -> str:
    local = any(
        host in public_url for host in ("://127.", "://localhost", "://0.0.0.0", "://[::1]")
    )
    warning = (
        "<p class='notice'><strong>GitHub cannot reach this address.</strong> Webhooks go to "
        f"<code>{escape(public_url)}</code>: expose the server (a tunnel or a public host) and set "
        "<code>SSOT_PUBLIC_URL</code> to that URL before creating the App.</p>"
        if local
        else ""
    )
    owner = f"the organisation <code>{escape(org)}</code>" if org else "your personal account"
    return page(
        "SSOT guard: create the GitHub App",
        f"<p>No App credentials are configured. This creates a GitHub App on {owner} at "
        f"<code>{escape(settings.web_url)}</code> from <code>app.yml</code>; GitHub then sends you "
        "back here and the credentials are written to <code>.env</code>.</p>"
        f"{warning}"
        f"<form action='{escape(action)}' method='post'>"
        f"<input type='hidden' name='manifest' value='{escape(json.dumps(app_manifest))}'>"
        "<button class='primary' type='submit'>Create the GitHub App</button></form>"
        "<form class='inline' method='get' action='/'>"
        f"<label>For an organisation: <input name='org' value='{escape(org or '')}'></label> "
        "<button class='secondary' type='submit'>Use it</button></form>"
        f"<details><summary>Manifest</summary><pre>{escape(json.dumps(app_manifest, indent=2))}</pre></details>",
    )


def created_page(slug: str, html_url: Any, env_file: Path) -> str:
    install = (
        f"<p>Then install it on your repositories: <a href='{escape(str(html_url))}/installations/new'>"
        f"{escape(str(html_url))}/installations/new</a>.</p>"
        if html_url
        else ""
    )
    return page(
        "SSOT guard: App created",
        f"<p>The GitHub App <code>{escape(slug)}</code> exists and its credentials are in "
        f"<code>{escape(str(env_file))}</code> (readable by you only).</p>"
        "<p><strong>Restart <code>ssot serve</code></strong> so that it reads them.</p>"
        f"{install}",
    )


def status_page(
    settings: Settings,
    counts: dict[str, int],
    installed: int,
    unsettled: Sequence[Unsettled] = (),
) -> str:
    """What the App is doing: deliveries per status, and those that fail, with their error."""
    rows = "".join(f"<tr><td>{escape(state)}</td><td>{n}</td></tr>" for state, n in counts.items())
    backend = describe_backend(settings)["backend"]
    body = (
        f"<p>App {settings.app_id} is running; {installed} installation(s); jobs on {escape(backend)}.</p>"
        f"<table><tr><th>deliveries</th><th>count</th></tr>{rows}</table>"
    )
    if unsettled:
        items = "".join(_unsettled_row(item, settings.job_max_attempts) for item in unsettled)
        body += (
            "<h2>Retrying and failed deliveries</h2>"
            "<table><tr><th>delivery</th><th>event</th><th>repository</th><th>status</th>"
            f"<th>next try</th><th>last error</th></tr>{items}</table>"
        )
    return page("SSOT guard", body, sections=True, current="/")


def _unsettled_row(item: Unsettled, max_attempts: int) -> str:
    event = f"{item.event}.{item.action}" if item.action else item.event
    status = item.status
    if item.status != "postponed":
        status += f" ({item.attempts} of {max_attempts} attempts)"
    next_try = item.next_try.strftime("%Y-%m-%d %H:%M:%S UTC") if item.next_try else ""
    cells = (item.id, event, item.repository or "", status, next_try, item.error)
    return "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells) + "</tr>"
