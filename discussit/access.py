"""Who may see a group: the one check every entry point uses (pages, htmx, WebSocket, posting).

`require_member` answers with the logged-in viewer, or raises: LoginRequired (not logged in),
NoSuchGroup, or NotAMember (carrying the group, so a page can offer to join it). HTTP routes let
the app's handlers turn these into a login redirect, a 404 page or a 403 page with a Join button;
the WebSocket turns them into a policy close before sending anything.
"""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from discussit import groups
from discussit.auth import Viewer, require_viewer
from discussit.models import Group
from discussit.timeline import NoSuchGroup, is_member


class NotAMemberOf(Exception):
    """The viewer is logged in but not a member of `group`."""

    def __init__(self, group: Group) -> None:
        super().__init__(str(group.id))
        self.group = group


def parse_group_id(raw: str) -> uuid.UUID:
    try:
        if len(raw) > 36:
            raise ValueError
        return uuid.UUID(raw)
    except ValueError:
        raise NoSuchGroup from None


async def require_member(
    conn: HTTPConnection, session: AsyncSession, group_id: uuid.UUID
) -> Viewer:
    viewer = await require_viewer(conn)
    if await is_member(session, group_id, viewer.id):
        return viewer
    group = await groups.get(session, group_id)
    if group is None:
        raise NoSuchGroup
    raise NotAMemberOf(group)
