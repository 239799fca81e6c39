"""One open group page's connection: its parts, its life and how it ends. The reader runs in
the handler's task; live items are written to the page by whoever publishes them, when the page
is idle and its client reading (`deliver_now`: no task switch per delivery), else queued for a
writer task started on demand (it ends when the queue is empty: an idle page has no task of its
own); the expiry notice is a timer. The reader is in chat/frames.py, the writer in
chat/updates.py; chat/socket.py puts them together."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.websockets import WebSocket

from discussit.accounts.auth import Viewer
from discussit.chat.feed import Feed
from discussit.chat.posting import Posting
from discussit.core.db import Database
from discussit.core.realtime import closecodes
from discussit.core.realtime.broker import Subscription
from discussit.core.realtime.presence import Presence
from discussit.core.realtime.sender import FrameSender
from discussit.core.security.csrf import csrf_token
from discussit.core.templating import render
from discussit.groups.livecounts import LiveCounts
from discussit.groups.readcursors import ReadCursors
from discussit.models import utcnow
from discussit.settings import Settings
from discussit.timeline.entries import Entry

log = logging.getLogger("discussit.socket")

HELPER_GRACE = 3.0  # seconds a closing page's helpers (writer, expiry notice) are waited for


@dataclass(frozen=True, slots=True)
class Resume:
    """The page's resume frame, handed from the reader to the writer (never crosses the broker)."""

    after: int
    others: bool = False  # the page lists other groups of the viewer (their counts kept live)


class Connection:
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
        "admitted_at",
        "bad_frames",
        "frame_budget",
        "throttled",
        "scope",
        "helpers",
        "drainer",
        "failure",
        "read_upto",
        "visible",
        "page_left",
        "counts",
    )

    def __init__(
        self,
        ws: WebSocket,
        viewer: Viewer,
        group_id: uuid.UUID,
        sub: Subscription,
        admitted_at: int | None = None,
        read_upto: int = 0,
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
        self.feed = Feed(self.sender, self.read_missed)
        self.resumed: asyncio.Future[None] | None = None  # set by the resume frame, done after
        # The group's last seq when membership and login were checked (subscribed before):
        # a page resuming from it has missed nothing the subscription does not bring.
        self.admitted_at = admitted_at
        self.bad_frames = (0, 0.0)  # refused frames, since when (chat/frames.py)
        self.frame_budget = (math.inf, 0.0)  # frames left, as of when (a full budget)
        self.throttled = 0
        # The reader runs in the handler's task, inside `scope`; the writer (while there is
        # work) and the expiry notice are helper tasks. Not an anyio task group: that costs
        # every page ~4 KB more.
        self.scope = anyio.CancelScope()
        self.helpers: list[asyncio.Task[None]] = []
        self.drainer: asyncio.Task[None] | None = None  # the writer, while it has work
        self.failure: BaseException | None = None
        self.read_upto = read_upto  # the member's read cursor, then what this page marked
        self.visible = False  # what the page last said (chat/frames.py): what it is sent is read
        self.page_left = False  # the page closed its socket itself (1000, 1001: chat/frames.py)
        self.counts: LiveCounts | None = None  # the viewer's other groups' counts (updates.py)

    async def run(self) -> None:
        # A timer, not a sleeping task: one task fewer per open page.
        ends_in = max(0.0, (self.viewer.expires_at - utcnow()).total_seconds())
        timer = asyncio.get_running_loop().call_later(ends_in, self._expire_now)
        sub = self.sub
        sub.direct, sub.on_queued = self.deliver_now, self.writer_needed
        if sub.has_items():  # queued between subscribing and now
            self.writer_needed()
        try:
            with self.scope:
                await self.reader()
        finally:
            sub.direct = sub.on_queued = None  # no more writers: the helpers are ending
            # Closed by the page while visible: what it was sent is read. Not when the
            # connection was lost or stopped by the server: what was sent may never have arrived.
            self.set_visible(False, mark=self.page_left)
            if self.counts is not None:
                self.counts.close()
            timer.cancel()
            helpers = list(self.helpers)
            for task in helpers:
                task.cancel()
            if helpers:
                # Waited for even while this task is being cancelled (anyio cancels it again at
                # every await until it returns): a helper left running past its page would be
                # cancelled a second time at shutdown, maybe inside a database call, where
                # aiosqlite's connection then never finishes closing (the loop never ends).
                # Bounded: a helper that ignores its cancel is not waited for past the grace.
                with anyio.CancelScope(shield=True, deadline=anyio.current_time() + HELPER_GRACE):
                    await asyncio.wait(helpers)
        if self.failure is not None:
            raise self.failure  # a bug in a helper: the socket closes with 1011, as if here

    def set_visible(self, visible: bool, mark: bool = True) -> None:
        """The page is shown or hidden: while it is shown, what it is sent is read (marked now,
        then at each sweep of groups/readcursors.py, and once more as it is hidden, unless
        `mark` is False)."""
        if visible == self.visible:
            return
        reads: ReadCursors = self.ws.state.reads
        if not visible and mark:
            self.mark_read()
        self.visible = visible
        if visible:
            self.mark_read()
            reads.watch(self)
        else:
            reads.unwatch(self)

    def mark_read(self) -> None:
        """While visible: the newest entry this page was sent is read (forward only)."""
        seq = self.feed.last_sent
        if self.visible and seq is not None and seq > self.read_upto:
            self.read_upto = seq
            reads: ReadCursors = self.ws.state.reads
            reads.mark(self.group_id, self.viewer.id, seq)

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self.helpers.append(task)
        task.add_done_callback(self._helper_done)
        return task

    def writer_needed(self) -> None:
        """Items are queued: start the writer, unless it is running (it reads them in turn)."""
        if self.drainer is None:
            self.drainer = self.spawn(self._write())

    async def _write(self) -> None:
        try:
            await self.writer()
        finally:
            self.drainer = None  # (no await since the writer saw an empty queue)

    def _expire_now(self) -> None:
        self.spawn(self.expire())

    def _helper_done(self, task: asyncio.Task[None]) -> None:
        self.helpers.remove(task)
        if task.cancelled() or task.exception() is not None or self.sender.closed:
            self.resume_done()  # no reader may wait for a writer that has stopped
        if not task.cancelled() and task.exception() is not None:
            self.failure = task.exception()
            self.stop()

    def resume_done(self) -> None:
        """The resume frame is dealt with (replayed, refused, or the writer stopped): the
        reader goes on. After this, a later resume frame is ignored."""
        if self.resumed is None:
            self.resumed = asyncio.get_running_loop().create_future()
        if not self.resumed.done():
            self.resumed.set_result(None)

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

    async def archived(self) -> None:
        """The group was archived: the page keeps its history, and stops (nothing more comes)."""
        await self.end("group archived", "live/_archived.html")

    async def deleted(self) -> None:
        await self.end("group deleted", "live/_group_deleted.html")

    # -- the two halves (chat/frames.py, chat/updates.py) --------------------------------------

    async def reader(self) -> None:
        raise NotImplementedError

    def writer(self) -> Coroutine[Any, Any, None]:
        """The writer task's coroutine: what is queued, until the queue is empty."""
        raise NotImplementedError

    def deliver_now(self, item: Any) -> bool:
        """Offered each live item while nothing is queued: True if it was written at once."""
        raise NotImplementedError

    async def read_missed(self, after: int) -> tuple[int, list[Entry]]:
        raise NotImplementedError
