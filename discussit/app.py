"""create_app(settings) -> the Starlette app: each feature's routes, middleware, lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from discussit import errors
from discussit.accounts import account_routes, auth, profile_routes
from discussit.accounts import routes as accounts_routes
from discussit.admin import bot_routes as admin_bot_routes
from discussit.admin import group_routes as admin_group_routes
from discussit.admin import routes as admin_routes
from discussit.admin import signup_routes as admin_signup_routes
from discussit.bots import api as bots_api
from discussit.bots.dispatch import Webhooks
from discussit.bots.webhooks import Sender
from discussit.chat import message_routes
from discussit.chat import routes as chat_routes
from discussit.chat import socket as chat_socket
from discussit.chat.changing import Changing
from discussit.chat.posting import Posting
from discussit.chat.presence import PresenceUpdates
from discussit.chat.typing import TypingUpdates
from discussit.core import health, templating, urls
from discussit.core.db import Database, make_engine
from discussit.core.migrate import prepare_schema
from discussit.core.realtime.broker import Broker, MemoryBroker
from discussit.core.realtime.presence import Presence
from discussit.core.realtime.redis import RedisBroker, RedisPresence, make_client
from discussit.core.realtime.wire import KeepServerSend
from discussit.core.security.csrf import CSRFMiddleware
from discussit.core.security.headers import SecurityHeadersMiddleware
from discussit.core.security.hosts import AllowedHostsMiddleware
from discussit.core.security.proxies import TrustedProxyMiddleware
from discussit.core.security.ratelimit import make_limiter
from discussit.core.security.sessions import CookieSessions
from discussit.dev import routes as dev_routes
from discussit.groups import people_routes, seed, stream
from discussit.groups import routes as groups_routes
from discussit.groups.readcursors import ReadCursors
from discussit.search import routes as search_routes
from discussit.settings import Settings
from discussit.timeline import store

log = logging.getLogger("discussit")
mimetypes.add_type("application/manifest+json", ".webmanifest")  # (the web app manifest)

ROUTES: list[BaseRoute] = [
    *accounts_routes.routes,
    *account_routes.routes,
    *profile_routes.routes,
    *admin_routes.routes,
    *admin_group_routes.routes,
    *admin_bot_routes.routes,
    *admin_signup_routes.routes,
    *groups_routes.routes,
    *people_routes.routes,
    *chat_routes.routes,
    *message_routes.routes,
    *search_routes.routes,
    *dev_routes.routes,
    *bots_api.routes,
    *chat_socket.routes,
    *stream.routes,
    *health.routes,
    Mount("/static", StaticFiles(directory=templating.STATIC_DIR), name="static"),
]


def session_cookie_name(settings: Settings) -> str:
    """Over HTTPS the cookie is a __Host- cookie: Secure, Path=/, no Domain, so no sibling
    subdomain can set or shadow it."""
    return "__Host-discussit" if settings.secure_cookies else "discussit_session"


class _ClientFaultsAreWarnings(logging.Filter):
    """uvicorn logs a client's invalid UTF-8 text frame with a traceback, after closing the
    socket 1007 as it should. Bad input is the client's fault, not a server error: keep one
    warning line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Invalid UTF-8 sequence received from client"):
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _configure_logging(debug: bool) -> None:
    """Our log lines carry ids, close codes and outcomes; never message text or passwords."""
    uvicorn_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _ClientFaultsAreWarnings) for f in uvicorn_log.filters):
        uvicorn_log.addFilter(_ClientFaultsAreWarnings())
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:  %(name)s: %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)


def _tune_garbage_collector() -> None:
    """With thousands of open pages, a full garbage collection scans every live object and
    pauses all of them for 100 ms or more. Objects made at start-up are frozen (never scanned
    again; once per process) and young collections run after 50,000 allocations, not 700.
    Cycles are still collected; the bench (bench/) measured p99 at N=1,000 with and without."""
    global _frozen
    if not _frozen:  # (gc.get_freeze_count walks every frozen object: 15 ms at every start)
        gc.collect()
        gc.freeze()
        _frozen = True
    gc.set_threshold(50_000, 50, 100)


_frozen = False  # the start-up objects of this process are frozen (_tune_garbage_collector)


SESSION_PURGE_SECONDS = 3600  # how often ended sessions are deleted


async def _purge_sessions_once(db: Database, settings: Settings) -> None:
    """Delete the sessions that have expired (a database that is away: next time)."""
    try:
        if purged := await auth.purge_expired(db, settings.session_max_age):
            log.info("purged %d expired sessions", purged)
    except (SQLAlchemyError, OSError) as failure:
        log.warning("could not purge expired sessions: %s", type(failure).__name__)


