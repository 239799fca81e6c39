"""Profiles: a display name shown wherever a person is named (messages, live and on the page,
members, joins, reactions, quotes, search), while the username stays the login and @handle; a
bio; a picture: their initials by default, or an upload made into a small WebP. Bad input gets a
clear error and changes nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import io

import pytest
from PIL import Image
from selectolax.lexbor import LexborHTMLParser
from starlette.testclient import TestClient

from discussit import limits
from discussit.accounts import avatars
from discussit.app import create_app
from discussit.core.realtime.broker import user_channel
from discussit.settings import Rate
from tests import factories
from tests.helpers import Browser, freeze_limits, html, receive_until, resume, say


def png(width: int = 40, height: int = 30, colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def save_profile(browser: Browser, name: str, bio: str = "") -> object:
    return browser.post("/account/profile", {"display_name": name, "bio": bio})


def upload(browser: Browser, data: bytes, filename: str = "me.png", csrf: bool = True) -> object:
    fields = {"csrf_token": browser.csrf()} if csrf else {}
    return browser.request(
        "POST",
        "/account/avatar",
        data=fields,
        files={"picture": (filename, data, "application/octet-stream")},
        follow_redirects=False,
    )


def my_picture(browser: Browser) -> str:
    """The address of the browser's own picture, as the account page shows it."""
    node = html(browser.get("/account")).css_first(".picture img.avatar")
    return node.attributes["src"] or ""


def test_a_display_name_is_shown_on_messages_members_and_joins(client, alice, bob, lounge):
    assert save_profile(alice, "Alice Liddell", "Down the rabbit hole").status_code == 303
    for b in (alice, bob):
        b.join(lounge)
    with bob.socket(lounge) as watching:
        resume(watching, 0)
        with alice.socket(lounge) as a:
            resume(a, 0)
            say(a, "hello")
            frame = receive_until(watching, "message__body")[-1]
    assert "Alice Liddell" in LexborHTMLParser(frame).css_first(".message__author").text()
    page = html(bob.get(f"/groups/{lounge}/"))
    assert [n.text() for n in page.css(".message__author")] == ["Alice Liddell"]
    assert "Alice Liddell" in [n.text() for n in page.css(".member__name")]
    assert "Alice Liddell" in [n.text() for n in page.css(".event__user")]
    assert "Signed in as Alice Liddell" in html(alice.get("/")).css_first(".topbar__user").text()


def test_the_username_stays_the_login_and_the_handle(client, alice, bob, lounge):
    save_profile(alice, "Queen of Hearts")
    for b in (alice, bob):
        b.join(lounge)
    alice.log_out()
    assert alice.log_in("alice").status_code == 303
    suggestions = bob.get(f"/groups/{lounge}/members/suggest?q=al")
    option = html(suggestions).css_first("li.mention-option")
    assert option.attributes["data-username"] == "alice"
    assert "Queen of Hearts" in option.text() and "@alice" in option.text()


def test_the_profile_page_shows_the_name_handle_bio_and_picture(client, alice, bob):
    save_profile(alice, "Alice L.", "I like <b>tea</b>\nand croquet")
    alice_id = int(
        html(alice.get("/account")).css_first(".picture img").attributes["src"].split("/")[2]
    )
    page = html(bob.get(f"/people/{alice_id}"))
    assert page.css_first(".profile__name").text() == "Alice L."
    assert "@alice" in page.css_first(".profile__handle").text()
    bio = page.css_first(".profile__bio")
    assert bio.text() == "I like <b>tea</b>\nand croquet" and bio.css_first("b") is None
    assert page.css_first(".profile img.avatar") is not None
    assert bob.get("/people/999999").status_code == 404
    assert Browser(client).get(f"/people/{alice_id}", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("bob", "Someone else is called"),
        ("B0B", "Someone else is called"),  # a look-alike of bob's username
        ("Bobby Tables", "Someone else is called"),  # bob's display name
        ("a\x07b", "control characters"),
        ("x" * (limits.DISPLAY_NAME_MAX + 1), "at most"),
    ],
)
def test_a_display_name_may_not_be_someone_elses_or_bad_text(client, alice, bob, name, problem):
    assert save_profile(bob, "Bobby Tables").status_code == 303
    save_profile(alice, "Alice", "my bio")
    refused = save_profile(alice, name, "a new bio")
    assert refused.status_code == 400
    errors = " ".join(n.text() for n in html(refused).css(".form__error"))
    assert problem in errors
    page = html(alice.get("/account"))
    assert page.css_first("input[name=display_name]").attributes["value"] == "Alice"
    assert page.css_first("textarea[name=bio]").text() == "my bio"


def test_a_blank_display_name_shows_the_username_and_my_own_username_is_mine(client, alice):
    assert save_profile(alice, "   \u200b ").status_code == 303
    assert "Signed in as alice" in html(alice.get("/")).css_first(".topbar__user").text()
    assert save_profile(alice, "ALICE").status_code == 303  # her own name, in capitals


