"""GET /healthz: is the database reachable, and can the broker carry live updates? (for the PaaS)"""

from __future__ import annotations

import logging

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from discussit.core.db import Database
from discussit.core.realtime.broker import Broker

log = logging.getLogger("discussit.health")


async def healthz(request: Request) -> JSONResponse:
    db: Database = request.state.db
    broker: Broker = request.state.broker
    checks = {"database": "ok", "broker": "ok"}
    try:
        async with db.session() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as error:  # any failure to reach the database is "unavailable"
        log.warning("health: database unreachable (%s)", type(error).__name__)
        checks["database"] = "unavailable"
    if not await broker.healthy():
        checks["broker"] = "unavailable"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", **checks},
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"},
    )


routes = [Route("/healthz", healthz, name="health")]
