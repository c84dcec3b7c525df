"""The findings cache: findings per git blob, path and policy, per installation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.store.db import IN_CHUNK
from bot.store.tables import findings_cache, legacy_blob_findings

BlobKey = tuple[str, str]  # (blob sha, path hash)


def get_blob_findings(
    engine: Engine, installation_id: int, policy_key: str, keys: Sequence[BlobKey]
) -> dict[BlobKey, bytes]:
    """The stored findings JSON of each key found for the installation under ``policy_key``."""
    c = findings_cache.c
    found: dict[BlobKey, bytes] = {}
    wanted = sorted(set(keys))
    with engine.begin() as conn:
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            shas = {sha for sha, _ in chunk}
            rows = conn.execute(
                sa.select(c.blob_sha, c.path_hash, c.findings).where(
                    c.installation_id == installation_id,
                    c.policy_key == policy_key,
                    c.blob_sha.in_(shas),
                )
            ).all()
            keep = set(chunk)
            for row in rows:
                key = (row.blob_sha, row.path_hash)
                if key in keep:
                    found[key] = bytes(row.findings)
    return found


def put_blob_findings(
    engine: Engine,
    installation_id: int,
    policy_key: str,
    rows: Sequence[tuple[str, str, bytes]],
    *,
    now: dt.datetime,
) -> None:
    """Store ``(blob sha, path hash, findings JSON)`` rows (replacing old ones).

    Two workers storing the same blob at once is harmless: the loser's rows are dropped.
    """
    c = findings_cache.c
    for start in range(0, len(rows), IN_CHUNK):
        chunk = rows[start : start + IN_CHUNK]
        values = [
            {
                "installation_id": installation_id,
                "policy_key": policy_key,
                "blob_sha": sha,
                "path_hash": path_hash,
                "findings": data,
                "stored_at": now,
            }
            for sha, path_hash, data in chunk
        ]
        try:
            with engine.begin() as conn:
                for sha, path_hash, _ in chunk:
                    conn.execute(
                        findings_cache.delete().where(
                            c.installation_id == installation_id,
                            c.policy_key == policy_key,
                            c.blob_sha == sha,
                            c.path_hash == path_hash,
                        )
                    )
                conn.execute(findings_cache.insert(), values)
        except IntegrityError:
            pass  # another worker stored the same blobs meanwhile: theirs are as good


def empty_legacy_cache(engine: Engine) -> int:
    """Delete what workers of the previous release wrote to the shared cache (see
    ``legacy_blob_findings``); how many rows."""
    with engine.begin() as conn:
        return int(conn.execute(legacy_blob_findings.delete()).rowcount)
