"""The staff area's pages: people (search, make staff or not, deactivate or reactivate) and the
audit log. Staff only (groups/access.py); plain forms, each answered by a redirect to the page
saying what was done."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit.accounts import audit
from discussit.accounts.auth import Viewer
from discussit.accounts.pages import page
from discussit.admin import people
from discussit.core.db import Database
from discussit.core.security import text
from discussit.core.urls import url_path
from discussit.core.web import form_text, int_param, read_form
from discussit.groups import access
from discussit.models import User

DONE = {
    "staff-on": "{name} is now staff.",
    "staff-off": "{name} is no longer staff.",
    "deactivate": "{name} is deactivated: their logins have ended and their pages are closed.",
    "reactivate": "{name} can log in again.",
}


async def staff_only(request: Request) -> Viewer:
    return await access.require_staff(request, "use the staff area")


async def home(request: Request) -> Response:
    await staff_only(request)
    return RedirectResponse(url_path("admin:people"), status_code=303)


async def _done(request: Request, db: Database) -> str | None:
    action = request.query_params.get("done", "")
    who = int_param(request, "who")
    if action not in DONE or who is None:
        return None
    users = User.__table__  # type: ignore[attr-defined]
    name = await db.read(
        lambda c: c.execute(select(users.c.username).where(users.c.id == who)).scalar()
    )
    return None if name is None else DONE[action].format(name=name)


async def people_page(request: Request) -> Response:
    viewer = await staff_only(request)
    db: Database = request.state.db
    search = request.query_params.get("q", "")
    try:
        search = text.clean(search, text.SEARCH)
    except text.InvalidText as problem:
        raise HTTPException(400, str(problem)) from None
    after = request.query_params.get("after") or None
    found, next_key = await db.read(lambda c: people.people(c, search, after))
    return await page(
        request,
        "admin/people.html",
        people=found,
        search=search,
        next_query=urlencode({"q": search, "after": next_key}) if next_key else None,
        done=await _done(request, db),
        me=viewer.id,
    )


async def _change(request: Request, field: str) -> Response:
    viewer = await staff_only(request)
    user_id = int(request.path_params["user_id"])
    form = await read_form(request)
    wanted = form_text(form, field)
    if wanted not in ("on", "off"):
        raise HTTPException(400, f"{field} must be on or off.")
    on = wanted == "on"
    try:
        if field == "staff":
            await people.set_staff(request.state.db, viewer, user_id, on)
            action = "staff-on" if on else "staff-off"
        else:
            await people.set_active(request.state.db, request.state.broker, viewer, user_id, on)
            action = "reactivate" if on else "deactivate"
    except people.Refused as refused:
        raise HTTPException(400, refused.problem) from None
    except people.NoSuchPerson:
        raise HTTPException(404, "No such account.") from None
    back = urlencode({"q": form_text(form, "q"), "done": action, "who": user_id})
    return RedirectResponse(url_path("admin:people") + "?" + back, status_code=303)


async def set_staff(request: Request) -> Response:
    return await _change(request, "staff")


async def set_active(request: Request) -> Response:
    return await _change(request, "active")


async def audit_page(request: Request) -> Response:
    await staff_only(request)
    db: Database = request.state.db
    before = int_param(request, "before")
    lines, next_before = await db.read(lambda c: audit.page(c, before))
    return await page(request, "admin/audit.html", lines=lines, next_before=next_before)


routes = [
    Route("/admin", home, name="admin:home"),
    Route("/admin/people", people_page, name="admin:people"),
    Route("/admin/people/{user_id:int}/staff", set_staff, methods=["POST"], name="admin:staff"),
    Route("/admin/people/{user_id:int}/active", set_active, methods=["POST"], name="admin:active"),
    Route("/admin/audit", audit_page, name="admin:audit"),
]
