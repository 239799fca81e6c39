"""Sign up, log in, log out, sessions and redirects, through HTTP."""

from __future__ import annotations

import httpx2
import pytest

from discussit.accounts.auth import find_user
from discussit.models import User
from tests.helpers import PASSWORD, Browser, html


def _user(client, name: str) -> User:
    async def load() -> User:
        async with client.app_state["db"].session() as session:
            found = await find_user(session, name)
            assert found is not None
            return found

    return client.portal.call(load)


def test_sign_up_logs_in_and_lands_on_the_home_page(browser):
    response = browser.sign_up("alice")
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = browser.get("/")
    assert home.status_code == 200
    assert html(home).css_first(".topbar__user strong").text() == "alice"


def test_passwords_are_stored_as_argon2id_hashes(client, browser):
    browser.sign_up("alice")
    stored = _user(client, "alice").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("username", "password", "password2", "field", "words"),
    [
        ("al", PASSWORD, PASSWORD, "username", "3 to 30 characters"),
        ("a" * 31, PASSWORD, PASSWORD, "username", "at most 30 characters"),
        ("bad name", PASSWORD, PASSWORD, "username", "letters, digits"),
        ("<script>", PASSWORD, PASSWORD, "username", "letters, digits"),
        ("_alice", PASSWORD, PASSWORD, "username", "starting with a letter"),
        ("alice", "short1!", "short1!", "password", "at least 8 characters"),
        ("alice", "password123", "password123", "password", "too common"),
        ("alice", "1234567890123", "1234567890123", "password", "more than digits"),
        ("alice", "alice-rocks-42", "alice-rocks-42", "password", "username in your password"),
        ("alice", PASSWORD, PASSWORD + "x", "password2", "do not match"),
    ],
)
def test_sign_up_refuses_bad_input_with_form_errors(
    browser, username, password, password2, field, words
):
    response = browser.post(
        "/signup", {"username": username, "password": password, "password2": password2}
    )
    assert response.status_code == 400
    errors = " ".join(n.text() for n in html(response).css(".form__error"))
    assert words in errors
    assert "Traceback" not in response.text
    assert browser.get("/", follow_redirects=False).status_code == 303  # still anonymous


def test_usernames_are_unique_ignoring_case(client, alice):
    other = Browser(client)
    response = other.sign_up("ALICE")
    assert response.status_code == 400
    assert "taken" in response.text


def test_sign_up_keeps_the_typed_username_after_an_error(browser):
    response = browser.post("/signup", {"username": "carol", "password": "x", "password2": "x"})
    field = html(response).css_first("input[name=username]")
    assert field.attributes["value"] == "carol"


def test_log_in_with_the_right_password(client, alice):
    other = Browser(client)
    response = other.log_in("alice")
    assert response.status_code == 303
    assert other.get("/").status_code == 200


def test_log_in_is_case_insensitive_for_the_username(client, alice):
    assert Browser(client).log_in("Alice").status_code == 303


def test_wrong_password_and_unknown_user_get_the_same_answer(client, alice):
    wrong = Browser(client).log_in("alice", "not-the-password-1")
    unknown = Browser(client).log_in("nobody", "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 400
    assert html(wrong).css_first(".form__error").text() == "Wrong username or password."
    assert html(unknown).css_first(".form__error").text() == "Wrong username or password."


def test_logout_is_a_post_and_get_changes_nothing(alice):
    assert alice.get("/logout").status_code == 405
    assert alice.get("/").status_code == 200  # still logged in
    response = alice.log_out()
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert alice.get("/", follow_redirects=False).status_code == 303


def test_logout_invalidates_the_session_on_the_server(client, alice):
    copied = Browser(client)
    copied.cookies = httpx2.Cookies(alice.cookies)
    assert copied.get("/").status_code == 200
    alice.log_out()
    response = copied.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_login_starts_a_new_session(client, alice):
    before = alice.cookies.get("discussit_session")
    alice.log_out()
    alice.log_in("alice")
    assert alice.cookies.get("discussit_session") != before


def test_session_cookie_is_httponly_and_samesite_lax(browser):
    response = browser.sign_up("alice")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_session_cookie_is_secure_when_configured(settings):
    from dataclasses import replace

    from starlette.testclient import TestClient

    from discussit.app import create_app

    app = create_app(replace(settings, secure_cookies=True))
    with TestClient(app, base_url="https://testserver") as client:
        response = Browser(client).sign_up("alice")
        assert "secure" in response.headers["set-cookie"].lower()


def test_anonymous_visitors_go_to_login_and_come_back(client, alice, lounge):
    visitor = Browser(client)
    response = visitor.get(f"/groups/{lounge}/?before=5", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/groups/{lounge}/%3Fbefore%3D5"
    form = html(visitor.get(response.headers["location"])).css_first("form.form")
    back = visitor.post(form.attributes["action"], {"username": "alice", "password": PASSWORD})
    assert back.status_code == 303
    assert back.headers["location"] == f"/groups/{lounge}/?before=5"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
    ],
)
def test_login_never_redirects_to_another_site(client, alice, target):
    from urllib.parse import quote

    visitor = Browser(client)
    response = visitor.post(
        f"/login?next={quote(target)}", {"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_htmx_requests_of_anonymous_visitors_are_told_to_redirect(client, lounge):
    response = Browser(client).get(
        f"/groups/{lounge}/history?before=3",
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver/groups/{lounge}/"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == f"/login?next=/groups/{lounge}/"


def test_cfg4_passwords_and_message_text_never_reach_the_log(client, alice, lounge, caplog):
    import logging

    from tests.helpers import receive_until, resume, say

    caplog.set_level(logging.DEBUG, logger="discussit")
    Browser(client).log_in("alice", "wrong-password-77")
    Browser(client).log_in("alice")
    alice.join(lounge)
    with alice.socket(lounge) as ws:
        resume(ws, 1)
        say(ws, "private words")
        receive_until(ws, "private words")
    logged = caplog.text
    assert "login failed" in logged and "login user=" in logged
    for secret in (PASSWORD, "wrong-password-77", "private words", "alice"):
        assert secret not in logged
