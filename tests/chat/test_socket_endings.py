"""Issue 10, bug 1b: whatever state a group socket is in (just accepted, resuming, live, behind),
leaving, logout and session expiry close it at once (1008), and nothing of the group reaches it
afterwards. Membership and login are checked again before a catch-up sends anything."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace

import anyio.to_thread
import httpx2 as httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from discussit.app import create_app
from discussit.chat import socket as chat_socket
from discussit.core.realtime.broker import group_channel
from discussit.core.realtime.items import EntryAppended
from discussit.groups import directory
from tests import factories
from tests.helpers import (
    Browser,
    await_chain,
    drain,
    presence_changes,
    receive_text,
    receive_until,
    resume,
    say,
    wait_admitted,
)
from tests.servers import Member, Page, Server, csrf_of

# Sessions expiring and sockets closing on timers: in `make test`, not in the quick `make check`.
pytestmark = pytest.mark.slow

STATES = ["accepted", "resuming", "live", "behind"]
ENDINGS = ["leave", "logout"]


def _frames_until_closed(ws, timeout: float = 1.0) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """Every frame up to the close, which must come within `timeout` of the previous frame."""
    frames = []
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            frames.append(receive_text(ws, timeout=timeout))
    return frames, closed.value.code


def _cursor(client: TestClient, group) -> int:  # type: ignore[no-untyped-def]
    from discussit.timeline import history

    return factories.run(client, lambda s: history.last_seq(s, group))


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("state", STATES)
def test_a_socket_in_any_state_closes_when_its_user_leaves_or_logs_out(
    client, alice, bob, lounge, monkeypatch, state, ending
):
    alice.join(lounge)
    bob.join(lounge)
    factories.post_messages(client, lounge, "bob", 3, prefix="before ")
    release, resuming = threading.Event(), threading.Event()
    if state == "resuming":  # the resume frame arrived; its checks wait until the ending is done
        real = chat_socket.access.replay_cursor  # the resume's read (admission: _now)

        async def slow_cursor(*args, **kwargs):  # type: ignore[no-untyped-def]
            resuming.set()
            await anyio.to_thread.run_sync(release.wait)
            return await real(*args, **kwargs)

        monkeypatch.setattr(chat_socket.access, "replay_cursor", slow_cursor)
    with alice.socket(lounge) as ws:
        if state == "accepted":
            # Admitted (a socket refused at admission gets no word: AZ3) and counted online, and
            # no resume frame yet: the ending comes now.
            wait_admitted(client, factories.user(client, "alice").id)
        if state == "resuming":
            resume(ws, 0)
            # The socket was admitted (a socket refused at admission gets no word: AZ3) and its
            # resume is being read: the ending comes in between.
            assert resuming.wait(10)
        elif state in ("live", "behind"):
            resume(ws, _cursor(client, lounge))
            drain(ws, quiet=0.2)
        if state == "behind":  # an entry far ahead arrives: the page waits for the gap to fill
            broker = client.app_state["broker"]
            item = EntryAppended(10_000, "message", 2, "<li>far ahead</li>")
            client.portal.call(broker.publish, group_channel(lounge), item)
        if ending == "leave":
            alice.leave(lounge)
        else:
            alice.log_out()
        release.set()
        bob.post(f"/groups/{lounge}/messages", {"text": "after the ending"})
        frames, code = _frames_until_closed(ws)
    assert code == 1008
    text = "".join(frames)
    assert "after the ending" not in text and "far ahead" not in text
    assert ("no longer a member" if ending == "leave" else "You have logged out") in text
    if state in ("accepted", "resuming"):
        assert "before " not in text  # nothing of the history was replayed


def test_a_socket_that_never_resumed_closes_when_its_session_expires(settings, make_group):
    with TestClient(create_app(replace(settings, session_max_age=2))) as client:
        alice = Browser(client)
        alice.sign_up("alice")
        group = factories.run(client, lambda s: directory.create(s, "Short")).id
        alice.join(group)
        with alice.socket(group) as ws:
            frames, code = _frames_until_closed(ws, timeout=4)
    assert code == 1008 and any("logged out" in f for f in frames)


def test_a_resume_after_leaving_replays_nothing(client, alice, bob, lounge):
    """The leave is not seen live (made without the route): the catch-up's own check stops it."""
    from discussit.groups import membership

    alice.join(lounge)
    bob.join(lounge)
    factories.post_messages(client, lounge, "bob", 2, prefix="secret ")
    with alice.socket(lounge) as ws:
        alice_user = factories.user(client, "alice")
        client.portal.call(membership.leave, factories.database(client), lounge, alice_user)
        resume(ws, 0)
        frames, code = _frames_until_closed(ws)
    assert code == 1008 and "secret " not in "".join(frames)


