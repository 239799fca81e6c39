"""A person's own account page: their profile (its forms: accounts/profile_routes.py), a new
password, and where they are logged in (sign out one login, or every one but this). Plain forms
(Post/Redirect/Get); the page says what was done."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit.accounts import auth, logins, profiles
from discussit.accounts.pages import page
from discussit.core.db import Database
from discussit.core.urls import url_path
from discussit.core.web import form_text, read_form, within_budget
from discussit.settings import Settings

DONE = {  # what the page says after each action (never anything a request carried)
    "profile": "Your profile is saved.",
    "picture": "Your new picture is saved.",
    "no_picture": "Your picture is removed: your initials show instead.",
    "password": "Your password is changed. Your other logins were signed out; this one stays.",
    "ended": "That login is signed out.",
    "others": "Every other login is signed out; this one stays.",
}


async def account_page(
    request: Request, errors: dict[str, list[str]], status_code: int = 200
) -> Response:
    """The page, with what is wrong with a form just sent (`errors`: field -> sentences)."""
    viewer = await auth.require_viewer(request)
    db: Database = request.state.db
    found, profile = await db.read(
        lambda conn: (logins.logins_of(conn, viewer), profiles.profile_of(conn, viewer.id))
    )
    return await page(
        request,
        "accounts/account.html",
        status_code=status_code,
        logins=found,
        profile=profile,
        errors=errors,
        done=DONE.get(request.query_params.get("done", "")),
    )


async def account(request: Request) -> Response:
    return await account_page(request, {})


async def change_password(request: Request) -> Response:
    viewer = await auth.require_viewer(request)
    settings: Settings = request.state.settings
    # Each try checks the current password: counted like logins, per user and per address.
    await within_budget(
        request, "password", viewer.id, settings.login_attempts_per_user, "Too many tries."
    )
    form = await read_form(request)
    problems = await logins.change_password(
        request.state.db,
        request.state.broker,
        viewer,
        form_text(form, "current"),
        form_text(form, "new"),
        form_text(form, "new2"),
    )
    if problems:
        return await account_page(request, {"password": problems}, status_code=400)
    return RedirectResponse(url_path("account:show") + "?done=password", status_code=303)


async def end_login(request: Request) -> Response:
    viewer = await auth.require_viewer(request)
    raw = request.path_params["login_id"]
    ended = await logins.end_logins(request.state.db, request.state.broker, viewer, int(raw))
    if not ended:
        raise HTTPException(404, "No such login of yours (it may have ended already).")
    return RedirectResponse(url_path("account:show") + "?done=ended", status_code=303)


async def end_others(request: Request) -> Response:
    viewer = await auth.require_viewer(request)
    await logins.end_logins(request.state.db, request.state.broker, viewer)
    return RedirectResponse(url_path("account:show") + "?done=others", status_code=303)


routes = [
    Route("/account", account, name="account:show"),
    Route("/account/password", change_password, methods=["POST"], name="account:password"),
    Route(
        "/account/logins/{login_id:int}/end", end_login, methods=["POST"], name="account:end_login"
    ),
    Route("/account/logins/end-others", end_others, methods=["POST"], name="account:end_others"),
]
