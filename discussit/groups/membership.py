"""Joining and leaving groups, and who the members are. Each change records one event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, func, insert, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from discussit.accounts.auth import Viewer
from discussit.core.db import Database, Outcome
from discussit.core.security.text import username_key
from discussit.models import User, shown_name, utcnow
from discussit.timeline.entries import Entry, Kind
from discussit.timeline.events import record_event
from discussit.timeline.store import GROUPS, MEMBERSHIPS, next_seq

USERS = User.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    username: str  # their @handle
    name: str = ""  # the name shown (their display name, else their username)
    avatar_version: int = 0

    @property
    def shown(self) -> str:
        return self.name or self.username


class _Unchanged(Outcome):
    """Already a member (joining), or not one (leaving): nothing to write."""


def _membership(group_id: uuid.UUID, user_id: int):  # type: ignore[no-untyped-def]
    return select(MEMBERSHIPS.c.user_id).where(
        MEMBERSHIPS.c.group_id == group_id, MEMBERSHIPS.c.user_id == user_id
    )


def is_member_now(conn: Connection, group_id: uuid.UUID, user_id: int) -> bool:
    """Inside a write transaction (Database.write)."""
    return conn.execute(_membership(group_id, user_id)).first() is not None


def members_named(conn: Connection, group_id: uuid.UUID, keys: list[str]) -> dict[str, int]:
    """The group's members among the username keys given: key -> user id (whom a message's
    @names can mention)."""
    if not keys:
        return {}
    users = User.__table__  # type: ignore[attr-defined]
    found = conn.execute(
        select(users.c.username_key, users.c.id)
        .join(MEMBERSHIPS, MEMBERSHIPS.c.user_id == users.c.id)
        .where(MEMBERSHIPS.c.group_id == group_id, users.c.username_key.in_(keys))
    )
    return {str(key): int(user_id) for key, user_id in found}


_PERSON = select(
    USERS.c.id, USERS.c.username, shown_name(), USERS.c.avatar_version, USERS.c.is_active
)


def person_named(conn: Connection, username: str) -> tuple[Member, bool] | None:
    """The account with this username (in any case or look-alike spelling), as a member to
    be, and whether it is active."""
    key = username_key(username.strip().lstrip("@"))
    row = conn.execute(_PERSON.where(USERS.c.username_key == key)).first()
    if row is None:
        return None
    return Member(row[0], row[1], row[2], row[3]), bool(row[4])


def person_of(conn: Connection, user_id: int) -> Member | None:
    """The account with this id, as a member (its names as pages show them)."""
    row = conn.execute(_PERSON.where(USERS.c.id == user_id)).first()
    return None if row is None else Member(row[0], row[1], row[2], row[3])


def people_starting(conn: Connection, group_id: uuid.UUID, prefix: str) -> list[Member]:
    """Up to SUGGESTIONS active people who are not members of the group, whose username starts
    with `prefix` (as usernames compare) or whose display name does (in any case)."""
    key = username_key(prefix)
    mine = select(MEMBERSHIPS.c.user_id).where(MEMBERSHIPS.c.group_id == group_id)
    rows = conn.execute(
        select(USERS.c.id, USERS.c.username, shown_name(), USERS.c.avatar_version)
        .where(
            USERS.c.is_active,
            USERS.c.id.not_in(mine),
            or_(
                USERS.c.username_key.startswith(key, autoescape=True),
                USERS.c.display_name_key.startswith(key, autoescape=True),
            ),
        )
        .order_by(USERS.c.username_key)
        .limit(SUGGESTIONS)
    )
    return [Member(*row) for row in rows]


SUGGESTIONS = 8  # members suggested at once for an @name being typed


async def members_starting(session: AsyncSession, group_id: uuid.UUID, prefix: str) -> list[Member]:
    """Up to SUGGESTIONS members of the group whose username starts with `prefix` (compared as
    usernames are: text.username_key), by username key: among the group's members."""
    key = username_key(prefix)
    users = User.__table__  # type: ignore[attr-defined]
    query = (
        select(users.c.id, users.c.username, shown_name(), users.c.avatar_version)
        .join(MEMBERSHIPS, MEMBERSHIPS.c.user_id == users.c.id)
        .where(MEMBERSHIPS.c.group_id == group_id)
        .order_by(users.c.username_key)
        .limit(SUGGESTIONS)
    )
    if key:
        query = query.where(users.c.username_key.startswith(key, autoescape=True))
    rows = await session.exec(query)  # type: ignore[call-overload]
    return [Member(int(i), str(handle), str(name), int(v)) for i, handle, name, v in rows]


async def is_member(session: AsyncSession, group_id: uuid.UUID, user_id: int) -> bool:
    return (await session.exec(_membership(group_id, user_id))).first() is not None


