"""Real uvicorn processes: two processes sharing PostgreSQL and Redis, a Redis outage under
traffic, and a graceful shutdown. Figures go to test-artifacts/deployment-figures.json."""

from __future__ import annotations

import asyncio
import fcntl
import json
import signal
import subprocess
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine, text

from discussit.core.db import sync_url
from discussit.core.templating import SOCKET_PAGE
from tests import figures as figs
from tests.servers import Member, Page, Server, csrf_of, free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "test-artifacts" / "deployment-figures.json"

pytestmark = pytest.mark.slow  # real servers or timed waits: `make test`, not `make check`


def record(name: str, figures: dict[str, object]) -> None:
    """Add to the figures file (locked: two test workers may record at once)."""
    FIGURES.parent.mkdir(exist_ok=True)
    with (FIGURES.parent / "deployment-figures.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        data[name] = figures
        FIGURES.write_text(json.dumps(data, indent=2, sort_keys=True))


def stored(database_url: str, group_id: str, after: int) -> list[tuple[int, str]]:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT seq, body FROM messages WHERE group_id = :g AND seq > :a ORDER BY seq"),
            {"g": group_id.replace("-", "") if "sqlite" in database_url else group_id, "a": after},
        ).all()
    engine.dispose()
    return [(int(s), b) for s, b in rows]


def messages_seen(page: Page, after: int) -> list[tuple[int, str]]:
    return [(s, t.split()[-1]) for s, t in page.entries if s > after and "joined" not in t]


@pytest.mark.services
def test_dlv6_members_on_two_processes_see_the_same_messages_in_the_same_order(
    server_env, settings, tmp_path
):
    a = Server(server_env, tmp_path / "a.log").start()
    b = Server(server_env, tmp_path / "b.log").start()
    try:
        group = a.create_group("Lounge")
        members = [Member(a, "ana"), Member(a, "ben"), Member(b, "cyd"), Member(b, "dee")]
        for member in members:
            member.join(group)
        cursor = members[0].cursor(group)

        async def scenario() -> list[Page]:
            pages = [await Page(m, group).open(cursor) for m in members]
            await asyncio.sleep(0.3)

            async def send(page: Page) -> None:
                for i in range(15):
                    await page.say(f"{page.member.username}-{i}")
                    await asyncio.sleep(0.005)

            await asyncio.gather(*(send(p) for p in pages))
            for page in pages:
                await page.wait_for(60, lambda e: e[0] > cursor)
            await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive by now
            for page in pages:
                await page.close()
            return pages

        pages = asyncio.run(scenario())
        for member in members:
            member.close()
        truth = stored(settings.database_url, group, cursor)
        assert len(truth) == 60 and [s for s, _ in truth] == list(range(cursor + 1, cursor + 61))
        for page in pages:
            assert messages_seen(page, cursor) == truth
        record(
            "two_processes",
            {"processes": 2, "pages": 4, "messages": 60, "pages_with_identical_order": len(pages)},
        )
    finally:
        for server in (a, b):
            server.terminate()
        assert "Traceback" not in a.log() + b.log()


