"""What text people may type: one policy for every field (messages, usernames, group names and
descriptions, page keys) and every number that arrives as text (query parameters, resume cursors).

`clean(raw, RULE)` returns the text to store or raises `InvalidText`, whose str() is shown to the
person who typed it. Nothing is truncated silently. In order:
- not a string (a file, a number, a list in JSON): refused;
- surrounding whitespace stripped, then the length checked, before any per-character work;
- Unicode NFC (the same text is stored the same way, whatever the keyboard made);
- refused: NUL and every other C0/C1 control (newline only in multi-line fields; a tab becomes a
  space), lone surrogates, private-use, unassigned and non-characters (code points in the
  pictograph blocks excepted: emoji newer than this Python's Unicode data);
- bidi embeddings, overrides and isolates (U+202A-E, U+2066-9) removed: they would reorder
  the text around them on every page that shows it;
- blank: a text with no visible glyph (spaces, zero-width and format characters, variation
  selectors and combining marks alone, Hangul fillers, the blank Braille pattern) is empty.

Names compare by a key made in Python the same way on every database: `name_key` (NFKC and
casefold) for group names, and `username_key` (also folding ASCII look-alikes, so `aIice` and
`alice` are one name) for usernames.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from discussit import limits


class InvalidText(ValueError):
    """The text cannot be used; str(error) is shown to the person who typed it."""


@dataclass(frozen=True, slots=True)
class Rule:
    """How one kind of field is checked."""

    what: str  # "Messages": the start of every sentence about this field
    max_length: int
    required: bool = True  # False: an empty text is allowed (a description)
    multiline: bool = False  # newlines kept (else a newline is a control character)
    single_spaced: bool = False  # runs of whitespace inside become one space (names)
    pattern: re.Pattern[str] | None = None  # a further shape the text must have
    shape: str = ""  # that shape, in words
    empty: str = ""  # what to say when it is blank (default: "<what> cannot be empty.")

    def blank(self) -> InvalidText:
        return InvalidText(self.empty or f"{self.what} cannot be empty.")


MESSAGE = Rule(
    "Messages", limits.MESSAGE_MAX, multiline=True, empty="Type a message before sending."
)
USERNAME = Rule(
    "Usernames",
    limits.USERNAME_MAX,
    pattern=re.compile(limits.USERNAME_PATTERN),
    shape=f"have {limits.USERNAME_RULE}",
)
DISPLAY_NAME = Rule("Display names", limits.DISPLAY_NAME_MAX, required=False, single_spaced=True)
BIO = Rule("Bios", limits.BIO_MAX, required=False, multiline=True)
GROUP_NAME = Rule("Group names", limits.GROUP_NAME_MAX, single_spaced=True)
GROUP_DESCRIPTION = Rule("Descriptions", limits.GROUP_DESCRIPTION_MAX, required=False)
SEARCH = Rule("Searches", limits.SEARCH_MAX, required=False, single_spaced=True)
PAGE_KEY = Rule("Page keys", limits.GROUP_NAME_MAX, single_spaced=True)  # ?after= on the home page

_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_REFUSED_CATEGORIES = {
    "Cc": "control characters",
    "Cs": "invalid characters",  # a lone surrogate (JSON can carry "\ud800")
    "Co": "private-use characters",
    "Cn": "unassigned characters",  # includes the non-characters U+FFFE, U+FFFF, ...
}
# Code points Unicode keeps for pictographs and assigns a few more of each year: unassigned in
# this Python's Unicode data may mean an emoji newer than it (Python 3.11 knows Unicode 14.0;
# U+1FAE8 arrived in 15.0), which is accepted; non-characters never are.
_PICTOGRAPH_BLOCKS = ((0x1F000, 0x1FAFF),)


def _newer_pictograph(code: int) -> bool:
    return any(low <= code <= high for low, high in _PICTOGRAPH_BLOCKS)


# Categories with no glyph of their own: separators, format characters (zero-width joiners and
# spaces, the soft hyphen, tags), combining marks and variation selectors (Mn) alone.
_INVISIBLE_CATEGORIES = {"Zs", "Zl", "Zp", "Cf", "Mn", "Me"}
# Letters and symbols that render as nothing: Hangul fillers and the blank Braille pattern.
_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def clean(raw: object, rule: Rule) -> str:
    """The text as it is stored, or InvalidText saying what to change."""
    if raw is None:
        raise rule.blank()
    if not isinstance(raw, str):
        raise InvalidText(f"{rule.what} must be text.")
    text = raw.strip()
    if len(text) > rule.max_length:  # before any per-character work
        raise _too_long(rule, len(text))
    if rule.multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\t", " ")
    if not text.isascii():  # (ASCII is its own NFC and has no bidi controls)
        text = unicodedata.normalize("NFC", text).translate(_BIDI_CONTROLS)
        if len(text) > rule.max_length:  # NFC can lengthen a few characters
            raise _too_long(rule, len(text))
    visible = _checked(text, rule)
    if rule.single_spaced:
        text = " ".join(text.split())
    if not visible:
        if rule.required:
            raise rule.blank()
        return ""
    text = text.strip()
    if rule.pattern is not None and rule.pattern.fullmatch(text) is None:
        raise InvalidText(f"{rule.what} {rule.shape}.")
    return text


# In ASCII the only refused characters are the controls (category Cc), and the only invisible
# ones are the space and the newline: a message of 2,000 ASCII characters is checked by one
# regular expression instead of 2,000 Unicode lookups (0.3 ms a message, on every post).
_ASCII_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_CONTROLS_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _checked(text: str, rule: Rule) -> bool:
    """Refuse what the rule does not allow (InvalidText); True if any character is visible."""
    if text.isascii():
        controls = _ASCII_CONTROLS_BUT_NEWLINE if rule.multiline else _ASCII_CONTROLS
        if controls.search(text) is not None:
            raise InvalidText(f"{rule.what} cannot contain {_REFUSED_CATEGORIES['Cc']}.")
        return text.strip(" \n") != ""
    return _checked_each(text, rule)


def _checked_each(text: str, rule: Rule) -> bool:
    """`_checked`, character by character (any text; the ASCII shortcut must agree with it)."""
    visible = False
    for ch in text:
        category = unicodedata.category(ch)
        refused = _REFUSED_CATEGORIES.get(category)
        if refused is not None and category == "Cn" and _newer_pictograph(ord(ch)):
            refused = None  # an emoji newer than this Python's Unicode data, not garbage
        if refused is not None and not (ch == "\n" and rule.multiline):
            raise InvalidText(f"{rule.what} cannot contain {refused}.")
        if not visible and ch != "\n":
            visible = category not in _INVISIBLE_CATEGORIES and ch not in _INVISIBLE
    return visible


def _too_long(rule: Rule, length: int) -> InvalidText:
    return InvalidText(
        f"{rule.what} can be at most {rule.max_length} characters; this has {length}."
    )


def echo(raw: str, limit: int = limits.MESSAGE_MAX * 2) -> str:
    """Refused text given back to the person who typed it, to fix: cut to `limit`, with what
    cannot be sent to a page at all (lone surrogates, NUL) replaced by U+FFFD."""
    return "".join(
        "\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in raw[:limit]
    )


def clean_number(raw: object, what: str, max_digits: int = 18) -> int:
    """A whole number typed as text: ASCII digits only (not "²", "①", "١" or "+1"), at most
    `max_digits` of them. Raises InvalidText."""
    if isinstance(raw, str) and 0 < len(raw) <= max_digits and raw.isascii() and raw.isdigit():
        return int(raw)
    raise InvalidText(f"{what} must be a whole number.")


def name_key(name: str) -> str:
    """How group names compare: the same key for names that differ only in case, width or
    invisible format characters ("General" and "General\u200b" are one name)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


# ASCII look-alikes folded together after casefolding (Unicode TR39 confusables among the
# characters a username may have): "aIice", "a1ice" and "alice" have one key; so do "rn"/"m".
_LOOKALIKES = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("|", "l"))


def username_key(username: str) -> str:
    """How usernames compare: case-insensitive, and look-alikes are one name."""
    key = name_key(username)
    for seen, same in _LOOKALIKES:
        key = key.replace(seen, same)
    return key


def clean_seq(raw: object) -> int | None:
    """A message's seq as a page sends it (a number, or digits as text), or None."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 < raw <= limits.SEQ_MAX else None
    try:
        seq = clean_number(raw, "A message number", max_digits=10)
    except InvalidText:
        return None
    return seq if 0 < seq <= limits.SEQ_MAX else None
