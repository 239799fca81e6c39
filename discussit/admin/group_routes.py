"""The staff area's groups: every group with its member count, and a group's members, each of
whom staff can remove (as if they had left: their open pages of the group close at once, in
every process; the others see them leave). Removals are in the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit.accounts import audit
from discussit.accounts.pages import page
from discussit.admin import group_settings
from discussit.admin.routes import staff_only
from discussit.core.db import Database
from discussit.core.urls import url_path
from discussit.core.web import form_text, int_param, read_form
from discussit.groups import access, directory, joining, membership
from discussit.models import Group, Membership, User, shown_name

_GROUPS = Group.__table__  # type: ignore[attr-defined]
_MEMBERSHIPS = Membership.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]


def _groups(conn: Connection) -> list[tuple[object, str, int, bool, bool]]:
    count = (
        select(func.count())
        .select_from(_MEMBERSHIPS)
        .where(_MEMBERSHIPS.c.group_id == _GROUPS.c.id)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            _GROUPS.c.id, _GROUPS.c.name, count, _GROUPS.c.is_private, _GROUPS.c.archived_at
        ).order_by(_GROUPS.c.name_key)
    )
    return [(r[0], r[1], int(r[2]), bool(r[3]), r[4] is not None) for r in rows]


async def groups_page(request: Request) -> Response:
    await staff_only(request)
    db: Database = request.state.db
    found = await db.read(_groups)
    deleted = request.query_params.get("done") == "deleted"
    return await page(request, "admin/groups.html", groups=found, deleted=deleted)


async def group_page(request: Request) -> Response:
    await staff_only(request)
    return await _group_page(request, access.group_id_from_path(request))


async def _group_page(
    request: Request, group_id: uuid.UUID, problem: str | None = None, status_code: int = 200
) -> Response:
    db: Database = request.state.db
    async with db.session() as session:
        group = await directory.get(session, group_id)
        if group is None:
            raise access.NoSuchGroup
        members = await membership.members(session, group_id)
    # (Names from the database, never from the address.)
    removed, added = await _name_of(db, request, "removed"), await _name_of(db, request, "added")
    return await page(
        request,
        "admin/group.html",
        status_code=status_code,
        group=group,
        members=members,
        removed=removed,
        added=added,
        problem=problem,
        done=DONE.get(request.query_params.get("done", "")),
    )


async def _name_of(db: Database, request: Request, param: str) -> str | None:
    """The name shown for the account whose id the address's `param` carries, if any."""
    user_id = int_param(request, param)
    if user_id is None:
        return None
    return await db.read(
        lambda c: c.execute(select(shown_name()).where(_USERS.c.id == user_id)).scalar()
    )


async def remove_member(request: Request) -> Response:
    viewer = await staff_only(request)
    group_id = access.group_id_from_path(request)
    user_id = int(request.path_params["user_id"])
    db: Database = request.state.db

    def names(conn: Connection) -> tuple[str | None, membership.Member | None]:
        group = conn.execute(select(_GROUPS.c.name).where(_GROUPS.c.id == group_id)).scalar()
        return group, membership.person_of(conn, user_id)

    group_name, member = await db.read(names)
    if group_name is None or member is None:
        raise HTTPException(404, "No such group or account.")
    await joining.change_membership(
        db,
        request.state.broker,
        request.state.presence,
        group_id,
        member,
        joining=False,
        also=lambda conn: audit.record(conn, viewer.id, "member-removed", user_id, group_name),
    )
    back = url_path("admin:group", group_id=group_id) + f"?removed={user_id}"
    return RedirectResponse(back, status_code=303)


DONE = {  # what the group's page says after each change (never anything the address carried)
    "edited": "Saved: the group's open pages show it now.",
    "archived": "Archived: its history can be read, nobody can write in it or join it.",
    "reopened": "Reopened: its members can write in it again.",
    "private": "Private: only its members see it; members and staff add people.",
    "public": "Public: everyone sees it and can join it.",
}


async def _settings_change(request: Request, change: Any) -> Response:
    viewer = await staff_only(request)
    group_id = access.group_id_from_path(request)
    form = await read_form(request)
    db: Database = request.state.db
    try:
        done = await change(db, request.state.broker, viewer, group_id, form)
    except group_settings.Refused as refusal:
        return await _group_page(request, group_id, problem=refusal.problem, status_code=400)
    return RedirectResponse(
        url_path("admin:group", group_id=group_id) + f"?done={done}", status_code=303
    )


async def edit_group(request: Request) -> Response:
    async def change(db: Database, broker: Any, viewer: Any, group_id: Any, form: Any) -> str:
        await group_settings.edit(
            db, broker, viewer, group_id, form_text(form, "name"), form_text(form, "description")
        )
        return "edited"

    return await _settings_change(request, change)


def _switch(field: str, set_state: Any, done: tuple[str, str]) -> Any:
    """A group's on/off state (`field` "1" turns it on): the endpoint, and what it says
    (done[off], done[on])."""

    async def endpoint(request: Request) -> Response:
        async def change(db: Database, broker: Any, viewer: Any, group_id: Any, form: Any) -> str:
            on = form_text(form, field) == "1"
            await set_state(db, broker, viewer, group_id, on)
            return done[on]

        return await _settings_change(request, change)

    return endpoint


archive_group = _switch("archived", group_settings.set_archived, ("reopened", "archived"))
private_group = _switch("private", group_settings.set_private, ("public", "private"))


async def delete_group(request: Request) -> Response:
    viewer = await staff_only(request)
    group_id = access.group_id_from_path(request)
    form = await read_form(request)
    db: Database = request.state.db
    try:
        await group_settings.delete_group(
            db, request.state.broker, viewer, group_id, form_text(form, "confirm")
        )
    except group_settings.Refused as refusal:
        return await _group_page(request, group_id, problem=refusal.problem, status_code=400)
    return RedirectResponse(url_path("admin:groups") + "?done=deleted", status_code=303)


routes = [
    Route("/admin/groups", groups_page, name="admin:groups"),
    Route("/admin/groups/{group_id}", group_page, name="admin:group"),
    Route(
        "/admin/groups/{group_id}/members/{user_id:int}/remove",
        remove_member,
        methods=["POST"],
        name="admin:remove_member",
    ),
    Route("/admin/groups/{group_id}/edit", edit_group, methods=["POST"], name="admin:edit_group"),
    Route(
        "/admin/groups/{group_id}/archive",
        archive_group,
        methods=["POST"],
        name="admin:archive_group",
    ),
    Route(
        "/admin/groups/{group_id}/private",
        private_group,
        methods=["POST"],
        name="admin:private_group",
    ),
    Route(
        "/admin/groups/{group_id}/delete", delete_group, methods=["POST"], name="admin:delete_group"
    ),
]
