"""The reconnect storm: many open pages on one process; the server restarts (SIGTERM, a new
process on the same port and database); every page reconnects at once with its cursor while
messages keep arriving. How long until every page is live and caught up; nothing lost, nothing
shown twice."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time

from bench.pages import LivePage, last_seqs, seed_groups
from bench.run import RESULTS, Target, bench_env, cpu_seconds

GROUPS = 50
RATE = 10.0  # messages per second, spread over the groups


async def storm(pages: int = 5000) -> dict[str, float]:
    members = pages // GROUPS
    db = RESULTS / "tmp" / f"storm-{secrets.token_hex(4)}.db"
    env = bench_env(f"sqlite:///{db}")
    first = Target("discussit", env=env)
    first.start()
    # One member of each group more, who sends: its page is not counted.
    seeded, _ = seed_groups(env["DATABASE_URL"], env["SECRET_KEY"], GROUPS, members + 1)
    groups = [g.id for g in seeded]
    stop = asyncio.Event()
    watched = [LivePage(first.port, g.id, c) for g in seeded for c in g.cookies[1:]]
    senders = [LivePage(first.port, g.id, g.cookies[0]) for g in seeded]
    tasks = []
    for start in range(0, len(watched), 100):  # opened as pages open, 100 at a time
        batch = watched[start : start + 100]
        tasks += [asyncio.create_task(p.keep_open(stop)) for p in batch]
        while any(p.ws is None for p in batch):
            await asyncio.sleep(0.01)
    tasks += [asyncio.create_task(p.keep_open(stop)) for p in senders]
    sent = 0
    sending = asyncio.Event()
    sent_at: dict[int, float] = {}

    async def send() -> None:
        nonlocal sent
        began = time.perf_counter()
        for i in itertools.count():
            if sending.is_set() and senders[i % GROUPS].say(f"storm nonce{i}x"):
                sent_at[i] = time.perf_counter()
                sent += 1
            await asyncio.sleep(max(0.0, began + (i + 1) / RATE - time.perf_counter()))

    sender = asyncio.create_task(send())
    sending.set()
    await asyncio.sleep(3)  # steady: every page live, messages flowing
    assert first.process is not None
    killed = time.perf_counter()
    first.stop()  # SIGTERM; waits for the process to end
    old_exit = time.perf_counter() - killed
    second = Target("discussit", env=env, port=first.port)
    second.start()
    assert second.process is not None
    ready = time.perf_counter()
    cpu_before = cpu_seconds(second.process.pid)
    # A page is live again when it receives a message sent after the new process was ready
    # (each group gets one every GROUPS / RATE seconds, so this includes up to that wait).
    deadline = ready + 60
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.25)
        if all(any(sent_at.get(i, 0) > ready for i in p.arrivals) for p in watched):
            break
    cpu = cpu_seconds(second.process.pid) - cpu_before
    await asyncio.sleep(5)  # messages keep coming: every page stays live
    sending.clear()
    sender.cancel()
    # Everything sent is delivered: wait until every page has its group's last entry (or 30 s).
    final = last_seqs(db)
    settle = time.perf_counter() + 30
    while time.perf_counter() < settle and any(p.newest < final[p.group] for p in watched):
        await asyncio.sleep(0.1)
    settled_s = time.perf_counter() - settle + 30
    firsts = [
        min((t for i, t in p.arrivals.items() if sent_at.get(i, 0) > ready), default=None)
        for p in watched
    ]
    arrived = [t for t in firsts if t is not None]
    all_live = max(arrived) - killed if len(arrived) == len(firsts) else float("nan")
    # Only messages that were stored count (a page shows them); one said to the old process
    # as it closed was never accepted.
    stored = set().union(*(p.arrivals for p in watched))
    stored_at = {i: at for i, at in sent_at.items() if i in stored}
    caught_up = [_caught_up(p, groups.index(p.group), stored_at) for p in watched]
    latencies = sorted(
        t - sent_at[i] for p in watched for i, t in p.arrivals.items() if sent_at.get(i, 0) > ready
    )
    p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else float("nan")
    shakes = sorted(d for p in watched for began, d in p.handshakes if began > killed)
    lost = sum(len(set(range(1, final[p.group] + 1)) - p.seen) for p in watched)
    duplicates = sum(p.duplicates for p in watched)
    stop.set()
    await asyncio.gather(
        *(p.ws.close() for p in watched + senders if p.ws is not None), return_exceptions=True
    )
    for task in tasks:
        task.cancel()
    second.stop()
    return {
        "pages": len(watched),
        "groups": GROUPS,
        "rate": RATE,
        "messages": sum(final.values()),
        "old_process_exit_s": old_exit,
        "all_live_after_restart_s": all_live,
        "all_caught_up_after_restart_s": max(caught_up) - killed
        if all(t is not None for t in caught_up)
        else float("nan"),
        "new_process_ready_after_s": ready - killed,
        "lost": lost,
        "duplicates": duplicates,
        "server_cpu_s": cpu,
        "connects": sum(p.connects for p in watched),
        "p99_ms_sent_after_restart": p99,
        "last_entry_everywhere_s": settled_s,
        "handshake_p99_s": shakes[int(len(shakes) * 0.99)] if shakes else float("nan"),
    }


def _caught_up(page: LivePage, group: int, sent_at: dict[int, float]) -> float | None:
    """When `page` was live again and caught up: its last connect (its resume frame sent), or
    later, when the last message sent to its group before that connect arrived (replayed, or
    live if it was stored after). None: one of those never arrived."""
    reconnected = page.live_since
    before = [i for i, at in sent_at.items() if i % GROUPS == group and at < reconnected]
    if any(i not in page.arrivals for i in before):
        return None
    return max([reconnected, *(page.arrivals[i] for i in before)])


if __name__ == "__main__":
    import os
    import sys

    os.sched_setaffinity(0, {0})
    print(asyncio.run(storm(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)))
