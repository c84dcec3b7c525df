"""X-Hub-Signature-256: GitHub's test vector, and what is not a valid signature."""

from __future__ import annotations

import hmac

import pytest

from bot.web.signature import sign, verify

GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_BODY = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_sign_matches_githubs_test_vector() -> None:
    assert sign(GITHUB_SECRET, GITHUB_BODY) == GITHUB_SIGNATURE
    assert sign(GITHUB_SECRET.encode(), GITHUB_BODY) == GITHUB_SIGNATURE


def test_verify_accepts_githubs_test_vector() -> None:
    assert verify(GITHUB_SECRET, GITHUB_BODY, GITHUB_SIGNATURE)


@pytest.mark.parametrize(
    "secret, body, given",
    [
        ("another secret", GITHUB_BODY, GITHUB_SIGNATURE),
        (GITHUB_SECRET, b"Hello, World?", GITHUB_SIGNATURE),
        (GITHUB_SECRET, GITHUB_BODY, None),
        (GITHUB_SECRET, GITHUB_BODY, ""),
        (GITHUB_SECRET, GITHUB_BODY, GITHUB_SIGNATURE.removeprefix("sha256=")),
        (GITHUB_SECRET, GITHUB_BODY, "sha1=" + GITHUB_SIGNATURE.removeprefix("sha256=")),
        (GITHUB_SECRET, GITHUB_BODY, GITHUB_SIGNATURE[:-1]),
        (GITHUB_SECRET, GITHUB_BODY, GITHUB_SIGNATURE[:-1] + "\u00e9"),
    ],
    ids=[
        "wrong-secret",
        "tampered-body",
        "missing",
        "empty",
        "no-prefix",
        "sha1",
        "short",
        "non-ascii",
    ],
)
def test_verify_rejects(secret: str, body: bytes, given: str | None) -> None:
    assert not verify(secret, body, given)


def test_verify_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module bot.web.signature uses
    assert verify(GITHUB_SECRET, GITHUB_BODY, GITHUB_SIGNATURE)
    assert not verify(GITHUB_SECRET, GITHUB_BODY, GITHUB_SIGNATURE[:-1] + "0")
    assert len(calls) == 2
