"""Unread counts and read cursors (groups/reading.py): the count rules, the home page and the
group page over HTTP, live counts over the home page's stream, and read positions from the
group page's socket."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid

import pytest

from discussit.core.realtime.broker import MemoryBroker, group_channel
from discussit.core.realtime.items import EntryAppended
from discussit.core.templating import SOCKET_PAGE
from discussit.groups.livecounts import LiveCounts
from discussit.groups.reading import Unread
from tests import factories
from tests.groups.test_stream import stream
from tests.helpers import html, receive_until, resume, say


def _unread(browser, group_id) -> str | None:  # type: ignore[no-untyped-def]
    """The unread count a row of the home page shows (None: hidden)."""
    badge = html(browser.get("/")).css_first(f"#group-{group_id}-unread")
    assert badge is not None
    return None if "hidden" in badge.attributes else " ".join(badge.text().split())


def _post(browser, group_id, text: str):  # type: ignore[no-untyped-def]
    response = browser.post(f"/groups/{group_id}/messages", {"text": text})
    assert response.status_code == 303, response.text
    return response


def _read_frame(ws, seq: object) -> None:  # type: ignore[no-untyped-def]
    ws.send_text(json.dumps({"type": "read", "seq": seq, "headers": {"HX-Source": "form#read"}}))


def _flush(client) -> None:  # type: ignore[no-untyped-def]
    """Write the gathered read positions now (the app writes them within a second), and wait
    for a write of the app's own already under way (it took what was gathered before this)."""
    reads = client.app_state["reads"]

    async def flush_and_settle() -> None:
        await reads.flush()
        if reads._writing is not None:
            await asyncio.wait([reads._writing])

    client.portal.call(flush_and_settle)


@pytest.fixture
def members(alice, bob, lounge):  # type: ignore[no-untyped-def]
    alice.join(lounge)
    bob.join(lounge)
    return alice, bob


# -- the count rules (LiveCounts, no database) ------------------------------------------------

pure = pytest.mark.pure


def _counts(viewer: int = 1) -> tuple[MemoryBroker, LiveCounts, list[uuid.UUID], list[uuid.UUID]]:
    changed: list[uuid.UUID] = []
    recounts: list[uuid.UUID] = []
    broker = MemoryBroker()
    return broker, LiveCounts(broker, viewer, changed.append, recounts.append), changed, recounts


def _entry(seq: int, user_id: int, kind: str = "message") -> EntryAppended:
    return EntryAppended(seq, kind, user_id, f"<li>{seq}</li>")


@pure
def test_a_new_message_by_someone_else_counts_one_and_mine_count_nothing():
    broker, counts, changed, _ = _counts(viewer=1)
    group = uuid.uuid4()
    counts.follow(group, Unread(cursor=5, last_seq=5, count=0))
    for item in (_entry(6, 2), _entry(7, 1), _entry(8, 2, "joined"), _entry(9, 3)):
        broker.deliver(group_channel(group), item)
    assert counts.count(group) == 2 and changed == [group, group]


@pure
def test_an_entry_already_counted_or_published_twice_counts_once():
    broker, counts, _, _ = _counts(viewer=1)
    group = uuid.uuid4()
    counts.follow(group, Unread(cursor=5, last_seq=7, count=2))  # 6 and 7 were counted
    for seq in (6, 7, 8, 8):
        broker.deliver(group_channel(group), _entry(seq, 2))
    assert counts.count(group) == 3


@pure
def test_entries_between_subscribing_and_counting_are_counted_once():
    broker, counts, _, _ = _counts(viewer=1)
    group = uuid.uuid4()
    counts.subscribe(group)
    broker.deliver(group_channel(group), _entry(6, 2))  # in the count read next
    broker.deliver(group_channel(group), _entry(7, 2))  # committed after that read
    counts.follow(group, Unread(cursor=5, last_seq=6, count=1))
    assert counts.count(group) == 2


