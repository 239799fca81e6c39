"""A deploy in a real browser: the server stops (SIGTERM) with a group page open, messages are
posted meanwhile, a new server starts on the same address; the page reconnects by itself and
shows what it missed, once each, then keeps chatting live."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import row, sign_up, unique
from tests.servers import Member, Server, post_directly

pytestmark = pytest.mark.browser


def test_shut2_a_group_page_reconnects_after_a_restart_and_catches_up(
    new_context, database_url, tmp_path, artifacts
):
    import os

    env = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "SEED_DEMO_GROUPS": "false",
        "FIRST_ACCOUNT_STAFF": "false",
    }
    if os.environ.get("TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    first = Server(env, tmp_path / "first.log", graceful=10).start()
    group = first.create_group("Deploys")
    page = new_context().new_page()
    sign_up(page, first.url, "hana")
    row(page, "Deploys").locator("button:has-text('Join')").click()
    row(page, "Deploys").locator("a:has-text('Open')").click()
    page.fill("#composer-text", "before the deploy")
    page.press("#composer-text", "Enter")
    expect(page.locator("#timeline .message__body")).to_have_text(["before the deploy"])
    ivan = Member(first, "ivan")
    ivan.join(group)
    expect(page.locator("#timeline .event").last).to_contain_text("ivan joined")
    # The resume cursor followed what arrived live (2 entries after the page was rendered).
    newest = page.eval_on_selector("#timeline > li[data-seq]:last-child", "e => e.dataset.seq")
    expect(page.locator("#last-seq")).to_have_value(newest)

    _, seconds = first.terminate()
    assert seconds < first.graceful
    for i in range(3):
        post_directly(env, group, "ivan", f"while down {i}")
    # The message box says the connection is down, and keeps what is typed and sent meanwhile.
    expect(page.locator("#composer-offline")).to_be_visible()
    page.screenshot(path=str(artifacts / "group-page-offline.png"), full_page=True)
    # Two messages sent meanwhile: each waits (counted under the box) and is stored once when
    # the connection is back (each its own, not taken for a retry of the other). What is typed
    # after them stays in the box when they go.
    page.fill("#composer-text", "sent while down")
    page.press("#composer-text", "Enter")
    expect(page.locator("#composer-waiting")).to_have_text("1 message waiting to be sent.")
    expect(page.locator("#composer-text")).to_have_value("sent while down")  # (still there)
    page.fill("#composer-text", "and another")
    page.press("#composer-text", "Enter")
    expect(page.locator("#composer-waiting")).to_have_text("2 messages waiting to be sent.")
    page.fill("#composer-text", "typed, not sent")
    page.screenshot(path=str(artifacts / "group-page-offline-waiting.png"), full_page=True)

    second = Server(env, tmp_path / "second.log", port=first.port).start()
    expect(page.locator("#timeline .message__body")).to_have_text(
        [
            "before the deploy",
            "while down 0",
            "while down 1",
            "while down 2",
            "sent while down",
            "and another",
        ],
        timeout=60_000,  # (htmx reconnects after 0.5 s, doubling up to 60 s, ±30 %)
    )
    expect(page.locator("#composer-offline")).to_be_hidden()
    expect(page.locator("#composer-waiting")).to_be_hidden()
    expect(page.locator("#composer-text")).to_have_value("typed, not sent")  # (kept as it is)
    page.fill("#composer-text", "after the deploy")  # (in place of what was typed)
    page.press("#composer-text", "Enter")
    expect(page.locator("#timeline .message__body").last).to_have_text("after the deploy")
    ids = page.eval_on_selector_all("#timeline > li[id]", "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids))  # nothing shown twice
    page.screenshot(path=str(artifacts / "group-page-after-restart.png"), full_page=True)
    ivan.close()
    second.terminate()
    assert "Traceback" not in first.log() + second.log()


def _member_of_a_new_group(live_server, new_context, group: str, name: str):  # type: ignore[no-untyped-def]
    """A new group, and a page signed up as a new member of it (on the home page)."""
    group = unique(group)
    live_server.command("create-group", group)
    page = new_context().new_page()
    sign_up(page, live_server.url, unique(name))
    row(page, group).locator("button:has-text('Join')").click()
    return page, group


def test_a_page_opened_before_an_update_says_to_reload_and_what_it_sent_is_kept(
    live_server, new_context, artifacts
):
    """A group page rendered before an update that changed what its socket sends (its resume
    form names an older kind of page, as a page open across such a deploy does): it is told to
    reload, and what is sent from it at once is still stored; reloaded, it is live again."""
    page, group = _member_of_a_new_group(live_server, new_context, "Updates", "olga")

    # The page as one rendered before the update says it: an older kind in its resume form.
    older = """document.addEventListener("DOMContentLoaded", () => {
      const field = document.querySelector('#resume [name="page"]');
      if (field && !sessionStorage.getItem("reloaded")) field.value = "1";
    });"""
    page.context.add_init_script(older)
    row(page, group).locator("a:has-text('Open')").click()
    page.fill("#composer-text", "sent from the old page")
    page.press("#composer-text", "Enter")
    expect(page.locator("#notice")).to_contain_text("DiscussIt was updated")
    page.screenshot(path=str(artifacts / "group-page-outdated.png"), full_page=True)
    page.evaluate("sessionStorage.setItem('reloaded', '1')")
    page.get_by_role("link", name="Reload the page").click()
    expect(page.locator("#timeline .message__body")).to_have_text(["sent from the old page"])
    page.fill("#composer-text", "and from the new one")
    page.press("#composer-text", "Enter")
    expect(page.locator("#timeline .message__body").last).to_have_text("and from the new one")


def _dropped_then_refused(page, group: str, code: int, reason: str) -> list:  # type: ignore[no-untyped-def,type-arg]
    """The group opened through a routed socket and "first" sent; then the connection drops
    (1012: the server restarts). The next connection is accepted, then closed with `code` as
    soon as the page sends anything (what it sent is kept in the list returned); the ones after
    it go through."""
    connections: list = []  # (the page's side of each connection, as routed)
    refuse_next = [False]
    refused: list = []  # what reached the refused connection

    def route(ws) -> None:  # type: ignore[no-untyped-def]
        connections.append(ws)
        if refuse_next[0]:  # accepted, then refused once the page has sent something
            refuse_next[0] = False

            def refuse(message) -> None:  # type: ignore[no-untyped-def]
                refused.append(message)
                ws.close(code=code, reason=reason)

            ws.on_message(refuse)
            return
        ws.connect_to_server()

    page.route_web_socket("**/ws", route)
    row(page, group).locator("a:has-text('Open')").click()
    page.fill("#composer-text", "first")
    page.press("#composer-text", "Enter")
    expect(page.locator("#timeline .message__body")).to_have_text(["first"])
    page.evaluate("() => { htmx.find('#chat')._htmx.ws.connection.config.reconnectDelay = 1500 }")
    refuse_next[0] = True
    connections[-1].close(code=1012, reason="restart")
    expect(page.locator("#composer-offline")).to_be_visible()
    return refused


def test_what_went_into_a_socket_refused_at_once_is_sent_again(live_server, new_context):
    """A reconnect may be accepted and then refused before the server reads a frame (1013: not
    ready, busy, connecting too often): what the page flushed into it was never read. The page
    sends it again on the next connection (its id makes that safe), counted as waiting
    meanwhile, and it is stored once."""
    page, group = _member_of_a_new_group(live_server, new_context, "Refused", "rita")

    # The connection drops; a message is sent while it is down; the next connection takes it
    # and is refused (1013); the one after that is let through.
    refused = _dropped_then_refused(page, group, 1013, "busy")
    page.fill("#composer-text", "sent while down")
    page.press("#composer-text", "Enter")
    expect(page.locator("#composer-waiting")).to_have_text("1 message waiting to be sent.")
    expect(page.locator("#timeline .message__body")).to_have_text(
        ["first", "sent while down"], timeout=20_000
    )
    assert refused and "sent while down" in str(refused[0])  # (it did go into the refused one)
    expect(page.locator("#composer-offline")).to_be_hidden()
    expect(page.locator("#composer-text")).to_have_value("")
    page.reload()  # stored once
    expect(page.locator("#timeline .message__body")).to_have_text(["first", "sent while down"])


def test_what_waits_when_the_connection_is_closed_for_good_is_marked_failed_and_kept(
    live_server, new_context, artifacts
):
    """A reconnect may be refused for good (1008: the member left the group elsewhere, or the
    login ended, while the page was offline): htmx does not try again, and drops what waits to
    be sent. The page says the connection is closed and how many messages were not sent, and
    puts their text back in the message box, ahead of what is being typed. Nothing is stored."""
    page, group = _member_of_a_new_group(live_server, new_context, "Closed", "cora")

    _dropped_then_refused(page, group, 1008, "not a member")  # (for good: no reconnect)
    for text, waiting in (("one", "1 message"), ("two", "2 messages")):
        page.fill("#composer-text", text)
        page.press("#composer-text", "Enter")
        expect(page.locator("#composer-waiting")).to_have_text(f"{waiting} waiting to be sent.")
    page.fill("#composer-text", "still typing")

    closed = page.locator("#composer-closed")
    expect(closed).to_have_text(
        "Connection closed: 2 messages were not sent. Their text is back in the box; reload "
        "the page to go on.",
        timeout=20_000,
    )
    expect(page.locator("#composer-offline")).to_be_hidden()
    expect(page.locator("#composer-text")).to_have_value("one\n\ntwo\n\nstill typing")
    page.screenshot(path=str(artifacts / "closed-for-good.png"))
    page.reload()
    expect(page.locator("#timeline .message__body")).to_have_text(["first"])
