"""Limits people meet when they type or page: declared once, used by validation, the database
columns, the templates (as `limits`) and the tests. Never retype one of these numbers."""

from __future__ import annotations

USERNAME_MIN = 3
USERNAME_MAX = 30
USERNAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{2,29}"  # USERNAME_MIN..USERNAME_MAX characters
USERNAME_RULE = (
    f"{USERNAME_MIN} to {USERNAME_MAX} characters: letters, digits, and . _ - "
    "(starting with a letter or digit)"
)

PASSWORD_MIN = 8
PASSWORD_MAX = 256

# A person's profile (accounts/profiles.py): the name shown for them, a few words about them.
DISPLAY_NAME_MAX = 50
BIO_MAX = 280
AVATAR_UPLOAD_MAX = 2 * 1024 * 1024  # bytes of a picture sent as an avatar
AVATAR_SIZE = 256  # pixels a side of the square WebP it is made into

GROUP_NAME_MAX = 60
GROUP_NAME_KEY_MAX = GROUP_NAME_MAX * 3  # the name's comparison key (NFKC can lengthen it)
GROUP_DESCRIPTION_MAX = 280

MESSAGE_MAX = 2000  # characters in one message
CLIENT_MESSAGE_ID_MIN = 8  # a page's id for one send (letters, digits, dashes)
CLIENT_MESSAGE_ID_MAX = 64

HISTORY_PAGE = 50  # entries per page of a group's history
DIRECTORY_PAGE = 30  # groups per page of the home page
SEQ_MAX = 2**31 - 1  # the largest seq a page may name (the columns are 32-bit integers)
CATCH_UP_MAX = 500  # entries replayed to a reconnecting page; past it, it is told to reload

# Reactions: one of these, toggled per member (a member's reaction with one emoji counts once).
REACTIONS = ("👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "🙏")
REACTION_MAX = 16  # characters of an emoji in the database (one of REACTIONS, some are 2)
QUOTE_MAX = 100  # characters of a replied-to message's first line shown in the reply
GROUP_WITHIN_SECONDS = 300  # a person's messages this close together show under one name

# Search (discussit/search/): what a search box takes, and a page of results.
SEARCH_MAX = 200  # characters of a search; the rest is left out, with a note
SEARCH_TERMS_MAX = 8  # words or "phrases" searched for; more are left out, with a note
SEARCH_PREFIX_MIN = 3  # the last word, this long or longer, also finds words it starts
SEARCH_PAGE = 20  # results per page