@pure
def test_a_deletion_or_an_edit_while_something_is_unread_asks_for_a_recount():
    broker, counts, _, recounts = _counts(viewer=1)
    group = uuid.uuid4()
    counts.follow(group, Unread(cursor=5, last_seq=5, count=0))
    broker.deliver(group_channel(group), _entry(6, 1, "deleted"))
    assert recounts == []  # nothing unread: nothing to take away
    broker.deliver(group_channel(group), _entry(7, 2))
    broker.deliver(group_channel(group), _entry(8, 2, "deleted"))
    broker.deliver(group_channel(group), _entry(9, 2, "edited"))  # (it may now mention me)
    broker.deliver(group_channel(group), _entry(10, 2, "reacted"))
    assert recounts == [group, group]


@pure
def test_reading_to_the_end_clears_and_part_way_asks_for_a_recount():
    broker, counts, changed, recounts = _counts(viewer=1)
    group = uuid.uuid4()
    counts.follow(group, Unread(cursor=5, last_seq=9, count=3))
    counts.read(group, 7)
    assert recounts == [group] and counts.count(group) == 3
    counts.read(group, 9)
    assert counts.count(group) == 0 and changed == [group]
    counts.read(group, 4)  # behind: nothing
    assert changed == [group]


@pure
def test_a_lost_item_asks_for_a_recount_and_a_dropped_group_counts_nothing():
    broker, counts, _, recounts = _counts(viewer=1)
    group = uuid.uuid4()
    counts.follow(group, Unread(cursor=5, last_seq=5, count=0))
    broker.resync_all()
    assert recounts == [group]
    counts.drop(group)
    broker.deliver(group_channel(group), _entry(6, 2))
    assert counts.count(group) == 0 and broker.subscriber_count() == 0


# -- over HTTP --------------------------------------------------------------------------------


def test_a_member_counts_what_others_post_after_they_joined(members, lounge, mallory):
    alice, bob = members
    assert _unread(alice, lounge) is None
    _post(bob, lounge, "one")
    _post(bob, lounge, "two")
    _post(alice, lounge, "mine")  # one's own messages are never unread
    assert _unread(alice, lounge) == "2 unread"
    assert _unread(bob, lounge) == "1 unread"  # alice's, to bob
    mallory.join(lounge)  # joins later: counts only what follows
    assert _unread(mallory, lounge) is None
    _post(bob, lounge, "three")
    assert _unread(mallory, lounge) == "1 unread" and _unread(alice, lounge) == "3 unread"


def test_a_deleted_message_no_longer_counts(members, lounge):
    alice, bob = members
    _post(bob, lounge, "oops")
    _post(bob, lounge, "kept")
    seq = int(
        html(bob.get(f"/groups/{lounge}/")).css("#timeline .message")[-2].attributes["data-seq"]
    )
    assert bob.post(f"/groups/{lounge}/messages/{seq}/delete").status_code == 303
    assert _unread(alice, lounge) == "1 unread"


def test_opening_the_group_marks_it_read_and_shows_where_the_new_messages_began(members, lounge):
    alice, bob = members
    _post(bob, lounge, "before")
    alice.get(f"/groups/{lounge}/")  # read up to here
    _post(bob, lounge, "first-new")
    _post(bob, lounge, "second-new")
    page = html(alice.get(f"/groups/{lounge}/"))
    lines = [li.text(strip=True) for li in page.css("#timeline > li")]
    line = lines.index("New messages")
    assert "first-new" in lines[line + 1] and "before" in lines[line - 1]
    assert _unread(alice, lounge) is None
    again = html(alice.get(f"/groups/{lounge}/"))
    assert again.css_first("#new-messages") is None  # nothing new since


def test_an_older_page_of_history_does_not_mark_the_group_read(members, lounge):
    alice, bob = members
    _post(bob, lounge, "new")
    alice.get(f"/groups/{lounge}/?before=2")
    assert _unread(alice, lounge) == "1 unread"


