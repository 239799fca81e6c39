"""Joining and leaving groups, and who the members are. Each change records one event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit.db import Database, Outcome
from discussit.models import Membership, User, utcnow
from discussit.timeline import (
    JOINED,
    LEFT,
    MEMBERSHIPS,
    Entry,
    is_member_now,
    next_seq,
    record_event,
)


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    username: str


class Unchanged(Outcome):
    """Already a member (joining), or not one (leaving): nothing to write."""


async def join(db: Database, group_id: uuid.UUID, user: User) -> Entry | None:
    """Make `user` a member and record "joined". None (and nothing written) if already one.
    Raises NoSuchGroup."""
    assert user.id is not None
    user_id = user.id

    def write(conn: Connection) -> Entry:
        seq = next_seq(conn, group_id)  # serialises joins/leaves of this group
        if is_member_now(conn, group_id, user_id):
            raise Unchanged
        conn.execute(insert(MEMBERSHIPS).values(group_id=group_id, user_id=user_id,
                                                joined_at=utcnow()))
        return record_event(conn, group_id, seq, user, JOINED)

    try:
        return await db.write(write)
    except Unchanged:
        return None


async def leave(db: Database, group_id: uuid.UUID, user: User) -> Entry | None:
    """End the membership and record "left". None (and nothing written) if not a member.
    Raises NoSuchGroup."""
    assert user.id is not None
    user_id = user.id

    def write(conn: Connection) -> Entry:
        seq = next_seq(conn, group_id)
        if not is_member_now(conn, group_id, user_id):
            raise Unchanged
        conn.execute(delete(MEMBERSHIPS).where(MEMBERSHIPS.c.group_id == group_id,
                                               MEMBERSHIPS.c.user_id == user_id))
        return record_event(conn, group_id, seq, user, LEFT)

    try:
        return await db.write(write)
    except Unchanged:
        return None


async def members(session: AsyncSession, group_id: uuid.UUID) -> list[Member]:
    rows = await session.exec(
        select(User.id, User.username)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.group_id == group_id)
        .order_by(col(User.username_key))
    )
    return [Member(uid, name) for uid, name in rows]