def test_frames_typed_while_resuming_are_posted_after_the_catch_up(client, alice, bob, lounge):
    alice.join(lounge)
    bob.join(lounge)
    factories.post_messages(client, lounge, "bob", 2, prefix="earlier ")
    with alice.socket(lounge) as ws:
        resume(ws, 0)
        say(ws, "typed while away")  # htmx sends queued frames right after the resume
        frames = receive_until(ws, "typed while away")
    text = "".join(frames)
    assert text.index("earlier 1") < text.index("typed while away")


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.parametrize("ending", ENDINGS)
def test_across_processes_a_socket_that_never_resumed_closes_when_its_user_leaves_or_logs_out(
    server_env, tmp_path, ending
):
    """The page is open on one process; its user leaves (or logs out) through another, and the
    item reaches the page's process through Redis."""
    a = Server(server_env, tmp_path / "a.log").start()
    b = Server(server_env, tmp_path / "b.log").start()
    try:
        group = a.create_group("Across")
        ana, ben = Member(a, "ana"), Member(b, "ben")
        ana.join(group)
        ben.join(group)
        ana_on_b = httpx.Client(base_url=b.url, cookies=dict(ana.http.cookies), timeout=10)
        ana_id = ana.user_id

        async def scenario() -> tuple[int | None, float, list[str]]:
            watcher = await Page(ben, group).open(ben.cursor(group))
            page = await Page(ana, group).open(0, resume=False)
            # ana is admitted (and counted) once ben's page, on the other process, sees her online
            while not any(presence_changes(f).get(ana_id) is True for f in watcher.frames):
                await asyncio.sleep(0.02)
            token = csrf_of(ana_on_b.get("/").text)
            started = time.monotonic()
            if ending == "leave":
                ana_on_b.post(f"/groups/{group}/membership/delete", data={"csrf_token": token})
            else:
                ana_on_b.post("/logout", data={"csrf_token": token})
            await watcher.say("after the ending")
            assert page._reader is not None
            await asyncio.wait_for(page._reader, timeout=1)  # closed within a second
            seconds = time.monotonic() - started
            await watcher.close()
            return page.close_code, seconds, page.frames

        code, seconds, frames = asyncio.run(scenario())
        assert code == 1008 and seconds < 1
        assert not any("after the ending" in f for f in frames)
        for client in (ana_on_b, ana.http, ben.http):
            client.close()
    finally:
        a.terminate()
        b.terminate()


def test_a_lost_leave_before_the_resume_is_found_by_the_resync(client, alice, bob, lounge):
    """Items lost before the page resumed (a full queue, a Redis reconnect) may include this
    user's leave: the resync checks membership again at once."""
    from discussit.groups import membership

    alice.join(lounge)
    with alice.socket(lounge) as ws:
        alice_user = factories.user(client, "alice")
        client.portal.call(membership.leave, factories.database(client), lounge, alice_user)
        client.portal.call(client.app_state["broker"].resync_all)  # as after a lost item
        frames, code = _frames_until_closed(ws)
    assert code == 1008 and any("no longer a member" in f for f in frames)


def test_a_resume_frame_survives_a_resync_that_empties_the_queue(client, alice, lounge):
    alice.join(lounge)
    factories.post_messages(client, lounge, "alice", 2, prefix="kept ")
    with alice.socket(lounge) as ws:
        resume(ws, 0)
        client.portal.call(client.app_state["broker"].resync_all)
        frames = receive_until(ws, "kept 1")
    assert "kept 0" in "".join(frames)


PAGE_CODE = ("connection.py", "updates.py", "feed.py", "frames.py", "socket.py")


def _page_tasks(client) -> list[str]:  # type: ignore[no-untyped-def]
    """The app's tasks still running a group page's code (chat/), each as its chain of awaits."""

    async def look() -> list[str]:
        chains = [await_chain(task) for task in asyncio.all_tasks()]
        return [
            " > ".join(chain)
            for chain in chains
            if any(f"discussit/chat/{name}" in link for link in chain for name in PAGE_CODE)
        ]

    return client.portal.call(look)


def test_a_closed_page_leaves_no_task_behind(client, alice, lounge):
    """Its writer, busy catching up when the page goes, is waited for as the socket closes
    (while the handler is being cancelled). Left running, it was cancelled again when the app
    stopped, at times inside a database call, where aiosqlite then never finished closing its
    connection: the app's loop never ended (a test's teardown hung until pytest-timeout)."""
    alice.join(lounge)
    factories.post_messages(client, lounge, "alice", 2, prefix="kept ")
    for _ in range(5):
        with alice.socket(lounge) as ws:
            resume(ws, 0)
            client.portal.call(client.app_state["broker"].resync_all)
            receive_until(ws, "kept 1")
        assert _page_tasks(client) == []


@pytest.mark.parametrize("where", ["admission", "catch-up"])
def test_a_busy_database_asks_the_page_to_retry_later(client, alice, lounge, monkeypatch, where):
    """Every pooled connection busy (a burst of pages connecting): 1013, which htmx retries,
    not a server error."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    alice.join(lounge)

    async def busy(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PoolTimeout("QueuePool limit reached")

    if where == "admission":
        monkeypatch.setattr(chat_socket, "current_viewer", busy)
    else:
        monkeypatch.setattr(chat_socket.access, "replay_cursor", busy)
    with alice.socket(lounge) as ws:
        if where == "catch-up":
            resume(ws, 0)
        _, code = _frames_until_closed(ws, timeout=2)
    assert code == 1013
