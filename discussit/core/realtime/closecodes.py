"""WebSocket close codes DiscussIt uses, and whether htmx's hx-ws reconnects after each.

htmx 4.0.1 reconnects only on 1001, 1005, 1006, 1011, 1012, 1013, 1014 (see stack.md). uvicorn
itself closes with 1012 on shutdown (htmx reconnects), 1007 on invalid UTF-8 and 1009 on a frame
over --ws-max-size (htmx stays closed).
"""

NORMAL = 1000  # finished on purpose (e.g. told to reload): no reconnect
POLICY = 1008  # not logged in / a member, left, logged out, expired, bad frames: no reconnect
TRY_AGAIN_LATER = 1013  # broker not ready, too slow to read, flooding: htmx reconnects later
