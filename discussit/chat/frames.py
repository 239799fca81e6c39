"""The reader half of a group socket: frames in, and a table of frame kinds -> handlers (how
refusals are shown: chat/refusals.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from functools import cache
from typing import Any

from starlette.websockets import WebSocketDisconnected

from discussit.chat.changing import Changed, Changing
from discussit.chat.connection import Resume
from discussit.chat.posting import Posted, Reason, Refused, clean_client_message_id, clean_seq
from discussit.chat.refusals import Given, Refusals
from discussit.chat.typing import TypingUpdates
from discussit.core.realtime import closecodes
from discussit.core.security import text as text_policy
from discussit.core.templating import SOCKET_PAGE, render
from discussit.groups.membership import member_of
from discussit.groups.readcursors import ReadCursors
from discussit.timeline import details
from discussit.timeline.entries import Quote

log = logging.getLogger("discussit.socket")

MAX_FRAME = 16 * 1024
OUTDATED_GRACE = 3.0  # seconds a page told to reload still has its frames taken (see outdated)


@cache
def _warn_no_kind() -> None:
    """Once per process: a page named no kind of page in its resume frame."""
    log.warning(
        "a group page named no kind in its resume frame: open since before an update, or a "
        "TEMPLATES_DIR copy of groups/show.html older than this version (each is told to "
        "reload; the template needs the resume form's page field)"
    )


# Every frame spends from a budget: the sender's message budget (RATE_LIMIT_MESSAGES) plus
# FRAME_SLACK frames of other kinds, refilled at the same pace. Past it a frame is refused (and
# counts as bad) before it is even parsed: no page of ours sends faster than its user may post.
FRAME_SLACK = 20
# Close codes of a page that closed its own socket (htmx as the page goes: 1000; the browser as
# the tab closes: 1001): it showed what it was sent.
PAGE_LEFT = (1000, 1001)


def shown(value: object) -> bool | None:
    """What a page says of itself in its `visible` field: shown ("1"), hidden ("0"), or None
    for anything else."""
    return {"1": True, "0": False}.get(value) if isinstance(value, str) else None


class Frames(Refusals):
    __slots__ = ()

    async def reader(self) -> None:
        while not self.sender.closed and await self.next_frame():
            pass

    async def next_frame(self) -> bool:
        """Read the page's next frame and act on it; False once the socket is closed. Its
        locals end with it: an idle page keeps nothing of its last frame (the resume frame's
        decoded JSON was most of a kilobyte per open page)."""
        try:
            message = await self.ws.receive()
        except WebSocketDisconnected:
            return False
        if message["type"] == "websocket.disconnect":
            self.page_left = message.get("code") in PAGE_LEFT
            return False
        text = message.get("text")
        if not self.spend_frame():
            # (Whatever it said: a page refused a frame may have been hidden meanwhile, and a
            # hidden page must not read what it is sent.)
            self.set_visible(False)
            await self.bad_frame("Too many messages at once; slow down.")
            return True
        if text is None:
            await self.bad_frame("Only text messages are understood here.")
            return True
        if len(text) > MAX_FRAME:
            await self.bad_frame("That message is too long.")
            return True
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            await self.bad_frame("That message could not be read.")
            return True
        kind = data.get("type", "message")
        handler = self.FRAMES.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.bad_frame("That message could not be read.")
            return True
        await handler(self, data)
        return True

    def spend_frame(self) -> bool:
        """One frame from the socket's budget (a token bucket); False when it is spent."""
        now = time.monotonic()
        rate = self.settings.messages_per_user
        burst = rate.count + FRAME_SLACK
        tokens, at = self.frame_budget
        tokens = min(burst, tokens + (now - at) * burst / rate.seconds)
        self.frame_budget = (max(tokens - 1, 0.0), now)
        return tokens >= 1

    async def resume_frame(self, data: dict[str, Any]) -> None:
        if self.sender.closed:
            return
        if self.resumed is not None:  # one resume per socket: the first one set the cursor
            await self.bad_frame("This page has already resumed.")
            return
        if data.get("page") != SOCKET_PAGE:  # rendered before a deploy changed what it is sent
            await self.outdated(data.get("page"))
            return
        after = data.get("after")
        if isinstance(after, str):
            try:
                after = text_policy.clean_number(after, "The resume cursor")
            except text_policy.InvalidText:
                after = None
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 10**18:
            await self.bad_frame("Could not resume; reload the page.")
            return
        # The writer replays (in order with live items); frames after this one (htmx sends
        # what was typed while disconnected right after it) wait until the page is caught up.
        self.resumed = asyncio.get_running_loop().create_future()
        self.sub.interrupt(Resume(after, others=data.get("others") == "1"))
        await self.resumed
        visible = shown(data.get("visible", "0"))
        if visible is None:  # resumed all the same, as not visible
            await self.bad_frame("That page state could not be read.")
        elif not self.sender.closed:
            self.set_visible(visible)

    async def outdated(self, page: object) -> None:
        """A page opened before an update that changed what its socket sends: told to reload,
        sent nothing else (it would drop every new line), and never marked as read. What it
        sent right behind its resume frame (htmx sends what was typed while it reconnected
        then) is still taken for OUTDATED_GRACE seconds; then its socket closes (1000)."""
        if page is None:  # (an operator's groups/show.html may be the cause)
            _warn_no_kind()
        self.resume_done()  # (a second resume is refused)
        await self.notice("live/_outdated.html")
        with suppress(TimeoutError):
            async with asyncio.timeout(OUTDATED_GRACE):
                while not self.sender.closed and await self.next_frame():
                    pass
        await self.end("page out of date", None, closecodes.NORMAL)

    async def visibility_frame(self, data: dict[str, Any]) -> None:
        """The page is shown ("1") or hidden ("0"): while shown, what it is sent is read."""
        visible = shown(data.get("visible"))
        if visible is None:
            await self.bad_frame("That page state could not be read.")
        elif self.feed.started:  # (before the resume frame: it says so itself)
            self.set_visible(visible)

    async def message_frame(self, data: dict[str, Any]) -> None:
        raw = data.get("text")
        client_id = data.get("client_message_id")
        if client_id is not None and clean_client_message_id(client_id) is None:
            await self.bad_frame(
                "That message could not be read.", raw if isinstance(raw, str) else ""
            )
            return
        outcome = await self.posting.post(
            self.viewer, self.group_id, raw, client_id, data.get("reply_to")
        )
        if not isinstance(outcome, Refused) or outcome.reason is not Reason.TOO_FAST:
            self.throttled = 0  # only refusals in a row close the socket
        if isinstance(outcome, Posted):
            if outcome.again:  # answered, never swallowed: the page learns it is stored
                await self.sender.send(
                    render(
                        "messages/_status.html", oob=True, status="That message was already sent."
                    )
                )
            return
        reply = None
        reply_to = clean_seq(data.get("reply_to"))
        if reply_to is not None and outcome.reason is not Reason.NOT_FOUND:
            reply = await self.quote(reply_to)  # the refused message still answers it
        given = Given(raw if isinstance(raw, str) else "", reply)
        await self.REFUSALS[outcome.reason](self, outcome, given)

    async def read_frame(self, data: dict[str, Any]) -> None:
        """The page has shown everything up to `seq`: the member's read cursor moves there
        (gathered and written within a second: groups/readcursors.py). Only a position this
        page was sent, and past the one marked before. (Our pages need not say: while visible,
        what they are sent is read; this is for a client that reads otherwise.)"""
        seq = clean_seq(data.get("seq"))
        shown = self.feed.last_sent
        if seq is None or shown is None or seq > shown:
            await self.bad_frame("That read position is not one this page has shown.")
            return
        if seq <= self.read_upto:
            await self.notice(
                "messages/_status.html", oob=True, status="Already marked as read that far."
            )
            return
        self.read_upto = seq
        reads: ReadCursors = self.ws.state.reads
        reads.mark(self.group_id, self.viewer.id, seq)

    async def typing_frame(self, data: dict[str, Any]) -> None:
        """This member is typing: told to the group's other pages (chat/typing.py), within
        the user's budget (past it, dropped without a word: a typing signal is a hint)."""
        typing: TypingUpdates = self.ws.state.typing
        typing.typing(self.group_id, member_of(self.viewer))

    async def edit_frame(self, data: dict[str, Any]) -> None:
        changing: Changing = self.ws.state.changing
        outcome = await changing.edit(
            self.viewer, self.group_id, data.get("seq"), data.get("text"), self.ws
        )
        await self.changed(outcome)

    async def delete_frame(self, data: dict[str, Any]) -> None:
        changing: Changing = self.ws.state.changing
        await self.changed(
            await changing.delete(self.viewer, self.group_id, data.get("seq"), self.ws)
        )

    async def react_frame(self, data: dict[str, Any]) -> None:
        changing: Changing = self.ws.state.changing
        outcome = await changing.react(
            self.viewer, self.group_id, data.get("seq"), data.get("emoji"), data.get("on"), self.ws
        )
        await self.changed(outcome)

    async def changed(self, outcome: Changed | Refused) -> None:
        """A change is shown to everyone by its live entry; a refusal only to this page, in the
        line under the composer (what is being typed there stays)."""
        if not isinstance(outcome, Refused) or outcome.reason is not Reason.TOO_FAST:
            self.throttled = 0  # only refusals in a row close the socket
        if isinstance(outcome, Changed):
            return
        if outcome.reason is Reason.NOT_A_MEMBER:
            await self.left()
        elif outcome.reason is Reason.ARCHIVED:
            await self.archived()
        elif outcome.reason is Reason.LOGGED_OUT:
            await self.logged_out()
        else:
            if outcome.reason is Reason.TOO_FAST and await self.flooding():
                return  # closed
            if outcome.reason is Reason.INVALID and await self.count_bad_frame():
                return  # closed
            await self.notice("messages/_status.html", oob=True, status=outcome.problem)

    FRAMES: dict[str, Callable[[Frames, dict[str, Any]], Awaitable[None]]] = {
        "resume": resume_frame,
        "message": message_frame,
        "edit": edit_frame,
        "delete": delete_frame,
        "react": react_frame,
        "read": read_frame,
        "visibility": visibility_frame,
        "typing": typing_frame,
    }

    async def quote(self, seq: int) -> Quote | None:
        found = await self.db.read(lambda conn: details.quotes(conn, self.group_id, [seq]))
        quote = found.get(seq)
        return quote if quote is not None and not quote.deleted else None
