"""Private groups: only members see one (home page, search, its pages); to anyone else it does
not exist (404, never 403); nobody joins by themselves: a member or staff adds people, who then
have it like any group (history, live, catch-up)."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from tests import factories
from tests.helpers import Browser, html, receive_text, receive_until, resume, say


@pytest.fixture
def staff(client, alice) -> Browser:  # type: ignore[no-untyped-def]
    factories.make_staff(client, "alice")
    return alice


@pytest.fixture
def vault(client, staff, bob, make_group):  # type: ignore[no-untyped-def]
    """A private group whose one member is bob."""
    group = make_group("Vault", "Secrets")
    bob.join(group)
    assert staff.post(f"/admin/groups/{group}/private", {"private": "1"}).status_code == 303
    return group


def group_names(browser: Browser) -> list[str]:
    return [n.text().strip() for n in html(browser.get("/")).css(".group__name")]


def test_only_members_see_a_private_group(client, staff, bob, mallory, vault):
    factories.client_store(client, vault, "bob", "the combination is 1234")
    assert any("Vault" in name for name in group_names(bob))
    assert not any("Vault" in name for name in group_names(mallory))
    assert not any("Vault" in name for name in group_names(staff))  # (staff: the staff area)
    for path in [
        f"/groups/{vault}/",
        f"/groups/{vault}/history?before=5",
        f"/groups/{vault}/messages/1",
        f"/groups/{vault}/members/suggest?q=b",
        f"/groups/{vault}/people/suggest?username=m",
    ]:
        assert mallory.get(path).status_code == 404, path
    assert mallory.join(vault).status_code == 404
    assert mallory.post(f"/groups/{vault}/members/add", {"username": "mallory"}).status_code == 404
    assert html(mallory.get("/search?q=combination")).css(".hit") == []
    assert html(bob.get("/search?q=combination")).css(".hit") != []
    with mallory.socket(vault) as ws, pytest.raises(WebSocketDisconnect) as closed:
        receive_text(ws)
    assert closed.value.code == 1008
    assert "Vault" in html(staff.get("/admin/groups")).text()


def test_a_member_adds_someone_who_then_has_it_like_any_group(client, bob, mallory, vault):
    page = html(bob.get(f"/groups/{vault}/"))
    assert page.css_first("form.add-people") is not None
    options = html(bob.get(f"/groups/{vault}/people/suggest?username=mal")).css("option")
    assert [o.attributes["value"] for o in options] == ["mallory"]
    assert html(bob.get(f"/groups/{vault}/people/suggest?username=bo")).css("option") == []
    with bob.socket(vault) as ws:
        resume(ws, 0)
        added = bob.post(
            f"/groups/{vault}/members/add", {"username": "Mallory", "next": f"/groups/{vault}/"}
        )
        assert added.status_code == 303
        assert receive_until(ws, r"mallory</strong>\s*joined")
    assert any("Vault" in name for name in group_names(mallory))
    with mallory.socket(vault) as ws:
        resume(ws, 0)
        say(ws, "thanks for having me")
        assert receive_until(ws, "thanks for having me")
    assert mallory.leave(vault).status_code == 303
    assert mallory.get(f"/groups/{vault}/").status_code == 404  # gone again


@pytest.mark.parametrize(
    ("username", "problem"),
    [("nobody", "No one here is called"), ("bob", "already a member"), ("  ", "Type the")],
)
def test_adding_someone_who_cannot_be_added_says_why(client, bob, vault, username, problem):
    refused = bob.post(f"/groups/{vault}/members/add", {"username": username})
    assert refused.status_code == 400
    assert problem in refused.text


def test_people_are_added_to_private_groups_only(client, bob, mallory, lounge):
    bob.join(lounge)
    refused = bob.post(f"/groups/{lounge}/members/add", {"username": "mallory"})
    assert refused.status_code == 403
    assert html(bob.get(f"/groups/{lounge}/")).css_first("form.add-people") is None


def test_staff_add_people_from_the_staff_area(client, staff, mallory, vault):
    page = html(staff.get(f"/admin/groups/{vault}"))
    assert page.css_first("form.add-people") is not None
    added = staff.post(
        f"/groups/{vault}/members/add", {"username": "mallory", "next": f"/admin/groups/{vault}"}
    )
    assert added.status_code == 303
    assert added.headers["location"].startswith(f"/admin/groups/{vault}?added=")
    assert mallory.get(f"/groups/{vault}/").status_code == 200


def test_making_a_group_public_again_lists_it_for_everyone(client, staff, mallory, vault):
    assert staff.post(f"/admin/groups/{vault}/private", {"private": "0"}).status_code == 303
    assert any("Vault" in name for name in group_names(mallory))
    assert mallory.join(vault).status_code == 303


def test_leaving_a_private_group_one_is_not_in_is_a_404(client, mallory, vault):
    assert mallory.leave(vault).status_code == 404


def test_adding_someone_is_in_the_audit_log(client, staff, bob, mallory, vault):
    bob.post(f"/groups/{vault}/members/add", {"username": "mallory"})
    lines = [
        " ".join(n.text(separator=" ").split())
        for n in html(staff.get("/admin/audit")).css(".audit__line")
    ]
    assert "bob added to a private group mallory Vault" in lines[0]
