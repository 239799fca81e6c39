"""Presence shared by every process through Redis.

Hash `discussit:presence:<group>` holds `<user>:<process>` -> open pages. Each process keeps a key
`discussit:process:<process>` alive (30 s TTL, refreshed every 10 s), so the pages of a process
that died stop counting by themselves. If Redis is unreachable, presence degrades (nobody shown
online) and chat goes on.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from contextlib import suppress

import redis.asyncio as redis
from redis.exceptions import RedisError

from discussit.presence import Presence

log = logging.getLogger("discussit.presence")

TTL = 30
REFRESH = 10


class RedisPresence(Presence):
    def __init__(self, client: redis.Redis) -> None:
        super().__init__()
        self.client = client
        self.token = secrets.token_hex(8)
        self._task: asyncio.Task[None] | None = None

    def _key(self, group_id: uuid.UUID) -> str:
        return f"discussit:presence:{group_id}"

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
                await self.client.set(f"discussit:process:{self.token}", 1, ex=TTL)
            except (RedisError, OSError):
                log.warning("presence keep-alive failed")
            await asyncio.sleep(REFRESH)

    async def _counts(self, group_id: uuid.UUID) -> dict[int, int]:
        """Open pages per user, on live processes only (dead processes' fields are removed)."""
        fields = await self.client.hgetall(self._key(group_id))
        if not fields:
            return {}
        parsed = [(f.decode().split(":"), int(v)) for f, v in fields.items()]
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

    async def connect(self, group_id: uuid.UUID, user_id: int) -> bool:
        try:
            await self.client.hincrby(f"discussit:sockets:{user_id}", self.token, 1)
            await self.client.hincrby(self._key(group_id), f"{user_id}:{self.token}", 1)
            return (await self._counts(group_id)).get(user_id, 0) == 1
        except (RedisError, OSError):
            return False

    async def disconnect(self, group_id: uuid.UUID, user_id: int) -> bool:
        field = f"{user_id}:{self.token}"
        try:
            if await self.client.hincrby(f"discussit:sockets:{user_id}", self.token, -1) <= 0:
                await self.client.hdel(f"discussit:sockets:{user_id}", self.token)
            left = await self.client.hincrby(self._key(group_id), field, -1)
            if left <= 0:
                await self.client.hdel(self._key(group_id), field)
            return (await self._counts(group_id)).get(user_id, 0) == 0
        except (RedisError, OSError):
            return False

    async def sockets(self, user_id: int) -> int:
        try:
            counts = await self.client.hgetall(f"discussit:sockets:{user_id}")
            if not counts:
                return 0
            tokens = [t.decode() for t in counts]
            alive = await self.client.mget([f"discussit:process:{t}" for t in tokens])
            return sum(int(n) for (t, n), a in zip(counts.items(), alive, strict=True)
                       if a is not None or t.decode() == self.token)
        except (RedisError, OSError):
            return 0

    async def online(self, group_id: uuid.UUID) -> frozenset[int]:
        try:
            return frozenset(await self._counts(group_id))
        except (RedisError, OSError):
            return frozenset()
