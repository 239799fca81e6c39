"""FrameSender.send_now: the publisher writes a live page's frame itself only when that cannot
wait; a send that would wait is abandoned with nothing written, and queued instead."""

from __future__ import annotations

import asyncio

from discussit.core.realtime.sender import FrameSender


class Protocol:
    """uvicorn's sansio protocol as send_now relies on it: `send` waits for `writable` first."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.written: list[str] = []

    async def send(self, message: dict[str, str]) -> None:
        await self.writable.wait()
        self.written.append(message["text"])


class Socket:
    def __init__(self, protocol: Protocol) -> None:
        self.scope = {"discussit.server_send": protocol.send}
        self.send = protocol.send


def test_send_now_writes_at_once_only_when_nothing_can_make_it_wait():
    async def scenario() -> tuple[list[bool], list[str], int]:
        protocol = Protocol()
        sender = FrameSender(Socket(protocol), on_slow=lambda: None)  # type: ignore[arg-type]
        answers = [sender.send_now("paused")]  # the client is not reading: nothing written
        protocol.writable.set()
        answers.append(sender.send_now("one"))
        sender.queue("queued first")
        answers.append(sender.send_now("two"))  # something is queued: it must go first
        await sender.flush()
        answers.append(sender.send_now("three"))
        await asyncio.sleep(0)
        return answers, protocol.written, len(protocol.writable._waiters)  # type: ignore[attr-defined]

    answers, written, waiting = asyncio.run(scenario())
    assert answers == [False, True, False, True]
    assert written == ["one", "queued first", "three"] and waiting == 0


def test_a_send_that_would_wait_after_all_is_abandoned_with_nothing_written():
    class Busy(Protocol):
        def __init__(self) -> None:
            super().__init__()
            self.writable.set()
            self.other = asyncio.Event()

        async def send(self, message: dict[str, str]) -> None:
            await self.other.wait()  # (uvicorn waits for nothing but `writable`)
            self.written.append(message["text"])

    async def scenario() -> tuple[bool, list[str], int]:
        protocol = Busy()
        sender = FrameSender(Socket(protocol), on_slow=lambda: None)  # type: ignore[arg-type]
        sent = sender.send_now("one")
        return sent, protocol.written, len(protocol.other._waiters)  # type: ignore[attr-defined]

    assert asyncio.run(scenario()) == (False, [], 0)


def test_a_socket_the_server_closed_itself_is_marked_closed_not_an_error():
    class Closed(Protocol):
        async def send(self, message: dict[str, str]) -> None:
            raise RuntimeError("Unexpected ASGI message 'websocket.send', after sending close")

    async def scenario() -> tuple[bool, bool]:
        protocol = Closed()
        protocol.writable.set()
        sender = FrameSender(Socket(protocol), on_slow=lambda: None)  # type: ignore[arg-type]
        return sender.send_now("one"), sender.closed

    assert asyncio.run(scenario()) == (True, True)


def test_a_fragment_queued_for_a_new_frame_goes_in_its_own_frame_after_what_came_before():
    """htmx finds every out-of-band target of a frame before it swaps any of it: an edit queued
    after the message it edits must not share that message's frame."""

    async def scenario() -> list[str]:
        protocol = Protocol()
        protocol.writable.set()
        sender = FrameSender(Socket(protocol), on_slow=lambda: None)  # type: ignore[arg-type]
        sender.queue("<li id='entry-4'>")
        sender.queue("<li id='entry-5'>")
        sender.queue("<li id='entry-4' hx-swap-oob='true'>", new_frame=True)
        sender.queue("<li id='entry-6'>")
        await sender.flush()
        sender.queue("<li id='entry-7' hx-swap-oob='true'>", new_frame=True)  # (first: no break)
        await sender.flush()
        return protocol.written

    assert asyncio.run(scenario()) == [
        "<li id='entry-4'><li id='entry-5'>",
        "<li id='entry-4' hx-swap-oob='true'><li id='entry-6'>",
        "<li id='entry-7' hx-swap-oob='true'>",
    ]
