"""A whole page for whoever is logged in (or nobody): every page route renders through here."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from discussit.accounts.auth import current_viewer
from discussit.core.web import render_page


async def page(
    request: Request, template: str, /, status_code: int = 200, **context: Any
) -> Response:
    viewer = await current_viewer(request)
    return render_page(request, template, viewer=viewer, status_code=status_code, **context)


async def error_page(request: Request, status: int, reason: str) -> Response:
    """The one error page: status and a sentence for the person who hit it."""
    return await page(
        request, "errors/error.html", status_code=status, status=status, reason=reason
    )
