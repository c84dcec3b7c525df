"""Many git objects in few requests: GraphQL batches of ``object(expression:)`` with aliases.

One query asks for up to a few hundred blobs, possibly across repositories (the base
repository and the organisation's ``.github``), by path at a commit or by blob id::

    query { r0: repository(owner: "acme", name: "app") {
              o0: object(expression: "<sha>:path/a.py") { ... on Blob { oid byteSize } }
              o1: object(oid: "<blob sha>") { ... on Blob { oid byteSize
                                                           isBinary isTruncated text } } }
            r1: repository(owner: "acme", name: ".github") { ... } }

A repository the installation cannot see answers NOT_FOUND for its field only; its objects
come back as None. A blob whose ``text`` GitHub truncated is read again from the git blobs
API (:func:`contents`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from bot.github.api import InstallationClient, get_raw_blob, graphql, graphql_string

OID_FIELDS = "oid byteSize"
TEXT_FIELDS = "oid byteSize isBinary isTruncated text"
# A text costs more than an oid: at most 150 texts or 750 oids per query (~5 MB answers).
QUERY_BUDGET = 750
TEXT_COST = 5
BINARY_PLACEHOLDER = b"\0"  # the engine reports a binary .py file as SSOT900


@dataclass(frozen=True)
class ObjectWant:
    """One object to read in ``owner/repo``: by ``expression`` (``<rev>:<path>``), or by
    ``oid`` when the blob id is known (what is read is then exactly what the id names)."""

    key: Hashable
    owner: str
    repo: str
    expression: str | None = None
    text: bool = True
    oid: str | None = None

    def argument(self) -> str:
        if self.oid is not None:
            return f"oid: {graphql_string(self.oid)}"
        assert self.expression is not None
        return f"expression: {graphql_string(self.expression)}"


@dataclass(frozen=True)
class BlobInfo:
    """What GraphQL said about a blob (``text`` None unless asked, or binary)."""

    oid: str
    size: int
    text: str | None = None
    truncated: bool = False
    binary: bool = False


def expression(rev: str, path: str) -> str:
    """``<rev>:<path>``, the argument of GraphQL's ``object(expression:)``."""
    return f"{rev}:{path}"


def _batches(wants: list[ObjectWant]) -> list[list[ObjectWant]]:
    batches: list[list[ObjectWant]] = []
    current: list[ObjectWant] = []
    cost = 0
    for want in wants:
        weight = TEXT_COST if want.text else 1
        if current and cost + weight > QUERY_BUDGET:
            batches.append(current)
            current, cost = [], 0
        current.append(want)
        cost += weight
    if current:
        batches.append(current)
    return batches


def _query(batch: list[ObjectWant]) -> tuple[str, dict[str, tuple[str, str]]]:
    repos: dict[tuple[str, str], list[tuple[int, ObjectWant]]] = {}
    for index, want in enumerate(batch):
        repos.setdefault((want.owner, want.repo), []).append((index, want))
    parts = ["query {"]
    aliases: dict[str, tuple[str, str]] = {}
    for number, ((owner, name), items) in enumerate(repos.items()):
        parts.append(
            f"r{number}: repository(owner: {graphql_string(owner)}, name: {graphql_string(name)}) {{"
        )
        for index, want in items:
            fields = TEXT_FIELDS if want.text else OID_FIELDS
            parts.append(f"o{index}: object({want.argument()}) {{ ... on Blob {{ {fields} }} }}")
            aliases[f"o{index}"] = (f"r{number}", f"o{index}")
        parts.append("}")
    parts.append("}")
    return "\n".join(parts), aliases


def fetch_objects(
    gh: InstallationClient, wants: Iterable[ObjectWant]
) -> dict[Hashable, BlobInfo | None]:
    """Every wanted object (None: no such path, not a blob, or repository not readable)."""
    found: dict[Hashable, BlobInfo | None] = {}
    items = list(wants)
    for batch in _batches(items):
        query, aliases = _query(batch)
        data, _errors = graphql(gh, query)  # field errors (NOT_FOUND) leave their field null
        for index, want in enumerate(batch):
            repo_alias, object_alias = aliases[f"o{index}"]
            node = (data.get(repo_alias) or {}).get(object_alias)
            found[want.key] = _blob(node)
    return found


def _blob(node: object) -> BlobInfo | None:
    if not isinstance(node, dict) or "oid" not in node:
        return None
    return BlobInfo(
        oid=str(node["oid"]),
        size=int(node.get("byteSize") or 0),
        text=node.get("text"),
        truncated=bool(node.get("isTruncated")),
        binary=bool(node.get("isBinary")),
    )


def contents(gh: InstallationClient, owner: str, repo: str, info: BlobInfo) -> bytes:
    """A blob's bytes from what GraphQL returned, reading truncated ones from the blobs API."""
    if info.binary:
        return BINARY_PLACEHOLDER
    if info.truncated or info.text is None:
        return get_raw_blob(gh, owner, repo, info.oid)
    return info.text.encode("utf-8")
