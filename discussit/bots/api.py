"""The bots' HTTP API, under /api/: a bot posts to a group it belongs to and lists its recent
messages. Only `Authorization: Bearer <token>` counts here: the session cookie is never read
(so no browser can be made to call it, and CSRF does not apply: core/security/csrf.py lets
/api/ through). Every answer is JSON; errors are {"error": {"code", "message"}} with 401, 403,
404, 413, 415, 422 or 429. A post goes through the one posting use case, so it is stored,
delivered live and caught up like any other message."""

from __future__ import annotations

import json
import uuid
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from discussit import limits
from discussit.accounts.auth import Viewer, bot_viewer
from discussit.bots import tokens
from discussit.chat.posting import Posted, Posting, Reason
from discussit.core.db import Database
from discussit.core.security.csrf import BODY_TIMEOUT
from discussit.core.security.ratelimit import MemoryLimiter, client_address, spend
from discussit.core.security.text import clean_seq
from discussit.core.urls import url_path
from discussit.groups import access, directory, membership
from discussit.settings import Rate, Settings
from discussit.timeline import history
from discussit.timeline.entries import Entry, Kind

MAX_BODY = 16 * 1024  # bytes: a message of limits.MESSAGE_MAX characters, as JSON, fits
PAGE = 50  # messages per page of GET, at most
BAD_TOKENS = Rate(30, 60)  # refused tokens per address: each costs a lookup


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def _error(problem: ApiError) -> JSONResponse:
    headers = {"Cache-Control": "no-store", **problem.headers}
    if problem.status in (401, 408, 413):  # (the body may be unread: no keeping the connection)
        headers["Connection"] = "close"
    return JSONResponse(
        {"error": {"code": problem.code, "message": problem.message}},
        status_code=problem.status,
        headers=headers,
    )


async def _bot(request: Request) -> Viewer:
    """The bot whose live token the request carries, within its budget. Raises ApiError."""
    limiter: MemoryLimiter = request.state.limiter
    settings: Settings = request.state.settings
    token = tokens.from_header(request.headers.get("authorization"))
    found = None
    if token is not None:
        db: Database = request.state.db
        found = await db.read(lambda conn: tokens.bot_of(conn, token))
        if found is not None and found.stale:
            await db.write(lambda conn: tokens.touch(conn, found.token_id))
    if found is None:
        refused = await limiter.hit(f"api-token:addr:{client_address(request)}", BAD_TOKENS)
        if not refused.allowed:
            raise _too_many(refused.retry_after)
        raise ApiError(
            401,
            "invalid_token"
            if token is not None or "authorization" in request.headers
            else "no_token",
            "Send the bot's token: Authorization: Bearer dsk_…",
            **{"WWW-Authenticate": 'Bearer realm="discussit", error="invalid_token"'},
        )
    decision = await spend(limiter, "api", found.account.id, request, settings.api_requests_per_bot)
    if not decision.allowed:
        raise _too_many(decision.retry_after)
    return bot_viewer(found.account)


def _too_many(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        f"Too many requests. Try again in {retry_after} seconds.",
        **{"Retry-After": str(retry_after)},
    )


async def _member_group(request: Request, bot: Viewer) -> uuid.UUID:
    """The path's group, if the bot is a member: else 404 (no such group, or a private one)
    or 403 (a group it has not been added to)."""
    try:
        group_id = access.parse_group_id(request.path_params["group_id"])
    except access.NoSuchGroup:
        raise ApiError(404, "no_such_group", "There is no such group.") from None
    db: Database = request.state.db
    async with db.session() as session:
        if await membership.is_member(session, group_id, bot.id):
            return group_id
        found = await directory.get(session, group_id)
    if isinstance(access.not_a_member(found), access.NoSuchGroup):
        raise ApiError(404, "no_such_group", "There is no such group.")
    raise ApiError(403, "not_a_member", "Staff add a bot to a group before it can use it.")


async def _body(request: Request) -> bytes:
    body = b""
    with anyio.move_on_after(BODY_TIMEOUT):
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise ApiError(413, "too_large", f"A request can be at most {MAX_BODY} bytes.")
        return body
    raise ApiError(408, "too_slow", "The request took too long to arrive.")


