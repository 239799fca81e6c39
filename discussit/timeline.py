"""A group's timeline: messages and join/leave events in one order, by their shared `seq`."""

from __future__ import annotations

import unicodedata
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit.db import Database, Outcome
from discussit.models import Event, Group, Membership, Message, User, utcnow

MESSAGE = "message"
JOINED = "joined"
LEFT = "left"


class NotAMember(Outcome):
    """The user is not (or no longer) a member of the group."""


class NoSuchGroup(Outcome):
    """The group does not exist (or its id is malformed)."""


class InvalidMessage(ValueError):
    """The text cannot be posted; str(error) is shown to the sender."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a group's history: a message, or an event saying someone joined or left."""

    kind: str
    seq: int
    group_id: uuid.UUID
    user_id: int
    username: str
    created_at: datetime
    body: str = ""


_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def clean_message_text(raw: object, max_length: int) -> str:
    """Validate message text; never truncate it silently."""
    if not isinstance(raw, str):
        raise InvalidMessage("Type a message before sending.")
    text = raw.strip()
    if not "".join(ch for ch in text if ch not in _INVISIBLE).strip():
        raise InvalidMessage("Type a message before sending.")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidMessage("Messages cannot contain control characters.")
    if len(text) > max_length:
        raise InvalidMessage(
            f"Messages can be at most {max_length} characters; this one has {len(text)}."
        )
    return text


GROUPS = Group.__table__  # type: ignore[attr-defined]
MEMBERSHIPS = Membership.__table__  # type: ignore[attr-defined]
MESSAGES = Message.__table__  # type: ignore[attr-defined]
EVENTS = Event.__table__  # type: ignore[attr-defined]


class AlreadySent(Outcome):
    """This author already stored a message with this client id (a retried send)."""


# The write path's statements are built once (and compiled once per connection by SQLAlchemy's
# cache), not per message.
_NEXT_SEQ = (
    update(GROUPS)
    .where(GROUPS.c.id == bindparam("group_id", type_=GROUPS.c.id.type))
    .values(last_seq=GROUPS.c.last_seq + 1)
    .returning(GROUPS.c.last_seq)
)


def _store_message_statement(insert):  # type: ignore[no-untyped-def]
    """INSERT one message row only if its author is a member; a reused client id does nothing."""
    params = {name: bindparam(name, type_=MESSAGES.c[name].type)
              for name in ("group_id", "seq", "author_id", "body", "client_message_id",
                           "created_at")}
    member = (select(MEMBERSHIPS.c.user_id)
              .where(MEMBERSHIPS.c.group_id == params["group_id"],
                     MEMBERSHIPS.c.user_id == params["author_id"])
              .exists())
    row = select(*(param.label(name) for name, param in params.items())).where(member)
    return (insert(MESSAGES)
            .from_select(list(params), row)
            .on_conflict_do_nothing(index_elements=["author_id", "client_message_id"])
            .returning(MESSAGES.c.id))


_STORE_MESSAGE = {"postgresql": _store_message_statement(postgresql.insert),
                  "sqlite": _store_message_statement(sqlite.insert)}


class _Rehearsed(Outcome):
    pass


async def prepare(db: Database) -> None:
    """Compile the posting statements at start-up rather than during the first post (about
    2 ms): run both for a group that does not exist, which changes nothing, then roll back."""
    nowhere = uuid.UUID(int=0)

    def rehearse(conn: Connection) -> None:
        conn.execute(_NEXT_SEQ, {"group_id": nowhere})
        conn.execute(_STORE_MESSAGE[conn.dialect.name], {
            "group_id": nowhere, "seq": 0, "author_id": 0, "body": "",
            "client_message_id": None, "created_at": utcnow()})
        raise _Rehearsed

    with suppress(_Rehearsed):
        await db.write(rehearse)


def next_seq(conn: Connection, group_id: uuid.UUID) -> int:
    """Allocate the group's next seq. The row update holds the group's lock until commit."""
    seq = conn.execute(_NEXT_SEQ, {"group_id": group_id}).scalar_one_or_none()
    if seq is None:
        raise NoSuchGroup
    return int(seq)


def _membership(group_id: uuid.UUID, user_id: int):  # type: ignore[no-untyped-def]
    return select(MEMBERSHIPS.c.user_id).where(
        MEMBERSHIPS.c.group_id == group_id, MEMBERSHIPS.c.user_id == user_id)


def is_member_now(conn: Connection, group_id: uuid.UUID, user_id: int) -> bool:
    """Inside a write transaction (Database.write)."""
    return conn.execute(_membership(group_id, user_id)).first() is not None


async def is_member(session: AsyncSession, group_id: uuid.UUID, user_id: int) -> bool:
    return (await session.exec(_membership(group_id, user_id))).first() is not None