def test_mark_as_read_works_without_javascript_and_only_for_members(members, lounge, mallory):
    alice, bob = members
    _post(bob, lounge, "hello")
    response = alice.post(f"/groups/{lounge}/read", {"next": "/"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert _unread(alice, lounge) is None
    _post(bob, lounge, "again")
    refused = mallory.post(f"/groups/{lounge}/read", {"next": "/"})
    assert refused.status_code == 403
    assert _unread(alice, lounge) == "1 unread"  # nothing changed for anyone
    no_token = alice.post(f"/groups/{lounge}/read", {"next": "/"}, csrf=False)
    assert no_token.status_code == 403
    assert _unread(alice, lounge) == "1 unread"


def test_the_group_page_lists_my_groups_with_their_counts(members, lounge, make_group):
    alice, bob = members
    other = make_group("Other room")
    alice.join(other)
    bob.join(other)
    _post(bob, other, "over here")
    page = html(alice.get(f"/groups/{lounge}/"))
    items = page.css(".my-groups__item")
    assert [i.css_first("a").text(strip=True) for i in items] == ["Lounge", "Other room"]
    assert items[0].css_first("a").attributes.get("aria-current") == "page"
    assert " ".join(page.css_first(f"#group-{other}-unread").text().split()) == "1 unread"


# -- live: the home page's stream --------------------------------------------------------------


def test_the_home_stream_counts_live_and_clears_when_read_elsewhere(members, lounge):
    alice, bob = members
    with stream(alice) as events:
        events.wait_for('<div id="groups"')
        _post(bob, lounge, "ping")
        first = events.wait_for(f'id="group-{lounge}-unread"')
        assert ">1<" in first and " hidden" not in first.split(">")[0]
        _post(bob, lounge, "pong")
        assert ">2<" in events.wait_for(f'id="group-{lounge}-unread"')
        _post(alice, lounge, "my own")  # counts nothing: no event for it
        alice.post(f"/groups/{lounge}/read", {"next": "/"})  # in another tab
        cleared = events.wait_for(f'id="group-{lounge}-unread"')
        assert " hidden" in cleared.split(">")[0] and "unread" not in cleared.split(">", 1)[1]


def test_joining_starts_counting_live_and_leaving_stops(alice, bob, lounge, make_group):
    bob.join(lounge)
    other = make_group("Other room")
    with stream(alice) as events:
        events.wait_for('<div id="groups"')
        alice.join(lounge, headers={"HX-Request": "true"})
        events.wait_for(f'<li id="group-{lounge}"')
        _post(bob, lounge, "welcome")
        assert ">1<" in events.wait_for(f'id="group-{lounge}-unread"')
        alice.leave(lounge, headers={"HX-Request": "true"})
        events.wait_for(f'<li id="group-{lounge}"')
        left_at = len(events.seen)
        _post(bob, lounge, "gone")
        alice.join(other, headers={"HX-Request": "true"})  # an event to wait for
        events.wait_for(f'<li id="group-{other}"')
        assert not any(f"group-{lounge}-unread" in e for e in events.seen[left_at:])


# -- live: the group page's socket -------------------------------------------------------------


def _visibility(ws, visible: object) -> None:  # type: ignore[no-untyped-def]
    """What the page's hidden visibility form sends when the page is shown or hidden."""
    ws.send_text(
        json.dumps({"type": "visibility", "visible": visible, "headers": {"HX-Source": "form"}})
    )


def _sweep_and_flush(client) -> None:  # type: ignore[no-untyped-def]
    """Mark what the visible pages were sent, and write it (the app does so every 2 s)."""
    reads = client.app_state["reads"]
    client.portal.call(_async(reads.sweep))
    _flush(client)


def _async(work):  # type: ignore[no-untyped-def]
    async def run() -> None:
        work()

    return run


@pytest.fixture
def no_timed_sweep(client):  # type: ignore[no-untyped-def]
    """The app's own sweep (every 2 s) left out: the test sweeps when it means to."""
    client.app_state["reads"].sweep_every = 3600.0


def test_what_a_visible_page_is_sent_is_read_without_a_word_from_it(
    client, members, lounge, no_timed_sweep
):
    alice, bob = members
    cursor = int(html(alice.get(f"/groups/{lounge}/")).css_first("#last-seq").attributes["value"])
    with alice.socket(lounge) as ws:
        resume(ws, cursor, visible="1")
        say(ws, "me first")  # (frames are handled in order: the resume is done)
        receive_until(ws, "me first")
        # Opening marked nothing: the page was sent nothing past the member's cursor.
        assert client.app_state["reads"].pending == {}
        _post(bob, lounge, "while I look")
        receive_until(ws, "while I look")
        assert _unread(alice, lounge) == "1 unread"  # (marked at the next sweep)
        _sweep_and_flush(client)
        assert _unread(alice, lounge) is None
        _post(bob, lounge, "and again")
        receive_until(ws, "and again")
    _flush(client)  # closed while shown: what it was sent is read
    assert _unread(alice, lounge) is None


def _closed(client, user_id: int) -> None:  # type: ignore[no-untyped-def]
    """Until the server has ended every socket of the user (each gives its place back last)."""
    presence = client.app_state["presence"]
    by = time.monotonic() + 10
    while client.portal.call(presence.sockets, user_id) > 0:
        assert time.monotonic() < by, "the socket never ended"
        time.sleep(0.01)


def test_a_page_lost_or_stopped_reads_nothing_at_its_close(client, members, lounge, no_timed_sweep):
    """Only a page that closes its socket itself (1000, 1001) showed what it was sent: a lost
    connection's last frames may never have arrived, and a page refused a frame for going too
    fast counts as hidden until it says otherwise."""
    alice, bob = members
    cursor = int(html(alice.get(f"/groups/{lounge}/")).css_first("#last-seq").attributes["value"])
    with alice.socket(lounge) as ws:
        resume(ws, cursor, visible="1")
        say(ws, "here")  # (frames are handled in order: the resume is done, shown before what
        receive_until(ws, "here")  # comes next)
        _post(bob, lounge, "into the void")
        receive_until(ws, "into the void")
        ws.close(1006)  # (as the server sees a connection that dropped)
    _closed(client, factories.user(client, "alice").id)
    _flush(client)
    assert _unread(alice, lounge) == "1 unread"
    with alice.socket(lounge) as ws:
        resume(ws, cursor + 1, visible="1")
        say(ws, "back")  # (frames are handled in order: the resume is done)
        receive_until(ws, "back")
        socket_of_alice = next(iter(client.app_state["reads"].visible))
        socket_of_alice.frame_budget = (0.0, float("inf"))  # spent (chat/frames.py spend_frame)
        say(ws, "one too many")
        receive_until(ws, "Too many messages at once")
        assert client.app_state["reads"].visible == set()  # hidden, as far as it is concerned
        _post(bob, lounge, "unseen")
        receive_until(ws, "unseen")
        _sweep_and_flush(client)
        assert _unread(alice, lounge) == "1 unread"  # (shown as it resumed: the first is read)
    assert client.app_state["reads"].visible == set()


def test_a_hidden_page_reads_nothing_until_it_is_shown(client, members, lounge):
    alice, bob = members
    cursor = int(html(alice.get(f"/groups/{lounge}/")).css_first("#last-seq").attributes["value"])
    with alice.socket(lounge) as ws:
        resume(ws, cursor, visible="0")
        _post(bob, lounge, "while away")
        receive_until(ws, "while away")
        _sweep_and_flush(client)
        assert _unread(alice, lounge) == "1 unread"
        _visibility(ws, "1")  # shown: what it has is read now
        say(ws, "back")  # (frames are handled in order)
        receive_until(ws, "back")
        _flush(client)
        assert _unread(alice, lounge) is None
        _visibility(ws, "0")
        say(ws, "hidden again")
        receive_until(ws, "hidden again")
        _post(bob, lounge, "unseen")
        receive_until(ws, "unseen")
        _sweep_and_flush(client)
        assert _unread(alice, lounge) == "1 unread"
    _flush(client)  # closed while hidden: still unread
    assert _unread(alice, lounge) == "1 unread"


def test_a_page_state_that_is_neither_shown_nor_hidden_is_refused(client, members, lounge):
    alice, bob = members
    cursor = int(html(alice.get(f"/groups/{lounge}/")).css_first("#last-seq").attributes["value"])
    with alice.socket(lounge) as ws:
        resume(ws, cursor, visible="yes")  # resumed all the same, as hidden
        receive_until(ws, "That page state could not be read")
        _post(bob, lounge, "arrives")
        receive_until(ws, "arrives")
        for wrong in ("2", ["1"], None):
            _visibility(ws, wrong)
            receive_until(ws, "That page state could not be read")
        say(ws, "still connected")
        receive_until(ws, "still connected")
        _sweep_and_flush(client)
        assert _unread(alice, lounge) == "1 unread"  # nothing changed


def test_a_client_may_say_how_far_it_has_read(client, members, lounge):
    alice, bob = members
    cursor = int(html(alice.get(f"/groups/{lounge}/")).css_first("#last-seq").attributes["value"])
    with alice.socket(lounge) as ws:
        resume(ws, cursor)
        _post(bob, lounge, "while I look")
        frames = receive_until(ws, "while I look")
        seq = max(int(s) for f in frames for s in re.findall(r'data-seq="(\d+)"', f))
        assert _unread(alice, lounge) == "1 unread"
        _read_frame(ws, seq)
        say(ws, "after reading")  # (frames are handled in order: the read is gathered now)
        receive_until(ws, "after reading")
        _flush(client)
        assert _unread(alice, lounge) is None


def test_read_positions_a_page_was_not_shown_or_already_reported_are_refused(
    client, members, lounge
):
    alice, bob = members
    cursor = int(html(alice.get(f"/groups/{lounge}/")).css_first("#last-seq").attributes["value"])
    _post(bob, lounge, "unseen")
    with alice.socket(lounge) as ws:
        resume(ws, cursor - 1)
        receive_until(ws, "unseen")
        _read_frame(ws, cursor + 5)  # beyond what this page was sent
        receive_until(ws, "not one this page has shown")
        _read_frame(ws, "x")
        receive_until(ws, "not one this page has shown")
        _read_frame(ws, cursor + 1)
        _read_frame(ws, cursor)  # behind what it reported
        receive_until(ws, "Already marked as read")
        say(ws, "still connected")
        receive_until(ws, "still connected")
        _flush(client)
    assert _unread(alice, lounge) is None


def _resume_listing_others(ws, after: int) -> None:  # type: ignore[no-untyped-def]
    """The resume frame of a page whose list of groups shows others (their counts live)."""
    ws.send_text(
        json.dumps(
            {
                "type": "resume",
                "page": SOCKET_PAGE,
                "after": str(after),
                "others": "1",
                "headers": {},
            }
        )
    )


def test_the_group_page_counts_my_other_groups_live(members, lounge, make_group):
    alice, bob = members
    other = make_group("Other room")
    alice.join(other)
    bob.join(other)
    page = html(alice.get(f"/groups/{lounge}/"))
    assert page.css_first("#resume input[name=others]").attributes["value"] == "1"
    cursor = int(page.css_first("#last-seq").attributes["value"])
    with alice.socket(lounge) as ws:
        _resume_listing_others(ws, cursor)
        receive_until(ws, f'id="group-{other}-unread"')  # the count as of now (0)
        _post(bob, other, "over here")
        frame = receive_until(ws, f'id="group-{other}-unread"')[-1]
        assert ">1<" in frame and " hidden" not in frame.split(">")[0]
        _post(bob, lounge, "in this group")  # the page's own group counts nothing
        receive_until(ws, "in this group")
        alice.post(f"/groups/{other}/read", {"next": "/"})  # read in another tab
        cleared = receive_until(ws, f'id="group-{other}-unread"')[-1]
        assert " hidden" in cleared.split(">")[0]
        assert f"group-{lounge}-unread" not in "".join(cleared)


def test_a_message_costs_the_pages_counting_it_no_query_and_one_render(
    client, members, lounge, make_group, monkeypatch
):
    """Counts stay live without a database call or a render per page: a message in a group
    costs the same database calls, and one render of the count, whether 2 pages of other
    members count that group (open on another of their groups) or 6."""
    from contextlib import ExitStack

    from discussit.groups import live
    from tests.helpers import Browser

    alice, bob = members
    busy = make_group("Busy room")
    bob.join(busy)
    db = client.app_state["db"]
    calls: list[str] = []
    for name in ("read", "write", "session"):
        real = getattr(db, name)
        monkeypatch.setattr(db, name, _counted(calls, name, real))
    renders: list[str] = []
    monkeypatch.setattr(live, "render", _counted(renders, "", live.render, by_name=True))
    live.unread_html.cache_clear()

    def cost(pages: list) -> tuple[int, int]:  # type: ignore[type-arg]
        calls.clear()
        renders.clear()
        _post(bob, busy, f"news for {len(pages)} pages")
        for ws in pages:
            receive_until(ws, f'id="group-{busy}-unread"')
        return len(calls), renders.count("groups/_unread.html")

    pages: list = []  # type: ignore[type-arg]
    with ExitStack() as stack:
        for size in (2, 6):
            while len(pages) < size:
                reader = Browser(client)
                reader.sign_up(f"reader{len(pages)}")
                reader.join(lounge)
                reader.join(busy)
                cursor = int(
                    html(reader.get(f"/groups/{lounge}/"))
                    .css_first("#last-seq")
                    .attributes["value"]
                )
                ws = stack.enter_context(reader.socket(lounge))
                _resume_listing_others(ws, cursor)
                receive_until(ws, f'id="group-{busy}-unread"')  # (its count as of now)
                pages.append(ws)
            if size == 2:
                few = cost(pages)
            else:
                many = cost(pages)
    assert few == many
    assert few[1] == 1  # (the same count for every page: one fragment)


def _counted(log: list[str], name: str, real, by_name: bool = False):  # type: ignore[no-untyped-def]
    """`real`, noting each call in `log` (by `name`, or by its first argument)."""

    def call(*args, **kwargs):  # type: ignore[no-untyped-def]
        log.append(args[0] if by_name else name)
        return real(*args, **kwargs)

    return call


# -- mentions ------------------------------------------------------------------------------------


def test_a_message_mentioning_me_is_marked_for_everyone_and_counted_for_me(
    client, members, lounge, mallory
):
    alice, bob = members
    alice_id = factories.user(client, "alice").id
    _post(bob, lounge, "hey @alice, and @mallory (not in this group)")
    page = html(bob.get(f"/groups/{lounge}/"))
    mentions = page.css("#timeline .message .mention")
    assert [(m.text(), m.attributes["data-user-id"]) for m in mentions] == [
        ("@alice", str(alice_id))
    ]
    assert _unread(alice, lounge) == "1 unread @1 mentioning you"
    _post(bob, lounge, "no mention")
    assert _unread(alice, lounge) == "2 unread @1 mentioning you"
    mallory.join(lounge)
    assert _unread(mallory, lounge) is None  # (a mention before one joined counts nothing)


def test_mention_counts_go_live_to_the_home_page_and_follow_edits(client, members, lounge):
    alice, bob = members
    with stream(alice) as events:
        events.wait_for('<div id="groups"')
        _post(bob, lounge, "@alice look")
        frame = events.wait_for(f'id="group-{lounge}-unread"')
        assert "unread__mentions" in frame and "@1" in frame
        seq = int(
            html(bob.get(f"/groups/{lounge}/")).css("#timeline .message")[-1].attributes["data-seq"]
        )
        edited = bob.post(f"/groups/{lounge}/messages/{seq}/edit", {"text": "look (no one)"})
        assert edited.status_code == 303
        frame = events.wait_for(f'id="group-{lounge}-unread"')  # live: the edit took it back
        assert ">1<" in frame and "unread__mentions" not in frame
        assert _unread(alice, lounge) == "1 unread"
        bob.post(f"/groups/{lounge}/messages/{seq}/edit", {"text": "@Alice look again"})
        assert "@1" in events.wait_for(f'id="group-{lounge}-unread"')
        assert _unread(alice, lounge) == "1 unread @1 mentioning you"


def _suggested(browser, group_id, q: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = browser.get(f"/groups/{group_id}/members/suggest", params={"q": q})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    return [li.attributes["data-username"] for li in html(response).css("li[role=option]")]


def test_typing_at_suggests_the_groups_members_whose_names_start_so(members, lounge, mallory):
    alice, bob = members
    assert _suggested(alice, lounge, "") == ["alice", "bob"]
    assert _suggested(alice, lounge, "B") == ["bob"]  # (names compare as usernames do)
    assert _suggested(alice, lounge, "mal") == []  # not a member
    assert _suggested(alice, lounge, "<script>") == []  # no username looks like that
    assert _suggested(alice, lounge, "%") == [] and _suggested(alice, lounge, "x" * 31) == []
    refused = mallory.get(f"/groups/{lounge}/members/suggest", params={"q": "a"})
    assert refused.status_code == 403 and "alice" not in refused.text


# -- notification levels -------------------------------------------------------------------------


def _level(browser, group_id) -> str:  # type: ignore[no-untyped-def]
    page = html(browser.get(f"/groups/{group_id}/"))
    return page.css_first("#notify-level option[selected]").attributes["value"]


def test_a_member_chooses_which_messages_notify_them_with_or_without_javascript(
    members, lounge, mallory
):
    alice, bob = members
    assert _level(alice, lounge) == "mentions"  # the default
    response = alice.post(f"/groups/{lounge}/notifications", {"level": "all"})
    assert response.status_code == 303 and response.headers["location"] == f"/groups/{lounge}/"
    assert _level(alice, lounge) == "all" and _level(bob, lounge) == "mentions"
    fragment = alice.post(
        f"/groups/{lounge}/notifications", {"level": "nothing"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "Saved." in fragment.text
    assert 'value="nothing" selected' in fragment.text
    bad = alice.post(f"/groups/{lounge}/notifications", {"level": "loud"})
    assert bad.status_code == 400 and "Choose all messages, mentions of you, or nothing" in bad.text
    assert (
        alice.post(f"/groups/{lounge}/notifications", {"level": "all"}, csrf=False).status_code
        == 403
    )
    assert mallory.post(f"/groups/{lounge}/notifications", {"level": "all"}).status_code == 403
    assert _level(alice, lounge) == "nothing"  # none of those changed anything


def _held_level(page: str, group_id: uuid.UUID) -> str | None:
    """The level a page or a frame holds for the group (groups/_level.html; None: none)."""
    held = re.search(rf'<span id="group-{group_id}-level"[^>]*data-level="(\w+)"', page)
    return held and held.group(1)


def test_home_page_rows_carry_each_members_level_on_the_page_and_on_its_stream(
    members, lounge, mallory
):
    """The home page notifies from its rows while hidden (static/js/discussit.js), so each
    member's row holds their own level, as loaded and as the stream sends it again."""
    alice, bob = members
    assert alice.post(f"/groups/{lounge}/notifications", {"level": "all"}).status_code == 303
    assert _held_level(alice.get("/").text, lounge) == "all"
    assert _held_level(bob.get("/").text, lounge) == "mentions"
    assert _held_level(mallory.get("/").text, lounge) is None  # not a member: no level
    with stream(alice) as events:
        assert _held_level(events.wait_for('<div id="groups"'), lounge) == "all"


def test_a_chosen_level_reaches_the_members_open_pages_and_home_pages_at_once(
    client, members, lounge, make_group
):
    """Chosen in one tab, a level is held by the member's other tabs and devices at once: their
    home pages (SSE) and their group pages' lists of groups (WebSocket); nobody else's."""
    alice, bob = members
    kitchen = make_group("Kitchen")
    alice.join(kitchen)
    page = alice.get(f"/groups/{kitchen}/").text
    assert _held_level(page, lounge) == "mentions"  # (her list of groups holds every level)
    cursor = int(html(alice.get(f"/groups/{kitchen}/")).css_first("#last-seq").attributes["value"])
    with stream(alice) as home, stream(bob) as bobs, alice.socket(kitchen) as ws:
        home.wait_for('<div id="groups"')
        bobs.wait_for('<div id="groups"')
        resume(ws, cursor, visible="1")
        say(ws, "here")  # (frames are handled in order: the resume is done)
        receive_until(ws, "here")
        saved = alice.post(
            f"/groups/{lounge}/notifications", {"level": "nothing"}, headers={"HX-Request": "true"}
        )
        assert saved.status_code == 200
        frame = receive_until(ws, f"group-{lounge}-level")[-1]
        assert _held_level(frame, lounge) == "nothing" and 'hx-swap-oob="true"' in frame
        assert _held_level(home.wait_for(f"group-{lounge}-level"), lounge) == "nothing"
        _post(alice, lounge, "bob's stream is live, and got no level")
        event = bobs.wait_for("unread")
        assert f"group-{lounge}-level" not in event and bobs.events == []
    assert _held_level(alice.get("/").text, lounge) == "nothing"  # (stored)
    bad = alice.post(f"/groups/{lounge}/notifications", {"level": "loud"})
    assert bad.status_code == 400  # refused: nothing stored, nothing sent
    assert _held_level(alice.get("/").text, lounge) == "nothing"


def test_a_closing_page_posts_how_far_it_read_and_nothing_past_the_end(members, lounge):
    alice, bob = members
    for text in ("one", "two", "three"):
        _post(bob, lounge, text)
    seqs = [
        int(li.attributes["data-seq"])
        for li in html(bob.get(f"/groups/{lounge}/")).css("#timeline .message")
    ]
    assert alice.post(f"/groups/{lounge}/read", {"seq": str(seqs[0])}).status_code == 303
    assert _unread(alice, lounge) == "2 unread"
    past = alice.post(f"/groups/{lounge}/read", {"seq": str(seqs[-1] + 1)})
    assert past.status_code == 400 and "past the group&#39;s last message" in past.text
    assert alice.post(f"/groups/{lounge}/read", {"seq": "x"}).status_code == 400
    assert _unread(alice, lounge) == "2 unread"
    behind = alice.post(f"/groups/{lounge}/read", {"seq": str(seqs[0] - 1)})
    assert behind.status_code == 409 and "Already marked as read further" in behind.text
    assert _unread(alice, lounge) == "2 unread"  # never back
    assert alice.post(f"/groups/{lounge}/read", {"seq": str(seqs[0])}).status_code == 303
    cleared = alice.post(f"/groups/{lounge}/read", headers={"HX-Request": "true"})
    assert cleared.status_code == 200 and "hidden" in cleared.text
    assert _unread(alice, lounge) is None


@pure
def test_entries_while_a_group_is_counted_again_are_not_lost():
    broker, counts, _, _ = _counts(viewer=1)
    group = uuid.uuid4()
    counts.follow(group, Unread(cursor=5, last_seq=6, count=1))
    counts.subscribe(group)  # counted again (a recount) ...
    broker.deliver(group_channel(group), _entry(7, 2))  # ... while this one arrives
    assert counts.count(group) == 1  # (the count shown meanwhile stays)
    counts.follow(group, Unread(cursor=5, last_seq=6, count=1))  # read before it committed
    assert counts.count(group) == 2


def test_a_page_stops_counting_a_group_its_viewer_left_elsewhere(members, lounge, make_group):
    alice, bob = members
    other = make_group("Other room")
    alice.join(other)
    bob.join(other)
    cursor = int(html(alice.get(f"/groups/{lounge}/")).css_first("#last-seq").attributes["value"])
    with alice.socket(lounge) as ws:
        _resume_listing_others(ws, cursor)
        receive_until(ws, f'id="group-{other}-unread"')
        _post(bob, other, "before she leaves")
        assert ">1<" in receive_until(ws, f'id="group-{other}-unread"')[-1]
        alice.leave(other)  # in another tab
        cleared = receive_until(ws, f'id="group-{other}-unread"')[-1]
        assert " hidden" in cleared.split(">")[0]
        _post(bob, other, "after she left")
        _post(bob, lounge, "marker")
        frames = receive_until(ws, "marker")
        assert not any(f"group-{other}-unread" in f for f in frames)
