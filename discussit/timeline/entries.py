"""What a group's timeline holds: entries of a few kinds, ordered by their shared `seq`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from discussit.timeline.formatting import is_emoji_only


class Kind(StrEnum):
    MESSAGE = "message"
    JOINED = "joined"
    LEFT = "left"
    # Changes to the message at an entry's `target`: not lines of history of their own.
    EDITED = "edited"
    DELETED = "deleted"
    REACTED = "reacted"


EVENTS = frozenset({Kind.JOINED, Kind.LEFT})
CHANGES = frozenset({Kind.EDITED, Kind.DELETED, Kind.REACTED})


@dataclass(frozen=True, slots=True)
class Reactions:
    """One emoji's reactions to a message: who, in the order they reacted."""

    emoji: str
    user_ids: tuple[int, ...]
    usernames: tuple[str, ...]  # the names shown for them

    @property
    def count(self) -> int:
        return len(self.user_ids)


@dataclass(frozen=True, slots=True)
class Quote:
    """The message a reply answers, as the reply shows it: its author and first line."""

    seq: int
    username: str  # the name shown for its author
    first_line: str  # "" when deleted
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a group's timeline: a message, an event saying someone joined or left, or a
    change (edited, deleted, reacted) to the message at `target`, carrying that message as it
    is now. A message entry always shows the message as it is (edits, reactions, deletion)."""

    kind: Kind
    seq: int
    group_id: uuid.UUID
    user_id: int  # the author, the one who joined or left, or who made the change
    username: str  # the name shown for them: their display name, else their username
    created_at: datetime
    body: str = ""
    body_html: str = ""  # a message's body as HTML (timeline/formatting.py); "" for events
    replaces: int | None = None  # the seq of an entry this one took the place of (removed)
    edited_at: datetime | None = None
    deleted: bool = False
    reactions: tuple[Reactions, ...] = ()
    reply: Quote | None = None
    target: Entry | None = None  # a change's message, as it is after the change
    mentions: frozenset[int] = frozenset()  # a new message's: the members it mentions
    avatar_version: int = 0  # which picture a message's author shows (their avatar's address)

    @property
    def emoji_only(self) -> bool:
        """A message of a few emoji and nothing else (shown larger)."""
        return self.kind is Kind.MESSAGE and not self.deleted and is_emoji_only(self.body)
