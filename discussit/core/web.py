"""Helpers every page route uses: htmx detection, query parsing, rendering a whole page."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from discussit.core.security.csrf import csrf_token
from discussit.core.templating import templates


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPException(400, f"{name} must be a whole number")
    return int(raw)


def render_page(
    request: Request, template: str, /, *, viewer: object, status_code: int = 200, **context: Any
) -> Response:
    """A whole page for `viewer` (None: logged out). Logged-in pages are never cached."""
    context |= {"viewer": viewer, "csrf_token": csrf_token(request)}
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    if viewer is not None:
        response.headers["Cache-Control"] = "no-store"
    return response
