"""What a consolidation pull request says: repository content in it is inert Markdown."""

from __future__ import annotations

import re

import cmarkgfm
from cmarkgfm.cmark import Options

from analyzers.campaign import Batch, FileFix, LeftOut
from analyzers.findings import Finding
from bot.campaigns import text

# A path, a concept, a message and a reason can all be written by whoever pushes to the
# repository (file names and policy keys included); none may mention, link or hide anything.
HOSTILE = "@org/everyone see #12 <!-- x --> [x](https://evil.example) `tick` <img src=x>"


def hostile_batch() -> Batch:
    finding = Finding(
        rule="SSOT001",
        concept=HOSTILE,
        path=f"app/{HOSTILE}.py",
        line=3,
        col=1,
        end_line=3,
        end_col=9,
        message=f"`import a.old` uses deprecated path; {HOSTILE}",
        matched="import a.old",
        severity="block",
    )
    left = LeftOut(f"lib/{HOSTILE}.py", HOSTILE, HOSTILE, f"does not parse: {HOSTILE}")
    fixed = FileFix(finding.path, HOSTILE, "import a.new\n", (finding,))
    return Batch("websocket/app-1", HOSTILE, HOSTILE, 1, (fixed,), left_out=(left,))


def rendered_text(markdown: str) -> tuple[str, str]:
    """GitHub's parser's HTML, and the text GitHub would still link (outside code spans)."""
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    outside_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    return html, outside_code


def test_a_batch_pull_requests_body_is_inert() -> None:
    body = text.body(hostile_batch(), "main`x", "0" * 40)
    html, outside = rendered_text(body)
    assert "<a " not in html and "<img" not in html  # no link, no image
    assert html.count("<!--") == 1 and body.endswith(text.MARKER.format("websocket/app-1"))
    assert not re.search(r"(?i)@[a-z0-9]|#[0-9]", outside)  # nobody mentioned, nothing referenced
    assert "does not parse" in outside  # the left-out reason is still said


def test_the_refusal_and_push_comments_are_inert() -> None:
    for comment in (
        text.blocked_comment(f"ssot/consolidate/{HOSTILE}", 403, HOSTILE),
        text.human_push_comment(f"ssot/{HOSTILE}", "f" * 40),
        text.emptied_comment(HOSTILE),
    ):
        html, outside = rendered_text(comment)
        assert "<a " not in html and "<!--" not in html and "<img" not in html
        assert not re.search(r"(?i)@[a-z0-9]|#[0-9]", outside)
