"""Real uvicorn processes for tests: started with the Procfile's flags on free loopback ports,
plus HTTP/WebSocket clients that log in and talk to them as a browser page does."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from discussit.core.security.slowclients import GuardedHttpProtocol
from discussit.core.templating import SOCKET_PAGE

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "violet-lantern-93"
# Tests sign many people up from one address and send bursts on purpose; the rate-limit tests
# check the real limits separately.
TEST_LIMITS = {
    "RATE_LIMIT_SIGNUPS": "10000/3600",
    "RATE_LIMIT_MESSAGES": "10000/10",
    "RATE_LIMIT_CONNECTS": "10000/60",  # every test page connects from 127.0.0.1
    "RATE_LIMIT_LOGIN_PER_ADDRESS": "10000/180",
}


class QuickHeadProtocol(GuardedHttpProtocol):
    """The Procfile's HTTP protocol with a 1 s request-head deadline, for the slow-client test
    (`--http tests.servers:QuickHeadProtocol`)."""

    head_timeout = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(
    port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"process on port {port} exited") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listening on {port}") from None
            time.sleep(0.05)


@dataclass
class Server:
    """One uvicorn process serving DiscussIt, as the Procfile's web line runs it."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    graceful: int = 10
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_healthy: bool = True) -> Server:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "discussit.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ws",
                "websockets-sansio",
                "--ws-max-size",
                "65536",
                "--ws-per-message-deflate",
                "false",
                "--ws-ping-interval",
                "20",
                "--ws-ping-timeout",
                "20",
                "--no-proxy-headers",
                "--http",
                "discussit.core.security.slowclients:GuardedHttpProtocol",
                "--limit-concurrency",
                "12000",
                "--timeout-graceful-shutdown",
                str(self.graceful),
                *self.extra_args,  # later flags win (e.g. a shorter ping for dead-peer tests)
            ],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **TEST_LIMITS, **self.env},
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process)
        if not wait_healthy:
            return self
        deadline = time.monotonic() + 20
        while httpx.get(self.url + "/healthz").status_code != 200:
            assert time.monotonic() < deadline, "never healthy:\n" + self.log()
            time.sleep(0.1)
        return self

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; returns (exit code, seconds until the process was gone)."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=self.graceful + 20)
        self._log.close()
        return code, time.monotonic() - began

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def create_group(self, name: str, description: str = "") -> str:
        """Create a group with the staff command; returns its id."""
        out = self.command("create-group", name, "--description", description)
        found = re.search(r"\(([0-9a-f-]{36})\)", out)
        assert found, out
        return found.group(1)

    def command(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "discussit", *args],
            cwd=ROOT,
            env={"PATH": os.environ.get("PATH", ""), **self.env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


class Member:
    """A signed-up user of one server, with a cookie jar like a browser's."""

    def __init__(self, server: Server, username: str) -> None:
        self.server = server
        self.username = username
        self.http = httpx.Client(base_url=server.url, follow_redirects=False, timeout=10)
        page = self.http.get("/signup")
        response = self.http.post(
            "/signup",
            data={
                "csrf_token": csrf_of(page.text),
                "username": username,
                "password": PASSWORD,
                "password2": PASSWORD,
            },
        )
        if response.status_code != 303:  # already signed up (through another server)
            page = self.http.get("/login")
            response = self.http.post(
                "/login",
                data={"csrf_token": csrf_of(page.text), "username": username, "password": PASSWORD},
            )
        assert response.status_code == 303, response.text

    @property
    def user_id(self) -> int:
        """This user's id, as the home page gives it to the page's script."""
        page = self.http.get("/").text
        found = re.search(r'data-viewer-id="(\d+)"', page)
        assert found is not None, "not logged in"
        return int(found.group(1))

    def join(self, group_id: str) -> None:
        token = csrf_of(self.http.get("/").text)
        response = self.http.post(
            f"/groups/{group_id}/membership", data={"csrf_token": token, "next": "/"}
        )
        assert response.status_code == 303

    def cursor(self, group_id: str) -> int:
        page = self.http.get(f"/groups/{group_id}/").text
        return int(re.search(r'id="last-seq" name="after" value="(\d+)"', page).group(1))

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    def close(self) -> None:
        self.http.close()


class Page:
    """An open group page's socket: resumes from a cursor, records every entry it is shown."""

    def __init__(self, member: Member, group_id: str, server: Server | None = None) -> None:
        self.member = member
        self.group_id = group_id
        self.server = server or member.server
        self.entries: list[tuple[int, str]] = []  # (seq, text of the line)
        self.frames: list[str] = []  # every frame, as sent
        self.arrivals: dict[str, float] = {}  # message text -> when it arrived
        self.ws: ClientConnection | None = None
        self.close_code: int | None = None
        self._reader: asyncio.Task[None] | None = None

    async def open(self, after: int, resume: bool = True) -> Page:
        self.ws = await connect(
            f"ws://127.0.0.1:{self.server.port}/groups/{self.group_id}/ws",
            origin=self.server.url,  # type: ignore[arg-type]
            additional_headers={"Cookie": self.member.cookie_header()},
            compression="deflate",
            max_size=2**20,
            open_timeout=10,
        )
        if resume:
            # A refused page may be closed before this (1008): the reader records the code.
            with suppress(ConnectionClosed):
                await self.ws.send(
                    json.dumps(
                        {
                            "type": "resume",
                            "page": SOCKET_PAGE,
                            "after": str(after),
                            "headers": {"HX-Request": "true"},
                        }
                    )
                )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                text = frame if isinstance(frame, str) else frame.decode()
                self.frames.append(text)
                for seq, body in re.findall(r'<li id="entry-(\d+)"[^>]*>(.*?)</li>', text, re.S):
                    words = re.sub(r"<[^>]+>", " ", body).split()
                    if not words:  # a removal (hx-swap-oob="delete"), not a line shown
                        continue
                    self.entries.append((int(seq), " ".join(words)))
                    self.arrivals.setdefault(words[-1], time.monotonic())
        except Exception:
            pass
        finally:
            self.close_code = self.ws.close_code

    async def say(self, text: str) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"text": text, "headers": {"HX-Request": "true"}}))

    def texts(self) -> list[str]:
        return [t for _, t in self.entries]

    async def wait_for(self, count: int, predicate: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while sum(1 for e in self.entries if predicate(e)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.member.username} saw {len(self.entries)} entries")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


POST_DIRECTLY = """
import asyncio, sys, uuid
from discussit.accounts.auth import find_user
from discussit.core.db import Database, make_engine
from discussit.timeline.store import store_message

async def main(url, group, name, text):
    db = Database(make_engine(url))
    async with db.session() as session:
        user = await find_user(session, name)
    await store_message(db, uuid.UUID(group), user.id, user.username, text)
    await db.close()

asyncio.run(main(*sys.argv[1:]))
"""


def post_directly(env: dict[str, str], group_id: str, username: str, text: str) -> None:
    """Store a message while no server runs (what other processes do during a deploy)."""
    subprocess.run(
        [sys.executable, "-c", POST_DIRECTLY, env["DATABASE_URL"], group_id, username, text],
        cwd=ROOT,
        check=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One client-to-server WebSocket frame (RFC 6455: clients mask)."""
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def raw_socket(
    server: Server, member: Member, group_id: str, receive_buffer: int | None = None, after: int = 0
) -> socket.socket:
    """A group page's socket driven by hand: it completes the handshake and sends the resume
    frame, then does only what the test does (e.g. never reads, never answers pings)."""
    import base64

    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /groups/{group_id}/ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {server.url}\r\n"
        f"Cookie: {member.cookie_header()}\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    sock.sendall(
        masked_frame(
            json.dumps({"type": "resume", "page": SOCKET_PAGE, "after": str(after)}).encode()
        )
    )
    return sock


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class SwitchableProxy:
    """A TCP forwarder to a local server that can turn into a black hole: connections stay
    open, bytes go in and nothing comes back (a server gone off the network, not one that
    refuses). Runs its own event loop in a thread."""

    def __init__(self, target_port: int) -> None:
        import threading

        self.target_port = target_port
        self.port = free_port()
        self.holed = False
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        assert started.wait(10)

    def _run(self, started: Any) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._shut())
        self.loop.close()

    async def _shut(self) -> None:
        self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for writer in self.writers:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for w in self.writers), return_exceptions=True)
        await self.server.wait_closed()

    def blackhole(self) -> None:
        self.holed = True

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        if self.holed:
            await self._swallow(reader)
            return
        try:
            upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            return
        self.writers.add(upstream_w)
        await asyncio.gather(self._pipe(reader, upstream_w), self._pipe(upstream_r, writer))

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if not self.holed:
                    sink.write(data)
                    await sink.drain()
        except (ConnectionError, OSError):
            pass

    async def _swallow(self, source: asyncio.StreamReader) -> None:
        try:
            while await source.read(65536):
                pass
        except (ConnectionError, OSError):
            pass
