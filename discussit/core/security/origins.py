"""Which browser origins may open live connections or post forms: an exact allowlist.

By default the allowlist is the app's own origin, whatever scheme and port it is served on, its
host one of ALLOWED_HOSTS (any, if that is unset); ALLOWED_ORIGINS replaces it with exact
scheme://host[:port] values (no wildcards, no suffixes).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from discussit.core.security import hosts
from discussit.settings import Settings

_HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def own_origin(conn: HTTPConnection) -> str:
    scheme = _HTTP_SCHEME.get(conn.url.scheme, conn.url.scheme)
    return f"{scheme}://{conn.headers.get('host', '')}"


def allowed(conn: HTTPConnection, settings: Settings) -> bool:
    """True when the request's Origin header is on the allowlist (a missing Origin is not)."""
    origin = conn.headers.get("origin")
    if not origin:
        return False
    if settings.allowed_origins:
        return origin in settings.allowed_origins
    own_host = conn.headers.get("host", "")
    return origin == own_origin(conn) and hosts.host_allowed(own_host, settings.allowed_hosts)


def cross_site(conn: HTTPConnection, settings: Settings) -> bool:
    """For plain HTTP requests: does anything say this came from another site?

    Same-origin GETs carry no Origin header, so a missing one is fine here; a present one must be
    on the allowlist, and a browser's Sec-Fetch-Site must not say cross-site.
    """
    if conn.headers.get("sec-fetch-site", "").strip().lower() == "cross-site":
        return True
    return "origin" in conn.headers and not allowed(conn, settings)
