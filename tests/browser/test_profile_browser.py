"""Profiles in a real browser: a person names themselves and sends a picture from their account
page (a plain multipart form), and another person in the group sees the name and the picture
on the message and in the member list, and opens the profile."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_changes_browser import open_group
from tests.browser.test_journeys import sign_up, unique

pytestmark = pytest.mark.browser


def test_a_name_and_a_picture_reach_the_people_one_talks_with(live_server, new_context, artifacts):
    base = live_server.url
    group = unique("Studio")
    live_server.command("create-group", group)
    ana_name, ben_name = unique("ana"), unique("ben")
    ana, ben = new_context().new_page(), new_context().new_page()
    sign_up(ana, base, ana_name)
    sign_up(ben, base, ben_name)

    ana.get_by_role("link", name=re.compile("Signed in as")).click()
    ana.get_by_label("Display name").fill("Ana Lima")
    ana.get_by_label("Bio").fill("Draws the maps.")
    ana.get_by_role("button", name="Save profile").click()
    expect(ana.locator(".account__done")).to_have_text("Your profile is saved.")
    picture = io.BytesIO()
    Image.new("RGB", (300, 200), "teal").save(picture, "PNG")
    ana.get_by_label("A new picture").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": picture.getvalue()}
    )
    ana.get_by_role("button", name="Use this picture").click()
    expect(ana.locator(".account__done")).to_have_text("Your new picture is saved.")
    ana.screenshot(path=str(artifacts / "account-profile.png"), full_page=True)

    ana.goto(base + "/")
    open_group(ana, group)
    open_group(ben, group)
    ana.fill("#composer-text", "The map is ready")
    ana.keyboard.press("Enter")
    message = ben.locator(".message", has_text="The map is ready")
    expect(message.locator(".message__author")).to_have_text("Ana Lima")
    avatar = message.locator("img.avatar")
    expect(avatar).to_have_attribute("src", re.compile(r"/people/\d+/avatar\?v=\d+"))
    assert avatar.evaluate("img => img.complete && img.naturalWidth") == 256
    expect(ben.locator(".member__name", has_text="Ana Lima")).to_be_visible()
    ben.screenshot(path=str(artifacts / "group-with-avatars.png"))
    ben.locator(".member__name", has_text="Ana Lima").click()
    expect(ben.locator(".profile__name")).to_have_text("Ana Lima")
    expect(ben.locator(".profile__bio")).to_have_text("Draws the maps.")
    ben.screenshot(path=str(artifacts / "profile.png"))
