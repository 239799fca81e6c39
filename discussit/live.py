"""Live updates: render each fragment once, then publish it to everyone who should see it.

Callers persist first and publish after the commit. Items carry ready HTML (identical for every
recipient) plus the few fields connections need to order, dedupe and authorise them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from functools import lru_cache

from discussit.broker import LOBBY, Broker, group_channel, user_channel
from discussit.membership import Member
from discussit.templating import render
from discussit.timeline import Entry


@lru_cache(maxsize=4096)
def entry_html(entry: Entry) -> str:
    """An entry appended to open group pages, moving their resume cursor along.

    Cached: entries never change, so when many pages catch up on the same entries (after a
    Redis reconnect, or a burst that overflowed their queues) each is still rendered once."""
    return render("live/_entry.html", entry=entry)


def members_html(group_id: uuid.UUID, members: list[Member], online: Iterable[int]) -> str:
    return render(
        "members/_list.html", group_id=group_id, members=members, online=frozenset(online), oob=True
    )


async def publish_entry(broker: Broker, entry: Entry, members_update: str = "") -> None:
    await broker.publish(
        group_channel(entry.group_id),
        {
            "type": "entry",
            "seq": entry.seq,
            "kind": entry.kind,
            "user_id": entry.user_id,
            "html": entry_html(entry) + members_update,
        },
    )


async def publish_membership(
    broker: Broker, group_id: uuid.UUID, user_id: int, is_member: bool, member_count: int
) -> None:
    """After a join or leave: every home page's count, and the user's own other tabs' buttons."""
    await broker.publish(
        LOBBY,
        {
            "type": "count",
            "html": render(
                "groups/_count.html", group_id=group_id, member_count=member_count, oob=True
            ),
        },
    )
    # Buttons hold a per-browser CSRF token, so each of the user's streams renders its own.
    await broker.publish(
        user_channel(user_id),
        {
            "type": "membership",
            "group_id": str(group_id),
            "is_member": is_member,
            "member_count": member_count,
        },
    )


async def publish_group_created(broker: Broker, group_id: uuid.UUID) -> None:
    """A new group: every home page re-reads its directory (rows carry per-viewer buttons)."""
    await broker.publish(LOBBY, {"type": "directory", "group_id": str(group_id)})


async def publish_logout(broker: Broker, user_id: int, session_key: str) -> None:
    """Close the live connections of one ended login."""
    await broker.publish(user_channel(user_id), {"type": "logout", "session_key": session_key})
