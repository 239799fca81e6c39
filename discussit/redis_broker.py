"""The broker across processes: Redis pub/sub, one subscriber task per process.

Each process publishes items as JSON to `discussit:<channel>` and runs one pattern subscription
that decodes each item once and hands it to that process's local subscribers (never waiting on
any of them). Pub/sub drops whatever is published while a subscriber is away, so after every
(re)subscription each local connection resyncs from the database, the source of truth.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random

import redis.asyncio as redis
from redis.exceptions import RedisError

from discussit.broker import Broker, Item

log = logging.getLogger("discussit.broker")

PREFIX = "discussit:"


class RedisBroker(Broker):
    def __init__(self, url: str, queue_size: int = 1024) -> None:
        super().__init__(queue_size)
        self.url = url
        self.client: redis.Redis | None = None
        self.subscribed = asyncio.Event()
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.client = redis.Redis.from_url(
            self.url,
            max_connections=20,
            socket_timeout=5,
            socket_connect_timeout=5,
            health_check_interval=30,
        )
        self._task = asyncio.create_task(self._subscriber(), name="discussit-redis-subscriber")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.client is not None:
            await self.client.aclose()

    async def publish(self, channel: str, item: Item) -> None:
        assert self.client is not None
        try:
            await self.client.publish(PREFIX + channel, json.dumps(item, separators=(",", ":")))
        except (RedisError, OSError) as error:
            # The change is already committed: local pages re-read the database now; other
            # processes' pages do when their subscriber comes back (or on their next entry).
            log.warning("publish failed (%s); local pages resync", type(error).__name__)
            self.resync_all()

    def ready(self) -> bool:
        return self.subscribed.is_set()

    async def healthy(self) -> bool:
        if self.client is None or not self.subscribed.is_set():
            return False
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def _subscriber(self) -> None:
        assert self.client is not None
        delay = 0.2
        while True:
            try:
                async with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.psubscribe(PREFIX + "*")
                    self.subscribed.set()
                    self.resync_all()  # anything published while we were away is lost
                    delay = 0.2
                    while True:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None and message["type"] == "pmessage":
                            self._deliver_raw(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                self.subscribed.clear()
                self.reconnects += 1
                log.warning(
                    "redis subscriber lost (%s); retrying in %.1fs", type(error).__name__, delay
                )
                await asyncio.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 5.0)

    def _deliver_raw(self, channel: bytes, data: bytes) -> None:
        try:
            item = json.loads(data)
        except ValueError:
            log.warning("ignored a malformed broker item")
            return
        if isinstance(item, dict):
            self.deliver(channel.decode()[len(PREFIX) :], item)
