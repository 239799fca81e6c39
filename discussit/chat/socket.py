"""The group page's WebSocket (htmx hx-ws): live history in, messages out.

Protocol (htmx 4.0.1 hx-ws): the client sends JSON objects of form values plus `headers`.
  {"type": "resume", "after": N}   sent on every (re)connect: replay seq > N, then go live
  {"text": "...", "client_message_id": "..."}   post as the logged-in user (author fields ignored)
The server sends HTML fragments whose elements carry hx-swap-oob, so nothing else is replaced.

Order of work: check origin (refused before accept), accept, subscribe, then check login, the
per-user cap and membership (so a leave cannot slip between check and subscribe). From then on
one writer task reads the subscription: before the page's resume frame it acts only on the
signals that end the socket (its user left, logged out); from the resume frame it replays
what the page missed (after checking membership and login again) and goes live (chat/feed.py).
Leaving, logout and session expiry close the socket whatever state it is in.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnected

from discussit import limits
from discussit.accounts.auth import Viewer, current_viewer
from discussit.chat.feed import Feed, TooFarBehind
from discussit.chat.posting import Posted, Posting, Reason, Refused
from discussit.chat.presence import PresenceUpdates
from discussit.core.db import Database
from discussit.core.realtime import closecodes
from discussit.core.realtime.broker import Broker, Subscription, group_channel, user_channel
from discussit.core.realtime.items import EntryAppended, LoggedOut, PresenceChanged, Resync
from discussit.core.realtime.presence import Presence
from discussit.core.realtime.sender import FrameSender
from discussit.core.security import origins
from discussit.core.security.csrf import csrf_token
from discussit.core.templating import render
from discussit.groups import access, membership
from discussit.groups.live import members_html
from discussit.models import utcnow
from discussit.settings import Settings
from discussit.timeline import history
from discussit.timeline.entries import Entry, Kind

log = logging.getLogger("discussit.socket")

MAX_FRAME = 16 * 1024
MAX_BAD_FRAMES = 5  # frames no page of ours would send, before the socket is closed (1008)
MAX_THROTTLED = 10  # rate-limited messages in a row, before the socket is closed (1013)
MAX_EARLY = 64  # presence changes held for a page that has not sent its resume frame yet


@dataclass(frozen=True, slots=True)
class _Resume:
    """The page's resume frame, handed from the reader to the writer (never crosses the broker)."""

    after: int


