"""Issue 10, bug 1: on plain HTTP away from localhost the browser is not a secure context, so
secure-context-only APIs (crypto.randomUUID, clipboard, service workers, notifications) are
missing. Every message must still be stored once. Here the APIs are removed from the page before
any script runs (127.0.0.1 itself counts as secure), and two people send several messages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import row, sign_up, unique, watch_errors

# The page's own ids without secure-context APIs (that a resent id is stored once is checked on
# both backends by tests/checklist/test_dlv_shut.py): run on the embedded default only.
pytestmark = [pytest.mark.browser, pytest.mark.frontend]

NOT_A_SECURE_CONTEXT = """
delete Crypto.prototype.randomUUID;
Object.defineProperty(window, "isSecureContext", {value: false});
delete Navigator.prototype.clipboard;
delete Navigator.prototype.serviceWorker;
delete window.Notification;
"""


def test_every_message_is_stored_once_without_secure_context_apis(
    live_server, new_context, artifacts
):
    base = live_server.url
    group = unique("Plain")
    live_server.command("create-group", group)
    names = unique("ana"), unique("ben")
    pages = []
    for name in names:
        context = new_context()
        context.add_init_script(NOT_A_SECURE_CONTEXT)
        page = context.new_page()
        pages.append(page)
        sign_up(page, base, name)
        row(page, group).locator("button:has-text('Join')").click()
        row(page, group).locator("a:has-text('Open')").click()
        expect(page.locator("#members .presence--online")).to_have_count(2 if pages[1:] else 1)
    ana, ben = pages
    errors = watch_errors(ana) + watch_errors(ben)
    assert ana.evaluate("typeof crypto.randomUUID") == "undefined"
    assert ana.evaluate("window.isSecureContext") is False

    sent = [(ana, "one"), (ana, "two"), (ben, "three"), (ana, "four"), (ben, "five"), (ben, "six")]
    for count, (page, text) in enumerate(sent, 1):
        page.fill("#composer-text", text)
        page.press("#composer-text", "Enter")
        expect(page.locator("#composer-text")).to_have_value("")
        for each in (ana, ben):  # shown live to both, in order
            expect(each.locator("#timeline .message__body")).to_have_count(count)
    expected = [text for _, text in sent]
    for page in (ana, ben):
        expect(page.locator("#timeline .message__body")).to_have_text(expected)
    ids = ana.locator("[name=client_message_id]").evaluate("el => el.value")
    assert ids.endswith("-3")  # the page counted its own ids: base-1, base-2, base-3
    ana.screenshot(path=str(artifacts / "insecure-context-chat.png"), full_page=True)

    ana.reload()  # stored: the history from the database shows each message once
    expect(ana.locator("#timeline .message__body")).to_have_text(expected)
    assert errors == []
