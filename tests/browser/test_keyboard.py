"""The whole journey with the keyboard alone (Tab, Shift+Tab, Enter, Escape, arrows): sign up,
join, open, send, edit, react, reply, mention with the suggestion list, search, leave. Focus is
visible at every stop and never lost to the page after an htmx swap; the first Tab reaches a
"skip" link."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_changes_browser import open_group
from tests.browser.test_journeys import PASSWORD, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.frontend]
STEPS: list[str] = []  # the journey's steps, for the figures


def focused(page: Page, selector: str) -> bool:
    return bool(
        page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        )
    )


def focus_is_visible(page: Page) -> bool:
    return bool(
        page.evaluate(
            """() => { const e = document.activeElement;
                if (!e || e === document.body) return false;
                const s = getComputedStyle(e);
                return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                       || s.boxShadow !== 'none'; }"""
        )
    )


def tab_to(page: Page, selector: str, back: bool = False, limit: int = 200) -> None:
    """Press Tab (or Shift+Tab) until `selector` has the focus, which must show at each stop."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        assert focus_is_visible(page), page.evaluate("() => document.activeElement.outerHTML")
        if focused(page, selector):
            STEPS.append(f"{'Shift+Tab' if back else 'Tab'} to {selector}")
            return
    raise AssertionError(f"the keyboard never reached {selector}")


def press(page: Page, key: str, what: str) -> None:
    page.keyboard.press(key)
    STEPS.append(f"{key}: {what}")


def test_the_whole_journey_with_the_keyboard(live_server, new_context, artifacts):
    base = live_server.url
    group = unique("Keys")
    live_server.command("create-group", group)
    name, other = unique("kay"), unique("lee")
    lee = new_context().new_page()
    lee.goto(base + "/signup")
    for field, value in (("username", other), ("password", PASSWORD), ("password2", PASSWORD)):
        lee.fill(f"input[name={field}]", value)
    lee.click("button:has-text('Sign up')")
    expect(lee.locator(".topbar__user strong")).to_have_text(other)
    open_group(lee, group)

    page = new_context().new_page()
    page.goto(base + "/signup")
    if not focused(page, "input[name=username]"):  # (the form's first field has the focus)
        tab_to(page, "input[name=username]")
    page.keyboard.type(name)
    tab_to(page, "input[name=password]")
    page.keyboard.type(PASSWORD)
    tab_to(page, "input[name=password2]")
    page.keyboard.type(PASSWORD)
    press(page, "Enter", "sign up")
    expect(page.locator(".topbar__user strong")).to_have_text(name)
    page.keyboard.press("Tab")
    assert focused(page, ".skip-link") and focus_is_visible(page)  # (the first stop)
    STEPS.append("Tab to the skip link")

    row_id = page.locator(f"li.group:has(.group__name:text-is('{group}'))").get_attribute("id")
    row = f"#{row_id}"
    tab_to(page, f"{row} form[action$='/membership'] button")
    press(page, "Enter", "join")
    expect(page.locator(f"{row} a.button--primary")).to_be_focused()  # (htmx swapped the row)
    press(page, "Enter", "open the group")
    expect(page.locator("h1.group-header__name")).to_contain_text(group)
    tab_to(page, ".skip-link", back=True)
    press(page, "Enter", "skip to messages")
    assert focused(page, "#timeline")

    tab_to(page, "#composer-text")
    page.keyboard.type("Hello from the keyboard")
    press(page, "Enter", "send")
    mine = page.locator("#timeline > .message", has_text="Hello from the keyboard")
    expect(mine).to_have_count(1)
    expect(page.locator("#composer-text")).to_be_focused()  # (kept after the send)

    press(page, "ArrowUp", "edit my last message")
    editor = page.locator(".message-editor textarea")
    expect(editor).to_be_focused()
    page.keyboard.press("Escape")
    STEPS.append("Escape: close the editor")
    expect(editor).to_have_count(0)
    assert not focused(page, "body") and focus_is_visible(page)  # (back on the message)
    tab_to(page, "#composer-text")
    press(page, "ArrowUp", "edit it again")
    expect(editor).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.type(", edited")
    press(page, "Enter", "save the edit")
    expect(mine.locator(".message__body")).to_have_text("Hello from the keyboard, edited")
    expect(mine.locator(".message__edited")).to_be_visible()

    seq = mine.get_attribute("data-seq")
    message = f"#timeline > #entry-{seq}"
    tab_to(page, f"{message} .message__time", back=True)
    tab_to(page, f"{message} .message-tools button[name=emoji]")
    press(page, "Enter", "react")
    expect(mine.locator(".reaction")).to_have_count(1)
    tab_to(page, f"{message} .message-tools__reply")
    press(page, "Enter", "reply")
    expect(page.locator("#composer-text")).to_be_focused()
    page.keyboard.type(f"and hello @{other[:2]}")
    options = page.locator("#mention-list [role=option]")
    expect(options.first).to_be_visible()
    expect(options).to_have_count(1)
    press(page, "Escape", "close the suggestion list")
    expect(page.locator("#mention-list")).to_be_hidden()
    expect(page.locator("#composer-text")).to_have_value(f"and hello @{other[:2]}")
    expect(page.locator("#composer-text")).to_be_focused()
    page.keyboard.press("Backspace")
    page.keyboard.type(other[1])  # (typing the name on asks again)
    expect(options.first).to_be_visible()
    expect(options).to_have_count(1)
    press(page, "ArrowDown", "move in the suggestion list")
    expect(page.locator("#mention-list [aria-selected=true]")).to_have_count(1)
    press(page, "Enter", "choose the suggestion")
    expect(page.locator("#composer-text")).to_have_value(f"and hello @{other} ")
    press(page, "Enter", "send the reply")
    reply = page.locator("#timeline > .message", has_text="and hello")
    expect(reply.locator(".message__quote")).to_contain_text("Hello from the keyboard")
    expect(page.locator("#composer-text")).to_be_focused()

    tab_to(page, "#topbar-search", back=True)
    page.keyboard.type("keyboard")
    press(page, "Enter", "search")
    expect(page.locator(".hit").first).to_be_visible()
    tab_to(page, ".hit__link")
    press(page, "Enter", "open the result")
    expect(page.locator(".message--target")).to_be_visible()

    page.goto(base + "/")
    tab_to(page, f"{row} form[action$='/membership/delete'] button")
    press(page, "Enter", "leave")
    expect(page.locator(f"{row} form[action$='/membership'] button")).to_be_focused()
    page.screenshot(path=str(artifacts / "keyboard-journey.png"))
    assert len(STEPS) >= 20


