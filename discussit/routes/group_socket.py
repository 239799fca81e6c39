"""The group page's WebSocket (htmx hx-ws): live history in, messages out.

Protocol (htmx 4.0.1 hx-ws): the client sends JSON objects of form values plus `headers`.
  {"type": "resume", "after": N}   sent on every (re)connect: replay seq > N from the database
  {"text": "..."}                   post as the logged-in user (any author field is ignored)
The server sends HTML fragments whose elements carry hx-swap-oob, so nothing else is replaced.

Order of work on connect: check origin (refused before accept), accept, subscribe to the
live feed, then check login and membership (so a leave cannot slip between check and subscribe),
and only after the client's resume frame, replay from the database and go live. The writer task
alone sends broker items; it drops anything at or below the last seq sent and fills gaps from
the database, so every entry reaches the page once and in order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any

import anyio
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from discussit import access, closecodes, live, membership, origins, timeline, wire
from discussit.auth import Viewer, csrf_token, current_viewer
from discussit.broker import RESYNC, Broker, Item, Subscription, group_channel, user_channel
from discussit.db import Database
from discussit.models import utcnow
from discussit.presence import Presence
from discussit.presence_updates import PresenceUpdates
from discussit.ratelimit import Limit, MemoryLimiter
from discussit.settings import Settings
from discussit.templating import render

log = logging.getLogger("discussit.socket")

CATCH_UP_LIMIT = 500
MAX_FRAME = 16 * 1024
MAX_BAD_FRAMES = 5  # frames no page of ours would send, before the socket is closed (1008)
MAX_THROTTLED = 10  # rate-limited messages in a row, before the socket is closed (1013)
SEND_TIMEOUT = 10  # seconds one frame may wait for a client that stopped reading
GAP_WAIT = 1.0  # seconds to wait for an entry published out of order before reading the DB
MAX_PENDING = 64  # entries held while waiting for an earlier one
MAX_BATCH = 64  # queued items sent together in one frame when a page falls behind


class GroupConnection:
    # Thousands are open at once: slots instead of a dict per page.
    __slots__ = ("ws", "viewer", "group_id", "sub", "settings", "db", "broker", "last_sent",
                 "resumed", "send_lock", "closed", "limiter", "message_limit", "bad_frames",
                 "throttled", "pending", "outbox", "scope", "helpers", "failure", "server_send",
                 "writable")

    def __init__(
        self, ws: WebSocket, viewer: Viewer, group_id: uuid.UUID, sub: Subscription
    ) -> None:
        self.ws = ws
        self.viewer = viewer
        self.group_id = group_id
        self.sub = sub
        self.settings: Settings = ws.state.settings
        self.db: Database = ws.state.db
        self.broker: Broker = ws.state.broker
        self.last_sent: int | None = None  # None until the client's resume frame
        self.resumed = False  # the writer starts after the client's resume frame
        self.send_lock = asyncio.Lock()
        self.closed = False
        self.limiter: MemoryLimiter = ws.state.limiter
        self.message_limit = Limit.parse(self.settings.messages_per_user)
        self.bad_frames = 0
        self.throttled = 0
        self.pending: dict[int, Item] = {}  # entries that arrived ahead of an earlier one
        self.outbox: list[str] = []  # fragments for the next frame
        # The reader runs in the handler's task, inside `scope`; the writer (from the resume
        # frame) and the expiry notice are helper tasks. Not an anyio task group: that costs
        # every open page ~4 KB more.
        self.scope = anyio.CancelScope()
        self.helpers: list[asyncio.Task[None]] = []
        self.failure: BaseException | None = None
        self.server_send = wire.server_send(ws.scope, ws._send)
        self.writable = wire.writable(self.server_send)

    async def run(self) -> None:
        # A timer, not a sleeping task: one task fewer per open page.
        ends_in = max(0.0, (self.viewer.expires_at - utcnow()).total_seconds())
        timer = asyncio.get_running_loop().call_later(ends_in, self.spawn, self.expire)
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

    # -- sending -------------------------------------------------------------------------------

    def queue_html(self, html: str) -> None:
        """Add to the next frame (the writer sends what it has once its queue is empty)."""
        self.outbox.append(html)

    async def send(self, html: str) -> None:
        """Send now, after anything queued: htmx applies every OOB element of a frame, in order."""
        self.outbox.append(html)
        await self.flush()

    async def flush(self) -> None:
        if not self.outbox:
            return
        message = {"type": "websocket.send", "text": "".join(self.outbox)}
        self.outbox.clear()
        async with self.send_lock:
            if self.closed:
                return
            try:
                if self.writable is not None and self.writable.is_set():  # no wait: no timer
                    await self.server_send(message)
                else:
                    async with asyncio.timeout(SEND_TIMEOUT):  # cheaper than a cancel scope
                        await self.server_send(message)
            except TimeoutError:
                # The client stopped reading: drop it (its queue is bounded, so it never slowed
                # anyone else). 1013 lets htmx reconnect later and catch up from the database.
                log.info("socket closed: slow consumer group=%s user=%s", self.group_id,
                         self.viewer.id)
                self.closed = True
                with anyio.move_on_after(1), suppress(WebSocketDisconnect, WebSocketDisconnected):
                    await self.ws.close(closecodes.TRY_AGAIN_LATER, "too slow")
                self.stop()
            except (OSError, WebSocketDisconnect, WebSocketDisconnected):  # (TimeoutError: above)
                self.closed = True  # the client went away; the reader sees the disconnect

    async def close(self, code: int, reason: str = "") -> None:
        async with self.send_lock:
            if self.closed:
                return
            self.closed = True
            with suppress(WebSocketDisconnect, WebSocketDisconnected):
                await self.ws.close(code, reason)

    async def notice(self, template: str, **context: Any) -> None:
        await self.send(
            render(template, group_id=self.group_id, csrf_token=csrf_token(self.ws), **context)
        )

    async def expire(self) -> None:
        """The session ends on the server at its expiry; so does every socket it opened."""
        log.info("socket closed: session expired user=%s", self.viewer.id)
        await self.notice("live/_logged_out.html")
        await self.close(closecodes.POLICY, "session expired")
        self.stop()

    async def writer(self) -> None:
        while not self.closed:
            if not self.pending:
                item = await self.sub.get()
            else:
                try:  # an entry is missing: wait a moment for it, then ask the database
                    async with asyncio.timeout(GAP_WAIT):
                        item = await self.sub.get()
                except TimeoutError:
                    await self.catch_up()
                    continue
            await self.handle(item)
            # Under load, whatever else is already queued goes out in the same frame: one send
            # per wake-up instead of one per item (adaptive batching; idle pages are unchanged).
            for _ in range(MAX_BATCH):
                if (item := self.sub.get_nowait()) is None:
                    break
                await self.handle(item)
            await self.flush()

    async def handle(self, item: Item) -> None:
        kind = item["type"]
        if kind == "entry":
            assert self.last_sent is not None
            seq = item["seq"]
            if seq <= self.last_sent:
                return  # already sent by a catch-up
            if seq > self.last_sent + 1:
                # Concurrent senders commit in seq order but may publish out of order: hold this
                # one until the earlier entry arrives (usually within milliseconds). Only a gap
                # that stays open, or grows, costs a database read.
                self.pending[seq] = item
                if len(self.pending) > MAX_PENDING:
                    await self.catch_up()
                return
            await self.deliver(item)
            while self.last_sent + 1 in self.pending and not self.closed:
                await self.deliver(self.pending.pop(self.last_sent + 1))
        elif kind == "presence":
            self.queue_html(item["html"])
        elif kind == RESYNC["type"]:
            await self.catch_up()
        elif kind == "logout" and item["session_key"] == self.viewer.session_key:
            await self.notice("live/_logged_out.html")
            await self.close(closecodes.POLICY, "logged out")

    async def deliver(self, item: Item) -> None:
        """Send the next entry in order."""
        self.queue_html(item["html"])
        self.last_sent = item["seq"]
        if item["kind"] == timeline.LEFT and item["user_id"] == self.viewer.id:
            await self.check_still_member()

    async def catch_up(self) -> None:
        """Send every entry after the last one sent, from the database, then the member list."""
        assert self.last_sent is not None
        async with self.db.session() as session:
            upto = await timeline.last_seq(session, self.group_id) or 0  # before the entries
            # A cursor past the group's last seq (a stale or forged page) would hide what comes
            # next: clamp it to what exists.
            self.last_sent = min(self.last_sent, upto)
            entries = [] if self.last_sent == upto else await timeline.entries_after(
                session, self.group_id, self.last_sent, upto, CATCH_UP_LIMIT + 1
            )
            members = None
            if any(e.kind != timeline.MESSAGE for e in entries):
                members = await membership.members(session, self.group_id)
        if len(entries) > CATCH_UP_LIMIT:
            log.info(
                "socket too far behind group=%s user=%s: told to reload",
                self.group_id,
                self.viewer.id,
            )
            await self.notice("live/_reload.html")
            await self.close(closecodes.NORMAL, "too far behind: reload")
            return
        for entry in entries:
            await self.send(live.entry_html(entry))
            self.last_sent = entry.seq
        self.pending = {s: i for s, i in self.pending.items() if s > self.last_sent}
        while self.last_sent + 1 in self.pending and not self.closed:
            await self.deliver(self.pending.pop(self.last_sent + 1))
        if members is not None:
            presence: Presence = self.ws.state.presence
            await self.send(
                live.members_html(self.group_id, members, await presence.online(self.group_id))
            )
            if all(m.user_id != self.viewer.id for m in members):
                await self.left()

    async def check_still_member(self) -> None:
        async with self.db.session() as session:
            still = await timeline.is_member(session, self.group_id, self.viewer.id)
        if not still:
            await self.left()

    async def left(self) -> None:
        log.info(
            "socket closed: no longer a member group=%s user=%s", self.group_id, self.viewer.id
        )
        await self.notice("live/_left.html")
        await self.close(closecodes.POLICY, "not a member")

    # -- receiving -----------------------------------------------------------------------------

    async def reader(self) -> None:
        while not self.closed:
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
            if data.get("type") == "resume":
                await self.resume(data.get("after"))
            else:
                await self.post(data.get("text"),
                                timeline.clean_client_message_id(data.get("client_message_id")))

    async def bad_frame(self, problem: str) -> None:
        """A frame no page of ours sends: say so; after a few, it is not a page: close."""
        self.bad_frames += 1
        if self.bad_frames >= MAX_BAD_FRAMES:
            log.info("socket closed: %d bad frames group=%s user=%s", self.bad_frames,
                     self.group_id, self.viewer.id)
            await self.close(closecodes.POLICY, "too many bad frames")
            return
        await self.error(problem)

    async def resume(self, after: object) -> None:
        if self.resumed:
            return  # one resume per socket: the first one set the cursor
        if isinstance(after, str) and after.isdigit() and len(after) < 19:
            after = int(after)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            await self.bad_frame("Could not resume; reload the page.")
            return
        self.last_sent = after
        self.resumed = True
        await self.catch_up()
        self.spawn(self.writer)

    async def post(self, raw: object, client_message_id: str | None) -> None:
        kept = raw if isinstance(raw, str) else ""
        try:
            text = timeline.clean_message_text(raw, self.settings.message_max_length)
        except timeline.InvalidMessage as problem:
            await self.error(str(problem), text=kept)
            return
        # One budget per user across all their sockets and processes (Redis when configured).
        decision = await self.limiter.hit(f"messages:user:{self.viewer.id}", self.message_limit)
        if not decision.allowed:
            self.throttled += 1
            if self.throttled >= MAX_THROTTLED:
                log.info("socket closed: message flood group=%s user=%s", self.group_id,
                         self.viewer.id)
                await self.close(closecodes.TRY_AGAIN_LATER, "sending too fast")
                return
            await self.error(f"You are sending messages too fast. Wait {decision.retry_after} "
                             "seconds, then send again.", text=kept)
            return
        self.throttled = 0
        # Persist, then publish, even if the page closes meanwhile: a stored message is sent.
        with anyio.CancelScope(shield=True):
            try:
                entry = await timeline.post_message(self.db, self.group_id, self.viewer.user,
                                                    text, client_message_id)
            except timeline.NotAMember:
                entry = None
                await self.left()
            except SQLAlchemyError as failure:  # nothing was stored, so nothing is published
                log.warning("message not stored group=%s user=%s: %s", self.group_id,
                            self.viewer.id, type(failure).__name__)
                await self.error("Your message could not be saved. Please send it again.",
                                 text=kept)
                return
            if entry is None:
                return  # a retry of a message already stored (and already broadcast)
            log.debug("message posted group=%s seq=%s user=%s", self.group_id, entry.seq,
                      self.viewer.id)
            await live.publish_entry(self.broker, entry)

    async def error(self, problem: str, text: str = "") -> None:
        """Tell only this sender what went wrong, and give their text back to fix."""
        await self.notice(
            "messages/_composer.html",
            oob=True,
            composer_error=problem,
            composer_text=text[: self.settings.message_max_length * 2],
            max_length=self.settings.message_max_length,
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
        await ws.close(closecodes.INVALID_ORIGIN)  # before accept: the handshake gets HTTP 403
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
            await GroupConnection(ws, viewer, group_id, sub).run()
        finally:
            with anyio.CancelScope(shield=True):
                if counted and await presence.disconnect(group_id, viewer.id):
                    await presence_updates.changed(group_id, member, online=False)
    finally:
        sub.close()


routes = [WebSocketRoute("/groups/{group_id}/ws", group_socket, name="group_socket")]
