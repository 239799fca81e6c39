"""The home stream on a real uvicorn, where member counts are written straight to a waiting
stream (groups/stream.py `_Outlet`): the bytes are whole chunked SSE events, in order, with the
viewer's own changes (a database read on the stream) in between, and the stream still ends
cleanly at logout."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from tests.servers import Member, Server, csrf_of

pytestmark = pytest.mark.slow  # a real server: `make test`, not `make check`

ROUNDS = 6


def _leave(member: Member, group: str) -> None:
    token = csrf_of(member.http.get("/").text)
    response = member.http.post(
        f"/groups/{group}/membership/delete", data={"csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303


class RawStream:
    """GET /updates on a plain socket: the chunked body exactly as the server wrote it."""

    def __init__(self, server: Server, member: Member) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.sock.sendall(
            f"GET /updates HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Cookie: {member.cookie_header()}\r\n\r\n".encode()
        )
        self.raw = b""
        while b"\r\n\r\n" not in self.raw:
            self.raw += self.sock.recv(65536)
        head, _, self.raw = self.raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower()
        self.chunks: list[bytes] = []
        self.ended = False

    def _parse(self) -> None:
        while not self.ended and b"\r\n" in self.raw:
            size_line, _, rest = self.raw.partition(b"\r\n")
            size = int(size_line, 16)
            if len(rest) < size + 2:
                return
            assert rest[size : size + 2] == b"\r\n", "a chunk not ended by CRLF"
            if size == 0:
                self.ended = True
            else:
                self.chunks.append(rest[:size])
            self.raw = rest[size + 2 :]

    def read_until(self, done) -> None:  # type: ignore[no-untyped-def]
        """Read (each recv waits at most the socket's 10 s timeout) until done(chunks)."""
        self._parse()
        while not done(self.chunks):
            data = self.sock.recv(65536)
            if not data:
                break
            self.raw += data
            self._parse()


def _counts(chunks: list[bytes], group: str) -> list[str]:
    """The member counts of `group` sent on their own, in the order they came."""
    found = []
    for chunk in chunks:
        match = re.search(rb'class="group__count" hx-swap-oob="true">([^<]*)</span>', chunk)
        if chunk.startswith(b"data: <span") and group.encode() in chunk and match:
            found.append(match.group(1).decode())
    return found


def test_counts_reach_a_waiting_stream_whole_and_in_order(server_env, tmp_path: Path):
    server = Server(server_env, tmp_path / "s.log").start()
    try:
        group = server.create_group("Counted")
        alice, bob = Member(server, "alice"), Member(server, "bobby")
        stream = RawStream(server, alice)
        stream.read_until(lambda chunks: len(chunks) >= 1)  # the directory: now it waits
        expected = []
        for i in range(ROUNDS):
            bob.join(group)
            expected.append("1 member")
            if i % 2:  # alice's own change too: her stream reads her row from the database
                alice.join(group)
                expected.append("2 members")
                _leave(alice, group)
                expected.append("1 member")
            _leave(bob, group)
            expected.append("0 members")
        stream.read_until(lambda chunks: len(_counts(chunks, group)) >= len(expected))
        assert _counts(stream.chunks, group) == expected
        # Every chunk is one whole event (or a ping comment), as sse-starlette writes them.
        assert all(c.endswith(b"\r\n\r\n") and c.count(b"\r\n\r\n") == 1 for c in stream.chunks)
        token = csrf_of(alice.http.get("/").text)
        assert alice.http.post("/logout", data={"csrf_token": token}).status_code == 303
        bob.join(group)  # after the stream ended: nothing more may be written to it
        stream.read_until(lambda chunks: stream.ended)
        assert stream.ended and b"event: close" in stream.chunks[-1]
        assert stream.raw == b""
        stream.sock.close()
        alice.close()
        bob.close()
    finally:
        server.terminate()
