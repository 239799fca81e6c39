"""Appending to a group's timeline: a message at the next `seq` (join/leave events: events.py).

A group's entries share one cursor, `seq`, allocated from `groups.last_seq` inside the inserting
transaction. That row update serialises writers per group, so commit order equals seq order.
Writes run through `Database.write` (one transaction, one round trip on SQLite).
"""

from __future__ import annotations

import hashlib
import uuid
from contextlib import suppress
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from discussit.core.db import Database, Outcome
from discussit.core.prepared import Prepared
from discussit.models import Group, Membership, Mention, Message, login_alive, utcnow
from discussit.timeline import details
from discussit.timeline.entries import Entry, Kind, Quote
from discussit.timeline.formatting import RENDER_VERSION, to_html

GROUPS = Group.__table__  # type: ignore[attr-defined]
MEMBERSHIPS = Membership.__table__  # type: ignore[attr-defined]
MESSAGES = Message.__table__  # type: ignore[attr-defined]
MENTIONS = Mention.__table__  # type: ignore[attr-defined]


class NoSuchGroup(Outcome):
    """The group does not exist (or its id is malformed)."""


class NotAMember(Outcome):
    """The author is not (or no longer) a member of the group."""


class SessionEnded(Outcome):
    """The login the message was sent from has ended (logged out, or expired)."""


class NoSuchMessage(Outcome):
    """No message of this group has that seq (or it was deleted): nothing to answer or change."""


class GroupArchived(Outcome):
    """The group is archived: read-only (no posting, no change to a message, no joining)."""


class AlreadyStored(Outcome):
    """This author already stored this very message under this client id (a retried send)."""

    def __init__(self, seq: int) -> None:
        super().__init__(seq)
        self.seq = seq


# The write path's statements are built and compiled once (core/prepared.py), not per message.
_NEXT_SEQ = Prepared(
    update(GROUPS)
    .where(GROUPS.c.id == bindparam("group_id", type_=GROUPS.c.id.type))
    .values(last_seq=GROUPS.c.last_seq + 1)
    .returning(GROUPS.c.last_seq, GROUPS.c.archived_at)
)
_COLUMNS = (
    "group_id",
    "seq",
    "author_id",
    "body",
    "body_html",
    "render_version",
    "client_message_id",
    "created_at",
    "reply_to_seq",
)


def _store_message_statement(dialect_insert: Any, check_session: bool) -> Prepared:
    """INSERT one message row only if its author is a member (and, for a login, that login is
    still alive); a reused client id does nothing."""
    params = {name: bindparam(name, type_=MESSAGES.c[name].type) for name in _COLUMNS}
    conditions: list[ColumnElement[bool]] = [
        select(MEMBERSHIPS.c.user_id)
        .where(
            MEMBERSHIPS.c.group_id == params["group_id"],
            MEMBERSHIPS.c.user_id == params["author_id"],
        )
        .exists()
    ]
    if check_session:
        conditions.append(login_alive())
    row = select(*(param.label(name) for name, param in params.items())).where(*conditions)
    return Prepared(
        dialect_insert(MESSAGES)
        .from_select(list(params), row)
        .on_conflict_do_nothing(index_elements=["author_id", "client_message_id"])
        .returning(MESSAGES.c.id)
    )


_STORE_MESSAGE = {
    (name, check): _store_message_statement(dialect.insert, check)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
    for check in (False, True)
}


class _Rehearsed(Outcome):
    pass


async def prepare(db: Database) -> None:
    """Compile the posting statements at start-up rather than during the first post (about
    2 ms): run them for a group that does not exist, which changes nothing, then roll back."""
    nowhere = uuid.UUID(int=0)

    def rehearse(conn: Connection) -> None:
        _NEXT_SEQ.first(conn, {"group_id": nowhere})
        for check in (False, True):
            _STORE_MESSAGE[conn.dialect.name, check].first(
                conn,
                {
                    "group_id": nowhere,
                    "seq": 0,
                    "author_id": 0,
                    "body": "",
                    "body_html": "",
                    "render_version": 0,
                    "client_message_id": None,
                    "created_at": utcnow(),
                    "reply_to_seq": None,
                    "session_key": "",
                    "session_oldest": utcnow(),
                },
            )
        raise _Rehearsed

    with suppress(_Rehearsed):
        await db.write(rehearse)


def next_seq(conn: Connection, group_id: uuid.UUID, writing: bool = False) -> int:
    """Allocate the group's next seq. The row update holds the group's lock until commit.
    `writing` (a message, a change to one, a join): GroupArchived if the group is archived,
    decided under that lock, so an archive and a post cannot interleave."""
    row = _NEXT_SEQ.first(conn, {"group_id": group_id})
    if row is None:
        raise NoSuchGroup
    if writing and row[1] is not None:
        raise GroupArchived
    return int(row[0])


