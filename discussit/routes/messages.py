"""Posting a message over plain HTTP: the composer's fallback when JavaScript is off."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit import access, live, timeline
from discussit.db import Database
from discussit.routes._pages import group_id_from_path, page
from discussit.routes.groups import render_group_page


async def create(request: Request) -> Response:
    group_id = group_id_from_path(request)
    db: Database = request.state.db
    async with db.session() as session:
        viewer = await access.require_member(request, session, group_id)
    raw = (await request.form()).get("text", "")
    try:
        text = timeline.clean_message_text(raw, request.state.settings.message_max_length)
    except timeline.InvalidMessage as error:
        return await render_group_page(
            request,
            group_id,
            composer_text=raw if isinstance(raw, str) else "",
            composer_error=str(error),
            status_code=400,
        )
    async with db.session() as session:
        try:  # checked again inside the insert's transaction: a leave may have just happened
            entry = await timeline.post_message(session, group_id, viewer.user, text)
        except timeline.NotAMember:
            return await page(
                request,
                "errors/error.html",
                status_code=403,
                status=403,
                reason="Join this group before posting in it.",
            )
    await live.publish_entry(request.state.broker, entry)
    return RedirectResponse(f"/groups/{group_id}/#composer", status_code=303)


routes = [Route("/groups/{group_id}/messages", create, methods=["POST"], name="post_message")]
