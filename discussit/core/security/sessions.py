"""Starlette's signed-cookie sessions, with sockets let straight through.

A WebSocket never sets a cookie, so it needs the session read from its cookie and nothing
else: no send wrapper, and no frame of this middleware left on the stack of every open page
(thousands are open at once). HTTP requests go through Starlette's own middleware unchanged.
"""

from __future__ import annotations

import json
from base64 import b64decode
from collections.abc import Awaitable

from itsdangerous.exc import BadSignature
from starlette.middleware.sessions import Session, SessionMiddleware
from starlette.requests import HTTPConnection
from starlette.types import Receive, Scope, Send


class CookieSessions(SessionMiddleware):
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:  # type: ignore[override]
        if scope["type"] != "websocket":
            return super().__call__(scope, receive, send)
        # As SessionMiddleware reads it (starlette 1.10.0): a bad or missing cookie is an
        # empty session.
        scope["session"] = Session()
        cookie = HTTPConnection(scope).cookies.get(self.session_cookie)
        if cookie is not None:
            try:
                data = self.signer.unsign(cookie.encode("utf-8"), max_age=self.max_age)
                scope["session"] = Session(json.loads(b64decode(data)))
            except BadSignature:
                pass
        return self.app(scope, receive, send)
