"""VAL-1..5: bad input gets a clear error, is never stored or broadcast, and never crashes."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed

from discussit import limits
from tests import figures as figs
from tests.helpers import drain, receive_text, receive_until, resume, say
from tests.servers import Member, Page, Server

BAD_TEXTS = [
    "",
    " ",
    "\t",
    "\n",
    "\u00a0",
    "\u200b",
    "\x00",
    "a\x01b",
    "x" * (limits.MESSAGE_MAX + 1),
    None,
    7,
    [],
    {"a": 1},
]

pytestmark = pytest.mark.slow  # real servers or timed waits: `make test`, not `make check`


def test_val1_content_rules_count_and_accept_exactly_the_limit(client, alice, lounge, caplog):
    alice.join(lounge)
    for start in range(0, len(BAD_TEXTS), 4):  # refused frames count toward a close: 4 a socket
        with alice.socket(lounge) as ws:
            resume(ws, 1)
            for bad in BAD_TEXTS[start : start + 4]:
                say(ws, bad)
                error = receive_until(ws, 'id="composer"')[-1]
                assert "composer__error" in error and "message" in error.lower()
                figs.add("bad_inputs", "tried")
    with alice.socket(lounge) as ws:
        resume(ws, 1)
        for good in (
            "x" * limits.MESSAGE_MAX,
            "line\u2028separator",
            "\u202eright-to-left",
            "  trimmed  ",
        ):
            say(ws, good)
            receive_until(ws, "message__body")
    page = alice.get(f"/groups/{lounge}/").text
    stored = page.count('class="message"')
    assert stored == 4  # only the four good ones were stored
    assert "Traceback" not in caplog.text
    figs.FIGURES["bad_inputs"]["wrongly_accepted"] = stored - 4
    figs.FIGURES["bad_inputs"]["server_errors"] = caplog.text.count("Traceback")


def _live(server_env, tmp_path, name: str):  # type: ignore[no-untyped-def]
    server = Server(server_env, tmp_path / f"{name}.log").start()
    group = server.create_group(name)
    members = [Member(server, n) for n in ("alice", "bob")]
    for m in members:
        m.join(group)
    return server, group, members


def test_val2_huge_frames_close_1009_and_others_are_unaffected(server_env, tmp_path):
    server, group, (alice, bob) = _live(server_env, tmp_path, "Huge")
    try:
        cursor = alice.cursor(group)

        async def scenario() -> list[int | None]:
            codes = []
            watcher = await Page(bob, group).open(cursor)
            for size in (1024 * 1024, 20 * 1024 * 1024):
                page = await Page(alice, group).open(cursor)
                with contextlib.suppress(ConnectionClosed):  # closed mid-send, as it should be
                    await page.ws.send(json.dumps({"text": "y" * size}))  # type: ignore[union-attr]
                await asyncio.wait_for(page._reader, 10)
                codes.append(page.close_code)
                figs.add("bad_inputs", "tried")
            sender = await Page(alice, group).open(cursor)
            await sender.say("still fine")
            await watcher.wait_for(1, lambda e: "still fine" in e[1], timeout=1)
            await sender.close()
            await watcher.close()
            return codes

        assert asyncio.run(scenario()) == [1009, 1009]
    finally:
        for m in (alice, bob):
            m.close()
        server.terminate()
    assert "Traceback" not in server.log()


def test_val3_invalid_utf8_closes_1007_and_binary_gets_an_error(server_env, tmp_path):
    server, group, (alice, bob) = _live(server_env, tmp_path, "Bytes")
    try:
        cursor = alice.cursor(group)

        async def scenario() -> tuple[int | None, list[str]]:
            page = await Page(alice, group).open(cursor)
            await page.ws.send(b"\x00\x01binary")  # type: ignore[union-attr]
            await asyncio.sleep(0.3)
            await page.ws.send(b'{"text": "\xff\xfe"}', text=True)  # type: ignore[union-attr]
            await asyncio.wait_for(page._reader, 10)
            figs.add("bad_inputs", "tried", 2)
            return page.close_code, []

        code, _ = asyncio.run(scenario())
        assert code == 1007
    finally:
        for m in (alice, bob):
            m.close()
        server.terminate()
    assert "Traceback" not in server.log()


def test_val4_five_bad_frames_close_the_socket_and_extra_fields_are_never_honoured(
    client, alice, lounge
):
    alice.join(lounge)
    with alice.socket(lounge) as ws:
        resume(ws, 1)
        drain(ws)
        say(ws, "with extras", is_admin=True, author="root", group_id="x", seq=999)
        assert ">alice</strong>" in receive_until(ws, "with extras")[-1]
        for frame in ["{", "[]", "1", '"x"', "[" * 50_000 + "]" * 50_000]:
            ws.send_text(frame)
            figs.add("bad_inputs", "tried")
        frames = []
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                frames.append(receive_text(ws))
        assert closed.value.code == 1008 and len(frames) == 5  # four errors, a notice, the close
        assert "could not be accepted" in frames[-1]


@pytest.mark.parametrize("field", ["username", "password", "password2"])
def test_val5_oversized_fields_get_form_errors_not_crashes(browser, field):
    data = {"username": "alice", "password": "violet-lantern-93", "password2": "violet-lantern-93"}
    data[field] = "z" * 20_000
    response = browser.post("/signup", data)
    assert response.status_code == 400 and "form__error" in response.text
    figs.add("bad_inputs", "tried")
