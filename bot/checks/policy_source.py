"""Where a pull request's policy comes from: its base branch, else the organisation.

The policy is read at the BASE commit (``.github/ssot.toml``, else ``[tool.ssot]`` in
``pyproject.toml``), never at the head: a pull request must not loosen its own gate. A
repository without one falls back to the owner's ``.github`` repository (same paths, its
default branch). ``extends`` names a parent: ``"org"`` (or ``".github"``) is that
organisation policy, ``"owner/name"`` another repository's policy (only those the App's
settings allow: ``SSOT_POLICY_EXTENDS_ALLOW``; a writer of one repository must not read
another through the App), anything else a file of this repository at the same commit. An
error in a parent of another repository is reported without its text, which that
repository may keep private. ``max_file_size`` and the ``[campaign]`` numbers are capped by
the App's settings.

The first lookup is part of a bigger GraphQL batch (see :func:`wants`); only an ``extends``
that is neither the organisation nor already read costs one more request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

from analyzers.policy import Policy
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
from bot.ops.settings import Settings

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
    *,
    settings: Settings | None = None,
) -> PolicyLookup:
    """The policy of ``owner/repo`` at ``rev`` from a batch's answer (see :func:`wants`).

    ``settings``: the App's, for the repositories besides the organisation's ``.github`` that
    ``extends`` may name and the most a policy may ask of the App (:func:`capped`); without
    them only the organisation's ``.github`` may be extended and nothing is capped.
    """
    allowed = {name.lower() for name in (settings.policy_extends_allow if settings else ())}
    foreign: list[str] = []  # parents read from other repositories
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
                if name.lower() not in allowed:
                    raise PolicyError(
                        chosen[0],
                        None,
                        "extends",
                        f"{name!r} is not a policy this App may read for other repositories: "
                        f"extend the organisation's ({owner}/{ORG_REPO}), or ask the App's "
                        "operator to allow it (SSOT_POLICY_EXTENDS_ALLOW)",
                    )
                other_owner, other_repo = name.split("/")
                if name.lower() != f"{owner}/{repo}".lower():
                    foreign.append(name)
                return pick(fetch(other_owner, other_repo, "HEAD", POLICY_PATHS), f"{name}:")
            if glob_errors(name):
                return None
            text = fetch(owner, repo, rev, [name]).get(name)
            return None if text is None else (name, text)

        source, text = chosen
        loaded = load_policy(text, source, fetch_parent)
    except PolicyError as error:
        return PolicyLookup(error=_own_words(error, owner, repo, foreign))
    if settings is not None:
        loaded = dataclasses.replace(loaded, policy=capped(loaded.policy, settings))
    return PolicyLookup(policy=loaded)


def capped(policy: Policy, settings: Settings) -> Policy:
    """``policy`` asking no more of the App than its settings allow.

    A repository's writers choose its policy; the App's operator chooses how large a file it
    reads and how many consolidation pull requests one repository may have it open.
    """
    campaign = policy.campaign
    return dataclasses.replace(
        policy,
        max_file_size=min(policy.max_file_size, settings.max_file_size),
        campaign=dataclasses.replace(
            campaign,
            max_files=min(campaign.max_files, settings.campaign_max_files),
            max_open=min(campaign.max_open, settings.campaign_max_open),
            max_per_hour=min(campaign.max_per_hour, settings.campaign_max_per_hour),
        ),
    )


def _own_words(error: PolicyError, owner: str, repo: str, foreign: list[str]) -> PolicyError:
    """``error`` as this repository's check may show it. Once a parent from another
    repository (which may be private) is merged in, an error may be about its values: it
    names the file and key only, never a value or line."""
    other, sep, _ = error.source.partition(":")
    from_other = sep and other.lower() != f"{owner}/{repo}".lower()
    if not from_other and not foreign:
        return error
    parents = ", ".join(foreign) or other
    return PolicyError(
        error.source,
        None,
        error.key,
        f"this policy, merged with its parent {parents}, cannot be used; the checks of "
        "that repository say why",
    )
