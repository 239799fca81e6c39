"""Posting a message over plain HTTP: the composer's fallback when JavaScript is off."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit import access, live, timeline
from discussit.db import Database
from discussit.ratelimit import Limit, MemoryLimiter
from discussit.routes._pages import group_id_from_path, page
from discussit.routes.groups import render_group_page


async def create(request: Request) -> Response:
    group_id = group_id_from_path(request)
    db: Database = request.state.db
    async with db.session() as session:
        viewer = await access.require_member(request, session, group_id)
    form = await request.form()
    raw = form.get("text", "")
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
    limiter: MemoryLimiter = request.state.limiter
    decision = await limiter.hit(f"messages:user:{viewer.id}",
                                 Limit.parse(request.state.settings.messages_per_user))
    if not decision.allowed:
        response = await render_group_page(
            request, group_id, composer_text=raw, status_code=429,
            composer_error=f"You are sending messages too fast. Wait {decision.retry_after} "
            "seconds, then send again.")
        response.headers["Retry-After"] = str(decision.retry_after)
        return response
    client_message_id = timeline.clean_client_message_id(form.get("client_message_id"))
    try:  # checked again inside the insert's transaction: a leave may have just happened
        entry = await timeline.post_message(db, group_id, viewer.user, text, client_message_id)
    except timeline.NotAMember:
        return await page(
            request,
            "errors/error.html",
            status_code=403,
            status=403,
            reason="Join this group before posting in it.",
        )
    if entry is not None:  # None: a resubmitted form, already stored and broadcast
        await live.publish_entry(request.state.broker, entry)
    return RedirectResponse(f"/groups/{group_id}/#composer", status_code=303)


routes = [Route("/groups/{group_id}/messages", create, methods=["POST"], name="post_message")]