async def _purge_sessions(db: Database, settings: Settings) -> None:
    """Every SESSION_PURGE_SECONDS (the lifespan purges once at start, before serving)."""
    while True:
        await asyncio.sleep(SESSION_PURGE_SECONDS)
        await _purge_sessions_once(db, settings)


SHUTDOWN_STEP_SECONDS = 2.0  # each step of the lifespan's shutdown, at most
SHUTDOWN_SECONDS = 5.0  # all of them together (pages close before, within 3 s: chat/socket.py)


async def _shut_down(steps: list[tuple[str, Callable[[], Awaitable[object]]]]) -> None:
    """The lifespan's shutdown, every step bounded: with the database or Redis unreachable it
    still ends well within the graceful-shutdown limit (the Procfile's 20 s)."""
    ends = asyncio.get_running_loop().time() + SHUTDOWN_SECONDS
    for what, step in steps:
        await _bounded(what, step, ends)


async def _bounded(what: str, step: Callable[[], Awaitable[object]], ends: float) -> None:
    """Run one shutdown step for at most SHUTDOWN_STEP_SECONDS (and not past `ends`); a
    failure is logged, and the next step still runs."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout_at(min(ends, loop.time() + SHUTDOWN_STEP_SECONDS)):
            await step()
    except TimeoutError:
        log.warning("shutdown: %s did not finish in time; going on", what)
    except Exception as failure:
        log.warning("shutdown: %s failed (%s); going on", what, type(failure).__name__)


class _App(Starlette):
    """KeepServerSend outermost, outside Starlette's own error middleware too (which wraps
    every HTTP send): live updates go out through the server's own send (core/realtime/wire)."""

    def build_middleware_stack(self) -> ASGIApp:
        return KeepServerSend(super().build_middleware_stack(), http_paths=(stream.PATH,))


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    _configure_logging(settings.debug)
    if not settings.allowed_hosts and not settings.debug:
        log.warning(
            "ALLOWED_HOSTS is not set: any Host header is answered. Set it to the names this "
            "app is served under (e.g. chat.example.com)."
        )
    urls.use_routes(ROUTES)
    templating.use_overrides(settings.templates_dir, settings.templates_reload)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        await prepare_schema(settings.database_url)
        db = Database(make_engine(settings.database_url))
        await store.prepare(db)  # connects SQLite's writer and compiles the posting path
        templating.compile_all()
        if settings.seed_demo_groups and (made := await seed.demo_groups(db)):
            log.info("created %d demo groups", made)
        client = make_client(settings.redis_url) if settings.redis_url else None
        broker: Broker = RedisBroker(client) if client is not None else MemoryBroker()
        presence = RedisPresence(client) if client is not None else Presence()
        await broker.start()
        await presence.start()
        presence_updates = PresenceUpdates(broker)
        typing = TypingUpdates(broker)
        limiter = make_limiter(client)
        await _purge_sessions_once(db, settings)
        purging = asyncio.get_running_loop().create_task(_purge_sessions(db, settings))
        reads = ReadCursors(db, broker)
        posting = Posting(db, broker, limiter, settings)
        hooks = Webhooks(db, posting, settings, Sender(settings.webhooks_allow_private))
        posting.on_posted = hooks.offer
        hooks.start()
        _tune_garbage_collector()
        try:
            yield {
                "settings": settings,
                "db": db,
                "broker": broker,
                "presence": presence,
                "presence_updates": presence_updates,
                "limiter": limiter,
                "posting": posting,
                "webhooks": hooks,
                "changing": Changing(db, broker, limiter, settings),
                "reads": reads,
                "typing": typing,
            }
        finally:
            purging.cancel()
            await _shut_down(
                [
                    ("session purge", lambda: asyncio.gather(purging, return_exceptions=True)),
                    ("read positions", reads.stop),
                    ("webhooks", hooks.stop),
                    ("presence updates", presence_updates.stop),
                    ("typing", typing.stop),
                    ("presence", presence.stop),
                    ("broker", broker.stop),
                    *([("redis", client.aclose)] if client is not None else []),
                    ("database", db.close),
                ]
            )

    return _App(
        debug=settings.debug,
        routes=ROUTES,
        middleware=[
            Middleware(TrustedProxyMiddleware, hops=settings.proxy_hops),
            Middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies),
            Middleware(AllowedHostsMiddleware, allowed=settings.allowed_hosts),
            Middleware(
                CookieSessions,
                secret_key=settings.secret_key,
                session_cookie=session_cookie_name(settings),
                max_age=settings.session_max_age,
                same_site="lax",
                https_only=settings.secure_cookies,
            ),
            Middleware(CSRFMiddleware, settings=settings),
        ],
        exception_handlers=errors.HANDLERS,
        lifespan=lifespan,
    )