class GroupSocket:
    """One open group page: the reader (frames in, a table of frame kinds -> handlers) and the
    writer (the feed's loop, a table of item kinds -> handlers)."""

    # Thousands are open at once: slots instead of a dict per page.
    __slots__ = (
        "ws",
        "viewer",
        "group_id",
        "sub",
        "settings",
        "db",
        "posting",
        "presence",
        "sender",
        "feed",
        "resumed",
        "bad_frames",
        "throttled",
        "scope",
        "helpers",
        "failure",
    )

    def __init__(
        self, ws: WebSocket, viewer: Viewer, group_id: uuid.UUID, sub: Subscription
    ) -> None:
        self.ws = ws
        self.viewer = viewer
        self.group_id = group_id
        self.sub = sub
        self.settings: Settings = ws.state.settings
        self.db: Database = ws.state.db
        self.posting: Posting = ws.state.posting
        self.presence: Presence = ws.state.presence
        self.sender = FrameSender(ws, on_slow=self.stop)
        self.feed = Feed(self.sender.queue, self.sender.flush, self.read_missed)
        self.resumed: asyncio.Future[None] | None = None  # set by the resume frame, done after
        self.bad_frames = 0
        self.throttled = 0
        # The reader runs in the handler's task, inside `scope`; the writer and the expiry
        # notice are helper tasks. Not an anyio task group: that costs every page ~4 KB more.
        self.scope = anyio.CancelScope()
        self.helpers: list[asyncio.Task[None]] = []
        self.failure: BaseException | None = None

    async def run(self) -> None:
        # A timer, not a sleeping task: one task fewer per open page.
        ends_in = max(0.0, (self.viewer.expires_at - utcnow()).total_seconds())
        timer = asyncio.get_running_loop().call_later(ends_in, self.spawn, self.expire)
        self.spawn(self.writer)
        try:
            with self.scope:
                await self.reader()
        finally:
            timer.cancel()
            for task in self.helpers:
                task.cancel()
            if self.helpers:
                await asyncio.wait(self.helpers)
        if self.failure is not None:
            raise self.failure  # a bug in a helper: the socket closes with 1011, as if here

    def spawn(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        task = asyncio.get_running_loop().create_task(work())
        self.helpers.append(task)
        task.add_done_callback(self._helper_done)

    def _helper_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.failure = task.exception()
            self.stop()

    def stop(self) -> None:
        """End this connection: the reader and every other helper stop at their next await."""
        self.scope.cancel()
        current = asyncio.current_task()
        for task in self.helpers:
            if task is not current:
                task.cancel()

    # -- endings -------------------------------------------------------------------------------

    async def notice(self, template: str, **context: Any) -> None:
        await self.sender.send(
            render(template, group_id=self.group_id, csrf_token=csrf_token(self.ws), **context)
        )

    async def end(self, why: str, template: str | None, code: int = closecodes.POLICY) -> None:
        """Tell the page why (a notice), close the socket, and stop: nothing more is sent."""
        log.info("socket closed: %s group=%s user=%s", why, self.group_id, self.viewer.id)
        if template is not None and not self.sender.closed:
            await self.notice(template)
        await self.sender.close(code, why)
        self.stop()

    async def expire(self) -> None:
        """The session ends on the server at its expiry; so does every socket it opened."""
        await self.end("session expired", "live/_logged_out.html")

    async def logged_out(self) -> None:
        await self.end("logged out", "live/_logged_out.html")

    async def left(self) -> None:
        await self.end("not a member", "live/_left.html")

    async def check_still_member(self) -> None:
        async with self.db.session() as session:
            still = await membership.is_member(session, self.group_id, self.viewer.id)
        if not still:
            await self.left()

    # -- the writer: broker items in, frames out -------------------------------------------------

    async def writer(self) -> None:
        try:
            await self.feed.pump(self.sub, self.handle, self.catch_up, lambda: self.sender.closed)
        finally:
            self._resume_done()

    def _resume_done(self) -> None:
        if self.resumed is not None and not self.resumed.done():
            self.resumed.set_result(None)

    async def handle(self, item: Any) -> None:
        handler = self.ITEMS.get(type(item))
        if handler is not None:
            await handler(self, item)

    async def on_resume(self, item: _Resume) -> None:
        try:
            await self.catch_up(item.after)
        finally:
            self._resume_done()

    async def on_entry(self, item: EntryAppended) -> None:
        if not self.feed.started:  # before the resume frame: the catch-up will send entries
            if item.kind == Kind.LEFT and item.user_id == self.viewer.id:
                await self.check_still_member()
            return
        sent = self.feed.take(item)
        if sent is None:
            await self.catch_up()
        elif any(e.kind == Kind.LEFT and e.user_id == self.viewer.id for e in sent):
            await self.check_still_member()

    async def on_presence(self, item: PresenceChanged) -> None:
        if not self.feed.started and len(self.sender.outbox) >= MAX_EARLY:
            return  # a page that never resumes holds only so much (presence is advisory)
        self.sender.queue(item.html)  # before the resume frame: sent after the catch-up

    async def on_resync(self, item: Resync) -> None:
        if self.feed.started:
            await self.catch_up()

    async def on_logout(self, item: LoggedOut) -> None:
        if item.session_key == self.viewer.session_key:
            await self.logged_out()

    ITEMS: dict[type, Callable[[GroupSocket, Any], Awaitable[None]]] = {
        _Resume: on_resume,
        EntryAppended: on_entry,
        PresenceChanged: on_presence,
        Resync: on_resync,
        LoggedOut: on_logout,
    }

    async def read_missed(self, after: int) -> tuple[int, list[Entry]]:
        """For the feed: the group's last seq and the entries after `after`, once membership
        and login are checked again (in the same database session)."""
        async with self.db.session() as session:
            upto = await access.replay_cursor(
                session, self.group_id, self.viewer, self.settings.session_max_age
            )
            if after >= upto:
                return upto, []
            return upto, await history.entries_after(
                session, self.group_id, after, upto, limits.CATCH_UP_MAX + 1
            )

    async def catch_up(self, after: int | None = None) -> None:
        """Send what the page missed (from `after`, or from the feed's cursor), then the member
        list if anyone joined or left meanwhile."""
        try:
            sent = await (self.feed.start(after) if after is not None else self.feed.catch_up())
        except TooFarBehind:
            await self.end("too far behind: reload", "live/_reload.html", closecodes.NORMAL)
            return
        except access.LoginEnded:
            await self.logged_out()
            return
        except (access.NotAMemberOf, access.NoSuchGroup):
            await self.left()
            return
        if any(e.kind != Kind.MESSAGE for e in sent):
            async with self.db.session() as session:
                members = await membership.members(session, self.group_id)
            online = await self.presence.online(self.group_id)
            await self.sender.send(members_html(self.group_id, members, online))
            if all(m.user_id != self.viewer.id for m in members):
                await self.left()

    # -- the reader: frames in -----------------------------------------------------------------

    async def reader(self) -> None:
        while not self.sender.closed:
            try:
                message = await self.ws.receive()
            except WebSocketDisconnected:
                return
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await self.bad_frame("Only text messages are understood here.")
                continue
            if len(text) > MAX_FRAME:
                await self.bad_frame("That message is too long.")
                continue
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):
                data = None
            if not isinstance(data, dict):
                await self.bad_frame("That message could not be read.")
                continue
            handler = self.FRAMES.get(data.get("type", "message"))
            if handler is None:
                await self.bad_frame("That message could not be read.")
                continue
            await handler(self, data)

    async def bad_frame(self, problem: str) -> None:
        """A frame no page of ours sends: say so; after a few, it is not a page: close."""
        self.bad_frames += 1
        if self.bad_frames >= MAX_BAD_FRAMES:
            await self.end(f"{self.bad_frames} bad frames", None)
            return
        await self.error(problem)

    async def resume_frame(self, data: dict[str, Any]) -> None:
        if self.resumed is not None:
            return  # one resume per socket: the first one set the cursor
        after = data.get("after")
        if isinstance(after, str) and after.isdigit() and len(after) < 19:
            after = int(after)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            await self.bad_frame("Could not resume; reload the page.")
            return
        # The writer replays (in order with live items); frames after this one (htmx sends
        # what was typed while disconnected right after it) wait until the page is caught up.
        self.resumed = asyncio.get_running_loop().create_future()
        self.sub.interrupt(_Resume(after))
        await self.resumed

    async def message_frame(self, data: dict[str, Any]) -> None:
        raw = data.get("text")
        outcome = await self.posting.post(
            self.viewer, self.group_id, raw, data.get("client_message_id")
        )
        if isinstance(outcome, Posted):
            self.throttled = 0
            if outcome.again:  # answered, never swallowed: the page learns it is stored
                await self.sender.send(
                    render(
                        "messages/_status.html", oob=True, status="That message was already sent."
                    )
                )
            return
        await self.REFUSALS[outcome.reason](self, outcome, raw if isinstance(raw, str) else "")

    FRAMES: dict[object, Callable[[GroupSocket, dict[str, Any]], Awaitable[None]]] = {
        "resume": resume_frame,
        "message": message_frame,
    }

    async def refused(self, outcome: Refused, text: str) -> None:
        await self.error(outcome.problem, text)

    async def too_fast(self, outcome: Refused, text: str) -> None:
        self.throttled += 1
        if self.throttled >= MAX_THROTTLED:
            await self.end("message flood", None, closecodes.TRY_AGAIN_LATER)
            return
        await self.error(outcome.problem, text)

    async def refused_not_member(self, outcome: Refused, text: str) -> None:
        await self.left()

    async def refused_logged_out(self, outcome: Refused, text: str) -> None:
        await self.logged_out()

    REFUSALS: dict[Reason, Callable[[GroupSocket, Refused, str], Awaitable[None]]] = {
        Reason.INVALID: refused,
        Reason.NOT_SAVED: refused,
        Reason.TOO_FAST: too_fast,
        Reason.NOT_A_MEMBER: refused_not_member,
        Reason.LOGGED_OUT: refused_logged_out,
    }

    async def error(self, problem: str, text: str = "") -> None:
        """Tell only this sender what went wrong, and give their text back to fix."""
        await self.notice(
            "messages/_composer.html",
            oob=True,
            composer_error=problem,
            composer_text=text[: limits.MESSAGE_MAX * 2],
        )


