"""Sign up, log in, log out."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from discussit import limits
from discussit.accounts import auth, passwords
from discussit.accounts.pages import error_page, page
from discussit.core.db import Database
from discussit.core.security import text
from discussit.core.security.ratelimit import MemoryLimiter, client_address
from discussit.core.urls import url_path
from discussit.core.web import form_text, read_form
from discussit.models import User
from discussit.settings import Settings

log = logging.getLogger("discussit.accounts")


async def _too_many(request: Request, retry_after: int, what: str) -> Response:
    log.info("rate limited: %s", what)
    response = await error_page(
        request, 429, f"Too many attempts. Try again in {retry_after} seconds."
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


async def signup(request: Request) -> Response:
    next_url = auth.safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return await page(request, "accounts/signup.html", next=next_url, errors={}, username="")
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
    db: Database = request.state.db
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
                errors["username"] = [
                    "That username is taken (or looks like one that is); choose another."
                ]
    if errors:
        return await page(
            request,
            "accounts/signup.html",
            status_code=400,
            next=next_url,
            errors=errors,
            username=username,
        )
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
            return await _too_many(request, decision.retry_after, "login")
    db: Database = request.state.db
    async with db.session() as session:
        user = await auth.find_user(session, username)
    ok = await passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        log.info("login failed")
        return await page(
            request,
            "accounts/login.html",
            status_code=400,
            next=next_url,
            error="Wrong username or password.",
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
