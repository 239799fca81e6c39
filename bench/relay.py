"""The reference: a bare Starlette/uvicorn relay that forwards each text frame to every socket
in the room. No database, auth, templates or ordering: the lower bound DiscussIt is held to."""

from __future__ import annotations

from collections import defaultdict

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

rooms: defaultdict[str, set[WebSocket]] = defaultdict(set)


async def room(ws: WebSocket) -> None:
    await ws.accept()
    members = rooms[ws.path_params["room"]]
    members.add(ws)
    try:
        while True:
            text = await ws.receive_text()
            for other in list(members):
                try:
                    await other.send_text(text)
                except (WebSocketDisconnect, RuntimeError):
                    members.discard(other)
    except WebSocketDisconnect:
        pass
    finally:
        members.discard(ws)


def create_app() -> Starlette:
    """A factory, so both servers start from the Procfile's very flags (`--factory`)."""
    rooms.clear()
    return Starlette(routes=[WebSocketRoute("/groups/{room}/ws", room)])


app = create_app()
