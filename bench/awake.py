"""Keep the benchmark's cores awake, so that a wake-up of the machine is no server's latency.

On this virtual machine a core with nothing to do halts at once (the guest's halt polling is
off: /sys/module/haltpoll/parameters/guest_halt_poll_ns is 0), and whoever wakes it pays: a
socket write that wakes the generator's halted core took 0.5 to 1 ms of the writing server's
CPU instead of about 20 µs. Which server pays depends on how long it takes per message, not on
how it sends: while DiscussIt stores a message the generator's core halts, while the relay
forwards one it does not. At N = 10 that was the whole p99 (measured on 2026-12-01, 600
messages each: relay 8.4 / DiscussIt 11.6 ms with cores halting, 3.2 / 4.8 ms kept awake).

So each core runs a spinner at idle priority (SCHED_IDLE) for the whole run: it runs only when
nothing else wants the core, anything that wakes takes the core from it at once, and its CPU is
in neither server's figures (they count each server's own processes). A client machine on a
real network does not charge its wake-ups to the server either.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HALT_POLL = Path("/sys/module/haltpoll/parameters/guest_halt_poll_ns")
PR_SET_PDEATHSIG = 1


def halt_poll_ns() -> int | None:
    """How long an idle core of this guest polls before it halts (None: not a haltpoll guest)."""
    try:
        return int(HALT_POLL.read_text())
    except (OSError, ValueError):
        return None


def _idle_priority_and_die_with_parent() -> None:
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@contextmanager
def cores_awake(cores: tuple[int, ...] = (0, 1)) -> Iterator[list[int]]:
    """Yields the cores kept awake: each spinner still running once the run is over."""
    awake: list[int] = []
    spinners = [
        subprocess.Popen(
            ["taskset", "-c", str(core), sys.executable, "-c", "while True: pass"],
            preexec_fn=_idle_priority_and_die_with_parent,
        )
        for core in cores
        if core in os.sched_getaffinity(0)
    ]
    try:
        yield awake
    finally:
        for core, spinner in zip(cores, spinners, strict=False):
            if spinner.poll() is None:
                awake.append(core)
            spinner.kill()
            spinner.wait()
