"""AZ-1..6: membership is checked on every transport, and revoked at once."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid

import pytest
from starlette.websockets import WebSocketDisconnect

from tests import factories
from tests.helpers import Browser, drain, receive_text, receive_until, resume, say
from tests.servers import Member, Page, Server

SECRET = "secret-lounge-words"


@pytest.fixture
def seeded(client, alice, mallory, make_group):  # type: ignore[no-untyped-def]
    g1, g2 = make_group("G1"), make_group("G2")
    alice.join(g1)
    mallory.join(g2)
    factories.post_messages(client, g1, "alice", 2, prefix=SECRET)
    return g1, g2


def test_az1_pages_refuse_non_members_anonymous_and_bad_ids(client, mallory, seeded, figures):
    g1, _ = seeded
    anonymous = Browser(client)
    cells = 0
    for who, path, expected in [
        (mallory, f"/groups/{g1}/", 403),
        (anonymous, f"/groups/{g1}/", 303),
        (mallory, f"/groups/{g1}/history?before=99", 403),
        (anonymous, f"/groups/{g1}/history?before=99", 303),
        (mallory, "/groups/not-a-uuid/", 404),
        (mallory, "/groups/" + "x" * 10_000 + "/", 404),
        (mallory, f"/groups/{uuid.uuid4()}/", 404),
    ]:
        response = who.get(path, follow_redirects=False)
        cells += 1
        assert response.status_code == expected, (path, response.status_code)
        assert SECRET not in response.text and "alice" not in response.text.split("<main")[-1]
    figures["authorization"]["http_cells"] = cells
    figures["authorization"]["wrongly_granted"] = 0


def test_az2_no_history_or_stream_of_a_group_reaches_a_non_member(client, mallory, seeded):
    g1, _ = seeded
    response = mallory.get(f"/groups/{g1}/history?before=1000")
    assert response.status_code == 403 and SECRET not in response.text
    mallory.client.cookies = mallory.cookies
    with mallory.client.stream("GET", "/updates") as stream:
        assert "access-control-allow-origin" not in stream.headers
        first = next(line for line in stream.iter_lines() if line.startswith("data:"))
    assert SECRET not in first and f'href="/groups/{g1}/"' not in first


def test_az3_non_member_and_anonymous_sockets_get_no_frame(client, mallory, seeded, figures):
    g1, _ = seeded
    for who in (mallory, Browser(client)):
        with who.socket(g1) as ws, pytest.raises(WebSocketDisconnect) as closed:
            receive_text(ws)
        assert closed.value.code == 1008
    figures["authorization"]["socket_cells"] = 2


def test_az4_forged_fields_are_ignored_and_a_socket_posts_only_into_its_own_group(
    client, alice, mallory, seeded
):
    g1, g2 = seeded
    with mallory.socket(g2) as ws:
        resume(ws, 100)
        say(
            ws,
            "into g1?",
            group_id=str(g1),
            author="alice",
            author_id=1,
            user_id=1,
            seq=1,
            id=1,
            created_at="1999-01-01T00:00:00Z",
            is_admin=True,
        )
        frame = receive_until(ws, "into g1")[-1]
        assert ">mallory</strong>" in frame and "1999" not in frame
    history = alice.get(f"/groups/{g1}/").text
    assert "into g1?" not in history
    assert alice.post(f"/groups/{g2}/messages", {"text": "alice into g2"}).status_code == 403


def _live_members(server: Server, group: str, names: list[str]) -> list[Member]:
    members = [Member(server, name) for name in names]
    for member in members:
        member.join(group)
    return members


@pytest.mark.slow
def test_az5_leaving_closes_open_pages_at_once_and_they_get_nothing_later(
    server_env, tmp_path, figures
):
    server = Server(server_env, tmp_path / "s.log").start()
    try:
        group = server.create_group("Revoke")
        alice, bob = _live_members(server, group, ["alice", "bob"])
        cursor = alice.cursor(group)

        async def scenario() -> tuple[float, Page, int]:
            mine = await Page(alice, group).open(cursor)
            theirs = await Page(bob, group).open(cursor)
            await asyncio.sleep(0.3)
            token = re.search(r'name="csrf_token" value="([^"]+)"', alice.http.get("/").text).group(
                1
            )
            began = time.monotonic()
            alice.http.post(
                f"/groups/{group}/membership/delete", data={"csrf_token": token, "next": "/"}
            )
            await asyncio.wait_for(mine._reader, 5)
            latency = time.monotonic() - began
            before = len(mine.entries)
            for i in range(5):
                await theirs.say(f"after-{i}")
            await theirs.wait_for(5, lambda e: "after-" in e[1])
            await theirs.close()
            return latency, mine, before

        latency, mine, before = asyncio.run(scenario())
        assert mine.close_code == 1008
        assert latency < 1.0
        assert len(mine.entries) == before and not any("after-" in t for t in mine.texts())

        async def again() -> int | None:  # re-subscribing with the same cookie is refused
            page = await Page(alice, group).open(cursor)
            await asyncio.wait_for(page._reader, 5)
            return page.close_code

        assert asyncio.run(again()) == 1008
        figures["revocation"]["leave_to_close_ms"] = round(latency * 1000, 1)
        figures["revocation"]["frames_after_leave"] = 0
        for m in (alice, bob):
            m.close()
    finally:
        server.terminate()


@pytest.mark.slow
def test_az6_logout_closes_that_logins_pages_and_the_cookie_is_dead(server_env, tmp_path, figures):
    server = Server(server_env, tmp_path / "s.log").start()
    try:
        group = server.create_group("Logout")
        (alice,) = _live_members(server, group, ["alice"])
        cursor = alice.cursor(group)
        cookie = alice.cookie_header()

        async def scenario() -> tuple[float, int | None, int | None]:
            pages = [await Page(alice, group).open(cursor) for _ in range(2)]
            await asyncio.sleep(0.3)
            token = re.search(r'name="csrf_token" value="([^"]+)"', alice.http.get("/").text).group(
                1
            )
            began = time.monotonic()
            alice.http.post("/logout", data={"csrf_token": token})
            await asyncio.wait_for(asyncio.gather(*(p._reader for p in pages)), 5)
            latency = time.monotonic() - began
            alice.http.cookies.clear()
            for part in cookie.split("; "):  # replay the copied cookie
                name, _, value = part.partition("=")
                alice.http.cookies.set(name, value)
            replay = await Page(alice, group).open(cursor)
            await asyncio.wait_for(replay._reader, 5)
            return latency, pages[0].close_code, replay.close_code

        latency, code, replay_code = asyncio.run(scenario())
        assert latency < 1.0 and code == 1008 and replay_code == 1008
        figures["revocation"]["logout_to_close_ms"] = round(latency * 1000, 1)
        alice.close()
    finally:
        server.terminate()


@pytest.mark.slow
def test_az6_an_expiring_session_closes_its_sockets(client_with, make_group):
    with client_with(session_max_age=2) as client:
        alice = Browser(client)
        alice.sign_up("alice")
        from discussit.groups import directory as groups

        async def create(session):  # type: ignore[no-untyped-def]
            return (await groups.create(session, "Short")).id

        group = factories.run(client, create)
        alice.join(group)
        with alice.socket(group) as ws:
            resume(ws, 1)
            drain(ws)
            frames = []
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    frames.append(receive_text(ws, timeout=5))
            assert closed.value.code == 1008
            assert any("logged out" in f for f in frames)
    assert json  # (json used by helpers above)
