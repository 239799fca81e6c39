"""What a search box's text asks for: words and "exact phrases", every one of them required,
narrowed by `from:name` and `in:group` (or `in:"a group"`).

The text is split by one regular expression into filters, quoted phrases and words; each word
or phrase is then reduced to its pieces of letters and digits, which is what both databases'
full-text engines index (SQLite FTS5's unicode61, PostgreSQL's parser). Whatever else the text
holds (FTS5 or tsquery operators, brackets, stray quotes, symbols) is never passed on: each
engine gets pieces it quotes itself. Nothing here raises on any text: what is left out is said
in `notes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from discussit import limits

_TOKENS = re.compile(
    r"""(?P<key>in|from):(?:"(?P<quoted>[^"]*)"?|(?P<value>[^\s"]+))"""
    r"""|"(?P<phrase>[^"]*)"?"""
    r"""|(?P<word>[^\s"]+)""",
    re.IGNORECASE,
)
_PIECES = re.compile(r"[^\W_]+")  # letters and digits: what the engines index as one word


@dataclass(frozen=True, slots=True)
class Term:
    """Words that must stand together, in this order (one word, or a phrase), as typed (`text`)
    and as pieces of letters and digits (`words`); `prefix`: a single word that may also be the
    start of a longer one (the word being typed)."""

    text: str
    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    text: str  # the search as it was understood (after any cut)
    terms: tuple[Term, ...] = ()
    authors: tuple[str, ...] = ()  # from:... (usernames, any of them)
    groups: tuple[str, ...] = ()  # in:... (group names, any of them)
    notes: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """Nothing to search for: no words and no filter."""
        return not (self.terms or self.authors or self.groups)


def parse(raw: str) -> Query:
    """The search in `raw`, whatever it holds."""
    notes: list[str] = []
    text = " ".join(raw.split())  # (newlines, tabs and runs of spaces: one space)
    if len(text) > limits.SEARCH_MAX:
        text = text[: limits.SEARCH_MAX]
        notes.append(f"Only the first {limits.SEARCH_MAX} characters were searched.")
    terms: list[Term] = []
    authors: list[str] = []
    groups: list[str] = []
    ignored = False
    last_is_word = False
    for token in _TOKENS.finditer(text):
        if token["key"] is not None:
            value = (token["quoted"] if token["quoted"] is not None else token["value"]).strip()
            if token["key"].lower() == "from":
                value = value.removeprefix("@")
                (authors if value else notes).append(value or "from: needs a name after it.")
            else:
                (groups if value else notes).append(value or "in: needs a group after it.")
            last_is_word = False
            continue
        quoted = token["phrase"] is not None
        typed = token["phrase"] if quoted else token["word"]
        words = tuple(_PIECES.findall(typed))
        if not words:
            ignored = True
            continue
        terms.append(Term(typed, words[: limits.SEARCH_TERMS_MAX]))
        last_is_word = not quoted
    if ignored:
        notes.append("Symbols on their own are not searched for: only words are.")
    if len(terms) > limits.SEARCH_TERMS_MAX:
        terms = terms[: limits.SEARCH_TERMS_MAX]
        last_is_word = False
        notes.append(f"Only the first {limits.SEARCH_TERMS_MAX} words were searched for.")
    last = terms[-1] if terms else None
    typing = last is not None and last_is_word and len(last.words) == 1
    if last is not None and typing and len(last.words[0]) >= limits.SEARCH_PREFIX_MIN:
        terms[-1] = Term(last.text, last.words, prefix=True)
    return Query(
        text=text,
        terms=tuple(terms),
        authors=tuple(dict.fromkeys(authors)),
        groups=tuple(dict.fromkeys(groups)),
        notes=tuple(notes),
    )