@pytest.mark.services
def test_dlv5_a_redis_outage_under_traffic_loses_and_duplicates_nothing(
    server_env, settings, tmp_path
):
    redis_port = free_port()

    def start_redis() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
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
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(redis_port, process)
        return process

    redis_server = start_redis()
    env = {**server_env, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    a = Server(env, tmp_path / "a.log").start()
    b = Server(env, tmp_path / "b.log").start()
    figures: dict[str, object] = {}
    try:
        group = a.create_group("Outage")
        ana, cyd, dee = Member(a, "ana"), Member(b, "cyd"), Member(b, "dee")
        for member in (ana, cyd, dee):
            member.join(group)
        cursor = ana.cursor(group)
        sent_during_outage = 0
        outage = {"down": False}

        async def scenario() -> list[Page]:
            nonlocal redis_server, sent_during_outage
            pages = [await Page(m, group).open(cursor) for m in (ana, cyd, dee)]
            await asyncio.sleep(0.3)

            async def send(page: Page) -> None:
                nonlocal sent_during_outage
                for i in range(40):
                    await page.say(f"{page.member.username}-{i}")
                    sent_during_outage += outage["down"]
                    await asyncio.sleep(0.08)

            async def break_redis() -> None:
                nonlocal redis_server
                await asyncio.sleep(1.0)
                redis_server.send_signal(signal.SIGKILL)
                redis_server.wait()
                outage["down"] = True
                began = time.monotonic()
                await asyncio.sleep(1.0)
                async with httpx.AsyncClient() as client:
                    health = await client.get(a.url + "/healthz")
                figures["healthz_during_outage"] = health.status_code
                await asyncio.sleep(1.0)
                redis_server = start_redis()
                outage["down"] = False
                figures["outage_seconds"] = round(time.monotonic() - began, 2)

            await asyncio.gather(send(pages[0]), send(pages[1]), break_redis())
            for page in pages:
                await page.wait_for(80, lambda e: e[0] > cursor, timeout=45)
            await asyncio.sleep(0.5)
            for page in pages:
                await page.close()
            return pages

        pages = asyncio.run(scenario())
        for member in (ana, cyd, dee):
            member.close()
        truth = stored(settings.database_url, group, cursor)
        assert len(truth) == 80
        shown = {}
        for page in pages:
            seen = messages_seen(page, cursor)
            shown[page.member.username] = len(seen)
            assert seen == truth  # every message exactly once, in the stored order
        assert figures["healthz_during_outage"] == 503
        assert sent_during_outage > 0
        figures.update(
            {
                "messages_posted": 80,
                "posted_during_outage": sent_during_outage,
                "shown_per_page": shown,
                "duplicates": 0,
                "out_of_order": 0,
            }
        )
        record("redis_outage", figures)
        figs.FIGURES["redis_outage"] = figures
    finally:
        for server in (a, b):
            server.terminate()
        redis_server.terminate()
        redis_server.wait()
        assert "Traceback" not in a.log() + b.log()


def test_shut1_sigterm_closes_pages_with_a_retry_code_and_exits_within_the_grace_period(
    server_env, tmp_path
):
    server = Server(server_env, tmp_path / "s.log", graceful=10).start()
    group = server.create_group("Shutdown")
    members = [Member(server, f"user{i}") for i in range(3)]
    for member in members:
        member.join(group)
    cursor = members[0].cursor(group)

    async def scenario() -> tuple[list[Page], int, float, list[str]]:
        pages = [await Page(m, group).open(cursor) for m in members]
        await pages[0].say("before the restart")
        for page in pages:
            await page.wait_for(1, lambda e: "before the restart" in e[1])
        stream_lines: list[str] = []

        async def home_stream() -> None:
            client = httpx.AsyncClient(
                base_url=server.url, cookies=members[0].http.cookies, timeout=30
            )
            async with client, client.stream("GET", "/updates") as response:
                async for line in response.aiter_lines():
                    stream_lines.append(line)

        streaming = asyncio.create_task(home_stream())
        deadline = time.monotonic() + 10  # until the stream is live (its first event)
        while not any(line.startswith("data:") for line in stream_lines):
            assert time.monotonic() < deadline and not streaming.done()
            await asyncio.sleep(0.05)
        code, seconds = await asyncio.get_running_loop().run_in_executor(None, server.terminate)
        await asyncio.wait_for(asyncio.gather(*(p._reader for p in pages)), 5)
        await asyncio.wait_for(asyncio.gather(streaming, return_exceptions=True), 5)
        return pages, code, seconds, stream_lines

    pages, code, seconds, stream_lines = asyncio.run(scenario())
    for member in members:
        member.close()
    codes = [p.close_code for p in pages]
    # uvicorn re-raises the SIGTERM it caught once shutdown has finished, so the exit status is
    # "terminated by SIGTERM"; the log shows the shutdown completed rather than being cut short.
    assert code == -signal.SIGTERM
    assert "Application shutdown complete" in server.log()
    assert "Finished server process" in server.log()
    assert seconds < server.graceful
    assert codes == [1012] * len(pages)  # "service restart": htmx reconnects on it
    assert any(line.startswith("data:") for line in stream_lines)  # the stream was live, then ended
    assert "Traceback" not in server.log()
    figs.FIGURES["shutdown"] = {
        "close_codes": codes,
        "seconds_to_exit": round(seconds, 2),
        "graceful_limit_seconds": server.graceful,
        "sse_streams_ended": 1,
    }
    backend = "postgres_redis" if "REDIS_URL" in server_env else "sqlite_memory"
    record(
        f"shutdown_{backend}",
        {
            "pages": len(pages),
            "sse_streams": 1,
            "close_codes": codes,
            "exit_code": code,
            "seconds_to_exit": round(seconds, 2),
            "graceful_limit_seconds": server.graceful,
        },
    )


@pytest.mark.services
def test_counts_mentions_and_typing_cross_processes(server_env, tmp_path):
    """ana's page on process A counts what ben posts (and mentions her) in another group on
    process B, and shows ben typing there (issue 14: through Redis, rendered once)."""
    a = Server(server_env, tmp_path / "a.log").start()
    b = Server(server_env, tmp_path / "b.log").start()
    try:
        here, there = a.create_group("Here"), a.create_group("There")
        ana, ben = Member(a, "ana"), Member(b, "ben")
        for member in (ana, ben):
            member.join(here)
            member.join(there)
        cursor = ana.cursor(here)

        async def scenario() -> tuple[list[str], list[str]]:
            page = await Page(ana, here).open(cursor, resume=False)
            assert page.ws is not None
            await page.ws.send(  # a page whose list of groups shows others
                json.dumps(
                    {
                        "type": "resume",
                        "page": SOCKET_PAGE,
                        "after": str(cursor),
                        "others": "1",
                        "headers": {},
                    }
                )
            )
            bens = await Page(ben, here).open(cursor)
            await _until(lambda: any(f"group-{there}-unread" in f for f in page.frames))
            token = csrf_of(ben.http.get(f"/groups/{there}/").text)
            posted = ben.http.post(
                f"/groups/{there}/messages", data={"csrf_token": token, "text": "@ana over here"}
            )
            assert posted.status_code == 303
            await _until(lambda: any(">1<" in f and "unread__mentions" in f for f in page.frames))
            assert bens.ws is not None
            await bens.ws.send(json.dumps({"type": "typing", "headers": {}}))
            await _until(lambda: any("typing-signal" in f for f in page.frames))
            for p in (page, bens):
                await p.close()
            return page.frames, bens.frames

        frames, _ = asyncio.run(scenario())
        for member in (ana, ben):
            member.close()
        typing = next(f for f in frames if "typing-signal" in f)
        assert ">ben<" in typing
    finally:
        for server in (a, b):
            server.terminate()
        assert "Traceback" not in a.log() + b.log()


async def _until(done: object, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.05)
