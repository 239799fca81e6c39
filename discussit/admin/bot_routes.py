"""The staff area's bots: every bot, making one (its token shown once), and a bot's page: a new
token (shown once; the old one stops at once) or none, its webhook and signing secret, how its
last delivery went, and its groups (added like any member; removed from the group's page)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit.accounts import audit
from discussit.accounts.pages import page
from discussit.admin.routes import staff_only
from discussit.bots import registry
from discussit.core.db import Database
from discussit.core.urls import url_path
from discussit.core.web import form_text, read_form
from discussit.groups import access, joining, membership
from discussit.models import Group

_GROUPS = Group.__table__  # type: ignore[attr-defined]
DONE = {
    "webhook": "The webhook is saved.",
    "secret": "A new signing secret is made: deliveries are signed with it from now on.",
    "revoked": (
        "The token is revoked: the bot can no longer use the API. (A webhook it has still "
        "answers mentions: clear it to stop that too.)"
    ),
    "added": "The bot is a member of the group now.",
}


async def bots_page(request: Request) -> Response:
    await staff_only(request)
    return await _list(request)


async def _list(request: Request, problem: str | None = None, status_code: int = 200) -> Response:
    db: Database = request.state.db
    found = await db.read(registry.all_bots)
    return await page(
        request, "admin/bots.html", status_code=status_code, bots=found, problem=problem
    )


async def create_bot(request: Request) -> Response:
    viewer = await staff_only(request)
    form = await read_form(request)
    try:
        bot_id, token = await registry.create(
            request.state.db, viewer, form_text(form, "username"), form_text(form, "name")
        )
    except registry.Refused as refusal:
        return await _list(request, refusal.problem, status_code=400)
    return await _bot_page(request, bot_id, token=token, status_code=201)


def _groups(conn: Connection) -> list[tuple[uuid.UUID, str]]:
    rows = conn.execute(select(_GROUPS.c.id, _GROUPS.c.name).order_by(_GROUPS.c.name_key))
    return [(gid, name) for gid, name in rows]


async def _bot_page(
    request: Request,
    bot_id: int,
    token: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    db: Database = request.state.db
    found, groups = await db.read(lambda conn: (registry.bot(conn, bot_id), _groups(conn)))
    if found is None:
        raise HTTPException(404, "There is no such bot.")
    mine = {gid for gid, _ in found.groups}
    return await page(
        request,
        "admin/bot.html",
        status_code=status_code,
        bot=found,
        token=token,
        problem=problem,
        done=DONE.get(request.query_params.get("done", "")),
        other_groups=[(gid, name) for gid, name in groups if str(gid) not in mine],
    )


async def bot_page(request: Request) -> Response:
    await staff_only(request)
    return await _bot_page(request, request.path_params["bot_id"])


async def _change(request: Request, done: str, change: Any) -> Response:
    viewer = await staff_only(request)
    bot_id: int = request.path_params["bot_id"]
    form = await read_form(request)
    try:
        await change(request.state.db, viewer, bot_id, form)
    except registry.Refused as refusal:
        return await _bot_page(request, bot_id, problem=refusal.problem, status_code=400)
    return RedirectResponse(url_path("admin:bot", bot_id=bot_id) + f"?done={done}", status_code=303)


async def new_token(request: Request) -> Response:
    viewer = await staff_only(request)
    bot_id: int = request.path_params["bot_id"]
    try:
        token = await registry.new_token(request.state.db, viewer, bot_id)
    except registry.Refused as refusal:
        raise HTTPException(404, refusal.problem) from None
    return await _bot_page(request, bot_id, token=token)


async def revoke_token(request: Request) -> Response:
    return await _change(
        request, "revoked", lambda db, viewer, bot_id, _: registry.revoke_token(db, viewer, bot_id)
    )


async def set_webhook(request: Request) -> Response:
    return await _change(
        request,
        "webhook",
        lambda db, viewer, bot_id, form: registry.set_webhook(
            db, viewer, bot_id, form_text(form, "url")
        ),
    )


async def new_secret(request: Request) -> Response:
    return await _change(
        request, "secret", lambda db, viewer, bot_id, _: registry.new_secret(db, viewer, bot_id)
    )


async def add_to_group(request: Request) -> Response:
    viewer = await staff_only(request)
    bot_id: int = request.path_params["bot_id"]
    form = await read_form(request)
    group_id = access.parse_group_id(form_text(form, "group_id"))
    db: Database = request.state.db
    found = await db.read(lambda conn: registry.bot(conn, bot_id))
    if found is None:
        raise HTTPException(404, "There is no such bot.")
    if not found.is_active:
        raise HTTPException(400, "This bot is deactivated: reactivate it (People) first.")
    member = membership.Member(found.id, found.username, found.name, found.avatar_version)

    def audited(conn: Connection) -> None:
        group = conn.execute(select(_GROUPS.c.name).where(_GROUPS.c.id == group_id)).scalar()
        audit.record(conn, viewer.id, "member-added", found.id, str(group))

    await joining.change_membership(
        db, request.state.broker, request.state.presence, group_id, member, True, also=audited
    )
    return RedirectResponse(url_path("admin:bot", bot_id=bot_id) + "?done=added", status_code=303)


def _post(path: str, endpoint: Any, name: str) -> Route:
    return Route(f"/admin/bots/{{bot_id:int}}/{path}", endpoint, methods=["POST"], name=name)


routes = [
    Route("/admin/bots", bots_page, name="admin:bots"),
    Route("/admin/bots", create_bot, methods=["POST"], name="admin:create_bot"),
    Route("/admin/bots/{bot_id:int}", bot_page, name="admin:bot"),
    _post("token", new_token, "admin:bot_token"),
    _post("token/revoke", revoke_token, "admin:bot_revoke"),
    _post("webhook", set_webhook, "admin:bot_webhook"),
    _post("secret", new_secret, "admin:bot_secret"),
    _post("groups", add_to_group, "admin:bot_add_group"),
]
