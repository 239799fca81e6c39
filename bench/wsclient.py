"""A lean WebSocket client for the load generator (RFC 6455; permessage-deflate when asked).

One Python process receiving tens of thousands of frames a second spends most of its time in
the client library; with the `websockets` client the generator, not the server, was the limit
(two server processes share this machine's 2 cores with it). This client does only what a
receiving page needs, in plain byte operations on an asyncio Protocol: the opening handshake,
unmasked frames from the server (inflated when the server agreed to compress), pongs, the
closing handshake, and masked text frames out.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import zlib
from collections.abc import Callable
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
DEFLATE_TAIL = b"\x00\x00\xff\xff"


class HandshakeFailed(Exception):
    pass


class LeanSocket(asyncio.Protocol):
    """Call `on_message(payload: bytes)` for every data message; `closed` is set at the end."""

    def __init__(self, on_message: Callable[[bytes], None]) -> None:
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshake: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.inflater: zlib._Decompress | None = None  # type: ignore[name-defined]
        self.fresh_inflater_per_message = False
        self.parts: list[bytes] = []
        self.compressed = False
        self.ready = False  # frames are read once connect() has seen the handshake's answer

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.handshake.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.handshake.set_result(bytes(self.buffer[:end]))
            del self.buffer[: end + 4]
        if self.ready:
            self._frames()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(HandshakeFailed("connection lost"))
        self.closed.set()

    # -- frames in -----------------------------------------------------------------------------

    def _frames(self) -> None:
        buffer = self.buffer
        start = 0
        size = len(buffer)
        while size - start >= 2:
            first, second = buffer[start], buffer[start + 1]
            length = second & 0x7F
            at = start + 2
            if length == 126:
                if size - at < 2:
                    break
                (length,) = struct.unpack_from("!H", buffer, at)
                at += 2
            elif length == 127:
                if size - at < 8:
                    break
                (length,) = struct.unpack_from("!Q", buffer, at)
                at += 8
            if size - at < length:
                break
            payload = bytes(buffer[at : at + length])
            start = at + length
            self._frame(first, payload)
        if start:
            del buffer[:start]

    def _frame(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        if opcode in (TEXT, BINARY):
            self.compressed = bool(first & 0x40)
            self.parts = [payload]
        elif opcode == CONTINUATION:
            self.parts.append(payload)
        elif opcode == PING:
            self._send(PONG, payload)
            return
        elif opcode == CLOSE:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            if self.transport is not None and not self.transport.is_closing():
                self._send(CLOSE, payload[:2])
                self.transport.close()
            return
        else:
            return
        if not first & 0x80:  # more fragments follow
            return
        message = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
        self.parts = []
        if self.compressed and self.inflater is not None:
            if self.fresh_inflater_per_message:
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            message = self.inflater.decompress(message + DEFLATE_TAIL)
        self.on_message(message)

    # -- frames out ----------------------------------------------------------------------------

    def _send(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        mask = os.urandom(4)
        repeated = (mask * (length // 4 + 1))[:length]
        masked = (
            (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
                length, "big"
            )
            if length
            else b""
        )
        self.transport.write(header + mask + masked)

    def send_text(self, text: str) -> None:
        """Uncompressed (a client may always send uncompressed frames)."""
        if self.transport is not None and not self.transport.is_closing():
            self._send(TEXT, text.encode())

    async def close(self, code: int = 1000) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send(CLOSE, struct.pack("!H", code))
            try:
                await asyncio.wait_for(self.closed.wait(), 5)
            except TimeoutError:
                self.transport.close()


async def connect(
    url: str,
    on_message: Callable[[bytes], None],
    *,
    origin: str,
    cookie: str = "",
    timeout: float = 30,
    compress: bool = False,
) -> LeanSocket:
    """Open `url` (ws://host:port/path) as a browser page would; offering permessage-deflate
    only if `compress` (the like-for-like runs offer none: neither server then pays for it)."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    _, socket = await asyncio.wait_for(
        loop.create_connection(lambda: LeanSocket(on_message), parts.hostname, parts.port), timeout
    )
    key = base64.b64encode(os.urandom(16))
    request = [
        f"GET {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key.decode()}",
        "Sec-WebSocket-Version: 13",
        f"Origin: {origin}",
    ]
    if compress:
        request.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
    if cookie:
        request.append(f"Cookie: {cookie}")
    assert socket.transport is not None
    socket.transport.write(("\r\n".join(request) + "\r\n\r\n").encode())
    head = (await asyncio.wait_for(socket.handshake, timeout)).decode("latin-1").split("\r\n")
    if not head[0].startswith("HTTP/1.1 101"):
        socket.transport.close()
        raise HandshakeFailed(head[0])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    expected = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
    if headers.get("sec-websocket-accept") != expected:
        socket.transport.close()
        raise HandshakeFailed("bad Sec-WebSocket-Accept")
    extensions = headers.get("sec-websocket-extensions", "")
    if "permessage-deflate" in extensions:
        socket.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        socket.fresh_inflater_per_message = "server_no_context_takeover" in extensions
    socket.ready = True
    socket._frames()  # anything that came with the answer
    return socket
