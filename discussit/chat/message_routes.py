"""One message's own addresses: its link, and the edit, delete and reaction actions, each for
htmx (answering fragments) and for plain forms without JavaScript (answering pages).

The actions call the one use case per action (chat/changing.py), which the socket calls too;
pages for the forms ask groups/access.py who may see them.
"""

from __future__ import annotations

import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from discussit.accounts import auth
from discussit.accounts.auth import Viewer
from discussit.accounts.pages import error_page, page
from discussit.chat.changing import Changed, Changing
from discussit.chat.posting import Reason, Refused, clean_seq
from discussit.core.db import Database
from discussit.core.security import text as text_policy
from discussit.core.security.csrf import csrf_token
from discussit.core.templating import render
from discussit.core.urls import url_path
from discussit.core.web import form_text, is_htmx, read_form
from discussit.groups import access
from discussit.timeline import history
from discussit.timeline.entries import Entry

STATUS = {
    Reason.INVALID: 400,
    Reason.TOO_FAST: 429,
    Reason.NOT_SAVED: 503,
    Reason.NOT_FOUND: 404,
    Reason.NOT_ALLOWED: 403,
    Reason.NOT_A_MEMBER: 403,
    Reason.ARCHIVED: 403,
}


def _seq(request: Request) -> int:
    seq = clean_seq(request.path_params.get("seq", ""))
    if seq is None:
        raise HTTPException(404, "No such message.")
    return seq


def around_url(group_id: uuid.UUID, seq: int) -> str:
    """The page of history around a message, scrolled to it."""
    return url_path("chat:show", group_id=group_id) + f"?around={seq}#entry-{seq}"


async def _member_and_message(request: Request) -> tuple[Viewer, uuid.UUID, Entry]:
    """The viewer (a member), the group, and the message (not deleted); else the error page."""
    group_id = access.group_id_from_path(request)
    seq = _seq(request)
    db: Database = request.state.db
    async with db.session() as session:
        viewer = await access.require_member(request, session, group_id)
        entry = await history.message(session, group_id, seq)
    if entry is None or entry.deleted:
        raise HTTPException(404, "That message is not in this group, or was deleted.")
    return viewer, group_id, entry


async def permalink(request: Request) -> Response:
    """/groups/<id>/messages/<seq>: the page of history around the message (for its members:
    to anyone else it is refused as the group page would be)."""
    group_id, seq = access.group_id_from_path(request), _seq(request)
    db: Database = request.state.db
    async with db.session() as session:
        await access.require_member(request, session, group_id)
    return RedirectResponse(around_url(group_id, seq), 303)


async def edit_form(request: Request) -> Response:
    """The edit form: for htmx, in place under the message; without JavaScript, a page."""
    viewer, group_id, entry = await _member_and_message(request)
    problem = access.edit_refusal(viewer, entry.user_id)
    if problem is not None:
        raise HTTPException(403, problem)
    return await _editor(request, group_id, entry, entry.body, None, 200)


async def _editor(
    request: Request, group_id: uuid.UUID, entry: Entry, text: str, error: str | None, status: int
) -> Response:
    context = {
        "group_id": group_id,
        "entry": entry,
        "text": text,
        "error": error,
        "csrf_token": csrf_token(request),
    }
    if is_htmx(request):
        return HTMLResponse(render("messages/_editor.html", **context), status_code=status)
    return await page(request, "messages/edit.html", status_code=status, **context)


async def edit(request: Request) -> Response:
    viewer, group_id, entry = await _member_and_message(request)
    form = await read_form(request)
    raw = form_text(form, "text")
    changing: Changing = request.state.changing
    outcome = await changing.edit(viewer, group_id, entry.seq, raw, request)
    if isinstance(outcome, Changed):
        if not is_htmx(request):
            return RedirectResponse(around_url(group_id, entry.seq), 303)
        # The editor closes (HX-Reswap: htmx 4 reads any HX-* answer header into the swap);
        # the message is replaced here as it is on every open page (the live entry), for a
        # page that is not live (older history, a message's page).
        return HTMLResponse(_message_oob(request, outcome), headers={"HX-Reswap": "delete"})
    _give_up_if_gone(outcome)
    status = STATUS[outcome.reason]
    return await _editor(request, group_id, entry, text_policy.echo(raw), outcome.problem, status)


