"""Profiles over HTTP: a person's page, their picture, and the owner's forms to change them
(plain forms, Post/Redirect/Get, on the account page; each change spends the profile budget)."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit import limits
from discussit.accounts import auth, profiles
from discussit.accounts.account_routes import account_page
from discussit.accounts.pages import page
from discussit.core.db import Database
from discussit.core.urls import url_path
from discussit.core.web import form_text, read_form, within_budget
from discussit.settings import Settings

FOREVER = "private, max-age=31536000, immutable"


async def _spend(request: Request, viewer: auth.Viewer) -> None:
    settings: Settings = request.state.settings
    await within_budget(
        request,
        "profile",
        viewer.id,
        settings.profile_changes_per_user,
        "You have changed your profile many times just now.",
    )


async def person(request: Request) -> Response:
    await auth.require_viewer(request)
    db: Database = request.state.db
    user_id: int = request.path_params["user_id"]
    found = await db.read(lambda conn: profiles.profile_of(conn, user_id))
    if found is None:
        raise HTTPException(404, "No one here has that profile.")
    return await page(request, "accounts/person.html", person=found)


async def picture(request: Request) -> Response:
    await auth.require_viewer(request)
    db: Database = request.state.db
    user_id: int = request.path_params["user_id"]
    found = await db.read(lambda conn: profiles.picture_of(conn, user_id))
    if found is None:
        raise HTTPException(404, "No one here has that picture.")
    current = request.query_params.get("v") == str(found.version)
    headers = {"Cache-Control": FOREVER if current else "no-cache"}
    if found.webp is not None:
        return Response(found.webp, media_type="image/webp", headers=headers)
    return Response(found.svg, media_type="image/svg+xml", headers=headers)


async def change_profile(request: Request) -> Response:
    viewer = await auth.require_viewer(request)
    await _spend(request, viewer)
    form = await read_form(request)
    problems = await profiles.update_profile(
        request.state.db,
        request.state.broker,
        viewer,
        form_text(form, "display_name"),
        form_text(form, "bio"),
    )
    if problems:
        return await account_page(request, problems, status_code=400)
    return RedirectResponse(url_path("account:show") + "?done=profile", status_code=303)


async def change_picture(request: Request) -> Response:
    viewer = await auth.require_viewer(request)
    await _spend(request, viewer)
    try:
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("picture")
            data = (
                await upload.read(limits.AVATAR_UPLOAD_MAX + 1)
                if isinstance(upload, UploadFile)
                else b""
            )
    except MultiPartException:
        data = b""
    if not data:
        problem: str | None = "Choose a picture to send."
    else:
        problem = await profiles.set_avatar(request.state.db, request.state.broker, viewer, data)
    if problem is not None:
        return await account_page(request, {"picture": [problem]}, status_code=400)
    return RedirectResponse(url_path("account:show") + "?done=picture", status_code=303)


async def remove_picture(request: Request) -> Response:
    viewer = await auth.require_viewer(request)
    await _spend(request, viewer)
    await profiles.remove_avatar(request.state.db, request.state.broker, viewer)
    return RedirectResponse(url_path("account:show") + "?done=no_picture", status_code=303)


routes = [
    Route("/people/{user_id:int}/avatar", picture, name="people:avatar"),
    Route("/people/{user_id:int}", person, name="people:show"),
    Route("/account/profile", change_profile, methods=["POST"], name="account:profile"),
    Route("/account/avatar", change_picture, methods=["POST"], name="account:picture"),
    Route(
        "/account/avatar/remove", remove_picture, methods=["POST"], name="account:remove_picture"
    ),
]
