"""Every environment variable DiscussIt reads, in one table: (variable, field, parser, default,
help). settings.py reads the environment through it; the README's settings table is made from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from discussit.values import (
    ADDRESS_FACTOR,
    Rate,
    _bool,
    _directory,
    _hosts,
    _origins,
    _public_url,
    _secret,
    _text,
    _whole,
)

DEFAULT_DATABASE_URL = "sqlite:///discussit.db"


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
        "processes serve one group. Unset: the in-process broker (one process). Two "
        "DiscussIts may share a Redis server on different database numbers (`…/1`, `…/2`): "
        "their live channels are named by it.",
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
        "FIRST_ACCOUNT_STAFF",
        "first_account_staff",
        _bool,
        "`true`",
        "On a fresh install (no accounts at all) the first account signed up becomes staff, as "
        "the sign-up page says, so that it can run the place. `false`: staff only by "
        "`discussit make-staff`.",
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
        "RATE_LIMIT_SEARCHES",
        "searches_per_user",
        Rate.parse,
        "`120/60`",
        f"Searches per user ({ADDRESS_FACTOR}x that per address), each page of results counted "
        "(as-you-type results ask once per pause in typing); past it, 429 with `Retry-After` "
        "and the wait in words.",
    ),
    Variable(
        "RATE_LIMIT_PROFILE_CHANGES",
        "profile_changes_per_user",
        Rate.parse,
        "`10/600`",
        f"Changes to one's profile (name and bio, a new picture) per user ({ADDRESS_FACTOR}x that "
        "per address); past it, 429 with `Retry-After`.",
    ),
    Variable(
        "RATE_LIMIT_API",
        "api_requests_per_bot",
        Rate.parse,
        "`120/60`",
        f"Requests to the bots' API per bot ({ADDRESS_FACTOR}x that per address), besides the "
        "messages budget a bot's posts share with everyone's; past it, 429 (JSON, `Retry-After`).",
    ),
    Variable(
        "PUBLIC_URL",
        "public_url",
        _public_url,
        "none",
        "Where people reach the app (`https://chat.example.com`): the start of the message "
        "links bots' webhooks get (without it, they get the path alone).",
    ),
    Variable(
        "WEBHOOKS_ALLOW_PRIVATE",
        "webhooks_allow_private",
        _bool,
        "`false`",
        "`true` lets bots' webhooks call loopback, private and link-local addresses (local "
        "tools, tests). By default a webhook whose host leads to one is not called.",
    ),
    Variable(
        "SOCKETS_PER_USER",
        "sockets_per_user",
        _whole("open pages"),
        "`10`",
        "Open group pages per user; more are refused with a notice.",
    ),
)
