"""Run the fan-out benchmark: `make bench` (or `python -m bench [--quick]`).

One group of N members. N receivers open the group's WebSocket as the page does (htmx 4 wire
format, session cookie, Origin, permessage-deflate offered as browsers do); S senders post at a
set rate (or as fast as they can); every receiver records when each message (a nonce in its
text) arrives. The same generator then drives the bare relay (bench/relay.py) in the same run,
so every figure is a ratio. Server and generator are pinned to different cores; loopback only;
every phase has a time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import hashlib
import json
import os
import re
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import itsdangerous
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websockets_connect

from bench import wsclient
from bench.awake import cores_awake, halt_poll_ns
from bench.wsclient import LeanSocket
from discussit.chat.presence import MAX_WINDOW
from discussit.core.templating import SOCKET_PAGE
from discussit.timeline.formatting import RENDER_VERSION, to_html

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
NONCE = re.compile(rb"bn(\d+)x(\d+)e")
# A change (an edit, a reaction) as a page receives it: DiscussIt's fragment moves the page's
# cursor to the change's seq; the relay forwards the sender's frame, which carries a count.
CHANGE = re.compile(rb'id="last-seq" name="after" value="(\d+)"|"change":"(\d+)"')
TICK = os.sysconf("SC_CLK_TCK")
ROUNDS = {10: 6, 100: 4}  # rounds of 100 messages at 10 msg/s by N (2 at any other N)
ROUND_PAUSE = 1.0  # seconds before each round of side_by_side
CHANGES, CHANGES_N = 60, 1000  # edits and reactions (half each) fanned out to N open pages


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree(pid: int) -> list[int]:
    """The server and its worker processes (uvicorn --workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, IndexError):
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def cpu_seconds(pid: int) -> float:
    """The CPU time of the server and its workers, every thread, to the nanosecond: each
    process's CPU clock (Linux's clock_getcpuclockid(pid), the scheduler's own count, which is
    also what /proc/<pid>/stat shows, there in 10 ms ticks: too coarse for a phase of a few
    tenths of a second). A process the clock cannot be read for counts in ticks."""
    total = 0.0
    for p in tree(pid):
        with suppress(OSError):
            try:
                total += time.clock_gettime(_process_clock(p))
            except OSError:
                fields = _stat(p)
                total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def _process_clock(pid: int) -> int:
    """The clock id glibc's clock_getcpuclockid(pid) gives (Linux: CPUCLOCK_SCHED of the whole
    process, MAKE_PROCESS_CPUCLOCK in the kernel's posix-timers.h)."""
    return (~pid << 3) | 2


def rss_kib(pid: int) -> int:
    total = 0
    for p in tree(pid):
        with suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def procfile_flags() -> list[str]:
    """The uvicorn flags of the Procfile's web line, without the app, host, port and workers."""
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("web:"))
    words = shlex.split(line.removeprefix("web:"))
    words = words[words.index("uvicorn") + 2 :]  # after `uvicorn <app>`
    flags: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in ("--host", "--port", "--workers"):
            skip = True
        else:
            flags.append(word)
    return flags


def bench_env(database_url: str, **more: str) -> dict[str, str]:
    """A server's environment in the bench: a fresh key, no demo groups, and budgets no test
    load reaches (every page connects from one address); `more` adds or overrides."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "SEED_DEMO_GROUPS": "false",
        "FIRST_ACCOUNT_STAFF": "false",
        "RATE_LIMIT_MESSAGES": "1000000/10",
        "RATE_LIMIT_CHANGES": "1000000/60",
        "RATE_LIMIT_CONNECTS": "1000000/60",
        "SOCKETS_PER_USER": "1000",
        **more,
    }


def signed_login(session: Any, user_id: int, signer: itsdangerous.TimestampSigner) -> str:
    """A login for `user_id` added to `session` (no Argon2), and its cookie, signed exactly as
    Starlette's SessionMiddleware signs it."""
    from discussit.models import AuthSession

    token = secrets.token_urlsafe(32)
    session.add(AuthSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user_id))
    data = base64.b64encode(json.dumps({"sid": token, "csrf": "bench"}).encode())
    return "discussit_session=" + signer.sign(data).decode()


