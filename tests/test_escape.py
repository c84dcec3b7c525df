"""Markdown escaping of pull-request content, checked by rendering it with cmark-gfm.

cmark-gfm is GitHub's own Markdown parser (the GFM extensions: tables, autolinks,
strikethrough, tag filter). GitHub then links ``@mentions``, ``#123`` and ``GH-123`` in the
rendered text; those are checked on the text the parser leaves.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers.report import escape

# Pieces that start markup in GitHub Markdown, mixed with plain characters.
TOKENS = [
    *"`*_[]()<>!&#@|~$:/.-+=\\ \t\n\r\"'{}^%;?",
    *"aAbwx019",
    "www.",
    "https://",
    "http://x.io",
    "<!--",
    "-->",
    "<img src=x>",
    "<http://a.b>",
    "[a](http://b)",
    "![i](j)",
    "@org/team",
    "@user",
    "a@b.co",
    "#12",
    "GH-3",
    "&amp;",
    "&#64;",
    "```",
    "~~",
    "$x$",
    "1. ",
    "- ",
    "> ",
    "    ",
    "\u202e",
    "\u2028",
    "\x00",
    "\x85",
    "\u200b",
]
content = st.one_of(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join), st.text())
# What GitHub links in the text after the Markdown is rendered (URLs were autolinked by the
# parser already: they would be an <a> tag).
LIVE_TEXT = re.compile(r"(?i)@[a-z0-9]|#[0-9]|gh-[0-9]")
INVISIBLE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


class Rendered(HTMLParser):
    """The tags and the text of rendered HTML (comments and declarations count as tags)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.code: list[str] = []
        self._in_code = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_code = tag == "code"

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code = False

    def handle_data(self, data: str) -> None:
        (self.code if self._in_code else self.text).append(data)

    def handle_comment(self, data: str) -> None:
        self.tags.append("<!--")

    def handle_decl(self, decl: str) -> None:
        self.tags.append("<!")

    def handle_pi(self, data: str) -> None:
        self.tags.append("<?")


def render(markdown: str) -> Rendered:
    # UNSAFE: raw HTML passes through instead of being replaced, so any would be seen here.
    return Rendered(
        cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    )


def visible(value: str) -> str:
    """What a reader should see: one line, tabs as spaces, invisible characters spelt out."""
    return INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value.replace("\t", " "))


def table(cell: str) -> Rendered:
    return render(f"| head | next |\n| --- | --- |\n| {cell} | after |\n")


@settings(max_examples=400)
@given(content)
def test_text_renders_as_exactly_its_characters(value: str) -> None:
    for markdown in (escape.text(value), f"before {escape.text(value)} after"):
        page = render(markdown)
        assert set(page.tags) <= {"p"}, (markdown, page.tags)
        shown = "".join(page.text).replace(escape.ZERO_WIDTH_SPACE, "")
        assert shown.strip(" \n") in (
            visible(value).replace(escape.ZERO_WIDTH_SPACE, "").strip(" "),
            f"before {visible(value).replace(escape.ZERO_WIDTH_SPACE, '')} after",
        )
        assert not LIVE_TEXT.search("".join(page.text)), markdown


@settings(max_examples=400)
@given(content)
def test_code_renders_as_one_code_span_of_its_characters(value: str) -> None:
    page = render(f"see {escape.code(value)} here")
    assert page.tags == ["p", "code"], page.tags
    assert "".join(page.code) == (visible(value) or " ")
    assert "".join(page.text).strip("\n") == "see  here"


@settings(max_examples=300)
@given(content)
def test_a_table_cell_holds_the_whole_value(value: str) -> None:
    for cell, tags in ((escape.code(value, table=True), {"code"}), (escape.text(value), set())):
        page = table(cell)
        assert page.tags.count("td") == 2, (cell, page.tags)
        assert set(page.tags) <= {"table", "thead", "tbody", "tr", "th", "td"} | tags
        if tags:
            assert "".join(page.code) == (visible(value) or " ")
        assert not LIVE_TEXT.search("".join(page.text)), cell


@settings(max_examples=300)
@given(st.lists(st.one_of(content, content.map(lambda v: f"`{v}`")), max_size=4).map("".join))
def test_a_rule_message_has_code_spans_and_nothing_else(value: str) -> None:
    page = render(f"- **SSOT001** {escape.message(value)}")
    assert set(page.tags) <= {"ul", "li", "strong", "code"}, page.tags
    assert not LIVE_TEXT.search("".join(page.text))


def test_a_code_span_is_longer_than_any_backtick_run_inside() -> None:
    assert escape.code("a``b") == "```a``b```"
    assert escape.code("`x`") == "`` `x` ``"


def test_a_message_keeps_its_quoted_names_as_code() -> None:
    rendered = escape.message("`import a.old` uses deprecated path `a.old`; import `a.new`")
    assert rendered == "`import a.old` uses deprecated path `a.old`; import `a.new`"


@pytest.mark.parametrize(
    "hostile",
    [
        "@org/everyone please look",
        "see #1 and GH-2",
        "<!-- ssot:fingerprint=abc -->",
        "[click](https://evil.example)",
        "https://evil.example",
        "<img src=x onerror=alert(1)>",
    ],
)
def test_hostile_text_is_inert(hostile: str) -> None:
    page = render(escape.text(hostile))
    assert page.tags == ["p"]
    assert not LIVE_TEXT.search("".join(page.text))


def test_names_stay_readable_in_the_source() -> None:
    assert escape.text("websocket-manager") == "websocket-manager"
    assert escape.text("SSOT002 extra-implementation") == "SSOT002 extra-implementation"
