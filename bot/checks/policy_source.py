"""Where a pull request's policy comes from: its base branch, else the organisation.

The policy is read at the BASE commit (``.github/ssot.toml``, else ``[tool.ssot]`` in
``pyproject.toml``), never at the head: a pull request must not loosen its own gate. A
repository without one falls back to the owner's ``.github`` repository (same paths, its
default branch). ``extends`` names a parent: ``"org"`` (or ``".github"``) is that
organisation policy, ``"owner/name"`` another repository's policy, anything else a file of
this repository at the same commit.

The first lookup is part of a bigger GraphQL batch (see :func:`wants`); only an ``extends``
that is neither the organisation nor already read costs one more request.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

from analyzers.policy_loader import (
    POLICY_PATHS,
    LoadedPolicy,
    PolicyError,
    glob_errors,
    load_policy,
    policy_table,
)
from bot.github.api import InstallationClient
from bot.github.blobs import BlobInfo, ObjectWant, contents, expression, fetch_objects

ORG_REPO = ".github"
ORG_NAMES = frozenset({"org", ORG_REPO})

# Reads ``paths`` of ``owner/repo`` at ``rev``: path -> text (None when absent).
TextFetcher = Callable[[str, str, str, Sequence[str]], dict[str, str | None]]
# Reads the whole content of a blob whose text GraphQL truncated.
BlobReader = Callable[[BlobInfo], bytes]


@dataclass(frozen=True)
class PolicyLookup:
    """The policy found (or why it cannot be used); both None: there is no policy at all."""

    policy: LoadedPolicy | None = None
    error: PolicyError | None = None

    @property
    def found(self) -> bool:
        return self.policy is not None or self.error is not None


def wants(owner: str, repo: str, rev: str) -> list[ObjectWant]:
    """The policy files to read: the repository's at ``rev``, the organisation's at HEAD."""
    items = [
        ObjectWant(("policy", "repo", path), owner, repo, expression(rev, path))
        for path in POLICY_PATHS
    ]
    if repo != ORG_REPO:
        items += [
            ObjectWant(("policy", "org", path), owner, ORG_REPO, expression("HEAD", path))
            for path in POLICY_PATHS
        ]
    return items


def texts_of(
    found: Mapping[Hashable, BlobInfo | None], side: str, read: BlobReader, prefix: str = ""
) -> dict[str, str | None]:
    """path -> text of the policy files of ``side`` ("repo" or "org") in a batch's answer."""
    return {
        path: _text(found.get(("policy", side, path)), prefix + path, read) for path in POLICY_PATHS
    }


def _text(info: BlobInfo | None, source: str, read: BlobReader) -> str | None:
    if info is None:
        return None
    if info.binary:
        raise PolicyError(source, None, "", "not a text file")
    data = read(info) if info.truncated or info.text is None else info.text.encode()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(source, None, "", f"not UTF-8 text: {exc}") from None


def blob_reader(gh: InstallationClient, owner: str, repo: str) -> BlobReader:
    """Reads a blob GraphQL truncated from the blobs API of ``owner/repo``."""
    return lambda info: contents(gh, owner, repo, info)


def pick(texts: Mapping[str, str | None], prefix: str = "") -> tuple[str, str] | None:
    """``(source, text)`` of the first policy file among ``texts``, or None.

    A ``pyproject.toml`` counts only with a ``[tool.ssot]`` table; one that is not valid
    TOML counts only if it visibly tries to have one.
    """
    for rel in POLICY_PATHS:
        text = texts.get(rel)
        if text is None:
            continue
        source = prefix + rel
        if rel == "pyproject.toml":
            try:
                if policy_table(text, source) is None:
                    continue
            except PolicyError:
                if "[tool.ssot" not in text:
                    continue
                raise
        return source, text
    return None


def fetcher(gh: InstallationClient) -> TextFetcher:
    """A :data:`TextFetcher` reading through one GraphQL batch per call."""

    def fetch(owner: str, repo: str, rev: str, paths: Sequence[str]) -> dict[str, str | None]:
        found = fetch_objects(
            gh, [ObjectWant(path, owner, repo, expression(rev, path)) for path in paths]
        )
        read = blob_reader(gh, owner, repo)
        return {path: _text(found.get(path), path, read) for path in paths}

    return fetch


def resolve(
    gh: InstallationClient,
    owner: str,
    repo: str,
    rev: str,
    found: Mapping[Hashable, BlobInfo | None],
    fetch: TextFetcher | None = None,
) -> PolicyLookup:
    """The policy of ``owner/repo`` at ``rev`` from a batch's answer (see :func:`wants`)."""
    fetch = fetch or fetcher(gh)
    org_prefix = f"{owner}/{ORG_REPO}:"
    try:
        repo_texts = texts_of(found, "repo", blob_reader(gh, owner, repo))
        org_texts = (
            texts_of(found, "org", blob_reader(gh, owner, ORG_REPO), org_prefix)
            if repo != ORG_REPO
            else repo_texts
        )
        chosen = pick(repo_texts) or pick(org_texts, org_prefix)
        if chosen is None:
            return PolicyLookup()

        def fetch_parent(name: str) -> tuple[str, str] | None:
            if name in ORG_NAMES or name.lower() == f"{owner}/{ORG_REPO}".lower():
                return pick(org_texts, org_prefix)
            if name.count("/") == 1 and not name.endswith(".toml"):
                other_owner, other_repo = name.split("/")
                return pick(fetch(other_owner, other_repo, "HEAD", POLICY_PATHS), f"{name}:")
            if glob_errors(name):
                return None
            text = fetch(owner, repo, rev, [name]).get(name)
            return None if text is None else (name, text)

        source, text = chosen
        return PolicyLookup(policy=load_policy(text, source, fetch_parent))
    except PolicyError as error:
        return PolicyLookup(error=error)
