"""A group's page, its older history, and posting over plain HTTP (the composer without
JavaScript)."""

from __future__ import annotations

import uuid
from contextlib import suppress

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit import limits
from discussit.accounts import auth
from discussit.accounts.pages import error_page, page
from discussit.chat.posting import Posted, Posting, Reason, clean_seq
from discussit.core.db import Database
from discussit.core.realtime.presence import Presence
from discussit.core.templating import templates
from discussit.core.urls import url_path
from discussit.core.web import form_text, int_param, read_form
from discussit.groups import access, directory, membership, notifications, reading
from discussit.timeline import details, history


def _within(seq: int | None, cursor: int) -> int | None:
    """A page cursor from the address, kept within the group's seqs (the columns are 32-bit)."""
    return None if seq is None else min(seq, cursor + 1)


AROUND_OLDER = 10  # lines shown before a linked message (it stays near the top of the page)


async def render_group_page(
    request: Request,
    group_id: uuid.UUID,
    *,
    before: int | None = None,
    after: int | None = None,
    around: int | None = None,
    reply_to: int | None = None,
    composer_text: str = "",
    composer_error: str | None = None,
    status_code: int = 200,
) -> Response:
    """A group's page for a member: one page of history, members, the composer. The latest
    page by default; or the lines before `before`, after `after`, or around the message at
    `around` (highlighted, with its actions as forms). A constant number of queries (viewer,
    membership, group, history with its reactions and quotes, members), whatever the sizes."""
    db: Database = request.state.db
    presence: Presence = request.state.presence
    async with db.session() as session:
        viewer = await access.require_member(request, session, group_id)
        group = await directory.get(session, group_id)
        if group is None:
            raise access.NoSuchGroup
        cursor = group.last_seq  # read before the entries, which it bounds (see history.last_seq)
        around, after = _within(around, cursor), _within(after, cursor)
        has_newer = False
        if around is not None or after is not None:
            start = around - 1 if around is not None else after
            assert start is not None
            older, has_more = await history.page_before(
                session, group_id, start + 1, AROUND_OLDER if around is not None else 0
            )
            newer, has_newer = await history.page_after(
                session, group_id, start, cursor, limits.HISTORY_PAGE - len(older)
            )
            entries = older + newer
        else:
            entries, has_more = await history.page_before(
                session,
                group_id,
                min(before, cursor + 1) if before else cursor + 1,
                limits.HISTORY_PAGE,
            )
        members = await membership.members(session, group_id)
        # The viewer's groups for the list beside the chat, with what is unread in each (the
        # cursor of this one as it was: the "new messages" line goes where it pointed).
        unread = await reading.unread(session, viewer.id)
        reply = None
        if reply_to is not None and reply_to <= cursor:
            reply = (
                await session.run_sync(
                    lambda s: details.quotes(s.connection(), group_id, [reply_to])
                )
            ).get(reply_to)
    target = next((e for e in entries if e.seq == around and e.kind == "message"), None)
    is_latest = before is None and after is None and around is None
    here = unread.get(group_id)
    read_upto = cursor if here is None else here.cursor
    if is_latest and read_upto < cursor:  # the latest page shows the group: it is read
        # (Another page of theirs may have marked further meanwhile: that stays.)
        with suppress(reading.BehindCursor):
            await reading.mark_read(
                request.state.db, request.state.broker, group_id, viewer.id, cursor
            )
    return await page(
        request,
        "groups/show.html",
        status_code=status_code,
        group=group,
        entries=entries,
        has_more=has_more,
        has_newer=has_newer,
        is_latest=is_latest,
        read_upto=read_upto if is_latest else cursor,
        my_groups=[
            (gid, state.name, state if gid != group_id else None, state.notify)
            for gid, state in sorted(unread.items(), key=lambda item: item[1].name)
        ],
        notify=here.notify if here is not None else notifications.DEFAULT,
        levels=notifications.LEVELS,
        highlight=around or 0,
        target=target,
        may_edit=target is not None and access.edit_refusal(viewer, target.user_id) is None,
        may_delete=target is not None and access.delete_refusal(viewer, target.user_id) is None,
        my_reactions={r.emoji for r in target.reactions if viewer.id in r.user_ids}
        if target is not None
        else set(),
        last_seq=cursor,
        members=members,
        online=await presence.online(group_id),
        composer_text=composer_text,
        composer_error=composer_error,
        reply=reply if reply is not None and not reply.deleted else None,
    )


async def show(request: Request) -> Response:
    return await render_group_page(
        request,
        access.group_id_from_path(request),
        before=int_param(request, "before"),
        after=int_param(request, "after"),
        around=int_param(request, "around"),
        reply_to=int_param(request, "reply_to"),
    )


async def history_page(request: Request) -> Response:
    """Older (`before`) or newer (`after`) lines, for the Load older and Load newer controls
    (htmx): that page plus the next control."""
    group_id = access.group_id_from_path(request)
    before = int_param(request, "before")
    after = int_param(request, "after")
    if (before is None) == (after is None):
        raise HTTPException(400, "before or after is required")
    db: Database = request.state.db
    async with db.session() as session:
        await access.require_member(request, session, group_id)
        if after is not None:
            cursor = await history.last_seq(session, group_id) or 0
            entries, has_newer = await history.page_after(
                session, group_id, min(after, cursor), cursor, limits.HISTORY_PAGE
            )
            return templates.TemplateResponse(
                request,
                "timeline/_newer.html",
                {"group_id": group_id, "entries": entries, "has_newer": has_newer},
            )
        assert before is not None
        entries, has_more = await history.page_before(
            session, group_id, min(before, limits.SEQ_MAX), limits.HISTORY_PAGE
        )
    return templates.TemplateResponse(
        request,
        "timeline/_older.html",
        {"group_id": group_id, "entries": entries, "has_more": has_more},
    )


async def create(request: Request) -> Response:
    """Post from the plain form; on success back to the group's page (the message is there)."""
    group_id = access.group_id_from_path(request)
    db: Database = request.state.db
    async with db.session() as session:
        viewer = await access.require_member(request, session, group_id)
    form = await read_form(request)
    raw = form_text(form, "text")
    posting: Posting = request.state.posting
    outcome = await posting.post(
        viewer,
        group_id,
        raw,
        form_text(form, "client_message_id"),
        form_text(form, "reply_to"),
    )
    if isinstance(outcome, Posted):  # a resubmitted form (again) lands on the same page
        return RedirectResponse(
            url_path("chat:show", group_id=group_id) + "#composer", status_code=303
        )
    if outcome.reason in (Reason.NOT_A_MEMBER, Reason.ARCHIVED):
        return await error_page(request, 403, outcome.problem)
    if outcome.reason is Reason.LOGGED_OUT:
        raise auth.LoginRequired
    status = {
        Reason.INVALID: 400,
        Reason.TOO_FAST: 429,
        Reason.NOT_SAVED: 503,
        Reason.NOT_FOUND: 404,
    }[outcome.reason]
    response = await render_group_page(
        request,
        group_id,
        status_code=status,
        composer_text=raw,
        composer_error=outcome.problem,
        reply_to=clean_seq(form_text(form, "reply_to")),
    )
    if outcome.retry_after:
        response.headers["Retry-After"] = str(outcome.retry_after)
    return response


routes = [
    Route("/groups/{group_id}/", show, name="chat:show"),
    Route("/groups/{group_id}/history", history_page, name="chat:history"),
    Route("/groups/{group_id}/messages", create, methods=["POST"], name="chat:post"),
]
