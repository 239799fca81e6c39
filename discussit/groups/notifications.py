"""A member's notification level per group: which new messages raise a system notification on
their pages while hidden (static/js/discussit.js shows them; the browser's permission is asked
only after a click). Kept per membership, so it follows the member to every device; a new
choice is sent to the member's open pages and home pages at once (groups/_level.html)."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, update

from discussit.core.db import Database
from discussit.core.realtime.broker import Broker, user_channel
from discussit.core.realtime.items import LevelChanged
from discussit.core.templating import render
from discussit.timeline.store import MEMBERSHIPS

LEVELS = ("all", "mentions", "nothing")  # every new message / mentions of me / none
DEFAULT = "mentions"


class UnknownLevel(ValueError):
    """Not one of LEVELS; str(error) says what is."""


def clean_level(raw: object) -> str:
    if isinstance(raw, str) and raw in LEVELS:
        return raw
    raise UnknownLevel("Choose all messages, mentions of you, or nothing.")


async def set_level(db: Database, group_id: uuid.UUID, user_id: int, level: str) -> bool:
    """The member's level for the group; False if they are not a member (nothing changed)."""

    def write(conn: Connection) -> bool:
        changed = conn.execute(
            update(MEMBERSHIPS)
            .where(MEMBERSHIPS.c.group_id == group_id, MEMBERSHIPS.c.user_id == user_id)
            .values(notify=level)
        )
        return bool(changed.rowcount)

    return await db.write(write)


async def choose_level(
    db: Database, broker: Broker, group_id: uuid.UUID, user_id: int, level: str
) -> bool:
    """The one use case: store the member's level (False if they are not a member: nothing
    changed, nothing sent), then tell their open pages and home pages."""
    if not await set_level(db, group_id, user_id, level):
        return False
    html = render("groups/_level.html", group_id=group_id, level=level, oob=True)
    await broker.publish(user_channel(user_id), LevelChanged(str(group_id), level, html))
    return True
