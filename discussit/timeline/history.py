"""Reading a group's timeline: a page of history, or what came after a cursor (catch-up).

Messages, events and changes live in three tables; every read is one query over them (UNION
ALL) ordered by `seq` in SQL, each side first narrowed by its (group_id, seq) index, so a page
costs the same whatever the group's length. Pages show lines (messages and events), each
message as it is now; a catch-up also replays changes (edits, deletions, reaction changes),
each carrying its message as it is now. Then at most three more queries complete a page,
whatever its length: the messages that changes name, their reactions, and the messages that
replies quote.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    bindparam,
    cast,
    literal,
    null,
    select,
    union_all,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit.models import Change, Event, Group, Message, User, shown_name
from discussit.timeline.details import GROUP_ID, SEQS, quotes, reactions
from discussit.timeline.entries import CHANGES, Entry, Kind, Quote, Reactions
from discussit.timeline.formatting import RENDER_VERSION, to_html

_MESSAGES = Message.__table__  # type: ignore[attr-defined]
_EVENTS = Event.__table__  # type: ignore[attr-defined]
_CHANGES = Change.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
# Who each entry is by, as pages show them: the name shown, and their picture's version.
_AUTHOR = (shown_name().label("username"), _USERS.c.avatar_version)
_GROUPS = Group.__table__  # type: ignore[attr-defined]

_NO_TIME = cast(null(), _MESSAGES.c.edited_at.type)
_NO_SEQ = cast(null(), Integer)


def _columns(table: Any) -> dict[str, Any]:
    """The columns every side of the union has, in one order."""
    c = table.c
    if table is _MESSAGES:
        return {
            "kind": literal(Kind.MESSAGE.value),
            "user_id": c.author_id,
            "body": c.body,
            "body_html": c.body_html,
            "version": c.render_version,
            "reply_to_seq": c.reply_to_seq,
            "edited_at": c.edited_at,
            "deleted_at": c.deleted_at,
            "target_seq": _NO_SEQ,
        }
    return {
        "kind": c.kind,
        "user_id": c.user_id,
        "body": literal(""),
        "body_html": literal(""),
        "version": literal(RENDER_VERSION),
        "reply_to_seq": _NO_SEQ,
        "edited_at": _NO_TIME,
        "deleted_at": _NO_TIME,
        "target_seq": c.target_seq if table is _CHANGES else _NO_SEQ,
    }


_NAMES = ("seq", "created_at", *_columns(_MESSAGES))


# Statements are built once per shape, with bound parameters (:group_id, :low, :high, :limit,
# :seqs): building one took 1.7 ms, on every page.
_LIMIT = bindparam("limit", type_=Integer)


def _side(table: Any, where: list[Any], newest_first: bool, limited: bool = True) -> Any:
    seq = table.c.seq
    columns = {"seq": seq, "created_at": table.c.created_at, **_columns(table)}
    side = (
        select(*(column.label(name) for name, column in columns.items()))
        .where(table.c.group_id == GROUP_ID, *where)
        .order_by(seq.desc() if newest_first else seq)
    )
    return (side.limit(_LIMIT) if limited else side).subquery()


@cache
def _entries(low: bool, high: bool, newest_first: bool, changes: bool = False) -> Select[Any]:
    """Lines (and, for a catch-up, changes) with :low < seq < :high (each bound if asked
    for), :limit of them from the newest or the oldest end, with their users' names."""
    sides = []
    for table in (_MESSAGES, _EVENTS, *((_CHANGES,) if changes else ())):
        where: list[Any] = []
        if low:
            where.append(table.c.seq > bindparam("low", type_=Integer))
        if high:
            where.append(table.c.seq < bindparam("high", type_=Integer))
        sides.append(select(_side(table, where, newest_first)))
    both = union_all(*sides).subquery()
    return (
        select(*(both.c[name] for name in _NAMES), *_AUTHOR)
        .join(_USERS, _USERS.c.id == both.c.user_id)
        .order_by(both.c.seq.desc() if newest_first else both.c.seq)
        .limit(_LIMIT)
    )


def _html(row: Any) -> str:
    if row.deleted_at is not None:
        return ""
    if row.version == RENDER_VERSION and row.body_html is not None:
        return str(row.body_html)
    return to_html(row.body)  # stored before formatting, or by an older renderer


def _entry(group_id: uuid.UUID, row: Any, details: _Details) -> Entry:
    kind = Kind(row.kind)
    if kind in CHANGES:
        return Entry(
            kind,
            row.seq,
            group_id,
            row.user_id,
            row.username,
            row.created_at,
            target=details.messages.get(row.target_seq),
        )
    if kind is not Kind.MESSAGE:
        return Entry(kind, row.seq, group_id, row.user_id, row.username, row.created_at)
    deleted = row.deleted_at is not None
    return Entry(
        kind,
        row.seq,
        group_id,
        row.user_id,
        row.username,
        row.created_at,
        "" if deleted else row.body,
        _html(row),
        edited_at=row.edited_at,
        deleted=deleted,
        reactions=() if deleted else details.reactions.get(row.seq, ()),
        reply=None if deleted or row.reply_to_seq is None else details.quote(row.reply_to_seq),
        avatar_version=row.avatar_version,
    )


