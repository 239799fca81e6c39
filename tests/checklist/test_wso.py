"""WSO-1: cross-site WebSocket hijacking is refused at the handshake (exact allowlist).
(WSO-2, a real cross-site page, is in tests/browser/test_checklist_browser.py.)"""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.servers import Member, Server

ORIGINS = [
    "https://evil.example",
    None,
    "null",
    "http://127.0.0.1.evil.example",
    "https://127.0.0.1:{port}",
    "http://127.0.0.1:{other}",
    "http://evil.example/http://127.0.0.1:{port}",
    "http://localhost:{port}",
]

pytestmark = pytest.mark.slow  # real servers or timed waits: `make test`, not `make check`


def test_wso1_cross_site_handshakes_get_403_before_accept(server_env, tmp_path, figures):
    server = Server(server_env, tmp_path / "s.log").start()
    try:
        group = server.create_group("Origins")
        alice = Member(server, "alice")
        alice.join(group)

        async def attempt(origin: str | None) -> int:
            headers = {"Cookie": alice.cookie_header()}
            if origin is not None:
                headers["Origin"] = origin.format(port=server.port, other=server.port + 1)
            try:
                async with connect(
                    f"ws://127.0.0.1:{server.port}/groups/{group}/ws",
                    additional_headers=headers,
                    open_timeout=5,
                ):
                    return 101
            except InvalidStatus as refused:
                return refused.response.status_code

        async def all_attempts() -> list[int]:
            return list(await asyncio.gather(*(attempt(o) for o in ORIGINS)))

        codes = asyncio.run(all_attempts())
        assert codes == [403] * len(ORIGINS)
        assert asyncio.run(attempt(server.url)) == 101  # the app's own origin is accepted
        figures["authorization"]["origins_refused"] = len(ORIGINS)
        alice.close()
    finally:
        server.terminate()