def test_a_file_in_place_of_the_display_name_is_refused(client, alice):
    response = alice.request(
        "POST",
        "/account/profile",
        headers={"X-CSRF-Token": alice.csrf()},
        files={"display_name": ("x.txt", b"x", "text/plain")},
    )
    assert response.status_code == 400


def test_the_default_picture_is_the_initials_on_a_colour_of_ones_own(client, alice, bob):
    save_profile(alice, "Ada <Lovelace>")
    src = my_picture(alice)
    response = bob.get(src)
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert ">A&lt;</text>" in response.text  # "Ada", "<Lovelace>": escaped
    assert "<script" not in response.text
    stale = bob.get(src.replace("?v=", "?v=9"))
    assert stale.headers["cache-control"] == "no-cache"
    assert avatars.colour(1) != avatars.colour(2)
    assert avatars.initials("ana maria lima") == "AM"


def test_an_uploaded_picture_becomes_a_small_square_webp_with_a_new_address(client, alice, bob):
    before = my_picture(alice)
    assert upload(alice, png(400, 100)).status_code == 303
    after = my_picture(alice)
    assert after != before
    response = bob.get(after)
    assert response.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "WEBP"
        assert image.size == (limits.AVATAR_SIZE, limits.AVATAR_SIZE)
    assert alice.post("/account/avatar/remove").status_code == 303
    assert bob.get(my_picture(alice)).headers["content-type"].startswith("image/svg+xml")


def animated_gif() -> bytes:
    out = io.BytesIO()
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "green", "blue")]
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not a picture at all", "could not be used"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "could not be used"),
        (png()[:60], "could not be used"),  # cut short
        (animated_gif(), "Moving pictures"),
        (b"", "Choose a picture"),
    ],
)
def test_what_is_not_a_still_picture_is_refused_and_nothing_changes(client, alice, data, problem):
    before = my_picture(alice)
    refused = upload(alice, data)
    assert refused.status_code == 400
    assert problem in " ".join(n.text() for n in html(refused).css(".form__error"))
    assert my_picture(alice) == before


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")  # a small file of 400 million pixels
    with pytest.raises(avatars.BadImage):
        avatars.make_avatar(out.getvalue())


def test_a_picture_over_the_cap_is_refused(client, alice):
    noise = bytes(range(256)) * (limits.AVATAR_UPLOAD_MAX // 256 + 4096 // 256)
    refused = upload(alice, png() + noise[: limits.AVATAR_UPLOAD_MAX])
    assert refused.status_code == 400
    assert "too large" in html(refused).text()
    too_much = upload(alice, noise * 2)
    assert too_much.status_code == 413


def test_an_upload_needs_this_browsers_form_token(client, alice):
    before = my_picture(alice)
    assert upload(alice, png(), csrf=False).status_code == 403
    assert my_picture(alice) == before


def test_profile_changes_have_a_budget(settings):
    tight = dataclasses.replace(settings, profile_changes_per_user=Rate(2, 600))
    with TestClient(create_app(tight), base_url="http://testserver") as client:
        freeze_limits(client)  # (one window for every change)
        ana = Browser(client)
        ana.sign_up("ana")
        assert save_profile(ana, "One").status_code == 303
        assert upload(ana, png()).status_code == 303
        refused = save_profile(ana, "Three")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        shown = html(ana.get("/account")).css_first("input[name=display_name]")
        assert shown.attributes["value"] == "One"


@pytest.mark.parametrize("name", ["@bob", "bob.", "(bob)", " B0B! "])
def test_a_display_name_cannot_pose_as_someones_handle(client, alice, bob, name):
    refused = save_profile(alice, name)
    assert refused.status_code == 400


def test_nobody_signs_up_with_a_name_someone_shows(client, bob):
    save_profile(bob, "Carol")
    refused = Browser(client).sign_up("carol")
    assert refused.status_code == 400
    assert "taken" in html(refused).css_first(".form__error").text()


async def _subscribe(broker, channel):  # type: ignore[no-untyped-def]
    return broker.subscribe(channel)


async def _next_item(sub):  # type: ignore[no-untyped-def]
    try:
        return await asyncio.wait_for(sub.get(), 10)
    finally:
        sub.close()


def test_an_open_page_sends_the_new_name_after_a_change(client, alice, bob, lounge):
    for b in (alice, bob):
        b.join(lounge)
    broker = client.app_state["broker"]
    alice_id = factories.user(client, "alice").id
    # (With Redis the change reaches this process's pages through Redis: wait until it has.)
    told = client.portal.call(_subscribe, broker, user_channel(alice_id))
    with bob.socket(lounge) as watching, alice.socket(lounge) as a:
        resume(watching, 0)
        resume(a, 0)
        save_profile(alice, "Alice Renamed")
        client.portal.call(_next_item, told)
        say(a, "after the change")
        frame = receive_until(watching, "after the change")[-1]
    assert "Alice Renamed" in LexborHTMLParser(frame).css_first(".message__author").text()
