"""``/ssot <command> [argument]`` in a comment: what was asked, as pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "/ssot"


@dataclass(frozen=True)
class Command:
    name: str  # "rescan", "explain", "fix", "accept", "help"; "help" when absent
    argument: str  # the rest of the line


def parse_command(body: str | None) -> Command | None:
    """The first ``/ssot <name> [argument]`` line of a comment, or None.

    >>> parse_command("LGTM\\n/ssot accept legacy client, removed in #12")
    Command(name='accept', argument='legacy client, removed in #12')
    """
    for line in (body or "").splitlines():
        words = line.strip().split(maxsplit=2)
        if not words or words[0].lower() != PREFIX:
            continue
        name = words[1].lower() if len(words) > 1 else "help"
        return Command(name=name, argument=words[2].strip() if len(words) > 2 else "")
    return None
