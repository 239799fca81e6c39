"""Message formatting (timeline/formatting.py): what becomes HTML, and that nothing else does.

The corpus holds the checklist's XSS payloads (tests/checklist/test_hdr_cfg_xss.py) and the
markdown-specific ones; the fuzz test checks any text against the same rules, read back with
the standard library's HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from discussit.timeline import formatting
from discussit.timeline.formatting import (
    HTML_FACTOR,
    HTML_SLACK,
    REL,
    SCHEMES,
    first_line,
    is_emoji_only,
    to_html,
)
from tests.helpers import FORMATTING, MARKDOWN_PAYLOADS, XSS_PAYLOADS

pytestmark = pytest.mark.pure  # no database or Redis: the services pass leaves it out


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def assert_inert(html: str) -> None:
    """Only allowed elements and attributes; every link to an allowed scheme, marked REL."""
    for tag, attrs in elements(html):
        assert tag in FORMATTING, (tag, html)
        assert set(attrs) <= FORMATTING[tag], (tag, attrs, html)
        if tag == "a":
            href = attrs["href"] or ""
            assert urlsplit(href).scheme.lower() in SCHEMES, html
            assert attrs["rel"] == REL
        if tag == "code" and "class" in attrs:
            assert (attrs["class"] or "").startswith("language-")
            assert all(c.isalnum() or c in "_+-" for c in (attrs["class"] or "")[9:]), html


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("plain words", "<p>plain words</p>"),
        ("**bold** and *italic*", "<p><strong>bold</strong> and <em>italic</em></p>"),
        ("~~gone~~", "<p><s>gone</s></p>"),
        ("a `x < y` b", "<p>a <code>x &lt; y</code> b</p>"),
        (
            "```py\nprint('<b>')\n```",
            "<pre><code class=\"language-py\">print('&lt;b&gt;')\n</code></pre>",
        ),
        ("one\ntwo", "<p>one<br>\ntwo</p>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        (
            "see https://example.com/a?b=1",
            f'<p>see <a href="https://example.com/a?b=1" rel="{REL}">'
            "https://example.com/a?b=1</a></p>",
        ),
        (
            "[docs](https://example.com/docs)",
            f'<p><a href="https://example.com/docs" rel="{REL}">docs</a></p>',
        ),
        # A bare URL is linked as typed with its scheme or "www."; a file name stays a name.
        (
            "www.example.com",
            f'<p><a href="http://www.example.com" rel="{REL}">www.example.com</a></p>',
        ),
        ("edit main.py and notes.md", "<p>edit main.py and notes.md</p>"),
        ("example.com", "<p>example.com</p>"),
        # A URL urlsplit cannot read is not a link (and does not fail the message).
        ("[x](http://[1:2]/) <http://[::g]/>", "<p>[x](http://[1:2]/) &lt;http://[::g]/&gt;</p>"),
        # Off: headings, tables, images (an image stays a link), raw HTML.
        ("# not a heading", "<p># not a heading</p>"),
        (
            "![pic](https://example.com/p.png)",
            f'<p>!<a href="https://example.com/p.png" rel="{REL}">pic</a></p>',
        ),
        ("<b>raw</b>", "<p>&lt;b&gt;raw&lt;/b&gt;</p>"),
    ],
)
def test_what_becomes_html(text: str, html: str) -> None:
    assert to_html(text) == html
    assert_inert(html)


@pytest.mark.parametrize("payload", XSS_PAYLOADS + MARKDOWN_PAYLOADS)
def test_hostile_text_renders_inert(payload: str) -> None:
    html = to_html(payload)
    assert_inert(html)
    for marker in ("<script", "<img", "<svg", "<button"):  # (as text they are &lt;...)
        assert marker not in html, html


def test_a_link_only_to_an_allowed_scheme() -> None:
    for payload in MARKDOWN_PAYLOADS[:12]:
        assert "<a " not in to_html(payload), payload


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*"*_`~[]()<>!&#;:/\\\"' \nabcjvsript.=-@1", "http://", "https://", "www.", "```"]
        ),
        max_size=40,
    ).map("".join)
)
@example("[a](<javascript:x>)")
@example("[x](http://[1:2]/)")
@example("<http://[::g]/>")
@example("<mailto:a@b.example>")
def test_any_text_renders_inert(text: str) -> None:
    assert_inert(to_html(text))


def test_html_far_longer_than_its_text_is_made_again_without_bare_links_or_as_text() -> None:
    links = "http://a.co " * 160  # each bare link would become 66 characters
    html = to_html(links)
    assert "<a " not in html and len(html) <= len(links) * HTML_FACTOR + HTML_SLACK
    quotes = '"' * 2000  # markdown-it-py's &quot; is 6 characters; escaped as text, &#34;
    html = to_html(quotes)
    assert html == "<p>" + "&#34;" * 2000 + "</p>"
    assert to_html("one link: https://a.example").count("<a ") == 1  # a usual message keeps it


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1 ,;?!'\n.-*&<", max_size=40))
@example("stall00001" + "x" * 1900)
@example("1 2, 3; ok? yes! it's")
def test_a_plain_line_is_made_as_markdown_it_py_makes_it(text: str) -> None:
    """The shortcut for plain lines gives what the full renderer gives."""
    if formatting._PLAIN.fullmatch(text):
        assert to_html(text) == formatting._MD.render(text).rstrip("\n")


@pytest.mark.parametrize(
    ("text", "emoji_only"),
    [
        ("🎉", True),
        ("👍🏽 ❤️", True),  # a skin tone, a presentation selector
        ("👨‍👩‍👧", True),  # joined by zero-width joiners
        ("🇫🇷", True),  # a flag: two regional indicators
        ("🎉 yay", False),
        ("1", False),
        (":)", False),
        ("", False),
        ("🎉" * 30, False),  # a wall of emoji is not "a few": shown as usual
    ],
)
def test_a_message_of_a_few_emoji_only_shows_larger(text: str, emoji_only: bool) -> None:
    assert is_emoji_only(text) is emoji_only


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("hello **world**", "hello world"),
        ("\n  Who brings cake?\nsecond line", "Who brings cake?"),
        ("```\nprint(1)\n```", "print(1)"),
        ("> quoted *x*\nmore", "quoted x"),
        ("<b>x</b>", "<b>x</b>"),  # as text (the template escapes it)
        ("a" * 150, "a" * 99 + "…"),
    ],
)
def test_a_quote_shows_the_first_line_as_a_reader_sees_it(text: str, line: str) -> None:
    assert first_line(text, 100) == line
