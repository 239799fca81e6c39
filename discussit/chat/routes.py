"""A group's page, its older history, and posting over plain HTTP (the composer without
JavaScript)."""

from __future__ import annotations

import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit import limits
from discussit.accounts import auth
from discussit.accounts.pages import error_page, page
from discussit.chat.posting import Posted, Posting, Reason
from discussit.core.db import Database
from discussit.core.realtime.presence import Presence
from discussit.core.templating import templates
from discussit.core.urls import url_path
from discussit.core.web import form_text, int_param, read_form
from discussit.groups import access, directory, membership
from discussit.timeline import history


async def render_group_page(
    request: Request,
    group_id: uuid.UUID,
    *,
    before: int | None = None,
    composer_text: str = "",
    composer_error: str | None = None,
    status_code: int = 200,
) -> Response:
    """A group's page for a member: one page of history, members, the composer. Six queries
    (viewer, membership, group, history, members), whatever the sizes."""
    db: Database = request.state.db
    presence: Presence = request.state.presence
    async with db.session() as session:
        await access.require_member(request, session, group_id)
        group = await directory.get(session, group_id)
        if group is None:
            raise access.NoSuchGroup
        cursor = group.last_seq  # read before the entries, which it bounds (see history.last_seq)
        entries, has_more = await history.page_before(
            session,
            group_id,
            min(before, cursor + 1) if before else cursor + 1,
            limits.HISTORY_PAGE,
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
    )


async def show(request: Request) -> Response:
    return await render_group_page(
        request, access.group_id_from_path(request), before=int_param(request, "before")
    )


async def history_page(request: Request) -> Response:
    """Older entries, for the Load older control (htmx): that page plus the next control."""
    group_id = access.group_id_from_path(request)
    before = int_param(request, "before")
    if before is None:
        raise HTTPException(400, "before is required")
    db: Database = request.state.db
    async with db.session() as session:
        await access.require_member(request, session, group_id)
        entries, has_more = await history.page_before(
            session, group_id, before, limits.HISTORY_PAGE
        )
    return templates.TemplateResponse(
        request,
        "timeline/_older.html",
        {"group_id": group_id, "entries": entries, "has_more": has_more},
    )


async def create(request: Request) -> Response:
    """Post from the plain form; on success back to the group's page (the message is there)."""
    group_id = access.group_id_from_path(request)
    db: Database = request.state.db
    async with db.session() as session:
        viewer = await access.require_member(request, session, group_id)
    form = await read_form(request)
    raw = form_text(form, "text")
    posting: Posting = request.state.posting
    outcome = await posting.post(viewer, group_id, raw, form_text(form, "client_message_id"))
    if isinstance(outcome, Posted):  # a resubmitted form (again) lands on the same page
        return RedirectResponse(
            url_path("chat:show", group_id=group_id) + "#composer", status_code=303
        )
    if outcome.reason is Reason.NOT_A_MEMBER:
        return await error_page(request, 403, outcome.problem)
    if outcome.reason is Reason.LOGGED_OUT:
        raise auth.LoginRequired
    status = {Reason.INVALID: 400, Reason.TOO_FAST: 429, Reason.NOT_SAVED: 503}[outcome.reason]
    response = await render_group_page(
        request,
        group_id,
        status_code=status,
        composer_text=raw,
        composer_error=outcome.problem,
    )
    if outcome.retry_after:
        response.headers["Retry-After"] = str(outcome.retry_after)
    return response


routes = [
    Route("/groups/{group_id}/", show, name="chat:show"),
    Route("/groups/{group_id}/history", history_page, name="chat:history"),
    Route("/groups/{group_id}/messages", create, methods=["POST"], name="chat:post"),
]
