"""Helpers every page route uses: rendering with the viewer, htmx detection, path parsing."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from discussit import access
from discussit.auth import csrf_token, current_viewer
from discussit.templating import templates


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def page(
    request: Request, template: str, /, status_code: int = 200, **context: Any
) -> Response:
    viewer = await current_viewer(request)
    context |= {"viewer": viewer, "csrf_token": csrf_token(request)}
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    if viewer is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def group_id_from_path(conn: HTTPConnection) -> uuid.UUID:
    """The {group_id} of the path; any malformed id is simply a group that does not exist."""
    return access.parse_group_id(conn.path_params.get("group_id", ""))


def int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPException(400, f"{name} must be a whole number")
    return int(raw)
