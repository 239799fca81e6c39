"""What people see when something goes wrong: every error page and htmx error, in one place."""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from discussit.accounts import auth
from discussit.accounts.pages import error_page, page
from discussit.core.security.headers import security_headers
from discussit.core.templating import render
from discussit.core.web import is_htmx
from discussit.groups import access
from discussit.settings import Settings

log = logging.getLogger("discussit")

_REASONS = {
    400: "That request was not understood.",
    403: "You are not allowed to see this page.",
    404: "There is nothing here. The link may be wrong, or the page may have been removed.",
    405: "That action is not available this way.",
}


async def login_required(request: Request, exc: Exception) -> Response:
    if is_htmx(request):
        current = request.headers.get("hx-current-url", "")
        path = "/" + current.split("/", 3)[3] if current.count("/") >= 3 else "/"
        return Response(status_code=401, headers={"HX-Redirect": auth.login_url(path)})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(auth.login_url(target), status_code=303)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    default = HTTPStatus(exc.status_code).phrase
    reason = exc.detail if exc.detail and exc.detail != default else None
    if is_htmx(request):  # htmx 4 swaps error bodies: send a small message, not a whole page
        html = render("errors/_inline.html", reason=reason or _REASONS.get(exc.status_code, ""))
        return HTMLResponse(html, status_code=exc.status_code, headers=exc.headers)
    response = await error_page(
        request, exc.status_code, reason or _REASONS.get(exc.status_code, "Something went wrong.")
    )
    response.headers.update(exc.headers or {})
    return response


async def no_such_group(request: Request, exc: Exception) -> Response:
    return await http_error(request, HTTPException(404))


async def group_archived(request: Request, exc: Exception) -> Response:
    return await http_error(
        request, HTTPException(403, "This group is archived: nobody can join it or write in it.")
    )


async def not_a_member(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, access.NotAMemberOf)
    if is_htmx(request):
        return await http_error(request, HTTPException(403, "Join this group first."))
    return await page(request, "groups/forbidden.html", status_code=403, group=exc.group)


async def server_error(request: Request, exc: Exception) -> Response:
    """Rendered outside every middleware (Starlette's ServerErrorMiddleware): no session, so no
    viewer; the security headers are added here."""
    html = render(
        "errors/error.html",
        status=500,
        viewer=None,
        csrf_token="",
        reason="Something went wrong on our side. Please try again.",
    )
    settings: Settings = request.state.settings
    log.error("server error on %s %s", request.method, request.url.path, exc_info=exc)
    return HTMLResponse(
        html, status_code=500, headers=security_headers(hsts=settings.secure_cookies)
    )


HANDLERS = {
    auth.LoginRequired: login_required,
    access.NoSuchGroup: no_such_group,
    access.NotAMemberOf: not_a_member,
    access.GroupArchived: group_archived,
    HTTPException: http_error,
    500: server_error,
}
