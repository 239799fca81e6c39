"""The bots' API: staff make a bot and get its token once; the bot posts to a group it was added
to (plain text or JSON), and the message is stored, delivered live and caught up like any
other; it lists recent messages in keyset pages. Only the bearer token counts (never a cookie);
errors are JSON with clear codes."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient

from discussit import limits
from discussit.app import create_app
from discussit.settings import Rate
from tests import factories
from tests.bots.helpers import add_bot, api, make_bot
from tests.helpers import PASSWORD, Browser, freeze_limits, html, receive_until, resume


@pytest.fixture
def staff(client, alice) -> Browser:  # type: ignore[no-untyped-def]
    factories.make_staff(client, "alice")
    return alice


@pytest.fixture
def helper(client, staff, lounge):  # type: ignore[no-untyped-def]
    """A bot in the Lounge: (id, token)."""
    bot_id, token = make_bot(staff)
    add_bot(staff, bot_id, lounge)
    return bot_id, token


def error_code(response) -> str:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"] == "application/json"
    return str(response.json()["error"]["code"])


def test_the_token_is_shown_once_and_only_its_start_is_kept(client, staff, helper):
    bot_id, token = helper
    assert token.startswith("dsk_") and len(token) > 40
    page = staff.get(f"/admin/bots/{bot_id}")
    assert token not in page.text and token[:10] in page.text
    assert token not in staff.get("/admin/audit").text


def test_a_bot_posts_and_everyone_with_the_group_open_sees_it(client, bob, helper, lounge):
    _, token = helper
    bob.join(lounge)
    with bob.socket(lounge) as ws:
        resume(ws, 0)
        posted = api(
            client,
            "POST",
            f"/api/groups/{lounge}/messages",
            token,
            content="Build **42** passed",
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        assert posted.status_code == 201, posted.text
        frame = receive_until(ws, "Build")[-1]
    assert "<strong>42</strong>" in frame and "Helper" in frame
    seq = posted.json()["seq"]
    assert posted.headers["location"] == f"/groups/{lounge}/messages/{seq}"
    page = html(bob.get(f"/groups/{lounge}/"))
    assert page.css(".message__author")[-1].text() == "Helper"


def test_json_posts_are_stored_once_per_client_id(client, helper, lounge):
    _, token = helper
    body = {"text": "deploy started", "client_message_id": "deploy-000123"}
    first = api(client, "POST", f"/api/groups/{lounge}/messages", token, json=body)
    again = api(client, "POST", f"/api/groups/{lounge}/messages", token, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["seq"] == again.json()["seq"] and again.json()["again"] is True


def test_listing_recent_messages_in_keyset_pages(client, staff, helper, lounge):
    _, token = helper
    staff.join(lounge)
    factories.post_messages(client, lounge, "alice", 60)
    first = api(client, "GET", f"/api/groups/{lounge}/messages", token)
    assert first.status_code == 200
    page = first.json()
    assert page["messages"][-1]["text"] == "m59" and page["before"] is not None
    older = api(client, "GET", f"/api/groups/{lounge}/messages?before={page['before']}", token)
    seqs = [m["seq"] for m in older.json()["messages"]]
    assert seqs and max(seqs) < min(m["seq"] for m in page["messages"])
    assert error_code(api(client, "GET", f"/api/groups/{lounge}/messages?before=x", token)) == (
        "invalid_cursor"
    )


@pytest.mark.parametrize(
    "header",
    [None, "Basic YWxpY2U6cHc=", "Bearer ", "Bearer not-a-token", "Bearer dsk_" + "x" * 43],
)
def test_without_a_live_token_it_is_401(client, helper, lounge, header):
    headers = {} if header is None else {"Authorization": header}
    response = api(
        client, "POST", f"/api/groups/{lounge}/messages", None, json={"text": "hi"}, headers=headers
    )
    assert response.status_code == 401
    assert error_code(response) in ("no_token", "invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_browsers_cookie_is_not_accepted(client, staff, lounge):
    staff.join(lounge)
    response = staff.post(f"/api/groups/{lounge}/messages", {"text": "hi"}, csrf=False)
    assert response.status_code == 401


def test_a_new_token_ends_the_old_one_and_revoking_ends_it(client, staff, helper, lounge):
    bot_id, old = helper
    new = (
        html(staff.post(f"/admin/bots/{bot_id}/token")).css_first("#bot-token").attributes["value"]
    )
    url = f"/api/groups/{lounge}/messages"
    assert api(client, "POST", url, old, json={"text": "old"}).status_code == 401
    assert api(client, "POST", url, new, json={"text": "new"}).status_code == 201
    assert staff.post(f"/admin/bots/{bot_id}/token/revoke").status_code == 303
    assert api(client, "POST", url, new, json={"text": "after"}).status_code == 401
    lines = html(staff.get("/admin/audit")).text()
    assert "made a new API token for the bot" in lines and "revoked the API token" in lines


def test_where_the_bot_may_not_post(client, staff, helper, make_group, lounge):
    _, token = helper
    elsewhere = make_group("Elsewhere")
    secret = make_group("Secret")
    staff.join(secret)
    staff.post(f"/admin/groups/{secret}/private", {"private": "1"})
    cases = {
        f"/api/groups/{elsewhere}/messages": (403, "not_a_member"),
        f"/api/groups/{secret}/messages": (404, "no_such_group"),
        "/api/groups/not-a-group/messages": (404, "no_such_group"),
    }
    for path, (status, code) in cases.items():
        for method in ("POST", "GET"):
            response = api(client, method, path, token, json={"text": "hi"})
            assert (response.status_code, error_code(response)) == (status, code), path
    staff.post(f"/admin/groups/{lounge}/archive", {"archived": "1"})
    archived = api(client, "POST", f"/api/groups/{lounge}/messages", token, json={"text": "hi"})
    assert (archived.status_code, error_code(archived)) == (403, "archived")


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"content": "x" * 20_000, "headers": {"Content-Type": "text/plain"}}, 413, "too_large"),
        (
            {"content": "<b>hi</b>", "headers": {"Content-Type": "text/html"}},
            415,
            "unsupported_type",
        ),
        (
            {"content": "{not json", "headers": {"Content-Type": "application/json"}},
            422,
            "invalid_json",
        ),
        ({"json": ["text"]}, 422, "invalid_json"),
        ({"json": {"text": 42}}, 422, "invalid_text"),
        ({"json": {"text": "   "}}, 422, "invalid_text"),
        ({"json": {"text": "x" * (limits.MESSAGE_MAX + 1)}}, 422, "invalid_text"),
        ({"json": {"text": "a\x00b"}}, 422, "invalid_text"),
        ({"json": {"text": "hi", "reply_to": 999}}, 422, "no_such_message"),
    ],
)
def test_bad_bodies_get_clear_errors_and_store_nothing(
    client, helper, lounge, kwargs, status, code
):
    _, token = helper
    response = api(client, "POST", f"/api/groups/{lounge}/messages", token, **kwargs)
    assert (response.status_code, error_code(response)) == (status, code)
    assert response.json()["error"]["message"]
    listed = api(client, "GET", f"/api/groups/{lounge}/messages", token).json()["messages"]
    assert listed == []


def test_a_bot_has_a_budget_of_requests(settings):
    tight = dataclasses.replace(settings, api_requests_per_bot=Rate(2, 60))
    with TestClient(create_app(tight), base_url="http://testserver") as client:
        freeze_limits(client)  # (one window for all three requests)
        ana = Browser(client)
        ana.sign_up("ana")
        factories.make_staff(client, "ana")
        group = factories.make_group(client, "Ops")
        bot_id, token = make_bot(ana)
        add_bot(ana, bot_id, group)
        answers = [api(client, "GET", f"/api/groups/{group}/messages", token) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert error_code(answers[2]) == "rate_limited" and int(answers[2].headers["retry-after"]) > 0


def test_a_bot_never_logs_in_and_a_deactivated_bot_is_refused(client, staff, helper, lounge):
    bot_id, token = helper
    assert Browser(client).log_in("helper", PASSWORD).status_code == 400
    assert staff.post(f"/admin/people/{bot_id}/active", {"active": "off"}).status_code == 303
    refused = api(client, "POST", f"/api/groups/{lounge}/messages", token, json={"text": "hi"})
    assert refused.status_code == 401


def test_bot_names_follow_the_text_policy_and_are_nobody_elses(client, staff):
    for username, name, problem in [
        ("alice", "", "already called"),
        ("x", "", "Usernames"),
        ("newbot", "alice", "already called"),
    ]:
        refused = staff.post("/admin/bots", {"username": username, "name": name})
        assert refused.status_code == 400
        assert problem in html(refused).css_first(".form__error").text()
