"""What staff change about a group, one use case each: its name and description, archiving
(read-only) and reopening, making it private or not, and deleting it. Each is written with its
audit entry in one transaction, then published: the group's open pages get its new title (and
stop, when it was archived or deleted: chat/updates.py), every home page reads its directory
again (groups/stream.py)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, delete, select, update

from discussit import limits
from discussit.accounts import audit
from discussit.accounts.auth import Viewer
from discussit.core.db import Database, Outcome
from discussit.core.realtime.broker import LOBBY, Broker, group_channel
from discussit.core.realtime.items import GroupChanged
from discussit.core.security import text
from discussit.core.templating import render
from discussit.models import Group, utcnow

_GROUPS = Group.__table__  # type: ignore[attr-defined]


class Refused(Outcome):
    """The change cannot be made; `problem` says why, in words for the staff member."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _group(conn: Connection, group_id: uuid.UUID) -> Group:
    row = conn.execute(select(_GROUPS).where(_GROUPS.c.id == group_id)).first()
    if row is None:
        raise Refused("That group does not exist any more.")
    return Group(**row._mapping)


async def _publish(broker: Broker, group: Group, *, deleted: bool = False) -> None:
    html = "" if deleted else render("groups/_title.html", group=group, oob=True)
    item = GroupChanged(
        str(group.id), html, archived=group.archived_at is not None, deleted=deleted
    )
    await broker.publish(group_channel(group.id), item)
    await broker.publish(LOBBY, GroupChanged(str(group.id)))  # (home pages read it again)


async def _change(
    db: Database,
    broker: Broker,
    actor: Viewer,
    group_id: uuid.UUID,
    action: str,
    values: dict[str, Any],
    check: Any = None,
) -> Group:
    def write(conn: Connection) -> Group:
        before = _group(conn, group_id)
        if check is not None:
            check(conn, before)
        conn.execute(update(_GROUPS).where(_GROUPS.c.id == group_id).values(**values))
        audit.record(conn, actor.id, action, None, before.name)
        return _group(conn, group_id)

    group = await db.write(write)
    await _publish(broker, group)
    return group


async def edit(
    db: Database, broker: Broker, actor: Viewer, group_id: uuid.UUID, raw_name: str, raw_desc: str
) -> Group:
    """A new name and description (the text policy; a name no other group has). Refused."""
    try:
        name = text.clean(raw_name, text.GROUP_NAME)
        description = text.clean(raw_desc, text.GROUP_DESCRIPTION)
    except text.InvalidText as problem:
        raise Refused(str(problem)) from None
    key = text.name_key(name)
    if len(key) > limits.GROUP_NAME_KEY_MAX:
        raise Refused("That name is too long once normalised; use plainer characters.")

    def unique(conn: Connection, _: Group) -> None:
        taken = select(_GROUPS.c.id).where(_GROUPS.c.name_key == key, _GROUPS.c.id != group_id)
        if conn.execute(taken).first() is not None:
            raise Refused(f"Another group is called “{name}”.")

    values = {"name": name, "name_key": key, "description": description}
    return await _change(db, broker, actor, group_id, "group-edited", values, unique)


async def set_archived(
    db: Database, broker: Broker, actor: Viewer, group_id: uuid.UUID, archived: bool
) -> Group:
    action = "group-archived" if archived else "group-reopened"
    values = {"archived_at": utcnow() if archived else None}
    return await _change(db, broker, actor, group_id, action, values)


async def set_private(
    db: Database, broker: Broker, actor: Viewer, group_id: uuid.UUID, private: bool
) -> Group:
    action = "group-private" if private else "group-public"
    return await _change(db, broker, actor, group_id, action, {"is_private": private})


async def delete_group(
    db: Database, broker: Broker, actor: Viewer, group_id: uuid.UUID, typed: str
) -> str:
    """Delete the group with everything in it, if `typed` is its name exactly; its name."""

    def write(conn: Connection) -> Group:
        group = _group(conn, group_id)
        if typed.strip() != group.name:
            raise Refused(f"To delete it, type the group's name exactly: {group.name}")
        audit.record(conn, actor.id, "group-deleted", None, group.name)
        conn.execute(delete(_GROUPS).where(_GROUPS.c.id == group_id))  # (its rows cascade)
        return group

    group = await db.write(write)
    await _publish(broker, group, deleted=True)
    return group.name
