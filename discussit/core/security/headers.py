"""Security headers on every HTML response, error pages included (pure ASGI middleware).

The Content-Security-Policy allows only this site's own scripts and styles (no inline script or
style, no eval): DiscussIt uses none, and htmx 4 works under it (`hx-on` would need eval, so the
templates never use it). HSTS is sent only when the app is configured for HTTPS. Redirects are
made same-site paths.
"""

from __future__ import annotations

from collections.abc import Awaitable
from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def security_headers(hsts: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CSP,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if hsts:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def same_site(location: str) -> str:
    """A redirect's target as a path: every page is on this site, so a scheme and host (which
    Starlette builds from the client's Host header, e.g. for its trailing-slash redirect) are
    dropped, and no redirect can point at a host the client named."""
    parts = urlsplit(location)
    if not parts.scheme and not parts.netloc:
        return location
    path = "/" + parts.path.lstrip("/")  # never "//host": that is another host
    return urlunsplit(("", "", path, parts.query, parts.fragment))


class SecurityHeadersMiddleware:
    """Adds the headers to every response (the 500 page, rendered outside all middleware by
    Starlette's ServerErrorMiddleware, adds them itself)."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.headers = security_headers(hsts)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not async: a socket passes straight through, with no frame of ours on its stack.
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if "location" in headers:
                    headers["location"] = same_site(headers["location"])
            await send(message)

        await self.app(scope, receive, send_with_headers)
