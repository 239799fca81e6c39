"""The home page directory, joining and leaving, and a group's page, through HTTP."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from discussit import limits
from discussit.timeline import events
from tests import factories
from tests import figures as figs
from tests.helpers import Browser, freeze_limits, html


def _buttons(page, group_id) -> list[str]:
    row = html(page).css_first(f"#group-{group_id}")
    return [n.text(strip=True) for n in row.css(".group__actions button, .group__actions a")]


def test_home_lists_every_group_with_description_count_and_join(alice, make_group):
    first, second = make_group("Alpha", "First group"), make_group("Beta", "Second group")
    page = alice.get("/")
    rows = html(page).css(".group")
    assert [r.css_first(".group__name").text(strip=True) for r in rows] == ["Alpha", "Beta"]
    assert html(page).css_first(f"#group-{first} .group__description").text() == "First group"
    assert html(page).css_first(f"#group-{second}-count").text() == "0 members"
    assert _buttons(page, first) == ["Join"]


def test_joining_with_javascript_off_posts_and_redirects_back(alice, lounge):
    response = alice.join(lounge)
    assert response.status_code == 303 and response.headers["location"] == "/"
    page = alice.get("/")
    assert _buttons(page, lounge) == ["Open", "Mark as read", "Leave"]  # (the middle one
    # shows only while something is unread: base.css)
    assert html(page).css_first(f"#group-{lounge}-count").text() == "1 member"


def test_joining_with_htmx_returns_just_that_groups_row(alice, lounge):
    response = alice.join(lounge, headers={"HX-Request": "true"})
    assert response.status_code == 200
    row = html(response).css_first("li.group")
    assert row.attributes["id"] == f"group-{lounge}"
    assert "<html" not in response.text
    assert [b.text(strip=True) for b in row.css("button, a.button")] == [
        "Open",
        "Mark as read",
        "Leave",
    ]
    left = alice.leave(lounge, headers={"HX-Request": "true"})
    assert [b.text(strip=True) for b in html(left).css("button")] == ["Join"]


def test_dlv7_joining_twice_or_leaving_twice_records_one_event_each(
    client, alice, lounge, monkeypatch
):
    monkeypatch.setattr(events, "EVENT_COLLAPSE_SECONDS", 0)  # every change a line of its own
    for _ in range(2):
        alice.join(lounge)
    for _ in range(2):
        alice.leave(lounge)
    alice.join(lounge)
    page = html(alice.get(f"/groups/{lounge}/"))
    lines = [n.text(separator=" ", strip=True) for n in page.css(".event__text")]
    assert lines == ["alice joined", "alice left", "alice joined"]


def test_budget_repeated_joins_and_leaves_collapse_to_one_line_and_are_limited(
    client, alice, bob, lounge
):
    """Ten quick joins and leaves leave one line in the history, after the last message, and
    push no message off the page; past the budget a join is refused (429)."""
    freeze_limits(client)
    bob.join(lounge)
    factories.post_messages(client, lounge, "bob", 3)
    for _ in range(5):
        alice.join(lounge)
        alice.leave(lounge)
    alice.join(lounge)
    page = html(alice.get(f"/groups/{lounge}/"))
    lines = [n.text(separator=" ", strip=True) for n in page.css(".event__text")]
    assert lines == ["bob joined", "alice joined"]
    assert [n.text() for n in page.css(".message__body")] == ["m0", "m1", "m2"]
    answers = [alice.leave(lounge).status_code for _ in range(20)]
    assert 429 in answers
    refused = alice.leave(lounge)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "too fast" in refused.text
    for case in ("joins and leaves per user", "repeated joins and leaves collapsed"):
        figs.add("budget", "cases_tried")
        figs.add("budget", "cases_held")
        figs.FIGURES["budget"].setdefault("cases", []).append(case)  # type: ignore[union-attr]


def test_leaving_from_the_group_page_goes_home(alice, lounge):
    alice.join(lounge)
    response = alice.post(f"/groups/{lounge}/membership/delete", {"next": f"/groups/{lounge}/"})
    assert response.headers["location"] == "/"
    assert _buttons(alice.get("/"), lounge) == ["Join"]


@pytest.mark.parametrize(
    "bad", ["00000000-0000-4000-8000-00000000dead", "not-a-uuid", "x" * 10_000]
)
def test_unknown_or_malformed_groups_are_404(alice, bad):
    for path in (f"/groups/{bad}/", f"/groups/{bad}/history?before=2"):
        response = alice.get(path)
        assert response.status_code == 404
        assert "There is nothing here" in response.text
    assert alice.join(bad).status_code == 404


def test_a_non_member_gets_a_403_page_with_a_join_button(alice, bob, lounge):
    alice.join(lounge)
    factories.post_messages(alice.client, lounge, "alice", 3, prefix="secret-")
    page = bob.get(f"/groups/{lounge}/")
    assert page.status_code == 403
    assert "secret-" not in page.text and "alice" not in page.text.split("<main")[1]
    form = html(page).css_first("main form")
    assert form.attributes["action"] == f"/groups/{lounge}/membership"
    assert form.css_first("button").text(strip=True) == "Join"
    response = bob.post(form.attributes["action"], {"next": f"/groups/{lounge}/"})
    assert response.headers["location"] == f"/groups/{lounge}/"
    assert bob.get(f"/groups/{lounge}/").status_code == 200


def test_a_non_member_cannot_read_older_history_either(alice, bob, lounge):
    alice.join(lounge)
    factories.post_messages(alice.client, lounge, "alice", 3, prefix="secret-")
    response = bob.get(f"/groups/{lounge}/history?before=4")
    assert response.status_code == 403 and "secret-" not in response.text


def test_a_member_sees_messages_and_events_in_order_with_times(client, alice, bob, lounge):
    alice.join(lounge)
    factories.post_messages(client, lounge, "alice", 2, prefix="hello-")
    bob.join(lounge)
    factories.post_messages(client, lounge, "bob", 1, prefix="hi-")
    bob.leave(lounge)
    page = html(alice.get(f"/groups/{lounge}/"))
    lines = [
        " ".join(n.text(separator=" ", strip=True).split()) for n in page.css("#timeline > li")
    ]
    assert [re.sub(r" ?\d{4}-\d\d-\d\d \d\d:\d\d UTC", "", line) for line in lines] == [
        "alice joined",
        "alice hello-0",
        "alice hello-1",
        "bob joined",
        "New messages",  # alice's first visit since bob's message: where her unread begin
        "bob hi-0",
        "bob left",
    ]
    assert all(t.attributes["datetime"].endswith("Z") for t in page.css("#timeline time"))
    assert [m.text(strip=True) for m in page.css("#members .member__name")] == ["alice"]
    assert page.css_first("#composer textarea[name=text]") is not None
    assert page.css_first("#composer button").text(strip=True) == "Send"
    assert page.css_first("#last-seq").attributes["value"] == "6"
    assert page.css_first("#chat").attributes["hx-ws:connect"] == f"/groups/{lounge}/ws"


def test_history_is_paged_and_load_older_fetches_the_previous_page(client, alice, lounge):
    alice.join(lounge)  # seq 1
    factories.post_messages(client, lounge, "alice", 120)  # seq 2..121
    page = html(alice.get(f"/groups/{lounge}/"))
    shown = [int(li.attributes["data-seq"]) for li in page.css("#timeline > li[data-seq]")]
    assert shown == list(range(72, 122))  # the latest 50, no more
    older = page.css_first("#load-older a")
    assert older.attributes["href"] == f"/groups/{lounge}/?before=72"
    fragment = alice.get(older.attributes["hx-get"], headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    got = [int(s) for s in re.findall(r'data-seq="(\d+)"', fragment.text)]
    assert got == list(range(22, 72))
    nxt = html(fragment).css_first("#load-older a").attributes["hx-get"]
    last = alice.get(nxt, headers={"HX-Request": "true"})
    assert [int(s) for s in re.findall(r'data-seq="(\d+)"', last.text)] == list(range(1, 22))
    assert "load-older" not in last.text


def test_older_pages_work_without_javascript_and_link_back_to_the_latest(client, alice, lounge):
    alice.join(lounge)
    factories.post_messages(client, lounge, "alice", 60)
    page = html(alice.get(f"/groups/{lounge}/?before=20"))
    shown = [int(li.attributes["data-seq"]) for li in page.css("#timeline > li[data-seq]")]
    assert shown == list(range(1, 20))
    assert page.css_first("#chat").attributes.get("hx-ws:connect") is None
    assert page.css_first(".timeline__latest a").attributes["href"] == f"/groups/{lounge}/"


@pytest.mark.parametrize("before", ["abc", "-1", "1e9", "9" * 40])
def test_bad_page_cursors_are_a_clear_400(alice, lounge, before):
    alice.join(lounge)
    assert alice.get(f"/groups/{lounge}/?before={before}").status_code == 400


class QueryCounter:
    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *args) -> None:  # type: ignore[no-untyped-def]
        self.count += 1


@pytest.mark.slow
def test_a_group_page_costs_the_same_queries_whatever_its_size(client, alice, lounge, make_group):
    """Members, messages, replies and reactions: the page shows each message as it is now
    (edits, reactions, the message it answers) in a fixed number of queries."""
    counter = QueryCounter(client.app_state["db"].engine)
    alice.join(lounge)
    small = make_group("Small")
    alice.join(small)

    def cost(path: str) -> int:
        counter.count = 0
        assert alice.get(path).status_code == 200
        return counter.count

    def answered_and_reacted(group, count: int) -> None:  # type: ignore[no-untyped-def]
        first = factories.client_store(client, group, "alice", "first").seq
        for i in range(count):
            alice.post(f"/groups/{group}/messages", {"text": f"re {i}", "reply_to": str(first)})
            alice.post(f"/groups/{group}/messages/{first + i}/reactions", {"emoji": "👍"})

    for i in range(30):
        Browser(client).sign_up(f"member{i}")
        factories.add_member(client, lounge, f"member{i}")
    factories.post_messages(client, lounge, "alice", 300)
    answered_and_reacted(lounge, 25)  # (within the message budget: 30 in 10 s)
    answered_and_reacted(small, 1)
    assert cost(f"/groups/{lounge}/") == cost(f"/groups/{small}/") <= 10


def test_the_home_page_costs_the_same_queries_whatever_the_number_of_groups(client, alice):
    counter = QueryCounter(client.app_state["db"].engine)

    def cost() -> int:
        counter.count = 0
        assert alice.get("/").status_code == 200
        return counter.count

    factories.many_groups(client, 3)
    few = cost()
    factories.many_groups(client, 100, prefix="More")
    assert cost() == few <= 3


def test_the_home_page_shows_groups_a_page_at_a_time(client, alice):
    full = limits.DIRECTORY_PAGE
    factories.many_groups(client, 2 * full + 5)
    names = []
    url = "/"
    for size, links in (
        (full, ["More groups"]),
        (full, ["First groups", "More groups"]),
        (5, ["First groups"]),
    ):
        page = html(alice.get(url))
        rows = [r.text(strip=True) for r in page.css(".group__name")]
        assert len(rows) == size
        names += rows
        pager = {a.text(strip=True): a.attributes["href"] for a in page.css(".pager a")}
        assert list(pager) == links
        url = pager.get("More groups", "")
    assert names == [f"Group {i:04d}" for i in range(2 * limits.DIRECTORY_PAGE + 5)]
    assert pager["First groups"] == "/"


def test_a_page_key_that_is_not_a_group_name_is_refused(client, alice):
    factories.many_groups(client, 3)
    page = html(alice.get("/", params={"after": ""}))
    assert page.css_first(".group__name").text(strip=True) == "Group 0000"
    for key in ("x" * 500, "\x00", "a\u0085b"):  # not a group name: a 400, never a 500
        assert alice.get("/", params={"after": key}).status_code == 400
    assert "No more groups." in alice.get("/?after=zzz").text


def test_only_staff_see_and_use_the_new_group_page(client, alice):
    assert alice.get("/groups/new").status_code == 403
    assert alice.post("/groups", {"name": "Sneaky"}).status_code == 403
    assert not html(alice.get("/")).css("a[href='/groups/new']")
    factories.make_staff(client, "alice")
    assert html(alice.get("/")).css_first("a[href='/groups/new']").text() == "New group"
    response = alice.post("/groups", {"name": "  Book   club ", "description": "Monthly"})
    assert response.status_code == 303
    names = [n.text(strip=True) for n in html(alice.get("/")).css(".group__name")]
    assert names == ["Book club"]


@pytest.mark.parametrize(
    ("name", "description", "problem"),
    [
        ("", "", "cannot be empty"),
        ("\u3164\u200b", "", "cannot be empty"),
        ("x" * 61, "", "at most 60 characters"),
        ("LOUNGE", "", "already exists"),
        ("ok\x00", "", "control characters"),
        ("Lounge", "", "already exists"),
        ("ok", "d" * 281, "at most 280"),
    ],
)
def test_bad_new_groups_get_a_clear_error_and_keep_the_input(
    client, alice, lounge, name, description, problem
):
    factories.make_staff(client, "alice")
    response = alice.post("/groups", {"name": name, "description": description})
    assert response.status_code == 400
    assert problem in html(response).css_first(".form__error").text()
    if "\x00" not in name:  # (an HTML parser reads NUL as U+FFFD)
        assert html(response).css_first("input[name=name]").attributes["value"] == name
