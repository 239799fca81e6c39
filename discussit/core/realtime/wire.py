"""Sending live updates straight to the server, past the middleware stack.

Every frame a group page receives, and every event a home page's stream receives, would
otherwise pass through each middleware's send wrapper (sessions, security headers, exception
handling), which act only on HTTP response starts. With many recipients per message those
wrappers cost as much as the send itself, so live updates use the server's own ASGI `send`,
kept in the scope by `KeepServerSend` (the outermost middleware); after the response started.

One step further for the fan-out of one item to many pages: a message's WebSocket frame (and a
member count's event chunk) is the same bytes for every recipient, so it is made once and written
to each ready connection's transport (`write_text`, `write_chunk`), as the server's send would
write it, instead of each send making it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from functools import lru_cache
from typing import Any, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

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


def frame_socket(send: Send) -> Any | None:
    """The server's socket behind `send` when a text frame may be written to it as bytes made
    once for every recipient (`write_text`), else None (another server, or compression on: then
    each frame is the server's to make). A server's frames are not masked, so without
    extensions one message's frame is the same bytes for every page.

    Reaches into uvicorn 0.54.0's private API: `send` is the bound method
    `WebSocketsSansIOProtocol.send`, whose protocol holds `conn` (websockets' ServerProtocol),
    `transport`, `close_sent` and `disconnected`; for a text message its send has `conn` make
    the frame (`send_text`) and writes everything `conn` has queued (`data_to_send()`) at
    once, as `write_text` does. tests/core/test_private_apis.py fails if a new uvicorn or
    websockets changes that."""
    protocol = getattr(send, "__self__", None)
    if (
        isinstance(protocol, WebSocketsSansIOProtocol)
        and isinstance(protocol.conn, ServerProtocol)
        and not protocol.conn.extensions
        and protocol.handshake_complete
    ):
        return protocol
    return None


@lru_cache(maxsize=8)
def text_frame(text: str) -> bytes:
    """One unmasked, final text frame: made once per message, written to every page (a
    fan-out writes one message to all its pages before the next: a small cache does)."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


def write_text(socket: Any, text: str) -> bool:
    """Write `text` as one frame to a `frame_socket`, as its server's send would. False when the
    socket is closing or closed (nothing written: the server's send would refuse it too). The
    caller checked it is writable: a write never waits."""
    conn = socket.conn
    if socket.close_sent or socket.disconnected or conn.state is not OPEN:
        return False
    queued = conn.data_to_send()  # (uvicorn writes what `conn` queues at once: nothing here)
    if queued:
        socket.transport.write(b"".join(queued))
    socket.transport.write(text_frame(text))
    return True


def chunk_socket(send: Send) -> Any | None:
    """The server's HTTP response behind `send`, to write an event made once for every stream
    (`write_chunk`), else None (another server: then every send is its own).

    Reaches into uvicorn 0.54.0's private API: `send` is the bound method
    `httptools_impl.RequestResponseCycle.send`, whose cycle holds `transport`,
    `response_started`, `response_complete`, `disconnected` and `chunked_encoding`; a body part
    of a chunked response is written at once as `write_chunk` writes it
    (tests/core/test_private_apis.py)."""
    cycle = getattr(send, "__self__", None)
    return cycle if isinstance(cycle, RequestResponseCycle) else None


def http_chunk(body: bytes) -> bytes:
    """`body` as one chunk of a chunked HTTP response."""
    return b"%x\r\n" % len(body) + body + b"\r\n"


def write_chunk(cycle: Any, chunk: bytes) -> bool:
    """Write an `http_chunk` to a `chunk_socket`'s streaming response, as its server's send
    would. False when the response is not a chunked one under way (nothing written). The caller
    checked it is writable: a write never waits."""
    if (
        cycle.disconnected
        or cycle.response_complete
        or not cycle.response_started
        or cycle.chunked_encoding is not True
    ):
        return False
    cycle.transport.write(chunk)
    return True