@dataclass
class Target:
    """A server under test: DiscussIt itself, or the bare relay."""

    name: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    group: str = "room"
    cookies: list[str] = field(default_factory=list)
    folder: Path = RESULTS / "tmp"
    workers: int = 1
    cores: str = "1"  # the generator runs on core 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        app = "bench.relay:create_app" if self.name == "relay" else "discussit.app:create_app"
        # Both servers run the Procfile's web line as it is (transport, frame limit, no
        # compression, pings, HTTP protocol, limits, logging: uvicorn's default access log),
        # only the app, host, port and worker count differ.
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            *procfile_flags(),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["taskset", "-c", self.cores, *command],
            cwd=ROOT,
            env={"PATH": os.environ.get("PATH", ""), **self.env},
            stdout=(self.folder / f"{self.name}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url + ("/healthz" if self.name != "relay" else "/"), timeout=1)
                if len(tree(self.process.pid)) > self.workers:  # every worker is up
                    time.sleep(1)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline and self.process.poll() is None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


def seed_app(target: Target, members: int, history: int = 0, groups: int = 1) -> None:
    """Users, sessions and memberships straight into the app's database (no 2,000 Argon2
    hashes), with session cookies signed exactly as Starlette's SessionMiddleware signs them."""
    from sqlmodel import Session, create_engine

    from discussit.core import migrate
    from discussit.core.db import sync_url
    from discussit.models import Group, Membership, Message, User

    url = target.env["DATABASE_URL"]
    migrate.upgrade(url)
    engine = create_engine(sync_url(url))
    signer = itsdangerous.TimestampSigner(target.env["SECRET_KEY"])
    group_id = uuid.uuid4()
    with Session(engine) as session:
        name = f"Bench {group_id.hex[:6]}"
        session.add(Group(id=group_id, name=name, name_key=name.casefold(), last_seq=history))
        for g in range(groups - 1):
            extra = f"Extra {group_id.hex[:6]} {g}"
            session.add(Group(name=extra, name_key=extra.casefold()))
        session.commit()
        users = [
            User(
                username=f"b{group_id.hex[:6]}{i}",
                username_key=f"b{group_id.hex[:6]}{i}",
                password_hash="!",
            )
            for i in range(members)
        ]
        session.add_all(users)
        session.commit()
        cookies = []
        for user in users:
            assert user.id is not None
            session.add(Membership(group_id=group_id, user_id=user.id))
            cookies.append(signed_login(session, user.id, signer))
        for seq in range(1, history + 1):
            session.add(
                Message(
                    group_id=group_id,
                    seq=seq,
                    author_id=users[0].id,
                    body=f"history {seq}",
                    body_html=to_html(f"history {seq}"),
                    render_version=RENDER_VERSION,
                )
            )
        session.commit()
    engine.dispose()
    target.group, target.cookies = str(group_id), cookies


@dataclass
class Receiver:
    """One open page: when each message (its nonce) arrived."""

    arrivals: dict[tuple[int, int], float] = field(default_factory=dict)
    ws: LeanSocket | None = None
    received_bytes: int = 0  # payload bytes of every frame, to measure bytes per delivery
    frames: int = 0  # frames received (a frame may carry several messages)
    changed: dict[int, float] = field(default_factory=dict)  # change number -> arrival
    typing: int = 0  # typing signals received (bench/typing_phase.py)

    def on_message(self, payload: bytes) -> None:
        now = time.perf_counter()
        self.received_bytes += len(payload)
        self.frames += 1
        for sender, i in NONCE.findall(payload):
            self.arrivals.setdefault((int(sender), int(i)), now)
        if b"last-seq" in payload or b'"change"' in payload:
            for seq, count in CHANGE.findall(payload):
                self.changed.setdefault(int(seq or count), now)
        if b"typing" in payload:
            self.typing += 1


class LibrarySocket:
    """A page's socket through the `websockets` library: the check that the lean client measures
    the servers as a well-kept client would (same interface as LeanSocket)."""

    def __init__(self, ws: ClientConnection, on_message: Callable[[bytes], None]) -> None:
        self.ws = ws
        self.reader = asyncio.get_running_loop().create_task(self._read(on_message))
        self.sends: set[asyncio.Task[None]] = set()

    async def _read(self, on_message: Callable[[bytes], None]) -> None:
        with suppress(Exception):
            async for frame in self.ws:
                on_message(frame if isinstance(frame, bytes) else frame.encode())

    def send_text(self, text: str) -> None:
        task = asyncio.get_running_loop().create_task(self.ws.send(text))
        self.sends.add(task)
        task.add_done_callback(self.sends.discard)

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self.reader, *self.sends, return_exceptions=True)


