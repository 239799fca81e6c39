"""Redis for several processes: one client per process (made here, passed to whoever needs it),
the broker over pub/sub, and presence shared by every process.

Broker: each process publishes items as JSON to `discussit:<channel>` and runs one pattern
subscription that decodes each item once and hands it to that process's local subscribers
(never waiting on any of them). Pub/sub drops whatever is published while a subscriber is away,
so after every (re)subscription each local connection resyncs from the database.

Presence: hash `discussit:presence:<group>` holds `<user>:<process>` -> open pages. Each process
keeps a key `discussit:process:<process>` alive (30 s TTL, refreshed every 10 s), so the pages of
a process that died stop counting by themselves. If Redis is unreachable, presence degrades
(nobody shown online) and chat goes on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import uuid
from contextlib import suppress

import redis.asyncio as redis
from redis.exceptions import RedisError

from discussit.core.realtime.broker import Broker
from discussit.core.realtime.items import Item, decode, encode
from discussit.core.realtime.presence import Presence

log = logging.getLogger("discussit.broker")

PREFIX = "discussit:"


def channel_prefix(client: redis.Redis) -> str:
    """Where this DiscussIt's live items travel. Redis keeps keys per database number but
    pub/sub channels are shared by all of them: two DiscussIts on one Redis server with
    different database numbers (REDIS_URL .../1 and .../2) would otherwise see each other's
    items (a logout of user 7 in one closing user 7's pages in the other). So the number is
    part of every channel's name: `discussit:0:group:<id>`."""
    db = int(client.connection_pool.connection_kwargs.get("db", 0) or 0)
    return f"{PREFIX}{db}:"


PROCESS_TTL = 30
PROCESS_REFRESH = 10


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def make_client(url: str) -> redis.Redis:
    """The process's one Redis client (pub/sub takes one connection; commands share a small
    pool). Explicit timeouts: redis-py 8's defaults do not suit a long-lived server."""
    # A blocking pool: a burst of more than 20 commands at once (pages connecting together)
    # waits up to 2 s for a connection instead of failing with "Too many connections". Every
    # wait is 2 s at most, under the 3 s a page's presence cleanup may take (chat/socket.py).
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=20,
        timeout=2,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=30,
    )
    return redis.Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


class RedisBroker(Broker):
    def __init__(self, client: redis.Redis, queue_size: int = 1024) -> None:
        super().__init__(queue_size)
        self.client = client
        self.prefix = channel_prefix(client)
        self.subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._subscriber(), name="discussit-redis-subscriber")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def publish(self, channel: str, item: Item) -> None:
        try:
            await self.client.publish(self.prefix + channel, encode(item))
        except (RedisError, OSError) as error:
            # The change is already committed: local pages re-read the database now; other
            # processes' pages do when their subscriber comes back (or on their next entry).
            log.warning("publish failed (%s); local pages resync", type(error).__name__)
            self.resync_all()

    def ready(self) -> bool:
        return self.subscribed.is_set()

    async def healthy(self) -> bool:
        # A process that has just started may not have subscribed yet: give it the same 2 s
        # every other Redis wait has before calling it unhealthy.
        try:
            await asyncio.wait_for(self.subscribed.wait(), timeout=2)
        except TimeoutError:
            return False
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def _subscriber(self) -> None:
        delay = 0.2
        while True:
            try:
                async with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.psubscribe(self.prefix + "*")
                    self.subscribed.set()
                    self.resync_all()  # anything published while we were away is lost
                    delay = 0.2
                    while True:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None and message["type"] == "pmessage":
                            self._deliver_raw(message["channel"], message["data"])
            except (RedisError, OSError) as error:
                self.subscribed.clear()
                log.warning(
                    "redis subscriber lost (%s); retrying in %.1fs", type(error).__name__, delay
                )
                await asyncio.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 5.0)

    def _deliver_raw(self, channel: bytes | str, data: bytes | str) -> None:
        item = decode(data)
        if item is None:
            log.warning("ignored a malformed broker item")
            return
        self.deliver(_text(channel)[len(self.prefix) :], item)


# One count fewer in each (KEYS[i], ARGV[i]) hash field, the field removed at zero, in one step.
_DECREMENT = """
for i, key in ipairs(KEYS) do
  if redis.call('HINCRBY', key, ARGV[i], -1) <= 0 then redis.call('HDEL', key, ARGV[i]) end
end
return 0
"""


def _sockets_key(user_id: int) -> str:
    """A user's open pages in every group, field `token` (the per-user cap)."""
    return f"discussit:sockets:{user_id}"


