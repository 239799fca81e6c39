"""Staff change a group: its name and description (live on its open pages), archive it (read-only:
history readable, no posting, changing or joining; its open pages stop) and reopen it, and
delete it (typed confirmation; its open pages close, everything in it goes). Each change is in
the audit log; bad input changes nothing."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from tests import factories
from tests.helpers import Browser, drain, html, receive_text, receive_until, resume, say


@pytest.fixture
def staff(client, alice) -> Browser:  # type: ignore[no-untyped-def]
    factories.make_staff(client, "alice")
    return alice


def audit_lines(staff: Browser) -> list[str]:
    page = html(staff.get("/admin/audit"))
    return [" ".join(n.text(separator=" ").split()) for n in page.css(".audit__line")]


def closed_with(ws, pattern: str) -> str:  # type: ignore[no-untyped-def]
    """What the socket sent until it closed (1008), which must match `pattern`."""
    frames = []
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            frames.append(receive_text(ws, timeout=3))
    assert closed.value.code == 1008
    sent = "".join(frames)
    assert pattern in sent, sent
    return sent


def test_only_staff_change_groups(client, bob, lounge):
    bob.join(lounge)
    for action, data in [
        ("edit", {"name": "Mine", "description": ""}),
        ("archive", {"archived": "1"}),
        ("private", {"private": "1"}),
        ("delete", {"confirm": "Lounge"}),
    ]:
        assert bob.post(f"/admin/groups/{lounge}/{action}", data).status_code == 403
    assert html(bob.get(f"/groups/{lounge}/")).css_first("h1").text().strip() == "Lounge"


def test_a_new_name_and_description_reach_open_pages_at_once(client, staff, bob, lounge):
    bob.join(lounge)
    with bob.socket(lounge) as ws:
        resume(ws, 0)
        drain(ws, quiet=0.2)
        done = staff.post(
            f"/admin/groups/{lounge}/edit", {"name": "Parlour", "description": "Tea at four"}
        )
        assert done.status_code == 303
        frame = receive_until(ws, "group-title")[-1]
        assert "Parlour" in frame and "Tea at four" in frame
    page = html(bob.get(f"/groups/{lounge}/"))
    assert page.css_first(".group-header__name").text().strip() == "Parlour"
    assert "Parlour" in html(bob.get("/")).text()
    assert any("renamed or described the group Lounge" in line for line in audit_lines(staff))


@pytest.mark.parametrize(
    ("name", "problem"),
    [("   ", "cannot be empty"), ("Hall", "Another group is called"), ("a\x00b", "control")],
)
def test_a_bad_or_taken_name_changes_nothing(client, staff, make_group, lounge, name, problem):
    make_group("Hall")
    refused = staff.post(f"/admin/groups/{lounge}/edit", {"name": name, "description": "x"})
    assert refused.status_code == 400
    assert problem in html(refused).css_first(".form__error").text()
    assert (
        html(staff.get(f"/admin/groups/{lounge}")).css_first("input[name=name]").attributes["value"]
        == "Lounge"
    )
    assert audit_lines(staff) == []


def test_an_archived_group_is_read_only_and_its_open_pages_stop(
    client, staff, bob, mallory, lounge
):
    bob.join(lounge)
    with bob.socket(lounge) as ws:
        resume(ws, 0)
        say(ws, "before the archive")
        receive_until(ws, "before the archive")
        assert staff.post(f"/admin/groups/{lounge}/archive", {"archived": "1"}).status_code == 303
        closed_with(ws, "This group is archived")
    page = html(bob.get(f"/groups/{lounge}/"))
    assert "before the archive" in page.text()  # history stays readable
    assert page.css_first("#composer") is None and page.css_first("[hx-ws\\:connect]") is None
    assert "archived" in page.css_first(".group-header__name").text()
    refused = bob.post(f"/groups/{lounge}/messages", {"text": "after", "client_message_id": ""})
    assert refused.status_code == 403
    assert "archived" in refused.text
    assert mallory.join(lounge).status_code == 403
    with bob.socket(lounge) as ws, pytest.raises(WebSocketDisconnect) as refused_socket:
        receive_text(ws)
    assert refused_socket.value.code == 1008
    row = html(mallory.get("/")).css_first("li.group")
    assert "archived" in row.text() and row.css_first("button") is None  # no Join

    assert staff.post(f"/admin/groups/{lounge}/archive", {"archived": "0"}).status_code == 303
    assert bob.post(f"/groups/{lounge}/messages", {"text": "open again"}).status_code == 303
    assert mallory.join(lounge).status_code == 303
    lines = audit_lines(staff)
    assert "reopened the group Lounge" in lines[0] and "archived the group Lounge" in lines[1]


def test_editing_or_reacting_in_an_archived_group_is_refused(client, staff, bob, lounge):
    bob.join(lounge)
    entry = factories.client_store(client, lounge, "bob", "typo")
    staff.post(f"/admin/groups/{lounge}/archive", {"archived": "1"})
    edit = bob.post(f"/groups/{lounge}/messages/{entry.seq}/edit", {"text": "fixed"})
    assert edit.status_code == 403
    react = bob.post(f"/groups/{lounge}/messages/{entry.seq}/reactions", {"emoji": "👍"})
    assert react.status_code == 403
    assert "typo" in bob.get(f"/groups/{lounge}/").text


def test_deleting_needs_the_name_typed_then_removes_it_everywhere(
    client, staff, bob, make_group, lounge, settings
):
    bob.join(lounge)
    factories.client_store(client, lounge, "bob", "findable words here")
    refused = staff.post(f"/admin/groups/{lounge}/delete", {"confirm": "lounge"})
    assert refused.status_code == 400
    assert "type the group's name exactly" in html(refused).css_first(".form__error").text()
    assert bob.get(f"/groups/{lounge}/").status_code == 200
    with bob.socket(lounge) as ws:
        resume(ws, 0)
        drain(ws, quiet=0.2)
        done = staff.post(f"/admin/groups/{lounge}/delete", {"confirm": "Lounge"})
        assert done.status_code == 303
        closed_with(ws, "This group was deleted")
    assert bob.get(f"/groups/{lounge}/").status_code == 404
    assert "Lounge" not in html(bob.get("/")).text()
    assert html(bob.get("/search?q=findable")).css(".hit") == []
    assert "The group is deleted" in html(staff.get(done.headers["location"])).text()
    assert any("deleted the group Lounge" in line for line in audit_lines(staff))
    if settings.database_url.startswith("sqlite"):  # the search index lost its messages too
        from sqlalchemy import create_engine, text

        engine = create_engine(settings.database_url)
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO messages_fts(messages_fts, rank) VALUES('integrity-check', 1)")
            )
            found = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'findable'"
            assert conn.execute(text(found)).scalar() == 0
        engine.dispose()


def test_an_archived_page_offers_no_message_actions(client, staff, bob, lounge):
    bob.join(lounge)
    entry = factories.client_store(client, lounge, "bob", "keep me")
    staff.post(f"/admin/groups/{lounge}/archive", {"archived": "1"})
    page = html(bob.get(f"/groups/{lounge}/?around={entry.seq}"))
    assert page.css_first("#message-tools") is None and page.css_first(".message-actions") is None
