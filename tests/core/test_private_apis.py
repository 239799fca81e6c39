"""The few places DiscussIt relies on behaviour its pinned libraries do not promise (each
carries a comment naming the version): these tests fail if an upgrade changes it."""

from __future__ import annotations

import asyncio

import pytest
import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from discussit.core.realtime import wire

pytestmark = pytest.mark.pure  # no database or Redis: the services pass leaves it out


class _Transport:
    """What the direct writes use of a transport: it records what is written."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def test_uvicorn_sansio_sends_through_a_protocol_with_a_writable_event():
    """wire.writable(): uvicorn 0.54.0's send is WebSocketsSansIOProtocol.send, bound, and the
    protocol has `writable`, an asyncio.Event cleared while the transport is paused."""
    assert uvicorn.__version__ == "0.54.0", "re-check wire.writable against this uvicorn"
    import inspect

    source = inspect.getsource(WebSocketsSansIOProtocol)
    assert "self.writable = asyncio.Event()" in source
    assert "await self.app(self.scope, self.receive, self.send)" in source  # bound: __self__
    send = inspect.getsource(WebSocketsSansIOProtocol.send)
    # FrameSender.send_now steps it once: its only wait must come first, before any write.
    assert send.count("await ") == 1
    assert send.index("await self.writable.wait()") < send.index("self.transport.write")

    class Protocol:
        def __init__(self) -> None:
            self.writable = asyncio.Event()

        async def send(self, message: object) -> None: ...

    protocol = Protocol()
    assert wire.writable(protocol.send) is protocol.writable

    async def plain(message: object) -> None: ...

    assert wire.writable(plain) is None  # another server: every send may wait


def test_a_text_frame_written_directly_is_what_uvicorns_send_would_write():
    """wire.frame_socket()/write_text(): uvicorn 0.54.0's send makes a text message's frame with
    websockets' `conn.send_text` and writes `conn.data_to_send()` at once; without extensions
    (compression off) those are the bytes of wire.text_frame, the same for every page."""
    import inspect

    from websockets.extensions.permessage_deflate import PerMessageDeflate
    from websockets.protocol import CLOSING, OPEN
    from websockets.server import ServerProtocol

    assert uvicorn.__version__ == "0.54.0", "re-check wire.write_text against this uvicorn"
    send = inspect.getsource(WebSocketsSansIOProtocol.send)
    made = send.index("self.conn.send_text(text_data.encode())")
    assert send.index("output = self.conn.data_to_send()", made) < send.index(
        'self.transport.write(b"".join(output))', made
    )
    init = inspect.getsource(WebSocketsSansIOProtocol.__init__)
    assert "self.close_sent = False" in init and "self.disconnected = False" in init
    for text in ("hi", "é" * 100, "x" * 70_000):  # each of the three length encodings
        conn = ServerProtocol()
        conn.state = OPEN
        conn.send_text(text.encode())
        assert b"".join(conn.data_to_send()) == wire.text_frame(text)

    class Socket(WebSocketsSansIOProtocol):  # only what write_text uses of uvicorn's protocol
        def __init__(self) -> None:  # (not uvicorn's: no server, loop or transport)
            self.conn = ServerProtocol()
            self.conn.state = OPEN
            self.transport = _Transport()  # type: ignore[assignment]
            self.handshake_complete = True
            self.close_sent = self.disconnected = False

    socket = Socket()
    assert wire.frame_socket(socket.send) is socket
    assert wire.write_text(socket, "hi") and socket.transport.written == [wire.text_frame("hi")]
    socket.conn.send_ping(b"p")  # queued by websockets and not yet written: it goes first
    assert wire.write_text(socket, "ho") and socket.transport.written[1:] == [
        b"\x89\x01p",
        wire.text_frame("ho"),
    ]
    for closing in ("close_sent", "disconnected", "state"):
        gone = Socket()
        if closing == "state":
            gone.conn.state = CLOSING
        else:
            setattr(gone, closing, True)
        assert not wire.write_text(gone, "hi") and gone.transport.written == []  # type: ignore[attr-defined]
    compressed = Socket()
    compressed.conn.extensions = [PerMessageDeflate(False, False, 15, 15)]
    assert wire.frame_socket(compressed.send) is None  # each frame is the server's to make

    async def plain(message: object) -> None: ...

    assert wire.frame_socket(plain) is None  # another server


def test_the_server_send_is_kept_for_websockets_and_the_streams_path_only():
    seen = {}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen[scope["type"], scope.get("path")] = wire.server_send(scope, None)  # type: ignore[arg-type]

    async def server_send(message):  # type: ignore[no-untyped-def]
        pass

    keep = wire.KeepServerSend(app, http_paths=("/updates",))
    for scope in (
        {"type": "websocket", "path": "/groups/x/ws"},
        {"type": "http", "path": "/updates"},
        {"type": "http", "path": "/login"},  # any other request: no cycle with the server's send
        {"type": "lifespan"},
    ):
        asyncio.run(keep(scope, None, server_send))  # type: ignore[arg-type]
    assert seen == {
        ("websocket", "/groups/x/ws"): server_send,
        ("http", "/updates"): server_send,
        ("http", "/login"): None,
        ("lifespan", None): None,
    }


def test_uvicorn_httptools_sends_through_a_cycle_whose_flow_control_has_a_writable_event():
    """wire.writable() for the home stream: uvicorn 0.54.0's HTTP send is
    RequestResponseCycle.send, bound, whose only wait (the flow control's drain, on an
    asyncio.Event) comes before it writes anything: groups/stream.py steps it once."""
    import inspect

    from uvicorn.protocols.http import flow_control, httptools_impl

    assert uvicorn.__version__ == "0.54.0", "re-check wire.writable against this uvicorn"
    assert "self._is_writable_event = asyncio.Event()" in inspect.getsource(flow_control)
    send = inspect.getsource(httptools_impl.RequestResponseCycle.send)
    assert send.count("await ") == 1
    assert send.index("await self.flow.drain()") < send.index("self.transport.write")

    class Cycle:
        def __init__(self) -> None:
            self.flow = flow_control.FlowControl(None)  # type: ignore[arg-type]

        async def send(self, message: object) -> None: ...

    cycle = Cycle()
    assert wire.writable(cycle.send) is cycle.flow._is_writable_event


def test_a_chunk_written_directly_is_what_uvicorns_http_send_would_write():
    """wire.chunk_socket()/write_chunk(): uvicorn 0.54.0's HTTP send writes a body part of a
    chunked response as one hex length line, the body and CRLF, at once."""
    import inspect

    from uvicorn.protocols.http import httptools_impl

    assert uvicorn.__version__ == "0.54.0", "re-check wire.write_chunk against this uvicorn"
    send = inspect.getsource(httptools_impl.RequestResponseCycle.send)
    assert 'content = [b"%x\\r\\n" % len(body), body, b"\\r\\n"]' in send
    init = inspect.getsource(httptools_impl.RequestResponseCycle.__init__)
    for name in ("transport", "response_started", "response_complete", "disconnected"):
        assert f"self.{name} =" in init, name
    assert "self.chunked_encoding: bool | None = None" in init
    assert wire.http_chunk(b"data: 1\r\n\r\n") == b"b\r\ndata: 1\r\n\r\n\r\n"

    class Cycle(httptools_impl.RequestResponseCycle):  # only what write_chunk uses of it
        def __init__(self) -> None:  # (not uvicorn's: no request, flow control or transport)
            self.transport = _Transport()  # type: ignore[assignment]
            self.response_started = True
            self.response_complete = self.disconnected = False
            self.chunked_encoding = True

    cycle = Cycle()
    assert wire.chunk_socket(cycle.send) is cycle
    assert wire.write_chunk(cycle, b"1\r\nx\r\n") and cycle.transport.written == [b"1\r\nx\r\n"]
    for state, value in (
        ("response_started", False),
        ("response_complete", True),
        ("disconnected", True),
        ("chunked_encoding", False),  # a response with a length: not a stream
    ):
        other = Cycle()
        setattr(other, state, value)
        assert not wire.write_chunk(other, b"1\r\nx\r\n") and other.transport.written == []

    async def plain(message: object) -> None: ...

    assert wire.chunk_socket(plain) is None


def test_a_starlette_state_without_a_viewer_answers_the_default():
    """accounts.auth.current_viewer caches on conn.state through public getattr, which needs
    State to raise AttributeError for a missing key."""
    from starlette.datastructures import State

    marker = object()
    assert getattr(State(), "viewer", marker) is marker


def test_the_test_clients_socket_still_has_what_tests_helpers_reads():
    """tests/helpers.receive() reads Starlette 1.10.0's private WebSocketTestSession parts."""
    import inspect

    import starlette
    from starlette.testclient import WebSocketTestSession

    assert starlette.__version__ == "1.10.0", "re-check tests/helpers.receive against it"
    source = inspect.getsource(WebSocketTestSession)
    assert "self._send_rx" in source and "def _raise_on_close" in source


def test_uvicorn_httptools_protocol_has_the_callbacks_the_head_deadline_overrides():
    """core/security/slowclients.py subclasses uvicorn 0.54.0's HttpToolsProtocol: the callbacks
    it wraps exist, and uvicorn still starts no timer of its own before a request's head."""
    import inspect

    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    names = (
        "connection_made",
        "on_message_begin",
        "on_headers_complete",
        "on_response_complete",
        "connection_lost",
    )
    for name in names:
        assert callable(getattr(HttpToolsProtocol, name)), name
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

    assert "self.more_body = True" in inspect.getsource(RequestResponseCycle.__init__)
    assert "call_later" not in inspect.getsource(HttpToolsProtocol.connection_made)
    assert "self.loop" in inspect.getsource(HttpToolsProtocol.__init__)
