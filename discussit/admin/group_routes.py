"""The staff area's groups: every group with its member count, and a group's members, each of
whom staff can remove (as if they had left: their open pages of the group close at once, in
every process; the others see them leave). Removals are in the audit log."""

from __future__ import annotations

from sqlalchemy import Connection, func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit.accounts.pages import page
from discussit.admin import audit
from discussit.admin.routes import staff_only
from discussit.core.db import Database
from discussit.core.urls import url_path
from discussit.core.web import int_param
from discussit.groups import access, directory, joining, membership
from discussit.models import Group, Membership, User

_GROUPS = Group.__table__  # type: ignore[attr-defined]
_MEMBERSHIPS = Membership.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]


def _groups(conn: Connection) -> list[tuple[object, str, int]]:
    count = (
        select(func.count())
        .select_from(_MEMBERSHIPS)
        .where(_MEMBERSHIPS.c.group_id == _GROUPS.c.id)
        .scalar_subquery()
    )
    rows = conn.execute(select(_GROUPS.c.id, _GROUPS.c.name, count).order_by(_GROUPS.c.name_key))
    return [(row[0], row[1], int(row[2])) for row in rows]


async def groups_page(request: Request) -> Response:
    await staff_only(request)
    db: Database = request.state.db
    found = await db.read(_groups)
    return await page(request, "admin/groups.html", groups=found)


async def group_page(request: Request) -> Response:
    await staff_only(request)
    group_id = access.group_id_from_path(request)
    db: Database = request.state.db
    async with db.session() as session:
        group = await directory.get(session, group_id)
        if group is None:
            raise access.NoSuchGroup
        members = await membership.members(session, group_id)
    removed = None
    gone = int_param(request, "removed")  # (a name from the database, never from the address)
    if gone is not None:
        removed = await db.read(
            lambda c: c.execute(select(_USERS.c.username).where(_USERS.c.id == gone)).scalar()
        )
    return await page(request, "admin/group.html", group=group, members=members, removed=removed)


async def remove_member(request: Request) -> Response:
    viewer = await staff_only(request)
    group_id = access.group_id_from_path(request)
    user_id = int(request.path_params["user_id"])
    db: Database = request.state.db

    def names(conn: Connection) -> tuple[str | None, str | None]:
        group = conn.execute(select(_GROUPS.c.name).where(_GROUPS.c.id == group_id)).scalar()
        user = conn.execute(select(_USERS.c.username).where(_USERS.c.id == user_id)).scalar()
        return group, user

    group_name, username = await db.read(names)
    if group_name is None or username is None:
        raise HTTPException(404, "No such group or account.")
    await joining.change_membership(
        db,
        request.state.broker,
        request.state.presence,
        group_id,
        membership.Member(user_id, username),
        joining=False,
        also=lambda conn: audit.record(conn, viewer.id, "member-removed", user_id, group_name),
    )
    back = url_path("admin:group", group_id=group_id) + f"?removed={user_id}"
    return RedirectResponse(back, status_code=303)


routes = [
    Route("/admin/groups", groups_page, name="admin:groups"),
    Route("/admin/groups/{group_id}", group_page, name="admin:group"),
    Route(
        "/admin/groups/{group_id}/members/{user_id:int}/remove",
        remove_member,
        methods=["POST"],
        name="admin:remove_member",
    ),
]
