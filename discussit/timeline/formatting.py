"""A message's text as HTML: bold, italic, strikethrough, code, fenced code blocks, quotes, lists
and links, and nothing else. Rendered once per message, when it is stored (never per viewer);
the HTML is stored beside the text, which stays the truth.

markdown-it-py does the parsing, with raw HTML off (every text token is escaped) and only the
rules listed below switched on, from its "zero" preset, so that a new release cannot switch one
on for us. linkify-it-py finds bare URLs; one is linked only as typed with its scheme or starting
"www." (as Rails' auto_link does: a bare `main.py` or `notes.md` would otherwise link to a real
domain). A link goes only to http, https or mailto (anything else, `javascript:` and relative or
`//host` links included, stays text) and is marked rel="noopener nofollow ugc". HTML much longer
than its text (a message of 400 bare links) is made again without bare links, and past that the
text is shown escaped, as it is. Templates show the HTML through the `message_html` filter
(core/templating.py), the one place it becomes markup.

Bump RENDER_VERSION when the output changes: a stored message rendered by an older version is
rendered again when it is read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import escape

from discussit import limits
from discussit.core.security.text import username_key

RENDER_VERSION = 1
SCHEMES = frozenset({"http", "https", "mailto"})
REL = "noopener nofollow ugc"
_LANGUAGE = re.compile(r"[\w+-]{1,20}")  # a fence's language, kept as a class: nothing odd
_TYPED_AS_A_LINK = re.compile(r"(?:https?://|mailto:|www\.)", re.IGNORECASE)
# One line of letters, digits, spaces and , ; ? ! ' only, not starting or ending with a space:
# no rule can act on it (no markup character, no "." or ":" for a link or a list, no line
# break), so markdown-it-py would make it one plain paragraph. Most messages are like this, and
# it costs markdown-it-py about 0.7 µs a character; tests/timeline/test_formatting.py checks
# that both give the same HTML.
_PLAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ,;?!']*[A-Za-z0-9,;?!'])?")
# An @mention: a username as typed after "@" (letters, digits, . _ -), not inside a word or an
# address (me@example.com), never in code or a link's text (next-wave-notes §2).
_MENTION = re.compile(rf"@([A-Za-z0-9][A-Za-z0-9._-]{{0,{limits.USERNAME_MAX - 1}}})")
# The most HTML one message may make: its text's length times HTML_FACTOR, plus HTML_SLACK.
HTML_FACTOR, HTML_SLACK = 4, 1000


class _ChatMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # (markdown-it-py's name)
        """`url` comes entity-decoded and percent-encoded: only a scheme of ours passes (no
        relative, `//host`, javascript:, data: or vbscript: links; nor one urlsplit cannot
        read, such as `http://[1:2]/`)."""
        try:
            return urlsplit(url).scheme.lower() in SCHEMES
        except ValueError:
            return False


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


def _bare_domains_unlinked(state: StateCore) -> None:
    """A core rule after linkify: a bare URL found without its scheme or "www." goes back to
    text (its three tokens, link_open, text, link_close, become the text)."""
    for block in state.tokens:
        children = block.children
        if not children:
            continue
        kept: list[Token] = []
        i = 0
        while i < len(children):
            token = children[i]
            if (
                token.type == "link_open"
                and token.markup == "linkify"
                and i + 2 < len(children)
                and children[i + 2].type == "link_close"
                and not _TYPED_AS_A_LINK.match(children[i + 1].content)
            ):
                kept.append(children[i + 1])
                i += 3
                continue
            kept.append(token)
            i += 1
        block.children = kept


def _mention(state: StateInline, silent: bool) -> bool:
    """An inline rule: `@name` becomes a mention token (its text is resolved when rendered)."""
    pos = state.pos
    if state.src[pos] != "@" or state.linkLevel > 0:
        return False
    if pos > 0 and (state.src[pos - 1].isalnum() or state.src[pos - 1] in "_@.-"):
        return False
    found = _MENTION.match(state.src, pos)
    if found is None:
        return False
    if not silent:
        token = state.push("mention", "", 0)
        token.meta = {"name": found.group(1)}
    state.pos = found.end()
    return True


def _render_mention(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A member of the group (env["members"]: username key -> user id) named after "@" becomes
    a mention, marked with their id (the page highlights mentions of its viewer); anyone else,
    or a name that is not a username, stays text. A name may end in "." (a username may too):
    the longest that names a member wins ("@ana." at the end of a sentence is ana)."""
    name: str = tokens[idx].meta["name"]
    members = env.get("members") or {}
    for candidate in (name, name.rstrip("._-")):
        user_id = members.get(username_key(candidate)) if candidate else None
        if user_id is not None:
            env.setdefault("mentioned", set()).add(int(user_id))
            rest = escape(name[len(candidate) :])
            shown = escape(candidate)
            return f'<span class="mention" data-user-id="{int(user_id)}">@{shown}</span>{rest}'
    return str(escape("@" + name))