class _Details:
    """What completes a page's messages: the messages its changes name, every message's
    reactions, and the messages its replies quote (read together, a query each)."""

    __slots__ = ("messages", "reactions", "quotes")

    def __init__(self) -> None:
        self.messages: dict[int, Entry] = {}
        self.reactions: dict[int, tuple[Reactions, ...]] = {}
        self.quotes: dict[int, Quote] = {}

    def quote(self, seq: int) -> Quote:
        # A reply to a message that is gone entirely (its author's account deleted).
        return self.quotes.get(seq) or Quote(seq, "", "", deleted=True)


def _messages_at() -> Select[Any]:
    side = _side(_MESSAGES, [_MESSAGES.c.seq.in_(SEQS)], False, limited=False)
    return select(*(side.c[name] for name in _NAMES), *_AUTHOR).join(
        _USERS, _USERS.c.id == side.c.user_id
    )


_MESSAGES_AT = _messages_at()


def _message_rows(conn: Connection, group_id: uuid.UUID, seqs: Iterable[int]) -> list[Any]:
    return list(conn.execute(_MESSAGES_AT, {"group_id": group_id, "seqs": sorted(set(seqs))}))


def complete(conn: Connection, group_id: uuid.UUID, rows: Sequence[Any]) -> list[Entry]:
    """Entries from rows of the union: messages as they are now, changes with their messages."""
    details = _Details()
    message_rows = [row for row in rows if row.kind == Kind.MESSAGE.value]
    shown = {row.seq for row in message_rows}
    targets = {row.target_seq for row in rows if row.target_seq is not None}
    if targets - shown:
        message_rows += _message_rows(conn, group_id, targets - shown)
    details.reactions = reactions(
        conn, group_id, (row.seq for row in message_rows if row.deleted_at is None)
    )
    details.quotes = quotes(
        conn,
        group_id,
        (row.reply_to_seq for row in message_rows if row.reply_to_seq is not None),
    )
    details.messages = {
        row.seq: _entry(group_id, row, details) for row in message_rows if row.seq in targets
    }
    return [_entry(group_id, row, details) for row in rows]


def messages_now(conn: Connection, group_id: uuid.UUID, seqs: Iterable[int]) -> dict[int, Entry]:
    """The messages of this group at `seqs` as they are now (absent: no such message)."""
    entries = complete(conn, group_id, _message_rows(conn, group_id, seqs))
    return {entry.seq: entry for entry in entries}


def _read(
    conn: Connection, group_id: uuid.UUID, query: Select[Any], params: dict[str, Any]
) -> list[Entry]:
    return complete(conn, group_id, list(conn.execute(query, {"group_id": group_id, **params})))


async def _run(
    session: AsyncSession, group_id: uuid.UUID, query: Select[Any], **params: Any
) -> list[Entry]:
    return await session.run_sync(lambda s: _read(s.connection(), group_id, query, params))


async def last_seq(session: AsyncSession, group_id: uuid.UUID) -> int | None:
    """The group's newest allocated seq (None if no such group).

    Read this *before* reading entries, and bound them by it: every seq up to a committed
    last_seq belongs to a transaction that has already committed (or rolled back), so the
    entries read are complete up to it, even without a snapshot across the two queries.
    """
    query = select(_GROUPS.c.last_seq).where(_GROUPS.c.id == group_id)
    found = await session.exec(query)  # type: ignore[call-overload]  # a core Select
    return found.scalar_one_or_none()


async def page_before(
    session: AsyncSession, group_id: uuid.UUID, before: int, limit: int
) -> tuple[list[Entry], bool]:
    """The `limit` lines with seq < `before`, oldest first, and whether older ones exist.
    For the latest page pass before = last_seq + 1. One query, whatever the group's length."""
    query = _entries(low=False, high=True, newest_first=True)
    entries = await _run(session, group_id, query, high=before, limit=limit + 1)
    return list(reversed(entries[:limit])), len(entries) > limit


async def page_after(
    session: AsyncSession, group_id: uuid.UUID, after: int, upto: int, limit: int
) -> tuple[list[Entry], bool]:
    """The `limit` lines with after < seq <= upto, oldest first, and whether newer ones exist
    (up to `upto`, the group's last seq as read before)."""
    query = _entries(low=True, high=True, newest_first=False)
    entries = await _run(session, group_id, query, low=after, high=upto + 1, limit=limit + 1)
    return entries[:limit], len(entries) > limit


async def entries_after(
    session: AsyncSession, group_id: uuid.UUID, after: int, upto: int, limit: int
) -> list[Entry]:
    """Up to `limit` entries with after < seq <= upto, oldest first, changes included
    (catch-up after a reconnect)."""
    query = _entries(low=True, high=True, newest_first=False, changes=True)
    return await _run(session, group_id, query, low=after, high=upto + 1, limit=limit)


async def message(session: AsyncSession, group_id: uuid.UUID, seq: int) -> Entry | None:
    """The group's message at `seq` as it is now, or None."""
    found = await session.run_sync(lambda s: messages_now(s.connection(), group_id, [seq]))
    return found.get(seq)
