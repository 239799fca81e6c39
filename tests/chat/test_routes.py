"""Posting without JavaScript: the composer form posts over HTTP and redirects back."""

from __future__ import annotations

from tests import factories
from tests.helpers import html


def test_posting_without_javascript_stores_and_shows_the_message(client, alice, lounge):
    alice.join(lounge)
    response = alice.post(f"/groups/{lounge}/messages", {"text": "  no js here  ", "author": "bob"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/groups/{lounge}/#composer"
    page = html(alice.get(f"/groups/{lounge}/"))
    message = page.css("#timeline .message")[-1]
    assert message.css_first(".message__body").text() == "no js here"
    assert message.css_first(".message__author").text() == "alice"


def test_a_message_posted_over_http_reaches_open_sockets(client, alice, bob, lounge):
    from tests.helpers import receive_until, resume

    alice.join(lounge)
    bob.join(lounge)
    with bob.socket(lounge) as b:
        resume(b, 2)
        alice.post(f"/groups/{lounge}/messages", {"text": "over http"})
        assert "over http" in receive_until(b, "over http")[-1]


def test_an_invalid_message_shows_the_error_and_keeps_the_text(client, alice, lounge):
    alice.join(lounge)
    long_text = "z" * 2001
    response = alice.post(f"/groups/{lounge}/messages", {"text": long_text})
    assert response.status_code == 400
    composer = html(response).css_first("#composer")
    assert "at most 2000 characters" in composer.css_first(".composer__error").text()
    assert composer.css_first("textarea[name=text]").text() == long_text
    assert not html(response).css("#timeline .message")


def test_a_non_member_cannot_post(client, alice, bob, lounge):
    alice.join(lounge)
    response = bob.post(f"/groups/{lounge}/messages", {"text": "let me in"})
    assert response.status_code == 403
    page = html(alice.get(f"/groups/{lounge}/"))
    assert not page.css("#timeline .message")


def test_posting_to_an_unknown_group_is_refused(alice):
    response = alice.post("/groups/00000000-0000-0000-0000-000000000000/messages", {"text": "x"})
    assert response.status_code in (403, 404)


def test_dlv2_concurrent_posters_get_distinct_gap_free_sequence_numbers(client, alice, bob, lounge):
    import asyncio

    alice.join(lounge)
    bob.join(lounge)
    users = [factories.user(client, "alice"), factories.user(client, "bob")]

    async def burst(db):  # type: ignore[no-untyped-def]
        async def post(i: int) -> int:
            entry = await factories.store(db, lounge, users[i % 2], f"c{i}")
            return entry.seq

        return await asyncio.gather(*(post(i) for i in range(40)))

    got = client.portal.call(burst, client.app_state["db"])
    assert sorted(got) == list(range(3, 43))
