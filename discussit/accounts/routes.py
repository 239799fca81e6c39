"""Sign up, log in, log out."""

from __future__ import annotations

import logging

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit import limits
from discussit.accounts import audit, auth, passwords, profiles, signup_policy
from discussit.accounts.pages import error_page, page
from discussit.core.db import Database
from discussit.core.security import text
from discussit.core.security.ratelimit import MemoryLimiter, client_address
from discussit.core.urls import url_path
from discussit.core.web import form_text, read_form
from discussit.models import User
from discussit.settings import Rate, Settings

log = logging.getLogger("discussit.accounts")


async def _too_many(request: Request, retry_after: int, what: str) -> Response:
    log.info("rate limited: %s", what)
    response = await error_page(
        request, 429, f"Too many attempts. Try again in {retry_after} seconds."
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


async def _audit_refusal(request: Request, key: str, limit: Rate, username: str) -> None:
    """Logins refused past a limit go in the audit log: once per limit's window and key (an
    attacker's flood of tries is one line), with the account tried, if any, and the address."""
    limiter: MemoryLimiter = request.state.limiter
    if not (await limiter.hit(f"audited:{key}", Rate(1, limit.seconds))).allowed:
        return
    db: Database = request.state.db
    async with db.session() as session:
        user = await auth.find_user(session, username)
    user_id = user.id if user is not None else None
    where = "from " + client_address(request)
    detail = where if user is not None else f"for “{username}” {where}"
    await db.write(lambda conn: audit.record(conn, user_id, "login-refused", None, detail))


async def _fresh_install(request: Request) -> bool:
    """No account yet (and the first one becomes staff, as it does unless turned off)."""
    settings: Settings = request.state.settings
    if not settings.first_account_staff:
        return False
    db: Database = request.state.db
    users = User.__table__  # type: ignore[attr-defined]
    return await db.read(lambda conn: conn.execute(select(users.c.id).limit(1)).first() is None)


async def _first_becomes_staff(db: Database, user_id: int) -> bool:
    """After a sign-up: the account becomes staff if it is the first one (the lowest id). On
    SQLite writers take turns, so exactly one is; on PostgreSQL two sign-ups racing on a fresh
    install could both be."""
    users = User.__table__  # type: ignore[attr-defined]

    def promote(conn: Connection) -> bool:
        first = select(func.min(users.c.id)).scalar_subquery()
        done = conn.execute(
            update(users).where(users.c.id == user_id, users.c.id == first).values(is_staff=True)
        )
        return done.rowcount == 1

    return await db.write(promote)


async def signup(request: Request) -> Response:
    next_url = auth.safe_next(request.query_params.get("next"))
    code = request.query_params.get("code", "")[:64] or None
    fresh = await _fresh_install(request)
    db: Database = request.state.db
    policy = await db.read(signup_policy.current)
    if not fresh and not policy.admits(code):
        return await page(request, "accounts/signup_closed.html", status_code=403)
    if request.method == "GET":
        return await page(
            request,
            "accounts/signup.html",
            next=next_url,
            code=code,
            errors={},
            username="",
            fresh=fresh,
        )
    settings: Settings = request.state.settings
    limiter: MemoryLimiter = request.state.limiter
    decision = await limiter.hit(
        f"signup:addr:{client_address(request)}", settings.signups_per_address
    )
    if not decision.allowed:
        return await _too_many(request, decision.retry_after, "sign-up")
    form = await read_form(request)
    typed = form_text(form, "username")
    password, password2 = form_text(form, "password"), form_text(form, "password2")
    errors: dict[str, list[str]] = {}
    try:
        username = text.clean(typed, text.USERNAME)
    except text.InvalidText as problem:
        errors["username"] = [str(problem)]
        username = typed.strip()[: limits.USERNAME_MAX * 2]
    found = passwords.problems(password, username)
    if found:
        errors["password"] = found
    if password != password2:
        errors["password2"] = ["The two passwords do not match."]
    taken = "That username is taken (or looks like one that is); choose another."
    if not errors and await db.read(lambda conn: profiles.someone_called(conn, username)):
        errors["username"] = [taken]  # (someone's display name)
    if not errors:
        user = User(
            username=username,
            username_key=text.username_key(username),
            password_hash=await passwords.hash_password(password),
        )
        async with db.session() as session:
            session.add(user)
            try:
                await session.commit()
            except IntegrityError:
                errors["username"] = [taken]
    if errors:
        return await page(
            request,
            "accounts/signup.html",
            status_code=400,
            next=next_url,
            code=code,
            errors=errors,
            username=username,
            fresh=fresh,
        )
    assert user.id is not None
    if fresh and await _first_becomes_staff(db, user.id):
        user.is_staff = True
        log.info("first account user=%s is staff", user.id)
    await auth.log_in(request, user)
    return RedirectResponse(next_url, status_code=303)


async def login(request: Request) -> Response:
    next_url = auth.safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return await page(request, "accounts/login.html", next=next_url, error=None, username="")
    form = await read_form(request)
    username = form_text(form, "username").strip()[: limits.USERNAME_MAX * 2]
    password = form_text(form, "password")[: limits.PASSWORD_MAX + 1]
    settings: Settings = request.state.settings
    limiter: MemoryLimiter = request.state.limiter
    # Every attempt counts, per username (any case or look-alike) and per address, before the
    # password is even hashed; past either limit even the right password is refused until the
    # window ends, so guessing gains nothing and bursts cost no hashing.
    keys = [
        # The very key the account lookup uses (auth.find_user): every spelling that reaches
        # an account shares its counter.
        (f"login:user:{text.username_key(username)}", settings.login_attempts_per_user),
        (f"login:addr:{client_address(request)}", settings.login_attempts_per_address),
    ]
    for key, limit in keys:
        decision = await limiter.hit(key, limit)
        if not decision.allowed:
            await _audit_refusal(request, key, limit, username)
            return await _too_many(request, decision.retry_after, "login")
    db: Database = request.state.db
    async with db.session() as session:
        user = await auth.find_user(session, username)
    ok = await passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or user.is_bot:  # (a bot has no password: it never logs in)
        log.info("login failed")
        return await page(
            request,
            "accounts/login.html",
            status_code=400,
            next=next_url,
            error="Wrong username or password.",
            username=username,
        )
    if not user.is_active:  # (said only to whoever knows the password)
        log.info("login refused: deactivated user=%s", user.id)
        return await page(
            request,
            "accounts/login.html",
            status_code=403,
            next=next_url,
            error="This account is deactivated. Ask staff if you think it should not be.",
            username=username,
        )
    await auth.log_in(request, user)
    log.info("login user=%s", user.id)
    return RedirectResponse(next_url, status_code=303)


async def logout(request: Request) -> Response:
    user_id = await auth.log_out(request)  # its live pages close
    if user_id is not None:
        log.info("logout user=%s", user_id)
    return RedirectResponse(url_path("accounts:login"), status_code=303)


routes = [
    Route("/signup", signup, methods=["GET", "POST"], name="accounts:signup"),
    Route("/login", login, methods=["GET", "POST"], name="accounts:login"),
    Route("/logout", logout, methods=["POST"], name="accounts:logout"),
]
