"""Settings: every environment variable DiscussIt reads is named here, and nowhere else."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///discussit.db"


class SettingsError(RuntimeError):
    """The environment cannot start DiscussIt; the message says why and what to set."""


def _bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _origins(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    origins = tuple(o.strip().rstrip("/") for o in raw.replace(",", " ").split() if o.strip())
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if scheme not in {"http", "https"} or not rest or "/" in rest:
            raise SettingsError(
                f"ALLOWED_ORIGINS entries look like https://chat.example.com, not {origin!r}"
            )
    return origins


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get("DATABASE_URL") or DEFAULT_DATABASE_URL


WEAK_SECRETS = {"changeme", "secret", "secret-key", "dev", "development", "insecure", "password"}


def _secret_key(raw: str | None, debug: bool) -> str:
    if not raw and debug:
        # Debug only: a throwaway key (sessions end when the process does). Never in production.
        return secrets.token_urlsafe(48)
    if not raw or len(raw) < 32 or raw.lower() in WEAK_SECRETS or len(set(raw)) < 10:
        raise SettingsError(
            "SECRET_KEY must be set to a random string of at least 32 characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return raw


def _workers(raw: str | None) -> int:
    if not raw:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"WEB_CONCURRENCY must be a whole number of processes, not {raw!r}")
    return int(raw)


_LIMITS = {
    "RATE_LIMIT_LOGIN_PER_USER": "login_failures_per_user",
    "RATE_LIMIT_LOGIN_PER_ADDRESS": "login_failures_per_address",
    "RATE_LIMIT_SIGNUPS": "signups_per_address",
    "RATE_LIMIT_MESSAGES": "messages_per_user",
}


def _limits(env: Mapping[str, str]) -> dict[str, object]:
    found: dict[str, object] = {}
    for name, field_name in _LIMITS.items():
        if env.get(name):
            count, _, seconds = env[name].partition("/")
            if not (count.isdigit() and seconds.isdigit() and int(count) and int(seconds)):
                raise SettingsError(f"{name} looks like 10/180 (10 per 180 seconds), "
                                    f"not {env[name]!r}")
            found[field_name] = env[name]
    if env.get("SOCKETS_PER_USER"):
        if not env["SOCKETS_PER_USER"].isdigit() or int(env["SOCKETS_PER_USER"]) < 1:
            raise SettingsError("SOCKETS_PER_USER must be a whole number of open pages")
        found["sockets_per_user"] = int(env["SOCKETS_PER_USER"])
    return found


@dataclass(frozen=True)
class Settings:
    secret_key: str
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    # Exact scheme://host[:port] values allowed to open the WebSocket and SSE stream.
    # Empty means "the app's own origin", whatever host and port it is served on.
    allowed_origins: tuple[str, ...] = ()
    secure_cookies: bool = False
    debug: bool = False
    workers: int = 1  # WEB_CONCURRENCY: uvicorn's process count, checked against the backends
    seed_demo_groups: bool = True
    # Rate limits, "count/seconds" (env RATE_LIMIT_*): failed logins per username and per address,
    # sign-ups per address, messages per user (all sockets, all processes), open sockets per user.
    login_failures_per_user: str = "10/180"
    login_failures_per_address: str = "50/180"
    signups_per_address: str = "20/3600"
    messages_per_user: str = "30/10"
    sockets_per_user: int = 10
    # SSE heartbeat (a comment line): under common 55 s proxy idle cuts, and frequent enough to
    # notice a dead peer when a write fails.
    sse_ping_seconds: int = 15
    page_size: int = 50
    message_max_length: int = 2000
    session_max_age: int = 14 * 24 * 3600

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        debug = _bool("DEBUG", env.get("DEBUG"), False)
        database_url = database_url_from_env(env)
        redis_url = env.get("REDIS_URL") or None
        workers = _workers(env.get("WEB_CONCURRENCY"))
        if workers > 1 and not redis_url:
            raise SettingsError(
                f"WEB_CONCURRENCY={workers} runs several processes, but without REDIS_URL each "
                "would see only its own connections and split every group. Set REDIS_URL, or "
                "WEB_CONCURRENCY=1."
            )
        if workers > 1 and database_url.startswith("sqlite"):
            raise SettingsError(
                f"WEB_CONCURRENCY={workers} runs several processes, which cannot share the "
                "embedded SQLite file safely. Set DATABASE_URL to PostgreSQL, or WEB_CONCURRENCY=1."
            )
        return cls(
            secret_key=_secret_key(env.get("SECRET_KEY"), debug),
            database_url=database_url,
            redis_url=redis_url,
            workers=workers,
            allowed_origins=_origins(env.get("ALLOWED_ORIGINS")),
            secure_cookies=_bool("SECURE_COOKIES", env.get("SECURE_COOKIES"), False),
            debug=debug,
            seed_demo_groups=_bool("SEED_DEMO_GROUPS", env.get("SEED_DEMO_GROUPS"), True),
            **_limits(env),
        )
