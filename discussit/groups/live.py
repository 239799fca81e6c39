"""A group's live changes beyond its timeline: member lists, member counts, new groups.

Rendered once, published after the commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from functools import lru_cache

from discussit.core.realtime.broker import LOBBY, Broker, user_channel
from discussit.core.realtime.items import CountChanged, GroupCreated, MembershipChanged
from discussit.core.templating import render
from discussit.groups.membership import Member
from discussit.timeline.entries import Entry, Kind
from discussit.timeline.live import publish_entry


def members_html(group_id: uuid.UUID, members: list[Member], online: Iterable[int]) -> str:
    return render(
        "members/_list.html", group_id=group_id, members=members, online=frozenset(online), oob=True
    )


@lru_cache(maxsize=4096)
def unread_html(group_id: uuid.UUID, count: int, mentions: int = 0) -> str:
    """A viewer's unread count of a group (and how many of those mention them), live: the same
    fragment for every viewer with those counts, so rendered once per group and counts, not
    once per viewer."""
    return render(
        "groups/_unread.html", group_id=group_id, unread=count, mentions=mentions, oob=True
    )


def member_change_html(entry: Entry, member: Member, before_id: int | None, is_online: bool) -> str:
    """The one member who joined (inserted in list order) or left (removed), and the
    removal of the event this one replaced, if any: a few hundred bytes whatever the size of
    the group (the whole list would be ~150 bytes per member, to every open page)."""
    return render(
        "members/_change.html",
        member=member,
        joined=entry.kind == Kind.JOINED,
        before_id=before_id,
        is_online=is_online,
        replaces=entry.replaces,
    )


async def publish_membership_change(
    broker: Broker,
    entry: Entry,
    change_html: str,
    member_count: int,
    is_member: bool,
    private_members: tuple[int, ...] | None = None,
) -> None:
    """After a join or leave: the event and the changed member to the group's open pages,
    the count to every home page (a private group's: to its members' only), and the user's
    own home pages' buttons."""
    await publish_entry(broker, entry, change_html)
    count = render(
        "groups/_count.html", group_id=entry.group_id, member_count=member_count, oob=True
    )
    if private_members is None:
        await broker.publish(LOBBY, CountChanged(count))
    else:
        for user_id in private_members:
            await broker.publish(user_channel(user_id), CountChanged(count))
    # Buttons hold a per-browser CSRF token, so each of the user's streams renders its own.
    await broker.publish(
        user_channel(entry.user_id), MembershipChanged(str(entry.group_id), is_member)
    )


async def publish_group_created(broker: Broker, group_id: uuid.UUID) -> None:
    """A new group: every home page re-reads its directory (rows carry per-viewer buttons)."""
    await broker.publish(LOBBY, GroupCreated(str(group_id)))
