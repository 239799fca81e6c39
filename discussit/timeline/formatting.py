"""A message's text as HTML: bold, italic, strikethrough, code, fenced code blocks, quotes, lists
and links, and nothing else. Rendered once per message, when it is stored (never per viewer);
the HTML is stored beside the text, which stays the truth.

markdown-it-py does the parsing, with raw HTML off (every text token is escaped) and only the
rules listed below switched on, from its "zero" preset, so that a new release cannot switch one
on for us; linkify-it-py finds bare URLs. A link goes only to http, https or mailto (anything
else, `javascript:` and relative or `//host` links included, stays text) and is marked
rel="noopener nofollow ugc". Templates show the HTML through the `message_html` filter
(core/templating.py), the one place it becomes markup.

Bump RENDER_VERSION when the output changes: a stored message rendered by an older version is
rendered again when it is read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

RENDER_VERSION = 1
SCHEMES = frozenset({"http", "https", "mailto"})
REL = "noopener nofollow ugc"
_LANGUAGE = re.compile(r"[\w+-]{1,20}")  # a fence's language, kept as a class: nothing odd


class _ChatMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # (markdown-it-py's name)
        """`url` comes entity-decoded and percent-encoded: only a scheme of ours passes (no
        relative, `//host`, javascript:, data: or vbscript: links)."""
        return urlsplit(url).scheme.lower() in SCHEMES


def _link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    tokens[idx].attrSet("rel", REL)
    return self.renderToken(tokens, idx, options, env)


def _fence(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    language = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    token.info = language if _LANGUAGE.fullmatch(language) else ""
    return RendererHTML.fence(self, tokens, idx, options, env)


def _make() -> _ChatMarkdown:
    md = _ChatMarkdown(
        "zero", {"html": False, "linkify": True, "breaks": True, "typographer": False}
    )
    md.enable(
        [
            # blocks
            "paragraph",
            "fence",
            "code",
            "blockquote",
            "list",
            # inline
            "emphasis",
            "strikethrough",
            "backticks",
            "escape",
            "entity",
            "link",
            "autolink",
            "newline",
            "linkify",
        ]
    )
    assert md.linkify is not None
    md.linkify.set({"fuzzy_email": False})
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("fence", _fence)
    return md


_MD = _make()


def to_html(text: str) -> str:
    """`text` (already through the text policy) as the HTML a message shows."""
    return _MD.render(text).rstrip("\n")
