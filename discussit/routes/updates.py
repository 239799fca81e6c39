"""The home page's live stream (htmx hx-sse): member counts, and this user's own join/leave buttons.

Every (re)connect first sends the viewer's whole directory, read from the database, so whatever
happened while the stream was away is caught up; then it goes live. Unnamed events carry HTML
with hx-swap-oob; the named event `close` ends the stream (after logout).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from discussit import auth, groups, origins
from discussit.broker import LOBBY, Broker, user_channel
from discussit.db import Database
from discussit.routes._pages import page
from discussit.templating import render

log = logging.getLogger("discussit.updates")


async def updates(request: Request) -> Response:
    if origins.cross_site(request, request.state.settings):
        return await page(
            request,
            "errors/error.html",
            status_code=403,
            status=403,
            reason="Live updates are only for this site's own pages.",
        )
    viewer = await auth.current_viewer(request)
    if viewer is None:
        return await page(
            request,
            "errors/error.html",
            status_code=401,
            status=401,
            reason="Log in to receive live updates.",
        )
    broker: Broker = request.state.broker
    db: Database = request.state.db
    token = auth.csrf_token(request)
    after = groups.clean_after(request.query_params.get("after"))  # the page's directory page
    sub = broker.subscribe(LOBBY, user_channel(viewer.id))

    async def directory_html() -> str:
        async with db.session() as session:
            directory = await groups.directory_page(session, viewer.id, after)
        return render("groups/_list.html", directory=directory, csrf_token=token, oob=True)

    async def group_html(group_id: uuid.UUID) -> str:
        async with db.session() as session:
            row = await groups.directory_row(session, viewer.id, group_id)
        if row is None:
            return ""
        return render("groups/_group.html", group=row, csrf_token=token, oob=True)

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            yield ServerSentEvent(data=await directory_html())  # subscribed first, then read
            while True:
                item = await sub.get()
                kind = item["type"]
                if kind == "count":
                    yield ServerSentEvent(data=item["html"])
                elif kind == "membership":
                    html = await group_html(uuid.UUID(item["group_id"]))
                    if html:
                        yield ServerSentEvent(data=html)
                elif kind in ("resync", "directory"):
                    yield ServerSentEvent(data=await directory_html())
                elif kind == "logout" and item["session_key"] == viewer.session_key:
                    yield ServerSentEvent(data=render("live/_logged_out.html"))
                    yield ServerSentEvent(event="close", data="logged out")
                    return
        finally:
            sub.close()

    return EventSourceResponse(
        events(),
        ping=request.state.settings.sse_ping_seconds,
        send_timeout=10,
        headers={"Cache-Control": "no-store"},
    )


routes = [Route("/updates", updates, name="updates")]