async def _admit(ws: WebSocket) -> tuple[Viewer, uuid.UUID, Subscription] | None:
    """Login, readiness, the per-user cap and membership, in one database session. Refused:
    the socket is closed (1008, or 1013 to retry later) and None returned. Subscribes before
    checking membership, so a leave cannot slip in between unseen."""
    settings: Settings = ws.state.settings
    broker: Broker = ws.state.broker
    presence: Presence = ws.state.presence
    db: Database = ws.state.db
    sub: Subscription | None = None
    try:
        async with db.session() as session:
            viewer = await current_viewer(ws, session)
            if viewer is None:
                await ws.close(closecodes.POLICY, "log in first")
                return None
            if not broker.ready():
                # Live updates cannot flow yet (Redis not reachable): htmx retries 1013.
                await ws.close(closecodes.TRY_AGAIN_LATER, "not ready")
                return None
            if await presence.sockets(viewer.id) >= settings.sockets_per_user:
                log.info("socket refused: too many open pages user=%s", viewer.id)
                await ws.send_text(render("live/_too_many.html"))
                await ws.close(closecodes.POLICY, "too many open pages")
                return None
            try:
                group_id = access.parse_group_id(ws.path_params["group_id"])
            except access.NoSuchGroup:
                await ws.close(closecodes.POLICY, "no such group")
                return None
            sub = broker.subscribe(group_channel(group_id), user_channel(viewer.id))
            try:
                await access.require_member(ws, session, group_id)
            except (access.NoSuchGroup, access.NotAMemberOf):
                sub.close()
                log.info("socket refused: not a member group=%s user=%s", group_id, viewer.id)
                await ws.close(closecodes.POLICY, "not a member")
                return None
    except BaseException:  # cancelled (the client left, or shutdown) at any await above
        if sub is not None:
            sub.close()
        raise
    return viewer, group_id, sub


