"""Who may do what in a group: every permission is decided here, for every entry point (pages,
htmx, the WebSocket, posting, catch-up).

`require_member` answers with the logged-in viewer, or raises: LoginRequired (not logged in),
NoSuchGroup, or NotAMemberOf (carrying the group, so a page can offer to join it). HTTP routes let
the app's handlers turn these into a login redirect, a 404 page or a 403 page with a Join button;
the WebSocket turns them into a policy close before sending anything.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, bindparam, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from discussit.accounts.auth import Viewer, require_viewer, session_params
from discussit.core.db import Outcome
from discussit.core.prepared import Prepared
from discussit.groups import directory
from discussit.groups.membership import is_member
from discussit.models import Group, login_alive
from discussit.timeline.changes import Decide, Target
from discussit.timeline.store import (
    GROUPS,
    MEMBERSHIPS,
    GroupArchived,
    NoSuchGroup,
    NoSuchMessage,
    NotAMember,
    SessionEnded,
)

__all__ = [
    "NoSuchGroup",
    "GroupArchived",
    "NotAMemberOf",
    "LoginEnded",
    "parse_group_id",
    "group_id_from_path",
    "require_member",
    "require_staff",
    "replay_cursor",
    "admission_now",
    "NotAllowed",
    "may_edit",
    "may_delete",
    "may_react",
    "edit_refusal",
    "delete_refusal",
]


class NotAMemberOf(Exception):
    """The viewer is logged in but not a member of `group`."""

    def __init__(self, group: Group) -> None:
        super().__init__(str(group.id))
        self.group = group


class LoginEnded(Exception):
    """The viewer's login has ended (logged out elsewhere, or expired)."""


def parse_group_id(raw: str) -> uuid.UUID:
    try:
        if len(raw) > 36:
            raise ValueError
        return uuid.UUID(raw)
    except ValueError:
        raise NoSuchGroup from None


def group_id_from_path(conn: HTTPConnection) -> uuid.UUID:
    """The {group_id} of the path; any malformed id is simply a group that does not exist."""
    return parse_group_id(conn.path_params.get("group_id", ""))


async def require_member(
    conn: HTTPConnection, session: AsyncSession, group_id: uuid.UUID
) -> Viewer:
    viewer = await require_viewer(conn)
    if await is_member(session, group_id, viewer.id):
        return viewer
    raise not_a_member(await directory.get(session, group_id))


def not_a_member(group: Group | None) -> Exception:
    """What a non-member is told of a group: that it does not exist if it does not, or if it
    is private (never that a private group exists: 404, not 403); else NotAMemberOf."""
    if group is None or group.is_private:
        return NoSuchGroup()
    return NotAMemberOf(group)


async def require_visible(
    conn: HTTPConnection, session: AsyncSession, group_id: uuid.UUID
) -> tuple[Viewer, Group]:
    """The viewer and the group, if the viewer may know it exists: any group but a private
    one they are not a member of (NoSuchGroup). For joining, and a group's row."""
    viewer = await require_viewer(conn)
    group = await directory.get(session, group_id)
    if group is None or (group.is_private and not await is_member(session, group_id, viewer.id)):
        raise NoSuchGroup
    return viewer, group


def may_add_people(viewer: Viewer, group: Group, is_member_now: bool) -> bool:
    """Who adds people to a private group (no one joins one by themselves): its members and
    staff; nobody adds to an archived group."""
    return (
        group.is_private and group.archived_at is None and (is_member_now or viewer.user.is_staff)
    )


async def require_staff(conn: HTTPConnection, doing: str) -> Viewer:
    viewer = await require_viewer(conn)
    if not viewer.user.is_staff:
        raise HTTPException(403, f"Only staff can {doing}.")
    return viewer


# Built once (it runs at every connect): the group's last seq, the user's read cursor in it
# (NULL: not a member), whether the login is alive.
_GROUP_ID = bindparam("group_id", type_=GROUPS.c.id.type)
_REPLAY_CURSOR = Prepared(
    select(
        GROUPS.c.last_seq,
        select(MEMBERSHIPS.c.last_read_seq)
        .where(MEMBERSHIPS.c.group_id == _GROUP_ID, MEMBERSHIPS.c.user_id == bindparam("user_id"))
        .scalar_subquery(),
        login_alive(),
        GROUPS.c.archived_at,
        GROUPS.c.is_private,
    ).where(GROUPS.c.id == _GROUP_ID)
)


async def replay_cursor(
    session: AsyncSession, group_id: uuid.UUID, viewer: Viewer, session_max_age: int
) -> int:
    """Before a page is sent anything it missed: the group's last seq, if the viewer is still a
    member and still logged in, and the group not archived (one query). Raises NoSuchGroup,
    NotAMemberOf, LoginEnded or GroupArchived."""
    found = await session.run_sync(
        lambda s: admission_now(s.connection(), group_id, viewer, session_max_age)
    )
    return found[0]


def admission_now(
    conn: Connection, group_id: uuid.UUID, viewer: Viewer, session_max_age: int
) -> tuple[int, int]:
    """replay_cursor on a plain connection (Database.read: one round trip), and the member's
    read cursor in the group (what their page need not mark again), in the same statement."""
    params = {
        "group_id": group_id,
        "user_id": viewer.id,
        **session_params(viewer.session_key, session_max_age),
    }
    found = _REPLAY_CURSOR.first(conn, params)
    if found is None:
        raise NoSuchGroup
    last_seq, read_seq, logged_in, archived_at, is_private = found
    if not logged_in:
        raise LoginEnded
    if read_seq is None:  # not a member
        raise NoSuchGroup if is_private else NotAMemberOf(Group(id=group_id, name="", name_key=""))
    if archived_at is not None:
        raise GroupArchived
    return int(last_seq), int(read_seq)


# Changing a message (timeline/changes.py asks, inside the change's transaction, with the
# target as it is then). Every entry point (forms, htmx, the socket) goes through these.


class NotAllowed(Outcome):
    """The viewer may not make this change to this message (`problem` says why, in words)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _a_member_who_can_see_it(target: Target) -> None:
    if not target.logged_in:
        raise SessionEnded
    if not target.actor_is_member:
        raise NotAMember
    if target.deleted:
        raise NoSuchMessage


def edit_refusal(viewer: Viewer, author_id: int) -> str | None:
    """Why the viewer (a member) may not edit a message by `author_id`, or None: only its
    author edits a message."""
    return None if author_id == viewer.id else "Only its author can edit a message."


def delete_refusal(viewer: Viewer, author_id: int, is_staff: bool | None = None) -> str | None:
    """Why the viewer (a member) may not delete a message by `author_id`, or None: its author
    deletes it, and staff delete anyone's. `is_staff`: as the database says now (a socket's
    viewer was read when it connected), else the viewer's."""
    if author_id == viewer.id or (viewer.user.is_staff if is_staff is None else is_staff):
        return None
    return "Only its author or staff can delete a message."


def may_edit(viewer: Viewer) -> Decide:
    def decide(target: Target) -> None:
        _a_member_who_can_see_it(target)
        if (problem := edit_refusal(viewer, target.author_id)) is not None:
            raise NotAllowed(problem)

    return decide


def may_delete(viewer: Viewer) -> Decide:
    def decide(target: Target) -> None:
        _a_member_who_can_see_it(target)
        if (problem := delete_refusal(viewer, target.author_id, target.actor_is_staff)) is not None:
            raise NotAllowed(problem)

    return decide


def may_react(viewer: Viewer) -> Decide:
    """Any member reacts to a message that is not deleted."""
    return _a_member_who_can_see_it
