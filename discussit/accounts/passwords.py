"""Password rules, and Argon2id hashing with argon2-cffi (a maintained binding of the reference C
code: hashing is not something to write ourselves)."""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from discussit.limits import PASSWORD_MAX as MAX_LENGTH
from discussit.limits import PASSWORD_MIN as MIN_LENGTH

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


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) it still spends the same time, then fails."""
    if password_hash is None:
        await anyio.to_thread.run_sync(_verify, _dummy_hash(), password)
        return False
    return await anyio.to_thread.run_sync(_verify, password_hash, password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a real password, used to equalise timing")
