"""Helpers every page route uses: htmx detection, query parsing, rendering a whole page."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from discussit.core.security import text
from discussit.core.security.csrf import csrf_token
from discussit.core.security.ratelimit import spend
from discussit.core.templating import templates
from discussit.settings import Rate


async def within_budget(
    request: Request, action: str, user_id: int, per_user: Rate, too_many: str
) -> None:
    """One `action` from the user's budget (and their address's); past it, 429 with
    Retry-After and `too_many` ("... Try again in N seconds.")."""
    decision = await spend(request.state.limiter, action, user_id, request, per_user)
    if not decision.allowed:
        raise HTTPException(
            429,
            f"{too_many} Try again in {decision.retry_after} seconds.",
            headers={"Retry-After": str(decision.retry_after)},
        )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def int_param(request: Request, name: str) -> int | None:
    """A whole-number query parameter (ASCII digits, the text policy's rule), or None; 400 if
    it is anything else."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return text.clean_number(raw, name)
    except text.InvalidText as problem:
        raise HTTPException(400, str(problem)) from None


def text_param(request: Request, name: str, rule: text.Rule) -> str | None:
    """A text query parameter cleaned by the text policy, or None; 400 if it breaks it."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return text.clean(raw, rule) or None
    except text.InvalidText as problem:
        raise HTTPException(400, str(problem)) from None


async def read_form(request: Request) -> FormData:
    """The request's form fields. No form of ours uploads files: any file part is closed at once
    (form_text then refuses the field it stands in for)."""
    form = await request.form()
    await form.close()
    return form


def form_text(form: FormData, name: str) -> str:
    """A form field expected as text ("" when absent). A file sent in its place is a 400: the
    request was not made by our form."""
    value = form.get(name, "")
    if not isinstance(value, str):
        raise HTTPException(400, f"{name} must be text, not a file.")
    return value


def render_page(
    request: Request, template: str, /, *, viewer: object, status_code: int = 200, **context: Any
) -> Response:
    """A whole page for `viewer` (None: logged out). Logged-in pages are never cached."""
    context |= {"viewer": viewer, "csrf_token": csrf_token(request)}
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    if viewer is not None:
        response.headers["Cache-Control"] = "no-store"
    return response
