"""The reader half of a group socket: frames in, a table of frame kinds -> handlers, and how
each posting outcome is shown to its sender."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocketDisconnected

from discussit import limits
from discussit.chat.connection import Connection, Resume
from discussit.chat.posting import Posted, Reason, Refused
from discussit.core.realtime import closecodes
from discussit.core.templating import render

MAX_FRAME = 16 * 1024
MAX_BAD_FRAMES = 5  # frames no page of ours would send, before the socket is closed (1008)
MAX_THROTTLED = 10  # rate-limited messages in a row, before the socket is closed (1013)


class Frames(Connection):
    __slots__ = ()

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
            kind = data.get("type", "message")
            handler = self.FRAMES.get(kind) if isinstance(kind, str) else None
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
        if self.resumed is not None or self.sender.closed:
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
        self.sub.interrupt(Resume(after))
        await self.resumed

    async def message_frame(self, data: dict[str, Any]) -> None:
        raw = data.get("text")
        outcome = await self.posting.post(
            self.viewer, self.group_id, raw, data.get("client_message_id")
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
        await self.REFUSALS[outcome.reason](self, outcome, raw if isinstance(raw, str) else "")

    FRAMES: dict[str, Callable[[Frames, dict[str, Any]], Awaitable[None]]] = {
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

    REFUSALS: dict[Reason, Callable[[Frames, Refused, str], Awaitable[None]]] = {
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
