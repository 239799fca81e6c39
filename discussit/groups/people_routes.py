"""Adding people to a private group (nobody joins one by themselves): its members, from the
group's page, and staff, from the staff area, pick a person by name. A plain form; with
JavaScript the name box suggests people as one types (a datalist htmx fills)."""

from __future__ import annotations

import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit import limits
from discussit.accounts import auth
from discussit.core.db import Database
from discussit.core.templating import templates
from discussit.core.web import form_text, read_form, within_budget
from discussit.groups import access, directory, joining, membership
from discussit.models import Group


async def _may_add(request: Request, group_id: uuid.UUID) -> tuple[auth.Viewer, Group]:
    """The viewer, if they may add people to this group; else as if it did not exist (404),
    or 403 for a member of a group that is not private."""
    viewer = await auth.require_viewer(request)
    db: Database = request.state.db
    async with db.session() as session:
        group = await directory.get(session, group_id)
        member = await membership.is_member(session, group_id, viewer.id)
    if group is None or not (member or viewer.user.is_staff):
        raise access.not_a_member(group)
    if not access.may_add_people(viewer, group, member):
        raise HTTPException(
            403, "People are added to private groups only; anyone joins a public one by themselves."
        )
    return viewer, group


async def add_person(request: Request) -> Response:
    group_id = access.group_id_from_path(request)
    viewer, group = await _may_add(request, group_id)
    form = await read_form(request)
    next_url = auth.safe_next(form_text(form, "next"))
    username = form_text(form, "username")
    if not username.strip() or len(username) > limits.USERNAME_MAX + 1:
        raise HTTPException(400, "Type the username of the person to add.")
    per_user = request.state.settings.membership_changes_per_user  # (adding counts as joining)
    await within_budget(request, "membership", viewer.id, per_user, "Too many at once.")
    try:
        added = await joining.add_member(
            request.state.db,
            request.state.broker,
            request.state.presence,
            group_id,
            username,
            viewer.id,
        )
    except joining.CannotAdd as problem:
        raise HTTPException(400, str(problem)) from None
    return RedirectResponse(f"{next_url.split('?')[0]}?added={added.user_id}", status_code=303)


async def suggest_people(request: Request) -> Response:
    """Options for the "Add people" box: people not in the group whose names start so."""
    group_id = access.group_id_from_path(request)
    viewer, _ = await _may_add(request, group_id)
    per_user = request.state.settings.searches_per_user  # (each list counts as a search)
    await within_budget(request, "search", viewer.id, per_user, "Too many at once.")
    prefix = request.query_params.get("username", "").strip().lstrip("@")
    db: Database = request.state.db
    found = (
        await db.read(lambda conn: membership.people_starting(conn, group_id, prefix))
        if 0 < len(prefix) <= limits.DISPLAY_NAME_MAX
        else []
    )
    return templates.TemplateResponse(
        request,
        "groups/_people_options.html",
        {"people": found},
        headers={"Cache-Control": "no-store"},
    )


routes = [
    Route("/groups/{group_id}/members/add", add_person, methods=["POST"], name="groups:add_person"),
    Route("/groups/{group_id}/people/suggest", suggest_people, name="groups:suggest_people"),
]
