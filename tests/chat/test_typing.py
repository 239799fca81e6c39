"""Typing signals (chat/typing.py): over the socket to the group's other pages, gathered per
group, budgeted per user, never stored or replayed; and the page's words for them."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from selectolax.lexbor import LexborHTMLParser

from discussit.chat.typing import TypingUpdates
from discussit.core.realtime.broker import MemoryBroker, group_channel
from discussit.core.realtime.items import TypingChanged
from discussit.groups.membership import Member
from tests.helpers import html, receive_until, resume, say


def _typing(ws) -> None:  # type: ignore[no-untyped-def]
    """What the page's hidden typing form sends (htmx 4 hx-ws:send)."""
    ws.send_text(json.dumps({"type": "typing", "headers": {"HX-Source": "form#typing-form"}}))


def _cursor(browser, group_id) -> int:  # type: ignore[no-untyped-def]
    return int(html(browser.get(f"/groups/{group_id}/")).css_first("#last-seq").attributes["value"])


@pytest.fixture
def members(alice, bob, mallory, lounge):  # type: ignore[no-untyped-def]
    for browser in (alice, bob, mallory):
        browser.join(lounge)
    return alice, bob, mallory


def test_a_member_typing_is_shown_on_the_others_pages_and_never_replayed(members, lounge):
    alice, bob, mallory = members
    cursor = _cursor(alice, lounge)
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(a, cursor)
        resume(b, cursor)
        _typing(b)
        frame = receive_until(a, "typing-signal")[-1]
        assert 'hx-swap-oob="beforeend:#typing-signals"' in frame
        signal = LexborHTMLParser(frame).css_first(".typing-signal b")
        assert signal.text() == "bob" and signal.attributes["data-user-id"] == str(2)
        say(a, "after the signal")
        receive_until(a, "after the signal")
        with mallory.socket(lounge) as m:  # a page catching up gets entries, never typing
            resume(m, cursor)
            say(a, "marker")
            frames = receive_until(m, "marker")
            assert "after the signal" in "".join(frames)
            assert not any("typing-signal" in f for f in frames)


def test_signals_of_a_group_go_out_together_and_each_user_is_budgeted():
    async def scenario() -> tuple[list[str], list[bool]]:
        broker = MemoryBroker()
        group = uuid.uuid4()
        sub = broker.subscribe(group_channel(group))
        typing = TypingUpdates(broker, window=0.05, every=60)
        taken = [
            typing.typing(group, Member(1, "ana")),
            typing.typing(group, Member(2, "ben")),
            typing.typing(group, Member(1, "ana")),  # again, within her budget: dropped
        ]
        item = await asyncio.wait_for(sub.get(), 5)
        assert type(item) is TypingChanged
        await typing.stop()
        return [b.text() for b in LexborHTMLParser(item.html).css("b")], taken

    names, taken = asyncio.run(scenario())
    assert names == ["ana", "ben"] and taken == [True, True, False]


def test_the_page_holds_the_words_and_the_forms_for_typing(members, lounge):
    alice, _, _ = members
    page = html(alice.get(f"/groups/{lounge}/"))
    words = page.css_first("#typing").attributes
    assert words["aria-live"] == "polite"
    assert "{name}" in words["data-one"] and "{second}" in words["data-two"]
    assert page.css_first("#typing-signals") is not None
    form = page.css_first("form#typing-form")
    assert form.css_first("input[name=type]").attributes["value"] == "typing"
