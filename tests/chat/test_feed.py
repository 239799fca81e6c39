"""The ordered feed without a socket: a plain outlet (a list of frames) and a fake database."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid

import pytest

from discussit import limits
from discussit.chat import feed as feed_module
from discussit.chat.feed import MAX_BATCH, MAX_PENDING, Feed, TooFarBehind
from discussit.core.realtime.broker import MemoryBroker
from discussit.core.realtime.items import EntryAppended
from discussit.timeline.entries import Entry, Kind

pytestmark = pytest.mark.pure  # no database or Redis: the services pass leaves it out


@pytest.fixture(autouse=True)
def _routes() -> None:
    """Entries render with paths from route names (as create_app sets them up), so this file
    passes on its own too."""
    from discussit.app import ROUTES
    from discussit.core import urls

    urls.use_routes(ROUTES)


GROUP = uuid.uuid4()


def entry(seq: int) -> Entry:
    return Entry(Kind.MESSAGE, seq, GROUP, 1, "ana", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "hi")


def live(seq: int, kind: Kind = Kind.MESSAGE) -> EntryAppended:
    return EntryAppended(seq, kind.value, 1, f"<li id='entry-{seq}'>")


class Page:
    """What the page was sent: frames of queued HTML."""

    def __init__(self, in_database: list[Entry] | None = None, last_seq: int = 0) -> None:
        self.queued: list[str] = []
        self.frames: list[str] = []
        self.closed = False
        self.in_database = in_database or []
        self.last_seq = last_seq
        self.reads: list[int] = []

    def queue(self, html: str, new_frame: bool = False) -> None:
        if new_frame and self.queued:
            self.frames.append("".join(self.queued))  # (as FrameSender sends them: in order)
            self.queued.clear()
        self.queued.append(html)

    async def flush(self) -> None:
        if self.queued:
            self.frames.append("".join(self.queued))
            self.queued.clear()

    async def read(self, after: int) -> tuple[int, list[Entry]]:
        self.reads.append(after)
        found = [e for e in self.in_database if after < e.seq <= self.last_seq]
        return self.last_seq, found[: limits.CATCH_UP_MAX + 1]

    def send_now(self, html: str) -> bool:
        if self.queued:
            return False
        self.frames.append(html)
        return True

    def feed(self) -> Feed:
        return Feed(self, self.read)

    def seqs(self) -> list[int]:
        import re

        return [int(s) for f in self.frames for s in re.findall(r"entry-(\d+)", f)]


def test_a_catch_up_sends_what_was_missed_in_frames_of_a_batch():
    page = Page([entry(s) for s in range(1, 151)], last_seq=150)
    feed = page.feed()
    sent = asyncio.run(feed.start(10))
    assert [e.seq for e in sent] == list(range(11, 151))
    assert page.seqs() == list(range(11, 151)) and feed.last_sent == 150
    assert len(page.frames) == -(-140 // MAX_BATCH)  # not one frame per entry


def test_a_cursor_past_the_end_is_clamped_so_what_comes_next_is_not_hidden():
    page = Page([entry(1)], last_seq=1)
    feed = page.feed()
    assert asyncio.run(feed.start(99)) == []
    assert feed.last_sent == 1
    assert [i.seq for i in feed.take(live(2))] == [2]


def test_too_much_missed_means_reload_and_nothing_is_sent():
    n = limits.CATCH_UP_MAX + 5
    page = Page([entry(s) for s in range(1, n + 1)], last_seq=n)
    with pytest.raises(TooFarBehind):
        asyncio.run(page.feed().start(0))
    assert page.frames == []


def test_live_entries_already_sent_are_dropped_and_early_ones_wait_for_the_gap():
    page = Page(last_seq=5)
    feed = page.feed()
    asyncio.run(feed.start(5))
    assert feed.take(live(5)) == ()  # already had it
    assert feed.take(live(7)) == () and feed.pending  # 6 is missing: held
    assert [i.seq for i in feed.take(live(6))] == [6, 7]  # the gap fills: both, in order
    asyncio.run(page.flush())
    assert page.seqs() == [6, 7] and not feed.pending


def test_a_gap_that_grows_too_large_asks_for_a_catch_up():
    page = Page(last_seq=0)
    feed = page.feed()
    asyncio.run(feed.start(0))
    answers = [feed.take(live(seq)) for seq in range(2, MAX_PENDING + 3)]
    assert answers[:-1] == [()] * MAX_PENDING and answers[-1] is None


def test_the_catch_up_releases_held_entries_that_now_follow():
    page = Page([entry(1), entry(2)], last_seq=2)
    feed = page.feed()
    feed.last_sent = 0
    feed.take(live(3))
    sent = asyncio.run(feed.catch_up())
    assert [e.seq for e in sent] == [1, 2, 3] and page.seqs() == [1, 2, 3]


def test_the_writer_sends_what_is_already_queued_in_one_frame_fills_open_gaps_and_ends(
    monkeypatch,
):
    monkeypatch.setattr(feed_module, "GAP_WAIT", 0.05)

    async def scenario() -> tuple[Page, list[str]]:
        page = Page([entry(s) for s in range(1, 4)], last_seq=3)
        feed = page.feed()
        await feed.start(0)
        page.frames.clear()
        broker = MemoryBroker()
        sub = broker.subscribe("g")
        handled: list[str] = []
        for seq in (4, 5, 6):
            sub.put(live(seq))
        sub.put(live(8))  # 7 never arrives live

        async def handle(item: EntryAppended) -> None:
            handled.append(f"take {item.seq}")
            feed.take(item)

        async def on_gap() -> None:
            handled.append("gap")
            page.in_database += [entry(7), entry(8)]
            page.last_seq = 8
            await feed.catch_up()

        await asyncio.wait_for(feed.drain(sub, handle, on_gap), 5)  # ends when all is sent
        return page, handled

    page, handled = asyncio.run(scenario())
    assert page.frames[0].count("entry-") == 3  # 4, 5, 6 together
    assert handled == ["take 4", "take 5", "take 6", "take 8", "gap"]
    assert page.seqs() == [4, 5, 6, 7, 8]


def test_a_live_entry_other_than_a_message_starts_a_frame_of_its_own():
    """A batch of live entries: messages share frames; a join, leave or change starts a new one
    (its out-of-band parts may aim at what the entries before it add)."""

    async def scenario() -> list[str]:
        page = Page(last_seq=3)
        feed = page.feed()
        await feed.start(3, admitted_at=3)
        for item in (
            live(4),
            live(5, Kind.EDITED),  # an edit of 4
            live(6),
            live(7, Kind.JOINED),
            live(8, Kind.JOINED),
            live(9),
        ):
            feed.take(item)
        await page.flush()
        return page.frames

    frames = asyncio.run(scenario())
    assert [re.findall(r"entry-(\d+)", f) for f in frames] == [["4"], ["5", "6"], ["7"], ["8", "9"]]


def test_before_the_page_resumes_nothing_queued_is_sent():
    async def scenario() -> Page:
        page = Page()
        feed = page.feed()
        sub = MemoryBroker().subscribe("g")
        sub.put(live(1))

        async def handle(item: EntryAppended) -> None:
            page.queued.append("presence")

        await asyncio.wait_for(feed.drain(sub, handle, page.flush), 5)
        return page

    page = asyncio.run(scenario())
    assert page.frames == [] and page.queued == ["presence"]


def test_a_page_resuming_where_it_was_admitted_gets_what_was_held_without_a_read():
    page = Page([entry(s) for s in range(1, 8)], last_seq=7)
    feed = page.feed()
    for seq in (6, 7):  # published between the admission (last seq 5) and the resume frame
        feed.hold(live(seq))
    sent = asyncio.run(feed.start(5, admitted_at=5))
    assert [e.seq for e in sent] == [6, 7] and page.seqs() == [6, 7] and page.reads == []


@pytest.mark.parametrize("case", ["elsewhere", "gap", "too many held"])
def test_otherwise_the_start_reads_the_database(case):
    page = Page([entry(s) for s in range(1, 8)], last_seq=7)
    feed = page.feed()
    held = {"elsewhere": [6, 7], "gap": [7], "too many held": range(6, 8 + MAX_PENDING)}[case]
    for seq in held:
        feed.hold(live(seq))
    after = 3 if case == "elsewhere" else 5
    asyncio.run(feed.start(after, admitted_at=5))
    assert page.reads == [after] and page.seqs()[: 7 - after] == list(range(after + 1, 8))


def test_the_next_entry_is_sent_at_once_and_anything_out_of_order_is_left_to_take():
    page = Page()
    feed = page.feed()
    assert not feed.send_now(live(1))  # before the page resumes: nothing
    asyncio.run(feed.start(0))
    assert feed.send_now(live(1)) and feed.last_sent == 1
    assert not feed.send_now(live(3)) and feed.last_sent == 1  # a gap: held by `take` instead
    feed.take(live(3))
    assert not feed.send_now(live(2))  # something is held: the writer keeps the order
    assert page.seqs() == [1]
