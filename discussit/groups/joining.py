"""Joining and leaving a group as one use case, for every entry point (the join and leave
buttons, staff removing a member): persist (the membership and its event at the next `seq`),
then publish (the event and the changed member to the group's open pages, the member count to
every home page, the user's own pages' buttons; a user who is no longer a member has their
pages of the group closed by it, in every process)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import Connection, select

from discussit.accounts import audit
from discussit.core.db import Database
from discussit.core.realtime.broker import Broker
from discussit.core.realtime.presence import Presence
from discussit.groups import live, membership
from discussit.timeline.store import GROUPS, NoSuchGroup


async def change_membership(
    db: Database,
    broker: Broker,
    presence: Presence,
    group_id: uuid.UUID,
    member: membership.Member,
    joining: bool,
    also: Callable[[Connection], None] | None = None,
    check: Callable[[Connection, bool], None] | None = None,
) -> membership.Changed | None:
    """Join (or leave) `group_id` (and `also`, in the same transaction); None when there was
    nothing to change. Raises NoSuchGroup."""
    changed = await membership.change(db, group_id, member, joining, also, check)
    if changed is not None:
        is_online = joining and member.user_id in await presence.online(group_id)
        html = live.member_change_html(changed.entry, member, changed.listed_after, is_online)
        await live.publish_membership_change(
            broker,
            changed.entry,
            html,
            changed.member_count,
            is_member=joining,
            private_members=changed.private_members,
        )
    return changed


class CannotAdd(Exception):
    """The person cannot be added; str(error) says why, to the one adding them."""


async def add_member(
    db: Database,
    broker: Broker,
    presence: Presence,
    group_id: uuid.UUID,
    username: str,
    actor_id: int,
) -> membership.Member:
    """Add the account called `username` to the group (a private group: its members and staff
    add people, groups/access.py may_add_people decides who). Raises CannotAdd, NoSuchGroup,
    GroupArchived."""
    found = await db.read(lambda conn: membership.person_named(conn, username))
    if found is None:
        raise CannotAdd(f"No one here is called “{username.strip()}”.")
    member, active = found
    if not active:
        raise CannotAdd(f"{member.shown} is deactivated.")

    def audited(conn: Connection) -> None:
        group = conn.execute(select(GROUPS.c.name).where(GROUPS.c.id == group_id)).scalar()
        audit.record(conn, actor_id, "member-added", member.user_id, str(group))

    changed = await change_membership(
        db, broker, presence, group_id, member, joining=True, also=audited, check=_only_private
    )
    if changed is None:
        raise CannotAdd(f"{member.shown} is already a member.")
    return member


def _only_private(_: Connection, private: bool) -> None:
    if not private:
        raise CannotAdd("People are added to private groups only; anyone joins a public one.")


def by_themselves(_: Connection, private: bool) -> None:
    """Joining by oneself (the Join button): a private group is as if it did not exist."""
    if private:
        raise NoSuchGroup
