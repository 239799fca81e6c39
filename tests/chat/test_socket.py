"""The group page's WebSocket: live chat, live join/leave, authorization, bad input, catch-up."""

from __future__ import annotations

import json

import pytest
from starlette.websockets import WebSocketDisconnect

from discussit.chat import frames as frames_module
from discussit.core.templating import SOCKET_PAGE
from tests import factories
from tests import figures as figs
from tests.helpers import (
    Browser,
    drain,
    html,
    presence_changes,
    presence_pattern,
    receive_text,
    receive_until,
    resume,
    say,
    seqs,
    shown_as_text,
    wait_admitted,
)


def _stored_messages(client, group_id) -> list[tuple[str, str]]:
    from sqlmodel import select

    from discussit.models import Message, User

    async def load(session):  # type: ignore[no-untyped-def]
        rows = await session.exec(
            select(User.username, Message.body)
            .join(User, User.id == Message.author_id)
            .where(Message.group_id == group_id)
            .order_by(Message.seq)
        )
        return list(rows)

    return factories.run(client, load)


def _last_seq(browser, group_id) -> int:
    return int(html(browser.get(f"/groups/{group_id}/")).css_first("#last-seq").attributes["value"])


@pytest.fixture
def members(alice, bob, lounge):  # type: ignore[no-untyped-def]
    alice.join(lounge)
    bob.join(lounge)
    return alice, bob


def test_a_message_reaches_every_open_page_including_the_senders(client, members, lounge):
    alice, bob = members
    cursor = _last_seq(alice, lounge)
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(a, cursor)
        resume(b, cursor)
        say(a, "hello bob")
        for ws in (a, b):
            frame = receive_until(ws, "hello bob")[-1]
            item = html_fragment(frame)
            message = item.css_first(f"li#entry-{cursor + 1}.message")
            assert message.attributes["data-author-id"] == str(factories.user(client, "alice").id)
            assert message.css_first(".message__author").text() == "alice"
            assert message.css_first(".message__body").text() == "hello bob"
            # The frame's main content (appended to #timeline), wherever it is in the frame: a
            # presence change of bob's page may share it.
            assert message.parent.tag == "body" and "hx-swap-oob" not in message.attributes
            assert message.attributes["data-seq"] == str(cursor + 1)  # the page's next cursor
            assert "last-seq" not in frame  # (moved along in the page: static/js/discussit.js)
    assert _stored_messages(client, lounge) == [("alice", "hello bob")]


def html_fragment(text: str):  # type: ignore[no-untyped-def]
    from selectolax.lexbor import LexborHTMLParser

    return LexborHTMLParser(text)


def test_az4_the_author_is_the_logged_in_user_whatever_the_frame_says(client, members, lounge):
    alice, bob = members
    with alice.socket(lounge) as a:
        resume(a, _last_seq(alice, lounge))
        say(
            a,
            "it was me",
            author="bob",
            author_id=2,
            user_id=2,
            username="bob",
            group_id="00000000-0000-0000-0000-000000000000",
            seq=1,
            created_at="1999-01-01",
        )
        frame = receive_until(a, "it was me")[-1]
        assert ">alice</strong>" in frame and "1999" not in frame
    assert _stored_messages(client, lounge) == [("alice", "it was me")]


def test_a_non_member_socket_is_closed_before_any_frame(client, alice, mallory, lounge):
    alice.join(lounge)
    with mallory.socket(lounge) as m:
        with pytest.raises(WebSocketDisconnect) as closed:
            receive_text(m)
        assert closed.value.code == 1008
    assert mallory.get(f"/groups/{lounge}/").status_code == 403


def test_an_anonymous_socket_is_closed_before_any_frame(client, lounge):
    with Browser(client).socket(lounge) as ws, pytest.raises(WebSocketDisconnect) as closed:
        receive_text(ws)
    assert closed.value.code == 1008


def test_a_socket_to_an_unknown_or_malformed_group_is_closed(alice):
    for bad in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        with alice.socket(bad) as ws, pytest.raises(WebSocketDisconnect) as closed:
            receive_text(ws)
        assert closed.value.code == 1008


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        None,
        "null",
        "http://testserver.evil.example",
        "https://testserver",
        "http://testserver:8080",
        "http://evil.example/http://testserver",
    ],
)
def test_a_cross_site_origin_is_refused_at_the_handshake(members, lounge, origin):
    alice, _ = members
    socket = alice.socket(lounge, origin=origin)
    with pytest.raises(WebSocketDisconnect) as refused:
        socket.__enter__()  # raised by the handshake itself: the socket was never accepted
    assert refused.value.code == 1008