async def store_message(
    db: Database,
    group_id: uuid.UUID,
    author_id: int,
    username: str,
    body: str,
    client_message_id: str | None = None,
    session: tuple[str, int] | None = None,
    body_html: str | None = None,
    reply_to: int | None = None,
    mentions: frozenset[int] = frozenset(),
    avatar_version: int = 0,
) -> Entry:
    """Store a message by `author_id` (always the logged-in user) and return its entry.

    `session` is (the login's key, the longest a login lasts, in seconds): the message is
    stored only while that login is alive. Raises NotAMember, SessionEnded, or AlreadyStored
    when this author already stored this same text under this client id (a retried send is
    stored, and so broadcast, once). The same id with other text is another message (stored
    under an id derived from both). One transaction: the seq (which locks the group until
    commit, so a leave cannot interleave), then one insert that checks membership and login
    itself. `body_html` is `body` rendered (formatting.to_html, done here if not given), and
    `mentions` the members it mentions (formatting.render).
    `reply_to`: the seq of the message of this group it answers; NoSuchMessage if there is no
    such message (or it was deleted)."""
    created_at = utcnow()
    if body_html is None:
        body_html = to_html(body)
    values: dict[str, object] = {
        "group_id": group_id,
        "author_id": author_id,
        "body": body,
        "body_html": body_html,
        "render_version": RENDER_VERSION,
        "client_message_id": client_message_id,
        "created_at": created_at,
        "reply_to_seq": reply_to,
    }
    quoted: list[Quote] = []
    if session is not None:
        values["session_key"] = session[0]
        values["session_oldest"] = created_at - timedelta(seconds=session[1])

    def store(conn: Connection) -> int:
        try:
            seq = next_seq(conn, group_id, writing=True)
        except NoSuchGroup:
            raise NotAMember from None
        if reply_to is not None:
            quote = details.quotes(conn, group_id, [reply_to]).get(reply_to)
            if quote is None or quote.deleted:
                raise NoSuchMessage
            quoted.append(quote)
        statement = _STORE_MESSAGE[conn.dialect.name, session is not None]
        if statement.first(conn, {**values, "seq": seq}) is not None:
            if mentions:
                write_mentions(conn, group_id, seq, mentions)
            return seq
        if client_message_id is not None:
            earlier = _stored_under(conn, author_id, client_message_id)
            if earlier is not None and earlier[1] == body:
                raise AlreadyStored(earlier[0])
            if earlier is not None:  # the id was reused for other text: not a retry of it
                derived = _derived_id(client_message_id, body)
                if (
                    statement.first(conn, {**values, "seq": seq, "client_message_id": derived})
                    is not None
                ):
                    if mentions:
                        write_mentions(conn, group_id, seq, mentions)
                    return seq
                again = _stored_under(conn, author_id, derived)
                if again is not None and again[1] == body:  # a retry of that other text
                    raise AlreadyStored(again[0])
        if session is not None and not _login_alive(conn, values):
            raise SessionEnded
        raise NotAMember  # rolled back: the seq is not used

    seq = await db.write(store)
    return Entry(
        Kind.MESSAGE,
        seq,
        group_id,
        author_id,
        username,
        created_at,
        body,
        body_html,
        reply=quoted[-1] if quoted else None,
        mentions=mentions,
        avatar_version=avatar_version,
    )


def write_mentions(
    conn: Connection, group_id: uuid.UUID, seq: int, mentions: frozenset[int], again: bool = False
) -> None:
    """The members the message at `seq` mentions (`again`: in place of those it mentioned)."""
    if again:
        conn.execute(delete(MENTIONS).where(MENTIONS.c.group_id == group_id, MENTIONS.c.seq == seq))
    if mentions:
        conn.execute(
            insert(MENTIONS),
            [
                {"group_id": group_id, "seq": seq, "user_id": user_id}
                for user_id in sorted(mentions)
            ],
        )


def _derived_id(client_message_id: str, body: str) -> str:
    """The id a message is stored under when its page reused an id for other text (a page
    whose id did not change): the same pair always gives the same id, so its retries are
    still recognised."""
    return "r-" + hashlib.sha256(f"{client_message_id}\n{body}".encode()).hexdigest()[:40]


def _stored_under(
    conn: Connection, author_id: int, client_message_id: str
) -> tuple[int, str] | None:
    found = conn.execute(
        select(MESSAGES.c.seq, MESSAGES.c.body).where(
            MESSAGES.c.author_id == author_id, MESSAGES.c.client_message_id == client_message_id
        )
    ).first()
    return None if found is None else (int(found[0]), str(found[1]))


_LOGIN_ALIVE = select(login_alive())


def _login_alive(conn: Connection, values: dict[str, object]) -> bool:
    params = {"session_key": values["session_key"], "session_oldest": values["session_oldest"]}
    return bool(conn.execute(_LOGIN_ALIVE, params).scalar())
