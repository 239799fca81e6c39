"""Attention in a real browser: two members of two groups. ana has one group open; ben posts in
the other and ana's list of groups counts it live; ben types in ana's group and she sees it until
his message arrives; ana opens the other group, sees where her unread messages begin, and the
counts clear, here and on her home page."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, WebSocket, expect
from sqlalchemy import create_engine, text

from discussit.core.db import sync_url
from tests.browser.test_changes_browser import open_group
from tests.browser.test_journeys import log_in, row, sign_up, unique

pytestmark = pytest.mark.browser


def send(page: Page, text: str) -> None:
    page.fill("#composer-text", text)
    page.press("#composer-text", "Enter")
    expect(page.locator("#composer-text")).to_have_value("")  # (gone: the next may come)


def members_of_both(base: str, people: list[tuple[Page, str]], first: str, then: str) -> None:
    """Each signs up, joins both groups, and ends on the second one's page."""
    for page, name in people:
        sign_up(page, base, name)
    for page, _ in people:
        open_group(page, first)
        page.goto(base + "/")
        open_group(page, then)


# Each text the page gives its #attention live region, in order.
HEAR = """() => {
  const region = document.getElementById("attention");
  window.heard = [];
  new MutationObserver(() => window.heard.push(region.textContent))
    .observe(region, { childList: true, characterData: true, subtree: true });
}"""


def page_states(page: Page) -> list[str]:
    """What a page tells the server of itself over its sockets (resume and visibility frames),
    in order: to say why, if the server did not count what the page showed as read."""
    said: list[str] = []

    def watch(socket: WebSocket) -> None:
        def sent(payload: str | bytes) -> None:
            try:
                data = json.loads(payload)
            except ValueError:
                return
            if isinstance(data, dict) and data.get("type") in ("resume", "visibility"):
                where = socket.url.rsplit("/", 3)[-2][:8]
                said.append(f"{where} {data['type']} visible={data.get('visible')}")

        socket.on("framesent", sent)

    page.on("websocket", watch)
    return said