def test_the_configured_origin_allowlist_is_exact(settings, tmp_path):
    from dataclasses import replace

    from starlette.testclient import TestClient

    from discussit.app import create_app

    app = create_app(replace(settings, allowed_origins=("https://chat.example.com",)))
    with TestClient(app) as client:
        from discussit.groups import directory as groups

        async def make(session):  # type: ignore[no-untyped-def]
            return (await groups.create(session, "Lounge")).id

        lounge = factories.run(client, make)
        alice = Browser(client)
        alice.sign_up("alice")
        alice.join(lounge)
        with alice.socket(lounge, origin="https://chat.example.com") as ws:
            resume(ws, 0)
            assert "alice" in receive_text(ws)
        with pytest.raises(WebSocketDisconnect):
            alice.socket(
                lounge
            ).__enter__()  # the app's own origin is not enough once a list is set


def test_joins_and_leaves_appear_live_with_only_the_changed_member(client, alice, bob, lounge):
    alice.join(lounge)
    carol = Browser(client)
    carol.sign_up("carol")
    carol.join(lounge)
    with alice.socket(lounge) as a:
        resume(a, _last_seq(alice, lounge))
        bob.join(lounge)
        frame = receive_until(a, "bob</strong> joined")[-1]
        assert 'id="members"' not in frame  # never the whole list
        alice_id = factories.user(client, "alice").id
        bob_id = factories.user(client, "bob").id
        inserted = html_fragment(frame).css_first(f'div[hx-swap-oob="afterend:#member-{alice_id}"]')
        assert inserted is not None  # in list order: after alice, before carol
        assert [n.text() for n in inserted.css(".member__name")] == ["bob"]
        say(a, "between")  # a message, so bob's leave is a line of its own
        receive_until(a, "between")
        bob.leave(lounge)
        frame = receive_until(a, "bob</strong> left")[-1]
        assert f'<li id="member-{bob_id}" hx-swap-oob="delete"></li>' in frame
        assert 'id="members"' not in frame


def test_a_join_or_leave_sends_a_few_hundred_bytes_whatever_the_group_size(client, alice, lounge):
    names = [f"member{i:03d}" for i in range(200)]
    factories.make_users(client, names)
    for name in names:
        factories.add_member(client, lounge, name)
    alice.join(lounge)
    with alice.socket(lounge) as a:
        resume(a, _last_seq(alice, lounge))
        newcomer = Browser(client)
        newcomer.sign_up("zed")
        newcomer.join(lounge)
        frame = receive_until(a, "zed</strong> joined")[-1]
    assert len(frame.encode()) < 2000, len(frame)
    figs.FIGURES["budget"]["join_frame_bytes_201_members"] = len(frame.encode())


def test_presence_marks_who_has_the_group_open(members, lounge):
    alice, bob = members
    bob_id = factories.user(alice.client, "bob").id
    with alice.socket(lounge) as a:
        resume(a, _last_seq(alice, lounge))
        with bob.socket(lounge) as b:
            resume(b, _last_seq(bob, lounge))
            frame = receive_until(a, presence_pattern(bob_id))[-1]
            assert presence_changes(frame) == {bob_id: True}
            page = html(alice.get(f"/groups/{lounge}/"))
            assert len(page.css("#members .presence--online")) == 2
            status = page.css_first(f"#member-{bob_id} #presence-{bob_id}")
            assert status is not None and status.text() == "online"
            # The words the page's script marks members with, and where changes land.
            changes = page.css_first("#presence-changes")
            assert changes.attributes["data-online"] == "online"
            assert changes.attributes["data-offline"] == "offline"
        frame = receive_until(a, presence_pattern(bob_id))[-1]
        assert presence_changes(frame) == {bob_id: False}


def test_a_member_who_leaves_in_another_tab_stops_receiving_and_cannot_post(
    client, members, lounge
):
    alice, bob = members
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(a, _last_seq(alice, lounge))
        resume(b, _last_seq(bob, lounge))
        wait_admitted(client, factories.user(client, "alice").id)
        alice.leave(lounge)
        frames = []
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                frames.append(receive_text(a))
        assert closed.value.code == 1008
        assert any("alice</strong> left" in f for f in frames)
        assert any("no longer a member" in f for f in frames)
        say(b, "after alice left")
        receive_until(b, "after alice left")
    assert _stored_messages(client, lounge) == [("bob", "after alice left")]


