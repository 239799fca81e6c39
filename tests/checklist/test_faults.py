"""Faults (issue 11, item 13): shutdown ends within the graceful-shutdown limit even when the
database and Redis have gone off the network (connections open, no answers)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests import figures as figs
from tests.servers import Member, Page, Server, SwitchableProxy


def _through(url: str, proxy: SwitchableProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.mark.services
def test_fault_shutdown_ends_in_time_when_the_database_and_redis_stop_answering(
    server_env, tmp_path
):
    database = SwitchableProxy(urlsplit(server_env["DATABASE_URL"]).port or 5432)
    redis = SwitchableProxy(urlsplit(server_env["REDIS_URL"]).port or 6379)
    env = {
        **server_env,
        "DATABASE_URL": _through(server_env["DATABASE_URL"], database),
        "REDIS_URL": _through(server_env["REDIS_URL"], redis),
    }
    server = Server(env, tmp_path / "faults.log", graceful=10).start()
    try:
        alice = Member(server, "alice")
        group = server.create_group("Faults")
        alice.join(group)
        cursor = alice.cursor(group)

        async def outage_then_shutdown() -> tuple[int, float]:
            pages = [await Page(alice, group).open(cursor) for _ in range(3)]
            await pages[0].say("before the outage")
            for page in pages:
                await page.wait_for(1, lambda e: "before the outage" in e[1])
            database.blackhole()
            redis.blackhole()
            try:
                return await asyncio.to_thread(server.terminate)
            finally:
                for page in pages:
                    await page.close()

        code, seconds = asyncio.run(outage_then_shutdown())
        alice.close()
    finally:
        database.close()
        redis.close()
    assert seconds < server.graceful, (seconds, server.log()[-3000:])
    figs.FIGURES["faults"]["shutdown_seconds_with_database_and_redis_gone"] = round(seconds, 1)
    figs.FIGURES["faults"]["graceful_shutdown_limit_seconds"] = server.graceful
