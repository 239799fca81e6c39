"""Staff run a group in a real browser while a member has it open: a new name shows on the open
page at once; making it private hides it from an outsider's home page, and the member adds the
outsider by name (suggestions as one types); archiving it stops the open page, which says so,
keeps the history and has no message box."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_changes_browser import open_group
from tests.browser.test_journeys import row, sign_up, unique

pytestmark = pytest.mark.browser


def test_staff_rename_privatise_and_archive_a_group_that_is_open(
    live_server, new_context, artifacts
):
    base = live_server.url
    group, renamed = unique("Garden"), unique("Greenhouse")
    live_server.command("create-group", group)
    ana_name, ben_name, cy_name = unique("ana"), unique("ben"), unique("cy")
    ana, ben, cy = (new_context().new_page() for _ in range(3))
    sign_up(ana, base, ana_name)
    live_server.command("make-staff", ana_name)
    sign_up(ben, base, ben_name)
    sign_up(cy, base, cy_name)
    open_group(ben, group)
    ben.fill("#composer-text", "the tomatoes are in")
    ben.keyboard.press("Enter")
    expect(ben.locator("#timeline > .message", has_text="tomatoes")).to_be_visible()

    ana.goto(base + "/admin/groups")
    ana.get_by_role("link", name=group).click()
    ana.get_by_label("Name", exact=True).fill(renamed)
    ana.get_by_role("button", name="Save").click()
    expect(ana.locator(".admin__done")).to_contain_text("Saved")
    expect(ben.locator(".group-header__name")).to_contain_text(renamed)  # live, no reload

    ana.get_by_role("button", name="Make it private").click()
    expect(ben.locator(".group-header__name .tag")).to_have_text("private")
    cy.goto(base + "/")
    expect(row(cy, renamed)).to_have_count(0)
    ben.reload()  # (the "Add someone" box comes with the page of a private group)
    ben.get_by_label("Add someone to this private group").press_sequentially(cy_name[:3])
    expect(ben.locator("datalist option", has_text=cy_name)).to_have_count(1)
    ben.get_by_label("Add someone to this private group").fill(cy_name)
    ben.get_by_role("button", name="Add", exact=True).click()
    expect(ben.locator(".member__name", has_text=cy_name)).to_be_visible()
    cy.reload()
    expect(row(cy, renamed)).to_have_count(1)

    ana.get_by_role("button", name=re.compile("^Archive the group")).click()
    expect(ben.locator("#notice")).to_contain_text("This group is archived")
    expect(ben.locator("#composer.composer--closed")).to_have_count(1)
    ben.screenshot(path=str(artifacts / "group-archived-live.png"))
    ben.reload()
    expect(ben.locator(".timeline__archived")).to_be_visible()
    expect(ben.locator("#timeline > .message", has_text="tomatoes")).to_be_visible()
    expect(ben.locator("#composer-text")).to_have_count(0)
    ana.screenshot(path=str(artifacts / "admin-group.png"), full_page=True)