async def open_page(
    target: Target,
    cookie: str,
    cursor: int,
    on_message: Callable[[bytes], None],
    client: str = "lean",
) -> LeanSocket | LibrarySocket:
    url = f"ws://127.0.0.1:{target.port}/groups/{target.group}/ws"
    ws: LeanSocket | LibrarySocket
    if client == "websockets":
        connection = await websockets_connect(
            url,
            origin=target.url,  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie} if cookie else None,
            compression=None,
            max_size=2**20,
            open_timeout=30,
            ping_interval=None,
        )
        ws = LibrarySocket(connection, on_message)
    else:
        ws = await wsclient.connect(url, on_message, origin=target.url, cookie=cookie)
    if target.name != "relay":  # the page's hidden resume form (htmx 4 wire format): shown,
        # so what it is sent is read (marked by the server, as for a browser's visible page)
        ws.send_text(
            json.dumps(
                {
                    "type": "resume",
                    "page": SOCKET_PAGE,
                    "after": str(cursor),
                    "visible": "1",
                    "headers": {"HX-Request": "true", "HX-Source": "form#resume"},
                }
            )
        )
    return ws


async def open_pages(
    target: Target, n: int, cursor: int, first: int = 0, client: str = "lean"
) -> list[Receiver]:
    """n pages (members first, first + 1, ...), opened in batches of 100 as pages open; each
    reads from its first frame."""
    receivers = [Receiver() for _ in range(n)]
    for start in range(0, n, 100):
        batch = range(start, min(n, start + 100))
        sockets = await asyncio.gather(
            *(
                open_page(
                    target,
                    target.cookies[first + i] if target.cookies else "",
                    cursor,
                    receivers[i].on_message,
                    client,
                )
                for i in batch
            )
        )
        for i, ws in zip(batch, sockets, strict=True):
            receivers[i].ws = ws
    return receivers


async def retry_refused(
    target: Target, receivers: list[Receiver], cursor: int, client: str = "lean"
) -> int:
    """Pages told to retry later (1013: the server was busy as they connected) open again, as
    htmx does, until every page is open (or 30 s). Returns how many retries it took."""
    retried = 0
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        refused = [
            (i, r)
            for i, r in enumerate(receivers)
            if isinstance(r.ws, LeanSocket) and r.ws.closed.is_set()
        ]
        if not refused:
            break
        for i, r in refused:
            r.ws = await open_page(
                target, target.cookies[i] if target.cookies else "", cursor, r.on_message, client
            )
        retried += len(refused)
        await asyncio.sleep(3.5)  # a refusal comes within the server's 3 s presence deadline
    return retried


async def close_pages(receivers: list[Receiver]) -> None:
    await asyncio.gather(*(r.ws.close() for r in receivers if r.ws is not None))


