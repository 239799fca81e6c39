"""The values settings take, and how each is read from its environment variable: every parser
raises ValueError with what the value should look like (settings.py names the variable)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

WEAK_SECRETS = {"changeme", "secret", "secret-key", "dev", "development", "insecure", "password"}


@dataclass(frozen=True, slots=True)
class Rate:
    """A rate limit: `count` events per `seconds`."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, raw: str) -> Rate:
        """'10/180' means 10 per 180 seconds."""
        count, _, seconds = raw.strip().partition("/")
        if not (
            count.isascii() and seconds.isascii() and count.isdigit() and seconds.isdigit()
        ) or not (int(count) > 0 and int(seconds) > 0):
            raise ValueError(f"looks like 10/180 (10 per 180 seconds), not {raw!r}")
        return cls(int(count), int(seconds))

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}"

    def times(self, factor: int) -> Rate:
        """The same window, `factor` times the count (an address's budget from a user's)."""
        return Rate(self.count * factor, self.seconds)


ADDRESS_FACTOR = 50  # an address (an office behind one NAT) gets 50 users' worth of a budget


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"must be true or false, not {raw!r}")


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.replace(",", " ").split() if o.strip())
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if scheme not in {"http", "https"} or not rest or "/" in rest:
            raise ValueError(f"entries look like https://chat.example.com, not {origin!r}")
    return origins


def _whole(what: str, least: int = 1) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = raw.strip()
        if not (value.isascii() and value.isdigit()) or int(value) < least:
            raise ValueError(f"must be a whole number of {what} (at least {least}), not {raw!r}")
        return int(value)

    return parse


def _hosts(raw: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in raw.replace(",", " ").split() if h.strip())
    if hosts == ("*",):
        return ()
    for host in hosts:
        name = host.removeprefix(".")
        if not name or not all(part.isascii() for part in name) or any(c in name for c in "/:@ *"):
            raise ValueError(f"entries look like chat.example.com or .example.com, not {host!r}")
    return hosts


def _secret(raw: str) -> str:
    if len(raw) < 32 or raw.lower() in WEAK_SECRETS or len(set(raw)) < 10:
        raise ValueError(
            "must be a random string of at least 32 characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return raw


def _directory(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ValueError(f"must be an existing folder, not {raw!r}")
    return path


def _text(raw: str) -> str:
    return raw


def _public_url(raw: str) -> str:
    """The address people reach the app at (`https://chat.example.com`): an origin."""
    value = raw.strip().rstrip("/")
    if not value:
        return ""
    if len(_origins(value)) != 1:
        raise ValueError(f"looks like https://chat.example.com, not {raw!r}")
    return value
