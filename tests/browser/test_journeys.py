"""The journeys people take, in a real browser: two (or three) people in separate contexts."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "violet-lantern-93"
_names = itertools.count(1)


def unique(name: str) -> str:
    return f"{name}{next(_names)}"


def sign_up(page: Page, base: str, username: str) -> None:
    page.goto(base + "/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button:has-text('Sign up')")
    expect(page.locator(".topbar__user strong")).to_have_text(username)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button:has-text('Log in')")
    expect(page.locator(".topbar__user strong")).to_have_text(username)


def row(page: Page, group: str):  # type: ignore[no-untyped-def]
    return page.locator("li.group", has=page.locator(".group__name", has_text=group))


def watch_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    return errors


def test_two_people_chat_live_and_see_joins_and_leaves(live_server, new_context, artifacts):
    base = live_server.url
    group = unique("Lounge")
    live_server.command("create-group", group, "--description", "Where we hang out")
    # Carol's name sorts first: her live entry in the member list goes to its top.
    alice_name, bob_name, carol_name = unique("alice"), unique("bob"), unique("aaron")

    alice = new_context().new_page()
    bob = new_context().new_page()
    errors = watch_errors(alice) + watch_errors(bob)
    sign_up(alice, base, alice_name)
    sign_up(bob, base, bob_name)

    # Home pages: every group, its count, and Join; counts change live over SSE.
    expect(row(bob, group).locator(".group__count")).to_have_text("0 members")
    expect(row(alice, group).locator("button")).to_have_text(["Join"])
    row(alice, group).locator("button:has-text('Join')").click()
    expect(
        row(alice, group).locator(".group__actions > a:visible, .group__actions button:visible")
    ).to_have_text(["Open", "Leave"])  # ("Mark as read" only while something is unread)
    expect(row(bob, group).locator(".group__count")).to_have_text("1 member")  # live, no reload
    row(bob, group).locator("button:has-text('Join')").click()
    expect(row(alice, group).locator(".group__count")).to_have_text("2 members")
    alice.screenshot(path=str(artifacts / "home-page.png"), full_page=True)

    # Both open the group: history shows the two joins, and the member list both names.
    row(alice, group).locator("a:has-text('Open')").click()
    row(bob, group).locator("a:has-text('Open')").click()
    for page in (alice, bob):
        expect(page.locator("h1")).to_have_text(group)
        expect(page.locator("#timeline .event")).to_have_count(2)
        expect(page.locator("#members .member__name")).to_have_text(sorted([alice_name, bob_name]))
    expect(alice.locator("#members .presence--online")).to_have_count(2)
    # Bob goes back home: Alice sees him go offline, live, and online again when he returns.
    bob_status = alice.locator("#members .member", has_text=bob_name).locator(".presence")
    expect(bob_status).to_have_text("online")
    bob.go_back()
    expect(bob_status).to_have_text("offline")
    expect(alice.locator("#members .presence--online")).to_have_count(1)
    row(bob, group).locator("a:has-text('Open')").click()
    expect(bob_status).to_have_text("online")
    expect(alice.locator("#members .presence--online")).to_have_count(2)
    expect(alice.locator("#presence-changes > *")).to_have_count(0)  # each change applied once

    # Alice sends with Enter, Bob with the Send button; both see both, in order, live.
    alice.fill("#composer-text", "Hello Bob <b>not bold</b>")
    alice.press("#composer-text", "Enter")
    expect(alice.locator("#composer-text")).to_have_value("")
    # (A cleared box means sent, not stored: Bob answers what he sees, so the order is defined.)
    expect(bob.locator("#timeline .message .message__body")).to_have_text(
        ["Hello Bob <b>not bold</b>"]
    )
    bob.fill("#composer-text", "Hi Alice ${1+1}")
    bob.click("#composer button:has-text('Send')")
    for page in (alice, bob):
        expect(page.locator("#timeline .message .message__body")).to_have_text(
            ["Hello Bob <b>not bold</b>", "Hi Alice ${1+1}"]
        )
    expect(alice.locator("#timeline .message--mine .message__body")).to_have_text(
        ["Hello Bob <b>not bold</b>"]
    )
    expect(bob.locator("#timeline .message--mine .message__body")).to_have_text(["Hi Alice ${1+1}"])
    expect(bob.locator("#timeline b")).to_have_count(0)

    # Several lines: Shift+Enter starts a new line, Enter sends; a fenced block is code.
    box = alice.locator("#composer-text")
    box.fill("```")
    for line in ("print('<b>')", "```"):
        box.press("Shift+Enter")
        box.press_sequentially(line)
    expect(box).to_have_value("```\nprint('<b>')\n```")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(bob.locator("#timeline .message__body").last.locator("pre code")).to_have_text(
        "print('<b>')"
    )

    # A third person joins and leaves from her home page: both open pages show it live.
    carol = new_context().new_page()
    errors += watch_errors(carol)
    sign_up(carol, base, carol_name)
    row(carol, group).locator("button:has-text('Join')").click()
    for page in (alice, bob):
        expect(page.locator("#timeline .event").last).to_contain_text(f"{carol_name} joined")
        expect(page.locator("#members .member__name")).to_have_text(
            [carol_name, alice_name, bob_name]  # only her entry was sent, put in list order
        )
    alice.screenshot(path=str(artifacts / "group-page-member-joined.png"), full_page=True)
    row(carol, group).locator("button:has-text('Leave')").click()
    for page in (alice, bob):
        expect(page.locator("#timeline .event").last).to_contain_text(f"{carol_name} left")
        # Her join and leave, with no message between, are one line: the join line went.
        expect(page.locator("#timeline .event")).to_have_count(3)
        expect(page.locator("#members .member__name")).to_have_text(sorted([alice_name, bob_name]))

    alice.screenshot(path=str(artifacts / "group-page.png"), full_page=True)
    assert errors == []


def test_my_other_tabs_follow_my_joins_and_a_leave_closes_my_open_group_page(
    live_server, new_context, artifacts
):
    base = live_server.url
    group = unique("Garden")
    live_server.command("create-group", group)
    me, friend = unique("dana"), unique("eve")
    # My other pages are other logins (each context's page stays visible: headless chromium
    # hides background tabs, whose streams htmx pauses). Same-browser tabs share one session
    # and the same user stream; tests/test_updates.py covers that case through the stream.
    home = new_context().new_page()
    sign_up(home, base, me)
    other_home, group_tab = new_context().new_page(), new_context().new_page()
    for page in (other_home, group_tab):
        log_in(page, base, me)
    row(home, group).locator("button:has-text('Join')").click()
    expect(row(other_home, group).locator(".group__actions > a")).to_have_text("Open")  # live
    group_tab.goto(base + "/")
    row(group_tab, group).locator("a:has-text('Open')").click()
    expect(group_tab.locator("#timeline .event")).to_have_count(1)

    friend_page = new_context().new_page()
    sign_up(friend_page, base, friend)
    row(friend_page, group).locator("button:has-text('Join')").click()
    row(friend_page, group).locator("a:has-text('Open')").click()
    expect(group_tab.locator("#timeline .event").last).to_contain_text(f"{friend} joined")

    row(home, group).locator("button:has-text('Leave')").click()
    expect(row(other_home, group).locator("button")).to_have_text(["Join"])
    expect(group_tab.locator("#notice")).to_contain_text("no longer a member")
    expect(group_tab.locator("#composer-text")).to_have_count(0)
    expect(friend_page.locator("#timeline .event").last).to_contain_text(f"{me} left")
    friend_page.fill("#composer-text", "you will not see this")
    friend_page.press("#composer-text", "Enter")
    expect(friend_page.locator("#timeline .message")).to_have_count(1)
    group_tab.wait_for_timeout(300)
    expect(group_tab.locator("#timeline .message")).to_have_count(0)


@pytest.mark.frontend
def test_everything_works_with_javascript_off(live_server, new_context, artifacts):
    base = live_server.url
    group = unique("Quiet")
    live_server.command("create-group", group)
    name = unique("frank")
    page = new_context(java_script_enabled=False).new_page()
    sign_up(page, base, name)
    row(page, group).locator("button:has-text('Join')").click()
    expect(row(page, group).locator(".group__count")).to_have_text("1 member")
    row(page, group).locator("a:has-text('Open')").click()
    page.fill("#composer-text", "typed without javascript")
    page.press("#composer-text", "Enter")  # a new line: without JavaScript, Send sends
    page.keyboard.type("and a **second** line")
    page.click("#composer button:has-text('Send')")
    body = page.locator("#timeline .message__body")
    expect(body).to_have_text(["typed without javascript\nand a second line"])
    expect(body.locator("strong")).to_have_text("second")
    page.fill("#composer-text", "   ")
    page.click("#composer button:has-text('Send')")
    expect(page.locator(".composer__error")).to_contain_text("Type a message")
    page.screenshot(path=str(artifacts / "group-page-no-js.png"), full_page=True)
    page.click("header button:has-text('Leave')")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(row(page, group).locator("button")).to_have_text(["Join"])
    page.click("button:has-text('Log out')")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/login$"))


@pytest.mark.frontend
def test_load_older_fetches_the_previous_page_in_place(live_server, new_context):
    base = live_server.url
    group = unique("Archive")
    live_server.command("create-group", group)
    page = new_context().new_page()
    sign_up(page, base, unique("gina"))
    row(page, group).locator("button:has-text('Join')").click()
    row(page, group).locator("a:has-text('Open')").click()
    for i in range(55):
        page.fill("#composer-text", f"note {i}")
        page.press("#composer-text", "Enter")
        expect(page.locator("#composer-text")).to_have_value("")
    expect(page.locator("#timeline .message").last).to_have_text(re.compile("note 54"))
    page.reload()
    expect(page.locator("#timeline > li[data-seq]")).to_have_count(50)
    page.click("#load-older a")
    expect(page.locator("#timeline > li[data-seq]")).to_have_count(56)
    expect(page.locator("#timeline > li[data-seq]").first).to_contain_text("joined")
    expect(page.locator("#load-older")).to_have_count(0)
