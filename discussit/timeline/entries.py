"""What a group's timeline holds: entries of a few kinds, ordered by their shared `seq`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    MESSAGE = "message"
    JOINED = "joined"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a group's history: a message, or an event saying someone joined or left."""

    kind: Kind
    seq: int
    group_id: uuid.UUID
    user_id: int
    username: str
    created_at: datetime
    body: str = ""
    body_html: str = ""  # a message's body as HTML (timeline/formatting.py); "" for events
    replaces: int | None = None  # the seq of an entry this one took the place of (removed)