def test_a_frame_sent_after_leaving_is_not_stored(client, members, lounge):
    alice, bob = members
    with alice.socket(lounge) as a:
        resume(a, _last_seq(alice, lounge))
        from discussit.groups import membership

        alice_user = factories.user(client, "alice")
        # Left without the route, so nothing is published: only the insert's check stops it.
        client.portal.call(membership.leave, factories.database(client), lounge, alice_user)
        say(a, "sneaky")
        frames = []
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                frames.append(receive_text(a))
        assert closed.value.code == 1008
    assert _stored_messages(client, lounge) == []


def test_logging_out_closes_that_logins_sockets(client, members, lounge):
    alice, _ = members
    with alice.socket(lounge) as a:
        resume(a, _last_seq(alice, lounge))
        wait_admitted(client, factories.user(client, "alice").id)
        alice.log_out()
        frames = []
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                frames.append(receive_text(a))
        assert closed.value.code == 1008
        assert any("You have logged out" in f for f in frames)
    with alice.socket(lounge) as again, pytest.raises(WebSocketDisconnect):
        receive_text(again)


def test_dlv3_a_reconnecting_page_gets_exactly_what_it_missed_in_order(client, members, lounge):
    alice, bob = members
    cursor = _last_seq(alice, lounge)
    with alice.socket(lounge) as a:
        resume(a, cursor)
        say(a, "before the drop")
        first = receive_until(a, "before the drop")
    seen = max(seqs(first))
    factories.post_messages(client, lounge, "bob", 7, prefix="missed-")
    bob.leave(lounge)
    with alice.socket(lounge) as a:
        resume(a, seen)
        frames = receive_until(a, '<ul id="members"')  # entries, then the refreshed member list
        caught = seqs(frames)
        assert caught == list(range(seen + 1, seen + 9))
        figs.FIGURES["catch_up"].update(
            {
                "missed_while_away": 8,
                "delivered": len(caught),
                "duplicates": len(caught) - len(set(caught)),
                "out_of_order": int(caught != sorted(caught)),
            }
        )
        assert "bob</strong> left" in frames[-2]
        assert "bob" not in frames[-1]
        say(a, "live again")
        assert seqs(receive_until(a, "live again")) == [seen + 9]


def test_dlv4_a_page_that_missed_too_much_is_told_to_reload(client, members, lounge):
    from discussit import limits

    alice, _ = members
    factories.post_messages(client, lounge, "bob", limits.CATCH_UP_MAX + 2)
    with alice.socket(lounge) as a:
        resume(a, 0)
        frame = receive_text(a)
        assert "Reload to see everything" in frame
        figs.FIGURES["catch_up"]["told_to_reload_when_missed_over_500"] = 1
        with pytest.raises(WebSocketDisconnect) as closed:
            receive_text(a)
        assert closed.value.code == 1000


@pytest.mark.parametrize("page", [None, "1", 2, ["2"]])
def test_a_page_opened_before_an_update_is_told_to_reload(
    client, members, lounge, page, monkeypatch
):
    """A page rendered before a deploy changed how a page takes its socket's frames (it would
    drop every new line: its socket element swaps nothing but out-of-band elements) says an
    older kind in its resume frame, or none: it is told to reload and sent nothing else; what
    it sent behind its resume frame (typed while it reconnected) is still posted; then its
    socket closes without a reconnect."""
    monkeypatch.setattr(frames_module, "OUTDATED_GRACE", 2.0)  # (reading and posting it)
    alice, bob = members
    cursor = _last_seq(alice, lounge)
    old_resume = {"type": "resume", "after": str(cursor), "visible": "1", "headers": {}}
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(b, cursor)
        a.send_text(json.dumps(old_resume if page is None else {**old_resume, "page": page}))
        say(a, "typed while reconnecting")
        frame = receive_text(a)
        assert "DiscussIt was updated since this page was opened" in frame
        assert "entry-" not in frame
        with pytest.raises(WebSocketDisconnect) as closed:
            receive_text(a)
        assert closed.value.code == 1000
        receive_until(b, "typed while reconnecting")  # stored and sent to the current pages
        say(b, "after the update")
        receive_until(b, "after the update")
    with alice.socket(lounge) as a:  # the reloaded page
        resume(a, cursor)
        frames = receive_until(a, "after the update")
    assert any("typed while reconnecting" in f for f in frames)
    assert _stored_messages(client, lounge)[-2:] == [
        ("alice", "typed while reconnecting"),
        ("bob", "after the update"),
    ]


