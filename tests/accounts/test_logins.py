"""A person's own account: where they are logged in (which browser, from where, last used when),
signing one login or every other out (its cookie stops working and its open pages close at
once), and a new password, which signs the other logins out and keeps this one."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from discussit.accounts import auth
from discussit.accounts.logins import describe
from discussit.app import create_app
from discussit.models import AuthSession
from discussit.settings import Rate
from tests import factories
from tests.helpers import PASSWORD, Browser, drain, html, receive_text, resume

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def second_login(client: TestClient, name: str, user_agent: str) -> Browser:
    other = Browser(client)
    response = other.post(
        "/login", {"username": name, "password": PASSWORD}, headers={"User-Agent": user_agent}
    )
    assert response.status_code == 303
    other.username = name
    return other


def logins_shown(browser: Browser) -> list[dict[str, str]]:
    page = html(browser.get("/account"))
    return [
        {
            "device": node.css_first(".login__device").text(),
            "current": "login--current" in (node.attributes["class"] or ""),
            "end": (node.css_first("form") or node).attributes.get("action") or "",
        }
        for node in page.css("li.login")
    ]


def test_the_user_agent_names_the_browser_and_system():
    assert describe(FIREFOX) == "Firefox on Linux"
    assert describe(PHONE) == "Chrome on Android"
    assert describe("curl/8.0") == "An unknown browser"


def test_the_account_page_lists_my_logins_this_one_first(client, alice):
    second_login(client, "alice", FIREFOX)
    second_login(client, "alice", PHONE)
    shown = logins_shown(alice)
    assert [s["current"] for s in shown] == [True, False, False]
    assert {s["device"] for s in shown[1:]} == {"Firefox on Linux", "Chrome on Android"}
    assert shown[0]["end"] == ""  # this one is ended by logging out
    assert html(alice.get("/")).css_first("a.topbar__user").attributes["href"] == "/account"


def test_signing_out_another_login_ends_its_cookie_and_closes_its_pages(client, alice, bob, lounge):
    alice.join(lounge)
    laptop = second_login(client, "alice", FIREFOX)
    with laptop.socket(lounge) as ws:
        resume(ws, 0)
        drain(ws, quiet=0.2)
        other = next(s for s in logins_shown(alice) if not s["current"])
        response = alice.post(other["end"])
        assert response.status_code == 303
        assert response.headers["location"] == "/account?done=ended"
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                receive_text(ws, timeout=2)
    assert closed.value.code == 1008
    assert laptop.get("/", follow_redirects=False).status_code == 303  # to the login page
    assert "That login is signed out." in alice.get("/account?done=ended").text
    assert len(logins_shown(alice)) == 1
    # Someone else's login (or one that ended already) is not mine to end.
    bobs = bob.post(other["end"])
    assert bobs.status_code == 404


def test_signing_out_everywhere_else_keeps_this_login(client, alice):
    phone = second_login(client, "alice", PHONE)
    laptop = second_login(client, "alice", FIREFOX)
    assert alice.post("/account/logins/end-others").status_code == 303
    for gone in (phone, laptop):
        assert gone.get("/", follow_redirects=False).status_code == 303
    assert alice.get("/", follow_redirects=False).status_code == 200
    assert len(logins_shown(alice)) == 1


def test_a_new_password_needs_the_current_one_and_signs_out_the_others(client, alice):
    laptop = second_login(client, "alice", FIREFOX)
    new = "amber-harbour-71"
    for form, problem in [
        ({"current": "wrong-password-1", "new": new, "new2": new}, "not your current password"),
        ({"current": PASSWORD, "new": new, "new2": new + "x"}, "do not match"),
        ({"current": PASSWORD, "new": "short", "new2": "short"}, "at least"),
    ]:
        response = alice.post("/account/password", form)
        assert response.status_code == 400
        assert problem in html(response).css_first(".form__error").text()
    assert laptop.get("/", follow_redirects=False).status_code == 200  # nothing changed
    done = alice.post("/account/password", {"current": PASSWORD, "new": new, "new2": new})
    assert done.headers["location"] == "/account?done=password"
    assert laptop.get("/", follow_redirects=False).status_code == 303
    assert alice.get("/", follow_redirects=False).status_code == 200
    assert Browser(client).log_in("alice", PASSWORD).status_code == 400
    assert Browser(client).log_in("alice", new).status_code == 303


def test_password_tries_are_budgeted(settings):
    tight = dataclasses.replace(settings, login_attempts_per_user=Rate(2, 180))
    with TestClient(create_app(tight), base_url="http://testserver") as client:
        ana = Browser(client)
        ana.sign_up("ana")
        client.app_state["limiter"].clock = lambda: 1_000_000.0
        wrong = {"current": "not-it-at-all", "new": "x", "new2": "x"}
        assert [ana.post("/account/password", wrong).status_code for _ in range(3)] == [
            400,
            400,
            429,
        ]


def test_a_login_records_where_it_was_made_and_when_it_was_last_used(client, alice, monkeypatch):
    laptop = second_login(client, "alice", FIREFOX)
    details = html(alice.get("/account")).css("li.login")[1].css_first(".login__details").text()
    assert "testclient" in details  # (the test client's address)

    def last_used() -> list[object]:
        async def read(session):  # type: ignore[no-untyped-def]
            found = await session.exec(select(AuthSession.last_seen_at).order_by(AuthSession.id))
            return list(found)

        return factories.run(client, read)  # type: ignore[no-any-return]

    assert last_used()[-1] is None  # not used since it was made
    laptop.get("/")
    assert last_used()[-1] is None  # written at most every SEEN_EVERY
    monkeypatch.setattr(auth, "SEEN_EVERY", auth.SEEN_EVERY * 0)
    laptop.get("/")
    assert last_used()[-1] is not None