class RedisPresence(Presence):
    def __init__(self, client: redis.Redis) -> None:
        super().__init__()
        self.client = client
        self.token = secrets.token_hex(8)
        self._task: asyncio.Task[None] | None = None
        self._decrement_script = client.register_script(_DECREMENT)

    def _key(self, group_id: uuid.UUID) -> str:
        """Open pages in the group, field `user:token` (who is online: `online`)."""
        return f"discussit:presence:{group_id}"

    def _user_key(self, group_id: uuid.UUID, user_id: int) -> str:
        """One user's open pages in the group, field `token` (did they just come online or
        go offline: a few fields to read, not the whole group's)."""
        return f"discussit:presence:{group_id}:{user_id}"

    async def _decrement(self, *pairs: tuple[str, str]) -> None:
        """One count fewer in each (key, field), the field removed at zero, in one step: as
        two commands, a count another page added between them would be deleted with it."""
        await self._decrement_script(keys=[k for k, _ in pairs], args=[f for _, f in pairs])

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_alive(), name="discussit-presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        with suppress(RedisError, OSError):
            await self.client.delete(f"discussit:process:{self.token}")

    async def _keep_alive(self) -> None:
        while True:
            try:
                await self.client.set(f"discussit:process:{self.token}", 1, ex=PROCESS_TTL)
            except (RedisError, OSError):
                log.warning("presence keep-alive failed")
            await asyncio.sleep(PROCESS_REFRESH)

    async def _counts(self, group_id: uuid.UUID) -> dict[int, int]:
        """Open pages per user, on live processes only (dead processes' fields are removed)."""
        fields = await self.client.hgetall(self._key(group_id))
        if not fields:
            return {}
        parsed = [(_text(f).split(":"), int(v)) for f, v in fields.items()]
        tokens = sorted({parts[1] for parts, _ in parsed})
        alive = dict(
            zip(
                tokens,
                await self.client.mget([f"discussit:process:{t}" for t in tokens]),
                strict=True,
            )
        )
        counts: dict[int, int] = {}
        dead = []
        for (user, token), n in parsed:
            if alive[token] is None and token != self.token:
                dead.append(f"{user}:{token}")
            elif n > 0:
                counts[int(user)] = counts.get(int(user), 0) + n
        if dead:
            await self.client.hdel(self._key(group_id), *dead)
        return counts

    async def take_socket(self, user_id: int, cap: int) -> bool | None:
        """Counted first, then checked across every process: two handshakes at once may both
        be refused near the cap, but more than `cap` are never admitted. Redis away: None (the
        page is told to retry later; a cap that cannot be checked admits no one)."""
        try:
            await self.client.hincrby(_sockets_key(user_id), self.token, 1)
        except (RedisError, OSError):
            return None
        try:
            if await self._live_total(_sockets_key(user_id)) <= cap:
                return True
        except (RedisError, OSError):
            await self.give_socket(user_id)
            return None
        await self.give_socket(user_id)
        return False

    async def give_socket(self, user_id: int) -> None:
        with suppress(RedisError, OSError):
            await self._decrement((_sockets_key(user_id), self.token))

    async def connect(self, group_id: uuid.UUID, user_id: int) -> bool:
        user_key = self._user_key(group_id, user_id)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.hincrby(self._key(group_id), f"{user_id}:{self.token}", 1)
                pipe.hincrby(user_key, self.token, 1)
                await pipe.execute()
            return await self._live_total(user_key) == 1
        except (RedisError, OSError):
            return False

    async def disconnect(self, group_id: uuid.UUID, user_id: int) -> bool:
        user_key = self._user_key(group_id, user_id)
        try:
            await self._decrement(
                (self._key(group_id), f"{user_id}:{self.token}"), (user_key, self.token)
            )
            return await self._live_total(user_key) == 0
        except (RedisError, OSError):
            return False

    async def sockets(self, user_id: int) -> int:
        try:
            return await self._live_total(_sockets_key(user_id))
        except (RedisError, OSError):
            return 0

    async def _live_total(self, key: str) -> int:
        """The sum of a hash of per-process counts (field: process token), counting only
        processes still alive (raises RedisError)."""
        counts = await self.client.hgetall(key)
        if not counts:
            return 0
        tokens = [_text(t) for t in counts]
        alive = await self.client.mget([f"discussit:process:{t}" for t in tokens])
        total = 0
        for token, n, a in zip(tokens, counts.values(), alive, strict=True):
            if a is not None or token == self.token:
                total += int(n)
        return total

    async def online(self, group_id: uuid.UUID) -> frozenset[int]:
        try:
            return frozenset(await self._counts(group_id))
        except (RedisError, OSError):
            return frozenset()
