"""``ssot replay EVENT payload.json``: sign a saved payload and post it to a running App.

Handy with the real payloads under ``fixtures/github-webhooks/`` or one copied from the
App's "Advanced" page on GitHub. Each run is a new delivery unless ``--delivery`` repeats one.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

import httpx
from dotenv import dotenv_values

from bot.ops.settings import ENV_FILE, env_name
from bot.web.signature import sign

DEFAULT_URL = "http://127.0.0.1:8000/api/github/webhooks"
EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def _default_secret() -> str | None:
    name = env_name("webhook_secret")
    return os.environ.get(name) or dotenv_values(ENV_FILE).get(name) or None


def replay_command(argv: list[str]) -> int:
    """Post ``payload.json`` as event ``EVENT``; exit 0 on a 2xx answer, 1 otherwise."""
    parser = argparse.ArgumentParser(
        prog="ssot replay", description="Sign a saved webhook payload and post it to a running App."
    )
    parser.add_argument("event", help="the X-GitHub-Event, e.g. pull_request")
    parser.add_argument("payload", type=Path, help="the JSON payload file (sent byte for byte)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"webhook URL (default: {DEFAULT_URL})")
    parser.add_argument("--secret", help="webhook secret (default: SSOT_WEBHOOK_SECRET or .env)")
    parser.add_argument("--delivery", help="X-GitHub-Delivery (default: a new GUID)")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds (default: 15)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE

    secret = args.secret or _default_secret()
    if not secret:
        print(
            "ssot replay: error: no secret: pass --secret or set SSOT_WEBHOOK_SECRET",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        body = args.payload.read_bytes()
    except OSError as exc:
        print(f"ssot replay: error: {args.payload}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    delivery = args.delivery or str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/ssot-replay",
        "X-GitHub-Event": args.event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(secret, body),
    }
    try:
        response = httpx.post(args.url, content=body, headers=headers, timeout=args.timeout)
    except httpx.HTTPError as exc:
        print(f"ssot replay: error: could not post to {args.url}: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    print(f"{args.event} {delivery} -> {response.status_code} {response.text.strip()}")
    return EXIT_OK if response.is_success else EXIT_REJECTED
