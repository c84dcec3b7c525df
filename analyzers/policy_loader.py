"""Load a policy from TOML text; every error names the file, the line and the key.

Validation uses pydantic's validator of the dataclasses of :mod:`analyzers.policy` (built by
pydantic-core from the schema pydantic generates, see :mod:`analyzers.policy_schema`), then a
semantic pass for what types cannot say: regular expressions that compile, dotted paths,
globs that stay inside the repository.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzers.globs import MAX_GLOBS, GlobSet
from analyzers.patterns import MAX_PATTERN_CHARS, UnsafePattern, pattern_problem, quoted
from analyzers.policy import RULE_CODES, SAFE_FIX_RULES, Policy
from analyzers.report_replay import POLICY_PATHS as POLICY_PATHS  # where a checkout keeps it

_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(\.\*)?$")
_UNION_MEMBER = re.compile(r"[A-Za-z_][\w-]*\[.*\]\Z", re.DOTALL)

_MODEL_NAMES = frozenset(
    {"Policy", "Concept", "Implementation", "EventSchema", "RuleSettings", "Campaign", "Dashboard"}
)
MAX_LABEL = 50  # GitHub's longest label name

# Asks for a parent policy by the name given in `extends`; returns (source, text) or None.
ParentFetcher = Callable[[str], "tuple[str, str] | None"]


class PolicyError(ValueError):
    """A policy that cannot be used; ``str()`` is ``file:line: message``.

    ``message`` says what is wrong in the policy's words (``[[concept]] 2: target must be 0
    or more``, see :mod:`analyzers.policy_errors`); ``key`` is the same place as a dotted
    path for programs (``concept.1.target``, indexes from 0).
    """

    def __init__(self, source: str, line: int | None, key: str, message: str) -> None:
        self.source, self.line, self.key, self.message = source, line, key, message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy and where it came from (for messages and the summary)."""

    policy: Policy
    source: str
    chain: tuple[str, ...]