def frame(sender: int, i: int) -> str:
    """What the composer form sends (htmx 4 hx-ws:send): form values plus `headers`."""
    return json.dumps(
        {
            "csrf_token": "bench",
            "client_message_id": str(uuid.uuid4()),
            "text": f"hello bn{sender}x{i}e",
            "headers": {"HX-Request": "true", "HX-Source": "form#composer"},
        }
    )


@contextmanager
def generator_gc_paused() -> Iterator[None]:
    """The generator's own garbage collector paused while it measures (both servers alike).
    Latency is stamped when the generator reads a frame, so its pauses would count as the
    server's: with 2,000 pages its full collections took 80-120 ms each (every few seconds, as
    arrivals pile up), and every message in flight then looked that much later. Objects are
    still freed when their last reference goes; only cycles wait for the end of the phase."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


@dataclass
class Phase:
    """N open pages on one server, and what the rounds of sending measured on them."""

    target: Target
    receivers: list[Receiver]
    connect_seconds: float
    retried: int
    connect_cpu: float
    rss_kib_per_socket: float
    sent_at: dict[tuple[int, int], float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0
    generator_cpu: float = 0.0
    wall: float = 0.0
    received_bytes: int = 0
    frames: int = 0
    expected: int = 0
    sent: int = 0  # messages sent per sender so far: the next round's nonces go on from here


async def open_phase(target: Target, n: int, client: str = "lean") -> Phase:
    """n receivers open the group's page and settle; connect CPU and memory measured."""
    assert target.process is not None
    pid = target.process.pid
    if target.name != "relay":
        seed_app(target, n)
    rss_before = rss_kib(pid)
    cpu_before = cpu_seconds(pid)
    began = time.perf_counter()
    receivers = await open_pages(target, n, 0, client=client)
    connect_seconds = time.perf_counter() - began
    # Let the presence updates of the connects settle: while pages keep connecting, a group's
    # presence sends back off up to MAX_WINDOW seconds (chat/presence.py), and the last one
    # must not land in the measured phase.
    await asyncio.sleep(MAX_WINDOW + 1.0)
    retried = await retry_refused(target, receivers, 0, client)
    return Phase(
        target,
        receivers,
        connect_seconds,
        retried,
        connect_cpu=cpu_seconds(pid) - cpu_before,
        rss_kib_per_socket=(rss_kib(pid) - rss_before) / n,
    )


async def send_round(phase: Phase, senders: int, messages: int, rate: float | None) -> None:
    """`senders` of the phase's pages send `messages` each; every arrival waited for (or 60 s)."""
    assert phase.target.process is not None
    pid = phase.target.process.pid
    receivers = phase.receivers
    first = phase.sent
    sent_at: dict[tuple[int, int], float] = {}
    bytes_before = sum(r.received_bytes for r in receivers)
    frames_before = sum(r.frames for r in receivers)
    arrived_before = sum(len(r.arrivals) for r in receivers)
    with generator_gc_paused():
        cpu_before = cpu_seconds(pid)
        generator_cpu_before = time.process_time()
        began = time.perf_counter()

        async def send(s: int) -> None:
            ws = receivers[s].ws
            assert ws is not None
            for i in range(first, first + messages):
                if rate is not None:  # the senders take turns, evenly spaced: `rate` in all
                    due = began + ((i - first) * senders + s) / rate
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                sent_at[(s, i)] = time.perf_counter()
                ws.send_text(frame(s, i))
                if rate is None:
                    await asyncio.sleep(0)  # as fast as possible, but let receivers read

        await asyncio.gather(*(send(s) for s in range(senders)))
        expected = senders * messages * len(receivers)
        deadline = time.perf_counter() + 60
        while (
            sum(len(r.arrivals) for r in receivers) - arrived_before < expected
            and time.perf_counter() < deadline
        ):
            await asyncio.sleep(0.05)
        last = max(
            (t for r in receivers for k, t in r.arrivals.items() if k in sent_at), default=began
        )
        phase.cpu += cpu_seconds(pid) - cpu_before
        phase.generator_cpu += time.process_time() - generator_cpu_before
    phase.wall += last - began
    phase.latencies += [
        t - sent_at[k] for r in receivers for k, t in r.arrivals.items() if k in sent_at
    ]
    phase.sent_at.update(sent_at)
    phase.expected += expected
    phase.sent += messages
    phase.received_bytes += sum(r.received_bytes for r in receivers) - bytes_before
    phase.frames += sum(r.frames for r in receivers) - frames_before


