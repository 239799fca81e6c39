"""The staff area's sign-up policy: open to anyone, or by invitation through a join link whose
code staff can rotate (the old link stops working at once). Changes are audited."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit.accounts import audit, signup_policy
from discussit.accounts.pages import page
from discussit.admin.routes import staff_only
from discussit.core.db import Database
from discussit.core.urls import url_path
from discussit.core.web import form_text, read_form

DONE = {
    "open": "Anyone can sign up.",
    "invite": "Sign-up is by invitation: only the join link below works.",
    "rotated": "The join link is new: the old one no longer works.",
}


async def signup_page(request: Request) -> Response:
    await staff_only(request)
    db: Database = request.state.db
    policy = await db.read(signup_policy.current)
    link = None
    if policy.policy == "invite" and policy.code:
        link = str(request.url_for("accounts:signup").include_query_params(code=policy.code))
    return await page(
        request,
        "admin/signup.html",
        policy=policy,
        link=link,
        done=DONE.get(request.query_params.get("done", "")),
    )


async def set_policy(request: Request) -> Response:
    viewer = await staff_only(request)
    wanted = form_text(await read_form(request), "policy")
    if wanted not in signup_policy.POLICIES:
        raise HTTPException(400, "The sign-up policy is open or invite.")

    def change(conn):  # type: ignore[no-untyped-def]
        signup_policy.set_policy(conn, wanted)
        audit.record(conn, viewer.id, f"signup-{wanted}", None)

    await request.state.db.write(change)
    return RedirectResponse(url_path("admin:signup") + f"?done={wanted}", status_code=303)


async def rotate(request: Request) -> Response:
    viewer = await staff_only(request)

    def change(conn):  # type: ignore[no-untyped-def]
        signup_policy.rotate(conn)
        audit.record(conn, viewer.id, "invite-rotated", None)

    await request.state.db.write(change)
    return RedirectResponse(url_path("admin:signup") + "?done=rotated", status_code=303)


routes = [
    Route("/admin/signup", signup_page, name="admin:signup"),
    Route("/admin/signup/policy", set_policy, methods=["POST"], name="admin:signup_policy"),
    Route("/admin/signup/rotate", rotate, methods=["POST"], name="admin:signup_rotate"),
]