@dataclass(frozen=True, slots=True)
class Changed:
    """A join or leave as committed, and the group as it was right after it (read in the same
    transaction, which the group's seq serialises: open pages apply changes in seq order, so
    each change's neighbour and count are the ones those pages have then)."""

    entry: Entry
    member_count: int
    listed_after: int | None  # joining: the user id of the member listed just before, if any
    # A private group's members after the change (only they may hear of its count), else None.
    private_members: tuple[int, ...] | None = None


async def change(
    db: Database,
    group_id: uuid.UUID,
    user: Member,
    joining: bool,
    also: Callable[[Connection], None] | None = None,
    check: Callable[[Connection, bool], None] | None = None,
) -> Changed | None:
    """Join (or leave) `group_id` and record "joined" (or "left"); `also` runs in the same
    transaction (a staff removal's audit entry), and `check` before any change, with whether
    the group is private, under the group's lock (it raises to refuse). None, and nothing
    written, when there is nothing to change. Raises NoSuchGroup."""
    user_id, name = user.user_id, user.shown

    def write(conn: Connection) -> Changed:
        # Serialises joins/leaves of this group; nobody joins an archived one (leaving is fine).
        seq = next_seq(conn, group_id, writing=joining)
        private = conn.execute(select(GROUPS.c.is_private).where(GROUPS.c.id == group_id)).scalar()
        if is_member_now(conn, group_id, user_id) == joining:
            raise _Unchanged
        if check is not None:
            check(conn, bool(private))
        if joining:
            conn.execute(
                insert(MEMBERSHIPS).values(
                    # Everything before the join counts as read: only what comes after is new.
                    group_id=group_id,
                    user_id=user_id,
                    joined_at=utcnow(),
                    last_read_seq=seq,
                )
            )
        else:
            conn.execute(
                delete(MEMBERSHIPS).where(
                    MEMBERSHIPS.c.group_id == group_id, MEMBERSHIPS.c.user_id == user_id
                )
            )
        entry = record_event(
            conn, group_id, seq, user_id, name, Kind.JOINED if joining else Kind.LEFT
        )
        count = conn.execute(
            select(func.count()).select_from(MEMBERSHIPS).where(MEMBERSHIPS.c.group_id == group_id)
        ).scalar_one()
        before = conn.execute(_listed_before(group_id, user)).scalar() if joining else None
        members_now = None
        if private:
            members_now = tuple(
                conn.execute(
                    select(MEMBERSHIPS.c.user_id).where(MEMBERSHIPS.c.group_id == group_id)
                ).scalars()
            )
        if also is not None:
            also(conn)
        return Changed(entry, int(count), before, members_now)

    try:
        return await db.write(write)
    except _Unchanged:
        return None


def member_of(viewer: Viewer) -> Member:
    """The logged-in viewer as a member (names as read with their login)."""
    user = viewer.user
    return Member(user.id, user.username, user.name, user.avatar_version)


def _member(user: User) -> Member:
    assert user.id is not None
    return Member(user.id, user.username, user.display_name or user.username, user.avatar_version)


async def join(db: Database, group_id: uuid.UUID, user: User) -> Changed | None:
    return await change(db, group_id, _member(user), joining=True)


async def leave(db: Database, group_id: uuid.UUID, user: User) -> Changed | None:
    return await change(db, group_id, _member(user), joining=False)


# Members are listed by the name shown in any case, then by id: the page's order, and the order
# a joining member is inserted in live (_listed_before).
def _listed_name():  # type: ignore[no-untyped-def]
    return func.lower(shown_name())


async def members(session: AsyncSession, group_id: uuid.UUID) -> list[Member]:
    rows = await session.exec(
        select(USERS.c.id, USERS.c.username, shown_name(), USERS.c.avatar_version)  # type: ignore[call-overload]
        .join(MEMBERSHIPS, MEMBERSHIPS.c.user_id == USERS.c.id)
        .where(MEMBERSHIPS.c.group_id == group_id)
        .order_by(_listed_name(), USERS.c.id)
    )
    return [Member(uid, handle, name, version) for uid, handle, name, version in rows]


def _listed_before(group_id: uuid.UUID, member: Member):  # type: ignore[no-untyped-def]
    """The user id of the member listed just before `member` (none: it comes first)."""
    name = _listed_name()
    key = member.shown.lower()
    return (
        select(USERS.c.id)
        .join(MEMBERSHIPS, MEMBERSHIPS.c.user_id == USERS.c.id)
        .where(
            MEMBERSHIPS.c.group_id == group_id,
            or_(name < key, and_(name == key, USERS.c.id < member.user_id)),
        )
        .order_by(name.desc(), USERS.c.id.desc())
        .limit(1)
    )
