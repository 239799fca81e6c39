"""Sending one socket's frames: an outbox sent as one frame per flush, a send timeout, and the
close of a client that stopped reading (its queue is bounded, so it never slows anyone else)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from itertools import groupby

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from discussit.core.realtime import closecodes, wire

log = logging.getLogger("discussit.socket")

SEND_TIMEOUT = 10  # seconds one flush (its frames) may wait for a client that stopped reading
# A send to a socket that is gone: the client went away, or the server closed it itself (a
# frame over the size limit: 1009; uvicorn then refuses sends with RuntimeError). The reader
# sees the disconnect.
GONE = (OSError, WebSocketDisconnect, WebSocketDisconnected, RuntimeError)


class FrameSender:
    # Thousands are open at once: slots instead of a dict per page.
    __slots__ = ("ws", "_send", "_writable", "_socket", "outbox", "_lock", "closed", "on_slow")

    def __init__(self, ws: WebSocket, on_slow: Callable[[], None]) -> None:
        self.ws = ws
        self._send = wire.server_send(ws.scope, ws.send)
        self._writable = wire.writable(self._send)
        self._socket = wire.frame_socket(self._send)  # for frames made once for every page
        self.outbox: list[str | None] = []  # fragments for the next frame (None: a break)
        self._lock = asyncio.Lock()
        self.closed = False
        self.on_slow = on_slow  # called after a slow client is closed

    @property
    def knows_writable(self) -> bool:
        """Does the server say when a send would wait (uvicorn does)?"""
        return self._writable is not None

    def queue(self, html: str, new_frame: bool = False) -> None:
        """Add to the next frame (sent at the next flush); `new_frame`: to a frame of its own
        after what is already queued. htmx finds where each out-of-band element of a frame goes
        before it swaps any of the frame, so an element aimed at something an earlier part of
        the same frame brings (an edit of a message that frame adds) would be dropped."""
        if new_frame and self.outbox:
            self.outbox.append(None)  # (a break: what follows goes in a new frame)
        self.outbox.append(html)

    def send_now(self, html: str) -> bool:
        """Send `html` as one frame at once, without waiting, if that can be done: nothing is
        queued or being sent, and the client is reading (the server says its transport is
        writable). False: nothing was sent (queue it instead). The hot path of a live page:
        the publisher writes to each such page itself, as a bare relay does, with no task
        switch (wire.send_now)."""
        writable = self._writable
        if (
            self.closed
            or self.outbox
            or self._lock.locked()
            or not (writable and writable.is_set())
        ):
            return False
        socket = self._socket
        try:
            if socket is not None:
                if not wire.write_text(socket, html):
                    self.closed = True  # closing or gone: the reader sees the disconnect
                return True
            return wire.send_now(self._send, {"type": "websocket.send", "text": html})
        except GONE:
            self.closed = True
            return True

    async def send(self, html: str) -> None:
        """Send now, after anything queued: htmx applies every OOB element of a frame, in order."""
        self.outbox.append(html)
        await self.flush()

    async def flush(self) -> None:
        if not self.outbox:
            return
        frames = _frames(self.outbox)
        self.outbox.clear()
        async with self._lock:
            deadline = asyncio.get_running_loop().time() + SEND_TIMEOUT  # (for all of them)
            for text in frames:
                if self.closed:
                    return
                await self._send_frame({"type": "websocket.send", "text": text}, deadline)

    async def _send_frame(self, message: dict[str, str], deadline: float) -> None:
        """Send one frame (under the lock): at once if the client is reading, else by the
        deadline, or the client is closed as too slow."""
        try:
            if self._writable is not None and self._writable.is_set():  # no wait: no timer
                await self._send(message)
            else:
                async with asyncio.timeout_at(deadline):  # cheaper than a cancel scope
                    await self._send(message)
        except TimeoutError:
            # 1013 lets htmx reconnect later and catch up from the database.
            log.info("socket closed: slow consumer")
            self.closed = True
            with anyio.move_on_after(1), suppress(WebSocketDisconnect, WebSocketDisconnected):
                await self.ws.close(closecodes.TRY_AGAIN_LATER, "too slow")
            self.on_slow()
        except GONE:
            self.closed = True

    async def close(self, code: int, reason: str = "") -> None:
        """Close once, after anything already being sent."""
        async with self._lock:
            if self.closed:
                return
            self.closed = True
            with suppress(WebSocketDisconnect, WebSocketDisconnected):
                await self.ws.close(code, reason)


def _frames(outbox: list[str | None]) -> list[str]:
    """An outbox's fragments as frames: one, and one more after each break (None)."""
    runs = groupby(outbox, lambda html: html is None)
    return ["".join(part) for is_break, part in runs if not is_break]  # type: ignore[arg-type]
