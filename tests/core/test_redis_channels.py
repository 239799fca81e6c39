"""Two DiscussIts on one Redis server, on different database numbers, hear only their own live
items (Redis shares pub/sub channels across database numbers: core/realtime/redis.py)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from discussit.core.realtime.broker import group_channel
from discussit.core.realtime.items import CountChanged
from discussit.core.realtime.redis import RedisBroker, make_client

pytestmark = pytest.mark.services


def test_brokers_on_two_database_numbers_do_not_hear_each_other():
    base = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0]

    async def scenario() -> tuple[list[object], list[object]]:
        first, second = (RedisBroker(make_client(f"{base}/{db}")) for db in (11, 12))
        for broker in (first, second):
            await broker.start()
        try:
            for broker in (first, second):
                await asyncio.wait_for(broker.subscribed.wait(), 5)
            channel = group_channel(uuid.uuid4())
            heard_first, heard_second = first.subscribe(channel), second.subscribe(channel)
            await first.publish(channel, CountChanged("for the first"))
            mine = await asyncio.wait_for(heard_first.get(), 5)
            # Redis sends a subscriber's messages in the order it took the publishes: had the
            # first's item reached the second, it would come before this one.
            await second.publish(channel, CountChanged("for the second"))
            theirs = await asyncio.wait_for(heard_second.get(), 5)
            return [mine, heard_first.get_nowait()], [theirs, heard_second.get_nowait()]
        finally:
            for broker in (first, second):
                await broker.stop()
                await broker.client.aclose()

    first_heard, second_heard = asyncio.run(scenario())
    assert first_heard == [CountChanged("for the first"), None]
    assert second_heard == [CountChanged("for the second"), None]
