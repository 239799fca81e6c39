"""Password rules, and Argon2id hashing with argon2-cffi (a maintained binding of the reference C
code: hashing is not something to write ourselves)."""

from __future__ import annotations

import asyncio
import gzip
import os
import weakref
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import TypeVar

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from discussit.limits import PASSWORD_MAX as MAX_LENGTH
from discussit.limits import PASSWORD_MIN as MIN_LENGTH

T = TypeVar("T")

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults


@cache
def _common_passwords() -> frozenset[str]:
    # Django's list of 20,000 common passwords (BSD licence), shipped in discussit/data/.
    raw = resources.files("discussit").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(raw).decode().split())


def problems(password: str, username: str) -> list[str]:
    """What is wrong with a new password, in words for the person choosing it."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        found.append(f"Use at most {MAX_LENGTH} characters.")
    if password.isdigit():
        found.append("Use more than digits.")
    if password.strip().lower() in _common_passwords():
        found.append("This password is too common; choose one that is harder to guess.")
    if username and username.lower() in password.lower():
        found.append("Do not put your username in your password.")
    return found


# Argon2id takes 64 MiB and a core's worth of time per hash: at most one hash per core runs at
# once, the rest wait (as coroutines, holding no thread), so a burst of logins or sign-ups can
# neither take gigabytes nor fill the worker threads other requests need.
HASHING_AT_ONCE = max(1, len(os.sched_getaffinity(0)))  # the cores this process may use
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def hashing_limiter() -> anyio.CapacityLimiter:
    """This event loop's cap on concurrent hashing (one per loop: tests run several)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(HASHING_AT_ONCE)
    return limiter


async def _in_thread(work: Callable[..., T], *args: object) -> T:
    return await anyio.to_thread.run_sync(work, *args, limiter=hashing_limiter())


async def hash_password(password: str) -> str:
    return await _in_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) it still spends the same time, then fails."""
    if password_hash is None:
        await _in_thread(_verify, _dummy_hash(), password)
        return False
    return await _in_thread(_verify, password_hash, password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a real password, used to equalise timing")
