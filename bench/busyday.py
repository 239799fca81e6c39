"""A busy day: many small groups with every member's group page open and every member's home
page on its event stream, messages spread over the groups, people joining and leaving, and
pages loading meanwhile. Delivery p99 and loss, and page loads against the same pages on the
same server before the traffic started."""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
import time

import httpx2 as httpx

from bench.pages import LivePage, seed_groups
from bench.run import RESULTS, Target, bench_env, cpu_seconds, generator_gc_paused, percentile

GROUPS, MEMBERS = 50, 40
RATE = 20.0  # messages per second, spread over the groups
CHANGES = 1.0  # joins or leaves per second
LOADS = 5.0  # page loads per second (home and group pages, alternately)
SECONDS = 30.0


class EventStream(asyncio.Protocol):
    """A home page's Server-Sent Events stream (GET /updates): counts its events."""

    def __init__(self) -> None:
        self.events = 0
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data.replace(b"\r\n", b"\n")
        *done, self.buffer = self.buffer.split(b"\n\n")
        self.events += sum(1 for chunk in done if b"data:" in chunk)


async def open_stream(port: int, cookie: str) -> EventStream:
    _, stream = await asyncio.get_running_loop().create_connection(EventStream, "127.0.0.1", port)
    assert stream.transport is not None
    head = f"GET /updates HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n"
    stream.transport.write(head.encode())
    return stream


async def load_pages(
    client: httpx.AsyncClient, pages: list[tuple[str, str]], seconds: float
) -> list[float]:
    """LOADS page loads per second for `seconds`, each timed (ms)."""
    took: list[float] = []

    async def one(url: str, cookie: str) -> None:
        began = time.perf_counter()
        response = await client.get(url, headers={"Cookie": cookie})
        assert response.status_code == 200, (url, response.status_code)
        took.append((time.perf_counter() - began) * 1000)

    tasks = []
    began = time.perf_counter()
    for i in range(int(seconds * LOADS)):
        tasks.append(asyncio.create_task(one(*pages[i % len(pages)])))
        await asyncio.sleep(max(0.0, began + (i + 1) / LOADS - time.perf_counter()))
    await asyncio.gather(*tasks)
    return took


async def busy_day() -> dict[str, float]:
    db = RESULTS / "tmp" / f"busy-{secrets.token_hex(4)}.db"
    env = bench_env(f"sqlite:///{db}", RATE_LIMIT_MEMBERSHIP="1000000/60")
    target = Target("discussit", env=env)
    target.start()
    assert target.process is not None
    groups, extras = seed_groups(env["DATABASE_URL"], env["SECRET_KEY"], GROUPS, MEMBERS, 20)
    stop = asyncio.Event()
    pages = [LivePage(target.port, g.id, c) for g in groups for c in g.cookies]
    tasks = []
    for start in range(0, len(pages), 100):
        batch = pages[start : start + 100]
        tasks += [asyncio.create_task(p.keep_open(stop)) for p in batch]
        while any(p.ws is None for p in batch):
            await asyncio.sleep(0.01)
    streams = []
    for start in range(0, len(pages), 100):
        streams += await asyncio.gather(
            *(open_stream(target.port, p.cookie) for p in pages[start : start + 100])
        )
    deadline = time.perf_counter() + 120
    while any(s.events == 0 for s in streams) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)  # every home page has its first answer: the server is idle
    await asyncio.sleep(2)
    url = target.url
    loads = [
        (f"{url}/" if i % 2 == 0 else f"{url}/groups/{g.id}/", g.cookies[i % MEMBERS])
        for i, g in enumerate(groups)
    ]
    async with httpx.AsyncClient(timeout=30) as client:
        # The same pages, as many loads as during the day (the same p99 estimator), with
        # nothing else going on.
        with generator_gc_paused():
            idle = await load_pages(client, loads, SECONDS)
        sent_at: dict[int, tuple[float, str]] = {}
        senders = [pages[g * MEMBERS] for g in range(GROUPS)]
        cpu_before, began = cpu_seconds(target.process.pid), time.perf_counter()

        async def send() -> None:
            for i in itertools.count():
                if time.perf_counter() - began > SECONDS:
                    return
                sender = senders[i % GROUPS]
                if sender.say(f"busy nonce{i}x"):
                    sent_at[i] = (time.perf_counter(), sender.group)
                await asyncio.sleep(max(0.0, began + (i + 1) / RATE - time.perf_counter()))

        async def change() -> None:
            joined: dict[int, str] = {}
            headers = {"Origin": url, "Content-Type": "application/x-www-form-urlencoded"}
            for i in itertools.count():
                if time.perf_counter() - began > SECONDS:
                    return
                who = i % len(extras)
                cookie = {"Cookie": extras[who], **headers}
                if who in joined:
                    path = f"/groups/{joined.pop(who)}/membership/delete"
                else:
                    joined[who] = random.choice(groups).id
                    path = f"/groups/{joined[who]}/membership"
                response = await client.post(url + path, content="csrf_token=bench", headers=cookie)
                assert response.status_code in (200, 303), (path, response.status_code)
                await asyncio.sleep(max(0.0, began + (i + 1) / CHANGES - time.perf_counter()))

        with generator_gc_paused():
            busy, _, _ = await asyncio.gather(load_pages(client, loads, SECONDS), send(), change())
        cpu = cpu_seconds(target.process.pid) - cpu_before
    members = {g.id: MEMBERS for g in groups}
    expected = sum(members[group] for _, group in sent_at.values())
    deadline = time.perf_counter() + 30
    while sum(len(p.arrivals) for p in pages) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    latencies = [t - sent_at[i][0] for p in pages for i, t in p.arrivals.items() if i in sent_at]
    events = sum(s.events for s in streams)
    stop.set()
    for stream in streams:
        if stream.transport is not None:
            stream.transport.close()
    await asyncio.gather(*(p.ws.close() for p in pages if p.ws is not None))
    for task in tasks:
        task.cancel()
    target.stop()
    return {
        "groups": GROUPS,
        "members": MEMBERS,
        "group_pages": len(pages),
        "home_streams": len(streams),
        "messages": len(sent_at),
        "delivered": len(latencies),
        "expected": expected,
        "duplicates": sum(p.duplicates for p in pages),
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "page_load_p99_idle_ms": percentile(idle, 0.99),
        "page_load_p99_busy_ms": percentile(busy, 0.99),
        "page_load_p50_idle_ms": percentile(idle, 0.50),
        "page_load_p50_busy_ms": percentile(busy, 0.50),
        "server_cpu_percent": cpu / SECONDS * 100,
        "home_events": events,
        "seconds": SECONDS,
    }


if __name__ == "__main__":
    import os

    os.sched_setaffinity(0, {0})
    print(asyncio.run(busy_day()))