def summary(phase: Phase) -> dict[str, float]:
    latencies, n = phase.latencies, len(phase.receivers)
    delivered = len(latencies)
    return {
        "n": n,
        "messages": len(phase.sent_at),
        "delivered": delivered,
        "expected": phase.expected,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=0) * 1000,
        "deliveries_per_s": delivered / max(phase.wall, 1e-9),
        "cpu_us_per_delivery": phase.cpu / max(delivered, 1) * 1e6,
        "generator_cpu_us_per_delivery": phase.generator_cpu / max(delivered, 1) * 1e6,
        # The generator's CPU over the phase's wall time: near 100 % it is the limit, and
        # deliveries/s is a floor (CPU per delivery is then the server's capacity figure).
        "generator_cpu_percent": phase.generator_cpu / max(phase.wall, 1e-9) * 100,
        "bytes_per_delivery": phase.received_bytes / max(delivered, 1),
        "deliveries_per_frame": delivered / max(phase.frames, 1),
        "connect_seconds": phase.connect_seconds,
        "retried_after_1013": phase.retried,
        "connect_cpu_ms_per_socket": phase.connect_cpu / n * 1000,
        "rss_kib_per_socket": phase.rss_kib_per_socket,
    }


async def fan_out(
    target: Target, n: int, senders: int, messages: int, rate: float | None, client: str = "lean"
) -> dict[str, float]:
    """One measurement: n receivers, `senders` of them sending `messages` each."""
    phase = await open_phase(target, n, client)
    await send_round(phase, senders, messages, rate)
    await close_pages(phase.receivers)
    return summary(phase)


async def side_by_side(
    targets: list[Target], n: int, rounds: int, messages: int, rate: float, changes: int = 0
) -> list[dict[str, float]]:
    """The servers' pages all open at once, and the servers take turns: round after round of
    `messages` per sender, the first server changing every round, so that whatever else this
    machine does in the meantime falls on both alike. Each server's figures pool its rounds.
    A pause before each round lets the other server finish what a round left it to do (a
    checkpoint); what the other server spent during each round is reported all the same."""
    phases = [await open_phase(target, n) for target in targets]
    others: dict[str, float] = {phase.target.name: 0.0 for phase in phases}
    for i in range(rounds):
        for phase in phases if i % 2 == 0 else phases[::-1]:
            await asyncio.sleep(ROUND_PAUSE)
            other = next(p.target for p in phases if p is not phase)
            assert other.process is not None
            before = cpu_seconds(other.process.pid)
            await send_round(phase, senders=2, messages=messages, rate=rate)
            others[phase.target.name] += cpu_seconds(other.process.pid) - before
    changed: dict[str, dict[str, float]] = {}
    typed: dict[str, dict[str, float]] = {}
    if changes:  # then edits and reactions to one message, on the same open pages
        from bench.changes import change_round
        from bench.typing_phase import typing_round

        for phase in phases[::-1] if rounds % 2 else phases:
            await asyncio.sleep(ROUND_PAUSE)
            changed[phase.target.name] = await change_round(phase, changes, rate)
        for phase in phases if rounds % 2 else phases[::-1]:  # and typing (bench/typing_phase.py)
            await asyncio.sleep(ROUND_PAUSE)
            typed[phase.target.name] = await typing_round(phase, rate)
    for phase in phases:
        await close_pages(phase.receivers)
    return [
        {
            **summary(phase),
            "other_server_cpu_s": others[phase.target.name],
            **({"changes": changed[phase.target.name]} if changed else {}),  # type: ignore[dict-item]
            **({"typing": typed[phase.target.name]} if typed else {}),  # type: ignore[dict-item]
        }
        for phase in phases
    ]


