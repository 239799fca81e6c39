"""Reading a group's timeline: a page of history, or what came after a cursor (catch-up).

Messages and events live in two tables; every read is one query over both (UNION ALL) ordered by
`seq` in SQL, each side first narrowed by its (group_id, seq) index, so a page costs the same
whatever the group's length. New kinds of entry join the union.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, literal, select, union_all
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit.models import Event, Group, Message, User
from discussit.timeline.entries import Entry, Kind
from discussit.timeline.formatting import RENDER_VERSION, to_html

_MESSAGES = Message.__table__  # type: ignore[attr-defined]
_EVENTS = Event.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
_GROUPS = Group.__table__  # type: ignore[attr-defined]


def _side(
    table: Any, kind: Any, user: Any, body: Any, where: list[Any], newest_first: bool, limit: int
) -> Any:
    seq = table.c.seq
    messages = table is _MESSAGES
    return (
        select(
            kind.label("kind"),
            seq.label("seq"),
            user.label("user_id"),
            body.label("body"),
            (table.c.body_html if messages else literal("")).label("body_html"),
            (table.c.render_version if messages else literal(RENDER_VERSION)).label("version"),
            table.c.created_at.label("created_at"),
        )
        .where(*where)
        .order_by(seq.desc() if newest_first else seq)
        .limit(limit)
        .subquery()
    )


def _entries(
    group_id: uuid.UUID, low: int | None, high: int | None, newest_first: bool, limit: int
) -> Select[Any]:
    sides = []
    for table, kind, user, body in (
        (_MESSAGES, literal(Kind.MESSAGE.value), _MESSAGES.c.author_id, _MESSAGES.c.body),
        (_EVENTS, _EVENTS.c.kind, _EVENTS.c.user_id, literal("")),
    ):
        where = [table.c.group_id == group_id]
        if low is not None:
            where.append(table.c.seq > low)
        if high is not None:
            where.append(table.c.seq < high)
        side = _side(table, kind, user, body, where, newest_first, limit)
        sides.append(select(side))
    both = union_all(*sides).subquery()
    return (
        select(
            both.c.kind,
            both.c.seq,
            both.c.user_id,
            _USERS.c.username,
            both.c.created_at,
            both.c.body,
            both.c.body_html,
            both.c.version,
        )
        .join(_USERS, _USERS.c.id == both.c.user_id)
        .order_by(both.c.seq.desc() if newest_first else both.c.seq)
        .limit(limit)
    )


async def _read(session: AsyncSession, group_id: uuid.UUID, query: Select[Any]) -> list[Entry]:
    rows = await session.exec(query)  # type: ignore[call-overload]  # a core Select
    return [
        Entry(
            Kind(kind),
            seq,
            group_id,
            user_id,
            username,
            created_at,
            body,
            # Stored before formatting, or by an older renderer: rendered now.
            body_html if version == RENDER_VERSION and body_html is not None else to_html(body),
        )
        for kind, seq, user_id, username, created_at, body, body_html, version in rows
    ]


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
    """The `limit` entries with seq < `before`, oldest first, and whether older ones exist.
    For the latest page pass before = last_seq + 1. One query, whatever the group's length."""
    entries = await _read(session, group_id, _entries(group_id, None, before, True, limit + 1))
    return list(reversed(entries[:limit])), len(entries) > limit


async def entries_after(
    session: AsyncSession, group_id: uuid.UUID, after: int, upto: int, limit: int
) -> list[Entry]:
    """Up to `limit` entries with after < seq <= upto, oldest first (catch-up after a reconnect)."""
    return await _read(session, group_id, _entries(group_id, after, upto + 1, False, limit))
