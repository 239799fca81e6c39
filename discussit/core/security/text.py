"""What text people may type: one policy, used by every entry point that takes message text."""

from __future__ import annotations

import unicodedata

from discussit import limits

_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


class InvalidText(ValueError):
    """The text cannot be used; str(error) is shown to the person who typed it."""


def clean_message_text(raw: object, max_length: int = limits.MESSAGE_MAX) -> str:
    """Validate message text; never truncate it silently. The length is checked first, so an
    over-long text costs no per-character scan."""
    if not isinstance(raw, str):
        raise InvalidText("Type a message before sending.")
    text = raw.strip()
    if len(text) > max_length:
        raise InvalidText(
            f"Messages can be at most {max_length} characters; this one has {len(text)}."
        )
    if not "".join(ch for ch in text if ch not in _INVISIBLE).strip():
        raise InvalidText("Type a message before sending.")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidText("Messages cannot contain control characters.")
    return text
