"""The change phase: edits and reactions to one message, fanned out to N open pages.

DiscussIt: the first page posts a message, then edits it and toggles its reaction in turn, each
a change at its own seq; every page receives the message as it is after each change (render
once, send to many). The relay forwards the very frames the page sends (the same JSON), as it
forwards messages. Both measured like a round of messages (bench/run.py): the server's CPU per
delivery, and when each page received each change.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

from bench.run import LibrarySocket, Phase, cpu_seconds, generator_gc_paused, percentile
from bench.wsclient import LeanSocket


def change_frame(k: int, seq: int) -> str:
    """The k-th change as a page sends it (htmx 4 hx-ws:send): an edit (k even) or a reaction
    turned on or off (k odd), so that every one changes something."""
    if k % 2 == 0:
        values = {"type": "edit", "seq": str(seq), "text": f"edited {k}"}
    else:
        values = {"type": "react", "seq": str(seq), "emoji": "👍"}
        values["on"] = "on" if k % 4 == 1 else "off"
    frame = {**values, "change": str(k), "headers": {"HX-Request": "true"}}
    return json.dumps(frame, separators=(",", ":"))


async def change_round(phase: Phase, count: int, rate: float) -> dict[str, float]:
    target = phase.target
    assert target.process is not None
    pid = target.process.pid
    receivers = phase.receivers
    sender = receivers[0].ws
    assert sender is not None
    relay = target.name == "relay"
    seq = 0
    if not relay:  # the message to change (sent and delivered before measuring)
        frames = [r.frames for r in receivers]
        seq = await _post(sender)
        await _until(lambda: all(r.frames > f for r, f in zip(receivers, frames, strict=True)), 30)
    first = 0 if relay else seq + 1  # DiscussIt: change k is the entry at seq + 1 + k
    for r in receivers:
        r.changed.clear()
    sent_at: dict[int, float] = {}
    bytes_before = sum(r.received_bytes for r in receivers)
    with generator_gc_paused():
        cpu_before = cpu_seconds(pid)
        began = time.perf_counter()
        for k in range(count):
            await asyncio.sleep(max(0.0, began + k / rate - time.perf_counter()))
            sent_at[first + k] = time.perf_counter()
            sender.send_text(change_frame(k, seq))
        expected = count * len(receivers)
        await _until(lambda: sum(len(r.changed) for r in receivers) >= expected, 60)
        cpu = cpu_seconds(pid) - cpu_before
    latencies = [t - sent_at[k] for r in receivers for k, t in r.changed.items() if k in sent_at]
    delivered = len(latencies)
    return {
        "n": len(receivers),
        "changes": count,
        "delivered": delivered,
        "expected": expected,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "cpu_us_per_delivery": cpu / max(delivered, 1) * 1e6,
        "bytes_per_delivery": (sum(r.received_bytes for r in receivers) - bytes_before)
        / max(delivered, 1),
    }


async def _post(sender: LeanSocket | LibrarySocket) -> int:
    """Post the message to change from the sender's page; its seq, as the page receives it."""
    assert isinstance(sender, LeanSocket)
    posted: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    receive = sender.on_message

    def watch(payload: bytes) -> None:
        receive(payload)
        found = re.search(rb'id="entry-(\d+)"', payload)
        if b"to be changed" in payload and found and not posted.done():
            posted.set_result(int(found[1]))

    sender.on_message = watch
    sender.send_text(json.dumps({"text": "to be changed", "headers": {"HX-Request": "true"}}))
    try:
        return await asyncio.wait_for(posted, 30)
    finally:
        sender.on_message = receive


async def _until(done: object, seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while not done() and time.perf_counter() < deadline:  # type: ignore[operator]
        await asyncio.sleep(0.05)