def find_key_line(text: str, loc: Sequence[str | int], prefix: str = "") -> int | None:
    """Best line for a validation location such as ``("concept", 0, "target")``.

    Walks table headers and ``key =`` lines, counting ``[[array]]`` tables so that the n-th
    concept maps to its own block; falls back to the longest prefix of ``loc`` that was seen.
    """
    seen: dict[tuple[str | int, ...], int] = {}
    counters: dict[tuple[str, ...], int] = {}
    table: tuple[str | int, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[["):
            name = line[2:].split("]]")[0].strip()
            parts = _strip_prefix(tuple(p.strip().strip('"') for p in name.split(".")), prefix)
            index = counters.get(parts, -1) + 1
            counters[parts] = index
            table = (*parts, index)
            seen.setdefault(table, number)
        elif line.startswith("["):
            name = line[1:].split("]")[0].strip()
            parts = _strip_prefix(tuple(p.strip().strip('"') for p in name.split(".")), prefix)
            table = _index_nested(parts, counters)
            seen.setdefault(table, number)
        elif "=" in line and not line.startswith("#"):
            key = line.split("=", 1)[0].strip().strip('"')
            path = (*table, *key.split("."))
            seen.setdefault(path, number)
    for end in range(len(loc), 0, -1):
        if tuple(loc[:end]) in seen:
            return seen[tuple(loc[:end])]
    return None


def _strip_prefix(parts: tuple[str, ...], prefix: str) -> tuple[str, ...]:
    want = tuple(prefix.split(".")) if prefix else ()
    return parts[len(want) :] if want and parts[: len(want)] == want else parts


def _index_nested(
    parts: tuple[str, ...], counters: dict[tuple[str, ...], int]
) -> tuple[str | int, ...]:
    # [concept.implementation] after the n-th [[concept]] belongs to that n-th concept.
    for cut in range(len(parts) - 1, 0, -1):
        if parts[:cut] in counters:
            return (*parts[:cut], counters[parts[:cut]], *parts[cut:])
    return parts


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML text to a dict; syntax errors become :class:`PolicyError` with the line."""
    import tomllib  # here: a warm scan takes its validated policy from the cache

    try:
        return tomllib.loads(text)
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        raise PolicyError(source, None, "", "invalid TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise PolicyError(
            source, int(match.group(1)) if match else None, "", f"invalid TOML: {exc}"
        ) from None


def policy_table(text: str, source: str) -> tuple[dict[str, Any], str] | None:
    """The policy table of a file: the whole file, or ``[tool.ssot]`` of a pyproject.toml."""
    data = parse_toml(text, source)
    if Path(source).name == "pyproject.toml":
        table = data.get("tool", {}).get("ssot")
        return None if table is None else (table, "tool.ssot")
    return data, ""


def merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """``child`` over ``parent``: concepts and event schemas by name, rules by code."""
    merged = {**parent, **child}
    for key in ("concept", "event_schema"):
        by_name = {item.get("name"): item for item in parent.get(key, [])}
        for item in child.get(key, []):
            by_name[item.get("name")] = {**by_name.get(item.get("name"), {}), **item}
        if by_name:
            merged[key] = list(by_name.values())
    merged["rules"] = {**parent.get("rules", {}), **child.get("rules", {})}
    if "campaign" in parent or "campaign" in child:
        merged["campaign"] = {**parent.get("campaign", {}), **child.get("campaign", {})}
    merged.pop("extends", None)
    return merged


def load_policy(
    text: str,
    source: str = ".github/ssot.toml",
    fetch_parent: ParentFetcher | None = None,
) -> LoadedPolicy:
    """Validate policy text (following ``extends``) into a :class:`LoadedPolicy`.

    Raises :class:`PolicyError` naming file, line and key; ``ValueError`` subclasses only.
    """
    found = policy_table(text, source)
    if found is None:
        raise PolicyError(source, None, "tool.ssot", "no [tool.ssot] table in this file")
    table, prefix = found
    chain = [source]
    texts = {source: (text, prefix)}
    merged = table
    parent_name = table.get("extends")
    while parent_name:
        line = find_key_line(text, ["extends"], prefix)
        if not isinstance(parent_name, str):
            raise PolicyError(source, line, "extends", "extends must be a string")
        if glob_errors(parent_name):
            raise PolicyError(
                source,
                line,
                "extends",
                f"extends = {json.dumps(parent_name)} leaves the repository; name a policy "
                'file inside it, relative to its root (extends = "policies/base.toml")',
            )
        parent = fetch_parent(parent_name) if fetch_parent else None
        if parent is None:
            raise PolicyError(
                source, line, "extends", f"extends: cannot find parent policy {parent_name!r}"
            )
        parent_source, parent_text = parent
        if parent_source in chain:
            raise PolicyError(
                parent_source, None, "extends", "extends: policies extend each other in a cycle"
            )
        parent_found = policy_table(parent_text, parent_source)
        if parent_found is None:
            raise PolicyError(parent_source, None, "tool.ssot", "no [tool.ssot] table in this file")
        chain.append(parent_source)
        texts[parent_source] = (parent_text, parent_found[1])
        parent_name = parent_found[0].get("extends")
        merged = merge(parent_found[0], merged)
    policy = _validate(merged, source, text, prefix)
    return LoadedPolicy(policy=policy, source=source, chain=tuple(chain))


def _validate(data: dict[str, Any], source: str, text: str, prefix: str) -> Policy:
    # Here, not at the top: a warm scan takes its validated policy from the cache.
    from analyzers.policy_schema import core_module, policy_validator

    data = {k: v for k, v in data.items() if k != "extends"}
    version = data.get("version", 1)
    # Checked before pydantic, whose lax mode reads true, 1.0 and "1" as 1: a policy written
    # for another format must not be read silently as this one.
    if type(version) is not int or version != 1:
        raise PolicyError(
            source,
            find_key_line(text, ["version"], prefix),
            "version",
            f"version = {json.dumps(version, default=str)}: this release reads policy format 1 "
            "only (version = 1)",
        )
    validator = policy_validator()
    try:
        policy: Policy = validator.validate_python(data)
    except core_module().ValidationError as exc:
        from analyzers.policy_errors import from_validation  # messages: only on an error

        error = exc.errors()[0]
        # pydantic puts the names of union members (dataclasses, `tuple[str, ...]`) in the
        # location; keys are what count. A key may be any string (`]` included).
        loc = [
            p
            for p in error["loc"]
            if p not in _MODEL_NAMES and not (isinstance(p, str) and _UNION_MEMBER.match(p))
        ]
        key = ".".join(str(p) for p in loc)
        raise PolicyError(
            source, find_key_line(text, loc, prefix), key, from_validation(error, loc, prefix)
        ) from None
    for loc, message in semantic_errors(policy):
        from analyzers.policy_errors import place, sentence

        raise PolicyError(
            source,
            find_key_line(text, loc, prefix),
            ".".join(map(str, loc)),
            sentence(place(loc, prefix), message),
        )
    return policy


def semantic_errors(policy: Policy) -> list[tuple[list[str | int], str]]:
    """What the types cannot check: regexes, dotted paths, globs, unknown rule codes."""
    errors: list[tuple[list[str | int], str]] = []
    names: set[str] = set()
    for i, concept in enumerate(policy.concept):
        if concept.name in names:
            errors.append((["concept", i, "name"], f"duplicate concept name {concept.name!r}"))
        names.add(concept.name)
        if (
            not _DOTTED.match(concept.canonical)
            or "." not in concept.canonical
            or concept.canonical.endswith("*")
        ):
            errors.append((["concept", i, "canonical"], "must be a dotted path module.Symbol"))
        for j, item in enumerate(concept.deprecated):
            if not _DOTTED.match(item):
                errors.append(
                    (
                        ["concept", i, "deprecated", j],
                        f"{item!r} is not a dotted path (module.Symbol or module.*)",
                    )
                )
        impl = concept.implementation
        if impl is not None:
            if impl.name is not None:
                errors.extend(
                    (["concept", i, "implementation", "name"], m) for m in regex_errors(impl.name)
                )
            if impl.methods and not 1 <= impl.min_methods <= len(impl.methods):
                errors.append(
                    (
                        ["concept", i, "implementation", "min_methods"],
                        f"must be between 1 and {len(impl.methods)}",
                    )
                )
            if impl.name is None and not impl.bases and not impl.methods:
                errors.append(
                    (["concept", i, "implementation"], "needs at least one of name, bases, methods")
                )
        errors.extend((["concept", i, "allowed_in"], m) for m in globs_errors(concept.allowed_in))
        for j, glob in enumerate(concept.allowed_in):
            errors.extend((["concept", i, "allowed_in", j], m) for m in glob_errors(glob))
        if concept.target is not None and concept.target < 0:
            errors.append((["concept", i, "target"], "must be 0 or more"))
    for i, schema in enumerate(policy.event_schema):
        if not schema.events:
            errors.append((["event_schema", i, "events"], "must name at least one event"))
    for key in ("exclude", "test_paths"):
        errors.extend(([key], m) for m in globs_errors(getattr(policy, key)))
        for j, glob in enumerate(getattr(policy, key)):
            errors.extend(([key, j], m) for m in glob_errors(glob))
    errors.extend((["test_classes"], m) for m in regex_errors(policy.test_classes))
    for code in policy.rules:
        if code not in RULE_CODES:
            errors.append((["rules", code], f"unknown rule code; known: {', '.join(RULE_CODES)}"))
    if policy.max_file_size <= 0:
        errors.append((["max_file_size"], "must be a positive number of bytes"))
    if not 1 <= policy.dashboard.depth <= 20:
        errors.append((["dashboard", "depth"], "must be between 1 and 20"))
    errors.extend(campaign_errors(policy))
    return errors


def campaign_errors(policy: Policy) -> list[tuple[list[str | int], str]]:
    """What the types cannot check in ``[campaign]``: bounds, the schedule, safe rules."""
    from analyzers.schedule import schedule_error

    campaign = policy.campaign
    errors: list[tuple[list[str | int], str]] = []
    for key in ("depth", "max_files", "max_open", "max_per_hour"):
        if getattr(campaign, key) < 1:
            errors.append((["campaign", key], "must be 1 or more"))
    problem = schedule_error(campaign.schedule)
    if problem is not None:
        errors.append((["campaign", "schedule"], problem))
    for j, label in enumerate(campaign.labels):
        if not label.strip() or len(label) > MAX_LABEL:
            errors.append((["campaign", "labels", j], f"must be 1 to {MAX_LABEL} characters"))
    for j, code in enumerate(campaign.rules):
        if code not in SAFE_FIX_RULES:
            errors.append(
                (
                    ["campaign", "rules", j],
                    f"{code!r} has no fix safe to apply unattended; allowed: "
                    + ", ".join(SAFE_FIX_RULES),
                )
            )
    if not campaign.rules:
        errors.append((["campaign", "rules"], "must name at least one rule"))
    return errors


def regex_errors(pattern: str) -> list[str]:
    """Why ``pattern`` is unusable as a policy regular expression, if it is.

    Policy patterns are matched by RE2 in linear time (:mod:`analyzers.patterns`); a pattern
    RE2 cannot match that way (a back-reference, a look-around) or that is too long is refused.
    """
    problem = pattern_problem(pattern)
    return [] if problem is None else [problem]


def glob_errors(glob: str) -> list[str]:
    """Why a path glob is unusable (it must stay inside the repository and compile)."""
    if len(glob) > MAX_PATTERN_CHARS:
        return [f"glob longer than {MAX_PATTERN_CHARS} characters"]
    parts = glob.replace("\\", "/").split("/")
    if glob.startswith(("/", "~")) or ".." in parts or re.match(r"^[A-Za-z]:", glob):
        return [f"{glob!r} points outside the repository; use a path relative to its root"]
    try:
        GlobSet([glob])
    except UnsafePattern as exc:
        return [f"invalid glob {quoted(glob)}: {exc.reason}"]
    return []


def globs_errors(globs: Sequence[str]) -> list[str]:
    """Why a list of globs is unusable as a whole (each glob is checked by itself too)."""
    if len(globs) > MAX_GLOBS:
        return [f"{len(globs):,} globs, more than {MAX_GLOBS:,}; merge some of them with `**`"]
    return []


def discover_policy(root: Path) -> tuple[str, str] | None:
    """``(relative source, text)`` of the policy in a checkout, or None when it has none."""
    for rel in POLICY_PATHS:
        path = root / rel
        if not path.is_file():
            continue
        text = read_policy_text(path, rel)
        if rel.endswith("pyproject.toml") and policy_table(text, rel) is None:
            continue
        return rel, text
    return None


def read_policy_text(path: Path, source: str) -> str:
    """Read a policy file as UTF-8, naming the file on failure."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(source, None, "", f"not UTF-8 text: {exc}") from None
    except OSError as exc:
        raise PolicyError(source, None, "", f"cannot read: {exc.strerror}") from None


def local_parent_fetcher(root: Path) -> ParentFetcher:
    """Resolve ``extends = "path.toml"`` against a checkout (never outside it)."""

    def fetch(name: str) -> tuple[str, str] | None:
        if glob_errors(name):
            return None
        path = (root / name).resolve()
        if not path.is_file() or root.resolve() not in path.parents:
            return None
        return name, read_policy_text(path, name)

    return fetch