def test_a_late_suggestion_answer_does_not_reopen_the_list_after_a_name_is_chosen(
    live_server, new_context
):
    """Typing "@l" then "e" asks for suggestions twice; the name is chosen from the first answer
    while the second is still on its way. When it lands, the list stays closed (there is no "@"
    before the caret any more), so the next Enter sends."""
    base = live_server.url
    group = unique("Late")
    live_server.command("create-group", group)
    other, name = unique("lee"), unique("kay")
    lee = new_context().new_page()
    sign_up(lee, base, other)
    open_group(lee, group)
    page = new_context().new_page()
    sign_up(page, base, name)
    open_group(page, group)

    held: list = []  # the second question's route, answered when the test says

    def suggestions(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.endswith("q=" + other[:2]):
            held.append(route)
        else:
            route.continue_()

    page.route("**/members/suggest?*", suggestions)
    box = page.locator("#composer-text")
    box.click()
    page.keyboard.type("hi @" + other[:1])
    expect(page.locator("#mention-list [role=option]")).to_have_count(1)
    with page.expect_request(lambda request: request.url.endswith("q=" + other[:2])):
        page.keyboard.type(other[1])
    press(page, "Enter", "choose the suggestion")
    expect(box).to_have_value(f"hi @{other} ")
    expect(page.locator("#mention-list")).to_be_hidden()
    page.evaluate(
        """() => document.addEventListener("htmx:after:settle", e => {
            if (e.target.id === "mention-list") window.lateAnswerSettled = true; })"""
    )
    assert len(held) == 1
    held[0].continue_()  # the late answer lands, and is swapped in
    page.wait_for_function("() => window.lateAnswerSettled === true")
    expect(page.locator("#mention-list")).to_be_hidden()
    press(page, "Enter", "send")
    expect(page.locator("#timeline > .message", has_text=f"hi @{other}")).to_have_count(1)
    expect(box).to_have_value("")
