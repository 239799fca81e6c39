"""The typing phase: TYPERS members of a 1,000-member group typing at once.

Each typing page sends a typing signal every 3 s, as the browser does while keys are pressed
(static/js/discussit.js), the pages staggered over those 3 s. First the signals alone for
TYPING_SECONDS: the server's CPU per typing delivery (what the pages receive of them: DiscussIt
gathers a group's signals into one element every half second, chat/typing.py; the relay
forwards every signal to every page, as it forwards messages). Then a round of messages at
10/s while they keep typing: its p99 against the p99 of the rounds without typing, on the
same pages.

Before the signals, the same pages sit idle for as long (nothing sent): the server's CPU then
is what it spends whatever is sent, uvicorn's pings of every page above all (each page pinged
once in 20 s). The target's figure is CPU per typing delivery beyond that idle CPU: what the
typing costs. Both servers run the same ping code, but a server whose pages connected more
slowly has its pings fall at more separate moments, each a wake-up (DiscussIt's idle CPU was
1.3 to 2x the relay's with pings, 1.2x without), and DiscussIt, which gathers signals, spreads
that idle CPU over a quarter as many deliveries as the relay. The figure with idle included is
reported beside it.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress

from bench.run import Phase, Receiver, cpu_seconds, generator_gc_paused, percentile, send_round

TYPERS = 20
TYPING_SECONDS = 20.0
EVERY = 3.0  # seconds between one page's signals
TYPING_FRAME = json.dumps(
    {"type": "typing", "headers": {"HX-Request": "true", "HX-Source": "form#typing-form"}},
    separators=(",", ":"),
)


async def _type(receiver: Receiver, offset: float, stop: asyncio.Event) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), offset)
    while not stop.is_set():
        assert receiver.ws is not None
        receiver.ws.send_text(TYPING_FRAME)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), EVERY)


async def typing_round(phase: Phase, rate: float) -> dict[str, float]:
    target = phase.target
    assert target.process is not None
    pid = target.process.pid
    receivers = phase.receivers
    typers = receivers[2 : 2 + TYPERS]  # (pages 0 and 1 send the messages)
    stop = asyncio.Event()
    before = sum(r.typing for r in receivers)
    with generator_gc_paused():
        idle_before = cpu_seconds(pid)
        idle_began = time.perf_counter()
        await asyncio.sleep(TYPING_SECONDS)
        idle_cpu = cpu_seconds(pid) - idle_before
        idle_seconds = time.perf_counter() - idle_began
        cpu_before = cpu_seconds(pid)
        tasks = [
            asyncio.get_running_loop().create_task(_type(r, i * EVERY / TYPERS, stop))
            for i, r in enumerate(typers)
        ]
        began = time.perf_counter()
        await asyncio.sleep(TYPING_SECONDS)
        cpu = cpu_seconds(pid) - cpu_before
        seconds = time.perf_counter() - began
        delivered = sum(r.typing for r in receivers) - before
    # Then messages while they type: a round of its own, its figures kept apart.
    during = Phase(target, receivers, 0.0, 0, 0.0, 0.0, sent=phase.sent)
    await send_round(during, senders=2, messages=50, rate=rate)
    phase.sent = during.sent
    stop.set()
    await asyncio.gather(*tasks)
    return {
        "n": len(receivers),
        "typers": len(typers),
        "seconds": seconds,
        "signals_sent": len(typers) * seconds / EVERY,
        "delivered": delivered,
        "cpu_us_per_delivery": cpu / max(delivered, 1) * 1e6,  # idle CPU included
        "idle_cpu_s": idle_cpu * seconds / idle_seconds,  # as long as the typing, idle
        "typing_cpu_us_per_delivery": (cpu - idle_cpu * seconds / idle_seconds)
        / max(delivered, 1)
        * 1e6,
        "cpu_percent": cpu / seconds * 100,
        "messages_delivered": len(during.latencies),
        "messages_expected": during.expected,
        "p99_ms": percentile(during.latencies, 0.99) * 1000,
        "p50_ms": percentile(during.latencies, 0.50) * 1000,
    }