def _fields(request: Request, body: bytes) -> dict[str, Any]:
    """{"text", "client_message_id"?, "reply_to"?} from a JSON or a plain-text body."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, "invalid_text", "The body must be UTF-8 text.") from None
    if kind == "text/plain":
        return {"text": text}
    if kind != "application/json":
        raise ApiError(
            415, "unsupported_type", 'Send text/plain, or application/json {"text": "…"}.'
        )
    try:
        fields = json.loads(text)
    except ValueError:
        raise ApiError(422, "invalid_json", "The body is not valid JSON.") from None
    if not isinstance(fields, dict) or "text" not in fields:
        raise ApiError(422, "invalid_json", 'Send a JSON object: {"text": "…"}.')
    return fields


_REFUSALS = {
    Reason.INVALID: (422, "invalid_text"),
    Reason.TOO_FAST: (429, "rate_limited"),
    Reason.NOT_A_MEMBER: (403, "not_a_member"),
    Reason.NOT_FOUND: (422, "no_such_message"),
    Reason.ARCHIVED: (403, "archived"),
    Reason.NOT_SAVED: (503, "not_saved"),
    Reason.LOGGED_OUT: (401, "invalid_token"),
    Reason.NOT_ALLOWED: (403, "not_allowed"),
}


async def post_message(request: Request) -> Response:
    try:
        bot = await _bot(request)
        group_id = await _member_group(request, bot)
        fields = _fields(request, await _body(request))
        posting: Posting = request.state.posting
        outcome = await posting.post(
            bot,
            group_id,
            fields.get("text"),
            fields.get("client_message_id"),
            fields.get("reply_to"),
        )
        if not isinstance(outcome, Posted):
            status, code = _REFUSALS[outcome.reason]
            extra = {"Retry-After": str(outcome.retry_after)} if outcome.retry_after else {}
            raise ApiError(status, code, outcome.problem, **extra)
    except ApiError as problem:
        return _error(problem)
    link = url_path("messages:show", group_id=group_id, seq=outcome.seq)
    return JSONResponse(
        {"seq": outcome.seq, "group_id": str(group_id), "permalink": link, "again": outcome.again},
        status_code=200 if outcome.again else 201,
        headers={"Location": link},
    )


def _as_json(entry: Entry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "author": {"id": entry.user_id, "name": entry.username},
        "text": entry.body,
        "created_at": entry.created_at.isoformat(),
        "edited_at": entry.edited_at.isoformat() if entry.edited_at else None,
        "deleted": entry.deleted,
        "reply_to": entry.reply.seq if entry.reply else None,
    }


async def list_messages(request: Request) -> Response:
    """The newest messages (or those before `?before=<seq>`), newest last, and the `before`
    of the page older than these (null: none)."""
    try:
        bot = await _bot(request)
        group_id = await _member_group(request, bot)
        raw_before = request.query_params.get("before")
        before = clean_seq(raw_before) if raw_before else None
        if raw_before and before is None:
            raise ApiError(422, "invalid_cursor", "before must be a message's seq.")
        db: Database = request.state.db
        async with db.session() as session:
            group = await directory.get(session, group_id)
            assert group is not None
            upto = group.last_seq + 1 if before is None else min(before, group.last_seq + 1)
            entries, has_more = await history.page_before(session, group_id, upto, PAGE)
    except ApiError as problem:
        return _error(problem)
    messages = [_as_json(e) for e in entries if e.kind is Kind.MESSAGE]
    older = entries[0].seq if has_more and entries else None
    return JSONResponse(
        {"messages": messages, "before": older}, headers={"Cache-Control": "no-store"}
    )


routes = [
    Route("/api/groups/{group_id}/messages", post_message, methods=["POST"], name="api:post"),
    Route("/api/groups/{group_id}/messages", list_messages, methods=["GET"], name="api:list"),
]

assert limits.MESSAGE_MAX * 6 < MAX_BODY  # (JSON escapes make at most six bytes of one char)
