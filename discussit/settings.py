"""Settings: every environment variable DiscussIt reads is in `VARIABLES`, and nowhere else.

One table of (variable, field, parser, default, help) drives `Settings.from_env`, the README's
settings table (`python -m discussit settings-table` prints it; a test compares) and the checks.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from discussit.values import (
    ADDRESS_FACTOR,
    Rate,
    _bool,
    _directory,
    _hosts,
    _origins,
    _secret,
    _text,
    _whole,
)

__all__ = ["ADDRESS_FACTOR", "VARIABLES", "Rate", "Settings", "SettingsError", "Variable"]

DEFAULT_DATABASE_URL = "sqlite:///discussit.db"


class SettingsError(RuntimeError):
    """The environment cannot start DiscussIt; the message says why and what to set."""


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    field: str | None  # the Settings field it sets (None: read by uvicorn, not by this code)
    parse: Callable[[str], object]
    default: str  # as the README shows it
    help: str


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "PORT",
        None,
        _whole("port"),
        "`8000` (`make run`)",
        "Port to serve on (the Procfile's `web` line passes it to uvicorn).",
    ),
    Variable(
        "SECRET_KEY",
        "secret_key",
        _secret,
        "none: required",
        "Signs session cookies. At least 32 random characters; a missing or weak one stops "
        "start-up (with `DEBUG=true` a throwaway one is made). `make run` makes one in "
        "`.secret_key` (git-ignored).",
    ),
    Variable(
        "DATABASE_URL",
        "database_url",
        _text,
        f"`{DEFAULT_DATABASE_URL}`",
        "The default is a SQLite file next to the app, which migrates itself on start. For "
        "PostgreSQL, `postgres://…` or `postgresql://…` as PaaS providers hand out "
        "(psycopg 3); its schema is made only by migrations: `discussit migrate`, the "
        "release step.",
    ),
    Variable(
        "REDIS_URL",
        "redis_url",
        _text,
        "unset",
        "`redis://…`: live updates, presence and rate limits go through Redis, so several "
        "processes serve one group. Unset: the in-process broker (one process).",
    ),
    Variable(
        "WEB_CONCURRENCY",
        "workers",
        _whole("processes"),
        "`1`",
        "uvicorn worker processes (PaaS buildpacks set it). More than 1 needs `REDIS_URL` "
        "and PostgreSQL, or start-up stops with a message.",
    ),
    Variable(
        "ALLOWED_ORIGINS",
        "allowed_origins",
        _origins,
        "the app's own origin",
        "Space- or comma-separated exact origins (`https://chat.example.com`) allowed to "
        "open the WebSocket and SSE stream and to post forms. Unset: the app's own origin, "
        "whatever scheme and port it is served on, with its host one of `ALLOWED_HOSTS`.",
    ),
    Variable(
        "ALLOWED_HOSTS",
        "allowed_hosts",
        _hosts,
        "any (a warning at start)",
        "Space- or comma-separated host names the app answers to (`chat.example.com`, or "
        "`.example.com` for a domain and its subdomains); requests naming another host in "
        "their `Host` header get 400 (sockets are refused), so nothing is built from a host "
        "a client made up. Set it in production; the default Origin allowlist follows it.",
    ),
    Variable(
        "TRUSTED_PROXY_HOPS",
        "proxy_hops",
        _whole("proxies", least=0),
        "`0` (`make run`); `1` in the Procfile",
        "How many proxies in front of the app append to `X-Forwarded-For`. The client "
        "address (what per-address limits count) is the entry the nearest of them appended, "
        "the N-th from the right; entries to its left are the client's own and ignored. `0`: "
        "the headers are ignored (served directly). Behind one PaaS router: `1`.",
    ),
    Variable(
        "SECURE_COOKIES",
        "secure_cookies",
        _bool,
        "`false`",
        "`true` behind HTTPS: the session cookie gets `Secure` and the `__Host-` prefix, "
        "and responses carry HSTS.",
    ),
    Variable(
        "DEBUG",
        "debug",
        _bool,
        "`false`",
        "Starlette debug tracebacks. Never in production. Strict: `true`/`false`/`1`/`0`.",
    ),
    Variable(
        "SEED_DEMO_GROUPS",
        "seed_demo_groups",
        _bool,
        "`true`",
        "On first start (no groups at all) create General, Random and Help.",
    ),
    Variable(
        "TEMPLATES_RELOAD",
        "templates_reload",
        _bool,
        "`false` (`true` with `make run`)",
        "Re-read a template when its file changes, so edits show on the next page without a "
        "restart. Off in production: looking at every template's file on every render costs "
        "more than the render.",
    ),
    Variable(
        "TEMPLATES_DIR",
        "templates_dir",
        _directory,
        "unset",
        "A folder of template overrides, searched before the built-in `templates/`: a file "
        "there with a built-in's path (`messages/_message.html`) replaces it.",
    ),
    Variable(
        "RATE_LIMIT_LOGIN_PER_USER",
        "login_attempts_per_user",
        Rate.parse,
        "`10/180`",
        "Login attempts (right or wrong) per username, in any case or look-alike spelling, "
        "per window, as `count/seconds`; past it even the right password gets 429 until the "
        "window ends.",
    ),
    Variable(
        "RATE_LIMIT_LOGIN_PER_ADDRESS",
        "login_attempts_per_address",
        Rate.parse,
        "`50/180`",
        "Login attempts per client address (see `TRUSTED_PROXY_HOPS`).",
    ),
    Variable(
        "RATE_LIMIT_SIGNUPS",
        "signups_per_address",
        Rate.parse,
        "`20/3600`",
        "Sign-up attempts per client address.",
    ),
    Variable(
        "RATE_LIMIT_MESSAGES",
        "messages_per_user",
        Rate.parse,
        "`30/10`",
        "Messages per user, across all their sockets and processes (shared through Redis "
        "when `REDIS_URL` is set).",
    ),
    Variable(
        "RATE_LIMIT_CHANGES",
        "changes_per_user",
        Rate.parse,
        "`60/60`",
        f"Edits, deletions and reactions per user ({ADDRESS_FACTOR}x that per address), across "
        "all their pages and processes; past it the change is refused with a wait in seconds.",
    ),
    Variable(
        "RATE_LIMIT_MEMBERSHIP",
        "membership_changes_per_user",
        Rate.parse,
        "`20/60`",
        f"Joins and leaves per user ({ADDRESS_FACTOR}x that per address); past it, 429 with "
        "`Retry-After`.",
    ),
    Variable(
        "RATE_LIMIT_CONNECTS",
        "connects_per_user",
        Rate.parse,
        "`60/60`",
        f"Group pages opened (socket connects, each with its catch-up of up to 500 entries) "
        f"per user ({ADDRESS_FACTOR}x that per address); past it the page is told to wait "
        "and retries later (close 1013).",
    ),
    Variable(
        "SOCKETS_PER_USER",
        "sockets_per_user",
        _whole("open pages"),
        "`10`",
        "Open group pages per user; more are refused with a notice.",
    ),
)


@dataclass(frozen=True)
class Settings:
    secret_key: str = field(repr=False)  # never in logs or tracebacks
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    # Exact scheme://host[:port] values allowed to open the WebSocket and SSE stream.
    # Empty means "the app's own origin", whatever host and port it is served on.
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()  # empty: any host
    proxy_hops: int = 0  # proxies that append to X-Forwarded-For (core/security/proxies.py)
    secure_cookies: bool = False
    debug: bool = False
    workers: int = 1  # WEB_CONCURRENCY: uvicorn's process count, checked against the backends
    seed_demo_groups: bool = True
    templates_dir: Path | None = None
    templates_reload: bool = False
    login_attempts_per_user: Rate = Rate(10, 180)
    login_attempts_per_address: Rate = Rate(50, 180)
    signups_per_address: Rate = Rate(20, 3600)
    messages_per_user: Rate = Rate(30, 10)
    changes_per_user: Rate = Rate(60, 60)
    membership_changes_per_user: Rate = Rate(20, 60)
    connects_per_user: Rate = Rate(60, 60)
    sockets_per_user: int = 10
    # Not from the environment (tests shorten them): the SSE heartbeat (a comment line, under
    # common 55 s proxy idle cuts) and how long a login lasts on the server.
    sse_ping_seconds: int = 15
    session_max_age: int = 14 * 24 * 3600

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for variable in VARIABLES:
            raw = env.get(variable.name)
            if variable.field is None or raw is None or raw.strip() == "":
                continue
            try:
                values[variable.field] = variable.parse(raw)
            except ValueError as problem:
                raise SettingsError(f"{variable.name} {problem}") from None
        if "secret_key" not in values:
            if not values.get("debug"):
                raise SettingsError(
                    "SECRET_KEY must be set to a random string of at least 32 "
                    "characters, e.g. python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'"
                )
            # Debug only: a throwaway key (sessions end when the process does).
            values["secret_key"] = secrets.token_urlsafe(48)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Combinations that cannot work, refused at start-up with what to change."""
        if self.workers > 1 and not self.redis_url:
            raise SettingsError(
                f"WEB_CONCURRENCY={self.workers} runs several processes, but without REDIS_URL "
                "each would see only its own connections and split every group. Set REDIS_URL, "
                "or WEB_CONCURRENCY=1."
            )
        if self.workers > 1 and self.database_url.startswith("sqlite"):
            raise SettingsError(
                f"WEB_CONCURRENCY={self.workers} runs several processes, which cannot share the "
                "embedded SQLite file safely. Set DATABASE_URL to PostgreSQL, or "
                "WEB_CONCURRENCY=1."
            )


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The database alone (the staff commands need nothing else)."""
    env = os.environ if environ is None else environ
    return env.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def readme_table() -> str:
    """The README's settings table, made from `VARIABLES`."""
    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    lines += [f"| `{v.name}` | {v.default} | {v.help} |" for v in VARIABLES]
    return "\n".join(lines)
