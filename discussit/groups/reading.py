"""Read cursors and unread counts: how much of each of a member's groups is new to them.

A member's cursor (memberships.last_read_seq) is the seq of the last entry of the group they
have seen; a join starts it at the join's own seq. Unread: the group's messages after it, by
someone else, not deleted. The database counts it (one query for all of a viewer's groups, on
the messages' (group_id, seq) index), and open pages and streams keep it live from their own
cursor (groups/livecounts.py: one more for each new message by someone else), so a message to
a 1,000-member group costs no query and no render per member.

A cursor moves forward only. Opening a group's latest page moves it at once (`mark_read`), as
does "Mark as read"; a visible page says what it has shown as entries arrive, and those
positions are gathered per member and written together (groups/readcursors.py, at most once a
second per process), never once per message per member. Each move is published to the member's own
channel (`ReadMoved`), so their other pages and streams count again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, literal, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit.core.db import Database, Outcome
from discussit.core.realtime.broker import Broker, user_channel
from discussit.core.realtime.items import ReadMoved
from discussit.timeline.store import GROUPS, MEMBERSHIPS, MENTIONS, MESSAGES


class BeyondLast(Outcome):
    """A read position past the group's last entry: nothing moves."""


class BehindCursor(Outcome):
    """A read position before the member's own (a cursor moves forward only): nothing moves."""


@dataclass(slots=True)
class Unread:
    """One member's view of one group: their cursor, the group's last seq when counted, how
    many messages by others came after the cursor (not deleted), and how many of those mention
    the member."""

    cursor: int
    last_seq: int
    count: int
    mentions: int = 0  # of those, how many mention the member
    name: str = ""  # the group's
    notify: str = "mentions"  # the member's notification level there (groups/notifications.py)


def _unread_query(user_id: int, group_ids: Iterable[uuid.UUID] | None) -> Any:
    unread = and_(
        MESSAGES.c.group_id == MEMBERSHIPS.c.group_id,
        MESSAGES.c.seq > MEMBERSHIPS.c.last_read_seq,
        MESSAGES.c.author_id != user_id,
        MESSAGES.c.deleted_at.is_(None),
    )
    query = (
        select(
            MEMBERSHIPS.c.group_id,
            MEMBERSHIPS.c.last_read_seq,
            GROUPS.c.last_seq,
            func.count(MESSAGES.c.id),
            func.count(MENTIONS.c.user_id),
            GROUPS.c.name,
            MEMBERSHIPS.c.notify,
        )
        .select_from(MEMBERSHIPS)
        .join(GROUPS, GROUPS.c.id == MEMBERSHIPS.c.group_id)
        .outerjoin(MESSAGES, unread)
        .outerjoin(
            MENTIONS,
            and_(
                MENTIONS.c.group_id == MESSAGES.c.group_id,
                MENTIONS.c.seq == MESSAGES.c.seq,
                MENTIONS.c.user_id == user_id,
            ),
        )
        .where(MEMBERSHIPS.c.user_id == user_id)
        .group_by(
            MEMBERSHIPS.c.group_id,
            MEMBERSHIPS.c.last_read_seq,
            GROUPS.c.last_seq,
            GROUPS.c.name,
            MEMBERSHIPS.c.notify,
        )
    )
    if group_ids is not None:
        query = query.where(MEMBERSHIPS.c.group_id.in_(list(group_ids)))
    return query


def unread_now(
    conn: Connection, user_id: int, group_ids: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, Unread]:
    """The member's unread state of each of their groups (or of those given that they belong
    to), with each group's name and the member's notification level there, in one query."""
    return {
        group_id: Unread(int(cursor), int(last_seq), int(count), int(mentions), name, notify)
        for group_id, cursor, last_seq, count, mentions, name, notify in conn.execute(
            _unread_query(user_id, group_ids)
        )
    }


def group_ids_now(conn: Connection, user_id: int) -> list[uuid.UUID]:
    """The groups the member belongs to (no counting)."""
    found = conn.execute(select(MEMBERSHIPS.c.group_id).where(MEMBERSHIPS.c.user_id == user_id))
    return [group_id for (group_id,) in found]


async def unread(
    session: AsyncSession, user_id: int, group_ids: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, Unread]:
    ids = None if group_ids is None else list(group_ids)
    if ids == []:
        return {}
    return await session.run_sync(lambda s: unread_now(s.connection(), user_id, ids))


async def mark_read(
    db: Database, broker: Broker, group_id: uuid.UUID, user_id: int, seq: int | None = None
) -> int | None:
    """Move the member's cursor to `seq` (None: the group's last entry), never back. Returns
    where it moved to, or None if it did not move (already there, or not a member); raises
    BeyondLast for a seq the group has not reached, BehindCursor for one before the member's.
    The member's pages and streams hear of it."""

    def write(conn: Connection) -> int | None:
        last = select(GROUPS.c.last_seq).where(GROUPS.c.id == group_id).scalar_subquery()
        upto = last if seq is None else literal(seq)
        moved = conn.execute(  # one statement (a page load marks its group read)
            update(MEMBERSHIPS)
            .where(
                MEMBERSHIPS.c.group_id == group_id,
                MEMBERSHIPS.c.user_id == user_id,
                MEMBERSHIPS.c.last_read_seq < upto,
                upto <= last,
            )
            .values(last_read_seq=upto)
            .returning(MEMBERSHIPS.c.last_read_seq)
        ).first()
        if moved is not None:
            return int(moved[0])
        if seq is not None:  # not moved: already there, behind it, or past the group's end?
            found = conn.execute(select(GROUPS.c.last_seq).where(GROUPS.c.id == group_id)).first()
            if found is not None and seq > int(found[0]):
                raise BeyondLast
            read = conn.execute(
                select(MEMBERSHIPS.c.last_read_seq).where(
                    MEMBERSHIPS.c.group_id == group_id, MEMBERSHIPS.c.user_id == user_id
                )
            ).first()
            if read is not None and seq < int(read[0]):
                raise BehindCursor
        return None

    moved = await db.write(write)
    if moved is not None:
        await broker.publish(user_channel(user_id), ReadMoved(str(group_id), moved))
    return moved
