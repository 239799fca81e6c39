"""WebSocket close codes DiscussIt uses, and whether htmx's hx-ws reconnects after each.

htmx 4.0.1 reconnects only on 1001, 1005, 1006, 1011, 1012, 1013, 1014 (see stack.md).
"""

NORMAL = 1000  # finished on purpose (e.g. told to reload): no reconnect
POLICY = 1008  # not logged in / a member, left, logged out, expired, bad frames: no reconnect
INVALID_ORIGIN = 1008  # cross-site handshake; refused before accept (HTTP 403) where possible
RESTART = 1012  # server shutting down (uvicorn's own close): htmx reconnects
TRY_AGAIN_LATER = 1013  # broker not ready, too slow to read, flooding: htmx reconnects later
