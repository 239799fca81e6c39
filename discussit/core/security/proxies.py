"""The client's address and scheme behind routers: taken from the entries the trusted proxies
appended to X-Forwarded-For, never from an entry the client wrote.

Each proxy appends the address it received the request from, so with N trusted proxies in front
of the app (TRUSTED_PROXY_HOPS) the client is the N-th entry from the right; anything left of it
came from the client and is ignored. (uvicorn's own `--forwarded-allow-ips='*'` takes the
leftmost entry, which the client chooses: the Procfile turns it off with `--no-proxy-headers`.)
With 0 hops (the default: served directly, as `make run` does) the headers are ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send

_WS_SCHEME = {"http": "ws", "https": "wss"}


def forwarded_client(values: list[str], hops: int) -> str | None:
    """The address `hops` proxies vouch for, from every X-Forwarded-For header line in order;
    None when there are fewer entries than hops (the request did not pass through them all) or
    the entry is not an IP address."""
    entries = [entry.strip() for value in values for entry in value.split(",") if entry.strip()]
    if hops < 1 or len(entries) < hops:
        return None
    chosen = entries[-hops]
    try:
        return str(ipaddress.ip_address(chosen))
    except ValueError:
        return None


class TrustedProxyMiddleware:
    """Sets the scope's client address (what rate limits key on) and scheme from the headers the
    trusted proxies added. Pure ASGI, for HTTP and WebSocket alike."""

    def __init__(self, app: ASGIApp, hops: int) -> None:
        self.app = app
        self.hops = hops

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not async: no frame of its own on every open page's stack (it only rewrites the scope).
        if self.hops and scope["type"] in ("http", "websocket"):
            forwarded = [
                v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"
            ]
            client = forwarded_client(forwarded, self.hops)
            if client is not None:
                scope = dict(scope, client=(client, 0))
                proto = [v for k, v in scope["headers"] if k == b"x-forwarded-proto"]
                scheme = proto[-1].decode("latin-1").split(",")[-1].strip().lower() if proto else ""
                if scheme in _WS_SCHEME:
                    scope["scheme"] = scheme if scope["type"] == "http" else _WS_SCHEME[scheme]
        return self.app(scope, receive, send)
