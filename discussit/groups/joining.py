"""Joining and leaving a group as one use case, for every entry point (the join and leave
buttons, staff removing a member): persist (the membership and its event at the next `seq`),
then publish (the event and the changed member to the group's open pages, the member count to
every home page, the user's own pages' buttons; a user who is no longer a member has their
pages of the group closed by it, in every process)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import Connection

from discussit.core.db import Database
from discussit.core.realtime.broker import Broker
from discussit.core.realtime.presence import Presence
from discussit.groups import live, membership


async def change_membership(
    db: Database,
    broker: Broker,
    presence: Presence,
    group_id: uuid.UUID,
    member: membership.Member,
    joining: bool,
    also: Callable[[Connection], None] | None = None,
) -> membership.Changed | None:
    """Join (or leave) `group_id` (and `also`, in the same transaction); None when there was
    nothing to change. Raises NoSuchGroup."""
    changed = await membership.change(db, group_id, member, joining, also)
    if changed is not None:
        is_online = joining and member.user_id in await presence.online(group_id)
        html = live.member_change_html(changed.entry, member, changed.listed_after, is_online)
        await live.publish_membership_change(
            broker, changed.entry, html, changed.member_count, is_member=joining
        )
    return changed
