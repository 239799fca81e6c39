"""create_app(settings) -> the Starlette app: routes, middleware, lifespan. Nothing else."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from discussit import access, auth, seed, timeline
from discussit.broker import make_broker, make_presence
from discussit.csrf import CSRFMiddleware
from discussit.db import Database, make_engine
from discussit.headers import SecurityHeadersMiddleware, security_headers
from discussit.migrate import prepare_schema
from discussit.presence_updates import PresenceUpdates
from discussit.ratelimit import make_limiter
from discussit.routes import routes
from discussit.routes._pages import is_htmx, page
from discussit.settings import Settings
from discussit.templating import compile_all, render
from discussit.wire import KeepServerSend

log = logging.getLogger("discussit")

def session_cookie_name(settings: Settings) -> str:
    """Over HTTPS the cookie is a __Host- cookie: Secure, Path=/, no Domain, so no sibling
    subdomain can set or shadow it."""
    return "__Host-discussit" if settings.secure_cookies else "discussit_session"


async def _login_required(request: Request, exc: Exception) -> Response:
    if is_htmx(request):
        current = request.headers.get("hx-current-url", "")
        path = "/" + current.split("/", 3)[3] if current.count("/") >= 3 else "/"
        return Response(status_code=401, headers={"HX-Redirect": auth.login_url(path)})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(auth.login_url(target), status_code=303)


_REASONS = {
    400: "That request was not understood.",
    403: "You are not allowed to see this page.",
    404: "There is nothing here. The link may be wrong, or the page may have been removed.",
    405: "That action is not available this way.",
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    reason = exc.detail if exc.detail and exc.detail != _default_phrase(exc) else None
    if is_htmx(request):  # htmx 4 swaps error bodies: send a small message, not a whole page
        html = render("errors/_inline.html", reason=reason or _REASONS.get(exc.status_code, ""))
        return HTMLResponse(html, status_code=exc.status_code, headers=exc.headers)
    response = await page(
        request,
        "errors/error.html",
        status_code=exc.status_code,
        status=exc.status_code,
        reason=reason or _REASONS.get(exc.status_code, "Something went wrong."),
    )
    response.headers.update(exc.headers or {})
    return response


def _default_phrase(exc: HTTPException) -> str:
    return HTTPStatus(exc.status_code).phrase


async def _no_such_group(request: Request, exc: Exception) -> Response:
    return await _http_error(request, HTTPException(404))


async def _not_a_member(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, access.NotAMemberOf)
    if is_htmx(request):
        return await _http_error(request, HTTPException(403, "Join this group first."))
    return await page(request, "groups/forbidden.html", status_code=403, group=exc.group)


async def _server_error(request: Request, exc: Exception) -> Response:
    html = render(
        "errors/error.html",
        status=500,
        viewer=None,
        csrf_token="",
        reason="Something went wrong on our side. Please try again.",
    )
    settings: Settings = request.state.settings
    log.error("server error on %s %s", request.method, request.url.path, exc_info=exc)
    return HTMLResponse(html, status_code=500,
                        headers=security_headers(hsts=settings.secure_cookies))


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
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    _configure_logging(settings.debug)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        await prepare_schema(settings.database_url)
        engine = make_engine(settings.database_url)
        db = Database(engine)
        await timeline.prepare(db)  # connects SQLite's writer and compiles the posting path
        compile_all()
        if settings.seed_demo_groups and (made := await seed.demo_groups(db)):
            log.info("created %d demo groups", made)
        broker = make_broker(settings.redis_url)
        await broker.start()
        presence = make_presence(broker)
        await presence.start()
        presence_updates = PresenceUpdates(broker)
        limiter = make_limiter(getattr(broker, "client", None))
        _tune_garbage_collector()
        try:
            yield {"settings": settings, "db": db, "broker": broker, "presence": presence,
                   "presence_updates": presence_updates, "limiter": limiter}
        finally:
            await presence_updates.stop()
            await presence.stop()
            await broker.stop()
            await db.close()

    return Starlette(
        debug=settings.debug,
        routes=routes,
        middleware=[
            Middleware(KeepServerSend),
            Middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie=session_cookie_name(settings),
                max_age=settings.session_max_age,
                same_site="lax",
                https_only=settings.secure_cookies,
            ),
            Middleware(CSRFMiddleware, settings=settings),
        ],
        exception_handlers={
            auth.LoginRequired: _login_required,
            access.NoSuchGroup: _no_such_group,
            access.NotAMemberOf: _not_a_member,
            HTTPException: _http_error,
            500: _server_error,
        },
        lifespan=lifespan,
    )
