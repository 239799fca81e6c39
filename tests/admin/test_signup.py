"""The sign-up policy from the staff area: open to anyone (the default), or by invitation, where
only the join link's code lets a sign-up through; a new link ends the old one at once. Every
change is in the audit log."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests import factories
from tests.helpers import PASSWORD, Browser, html


@pytest.fixture
def staff(client, alice) -> Browser:  # type: ignore[no-untyped-def]
    factories.make_staff(client, "alice")
    return alice


def join_link(staff: Browser) -> str:
    field = html(staff.get("/admin/signup")).css_first("#join-link")
    assert field is not None
    url = urlsplit(field.attributes["value"] or "")
    return f"{url.path}?{url.query}"


def sign_up_at(client, path: str, name: str):  # type: ignore[no-untyped-def]
    visitor = Browser(client)
    page = visitor.get(path)
    if page.status_code != 200:
        return page
    action = html(page).css_first("form.form").attributes["action"] or ""
    form = {"username": name, "password": PASSWORD, "password2": PASSWORD}
    return visitor.post(action, form)


def test_by_invitation_only_the_join_link_signs_up(client, staff):
    assert sign_up_at(client, "/signup", "early").status_code == 303  # open by default
    done = staff.post("/admin/signup/policy", {"policy": "invite"})
    assert done.headers["location"] == "/admin/signup?done=invite"
    closed = sign_up_at(client, "/signup", "stranger")
    assert closed.status_code == 403
    assert "by invitation" in closed.text
    assert sign_up_at(client, "/signup?code=guess", "guesser").status_code == 403
    link = join_link(staff)
    assert parse_qs(urlsplit(link).query)["code"]
    assert sign_up_at(client, link, "invited").status_code == 303
    # Posting straight to the form's address without the code is refused too.
    bare = Browser(client).post(
        "/signup", {"username": "sneaky", "password": PASSWORD, "password2": PASSWORD}
    )
    assert bare.status_code == 403


def test_a_new_join_link_ends_the_old_one_at_once(client, staff):
    staff.post("/admin/signup/policy", {"policy": "invite"})
    old = join_link(staff)
    assert staff.post("/admin/signup/rotate").status_code == 303
    new = join_link(staff)
    assert new != old
    assert sign_up_at(client, old, "late").status_code == 403
    assert sign_up_at(client, new, "ontime").status_code == 303
    staff.post("/admin/signup/policy", {"policy": "open"})
    assert sign_up_at(client, "/signup", "anyone").status_code == 303
    lines = [
        " ".join(n.text().split()) for n in html(staff.get("/admin/audit")).css(".audit__line")
    ]
    assert [line.split(" ", 3)[-1] for line in lines] == [
        "alice opened sign-up to anyone",
        "alice made a new join link",
        "alice made sign-up by invitation",
    ]


def test_only_staff_change_the_policy(client, staff, bob):
    assert bob.get("/admin/signup").status_code == 403
    assert bob.post("/admin/signup/policy", {"policy": "invite"}).status_code == 403
    assert bob.post("/admin/signup/rotate").status_code == 403
    assert staff.post("/admin/signup/policy", {"policy": "closed"}).status_code == 400