def _message_oob(request: Request, outcome: Changed) -> str:
    """The message as it is now, to replace it where the asking page shows it; nothing for a
    live page (its #chat says so: X-Live-Page, hx-headers), which gets every change over its
    socket in order (an answer arriving after a newer change would show an older state)."""
    if outcome.entry is None or outcome.entry.target is None:
        return ""
    if request.headers.get("x-live-page") == "1":
        return ""
    return render("messages/_message.html", entry=outcome.entry.target, oob=True)


def _give_up_if_gone(outcome: Refused) -> None:
    if outcome.reason is Reason.LOGGED_OUT:
        raise auth.LoginRequired


async def _answer(
    request: Request, group_id: uuid.UUID, seq: int, outcome: Changed | Refused
) -> Response:
    """A delete or a reaction: for htmx the message as it is now (or the reason in the page's
    notice line); without JavaScript back to the message's page (or an error page)."""
    if isinstance(outcome, Changed):
        if is_htmx(request):
            return HTMLResponse(_message_oob(request, outcome))
        return RedirectResponse(around_url(group_id, seq), 303)
    _give_up_if_gone(outcome)
    status = STATUS[outcome.reason]
    if is_htmx(request):
        return HTMLResponse(render("errors/_notice.html", reason=outcome.problem), status)
    response = await error_page(request, status, outcome.problem)
    if outcome.retry_after:
        response.headers["Retry-After"] = str(outcome.retry_after)
    return response


async def delete_form(request: Request) -> Response:
    """Without JavaScript: "Delete this message?" with the message, Delete and Cancel."""
    viewer, group_id, entry = await _member_and_message(request)
    problem = access.delete_refusal(viewer, entry.user_id)
    if problem is not None:
        raise HTTPException(403, problem)
    return await page(request, "messages/delete.html", group_id=group_id, entry=entry)


async def delete(request: Request) -> Response:
    group_id = access.group_id_from_path(request)
    seq = _seq(request)
    viewer = await _viewer(request, group_id)
    await read_form(request)
    changing: Changing = request.state.changing
    return await _answer(
        request, group_id, seq, await changing.delete(viewer, group_id, seq, request)
    )


async def react(request: Request) -> Response:
    group_id = access.group_id_from_path(request)
    seq = _seq(request)
    viewer = await _viewer(request, group_id)
    form = await read_form(request)
    changing: Changing = request.state.changing
    outcome = await changing.react(
        viewer, group_id, seq, form_text(form, "emoji"), form_text(form, "on") or None, request
    )
    return await _answer(request, group_id, seq, outcome)


async def _viewer(request: Request, group_id: uuid.UUID) -> Viewer:
    db: Database = request.state.db
    async with db.session() as session:
        return await access.require_member(request, session, group_id)


routes = [
    Route("/groups/{group_id}/messages/{seq}", permalink, name="messages:show"),
    Route("/groups/{group_id}/messages/{seq}/edit", edit_form, name="messages:edit_form"),
    Route("/groups/{group_id}/messages/{seq}/edit", edit, methods=["POST"], name="messages:edit"),
    Route("/groups/{group_id}/messages/{seq}/delete", delete_form, name="messages:delete_form"),
    Route(
        "/groups/{group_id}/messages/{seq}/delete", delete, methods=["POST"], name="messages:delete"
    ),
    Route(
        "/groups/{group_id}/messages/{seq}/reactions",
        react,
        methods=["POST"],
        name="messages:react",
    ),
]