async def hold(target: Target, n: int) -> dict[str, float]:
    """n idle group pages held open by one process: memory per page, and all of them live."""
    assert target.process is not None
    pid = target.process.pid
    if target.name != "relay":
        seed_app(target, n)
    rss_before, cpu_before = rss_kib(pid), cpu_seconds(pid)
    # Pages read from the start, as browsers do. RSS is read at half way too: the second half's
    # growth is what each further page costs, past the allocator's one-time growth.
    receivers = await open_pages(target, n // 2, 0)
    await asyncio.sleep(2.0)
    rss_half = rss_kib(pid)
    receivers += await open_pages(target, n - n // 2, 0, first=n // 2)
    await asyncio.sleep(3.0)
    rss_after, connect_cpu = rss_kib(pid), cpu_seconds(pid) - cpu_before
    assert receivers[0].ws is not None
    receivers[0].ws.send_text(frame(0, 0))  # one message: does every page still get it?
    deadline = time.perf_counter() + 30
    while sum(len(r.arrivals) for r in receivers) < n and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    received = sum(len(r.arrivals) for r in receivers)
    await close_pages(receivers)
    return {
        "n": n,
        "received": received,
        "rss_kib_per_socket": (rss_after - rss_before) / n,
        "rss_kib_per_further_socket": (rss_after - rss_half) / (n - n // 2),
        "connect_cpu_ms_per_socket": connect_cpu / n * 1000,
    }


def two_processes(database_url: str, redis_url: str, n: int) -> dict[str, object]:
    """Flat out at N on PostgreSQL + Redis: one process, then two (uvicorn --workers 2)."""
    from discussit.core import migrate

    migrate.upgrade(database_url)  # the Procfile's release step
    out: dict[str, object] = {}
    for workers in (1, 2):
        target = Target(
            "discussit",
            workers=workers,
            cores="1" if workers == 1 else "0,1",
            env=bench_env(
                database_url,
                REDIS_URL=redis_url,
                WEB_CONCURRENCY=str(workers),
                SOCKETS_PER_USER="100000",
            ),
        )
        target.start()
        try:
            out[str(workers)] = asyncio.run(fan_out(target, n, senders=2, messages=50, rate=None))
            print("two processes", workers, out[str(workers)], flush=True)
        finally:
            target.stop()
    return out


async def page_costs(target: Target) -> dict[str, float]:
    """Group page with 100 vs 100,000 messages; home with 10 vs 1,000 groups; catch-up of 500."""

    def timed(url: str, cookie: str, repeat: int = 20) -> float:
        with httpx.Client(headers={"Cookie": cookie}, timeout=30) as client:
            client.get(url)
            samples = []
            for _ in range(repeat):
                began = time.perf_counter()
                assert client.get(url).status_code == 200
                samples.append(time.perf_counter() - began)
        return statistics.median(samples) * 1000

    out: dict[str, float] = {}
    for history in (100, 100_000):
        seed_app(target, 1, history=history)
        out[f"group_page_ms_{history}"] = timed(
            f"{target.url}/groups/{target.group}/", target.cookies[0]
        )
    for groups in (10, 1000):
        seed_app(target, 1, groups=groups)
        out[f"home_page_ms_{groups}_groups"] = timed(f"{target.url}/", target.cookies[0])
    seed_app(target, 1, history=1000)
    seen, done = 0, asyncio.Event()

    def count(payload: bytes) -> None:
        nonlocal seen
        seen += len(re.findall(rb'id="entry-\d+"', payload))
        if seen >= 500:
            done.set()

    began = time.perf_counter()
    ws = await open_page(target, target.cookies[0], 500, count)
    await asyncio.wait_for(done.wait(), 30)
    out["catch_up_500_ms"] = (time.perf_counter() - began) * 1000
    await ws.close()
    return out


def run(quick: bool) -> dict[str, object]:
    os.sched_setaffinity(0, {0})  # the generator on core 0, servers on core 1
    sizes = [10, 100, 500] if quick else [10, 100, 500, 1000, 2000]
    held = 1000 if quick else 10_000  # the "10,000 open pages held by one process"
    storm_pages = 1000 if quick else 5000
    folder = RESULTS / "tmp"
    results: dict[str, object] = {
        "sizes": sizes,
        "rate": {},
        "flat_out": {},
        "pages": {},
        "hold": {},
        "two_processes": {},
        "client_check": {},
    }
    targets = [
        Target(name, env=bench_env(f"sqlite:///{folder / f'bench-{secrets.token_hex(4)}.db'}"))
        for name in ("relay", "discussit")
    ]
    try:
        for target in targets:
            target.start()
        rows: dict[str, list[dict[str, float]]] = {"relay": [], "discussit": []}
        for n in sizes:
            # Rounds of 100 messages (10 s), the servers taking turns. At N = 10 and 100 a
            # message costs little and one slow one is a large share of the p99 (with 200
            # messages at N = 10 the relay's p99 went from 2 to 14 ms, run to run): more rounds.
            rounds = ROUNDS.get(n, 2)
            # At N = 1000 the same pages then get CHANGES changes (edits and reactions).
            changes = CHANGES if n == (500 if quick else CHANGES_N) else 0
            pair = asyncio.run(side_by_side(targets, n, rounds, 50, rate=10, changes=changes))
            for target, row in zip(targets, pair, strict=True):
                rows[target.name].append(row)
                print(target.name, "rate", row, flush=True)
        results["rate"] = rows
        for target in targets:
            name = target.name
            flat_n = 1000 if not quick else 500
            flat = asyncio.run(fan_out(target, flat_n, senders=2, messages=50, rate=None))
            print(name, "flat out", flat, flush=True)
            results["flat_out"][name] = flat  # type: ignore[index]
            check_n = 1000 if not quick else 500
            check = asyncio.run(
                fan_out(target, check_n, senders=2, messages=25, rate=10, client="websockets")
            )
            print(name, "client check", check, flush=True)
            results["client_check"][name] = check  # type: ignore[index]
            if name == "discussit":
                results["pages"] = asyncio.run(page_costs(target))
                print("pages", results["pages"], flush=True)
    finally:
        for target in targets:
            target.stop()
    for target in targets:
        name = target.name
        target = Target(
            name, env={**target.env, "DATABASE_URL": target.env["DATABASE_URL"] + ".hold"}
        )
        target.start()  # memory per page on a fresh server, not one warmed by the phases above
        try:
            results["hold"][name] = asyncio.run(hold(target, held))  # type: ignore[index]
            print(name, "hold", results["hold"][name], flush=True)  # type: ignore[index]
        finally:
            target.stop()
    if not quick:
        from bench.storm import storm

        results["storm"] = asyncio.run(storm(storm_pages))
        print("storm", results["storm"], flush=True)
        from bench.busyday import busy_day

        results["busy_day"] = asyncio.run(busy_day())
        print("busy day", results["busy_day"], flush=True)
    database_url, redis_url = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    from bench.search import search_phase

    results["search"] = search_phase(100_000 if quick else 1_000_000, database_url)
    if database_url and redis_url and not quick:  # `make bench` starts both (.ci/services.sh)
        results["two_processes"] = two_processes(database_url, redis_url, 1000)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N up to 500 (a few minutes)")
    args = parser.parse_args()
    from bench.report import write

    with cores_awake() as awake:
        results = run(args.quick)
    results["halt_poll_ns"] = halt_poll_ns()
    results["cores_awake"] = awake
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(write(results))


if __name__ == "__main__":
    main()
