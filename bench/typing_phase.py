"""The typing phase: TYPERS members of a 1,000-member group typing at once.

Each typing page sends a typing signal every 3 s, as the browser does while keys are pressed
(static/js/discussit.js), the pages staggered over those 3 s. First the signals alone for
TYPING_SECONDS: the server's CPU per typing delivery (what the pages receive of them: DiscussIt
gathers a group's signals into one element every half second, chat/typing.py; the relay
forwards every signal to every page, as it forwards messages). Then a round of messages at
10/s while they keep typing: its p99 against the p99 of the rounds without typing, on the
same pages.
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
        "cpu_us_per_delivery": cpu / max(delivered, 1) * 1e6,
        "cpu_percent": cpu / seconds * 100,
        "messages_delivered": len(during.latencies),
        "messages_expected": during.expected,
        "p99_ms": percentile(during.latencies, 0.99) * 1000,
        "p50_ms": percentile(during.latencies, 0.50) * 1000,
    }
