"""Cutting clients that send a request's head too slowly (slowloris).

uvicorn times only idle keep-alive connections: a client that opens a connection and trickles
its request line and headers, a byte now and then, holds the connection (and a slot of
`--limit-concurrency`) for as long as it likes. `GuardedHttpProtocol` is uvicorn's httptools
protocol plus one timer per connection: the request head (line and headers) must be complete
within HEAD_TIMEOUT seconds of the connection opening, or of the previous response, else the
connection is closed. Bodies are bounded in time where they are read (core/security/csrf.py),
and a connection answered before its body was all read is closed, not kept alive.

The Procfile selects it with `--http discussit.core.security.slowclients:GuardedHttpProtocol`.
It subclasses uvicorn 0.54.0's `HttpToolsProtocol` and overrides five of its callbacks
(tests/core/test_private_apis.py checks they still exist).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_TIMEOUT = 10.0  # seconds for a request line and headers to arrive


class GuardedHttpProtocol(HttpToolsProtocol):
    head_timeout = HEAD_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:  # a further request on a kept-alive connection
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not self.transport.is_closing():
            # Answered before the request's body was all read (a refusal): the rest would only
            # hold the connection (each byte resets uvicorn's keep-alive timer), so close it.
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.logger.info(
                "closed a connection whose request head took over %ss", self.head_timeout
            )
            self.transport.close()
