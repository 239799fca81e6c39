"""Joining and leaving groups, and who the members are. Each change records one event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit.models import Membership, User
from discussit.timeline import JOINED, LEFT, Entry, is_member, next_seq, record_event


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    username: str


async def join(session: AsyncSession, group_id: uuid.UUID, user: User) -> Entry | None:
    """Make `user` a member and record "joined". None (and nothing written) if already one."""
    assert user.id is not None
    seq = await next_seq(session, group_id)  # serialises joins/leaves of this group
    if await is_member(session, group_id, user.id):
        await session.rollback()
        return None
    session.add(Membership(group_id=group_id, user_id=user.id))
    entry = await record_event(session, group_id, seq, user, JOINED)
    await session.commit()
    return entry


async def leave(session: AsyncSession, group_id: uuid.UUID, user: User) -> Entry | None:
    """End the membership and record "left". Returns None (and writes nothing) if not a member."""
    assert user.id is not None
    seq = await next_seq(session, group_id)
    if not await is_member(session, group_id, user.id):
        await session.rollback()
        return None
    await session.exec(
        delete(Membership).where(
            col(Membership.group_id) == group_id, col(Membership.user_id) == user.id
        )
    )
    entry = await record_event(session, group_id, seq, user, LEFT)
    await session.commit()
    return entry


async def members(session: AsyncSession, group_id: uuid.UUID) -> list[Member]:
    rows = await session.exec(
        select(User.id, User.username)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.group_id == group_id)
        .order_by(col(User.username_key))
    )
    return [Member(uid, name) for uid, name in rows]
