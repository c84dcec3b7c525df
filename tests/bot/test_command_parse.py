"""The ``/ssot`` command parser: only lines the commenter saw as plain text count.

Hypothesis generates comment bodies; a command hidden in a code block, a code span, a quote
or an HTML comment never counts, and no input makes the parser crash or hang (comments are
at most 65,536 characters; the deadline is a hang detector, not a speed claim).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.parse import MAX_BODY_CHARS, Command, parse_command

TOKENS = [
    *"`~>*_-+#|[]()<>!\\ \t\n\r=:.",
    "/ssot",
    "/ssot accept reason",
    "/ssot fix",
    "\n/ssot rescan\n",
    "```",
    "~~~",
    "    ",
    "> ",
    "<!--",
    "-->",
    "<details>",
    "</details>",
    "<pre>",
    "- ",
    "1. ",
    "\n\n",
    "&gt;",
    "&#47;ssot fix",
]
bodies = st.one_of(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join), st.text())
one_line = st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=40)
hang_detector = settings(max_examples=300, deadline=timedelta(seconds=20))
LINE_ENDS = re.compile(r"\r\n|\r|\n")


def lines_of(body: str) -> list[str]:
    return LINE_ENDS.split(body)


@hang_detector
@given(bodies)
def test_no_body_crashes_the_parser(body: str) -> None:
    command = parse_command(body)
    assert command is None or command.name == command.name.lower()


@hang_detector
@given(bodies)
def test_a_fenced_code_block_hides_every_command(body: str) -> None:
    # A fence longer than any run of its character inside cannot be closed by the body.
    fence = "~" * (max((len(r) for r in re.findall("~+", body)), default=0) + 3)
    assert parse_command(f"{fence}\n{body}\n{fence}") is None


@hang_detector
@given(bodies)
def test_a_quote_hides_every_command(body: str) -> None:
    assert parse_command("\n".join(f"> {line}" for line in lines_of(body))) is None


@hang_detector
@given(bodies)
def test_an_indented_code_block_hides_every_command(body: str) -> None:
    assert parse_command("text\n\n" + "\n".join(f"    {line}" for line in lines_of(body))) is None


@hang_detector
@given(bodies.filter(lambda b: "-->" not in b))
def test_an_html_comment_hides_every_command(body: str) -> None:
    assert parse_command(f"<!--\n{body}\n-->") is None


@hang_detector
@given(one_line)
def test_a_code_span_hides_a_command(text: str) -> None:
    fence = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    assert parse_command(f"{fence} /ssot accept {text} {fence}") is None


@hang_detector
@given(
    st.sampled_from(["rescan", "fix", "accept", "explain", "help", "frobnicate"]),
    st.text(alphabet="abc xyz,.()01", max_size=30),
)
def test_a_plain_line_is_a_command(name: str, argument: str) -> None:
    body = f"Thanks!\n\n/ssot {name} {argument}\n\nmore text"
    assert parse_command(body) == Command(name=name, argument=argument.strip())


@pytest.mark.parametrize(
    "body",
    [
        "> /ssot accept looks fine",
        "```\n/ssot fix\n```",
        "    /ssot fix",
        "<!--\n/ssot accept hidden\n-->",
        "`/ssot accept x`",
        "quoted:\n> earlier text\n/ssot accept lazily quoted",  # still inside the quote
        "- > /ssot fix",
    ],
)
def test_hidden_commands_do_not_count(body: str) -> None:
    assert parse_command(body) is None


def test_the_argument_is_the_visible_text_of_the_line() -> None:
    assert parse_command("/ssot accept the `Foo` shim, see **#12**") == Command(
        "accept", "the Foo shim, see #12"
    )


def test_an_oversized_body_is_read_up_to_githubs_limit() -> None:
    assert parse_command("x" * MAX_BODY_CHARS + "\n\n/ssot fix") is None
    assert parse_command("/ssot fix\n\n" + "x" * MAX_BODY_CHARS) == Command("fix", "")
