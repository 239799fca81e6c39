"""The staff area in a real browser: staff deactivate a member whose group page is open, and the
page closes at once; the member's next visit is a login page that refuses them. And one's own
account page: where one is logged in, signing another login out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_changes_browser import open_group
from tests.browser.test_journeys import log_in, sign_up, unique

pytestmark = pytest.mark.browser


def test_staff_deactivate_a_member_whose_page_is_open(live_server, new_context, artifacts):
    base = live_server.url
    group = unique("Ward")
    live_server.command("create-group", group)
    ana_name, ben_name = unique("ana"), unique("ben")
    ana, ben = new_context().new_page(), new_context().new_page()
    sign_up(ana, base, ana_name)
    live_server.command("make-staff", ana_name)
    sign_up(ben, base, ben_name)
    open_group(ben, group)
    expect(ben.locator("#composer-text")).to_be_visible()

    ana.goto(base + "/")
    ana.get_by_role("link", name="Staff area").click()
    ana.get_by_label("Find people by name").fill(ben_name)
    ana.get_by_role("button", name="Find").click()
    person = ana.locator("li.person", has=ana.locator(".person__name", has_text=ben_name))
    person.get_by_role("button", name=re.compile("^Deactivate")).click()
    expect(ana.locator(".admin__done")).to_contain_text(f"{ben_name} is deactivated")
    ana.screenshot(path=str(artifacts / "admin-people.png"), full_page=True)

    # ben's open page closes at once: the message box goes, the notice says why.
    expect(ben.locator("#composer.composer--closed")).to_have_count(1)
    expect(ben.locator("#notice")).to_contain_text("this login was ended")
    ben.screenshot(path=str(artifacts / "deactivated-page.png"))
    ben.reload()
    expect(ben).to_have_url(re.compile(r"/login"))
    ben.fill("input[name=username]", ben_name)
    ben.fill("input[name=password]", "violet-lantern-93")
    ben.click("form.form button:has-text('Log in')")
    expect(ben.locator(".form__error")).to_contain_text("deactivated")

    ana.get_by_role("link", name="Audit log").click()
    expect(ana.locator(".audit__line").first).to_contain_text(f"{ana_name} deactivated {ben_name}")
    ana.screenshot(path=str(artifacts / "admin-audit.png"), full_page=True)


def test_signing_out_another_login_from_the_account_page(live_server, new_context, artifacts):
    base = live_server.url
    name = unique("cleo")
    desk, phone = new_context().new_page(), new_context().new_page()
    sign_up(desk, base, name)
    log_in(phone, base, name)
    desk.get_by_role("link", name=re.compile("Signed in as")).click()
    logins = desk.locator("li.login")
    expect(logins).to_have_count(2)
    expect(logins.first).to_contain_text("(this browser)")
    desk.screenshot(path=str(artifacts / "account-page.png"), full_page=True)
    logins.nth(1).get_by_role("button", name=re.compile("^Sign out")).click()
    expect(desk.locator(".account__done")).to_have_text("That login is signed out.")
    expect(logins).to_have_count(1)
    phone.reload()
    expect(phone).to_have_url(re.compile(r"/login"))


def test_staff_make_sign_up_by_invitation_and_rotate_the_link(live_server, new_context, artifacts):
    base = live_server.url
    ana_name = unique("ana")
    ana, visitor = new_context().new_page(), new_context().new_page()
    sign_up(ana, base, ana_name)
    live_server.command("make-staff", ana_name)
    ana.goto(base + "/admin/signup")
    ana.get_by_label("Only people with the join link").check()
    ana.get_by_role("button", name="Save").click()
    link = ana.get_by_role("textbox", name="Join link").input_value()
    ana.screenshot(path=str(artifacts / "admin-signup.png"), full_page=True)
    try:
        visitor.goto(base + "/signup")
        expect(visitor.locator("main")).to_contain_text("by invitation")
        ana.get_by_role("button", name="Make a new link").click()
        expect(ana.locator(".admin__done")).to_contain_text("the old one no longer works")
        visitor.goto(link)
        expect(visitor.locator("main")).to_contain_text("by invitation")
        new_link = ana.get_by_role("textbox", name="Join link").input_value()
        visitor.goto(new_link)
        visitor.fill("input[name=username]", unique("eve"))
        visitor.fill("input[name=password]", "violet-lantern-93")
        visitor.fill("input[name=password2]", "violet-lantern-93")
        visitor.click("button:has-text('Sign up')")
        expect(visitor.locator(".topbar__user strong")).to_have_count(1)
    finally:  # the live server is shared: open again for the other journeys
        ana.goto(base + "/admin/signup")
        ana.get_by_label("Anyone").check()
        ana.get_by_role("button", name="Save").click()
        expect(ana.locator(".admin__done")).to_have_text("Anyone can sign up.")
