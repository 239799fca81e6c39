"""Every page and state a person reaches, audited by axe-core (WCAG 2.2 AA and best practices),
in light and in dark mode: sign-up and login (with their errors), home (member, non-member,
staff), a group page (messages, an edited one, reactions, a reply, a mention, the unread line,
the editor open), search results, a profile, one's account, every staff page, and the error
pages (403, 404, 429)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests import figures as figs
from tests.browser.accessibility import AUDITED, audit
from tests.browser.test_changes_browser import open_group
from tests.browser.test_journeys import PASSWORD, row, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.frontend]


def say(page: Page, text: str) -> None:
    page.fill("#composer-text", text)
    page.keyboard.press("Enter")
    expect(page.locator("#timeline > .message", has_text=text.split(" ")[-1])).to_have_count(1)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_and_state_passes_axe(live_server, new_context, scheme, artifacts):
    base = live_server.url
    group, other = unique("Atrium"), unique("Cellar")
    live_server.command("create-group", group, "--description", "Talk of the house")
    live_server.command("create-group", other)
    ana_name, ben_name = unique("ana"), unique("ben")
    ana, ben = (new_context(color_scheme=scheme).new_page() for _ in range(2))

    ana.goto(base + "/signup")
    audit(ana, "sign-up")
    ana.fill("input[name=username]", unique("zed"))
    ana.fill("input[name=password]", "password")  # (common, and the two differ: server errors)
    ana.fill("input[name=password2]", "password1")
    ana.click("button:has-text('Sign up')")
    expect(ana.locator(".form__error").first).to_be_visible()
    audit(ana, "sign-up with errors")
    ana.goto(base + "/login")
    audit(ana, "login")
    ana.fill("input[name=username]", "nobody-at-all")
    ana.fill("input[name=password]", PASSWORD)
    ana.click("form.form button:has-text('Log in')")
    audit(ana, "login with an error")

    sign_up(ana, base, ana_name)
    live_server.command("make-staff", ana_name)
    sign_up(ben, base, ben_name)
    ben.goto(base + "/")
    audit(ben, "home, a member of nothing")
    open_group(ben, group)
    ana.goto(base + "/")
    audit(ana, "home, staff")
    open_group(ana, group)
    say(ana, "Welcome to the **atrium**: https://example.com/plan")
    expect(ben.locator("#timeline > .message", has_text="atrium")).to_be_visible()
    ana.goto(base + "/")
    say(ben, f"Thanks @{ana_name}, glad to be here")
    expect(row(ana, group).locator(".unread")).to_be_visible()
    audit(ana, "home, a member with unread messages and a mention")
    ana.add_init_script(
        """new MutationObserver(rs => rs.forEach(r => (window.__busy = window.__busy || [])
             .push(r.target.getAttribute('aria-busy'))))
           .observe(document, {attributes: true, attributeFilter: ['aria-busy'], subtree: true});"""
    )
    row(ana, group).locator("a:has-text('Open')").click()
    expect(ana.locator("#new-messages")).to_be_visible()
    # The catch-up on connecting is not read out (busy), and then the log is live again.
    ana.wait_for_function("() => (window.__busy || []).length >= 2")
    assert ana.evaluate("() => window.__busy") == ["true", None]
    expect(ana.locator("#timeline:not([aria-busy])")).to_have_count(1)
    audit(ana, "group page with the unread line and a mention of me")

    mine = ben.locator("#timeline > .message", has_text="glad to be here")
    mine.hover()
    ben.locator(".message-tools__button", has_text="Edit").click()
    expect(ben.locator(".message-editor textarea")).to_be_visible()
    audit(ben, "group page with the editor open")
    ben.locator(".message-editor textarea").fill(f"Thanks @{ana_name}, so glad to be here")
    ben.keyboard.press("Enter")
    expect(mine.locator(".message__edited")).to_be_visible()
    first = ben.locator("#timeline > .message", has_text="atrium")
    first.hover()
    ben.locator(".message-tools__button[aria-label^='React']").first.click()
    first.hover()
    ben.locator(".message-tools__button", has_text="Reply").click()
    ben.fill("#composer-text", "Replying to the plan")
    ben.keyboard.press("Enter")
    expect(ben.locator("#timeline > .message .message__quote")).to_have_count(1)
    ben.fill("#composer-text", f"@{ana_name[:2]}")
    expect(ben.locator("#mention-list [role=option]").first).to_be_visible()
    audit(ben, "group page: an edited message, a reaction, a reply, the mention list open")
    ben.screenshot(path=str(artifacts / f"group-{scheme}.png"))
    ben.fill("#composer-text", "")
    # (A typing signal is now or never: a page busy at that moment misses it, and the sender
    # signals again after 3 s of typing. Keep typing until it shows.)
    for word in ("typing", " away", " still", " more"):
        ana.locator("#composer-text").press_sequentially(word, delay=30)
        try:
            expect(ben.locator("#typing")).to_contain_text("is typing", timeout=3500)
            break
        except AssertionError:
            continue
    expect(ben.locator("#typing")).to_contain_text("is typing")
    audit(ben, "group page: someone typing")

    ben.goto(base + "/search?q=atrium")
    expect(ben.locator(".hit")).to_have_count(1)
    audit(ben, "search results")
    ben.screenshot(path=str(artifacts / f"search-{scheme}.png"))
    ben.goto(base + "/search?q=zzzz-nothing")
    audit(ben, "search with no results")
    ben.goto(base + "/account")
    audit(ben, "one's account")
    ben.get_by_role("link", name="See your profile as others do").click()
    audit(ben, "a profile")

    for path, name in [
        ("/admin/people", "staff: people"),
        ("/admin/groups", "staff: groups"),
        ("/admin/bots", "staff: bots"),
        ("/admin/signup", "staff: sign-up"),
        ("/admin/audit", "staff: audit log"),
    ]:
        ana.goto(base + path)
        audit(ana, name)
    ana.goto(base + "/admin/groups")
    ana.get_by_role("link", name=group).click()
    audit(ana, "staff: a group")
    ana.goto(base + "/admin/bots")
    ana.get_by_label("Username (its @handle)").fill(unique("bot"))
    ana.get_by_role("button", name="Make the bot").click()
    expect(ana.locator("#bot-token")).to_be_visible()
    audit(ana, "staff: a bot, its token shown")
    ana.goto(base + "/dev/patterns")  # (looked at, not audited: its samples repeat ids on purpose)
    expect(ana.locator(".pattern").first).to_be_visible()
    ana.screenshot(path=str(artifacts / f"patterns-{scheme}.png"), full_page=True)

    ben.goto(base + "/admin/people")
    audit(ben, "403")
    ben.goto(base + "/no/such/page")
    audit(ben, "404")
    ben.screenshot(path=str(artifacts / f"404-{scheme}.png"))
    ben.goto(base + f"/groups/{'0' * 8}-0000-0000-0000-{'0' * 12}/")
    audit(ben, "404 of a group")
    visitor = new_context(color_scheme=scheme).new_page()
    for _ in range(20):  # (past the login attempts of one username: 429)
        visitor.goto(base + "/login")
        visitor.fill("input[name=username]", ana_name)
        visitor.fill("input[name=password]", "not-the-password")
        with visitor.expect_navigation():  # (the attempt's answer, not the page before it)
            visitor.click("form.form button:has-text('Log in')")
        if "429" in (visitor.locator("h1").text_content() or ""):
            break
    expect(visitor.locator("h1")).to_contain_text("429")
    audit(visitor, "429")
    # A 500 page is what the server's last-resort handler renders: the same page, served here.
    from discussit.app import ROUTES
    from discussit.core import urls
    from discussit.core.templating import render

    urls.use_routes(ROUTES)
    broken = render(
        "errors/error.html", status=500, reason="Something went wrong.", viewer=None, csrf_token=""
    )
    visitor.route(
        base + "/a-broken-page",
        lambda route: route.fulfill(status=500, body=broken, content_type="text/html"),
    )
    visitor.goto(base + "/a-broken-page")
    expect(visitor.locator("h1")).to_contain_text("500")
    audit(visitor, "500")
    figs.add("accessibility", "audits", len(AUDITED))
    figs.add("accessibility", "violations", 0)


def test_the_theme_button_switches_and_is_remembered(live_server, new_context):
    page = new_context(color_scheme="light").new_page()
    page.goto(live_server.url + "/login")
    paper = "() => getComputedStyle(document.documentElement).backgroundColor"
    light = page.evaluate(paper)
    toggle = page.get_by_role("button", name="Dark mode")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(paper) != light
    page.reload()  # (remembered in this browser, applied before the page is drawn)
    expect(page.locator("html[data-theme=dark]")).to_have_count(1)
    assert page.evaluate(paper) != light
    audit(page, "login, dark by choice")
