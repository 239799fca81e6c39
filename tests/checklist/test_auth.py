"""AUTH-1..5: authentication and sessions."""

from __future__ import annotations

import base64
import json
import re
import statistics
import time
from datetime import timedelta

import httpx2
import itsdangerous
import pytest
from sqlalchemy import update
from starlette.websockets import WebSocketDisconnect

from discussit.models import AuthSession, utcnow
from discussit.settings import Rate
from tests import factories
from tests.helpers import PASSWORD, Browser, receive_text


def _body_without_token(response) -> str:  # type: ignore[no-untyped-def]
    text = re.sub(r'name="csrf_token" value="[^"]+"', "", response.text)
    return re.sub(r'name="username" value="[^"]*"', "", text)  # the name typed is echoed back


@pytest.mark.slow
def test_auth1_wrong_password_and_unknown_user_look_and_take_the_same(client_with, figures):
    with client_with(
        login_attempts_per_user=Rate(1000, 180), login_attempts_per_address=Rate(1000, 180)
    ) as client:
        Browser(client).sign_up("alice")
        times = {"wrong": [], "unknown": []}
        bodies = {}
        for _ in range(20):
            for case, name in (("wrong", "alice"), ("unknown", "nobody")):
                visitor = Browser(client)
                token = visitor.csrf()
                began = time.perf_counter()
                response = visitor.post(
                    "/login", {"username": name, "password": "guess-123x", "csrf_token": token}
                )
                times[case].append(time.perf_counter() - began)
                bodies[case] = (response.status_code, _body_without_token(response))
    assert bodies["wrong"] == bodies["unknown"]  # same status, same page
    gap = abs(statistics.median(times["wrong"]) - statistics.median(times["unknown"]))
    assert gap < 0.05, gap
    figures["auth"]["enumeration_median_gap_ms"] = round(gap * 1000, 2)


def test_auth2_the_session_cookie_is_httponly_secure_lax_and_host_prefixed(client_with):
    with client_with(secure_cookies=True) as client:
        response = Browser(client).sign_up("alice")
        cookie = response.headers["set-cookie"]
    name, _, attributes = cookie.partition("=")
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in attributes.split(";")}
    assert name == "__Host-discussit"
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= flags.keys()
    assert flags["samesite"].lower() == "samesite=lax" and flags["path"] == "path=/"
    assert "domain" not in flags
    assert int(flags["max-age"].split("=")[1]) <= 14 * 24 * 3600


def test_auth3_login_makes_a_new_session_and_only_local_next_is_honoured(client, alice):
    visitor = Browser(client)
    visitor.get("/login")
    planted = visitor.cookies.get("discussit_session")
    response = visitor.post(
        "/login?next=//evil.example", {"username": "alice", "password": PASSWORD}
    )
    assert response.headers["location"] == "/"
    assert visitor.cookies.get("discussit_session") != planted
    data = json.loads(base64.b64decode(visitor.cookies["discussit_session"].split(".")[0] + "=="))
    assert set(data) == {"sid", "csrf"}  # nothing from before login survives
    for target, expected in [
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/groups/x/?a=1", "/groups/x/?a=1"),
    ]:
        b = Browser(client)
        from urllib.parse import quote

        r = b.post(f"/login?next={quote(target)}", {"username": "alice", "password": PASSWORD})
        assert r.headers["location"] == expected


def _anonymous_everywhere(client, cookies, group_id) -> None:  # type: ignore[no-untyped-def]
    b = Browser(client)
    b.cookies = cookies
    page = b.get(f"/groups/{group_id}/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert b.get("/updates").status_code == 401
    with b.socket(group_id) as ws, pytest.raises(WebSocketDisconnect) as closed:
        receive_text(ws)
    assert closed.value.code == 1008


def test_auth4_replayed_tampered_foreign_and_expired_cookies_are_anonymous(
    client, alice, lounge, settings
):
    alice.join(lounge)
    copied = httpx2.Cookies(alice.cookies)
    alice.log_out()
    _anonymous_everywhere(client, copied, lounge)  # replay after logout

    alice.log_in("alice")
    value = alice.cookies["discussit_session"]
    tampered = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
    _anonymous_everywhere(client, httpx2.Cookies({"discussit_session": tampered}), lounge)

    data = json.loads(base64.b64decode(value.split(".")[0] + "=="))
    foreign = (
        itsdangerous.TimestampSigner("another-key-" + "x" * 40)
        .sign(base64.b64encode(json.dumps(data).encode()))
        .decode()
    )
    _anonymous_everywhere(client, httpx2.Cookies({"discussit_session": foreign}), lounge)

    async def age(session):  # type: ignore[no-untyped-def]
        old = utcnow() - timedelta(seconds=settings.session_max_age + 60)
        await session.exec(update(AuthSession).values(created_at=old))
        await session.commit()

    factories.run(client, age)  # the server ends sessions at max age, whatever the cookie says
    _anonymous_everywhere(client, httpx2.Cookies(alice.cookies), lounge)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1!", "at least 8"),
        ("password123", "too common"),
        ("12345678901", "more than digits"),
        ("zed-zed-zed-alice", "username in your password"),
    ],
)
def test_auth5_weak_passwords_are_refused(browser, password, problem):
    response = browser.post(
        "/signup", {"username": "alice", "password": password, "password2": password}
    )
    assert response.status_code == 400 and problem in response.text


def test_auth5_passwords_are_argon2id_and_never_logged(client, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    b = Browser(client)
    b.sign_up("alice", "a-Long-unusual-pass-77")
    Browser(client).log_in("alice", "a-Long-unusual-pass-WRONG")
    assert factories.user(client, "alice").password_hash.startswith("$argon2id$")
    assert "a-Long-unusual-pass" not in caplog.text