def test_dlv3_live_items_are_not_sent_twice_after_a_catch_up(client, members, lounge):
    alice, bob = members
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(b, _last_seq(bob, lounge))
        for i in range(5):
            say(b, f"burst-{i}")
        receive_until(b, "burst-4")
        resume(a, 0)  # alice catches up while the burst is also queued live for her
        frames = receive_until(a, "burst-4")
        got = seqs(frames)
        assert got == list(range(1, 8))  # 2 joins + 5 messages, once each, in order
        assert seqs(drain(a)) == []  # the queued live copies were dropped


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[]",
        "1",
        '"x"',
        "{",
        "[" * 100_000 + "]" * 100_000,
        json.dumps({"type": "resume", "page": SOCKET_PAGE, "after": "-3"}),
        json.dumps({"type": [], "text": "a list for a type"}),
        json.dumps({"type": {"a": 1}, "text": "a dict for a type"}),
        json.dumps({"type": "shout", "text": "an unknown type"}),
    ],
)
def test_val4_malformed_frames_get_an_error_and_the_socket_survives(client, members, lounge, frame):
    alice, _ = members
    with alice.socket(lounge) as a:
        if "resume" not in frame:
            resume(a, _last_seq(alice, lounge))
        a.send_text(frame)
        error = receive_until(a, 'id="composer"')[-1]
        assert 'id="composer"' in error and 'hx-swap-oob="true"' in error
        assert html_fragment(error).css_first(".composer__error").text().strip()
        if "resume" in frame:
            resume(a, _last_seq(alice, lounge))
        say(a, "still here")
        receive_until(a, "still here")


def test_val3_a_binary_frame_gets_an_error_and_the_socket_survives(members, lounge):
    alice, _ = members
    with alice.socket(lounge) as a:
        resume(a, _last_seq(alice, lounge))
        a.send_bytes(b"\x00\x01binary")
        assert "Only text messages" in receive_until(a, 'id="composer"')[-1]
        say(a, "still here")
        receive_until(a, "still here")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Type a message"),
        ("   \t  ", "Type a message"),
        ("\u00a0\u200b", "Type a message"),
        (None, "Type a message"),
        (42, "must be text"),
        ("nul\x00byte", "control characters"),
        ("x" * 2001, "at most 2000 characters"),
    ],
)
def test_val1_invalid_messages_are_refused_to_the_sender_only_and_keep_the_text(
    client, members, lounge, text, problem
):
    alice, bob = members
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(b, _last_seq(bob, lounge))
        resume(a, _last_seq(alice, lounge))
        drain(b)  # presence items of the two connects
        say(a, text)
        error = receive_until(a, 'id="composer"')[-1]
        composer = html_fragment(error).css_first("#composer")
        assert problem in composer.css_first(".composer__error").text()
        if isinstance(text, str) and text.strip() and "\x00" not in text:
            assert composer.css_first("textarea[name=text]").text() == text
        # (Under load a connect's presence item may come after the drain: it is not the error.)
        assert [f for f in drain(b) if "presence-changes" not in f] == []
    assert _stored_messages(client, lounge) == []


def test_val1_a_message_of_exactly_the_limit_is_accepted_whole(client, members, lounge):
    alice, _ = members
    with alice.socket(lounge) as a:
        resume(a, _last_seq(alice, lounge))
        say(a, "y" * 2000)
        receive_until(a, "y" * 2000)
    assert _stored_messages(client, lounge) == [("alice", "y" * 2000)]


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "${alert(document.cookie)}",
    '"><svg onload=alert(1)>',
    "`+alert(1)+`",
    "{{7*7}}",
    '<button hx-post="/logout" hx-trigger="load">x</button>',
]


@pytest.mark.parametrize("payload", XSS)
def test_xss1_hostile_message_text_is_shown_as_text_live_and_on_the_page(
    client, members, lounge, payload
):
    alice, bob = members
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(a, _last_seq(alice, lounge))
        resume(b, _last_seq(bob, lounge))
        say(a, payload)
        frame = receive_until(b, "message__body")[-1]
        body = html_fragment(frame).css_first(".message__body")
        assert shown_as_text(body, payload)  # formatted text only, nothing injected
        assert "<script" not in frame and "<svg" not in frame
        assert "<img" not in body.html  # (the author's picture is the message's only image)
    page = alice.get(f"/groups/{lounge}/")
    body = html(page).css(".message__body")[-1]
    assert shown_as_text(body, payload)
