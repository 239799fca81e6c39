"""The group directory (home page), creating groups, joining and leaving."""

from __future__ import annotations

import re
import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit import limits
from discussit.accounts import auth
from discussit.accounts.pages import page
from discussit.core.db import Database
from discussit.core.security import text
from discussit.core.security.text import clean_seq
from discussit.core.templating import dom_id, templates
from discussit.core.urls import url_path
from discussit.core.web import form_text, is_htmx, read_form, text_param, within_budget
from discussit.groups import access, directory, live, membership, notifications, reading
from discussit.groups import joining as joining_
from discussit.settings import Settings


async def index(request: Request) -> Response:
    viewer = await auth.require_viewer(request)
    db: Database = request.state.db
    after = text_param(request, "after", text.PAGE_KEY)
    async with db.session() as session:
        found = await directory.directory_page(session, viewer.id, after)
    return await page(request, "groups/index.html", directory=found)


async def _change_membership(request: Request, joining: bool) -> Response:
    """Join or leave (idempotent): within the user's budget, persist, then publish, then answer
    the row or a redirect."""
    viewer = await auth.require_viewer(request)
    group_id = access.group_id_from_path(request)
    next_url = auth.safe_next(form_text(await read_form(request), "next"))
    async with request.state.db.session() as session:  # (a private group: 404 to others)
        await access.require_visible(request, session, group_id)
    await _spend_membership_budget(request, viewer)
    member = membership.member_of(viewer)
    await joining_.change_membership(  # NoSuchGroup (and nobody joins a private one by themselves)
        request.state.db,
        request.state.broker,
        request.state.presence,
        group_id,
        member,
        joining,
        check=joining_.by_themselves if joining else None,
    )
    if not joining and next_url.startswith(url_path("chat:show", group_id=group_id).rstrip("/")):
        next_url = url_path("groups:index")  # the group's page is closed to non-members
    if not is_htmx(request):
        return RedirectResponse(next_url, status_code=303)
    return await _row(request, viewer, group_id)


async def _spend_membership_budget(request: Request, viewer: auth.Viewer) -> None:
    """Each join or leave re-renders rows and lines on many pages: budgeted per user and per
    address (429 with Retry-After past it)."""
    settings: Settings = request.state.settings
    per_user = settings.membership_changes_per_user
    await within_budget(
        request, "membership", viewer.id, per_user, "You are joining and leaving too fast."
    )


async def _row(request: Request, viewer: auth.Viewer, group_id: uuid.UUID) -> Response:
    db: Database = request.state.db
    async with db.session() as session:
        row = await directory.directory_row(session, viewer.id, group_id)
    if row is None:  # a private group just left: it leaves the list
        return Response("", media_type="text/html")
    return await page(request, "groups/_group.html", group=row, focus=True)


async def join(request: Request) -> Response:
    return await _change_membership(request, joining=True)


async def leave(request: Request) -> Response:
    return await _change_membership(request, joining=False)


async def mark_read(request: Request) -> Response:
    """ "Mark as read": the member's cursor of the group moves to its last entry (or to `seq`,
    for a client that read up to there). Back to the page it was asked from; htmx gets
    the cleared count (the viewer's other pages hear of it)."""
    group_id = access.group_id_from_path(request)
    db: Database = request.state.db
    async with db.session() as session:
        viewer = await access.require_member(request, session, group_id)
    form = await read_form(request)
    next_url = auth.safe_next(form_text(form, "next"))
    seq = None
    if form_text(form, "seq"):  # up to where a client read, not the end
        seq = clean_seq(form_text(form, "seq"))
        if seq is None:
            raise HTTPException(400, "That read position is not a message number.")
    try:
        await reading.mark_read(db, request.state.broker, group_id, viewer.id, seq)
    except reading.BeyondLast:
        raise HTTPException(400, "That read position is past the group's last message.") from None
    except reading.BehindCursor:
        raise HTTPException(409, "Already marked as read further than that.") from None
    if not is_htmx(request):
        return RedirectResponse(next_url, status_code=303)
    return templates.TemplateResponse(
        request,
        "groups/_unread.html",
        {"group_id": group_id, "unread": 0, "mentions": 0, "oob": True},
    )


async def notification_level(request: Request) -> Response:
    """Which of the group's new messages notify the member (all, mentions, nothing). Back to the
    group's page without JavaScript; htmx gets the form again, saying it is saved."""
    group_id = access.group_id_from_path(request)
    db: Database = request.state.db
    async with db.session() as session:
        viewer = await access.require_member(request, session, group_id)
    form = await read_form(request)
    try:
        level = notifications.clean_level(form_text(form, "level"))
    except notifications.UnknownLevel as problem:
        raise HTTPException(400, str(problem)) from None
    if not await notifications.choose_level(db, request.state.broker, group_id, viewer.id, level):
        raise HTTPException(403, "Join this group to choose its notifications.")
    if not is_htmx(request):
        return RedirectResponse(url_path("chat:show", group_id=group_id), status_code=303)
    return await page(
        request,
        "groups/_notify.html",
        group_id=group_id,
        notify=level,
        levels=notifications.LEVELS,
        saved=True,
    )


async def suggest_members(request: Request) -> Response:
    """The members whose names start with what is typed after "@" in the message box: options
    of the composer's listbox (htmx swaps them in; static/js/discussit.js drives the keys)."""
    group_id = access.group_id_from_path(request)
    db: Database = request.state.db
    prefix = request.query_params.get("q", "")
    async with db.session() as session:
        await access.require_member(request, session, group_id)
        # (No username is longer, or has other characters: nobody to suggest.)
        found = (
            await membership.members_starting(session, group_id, prefix)
            if len(prefix) <= limits.USERNAME_MAX and re.fullmatch(r"[A-Za-z0-9._-]*", prefix)
            else []
        )
    return templates.TemplateResponse(
        request,
        "members/_suggestions.html",
        {"members": found},
        headers={"Cache-Control": "no-store"},
    )


async def new(request: Request) -> Response:
    await access.require_staff(request, "create groups")
    return await page(request, "groups/new.html", name="", description="", error=None)


async def create(request: Request) -> Response:
    await access.require_staff(request, "create groups")
    form = await read_form(request)
    name, description = form_text(form, "name"), form_text(form, "description")
    db: Database = request.state.db
    async with db.session() as session:
        try:
            group = await directory.create(session, name, description)
        except directory.InvalidGroup as problem:
            return await page(
                request,
                "groups/new.html",
                status_code=400,
                name=name,
                description=description,
                error=str(problem),
            )
    await live.publish_group_created(request.state.broker, group.id)
    return RedirectResponse(
        url_path("groups:index") + "#" + dom_id("group", group.id), status_code=303
    )


routes = [
    Route("/", index, name="groups:index"),
    Route("/groups/new", new, name="groups:new"),
    Route("/groups", create, methods=["POST"], name="groups:create"),
    Route("/groups/{group_id}/membership", join, methods=["POST"], name="groups:join"),
    Route("/groups/{group_id}/membership/delete", leave, methods=["POST"], name="groups:leave"),
    Route("/groups/{group_id}/read", mark_read, methods=["POST"], name="groups:read"),
    Route("/groups/{group_id}/members/suggest", suggest_members, name="groups:suggest"),
    Route(
        "/groups/{group_id}/notifications",
        notification_level,
        methods=["POST"],
        name="groups:notifications",
    ),
]
