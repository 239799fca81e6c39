"""Bots in a real browser: staff make a bot in the staff area and copy its token from the page
(shown once), give it a webhook and add it to a group; the bot posts through the API and a
member with the group open sees it at once; the member mentions the bot, and its webhook's
answer appears in the group as the bot's reply."""

from __future__ import annotations

import json
import re

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from tests.bots.test_webhooks import Receiver
from tests.browser.test_changes_browser import open_group
from tests.browser.test_journeys import sign_up, unique

pytestmark = pytest.mark.browser


def test_a_bot_posts_through_the_api_and_answers_a_mention(live_server, new_context, artifacts):
    base = live_server.url
    group = unique("Deploys")
    live_server.command("create-group", group)
    ana_name, ben_name, bot_name = unique("ana"), unique("ben"), unique("shipit")
    ana, ben = new_context().new_page(), new_context().new_page()
    sign_up(ana, base, ana_name)
    live_server.command("make-staff", ana_name)
    sign_up(ben, base, ben_name)
    open_group(ben, group)
    group_id = re.search(r"/groups/([0-9a-f-]{36})/", ben.url).group(1)  # type: ignore[union-attr]

    receiver = Receiver()
    receiver.answer = "Shipped to production."
    try:
        ana.goto(base + "/admin/bots")
        ana.get_by_label("Username (its @handle)").fill(bot_name)
        ana.get_by_label("Display name").fill("Ship It")
        ana.get_by_role("button", name="Make the bot").click()
        token = ana.locator("#bot-token").input_value()
        assert token.startswith("dsk_")
        ana.get_by_label(re.compile("When a message mentions the bot")).fill(receiver.url)
        ana.get_by_role("button", name="Save the webhook").click()
        expect(ana.locator(".admin__done")).to_have_text("The webhook is saved.")
        ana.get_by_label("Add it to").select_option(label=group)
        ana.get_by_role("button", name="Add", exact=True).click()
        expect(ana.locator(".admin__done")).to_contain_text("a member of the group")
        expect(ana.locator("#bot-token")).to_have_count(0)  # (shown once)
        ana.screenshot(path=str(artifacts / "admin-bot.png"), full_page=True)

        posted = httpx.post(
            f"{base}/api/groups/{group_id}/messages",
            headers={"Authorization": f"Bearer {token}"},
            json={"text": "Build 812 is **green**"},
        )
        assert posted.status_code == 201, posted.text
        from_bot = ben.locator("#timeline > .message", has_text="Build 812 is green")
        expect(from_bot.locator(".message__author")).to_have_text("Ship It")
        expect(from_bot.locator("strong", has_text="green")).to_be_visible()

        ben.fill("#composer-text", f"@{bot_name} ship it")
        ben.keyboard.press("Enter")
        answer = ben.locator("#timeline > .message", has_text="Shipped to production.")
        expect(answer.locator(".message__author")).to_have_text("Ship It")
        expect(answer.locator(".message__quote")).to_contain_text("ship it")
        ben.screenshot(path=str(artifacts / "group-bot-answer.png"))
        sent = json.loads(receiver.got[0][1])
        assert sent["text"] == f"@{bot_name} ship it" and sent["group"]["name"] == group
    finally:
        receiver.close()
