"""The home page's live stream (htmx hx-sse): member counts, new groups, this user's own
join/leave buttons, and their unread counts (groups/livecounts.py: counted from each of their
groups' channels, with no query per message).

Every (re)connect first sends the viewer's page of the directory, read from the database, so
whatever happened while the stream was away is caught up; then it goes live. Unnamed events
carry HTML with hx-swap-oob; the named event `close` ends the stream (after logout).

A member count is the same event for every home page, and every join or leave sends one to
every open home page: while a stream waits for its next item, the publisher writes that event
to it straight away (`_Outlet`), as group pages get their messages (chat/updates.py), with no
task switch per page. Anything else, or a client that is not reading, goes through the stream.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from discussit.accounts import auth
from discussit.accounts.pages import error_page
from discussit.core.db import Database
from discussit.core.realtime import wire
from discussit.core.realtime.broker import LOBBY, Broker, user_channel
from discussit.core.realtime.items import (
    CountChanged,
    GroupChanged,
    GroupCreated,
    LevelChanged,
    LoggedOut,
    MembershipChanged,
    ReadMoved,
    Resync,
)
from discussit.core.security import origins, text
from discussit.core.security.csrf import csrf_token
from discussit.core.templating import render
from discussit.core.web import text_param
from discussit.groups import directory
from discussit.groups.live import unread_html
from discussit.groups.livecounts import LiveCounts, Recount, UnreadChanged

log = logging.getLogger("discussit.stream")

SEND_TIMEOUT = 10  # seconds, against dead peers


class _Ended(Exception):
    """This login ended: the stream says so and closes."""


@lru_cache(maxsize=16)
def _event(html: str) -> bytes:
    """One event's bytes, encoded once per process for every stream (as sse-starlette encodes
    what the stream yields)."""
    return ServerSentEvent(data=html).encode()


@lru_cache(maxsize=8)
def _chunk(html: str) -> bytes:
    """One event as a chunk of the streaming response: made once for every stream."""
    return wire.http_chunk(_event(html))


class _Outlet:
    """Writes a member count straight to the server, without waiting (wire.send_now), while
    the stream is between events. Else False: the item is queued for the stream."""

    __slots__ = ("_send", "_writable", "_cycle", "waiting")

    def __init__(self, send: Any) -> None:
        self._send = send
        self._writable = wire.writable(send)
        self._cycle = wire.chunk_socket(send)
        self.waiting = False  # the stream sent everything and waits for its next item

    def usable(self) -> bool:
        return self._writable is not None  # the server says when a send would wait

    def deliver_now(self, item: object) -> bool:
        if not self.waiting or type(item) is not CountChanged:
            return False
        if self._writable is None or not self._writable.is_set():
            return False
        cycle = self._cycle
        if cycle is not None and wire.write_chunk(cycle, _chunk(item.html)):
            return True  # the same bytes for every stream, past the server's send
        body = _event(item.html)
        return wire.send_now(
            self._send, {"type": "http.response.body", "body": body, "more_body": True}
        )


async def home_stream(request: Request) -> Response:
    if origins.cross_site(request, request.state.settings):
        return await error_page(request, 403, "Live updates are only for this site's own pages.")
    viewer = await auth.current_viewer(request)
    if viewer is None:
        return await error_page(request, 401, "Log in to receive live updates.")
    if request.method == "HEAD":  # the same answer as GET, without opening a stream
        return Response(media_type="text/event-stream", headers={"Cache-Control": "no-store"})
    broker: Broker = request.state.broker
    db: Database = request.state.db
    token = csrf_token(request)
    after = text_param(request, "after", text.PAGE_KEY)  # the page's directory page
    sub = broker.subscribe(LOBBY, user_channel(viewer.id))
    outlet = _Outlet(wire.server_send(request.scope, None))  # type: ignore[arg-type]
    if outlet.usable():
        sub.direct = outlet.deliver_now

    counts = LiveCounts(
        broker,
        viewer.id,
        changed=lambda group_id: sub.put(UnreadChanged(group_id)),  # type: ignore[arg-type]
        recount=lambda group_id: sub.put(Recount(group_id)),  # type: ignore[arg-type]
    )
    shown: dict[uuid.UUID, tuple[int, int]] = {}  # the counts each row of the page shows now

    def with_counts(row: directory.GroupRow) -> directory.GroupRow:
        if not row.is_member:
            return row
        row = replace(
            row,
            unread=counts.count(row.id),
            mentions=counts.mentions(row.id),
            notify=counts.notify(row.id),
        )
        shown[row.id] = (row.unread, row.mentions)
        return row

    async def whole_page(item: object = None) -> str:
        """The page of the directory, read again: at the start, and after lost items (every
        count read again too) or a new group (only groups not counted yet are)."""
        async with db.session() as session:
            found = await directory.directory_page(session, viewer.id, after, with_unread=False)
        mine = [row.id for row in found.rows if row.is_member]
        for group_id in set(counts.counts) - set(mine):
            counts.drop(group_id)
        if type(item) is GroupCreated:
            mine = [group_id for group_id in mine if group_id not in counts.counts]
        await counts.count_now(db, mine)
        shown.clear()
        found = replace(found, rows=[with_counts(row) for row in found.rows])
        return render("groups/_list.html", directory=found, csrf_token=token, oob=True)

    async def one_row(item: MembershipChanged) -> str:
        group_id = uuid.UUID(item.group_id)
        if item.is_member:
            await counts.count_now(db, [group_id])
        else:
            counts.drop(group_id)
        async with db.session() as session:
            row = await directory.directory_row(session, viewer.id, group_id, with_unread=False)
        if row is None or row.is_private:  # (a private group's row is on no page but members')
            return await whole_page(item)
        return render("groups/_group.html", group=with_counts(row), csrf_token=token, oob=True)

    def unread_now(group_id: uuid.UUID) -> str:
        now = (counts.count(group_id), counts.mentions(group_id))
        if group_id not in shown or shown[group_id] == now:
            return ""  # not on this page, or already shown (changes come in bursts)
        shown[group_id] = now
        return unread_html(group_id, *now)

    async def unread_changed(item: UnreadChanged) -> str:
        return unread_now(item.group_id)

    async def recount(item: Recount) -> str:
        if item.group_id in counts.counts:
            await counts.count_now(db, [item.group_id])
        return unread_now(item.group_id)

    async def read_moved(item: ReadMoved) -> str:
        counts.read(uuid.UUID(item.group_id), item.seq)  # (a change or a recount comes next)
        return ""

    async def count(item: CountChanged) -> str:
        return item.html

    async def level_changed(item: LevelChanged) -> str:
        counts.level_chosen(uuid.UUID(item.group_id), item.level)  # (for rows sent again)
        return item.html

    async def logged_out(item: LoggedOut) -> str:
        if item.session_key != viewer.session_key:
            return ""
        raise _Ended

    handlers: dict[type, Callable[[object], Awaitable[str]]] = {
        CountChanged: count,  # type: ignore[dict-item]
        LevelChanged: level_changed,  # type: ignore[dict-item]
        MembershipChanged: one_row,  # type: ignore[dict-item]
        GroupCreated: whole_page,
        GroupChanged: whole_page,
        Resync: whole_page,
        LoggedOut: logged_out,  # type: ignore[dict-item]
        ReadMoved: read_moved,  # type: ignore[dict-item]
        UnreadChanged: unread_changed,  # type: ignore[dict-item]
        Recount: recount,  # type: ignore[dict-item]
    }

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            yield ServerSentEvent(data=await whole_page())  # subscribed first, then read
            while True:
                outlet.waiting = True
                try:
                    item = await sub.get()
                finally:
                    outlet.waiting = False
                handler = handlers.get(type(item))
                if handler is None:
                    continue
                try:
                    html = await handler(item)
                except _Ended:
                    yield ServerSentEvent(data=render("live/_logged_out.html"))
                    yield ServerSentEvent(event="close", data="logged out")
                    return
                if html:
                    yield ServerSentEvent(data=html)
        finally:
            counts.close()
            sub.close()
            request.scope.pop(wire.SCOPE_KEY, None)  # it and the server's send held each other

    return EventSourceResponse(
        events(),
        ping=request.state.settings.sse_ping_seconds,
        send_timeout=SEND_TIMEOUT,
        headers={"Cache-Control": "no-store"},
    )


PATH = "/updates"
routes = [Route(PATH, home_stream, name="groups:stream")]