RULES = [
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
]


def _make(linkify: bool) -> _ChatMarkdown:
    md = _ChatMarkdown(
        "zero", {"html": False, "linkify": linkify, "breaks": True, "typographer": False}
    )
    md.enable(RULES + (["linkify"] if linkify else []))
    if linkify:
        assert md.linkify is not None
        md.linkify.set({"fuzzy_email": False})
        md.core.ruler.after("linkify", "bare_domains_unlinked", _bare_domains_unlinked)
    md.inline.ruler.before("emphasis", "mention", _mention)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("mention", _render_mention)
    return md


_MD = _make(linkify=True)
_WITHOUT_BARE_LINKS = _make(linkify=False)


def to_html(text: str, members: Mapping[str, int] | None = None) -> str:
    """`text` (already through the text policy) as the HTML a message shows. `members`: the
    group's members it may mention (username key -> user id; mentioned_names says whom to look
    up): those become mentions, any other @name stays text."""
    return render(text, members)[0]


def render(text: str, members: Mapping[str, int] | None = None) -> tuple[str, frozenset[int]]:
    """to_html, and the ids of the members the HTML mentions."""
    if _PLAIN.fullmatch(text):
        return f"<p>{text}</p>", frozenset()  # (nothing in it to escape either)
    most = len(text) * HTML_FACTOR + HTML_SLACK
    for md in (_MD, _WITHOUT_BARE_LINKS):
        env: dict[str, object] = {"members": members or {}}
        html = md.render(text, env).rstrip("\n")
        if len(html) <= most:
            mentioned = env.get("mentioned")
            return html, frozenset(mentioned) if isinstance(mentioned, set) else frozenset()
    return f"<p>{escape(text)}</p>", frozenset()


def mentioned_names(text: str) -> list[str]:
    """The username keys `text` names after "@" (outside code and links), to look up among the
    group's members before rendering it: each name as typed and without a trailing "." (the
    renderer takes the longest that is a member). Empty without an "@": no parse then."""
    if "@" not in text:
        return []
    env: dict[str, object] = {}
    names: set[str] = set()
    for block in _WITHOUT_BARE_LINKS.parse(text, env):
        for child in block.children or ():
            if child.type == "mention":
                name = child.meta["name"]
                names.update(username_key(n) for n in (name, name.rstrip("._-")) if n)
    return sorted(names)


EMOJI_ONLY_MAX = 24  # code points: a few emoji, with their joiners and modifiers
_EMOJI_JOINERS = frozenset("\u200d\ufe0f\u20e3 ")


def is_emoji_only(text: str) -> bool:
    """Text of a few emoji and nothing else (spaces, joiners and skin tones allowed): each
    character a symbol (Unicode category So: emoji, flags' regional indicators) or a modifier
    (Sk: skin tones). By category, from the Unicode database; no pattern of our own."""
    text = text.strip()
    if not text or len(text) > EMOJI_ONLY_MAX:
        return False
    return all(
        ch in _EMOJI_JOINERS or unicodedata.category(ch) in ("So", "Sk") for ch in text
    ) and any(unicodedata.category(ch) == "So" for ch in text)


def first_line(text: str, limit: int) -> str:
    """The first line a reader sees of `text` as plain text (what a reply's quote shows): the
    first block's text as markdown-it-py parses it (`**bold**` is "bold"), up to its first line
    break, shortened to `limit` characters."""
    if _PLAIN.fullmatch(text):
        line = text
    else:
        line = ""
        for token in _WITHOUT_BARE_LINKS.parse(text):
            if token.type == "inline":
                for child in token.children or ():
                    if child.type in ("softbreak", "hardbreak"):
                        break
                    if child.type in ("text", "code_inline"):
                        line += child.content
            elif token.type in ("fence", "code_block"):
                line = token.content.strip().split("\n", 1)[0]
            if line.strip():
                break
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
