"""Demo groups for a fresh install, made by the same code path staff use to create groups."""

from __future__ import annotations

from sqlmodel import select

from discussit.core.db import Database
from discussit.groups import directory
from discussit.models import Group

DEMO_GROUPS = [
    ("General", "Say hello, share news, ask anything."),
    ("Random", "Off-topic chatter and good links."),
    ("Help", "Stuck on something? Ask here."),
]


async def demo_groups(db: Database) -> int:
    """On first start (no groups at all), create the demo groups. Returns how many were made."""
    async with db.session() as session:
        if (await session.exec(select(Group.id).limit(1))).first() is not None:
            return 0
        return len(await directory.create_missing(session, DEMO_GROUPS))
