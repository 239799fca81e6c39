"""What the broker carries: one small frozen dataclass per kind of live item, declared once.

Producers build them, consumers dispatch on their class (a table, not string comparisons). The
in-process broker hands the objects over as they are; the Redis broker sends them as JSON
(`encode`/`decode`, the class name under "item").
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class EntryAppended:
    """A group's timeline grew by one entry (a message, a join, a leave): its ready HTML."""

    seq: int
    kind: str  # timeline.Kind value
    user_id: int
    html: str
    mentions: tuple[int, ...] = ()  # a new message's: the members it mentions (their counts)


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """Members of a group came online or went offline: their small status elements."""

    html: str


@dataclass(frozen=True, slots=True)
class TypingChanged:
    """Members of a group typed (chat/typing.py): their names, ready HTML. Never queued."""

    html: str


@dataclass(frozen=True, slots=True)
class Resync:
    """Items may have been lost (a full queue, a broker reconnect): re-read the database."""


@dataclass(frozen=True, slots=True)
class LoggedOut:
    """One login ended: its live connections close."""

    session_key: str


@dataclass(frozen=True, slots=True)
class MembershipChanged:
    """A user joined or left a group: that user's home pages update the group's row."""

    group_id: str
    is_member: bool


@dataclass(frozen=True, slots=True)
class CountChanged:
    """A group's member count changed: every home page updates it (ready HTML)."""

    html: str


@dataclass(frozen=True, slots=True)
class GroupCreated:
    """A new group: every home page re-reads its page of the directory."""

    group_id: str


@dataclass(frozen=True, slots=True)
class GroupChanged:
    """Staff changed a group (its name, description, privacy; archived or deleted it): its
    open pages get its title (ready HTML) and stop if it was archived or deleted; every home
    page re-reads its page of the directory."""

    group_id: str
    html: str = ""
    archived: bool = False
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class ProfileChanged:
    """A person changed the name or picture pages show for them: their open pages' sockets
    use the new ones for what they send from then on (their own channel)."""

    user_id: int
    name: str
    avatar_version: int


@dataclass(frozen=True, slots=True)
class ReadMoved:
    """A member's read cursor of a group moved (groups/reading.py): that member's pages and
    streams count that group again."""

    group_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class LevelChanged:
    """A member chose another notification level for a group (groups/notifications.py): their
    pages and streams hold it as ready HTML (groups/_level.html), for their scripts to read."""

    group_id: str
    level: str
    html: str


Item = (
    EntryAppended
    | PresenceChanged
    | Resync
    | LoggedOut
    | MembershipChanged
    | CountChanged
    | GroupCreated
    | GroupChanged
    | ProfileChanged
    | ReadMoved
    | TypingChanged
    | LevelChanged
)
KINDS: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        EntryAppended,
        PresenceChanged,
        Resync,
        LoggedOut,
        MembershipChanged,
        CountChanged,
        GroupCreated,
        GroupChanged,
        ProfileChanged,
        ReadMoved,
        TypingChanged,
        LevelChanged,
    )
}
RESYNC = Resync()


def encode(item: Item) -> str:
    return json.dumps({**asdict(item), "item": type(item).__name__}, separators=(",", ":"))


def decode(raw: str | bytes) -> Item | None:
    """The item, or None for anything that is not one (it is logged and dropped)."""
    try:
        data = json.loads(raw)
        cls = KINDS[data.pop("item")]
        # Fields this version does not know are left out, and fields it added since may be
        # missing (they have defaults): during a rolling deploy old and new processes share
        # Redis, and each still understands the other's items.
        known = {f.name: f for f in fields(cls)}
        data = {name: value for name, value in data.items() if name in known}
        required = {name for name, f in known.items() if f.default is MISSING}
        if not required <= set(data):
            return None
        if cls is EntryAppended and "mentions" in data:  # (a list in JSON)
            data["mentions"] = tuple(int(user_id) for user_id in data["mentions"])
        item: Item = cls(**data)
        return item
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