def read_positions(database_url: str, username: str) -> str:
    """The server's own record: each group's last seq and this member's read position."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT g.name, g.last_seq, ms.last_read_seq FROM memberships ms"
                    " JOIN groups g ON g.id = ms.group_id JOIN users u ON u.id = ms.user_id"
                    " WHERE u.username = :name"
                ),
                {"name": username},
            ).all()
    finally:
        engine.dispose()
    return "; ".join(f"{name}: last seq {last}, read up to {read}" for name, last, read in rows)


def sidebar_count(page: Page, group: str):  # type: ignore[no-untyped-def]
    return page.locator(".my-groups__item", has=page.get_by_role("link", name=group)).locator(
        ".unread"
    )


def test_unread_counts_typing_and_the_new_messages_line(live_server, new_context, artifacts):
    base = live_server.url
    here, there = unique("Here"), unique("There")
    for group in (here, there):
        live_server.command("create-group", group)
    ana_name, ben_name = unique("ana"), unique("ben")
    ana, ben = new_context().new_page(), new_context().new_page()
    errors: list[str] = []
    for page in (ana, ben):
        page.on("pageerror", lambda e: errors.append(str(e)))
    said = page_states(ana)
    members_of_both(base, [(ana, ana_name), (ben, ben_name)], there, here)
    expect(ana.locator(".my-groups__item")).to_have_count(2)
    expect(ana.locator(".my-groups__item--current")).to_have_text(here)

    # ben posts in the other group: ana's list counts it, live, and her screen reader is told
    # once (#attention, a polite status), not once a message.
    ana.evaluate(HEAR)
    ben.goto(base + "/")
    row(ben, there).locator("a:has-text('Open')").click()
    send(ben, f"@{ana_name} over there")  # (a name typed last would open the suggestions)
    send(ben, "still there")
    expect(sidebar_count(ana, there)).to_have_text("2 unread @1 mentioning you")
    expect(sidebar_count(ana, there)).to_be_visible()
    expect(ana.locator("#attention")).to_have_text(
        re.compile(re.escape(there) + r": [12] unread, 1 mentioning you\.")
    )
    send(ben, "and again")
    expect(sidebar_count(ana, there)).to_have_text("3 unread @1 mentioning you")
    assert ana.evaluate("() => window.heard.length") == 1

    # ben types in ana's group: she sees it, and it goes when his message arrives.
    ben.goto(base + "/")
    row(ben, here).locator("a:has-text('Open')").click()
    expect(  # (ben's page is connected)
        ana.locator(".member", has_text=ben_name).locator(".presence--online")
    ).to_have_count(1)
    ben.fill("#composer-text", "typing away")  # (an input event: the page tells the others)
    expect(ana.locator("#typing")).to_have_text(f"{ben_name} is typing…")
    expect(ben.locator("#typing")).to_have_text("")  # never oneself
    ana.screenshot(path=str(artifacts / "group-page-typing.png"), full_page=True)
    # He stops: it goes by itself, 5 s after his last signal.
    expect(ana.locator("#typing")).to_have_text("", timeout=9_000)
    ben.fill("#composer-text", "typing away again")  # (his page's next signal: 3 s on)
    expect(ana.locator("#typing")).to_have_text(f"{ben_name} is typing…")
    ben.press("#composer-text", "Enter")
    expect(ana.locator("#timeline .message__body", has_text="typing away again")).to_have_count(1)
    expect(ana.locator("#typing")).to_have_text("")

    # ana mentions ben, picking his name from the suggestions with the keyboard.
    ana.locator("#composer-text").press_sequentially("thanks @" + ben_name[:2])
    option = ana.get_by_role("option", name=ben_name)
    expect(option).to_be_visible()
    expect(ana.locator("#composer-text")).to_have_attribute(
        "aria-activedescendant", option.get_attribute("id") or ""
    )
    ana.locator("#composer-text").press("Enter")  # picks: does not send
    expect(ana.locator("#composer-text")).to_have_value(f"thanks @{ben_name} ")
    expect(ana.get_by_role("listbox")).to_be_hidden()
    ana.locator("#composer-text").press("Enter")
    mention = ben.locator("#timeline .message", has_text="thanks")
    expect(mention).to_have_class(re.compile(r"message--mentions-me"))
    expect(ana.locator("#timeline .message", has_text="thanks")).not_to_have_class(
        re.compile(r"message--mentions-me")
    )
    ben.screenshot(path=str(artifacts / "group-page-mention.png"), full_page=True)

    # Scrolled up when new messages come: a button jumps to the newest.
    for i in range(12):
        send(ben, f"filler {i}")
    expect(ana.locator("#timeline .message__body").last).to_have_text("filler 11")
    ana.evaluate(  # (until the page has taken the scroll: a message may come right after)
        """() => new Promise(done => { const t = document.getElementById('timeline');
            t.addEventListener('scroll', () => done(), { once: true }); t.scrollTop = 0; })"""
    )
    expect(ana.locator("#jump-newest")).to_be_hidden()
    send(ben, "while scrolled up")
    expect(ana.locator("#jump-newest")).to_be_visible()
    ana.screenshot(path=str(artifacts / "group-page-jump.png"), full_page=True)
    ana.locator("#jump-newest").click()
    expect(ana.locator("#jump-newest")).to_be_hidden()
    expect(ana.locator("#timeline .message__body").last).to_be_in_viewport()

    # ana opens the other group: the line marks where her unread messages began.
    ana.get_by_role("link", name=there).click()
    expect(ana.locator("h1")).to_have_text(there)
    line = ana.locator("#timeline > #new-messages")
    expect(line).to_have_text("New messages")
    expect(ana.locator("#timeline > #new-messages + .message .message__body")).to_have_text(
        f"@{ana_name} over there"
    )
    expect(ana.locator("#timeline .mention--me")).to_have_text(f"@{ana_name}")
    expect(ana.locator(".my-groups__item--current")).to_have_text(there)
    ana.screenshot(path=str(artifacts / "group-page-new-messages.png"), full_page=True)
    ana.goto(base + "/")
    ana.screenshot(path=str(artifacts / "home-page-unread.png"), full_page=True)
    # (What she saw live is read: written within a second, then told to the home stream.)
    try:
        expect(row(ana, there).locator(".unread")).to_be_hidden(timeout=15_000)
        expect(row(ana, here).locator(".unread")).to_be_hidden(timeout=15_000)
    except AssertionError as failure:  # (seen once in many runs: what each side knew)
        known = read_positions(live_server.env["DATABASE_URL"], ana_name)
        raise AssertionError(
            f"{failure}\nana's pages said: {said}\nstored: {known}\n"
            + "\n".join(line for line in live_server.log().splitlines() if "read position" in line)
        ) from None
    assert errors == []


# A spy on the Notification constructor, and a switch to make the page look hidden (headless
# Chromium never hides a page by itself): next-wave-notes §11. Init scripts are not subject to
# the page's CSP.
SPY = """(() => {
  window.__notifications = [];
  const Real = window.Notification;
  class Spy extends Real { constructor(title, options = {}) { super(title, options);
      window.__notifications.push({title, body: options.body, tag: options.tag}); } }
  Object.defineProperty(Spy, "permission", { get: () => Real.permission });
  Spy.requestPermission = (...a) => Real.requestPermission(...a);
  window.Notification = Spy;
  let forced = null;
  const P = Document.prototype, d = n => Object.getOwnPropertyDescriptor(P, n).get;
  const hid = d("hidden"), vis = d("visibilityState");
  Object.defineProperty(P, "hidden", { configurable: true,
    get() { return forced ?? hid.call(this); } });
  Object.defineProperty(P, "visibilityState", { configurable: true,
    get() { return forced === null ? vis.call(this) : (forced ? "hidden" : "visible"); } });
  window.__setHidden = h => { forced = h; document.dispatchEvent(new Event("visibilitychange")); };
})();"""


# What the page says over its socket of whether it is shown ("1") or hidden ("0").
SENT = """window.__visibility = [];
document.addEventListener("htmx:ws:after:message:outgoing", e => {
  const values = e.detail.message.values;
  if (values.type === "visibility") window.__visibility.push(values.visible);
});"""


def notified_and_not(new_context, base: str) -> tuple[Page, Page]:  # type: ignore[no-untyped-def]
    """Two pages in two browsers: the first allowed to notify, its notifications recorded
    and its visibility switched by the test (SPY); the second plain."""
    context = new_context()
    context.grant_permissions(["notifications"], origin=base)
    context.add_init_script(SPY)
    return context.new_page(), new_context().new_page()


def test_a_hidden_page_notifies_mentions_and_keeps_its_socket(live_server, new_context):
    base = live_server.url
    here, there = unique("Here"), unique("There")
    for group in (here, there):
        live_server.command("create-group", group)
    ana_name, ben_name = unique("ana"), unique("ben")
    ana, ben = notified_and_not(new_context, base)
    members_of_both(base, [(ana, ana_name), (ben, ben_name)], there, here)
    expect(ana.locator(".notify__enable")).to_be_hidden()  # (already allowed: nothing to ask)
    expect(ana.locator(".member", has_text=ben_name).locator(".presence--online")).to_have_count(1)
    ana.evaluate(SENT)
    ana.evaluate("__setHidden(true)")

    send(ben, "nothing for ana")  # at "mentions" (the default): no notification
    send(ben, f"@{ana_name} are you there")
    expect(ana.locator("#timeline .message__body").last).to_have_text(f"@{ana_name} are you there")
    notes = ana.evaluate("__notifications")
    assert [n["title"] for n in notes] == [f"{ben_name} in {here}"]
    assert notes[0]["body"] == f"@{ana_name} are you there"

    ben.get_by_role("link", name=there).click()
    send(ben, f"@{ana_name} over here")
    expect(sidebar_count(ana, there)).to_have_text("1 unread @1 mentioning you")
    titles = [n["title"] for n in ana.evaluate("__notifications")]
    assert titles[-1] == f"You were mentioned in {there}"

    # What her hidden page was sent is not read while it is hidden; shown again, it is (the page
    # says so over its socket, and the server marks what it sent): the home page's count clears.
    # (Her home page on another device: a second page of one headless browser would hide one of
    # the two.)
    home = new_context().new_page()
    log_in(home, base, ana_name)
    expect(row(home, here).locator(".unread")).to_contain_text("2 unread")
    ana.evaluate("__setHidden(false)")
    ana.wait_for_function("() => window.__visibility.slice(-1)[0] === '1'")  # (said so)
    # (Marked at once, written within a second, then told to the home page's stream: on a
    # machine busy with another worker's browsers this once took longer than expect's 5 s.)
    expect(row(home, here).locator(".unread")).to_be_hidden(timeout=15_000)
    assert ana.evaluate("__visibility") == ["0", "1"]  # what the page said, as it changed

    # Set to "all messages", any message by someone else notifies while the page is hidden.
    ana.select_option("#notify-level", "all")
    expect(ana.locator(".notify__saved")).to_have_text("Saved.")
    ana.evaluate("__setHidden(true)")
    ben.get_by_role("link", name=here).click()
    send(ben, "plain news")
    ana.wait_for_function("() => __notifications.some(n => n.body === 'plain news')")
    assert ana.evaluate("__notifications")[-1]["title"] == f"{ben_name} in {here}"


def test_a_hidden_home_page_notifies_as_each_groups_level_says(live_server, new_context):
    """No group open, only the home page, hidden: its live counts notify, as the group page's
    list of groups does (a mention at "mentions", the default; any message at "all")."""
    base = live_server.url
    group = unique("News")
    live_server.command("create-group", group)
    ana_name, ben_name = unique("ana"), unique("ben")
    ana, ben = notified_and_not(new_context, base)
    for page, name in ((ana, ana_name), (ben, ben_name)):
        sign_up(page, base, name)
        open_group(page, group)
    ana.goto(base + "/")
    badge = row(ana, group).locator(".unread")
    send(ben, "seen live")  # (her stream is live: the count rises while she looks)
    expect(badge).to_contain_text("1 unread")
    assert ana.evaluate("__notifications") == []  # (shown: nothing to notify)

    ana.evaluate("__setHidden(true)")
    send(ben, "plain news")  # at "mentions": counted, not notified
    expect(badge).to_contain_text("2 unread")
    send(ben, f"@{ana_name} look")
    expect(badge).to_contain_text("3 unread @1 mentioning you")
    notes = ana.evaluate("__notifications")
    assert [n["title"] for n in notes] == [f"You were mentioned in {group}"]

    # At "all", chosen on the group's page in another tab: this page holds it at once, and
    # any message notifies.
    other, third = ana.context.new_page(), ana.context.new_page()
    for page in (other, third):
        page.goto(base + "/")
        page.get_by_role("link", name=group).first.click()
        expect(page.locator("#notify-level")).to_have_value("mentions")
    other.select_option("#notify-level", "all")
    expect(other.locator(".notify__saved")).to_have_text("Saved.")
    expect(row(ana, group).locator(".notify-level")).to_have_attribute("data-level", "all")
    expect(third.locator("#notify-level")).to_have_value("all")  # (the same group's page)
    send(ben, "more news")
    ana.wait_for_function("() => __notifications.length === 2")
    assert ana.evaluate("__notifications")[-1]["title"] == f"New messages in {group}"
