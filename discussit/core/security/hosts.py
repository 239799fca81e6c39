"""Which host names the app answers to (ALLOWED_HOSTS): a request naming any other host in its
Host header is refused before it reaches a route, so no page, redirect or origin check is ever
built from a host the client made up (DNS rebinding, poisoned links).

Entries are exact host names ("chat.example.com") or a leading dot for a domain and every
subdomain (".example.com"); ports are ignored. Empty (the default): any host.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable

from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from discussit.core.templating import render

# A Host header is a name or an IPv4 address, or a bracketed IPv6 address, with an optional
# port, and nothing else (no user info, path or query riding along).
_HOST = re.compile(r"(?P<name>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def host_name(host_header: str) -> str:
    """The host name of a Host header, without port, lower-cased ("" if it is not one)."""
    found = _HOST.fullmatch(host_header)
    return found.group("name").lower() if found else ""


def host_allowed(host_header: str, allowed: tuple[str, ...]) -> bool:
    if not allowed:
        return True
    name = host_name(host_header)
    return bool(name) and any(
        name == entry or (entry.startswith(".") and (name.endswith(entry) or name == entry[1:]))
        for entry in allowed
    )


class AllowedHostsMiddleware:
    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = allowed

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not async: an allowed host passes straight through, with no frame of ours on the
        # stack of every open page.
        if not self.allowed or scope["type"] not in ("http", "websocket"):
            return self.app(scope, receive, send)
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        if host_allowed(host, self.allowed):
            return self.app(scope, receive, send)
        return self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "unknown host"})
        else:
            reason = "This site is not served under that name."
            html = render(
                "errors/error.html", status=400, reason=reason, viewer=None, csrf_token=""
            )
            await HTMLResponse(html, status_code=400)(scope, receive, send)
