"""The staff area's groups: every group with its member count; a group's members, whom staff
can remove (their open pages of the group close at once, as if they had left; the others see
them leave); each removal is in the audit log."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from tests import factories
from tests.helpers import Browser, drain, html, receive_text, receive_until, resume


@pytest.fixture
def staff(client, alice) -> Browser:  # type: ignore[no-untyped-def]
    factories.make_staff(client, "alice")
    return alice


def test_only_staff_see_and_remove(client, bob, lounge):
    bob.join(lounge)
    me = factories.user(client, "bob").id
    for path in ["/admin/groups", f"/admin/groups/{lounge}"]:
        assert bob.get(path).status_code == 403
    assert bob.post(f"/admin/groups/{lounge}/members/{me}/remove").status_code == 403


def test_staff_remove_a_member_whose_page_is_open(client, staff, bob, mallory, lounge):
    bob.join(lounge)
    mallory.join(lounge)
    listed = html(staff.get("/admin/groups"))
    assert [n.text() for n in listed.css(".person__name")] == ["Lounge"]
    assert "2 members" in listed.css_first(".person__joined").text()
    bob_id = factories.user(client, "bob").id
    with bob.socket(lounge) as ws, mallory.socket(lounge) as other:
        resume(ws, 0)
        resume(other, 0)
        drain(ws, quiet=0.2)
        drain(other, quiet=0.2)
        done = staff.post(f"/admin/groups/{lounge}/members/{bob_id}/remove")
        assert done.status_code == 303
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                receive_text(ws, timeout=2)
        assert closed.value.code == 1008
        assert receive_until(other, r"bob</strong>\s*left")  # the others see bob leave
    page = html(staff.get(done.headers["location"]))
    assert "bob is no longer a member" in page.css_first(".admin__done").text()
    assert [n.text() for n in page.css(".person__name")] == ["mallory"]
    assert bob.get(f"/groups/{lounge}/").status_code == 403
    audit = html(staff.get("/admin/audit")).css_first(".audit__line").text(separator=" ")
    assert "alice removed from a group bob" in " ".join(audit.split())
    assert "Lounge" in audit


def test_removing_someone_who_is_not_a_member_changes_nothing(client, staff, bob, lounge):
    bob_id = factories.user(client, "bob").id
    assert staff.post(f"/admin/groups/{lounge}/members/{bob_id}/remove").status_code == 303
    assert html(staff.get("/admin/audit")).css(".audit__line") == []
    assert staff.post(f"/admin/groups/{lounge}/members/99999/remove").status_code == 404
    assert staff.get("/admin/groups/not-a-group").status_code == 404


def test_a_removal_names_the_member_as_pages_show_them(client, staff, bob, mallory, lounge):
    bob.post("/account/profile", {"display_name": "Robert B", "bio": ""})
    bob.join(lounge)
    mallory.join(lounge)
    bob_id = factories.user(client, "bob").id
    with mallory.socket(lounge) as other:
        resume(other, 0)
        drain(other, quiet=0.2)
        staff.post(f"/admin/groups/{lounge}/members/{bob_id}/remove")
        assert receive_until(other, r"Robert B</strong>\s*left")
