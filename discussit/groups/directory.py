"""The group directory: listing groups for a viewer, looking one up, and creating them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import exists, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit import limits
from discussit.core.security import text
from discussit.groups import reading
from discussit.models import Group, Membership


class InvalidGroup(ValueError):
    """The group cannot be created; str(error) says why."""


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A group as one viewer sees it in the directory."""

    id: uuid.UUID
    name: str
    description: str
    member_count: int
    is_member: bool
    unread: int = 0  # messages by others since the viewer last read the group (members)
    mentions: int = 0  # of those, the ones that mention the viewer
    is_private: bool = False  # (listed only to its members)
    archived: bool = False  # read-only
    # The viewer's notification level there (members: groups/notifications.py): which rises of
    # its count raise a system notification while the home page is hidden (discussit.js).
    notify: str = "mentions"


def _count(group_id: object):  # type: ignore[no-untyped-def]
    return (
        select(func.count())
        .select_from(Membership)
        .where(col(Membership.group_id) == group_id)
        .scalar_subquery()
    )


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    """One page of the directory, by name: the groups after `after`, and the next page's key."""

    rows: list[GroupRow]
    after: str | None  # this page's key (None: the first page)
    next_after: str | None  # None: this is the last page


async def directory_row(
    session: AsyncSession, viewer_id: int, group_id: uuid.UUID, with_unread: bool = True
) -> GroupRow | None:
    """One group's row as the viewer sees it (member count, whether they belong): one query,
    and one more for the viewer's unread count (unless not `with_unread`, as directory_page)."""
    found = (await session.exec(_rows(viewer_id).where(col(Group.id) == group_id))).first()
    if found is None:
        return None
    row = _row(*found)
    return (await _with_unread(session, viewer_id, [row]))[0] if with_unread else row


async def directory_page(
    session: AsyncSession,
    viewer_id: int,
    after: str | None = None,
    size: int = limits.DIRECTORY_PAGE,
    with_unread: bool = True,
) -> DirectoryPage:
    """`size` groups by name after `after`: one query on the name index, whatever the number
    of groups (the page key is the last name shown, so pages stay put as groups are added);
    and one more for the viewer's unread counts, unless the caller keeps its own
    (`with_unread`: the home page's stream, groups/livecounts.py)."""
    query = _rows(viewer_id).limit(size + 1)
    if after is not None:
        query = query.where(col(Group.name) > after)
    rows = [_row(*found) for found in await session.exec(query)]
    more = len(rows) > size
    rows = rows[:size]
    if with_unread:
        rows = await _with_unread(session, viewer_id, rows)
    return DirectoryPage(rows, after, rows[-1].name if more else None)


async def _with_unread(
    session: AsyncSession, viewer_id: int, rows: list[GroupRow]
) -> list[GroupRow]:
    """The rows with the viewer's unread counts (and notification levels) of the groups they
    belong to (one query)."""
    counts = await reading.unread(session, viewer_id, [row.id for row in rows if row.is_member])
    return [
        replace(
            row,
            unread=counts[row.id].count,
            mentions=counts[row.id].mentions,
            notify=counts[row.id].notify,
        )
        if row.id in counts
        else row
        for row in rows
    ]


def _row(
    gid: uuid.UUID, name: str, desc: str, n: int, mine: bool, private: bool, archived: object
) -> GroupRow:
    return GroupRow(
        gid, name, desc, int(n), bool(mine), is_private=bool(private), archived=archived is not None
    )


def _rows(viewer_id: int) -> Any:
    """The groups the viewer may see (a private group only by its members), by name."""
    mine = exists().where(
        col(Membership.group_id) == Group.id, col(Membership.user_id) == viewer_id
    )
    return (
        select(  # type: ignore[call-overload]
            Group.id,
            Group.name,
            Group.description,
            _count(Group.id),
            mine,
            Group.is_private,
            Group.archived_at,
        )
        .where(or_(col(Group.is_private).is_(False), mine))
        .order_by(col(Group.name))
    )


async def get(session: AsyncSession, group_id: uuid.UUID) -> Group | None:
    return await session.get(Group, group_id)


async def create(session: AsyncSession, name: object, description: object = "") -> Group:
    """A new group, its name and description cleaned by the text policy. Raises InvalidGroup
    (with what to change) for a bad or taken name: names compare by text.name_key, so "Café",
    "CAFÉ" and "ｃａｆé" are one name on every database."""
    try:
        name = text.clean(name, text.GROUP_NAME)
        description = text.clean(description, text.GROUP_DESCRIPTION)
    except text.InvalidText as problem:
        raise InvalidGroup(str(problem)) from None
    key = text.name_key(name)
    if len(key) > limits.GROUP_NAME_KEY_MAX:  # a few characters expand a lot under NFKC
        raise InvalidGroup("That name is too long once normalised; use plainer characters.")
    taken = await session.exec(select(Group.id).where(Group.name_key == key))
    if taken.first() is not None:
        raise InvalidGroup(f"A group named {name!r} already exists.")
    group = Group(name=name, name_key=key, description=description)
    session.add(group)
    try:
        await session.commit()
    except IntegrityError:  # created by someone else in the meantime
        await session.rollback()
        raise InvalidGroup(f"A group named {name!r} already exists.") from None
    return group


async def create_missing(session: AsyncSession, specs: list[tuple[str, str]]) -> list[Group]:
    """Create each (name, description) that does not exist yet (the demo seed uses this)."""
    created = []
    for name, description in specs:
        try:
            created.append(await create(session, name, description))
        except InvalidGroup:
            await session.rollback()
    return created
