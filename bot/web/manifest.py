"""One-click App creation through GitHub's manifest flow (as Probot does).

1. The setup page posts the manifest (``app.yml`` with this server's URLs) to
   ``{web}/settings/apps/new`` (or ``{web}/organizations/{org}/settings/apps/new``).
2. GitHub creates the App and redirects to ``/setup/callback?code=...&state=...``.
3. We exchange the code at ``POST {api}/app-manifests/{code}/conversions`` for the App's id,
   private key, webhook secret and OAuth client (``SSOT_CLIENT_ID``, ``SSOT_CLIENT_SECRET``:
   the dashboard's sign-in with GitHub), and write them to ``.env`` (mode 0600).

Building the manifest and writing ``.env`` are pure or local; the exchange is one HTTP call.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import httpx
import yaml  # type: ignore[import-untyped]  # no stubs installed (types-PyYAML)
from dotenv.parser import parse_stream

from bot.github.errors import unreachable
from bot.ops.settings import env_name

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/github/webhooks"
CALLBACK_PATH = "/setup/callback"
SIGNIN_CALLBACK_PATH = "/login/callback"  # the dashboard's sign-in with GitHub
# The code exchange, when GitHub cannot be reached: tries, and the first wait (then 2x, 3x...).
CONVERSION_ATTEMPTS = 3
CONVERSION_RETRY_SECONDS = 1.0
MANIFEST_FILE = "app.yml"
# The App's own manifest, shipped in the package (the wheel carries it as package data).
BUNDLED_MANIFEST = Path(__file__).resolve().with_name(MANIFEST_FILE)

# What the conversion returns -> the variable it is written to.
CREDENTIALS = {
    "id": env_name("app_id"),
    "pem": env_name("private_key"),
    "webhook_secret": env_name("webhook_secret"),
    "client_id": env_name("client_id"),
    "client_secret": env_name("client_secret"),
}
_ORG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")


class ManifestError(Exception):
    """The manifest or the conversion went wrong; the message says what to do."""


class GitHubUnreachable(ManifestError):
    """The code exchange never reached GitHub: the code is unused, the same link can retry."""


def find_manifest() -> Path:
    """``app.yml`` of the working directory (an operator's own), else the App's bundled one."""
    for candidate in (Path.cwd() / MANIFEST_FILE, BUNDLED_MANIFEST):
        if candidate.is_file():
            return candidate
    raise ManifestError(
        f"no {MANIFEST_FILE} in {Path.cwd()} and none installed at {BUNDLED_MANIFEST}: "
        "reinstall ssot-guard"
    )


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ManifestError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: not a mapping")
    return data


def build_manifest(template: dict[str, Any], public_url: str) -> dict[str, Any]:
    """The manifest to post: ``template`` with this server's webhook and redirect URLs."""
    base = public_url.rstrip("/")
    manifest = dict(template)
    hook = dict(manifest.get("hook_attributes") or {})
    hook["url"] = base + WEBHOOK_PATH
    hook.setdefault("active", True)
    manifest["hook_attributes"] = hook
    manifest["redirect_url"] = base + CALLBACK_PATH
    # Where GitHub may send a person back after signing in to the dashboard (the OAuth
    # client's callback URL: GitHub refuses any other redirect_uri).
    manifest["callback_urls"] = [base + SIGNIN_CALLBACK_PATH]
    if not manifest.get("url"):
        manifest["url"] = base
    return manifest


def new_app_url(web_url: str, org: str | None, state: str) -> str:
    """Where the manifest form posts: the user's or the organisation's new-App page."""
    if org:
        if not _ORG.match(org):
            raise ManifestError(f"not an organisation name: {org!r}")
        path = f"/organizations/{quote(org)}/settings/apps/new"
    else:
        path = "/settings/apps/new"
    return f"{web_url.rstrip('/')}{path}?state={quote(state)}"


async def convert_code(
    client: httpx.AsyncClient,
    api_url: str,
    code: str,
    *,
    attempts: int | None = None,
    retry_seconds: float | None = None,
) -> dict[str, Any]:
    """Exchange the redirect's ``code`` for the new App's credentials.

    A request that never reached GitHub (refused, unknown host, no connection) is tried again
    a few times: the code is still unused then. One that may have reached it is not (a code
    works once).
    """
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,200}", code):
        raise ManifestError("malformed code")
    attempts = max(attempts or CONVERSION_ATTEMPTS, 1)
    retry_seconds = CONVERSION_RETRY_SECONDS if retry_seconds is None else retry_seconds
    for attempt in range(1, attempts + 1):
        try:
            response = await client.post(
                f"{api_url.rstrip('/')}/app-manifests/{code}/conversions",
                headers={
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": "2022-11-28",
                },
            )
            break
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            problem = unreachable(exc, api_url)
            if attempt == attempts:
                raise GitHubUnreachable(
                    f"{problem} (attempt {attempt} of {attempts}). The App exists on GitHub "
                    "already: fix that, then reload this page to fetch its credentials (the "
                    "code is valid for an hour)"
                ) from None
            delay = retry_seconds * attempt
            log.warning(
                "setup: %s; attempt %d of %d, retrying in %.0f s", problem, attempt, attempts, delay
            )
            await anyio.sleep(delay)
        except httpx.TransportError as exc:
            # It may have reached GitHub (and used the code up): do not send it again.
            raise ManifestError(
                f"{unreachable(exc, api_url)}. If the App's credentials do not arrive, delete "
                "the App on GitHub and start again from the setup page"
            ) from None
    if response.status_code != 201:
        raise ManifestError(
            f"GitHub answered {response.status_code} to the code exchange "
            "(codes are valid for one hour and one use): start again from the setup page"
        )
    data = response.json()
    missing = [key for key in CREDENTIALS if not data.get(key)]
    if missing:
        raise ManifestError(f"GitHub's answer lacks {', '.join(missing)}")
    return dict(data)


def _quote_env(value: str) -> str:
    # Double quotes: python-dotenv turns \n back into newlines (the PEM stays one line).
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write_env_file(path: Path, credentials: dict[str, Any]) -> None:
    """Write the App's credentials to ``path`` (mode 0600), keeping its other lines.

    The file is replaced atomically, so a crash leaves either the old or the new file.
    """
    values = {CREDENTIALS[key]: str(credentials[key]) for key in CREDENTIALS}
    replaced = {*values, env_name("private_key_path")}
    kept = ""
    if path.exists():
        # dotenv's own parser: a quoted value may span lines (a PEM pasted by hand).
        with path.open(encoding="utf-8") as stream:
            for binding in parse_stream(stream):
                if binding.key not in replaced:
                    kept += binding.original.string
    if kept and not kept.endswith("\n"):
        kept += "\n"
    lines = [f"{name}={_quote_env(value)}" for name, value in values.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".env.", dir=path.parent)  # created with mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(kept + "\n".join(lines) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
