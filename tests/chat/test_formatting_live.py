"""Formatted messages through every way a message reaches a page: the socket, the form, the page,
Load older and catch-up after a reconnect; and messages stored before formatting existed."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from discussit.models import Message
from discussit.timeline.formatting import REL, RENDER_VERSION
from tests import factories
from tests.helpers import drain, html, receive_until, resume, say

# Sockets, waits on live frames: in `make test`, not in the quick `make check`.
pytestmark = pytest.mark.slow

TEXT = "**bold** and `x < y`, see https://example.com/a"
SHOWN = (
    f'<p><strong>bold</strong> and <code>x &lt; y</code>, see <a href="https://example.com/a" '
    f'rel="{REL}">https://example.com/a</a></p>'
)


def _body(fragment: str) -> str:
    """The inner HTML of the fragment's (last) body of the message TEXT."""
    bodies = html(type("R", (), {"text": fragment})()).css(".message__body")
    node = [b for b in bodies if "bold" in b.text()][-1]
    return node.html.split(">", 1)[1].rsplit("</div>", 1)[0]


def test_a_formatted_message_is_the_same_live_on_the_page_and_after_a_reconnect(
    client, alice, bob, lounge
):
    alice.join(lounge)
    bob.join(lounge)
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(a, 2)
        resume(b, 2)
        drain(b)
        say(a, TEXT)
        assert _body(receive_until(b, "message__body")[-1]) == SHOWN  # live, to another member
    assert _body(alice.get(f"/groups/{lounge}/").text) == SHOWN  # the page
    with bob.socket(lounge) as b:  # catch-up after a reconnect
        resume(b, 2)
        assert _body(receive_until(b, "message__body")[-1]) == SHOWN
    factories.post_messages(client, lounge, "bob", 60)
    older = alice.get(f"/groups/{lounge}/history?before=10", headers={"HX-Request": "true"})
    assert _body(older.text) == SHOWN  # Load older


def test_a_message_posted_without_javascript_is_formatted_too(client, alice, bob, lounge):
    alice.join(lounge)
    bob.join(lounge)
    with bob.socket(lounge) as b:
        resume(b, 2)
        drain(b)
        assert alice.post(f"/groups/{lounge}/messages", {"text": TEXT}).status_code == 303
        assert _body(receive_until(b, "message__body")[-1]) == SHOWN
    assert _body(bob.get(f"/groups/{lounge}/").text) == SHOWN


@pytest.mark.parametrize("stored", [None, "<p>made by an older renderer</p>"])
def test_a_message_without_current_html_is_rendered_when_read(client, alice, lounge, stored):
    alice.join(lounge)
    entry = factories.client_store(client, lounge, "alice", TEXT)

    async def as_before(session):  # type: ignore[no-untyped-def]
        await session.exec(
            update(Message)
            .where(Message.group_id == lounge, Message.seq == entry.seq)  # type: ignore[arg-type]
            .values(body_html=stored, render_version=RENDER_VERSION - 1)
        )
        await session.commit()

    factories.run(client, as_before)
    assert _body(alice.get(f"/groups/{lounge}/").text) == SHOWN
