"""Changing messages in a real browser: two members; one edits, reacts, replies and deletes, the
other sees each change live without a reload; and the same with JavaScript off, through forms."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_journeys import row, sign_up, unique

pytestmark = pytest.mark.browser


def open_group(page: Page, group: str) -> None:
    row(page, group).locator("button:has-text('Join')").click()
    row(page, group).locator("a:has-text('Open')").click()
    expect(page.locator("h1")).to_have_text(group)
    page.wait_for_load_state()  # (its script runs: Enter sends, rather than starting a line)


def message(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.locator("#timeline > .message", has=page.locator(".message__body", has_text=text))


def tool(page: Page, text: str, name: str):  # type: ignore[no-untyped-def]
    """A message's toolbar button: the toolbar comes to the message under the pointer."""
    message(page, text).hover()
    return message(page, text).locator(".message-tools").get_by_role("button", name=name)


def test_edit_react_reply_and_delete_reach_the_other_member_live(
    live_server, new_context, artifacts
):
    base = live_server.url
    group = unique("Changes")
    live_server.command("create-group", group)
    alice_name, bob_name = unique("alice"), unique("bob")
    alice = new_context().new_page()
    bob = new_context().new_page()
    errors: list[str] = []
    for page in (alice, bob):
        page.on("pageerror", lambda e: errors.append(str(e)))
    sign_up(alice, base, alice_name)
    sign_up(bob, base, bob_name)
    open_group(alice, group)
    open_group(bob, group)
    expect(bob.locator("#timeline .event")).to_have_count(2)

    # A person's messages close together show under one name; a few emoji alone show larger.
    for text in ("good morning", "🎉", "helo wrld"):
        alice.fill("#composer-text", text)
        alice.press("#composer-text", "Enter")
    expect(message(bob, "helo wrld")).to_have_count(1)
    expect(bob.locator("#timeline > .message--continued")).to_have_count(2)
    expect(bob.locator("#timeline > .message--emoji")).to_have_count(1)
    # (Out of sight, still read by screen readers: whose message it is.)
    expect(message(bob, "helo wrld").locator(".message__author")).to_have_css("width", "1px")

    # Edit: Up arrow in the empty composer opens the editor on my last message; Escape closes
    # it unchanged; Enter saves.
    alice.press("#composer-text", "ArrowUp")
    editor = alice.locator(".message-editor textarea")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("helo wrld")
    editor.press("Escape")
    expect(alice.locator(".message-editor")).to_have_count(0)
    expect(message(alice, "helo wrld")).to_be_visible()
    tool(alice, "helo wrld", "Edit").click()
    editor.fill("hello **world**")
    editor.press("Enter")
    expect(alice.locator(".message-editor")).to_have_count(0)
    for page in (alice, bob):
        edited = message(page, "hello world")
        expect(edited.locator(".message__body strong")).to_have_text("world")
        expect(edited.locator(".message__edited")).to_contain_text("edited")

    # React: Bob picks 👍 from the toolbar; Alice adds hers from the reaction itself. (A live
    # page says so, from its #chat: the answer leaves the change to the socket, in order.)
    with bob.expect_request(lambda asked: asked.url.endswith("/reactions")) as reacting:
        tool(bob, "hello world", "React with 👍").click()
    assert reacting.value.headers.get("x-live-page") == "1"
    for page in (alice, bob):
        expect(message(page, "hello world").locator(".reaction")).to_have_text("👍 1" + bob_name)
    expect(message(bob, "hello world").locator(".reaction")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(message(alice, "hello world").locator(".reaction")).to_have_attribute(
        "aria-pressed", "false"
    )
    message(alice, "hello world").locator(".reaction").click()
    for page in (alice, bob):
        expect(message(page, "hello world").locator(".reaction")).to_have_attribute(
            "aria-label", f"👍 2: {bob_name}, {alice_name}"
        )
    message(bob, "hello world").locator(".reaction").focus()  # who reacted, on focus
    expect(message(bob, "hello world").locator(".reaction__who")).to_be_visible()

    # Reply: the quote of the first line links to the message.
    tool(bob, "hello world", "Reply").click()
    expect(bob.locator("#composer-reply")).to_contain_text(f"Replying to {alice_name}")
    expect(bob.locator("#composer-text")).to_be_focused()
    bob.keyboard.type("yes, hello!")
    bob.keyboard.press("Enter")
    for page in (alice, bob):
        quote = message(page, "yes, hello!").locator(".message__quote")
        expect(quote).to_have_text(f"{alice_name} hello world")
    expect(bob.locator("#composer-reply")).to_be_hidden()
    bob.screenshot(path=str(artifacts / "group-page-changes.png"), full_page=True)

    # Copy link: copied (or offered to copy) without leaving the page.
    tool(bob, "hello world", "Copy link").click()
    expect(bob.locator("#composer-status")).to_have_text(re.compile("Link copied|Copy this link"))

    # Delete, after confirming: the line stays, saying so; the reply's quote says so too.
    alice.once("dialog", lambda dialog: dialog.accept())
    tool(alice, "hello world", "Delete").click()
    for page in (alice, bob):
        expect(page.locator("#timeline .message--deleted")).to_have_text(
            re.compile("This message was deleted")
        )
        expect(message(page, "yes, hello!").locator(".message__quote")).to_have_text(
            "A deleted message"
        )
    # Nobody but the author (or staff) is offered edit or delete.
    expect(tool(alice, "yes, hello!", "Edit")).to_have_count(0)
    expect(tool(bob, "yes, hello!", "Edit")).to_have_count(1)
    # A line from another day (here: one dated tomorrow, as if it had just arrived) is marked
    # with its day, in the reader's time zone.
    bob.evaluate(
        """() => {
          const li = document.createElement("li");
          li.className = "event";
          li.dataset.seq = "999999";
          const time = document.createElement("time");
          time.setAttribute("datetime", new Date(Date.now() + 86400000).toISOString());
          li.appendChild(time);
          document.getElementById("timeline").appendChild(li);
        }"""
    )
    expect(bob.locator("#timeline > .timeline__new-day")).to_have_count(1)
    expect(bob.locator("#timeline > li").last).to_have_attribute("data-day", re.compile(r"\w+"))
    bob.screenshot(path=str(artifacts / "group-page-new-day.png"), full_page=True)
    bob.evaluate("() => document.querySelector('#timeline > li[data-seq=\"999999\"]').remove()")

    # A fresh load shows what the live page shows.
    live = lines(bob)
    bob.reload()
    expect(bob.locator("#timeline > .message")).to_have_count(4)
    assert lines(bob) == live
    assert errors == []


LINES = """() => Array.from(document.querySelectorAll("#timeline > li")).map((li) => {
  const copy = li.cloneNode(true);
  copy.querySelectorAll(".message-tools").forEach((tools) => tools.remove());
  return [copy.className, copy.textContent.replace(/\\s+/g, " ").trim()];
})"""


def lines(page: Page) -> list[list[str]]:
    """Each line of the page's history, as shown (its classes and text), without the toolbar
    and without the "New messages" line (a fresh load shows it where the reader's saved read
    position was, which follows what the page shows within a second or two)."""
    shown: list[list[str]] = page.evaluate(LINES)
    return [line for line in shown if line[0] != "timeline__unread"]


@pytest.mark.frontend
def test_edit_delete_and_react_work_with_javascript_off(live_server, new_context, artifacts):
    base = live_server.url
    group = unique("Plain")
    live_server.command("create-group", group)
    page = new_context(java_script_enabled=False).new_page()
    sign_up(page, base, unique("frank"))
    open_group(page, group)
    page.fill("#composer-text", "typo heer")
    page.click("#composer button:has-text('Send')")
    # The message's time links to its own page, which offers its actions as forms.
    message(page, "typo heer").locator(".message__time").click()
    expect(page).to_have_url(re.compile(r"\?around=\d+"))
    expect(page.locator(".message--target")).to_contain_text("typo heer")
    page.click(".message-actions a:has-text('Edit')")
    page.screenshot(path=str(artifacts / "edit-page-no-js.png"), full_page=True)
    page.fill("textarea[name=text]", "typo here")
    page.click("button:has-text('Save')")
    expect(page.locator(".message--target .message__body")).to_have_text("typo here")
    expect(page.locator(".message--target .message__edited")).to_contain_text("edited")
    page.click(".message-actions button[aria-label='React with 🎉']")
    expect(page.locator(".message--target .reaction")).to_contain_text("🎉 1")
    page.screenshot(path=str(artifacts / "message-page-no-js.png"), full_page=True)
    page.click(".message-actions a:has-text('Reply')")
    expect(page.locator("#composer-reply")).to_contain_text("typo here")
    page.fill("#composer-text", "answering myself")
    page.click("#composer button:has-text('Send')")
    expect(message(page, "answering myself").locator(".message__quote")).to_contain_text(
        "typo here"
    )
    message(page, "typo here").first.locator(".message__time").click()
    page.click(".message-actions a:has-text('Delete')")
    expect(page.locator("h1")).to_have_text("Delete this message?")
    page.screenshot(path=str(artifacts / "delete-page-no-js.png"), full_page=True)
    page.click("button:has-text('Delete')")
    expect(page.locator(".message--target")).to_contain_text("This message was deleted.")


def _moved_back(server, body: str, minutes: int) -> None:  # type: ignore[no-untyped-def]
    """The message with this text, as if it had been posted `minutes` earlier."""
    from datetime import timedelta

    from sqlalchemy import create_engine, select, update

    from discussit.core.db import sync_url
    from discussit.timeline.store import MESSAGES

    engine = create_engine(sync_url(server.env["DATABASE_URL"]))
    with engine.begin() as conn:
        found = conn.execute(
            select(MESSAGES.c.id, MESSAGES.c.created_at).where(MESSAGES.c.body == body)
        ).one()
        conn.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id == found.id)
            .values(created_at=found.created_at - timedelta(minutes=minutes))
        )
    engine.dispose()


def test_only_messages_a_few_minutes_apart_show_under_one_name(live_server, new_context):
    """One person's messages show under one name while each comes within five minutes of the
    one before (limits.GROUP_WITHIN_SECONDS); the first after a longer pause shows it again."""
    base = live_server.url
    group = unique("Apart")
    live_server.command("create-group", group)
    page = new_context().new_page()
    sign_up(page, base, unique("ava"))
    open_group(page, group)
    texts = [f"{word} in {group}" for word in ("early", "late", "later")]
    for text in texts:
        page.fill("#composer-text", text)
        page.press("#composer-text", "Enter")
    expect(message(page, texts[-1])).to_have_count(1)
    continued = page.locator("#timeline > .message--continued")
    expect(continued).to_have_count(2)

    _moved_back(live_server, texts[0], minutes=10)  # ten minutes before the next
    page.reload()
    expect(message(page, texts[-1])).to_have_count(1)
    expect(continued).to_have_count(1)
    expect(continued).to_contain_text(texts[-1])
