"""DLV-1, DLV-7, SHUT-3 (DLV-2..6, SHUT-1..2 are in test_messages, test_group_socket,
test_deployment and browser/test_restart, under their ids)."""

from __future__ import annotations

import contextlib
import subprocess

import httpx2 as httpx
import pytest
from sqlalchemy.exc import OperationalError

from discussit.chat import posting
from tests import figures as figs
from tests.helpers import drain, receive_until, resume, say
from tests.servers import Member, Server, free_port, wait_for_port


def test_dlv1_a_failed_insert_publishes_nothing_and_the_sender_can_retry(
    client, alice, bob, lounge, monkeypatch
):
    alice.join(lounge)
    bob.join(lounge)
    real = posting.store_message

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT", {}, Exception("database is gone"))

    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(a, 2)
        resume(b, 2)
        drain(a)
        drain(b)
        monkeypatch.setattr(posting, "store_message", broken)
        say(a, "lost?")
        error = receive_until(a, 'id="composer"')[-1]
        assert "could not be saved" in error and ">lost?</textarea>" in error  # text kept to resend
        # Nothing was published (a presence change of the connects may still come: gathered).
        assert [f for f in drain(b) if "presence-changes" not in f] == []
        monkeypatch.setattr(posting, "store_message", real)
        say(a, "lost?")
        receive_until(b, "lost?")
    assert alice.get(f"/groups/{lounge}/").text.count("lost?</p>") == 1


def test_dlv7_a_retried_send_is_stored_and_broadcast_once(client, alice, bob, lounge):
    alice.join(lounge)
    bob.join(lounge)
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(a, 2)
        resume(b, 2)
        drain(b)
        for _ in range(3):
            say(a, "only once", client_message_id="6f1c2d4e-retry-0001")
        say(a, "next one", client_message_id="6f1c2d4e-retry-0002")
        frames = receive_until(b, "next one") + drain(b)
    assert sum("only once" in f for f in frames) == 1
    # the same for a form resubmitted without JavaScript
    for _ in range(2):
        alice.post(
            f"/groups/{lounge}/messages",
            {"text": "form once", "client_message_id": "6f1c2d4e-form-0001"},
        )
    page = alice.get(f"/groups/{lounge}/").text
    socket_stored, form_stored = page.count("only once</p>"), page.count("form once</p>")
    assert socket_stored == 1 and form_stored == 1
    figs.FIGURES["delivery"]["retried_sends_stored"] = {
        "socket": f"{socket_stored} of 3",
        "form": f"{form_stored} of 2",
    }


def test_dlv7_leaving_when_not_a_member_records_nothing(alice, lounge, monkeypatch):
    from discussit.timeline import events

    monkeypatch.setattr(events, "EVENT_COLLAPSE_SECONDS", 0)  # every change a line of its own
    alice.leave(lounge)
    alice.join(lounge)
    alice.leave(lounge)
    alice.leave(lounge)
    page = alice.get(f"/groups/{lounge}/", follow_redirects=False)
    assert page.status_code == 403
    alice.join(lounge)
    lines = alice.get(f"/groups/{lounge}/").text.count('class="event ')
    assert lines == 3  # joined, left, joined: the extra leaves left no trace


@pytest.mark.services
def test_shut3_before_redis_is_up_health_is_503_and_sockets_are_told_to_retry(server_env, tmp_path):
    import asyncio

    from websockets.asyncio.client import connect

    redis_port = free_port()
    env = {**server_env, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    server = Server(env, tmp_path / "s.log").start(wait_healthy=False)
    redis_server = None
    try:
        assert httpx.get(server.url + "/healthz").status_code == 503
        alice = Member(server, "alice")
        group = server.create_group("Early")
        alice.join(group)

        async def close_code() -> int | None:
            async with connect(
                f"ws://127.0.0.1:{server.port}/groups/{group}/ws",
                origin=server.url,  # type: ignore[arg-type]
                additional_headers={"Cookie": alice.cookie_header()},
            ) as ws:
                with contextlib.suppress(Exception):  # the server closes; recv raises
                    await asyncio.wait_for(ws.recv(), 5)
                return ws.close_code

        assert asyncio.run(close_code()) == 1013
        redis_server = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(redis_port, redis_server)
        import time

        deadline = time.monotonic() + 15
        while httpx.get(server.url + "/healthz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        alice.close()
    finally:
        server.terminate()
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait()
