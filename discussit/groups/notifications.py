"""A member's notification level per group: which new messages raise a system notification on
their pages while hidden (static/js/discussit.js shows them; the browser's permission is asked
only after a click). Kept per membership, so it follows the member to every device."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, update

from discussit.core.db import Database
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