async def post_message(
    db: Database,
    group_id: uuid.UUID,
    author: User,
    body: str,
    client_message_id: str | None = None,
) -> Entry | None:
    """Store a message by `author` (always the logged-in user); raises NotAMember.

    Returns None when `client_message_id` was already used by this author: a retried send is
    stored (and so broadcast) once. One transaction of two statements: the seq (which locks the
    group until commit, so a leave cannot interleave), then one insert that stores the row only
    if the author is a member and the id is new.
    """
    assert author.id is not None
    author_id, created_at = author.id, utcnow()

    def store(conn: Connection) -> int:
        try:
            seq = next_seq(conn, group_id)
        except NoSuchGroup:
            raise NotAMember from None
        stored = conn.execute(_STORE_MESSAGE[conn.dialect.name], {
            "group_id": group_id, "seq": seq, "author_id": author_id, "body": body,
            "client_message_id": client_message_id, "created_at": created_at}).first()
        if stored is None:  # rolled back: the seq is not used
            if client_message_id is not None and _already_sent(conn, author_id,
                                                               client_message_id):
                raise AlreadySent
            raise NotAMember
        return seq

    try:
        seq = await db.write(store)
    except AlreadySent:
        return None
    return Entry(MESSAGE, seq, group_id, author_id, author.username, created_at, body)


def _already_sent(conn: Connection, author_id: int, client_message_id: str) -> bool:
    return conn.execute(
        select(MESSAGES.c.id).where(
            MESSAGES.c.author_id == author_id, MESSAGES.c.client_message_id == client_message_id)
    ).first() is not None


def clean_client_message_id(raw: object) -> str | None:
    """A client-made id for a message (letters, digits, dashes; at most 64), or None."""
    if isinstance(raw, str) and 8 <= len(raw) <= 64 and raw.replace("-", "").isalnum():
        return raw
    return None


def record_event(conn: Connection, group_id: uuid.UUID, seq: int, user: User, kind: str) -> Entry:
    """Add a join/leave event at `seq` (allocated in the same transaction)."""
    assert user.id is not None
    created_at = utcnow()
    conn.execute(insert(EVENTS).values(group_id=group_id, seq=seq, user_id=user.id, kind=kind,
                                       created_at=created_at))
    return Entry(kind, seq, group_id, user.id, user.username, created_at)


async def _messages(session: AsyncSession, where: list, order: object, limit: int) -> list[Entry]:
    rows = await session.exec(
        select(Message, User.username)
        .join(User, col(User.id) == Message.author_id)
        .where(*where)
        .order_by(order)
        .limit(limit)
    )
    return [
        Entry(MESSAGE, m.seq, m.group_id, m.author_id, name, m.created_at, m.body)
        for m, name in rows
    ]


async def _events(session: AsyncSession, where: list, order: object, limit: int) -> list[Entry]:
    rows = await session.exec(
        select(Event, User.username)
        .join(User, col(User.id) == Event.user_id)
        .where(*where)
        .order_by(order)
        .limit(limit)
    )
    return [Entry(e.kind, e.seq, e.group_id, e.user_id, name, e.created_at) for e, name in rows]


async def last_seq(session: AsyncSession, group_id: uuid.UUID) -> int | None:
    """The group's newest allocated seq (None if no such group).

    Read this *before* reading entries, and bound them by it: every seq up to a committed
    last_seq belongs to a transaction that has already committed (or rolled back), so the
    entries read are complete up to it, even without a snapshot across the two queries.
    """
    found = await session.exec(select(Group.last_seq).where(col(Group.id) == group_id))
    return found.first()


async def page_before(
    session: AsyncSession, group_id: uuid.UUID, before: int, limit: int
) -> tuple[list[Entry], bool]:
    """The `limit` entries with seq < `before`, oldest first, and whether older ones exist.
    For the latest page pass before = last_seq + 1. Two indexed queries, whatever the length."""
    m_where = [Message.group_id == group_id, col(Message.seq) < before]
    e_where = [Event.group_id == group_id, col(Event.seq) < before]
    entries = await _messages(session, m_where, col(Message.seq).desc(), limit + 1)
    entries += await _events(session, e_where, col(Event.seq).desc(), limit + 1)
    entries.sort(key=lambda e: e.seq, reverse=True)
    return list(reversed(entries[:limit])), len(entries) > limit


async def entries_after(
    session: AsyncSession, group_id: uuid.UUID, after: int, upto: int, limit: int
) -> list[Entry]:
    """Up to `limit` entries with after < seq <= upto, oldest first (catch-up after a reconnect)."""
    entries = await _messages(
        session,
        [Message.group_id == group_id, col(Message.seq) > after, col(Message.seq) <= upto],
        col(Message.seq),
        limit,
    )
    entries += await _events(
        session,
        [Event.group_id == group_id, col(Event.seq) > after, col(Event.seq) <= upto],
        col(Event.seq),
        limit,
    )
    entries.sort(key=lambda e: e.seq)
    return entries[:limit]
