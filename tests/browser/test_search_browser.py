"""Search in a real browser: results come as one types (in the header's panel and on the search
page, whose address follows), the order and group can be changed, a result opens the message
highlighted in its history; and the same search and landing with JavaScript off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_changes_browser import open_group
from tests.browser.test_journeys import sign_up, unique, watch_errors

pytestmark = pytest.mark.browser

MESSAGES = [
    "Shall we deploy the **new server** today?",
    "lunch at the café at noon",
    "Deploy went fine <img src=x onerror=alert(1)>",
    "deploying again after lunch",
]


def send(page: Page, text: str) -> None:
    page.fill("#composer-text", text)
    page.press("#composer-text", "Enter")
    expect(page.locator("#timeline .message__body", has_text=text[:12])).not_to_have_count(0)


def test_results_as_one_types_open_the_message_in_its_history(live_server, new_context, artifacts):
    base = live_server.url
    group = unique("Ops")
    live_server.command("create-group", group)
    page = new_context().new_page()
    errors = watch_errors(page)
    sign_up(page, base, unique("ana"))
    open_group(page, group)
    for text in MESSAGES:
        page.fill("#composer-text", text)
        page.press("#composer-text", "Enter")
        expect(page.locator("#composer-text")).to_have_value("")  # (gone: the next may come)
    expect(page.locator("#timeline > .message")).to_have_count(len(MESSAGES))

    # The header's box: results under it after a pause in typing, the matches marked.
    page.locator("#topbar-search").press_sequentially("depl")
    panel = page.locator("#search-panel")
    expect(panel.locator(".hit")).to_have_count(3)
    expect(panel.locator(".hit").first.locator("mark")).to_have_text("deploying")
    expect(panel.locator(".hit__group").first).to_have_text(group)
    page.screenshot(path=str(artifacts / "search-panel.png"))
    page.locator("#topbar-search").fill("")  # cleared: the panel closes
    expect(panel).to_be_hidden()

    # Enter goes to the search page; there the results follow the box and the order.
    page.locator("#topbar-search").fill("deploy")
    page.locator("#topbar-search").press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=deploy$"))
    results = page.locator("#search-results .hit")
    expect(results).to_have_count(3)  # the last word may be the start of one: "deploying"
    page.locator("#search-q").fill("cafe")
    expect(results).to_have_count(1)
    expect(results.first.locator("mark")).to_have_text("café")
    expect(page).to_have_url(re.compile(r"/search\?q=cafe$"))
    page.locator("#search-q").fill('"deploy"')  # a quoted word: that word only
    expect(results).to_have_count(2)
    page.get_by_label("Best match").check()
    expect(page).to_have_url(re.compile(r"/search\?q=%22deploy%22&sort=best$"))
    expect(results).to_have_count(2)
    expect(page.locator("#search-results img")).to_have_count(0)  # the payload is text
    expect(page.locator("#search-results")).to_contain_text("<img src=x onerror=alert")
    page.screenshot(path=str(artifacts / "search-page.png"), full_page=True)
    page.locator("#search-q").fill("nothing like this")
    expect(page.locator(".search__none")).to_have_text("No results for “nothing like this”.")

    # A result opens the message in its history, highlighted.
    page.locator("#search-q").fill("noon")
    expect(results).to_have_count(1)
    results.first.locator("a").click()
    target = page.locator(".message--target")
    expect(target).to_contain_text("lunch at the café at noon")
    page.screenshot(path=str(artifacts / "search-landed.png"))
    assert errors == []


def test_search_and_landing_work_with_javascript_off(live_server, new_context, artifacts):
    base = live_server.url
    group = unique("Quiet")
    live_server.command("create-group", group)
    page = new_context(java_script_enabled=False).new_page()
    sign_up(page, base, unique("frank"))
    open_group(page, group)
    for text in ["the quarterly report is ready", "see the report appendix"]:
        page.fill("#composer-text", text)
        page.click("#composer button:has-text('Send')")
    page.locator("#topbar-search").fill("quarterly report")
    page.locator("#topbar-search").press("Enter")  # a plain GET form
    expect(page).to_have_url(re.compile(r"/search\?q=quarterly\+report$"))
    expect(page.locator(".hit")).to_have_count(1)
    page.locator("#search-q").fill("report")
    page.locator("#search-form button:has-text('Search')").click()
    expect(page.locator(".hit")).to_have_count(2)
    page.screenshot(path=str(artifacts / "search-page-no-js.png"), full_page=True)
    page.locator(".hit a", has_text="quarterly").click()
    expect(page.locator(".message--target")).to_contain_text("the quarterly report is ready")
