"""Posting, one use case for every entry point: client ids make a retried send stored once, a
retry is answered (never swallowed), and the same id with other text is another message."""

from __future__ import annotations

from tests import factories
from tests.helpers import drain, receive_until, resume, say


def _bodies(client, group) -> list[str]:  # type: ignore[no-untyped-def]
    from discussit.timeline import history

    async def read(session):  # type: ignore[no-untyped-def]
        entries, _ = await history.page_before(session, group, 10_000, 100)
        return [e.body for e in entries if e.kind == "message"]

    return factories.run(client, read)


def test_a_retried_send_is_answered_to_its_sender(client, alice, bob, lounge):
    alice.join(lounge)
    bob.join(lounge)
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(a, 2)
        resume(b, 2)
        drain(a)
        drain(b)
        say(a, "hello", client_message_id="0123456789abcdef-1")
        receive_until(a, "hello")
        receive_until(b, "hello")
        say(a, "hello", client_message_id="0123456789abcdef-1")
        answer = receive_until(a, "composer-status")[-1]
        assert "already sent" in answer
        assert all("hello" not in f for f in drain(b))  # nobody gets it twice
    assert _bodies(client, lounge) == ["hello"]


def test_the_same_id_with_other_text_is_another_message(client, alice, lounge):
    alice.join(lounge)
    with alice.socket(lounge) as a:
        resume(a, 1)
        for text in ("first", "second", "second"):
            say(a, text, client_message_id="fixed-id-0001")
        receive_until(a, "second")
        drain(a)
    # The form does the same (a page that kept one id, as the old composer did off localhost).
    for text in ("third", "fourth"):
        alice.post(
            f"/groups/{lounge}/messages", {"text": text, "client_message_id": "fixed-id-0001"}
        )
    assert _bodies(client, lounge) == ["first", "second", "third", "fourth"]


def test_ids_counted_on_by_the_page_are_each_stored(client, alice, lounge):
    alice.join(lounge)
    page = alice.get(f"/groups/{lounge}/").text
    import re

    base = re.search(r'name="client_message_id" value="([0-9a-f]{32})" data-base="\1"', page)
    assert base is not None
    with alice.socket(lounge) as a:
        resume(a, 1)
        say(a, "a", client_message_id=base.group(1))
        for n in (1, 2, 3):
            say(a, f"m{n}", client_message_id=f"{base.group(1)}-{n}")
        receive_until(a, "m3")
    assert _bodies(client, lounge) == ["a", "m1", "m2", "m3"]


def test_a_logged_out_login_cannot_post_even_before_its_socket_hears_of_it(client, alice, lounge):
    """The insert itself checks the login (another process's logout may not have arrived)."""
    from discussit.timeline.store import SessionEnded, store_message

    alice.join(lounge)
    user = factories.user(client, "alice")

    async def post() -> str:
        try:
            await store_message(
                factories.database(client),
                lounge,
                user.id,
                "alice",
                "x",
                session=("no-such-login", 3600),
            )
        except SessionEnded:
            return "refused"
        return "stored"

    assert client.portal.call(post) == "refused"
    assert _bodies(client, lounge) == []  # nothing stored
