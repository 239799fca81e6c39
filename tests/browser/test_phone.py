"""On a phone-sized screen (360 x 740): every page works without scrolling sideways; on a group
page the groups and members panel folds behind a button, and the message box stays in view."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_changes_browser import open_group
from tests.browser.test_journeys import sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.frontend]
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def no_sideways_scroll(page: Page, where: str) -> None:
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    if wide > 360:
        culprits = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > 361)
                .slice(0, 6).map(e => e.tagName + '.' + e.className)"""
        )
        raise AssertionError(f"{where}: the page is {wide} px wide: {culprits}")


def test_every_page_fits_a_phone(live_server, new_context, artifacts):
    base = live_server.url
    group = unique("Porch")
    live_server.command("create-group", group, "--description", "Evenings outside, with tea")
    name = unique("pia")
    page = new_context(**PHONE).new_page()
    page.goto(base + "/signup")
    no_sideways_scroll(page, "sign-up")
    sign_up(page, base, name)
    live_server.command("make-staff", name)
    page.goto(base + "/")
    no_sideways_scroll(page, "home")
    page.screenshot(path=str(artifacts / "phone-home.png"), full_page=True)
    open_group(page, group)
    for k in range(3):
        page.fill("#composer-text", f"a message long enough to wrap on a small screen, number {k}")
        page.keyboard.press("Enter")
        expect(page.locator("#composer-text")).to_have_value("")  # (gone: the next may come)
    expect(page.locator("#timeline > .message")).to_have_count(3)
    no_sideways_scroll(page, "group")
    expect(page.locator("#composer-text")).to_be_in_viewport()
    members = page.locator(".chat__members")
    expect(members).to_be_hidden()
    page.screenshot(path=str(artifacts / "phone-group.png"))
    page.get_by_role("button", name="Groups and members").click()
    expect(members).to_be_visible()
    page.screenshot(path=str(artifacts / "phone-group-members.png"))
    page.get_by_role("button", name="Groups and members").click()
    expect(members).to_be_hidden()
    page.goto(base + "/search?q=message")
    no_sideways_scroll(page, "search")
    page.screenshot(path=str(artifacts / "phone-search.png"), full_page=True)
    for path in ["/account", "/admin/people", "/admin/groups", "/admin/bots", "/admin/audit"]:
        page.goto(base + path)
        no_sideways_scroll(page, path)
