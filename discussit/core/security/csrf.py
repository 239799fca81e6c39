"""CSRF protection for every state-changing HTTP request, whatever route it reaches.

A request that is not GET/HEAD/OPTIONS must carry this browser's CSRF token (from the signed
session cookie) in the `csrf_token` form field or the `X-CSRF-Token` header, and must not come
from another origin. Bodies are read here, bounded in size and time, and replayed to the route.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable
from urllib.parse import parse_qs

import anyio
from starlette.formparsers import MultiPartException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from discussit import limits
from discussit.core.security import origins
from discussit.core.templating import render
from discussit.settings import Settings

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
API_PREFIX = "/api/"  # the bots' API (bots/api.py): its own body limits, JSON errors
MAX_BODY = 64 * 1024
# The one form that uploads a file (a picture: accounts/profile_routes.py) may send more; its
# token comes in the multipart form like any other field.
UPLOADS = {"/account/avatar": limits.AVATAR_UPLOAD_MAX + 16 * 1024}
BODY_TIMEOUT = 20.0  # seconds for a whole form body to arrive (slow clients are cut)


def csrf_token(conn: HTTPConnection) -> str:
    """This browser's CSRF token, made on first use (before login, so login forms carry one)."""
    token = conn.session.get("csrf")
    if not isinstance(token, str):
        token = conn.session["csrf"] = secrets.token_urlsafe(32)
    return token


class CSRFMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not async: sockets and safe requests (the home page's event stream) pass straight
        # through, with no frame of ours on their stack.
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            return self.app(scope, receive, send)
        if scope["path"].startswith(API_PREFIX):  # bearer tokens only: no cookie is read there
            return self.app(scope, receive, send)
        return self._unsafe(scope, receive, send)

    async def _unsafe(self, scope: Scope, receive: Receive, send: Send) -> None:
        conn = HTTPConnection(scope)
        if origins.cross_site(conn, self.settings):
            await _refuse(
                403, "This request came from another site, so it was refused.", scope, receive, send
            )
            return
        body = b""
        more = True
        most = UPLOADS.get(scope["path"], MAX_BODY)
        with anyio.move_on_after(BODY_TIMEOUT) as reading:
            while more and len(body) <= most:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                more = message.get("more_body", False)
        if len(body) > most:
            await _refuse(413, "That was too much data for one form.", scope, receive, send)
            return
        if reading.cancelled_caught:  # a body trickled in
            await _refuse(408, "That form took too long to arrive.", scope, receive, send)
            return
        expected = scope.get("session", {}).get("csrf")
        sent = (
            conn.headers.get("x-csrf-token")
            or _form_token(conn, body)
            or (await _upload_token(scope, body) if most != MAX_BODY else None)
        )
        if not (isinstance(expected, str) and sent and hmac.compare_digest(expected, sent)):
            await _refuse(
                403,
                "This form has expired. Go back, reload the page and try again.",
                scope,
                receive,
                send,
            )
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _form_token(conn: HTTPConnection, body: bytes) -> str | None:
    if conn.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return None
    try:
        values = parse_qs(body.decode("latin-1"), max_num_fields=100).get("csrf_token")
    except ValueError:  # more fields than any of our forms has
        return None
    return values[0] if values else None


async def _upload_token(scope: Scope, body: bytes) -> str | None:
    """The token of a multipart form (an upload), read with Starlette's own parser."""
    if not HTTPConnection(scope).headers.get("content-type", "").startswith("multipart/form-data"):
        return None

    async def whole() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        async with Request(scope, whole).form(max_files=1, max_fields=10) as form:
            value = form.get("csrf_token")
    except (MultiPartException, ValueError):
        return None
    return value if isinstance(value, str) else None


async def _refuse(status: int, reason: str, scope: Scope, receive: Receive, send: Send) -> None:
    """The error page, on a connection that is then closed: the body may not have been read,
    and a client must not keep the connection by trickling the rest of it."""
    html = render("errors/error.html", status=status, reason=reason, viewer=None, csrf_token="")
    response = HTMLResponse(html, status_code=status, headers={"Connection": "close"})
    await response(scope, receive, send)
