"""The staff area's people: only staff reach it; staff find people by name, make them staff or
not, deactivate them (no login, every login ended at once, their open pages closed, their
messages kept under their name) and reactivate them; every action is in the audit log."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from tests import factories
from tests.helpers import Browser, drain, html, receive_text, resume

ADMIN_PAGES = ["/admin", "/admin/people", "/admin/audit"]


@pytest.fixture
def staff(client, alice) -> Browser:  # type: ignore[no-untyped-def]
    factories.make_staff(client, "alice")
    return alice


def person(browser: Browser, name: str):  # type: ignore[no-untyped-def]
    page = html(browser.get("/admin/people?q=" + name))
    for node in page.css("li.person"):
        if node.css_first(".person__name").text() == name:
            return node
    raise AssertionError(f"{name} not listed")


def act(browser: Browser, name: str, button: str):  # type: ignore[no-untyped-def]
    node = person(browser, name)
    form = next(f for f in node.css("form") if button in f.css_first("button").text())
    fields = {i.attributes["name"]: i.attributes["value"] for i in form.css("input[type=hidden]")}
    return browser.post(form.attributes["action"] or "", fields)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_only_staff_reach_the_staff_area(client, bob, path):
    assert bob.get(path, follow_redirects=False).status_code == 403
    assert Browser(client).get(path, follow_redirects=False).status_code == 303  # to log in


@pytest.mark.parametrize("path", ["/admin/people/1/staff", "/admin/people/1/active"])
def test_only_staff_act(client, staff, bob, path):
    assert bob.post(path, {"staff": "on", "active": "off"}).status_code == 403


def test_staff_find_people_and_make_them_staff_or_not(client, staff, bob, mallory):
    page = html(staff.get("/admin/people"))
    assert [n.text() for n in page.css(".person__name")] == ["alice", "bob", "mallory"]
    assert [n.text() for n in html(staff.get("/admin/people?q=MAL")).css(".person__name")] == [
        "mallory"
    ]
    assert person(staff, "alice").css_first(".person__you") is not None  # no buttons on oneself
    done = act(staff, "bob", "Make staff")
    assert done.status_code == 303
    shown = html(staff.get(done.headers["location"]))
    assert shown.css_first(".admin__done").text() == "bob is now staff."
    assert bob.get("/admin/people").status_code == 200  # at once
    assert "Staff area" in bob.get("/").text
    act(staff, "bob", "Remove from staff")
    assert bob.get("/admin/people").status_code == 403


def test_staff_cannot_remove_their_own_role_or_deactivate_themselves(client, staff):
    me = factories.user(client, "alice").id
    assert staff.post(f"/admin/people/{me}/staff", {"staff": "off"}).status_code == 400
    assert staff.post(f"/admin/people/{me}/active", {"active": "off"}).status_code == 400
    assert staff.post("/admin/people/99999/staff", {"staff": "on"}).status_code == 404
    assert staff.post(f"/admin/people/{me}/staff", {"staff": "maybe"}).status_code == 400


def test_deactivating_ends_every_login_and_closes_open_pages_at_once(client, staff, bob, lounge):
    bob.join(lounge)
    seq = factories.client_store(client, lounge, "bob", "a message that stays").seq
    with bob.socket(lounge) as ws:
        resume(ws, 0)
        drain(ws, quiet=0.2)
        assert act(staff, "bob", "Deactivate").status_code == 303
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                receive_text(ws, timeout=2)
    assert closed.value.code == 1008
    assert bob.get("/", follow_redirects=False).status_code == 303
    refused = bob.log_in("bob")
    assert refused.status_code == 403
    assert "deactivated" in html(refused).css_first(".form__error").text()
    staff.join(lounge)
    page = html(staff.get(f"/groups/{lounge}/"))
    message = page.css_first(f"#entry-{seq}")
    assert message is not None and message.css_first(".message__author").text() == "bob"
    assert "deactivated" in person(staff, "bob").css_first(".person__roles").text()
    act(staff, "bob", "Reactivate")
    assert bob.log_in("bob").status_code == 303


def test_every_staff_action_is_in_the_audit_log_newest_first(client, staff, bob):
    act(staff, "bob", "Make staff")
    act(staff, "bob", "Remove from staff")
    act(staff, "bob", "Deactivate")
    page = html(staff.get("/admin/audit"))
    lines = [n.text(separator=" ", strip=True) for n in page.css(".audit__line")]
    expected = ["alice deactivated bob", "alice removed from staff bob", "alice made staff bob"]
    assert len(lines) == len(expected)
    for line, what in zip(lines, expected, strict=True):
        assert line.endswith(what), line


def test_logins_refused_past_the_limit_are_audited_once_per_window(settings):
    import dataclasses

    from starlette.testclient import TestClient

    from discussit.app import create_app
    from discussit.settings import Rate
    from tests.helpers import freeze_limits

    tight = dataclasses.replace(settings, login_attempts_per_user=Rate(2, 180))
    with TestClient(create_app(tight), base_url="http://testserver") as client:
        freeze_limits(client)
        staff = Browser(client)
        staff.sign_up("alice")
        factories.make_staff(client, "alice")
        Browser(client).sign_up("bob")
        answers = [Browser(client).log_in("bob", "wrong-password-1").status_code for _ in range(5)]
        assert answers == [400, 400, 429, 429, 429]
        lines = [
            " ".join(n.text(separator=" ").split())
            for n in html(staff.get("/admin/audit")).css(".audit__line")
        ]
    refused = [line for line in lines if "logins refused" in line]
    assert len(refused) == 1  # three refusals, one line
    assert "bob had logins refused, past the limit of tries, from" in refused[0]
