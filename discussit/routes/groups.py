"""The group directory (home page), a group's page, its older history, joining and leaving."""

from __future__ import annotations

import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit import access, auth, groups, live, membership, timeline
from discussit.db import Database
from discussit.presence import Presence
from discussit.routes._pages import group_id_from_path, int_param, is_htmx, page
from discussit.templating import templates


async def index(request: Request) -> Response:
    viewer = await auth.require_viewer(request)
    db: Database = request.state.db
    after = groups.clean_after(request.query_params.get("after"))
    async with db.session() as session:
        directory = await groups.directory_page(session, viewer.id, after)
    return await page(request, "groups/index.html", directory=directory)


async def render_group_page(
    request: Request,
    group_id: uuid.UUID,
    *,
    before: int | None = None,
    composer_text: str = "",
    composer_error: str | None = None,
    status_code: int = 200,
) -> Response:
    """A group's page for a member: one page of history, members, the composer. Seven queries
    (viewer, membership, group, cursor, messages, events, members), whatever the sizes."""
    db: Database = request.state.db
    presence: Presence = request.state.presence
    async with db.session() as session:
        await access.require_member(request, session, group_id)
        group = await groups.get(session, group_id)
        if group is None:
            raise access.NoSuchGroup
        cursor = group.last_seq  # read before the entries, which it bounds (see timeline.last_seq)
        entries, has_more = await timeline.page_before(
            session,
            group_id,
            min(before, cursor + 1) if before else cursor + 1,
            request.state.settings.page_size,
        )
        members = await membership.members(session, group_id)
    return await page(
        request,
        "groups/show.html",
        status_code=status_code,
        group=group,
        entries=entries,
        has_more=has_more,
        is_latest=before is None,
        last_seq=cursor,
        members=members,
        online=await presence.online(group_id),
        composer_text=composer_text,
        composer_error=composer_error,
        max_length=request.state.settings.message_max_length,
    )


async def show(request: Request) -> Response:
    return await render_group_page(
        request, group_id_from_path(request), before=int_param(request, "before")
    )


async def history(request: Request) -> Response:
    """Older entries, for the Load older control (htmx): that page plus the next control."""
    group_id = group_id_from_path(request)
    before = int_param(request, "before")
    if before is None:
        raise HTTPException(400, "before is required")
    db: Database = request.state.db
    async with db.session() as session:
        await access.require_member(request, session, group_id)
        entries, has_more = await timeline.page_before(
            session, group_id, before, request.state.settings.page_size
        )
    return templates.TemplateResponse(
        request,
        "timeline/_older.html",
        {"group_id": group_id, "entries": entries, "has_more": has_more},
    )


async def _after_membership_change(
    request: Request, group_id: uuid.UUID, entry: timeline.Entry, is_member: bool
) -> None:
    db: Database = request.state.db
    presence: Presence = request.state.presence
    async with db.session() as session:
        members = await membership.members(session, group_id)
    online = await presence.online(group_id)
    await live.publish_entry(
        request.state.broker, entry, live.members_html(group_id, members, online)
    )
    await live.publish_membership(
        request.state.broker, group_id, entry.user_id, is_member, len(members)
    )


async def _membership_response(
    request: Request, viewer: auth.Viewer, group_id: uuid.UUID, next_url: str
) -> Response:
    if not is_htmx(request):
        return RedirectResponse(next_url, status_code=303)
    db: Database = request.state.db
    async with db.session() as session:
        row = await groups.directory_row(session, viewer.id, group_id)
    return await page(request, "groups/_group.html", group=row)


async def _change_membership(request: Request, joining: bool) -> Response:
    """Join or leave (idempotent): persist, then publish, then answer the row or a redirect."""
    viewer = await auth.require_viewer(request)
    group_id = group_id_from_path(request)
    next_url = auth.safe_next((await request.form()).get("next"))  # type: ignore[arg-type]
    change = membership.join if joining else membership.leave
    db: Database = request.state.db
    entry = await change(db, group_id, viewer.user)  # raises NoSuchGroup
    if entry is not None:
        await _after_membership_change(request, group_id, entry, is_member=joining)
    if not joining and next_url.startswith(f"/groups/{group_id}"):
        next_url = "/"  # the group's page is closed to non-members
    return await _membership_response(request, viewer, group_id, next_url)


async def join(request: Request) -> Response:
    return await _change_membership(request, joining=True)


async def leave(request: Request) -> Response:
    return await _change_membership(request, joining=False)


async def _require_staff(request: Request) -> auth.Viewer:
    viewer = await auth.require_viewer(request)
    if not viewer.user.is_staff:
        raise HTTPException(403, "Only staff can create groups.")
    return viewer


async def new(request: Request) -> Response:
    await _require_staff(request)
    return await page(request, "groups/new.html", name="", description="", error=None)


async def create(request: Request) -> Response:
    await _require_staff(request)
    form = await request.form()
    name, description = form.get("name", ""), form.get("description", "")
    name = name if isinstance(name, str) else ""
    description = description if isinstance(description, str) else ""
    db: Database = request.state.db
    async with db.session() as session:
        try:
            group = await groups.create(session, name, description)
        except groups.InvalidGroup as problem:
            return await page(
                request,
                "groups/new.html",
                status_code=400,
                name=name,
                description=description,
                error=str(problem),
            )
    await live.publish_group_created(request.state.broker, group.id)
    return RedirectResponse(f"/#group-{group.id}", status_code=303)


routes = [
    Route("/", index, name="home"),
    Route("/groups/new", new, name="new_group"),
    Route("/groups", create, methods=["POST"], name="create_group"),
    Route("/groups/{group_id}/", show, name="group"),
    Route("/groups/{group_id}/history", history, name="history"),
    Route("/groups/{group_id}/membership", join, methods=["POST"], name="join"),
    Route("/groups/{group_id}/membership/delete", leave, methods=["POST"], name="leave"),
]