async def group_socket(ws: WebSocket) -> None:
    settings: Settings = ws.state.settings
    if not origins.allowed(ws, settings):
        log.info("socket refused: origin not allowed")
        await ws.close(closecodes.POLICY)  # before accept: the handshake gets HTTP 403
        return
    # Accept, then close with 1008 on refusal: htmx does not retry that (a refused handshake,
    # which the browser sees as 1006, it would retry forever).
    await ws.accept()
    admitted = await _admit(ws)
    if admitted is None:
        return
    viewer, group_id, sub = admitted
    presence: Presence = ws.state.presence
    presence_updates: PresenceUpdates = ws.state.presence_updates
    try:
        member = membership.Member(viewer.id, viewer.user.username)
        counted = False
        try:
            # Counting and uncounting are shielded from cancellation (shutdown): a count taken
            # must be given back, or the user would look online (and use a socket) forever.
            with anyio.CancelScope(shield=True):
                came_online = await presence.connect(group_id, viewer.id)
                counted = True
            if came_online:
                await presence_updates.changed(group_id, member, online=True)
            await GroupSocket(ws, viewer, group_id, sub).run()
        finally:
            with anyio.CancelScope(shield=True):
                if counted and await presence.disconnect(group_id, viewer.id):
                    await presence_updates.changed(group_id, member, online=False)
    finally:
        sub.close()


routes = [WebSocketRoute("/groups/{group_id}/ws", group_socket, name="chat:socket")]
