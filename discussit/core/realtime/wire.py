"""Sending live updates straight to the server, past the middleware stack.

Every frame a group page receives, and every event a home page's stream receives, would
otherwise pass through each middleware's send wrapper (sessions, security headers, exception
handling), which act only on HTTP response starts. With many recipients per message those
wrappers cost as much as the send itself, so live updates use the server's own ASGI `send`,
kept in the scope by `KeepServerSend` (the outermost middleware); after the response started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SCOPE_KEY = "discussit.server_send"


class KeepServerSend:
    """For every WebSocket, and for the HTTP paths given (the home page's event stream): not for
    every request, as the server's send and the scope then hold each other (a cycle only the
    garbage collector frees, about 4 KB a request). The stream drops it when it ends."""

    def __init__(self, app: ASGIApp, http_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.http_paths = http_paths

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not async: it hands back the app's awaitable, so no frame of its own stays on the
        # stack of every open page (the security middlewares pass sockets through alike).
        kind = scope["type"]
        if kind == "websocket" or (kind == "http" and scope["path"] in self.http_paths):
            scope[SCOPE_KEY] = send
        return self.app(scope, receive, send)


def server_send(scope: Scope, fallback: Send) -> Send:
    """The server's own send, or `fallback` (the app's send) when the middleware is not
    installed."""
    found: Send = scope.get(SCOPE_KEY, fallback)
    return found


def writable(send: Send) -> asyncio.Event | None:
    """Set while `send` can complete without waiting. None when the server does not say: then
    every send is treated as one that may wait (with a timeout). Looked up once per connection.

    Reaches into uvicorn 0.54.0's private API: `send` is the bound method
    `WebSocketsSansIOProtocol.send` (uvicorn/protocols/websockets/websockets_sansio_impl.py),
    whose protocol object holds `writable`, an asyncio.Event cleared while the transport is
    paused (the client's receive buffer is full). tests/core/test_private_apis.py fails if a
    new uvicorn stops providing it."""
    protocol = getattr(send, "__self__", None)
    event = getattr(protocol, "writable", None)  # a WebSocket
    if event is None:  # HTTP (httptools_impl.RequestResponseCycle.send): its flow control's
        event = getattr(getattr(protocol, "flow", None), "_is_writable_event", None)
    return event if isinstance(event, asyncio.Event) else None


def send_now(send: Send, message: Message) -> bool:
    """Step the server's `send` once: True if that sent `message`; False if it would have
    waited (the client is not reading), and then nothing was written. uvicorn's sends wait
    only before they write anything (tests/core/test_private_apis.py). Raises what `send`
    raises (the client is gone)."""
    step = cast(Coroutine[Any, Any, None], send(message))
    try:
        step.send(None)
    except StopIteration:
        return True
    step.close()
    return False
