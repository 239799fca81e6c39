"""Editing, deleting, reacting and replying, through every entry point (the plain forms, the htmx
endpoints, the socket): live delivery to another member, refusals for everyone who may not, and
catch-up of missed changes (exactly once, in order, ending as a fresh page load shows)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from discussit import limits
from tests import factories
from tests.helpers import Browser, drain, html, nothing_received, receive_until, resume, say

# Each test opens sockets and waits for live frames: in `make test`, not in the quick `make check`.
pytestmark = pytest.mark.slow

HX = {"HX-Request": "true"}


def frame(ws: Any, kind: str, **values: Any) -> None:
    """What a page's hidden action form sends over the socket (htmx 4 hx-ws:send)."""
    ws.send_text(json.dumps({"type": kind, **values, "headers": {"HX-Request": "true"}}))


def message_li(text: str, seq: int) -> str:
    """The element #entry-<seq> in a page or a frame, without any hx-swap-oob attribute, and
    its times without text (a frame leaves that to the page's script: messages/_message.html)."""
    node = html(type("R", (), {"text": text})()).css_first(f"#entry-{seq}")
    assert node is not None, text
    shown = node.html or ""
    shown = re.sub(r"(<time [^>]*>)[^<]*(</time>)", r"\1\2", shown)
    return re.sub(r' hx-swap-oob="[^"]*"', "", re.sub(r" message--target", "", shown))


def body_of(text: str, seq: int) -> str:
    node = html(type("R", (), {"text": text})()).css_first(f"#entry-{seq} .message__body")
    assert node is not None, text
    return node.text().strip()


@pytest.fixture
def both(alice: Browser, bob: Browser, lounge: Any) -> Any:
    alice.join(lounge)
    bob.join(lounge)
    return lounge


def _post(client: Any, lounge: Any, who: str, text: str) -> int:
    return factories.client_store(client, lounge, who, text).seq


# ---- edit ------------------------------------------------------------------------------------


def test_the_author_edits_through_the_form_and_everyone_sees_it_live(client, alice, bob, both):
    seq = _post(client, both, "alice", "helo wrld")
    with bob.socket(both) as b:
        resume(b, seq)
        response = alice.post(f"/groups/{both}/messages/{seq}/edit", {"text": "hello **world**"})
        assert response.status_code == 303
        assert response.headers["location"] == f"/groups/{both}/?around={seq}#entry-{seq}"
        live = receive_until(b, f"entry-{seq}")[-1]
    assert "<strong>world</strong>" in live and "edited" in live
    assert re.search(rf'id="last-seq"[^>]*value="{seq + 1}"', live)  # the cursor moves on
    page = bob.get(f"/groups/{both}/").text
    assert body_of(page, seq) == "hello world" and "message__edited" in message_li(page, seq)


def test_the_htmx_editor_opens_in_place_and_saving_answers_the_message(client, alice, both):
    seq = _post(client, both, "alice", "first")
    editor = alice.get(f"/groups/{both}/messages/{seq}/edit", headers=HX)
    assert editor.status_code == 200
    node = html(editor).css_first(f"li#editor-{seq} textarea[name=text]")
    assert node is not None and node.text() == "first"
    saved = alice.post(f"/groups/{both}/messages/{seq}/edit", {"text": "second"}, headers=HX)
    assert saved.status_code == 200 and 'hx-swap-oob="true"' in saved.text
    assert body_of(saved.text, seq) == "second"
    same = alice.post(f"/groups/{both}/messages/{seq}/edit", {"text": "second"}, headers=HX)
    assert same.status_code == 200 and same.text == ""  # nothing changed: the editor closes
    assert saved.headers["HX-Reswap"] == same.headers["HX-Reswap"] == "delete"


def test_the_edit_page_works_without_javascript(client, alice, both):
    seq = _post(client, both, "alice", "old text")
    page = alice.get(f"/groups/{both}/messages/{seq}/edit")
    assert page.status_code == 200 and "<html" in page.text
    assert html(page).css_first("form textarea[name=text]").text() == "old text"


def test_an_edit_over_the_socket_reaches_the_other_member(client, alice, bob, both):
    seq = _post(client, both, "alice", "one")
    with alice.socket(both) as a, bob.socket(both) as b:
        resume(a, seq)
        resume(b, seq)
        frame(a, "edit", seq=str(seq), text="two")
        assert body_of(receive_until(b, f"entry-{seq}")[-1], seq) == "two"


@pytest.mark.parametrize(
    ("text", "problem"),
    [("   ", "type a message"), ("x" * (limits.MESSAGE_MAX + 1), str(limits.MESSAGE_MAX))],
)
def test_an_empty_or_too_long_edit_is_refused_and_changes_nothing(
    client, alice, both, text, problem
):
    seq = _post(client, both, "alice", "keep me")
    refused = alice.post(f"/groups/{both}/messages/{seq}/edit", {"text": text}, headers=HX)
    assert refused.status_code == 400 and problem in refused.text.lower()
    assert html(refused).css_first(f"li#editor-{seq}") is not None  # the editor stays open
    assert body_of(alice.get(f"/groups/{both}/").text, seq) == "keep me"
    with alice.socket(both) as a:
        resume(a, seq)
        frame(a, "edit", seq=str(seq), text=text)
        assert problem in receive_until(a, "composer")[-1].lower()
        say(a, "still connected")
        assert "still connected" in receive_until(a, "still connected")[-1]


def test_nobody_but_the_author_edits(client, alice, bob, both):
    seq = _post(client, both, "alice", "mine")
    assert bob.get(f"/groups/{both}/messages/{seq}/edit").status_code == 403
    refused = bob.post(f"/groups/{both}/messages/{seq}/edit", {"text": "yours now"})
    assert refused.status_code == 403 and "Only its author" in refused.text
    with bob.socket(both) as b:
        resume(b, seq)
        frame(b, "edit", seq=str(seq), text="yours now")
        assert "Only its author" in receive_until(b, "composer-status")[-1]
        say(b, "still here")
        receive_until(b, "still here")
    assert body_of(alice.get(f"/groups/{both}/").text, seq) == "mine"


def test_staff_do_not_edit_other_peoples_messages_either(client, alice, bob, both):
    seq = _post(client, both, "alice", "mine")
    factories.make_staff(client, "bob")
    assert bob.post(f"/groups/{both}/messages/{seq}/edit", {"text": "x"}).status_code == 403


def test_a_non_member_and_an_ex_member_change_nothing(client, alice, bob, lounge):
    alice.join(lounge)
    seq = _post(client, lounge, "alice", "members only")
    for action, data in (("edit", {"text": "x"}), ("delete", {}), ("reactions", {"emoji": "👍"})):
        assert bob.post(f"/groups/{lounge}/messages/{seq}/{action}", data).status_code == 403
    with alice.socket(lounge) as a:
        resume(a, seq)
        alice.leave(lounge)
        # The ex-member's socket is closed on leaving; the forms refuse too.
        for action, data in (
            ("edit", {"text": "x"}),
            ("delete", {}),
            ("reactions", {"emoji": "👍"}),
        ):
            assert alice.post(f"/groups/{lounge}/messages/{seq}/{action}", data).status_code == 403
    alice.join(lounge)
    page = alice.get(f"/groups/{lounge}/").text
    assert body_of(page, seq) == "members only" and "reaction" not in message_li(page, seq)


@pytest.mark.parametrize("target", ["999", "0", "abc", "-1"])
def test_a_target_that_does_not_exist_is_a_clear_404(client, alice, both, target):
    for action, data in (("edit", {"text": "x"}), ("delete", {}), ("reactions", {"emoji": "👍"})):
        response = alice.post(f"/groups/{both}/messages/{target}/{action}", data)
        assert response.status_code == 404


@pytest.mark.parametrize("target", ["999", "0", "abc", "-1"])
def test_a_target_that_does_not_exist_is_refused_over_the_socket_too(client, alice, both, target):
    seq = _post(client, both, "alice", "stays as it is")
    with alice.socket(both) as a:
        resume(a, seq)
        for kind, data in (("edit", {"text": "x"}), ("delete", {}), ("react", {"emoji": "👍"})):
            frame(a, kind, seq=target, **data)
            assert "not in this group" in receive_until(a, "composer")[-1]
        say(a, "still connected")
        assert "still connected" in receive_until(a, "still connected")[-1]
    page = alice.get(f"/groups/{both}/").text
    assert body_of(page, seq) == "stays as it is" and "reaction" not in message_li(page, seq)


def test_a_message_of_another_group_cannot_be_changed_from_this_one(
    client, alice, both, make_group
):
    other = make_group("Other")
    alice.join(other)
    seq = _post(client, other, "alice", "over there")
    # The same seq in this group is a join event, not a message: nothing to change.
    response = alice.post(f"/groups/{both}/messages/{seq}/edit", {"text": "moved"})
    assert response.status_code == 404
    assert body_of(alice.get(f"/groups/{other}/").text, seq) == "over there"


def test_a_change_is_rendered_once_and_the_same_for_every_page(
    client, alice, bob, both, monkeypatch
):
    """An edit, a reaction and a deletion each reach the author's page and another member's as
    the very same frame, rendered once ("mine" is marked in the browser, from data-author-id)."""
    from discussit.timeline import live

    renders: list[str] = []

    def counted(name: str, **context: Any) -> str:
        renders.append(name)
        return real(name, **context)

    real = live.render
    monkeypatch.setattr(live, "render", counted)
    seq = _post(client, both, "alice", "one")
    with alice.socket(both) as a, bob.socket(both) as b:
        resume(a, seq)
        resume(b, seq)
        for kind, data in (("edit", {"text": "two"}), ("react", {"emoji": "👍"}), ("delete", {})):
            renders.clear()
            frame(a, kind, seq=str(seq), **data)
            mine = receive_until(a, f"entry-{seq}")[-1]
            assert mine == receive_until(b, f"entry-{seq}")[-1]
            assert renders == ["live/_entry.html"], kind


# ---- delete ----------------------------------------------------------------------------------


def test_the_author_deletes_after_confirming_and_it_shows_as_deleted_live(client, alice, bob, both):
    seq = _post(client, both, "alice", "regrettable")
    confirm = alice.get(f"/groups/{both}/messages/{seq}/delete")
    assert confirm.status_code == 200 and "Delete this message?" in confirm.text
    with bob.socket(both) as b:
        resume(b, seq)
        assert alice.post(f"/groups/{both}/messages/{seq}/delete").status_code == 303
        live = receive_until(b, f"entry-{seq}")[-1]
    assert "message--deleted" in live and "regrettable" not in live
    page = bob.get(f"/groups/{both}/").text
    assert "This message was deleted." in message_li(page, seq) and "regrettable" not in page
    # Gone is gone: no edit, no reaction, no second deletion.
    assert alice.post(f"/groups/{both}/messages/{seq}/edit", {"text": "x"}).status_code == 404
    assert bob.post(f"/groups/{both}/messages/{seq}/reactions", {"emoji": "👍"}).status_code == 404


def test_staff_delete_anyones_message_and_others_cannot(client, alice, bob, both):
    seq = _post(client, both, "alice", "spam")
    refused = bob.post(f"/groups/{both}/messages/{seq}/delete", headers=HX)
    assert refused.status_code == 403 and "author or staff" in refused.text
    assert 'id="notice"' in refused.text  # htmx: the reason in the page's notice line
    factories.make_staff(client, "bob")
    assert bob.post(f"/groups/{both}/messages/{seq}/delete").status_code == 303
    assert "message--deleted" in message_li(alice.get(f"/groups/{both}/").text, seq)


def test_a_delete_over_the_socket(client, alice, bob, both):
    seq = _post(client, both, "alice", "bye")
    with alice.socket(both) as a, bob.socket(both) as b:
        resume(a, seq)
        resume(b, seq)
        frame(a, "delete", seq=seq)
        assert "message--deleted" in receive_until(b, f"entry-{seq}")[-1]


# ---- reactions -------------------------------------------------------------------------------


def test_reactions_toggle_count_and_name_who_reacted(client, alice, bob, both):
    seq = _post(client, both, "alice", "lunch?")
    with alice.socket(both) as a:
        resume(a, seq)
        assert (
            bob.post(f"/groups/{both}/messages/{seq}/reactions", {"emoji": "👍"}).status_code == 303
        )
        live = receive_until(a, f"entry-{seq}")[-1]
        assert 'aria-label="👍 1: bob"' in live
        frame(a, "react", seq=seq, emoji="👍")
        live = receive_until(a, f"entry-{seq}")[-1]
        assert 'aria-label="👍 2: bob, alice"' in live
        assert re.search(r'data-users=" \d+ \d+ "', live)
        frame(a, "react", seq=seq, emoji="👍")  # again: taken back
        assert 'aria-label="👍 1: bob"' in receive_until(a, f"entry-{seq}")[-1]


def test_a_reaction_is_counted_once_per_member_and_emoji(client, alice, bob, both):
    seq = _post(client, both, "alice", "idempotent")
    with alice.socket(both) as a:
        resume(a, seq)
        drain(a)
        for _ in range(3):
            frame(a, "react", seq=seq, emoji="🎉", on="on")
        live = receive_until(a, f"entry-{seq}")[-1]
        assert 'aria-label="🎉 1: alice"' in live
        assert nothing_received(a)  # the second and third changed nothing: nothing sent
    page = bob.get(f"/groups/{both}/").text
    assert 'aria-label="🎉 1: alice"' in message_li(page, seq)


@pytest.mark.parametrize("emoji", ["🤡", "", "<b>", "👍👍", "x" * 100])
def test_an_unknown_emoji_is_refused_and_stores_nothing(client, alice, both, emoji):
    seq = _post(client, both, "alice", "react to me")
    refused = alice.post(f"/groups/{both}/messages/{seq}/reactions", {"emoji": emoji})
    assert refused.status_code == 400 and "React with one of" in refused.text
    with alice.socket(both) as a:
        resume(a, seq)
        frame(a, "react", seq=seq, emoji=emoji)
        assert "React with one of" in receive_until(a, "composer")[-1]
    assert "reaction" not in message_li(alice.get(f"/groups/{both}/").text, seq)


# ---- replies ---------------------------------------------------------------------------------


def test_a_reply_quotes_the_first_line_and_links_to_it(client, alice, bob, both):
    seq = _post(client, both, "alice", "\n  Who brings cake?\nsecond line")
    with alice.socket(both) as a, bob.socket(both) as b:
        resume(a, seq)
        resume(b, seq)
        say(a, "me!", reply_to=str(seq))
        live = receive_until(b, "me!")[-1]
    quote = html(type("R", (), {"text": live})()).css_first(".message__quote")
    assert quote.attributes["href"] == f"?around={seq}"
    assert quote.text() == "alice Who brings cake?"
    # The page after a reload, and a reply posted without JavaScript.
    assert (
        alice.post(f"/groups/{both}/messages", {"text": "me too", "reply_to": str(seq)}).status_code
        == 303
    )
    quotes = html(bob.get(f"/groups/{both}/")).css(".message__quote")
    assert [q.text() for q in quotes] == ["alice Who brings cake?"] * 2


def test_editing_or_deleting_a_quoted_message_updates_its_quotes_live(client, alice, bob, both):
    seq = _post(client, both, "alice", "original")
    factories.client_store(client, both, "bob", "answer")  # (no reply: set up below)
    with alice.socket(both) as a, bob.socket(both) as b:
        resume(a, seq + 1)
        resume(b, seq + 1)
        say(b, "answer", reply_to=str(seq))
        receive_until(b, f"quote-of-{seq}")  # (stored before the edit and the deletion)
        frame(a, "edit", seq=seq, text="revised")
        live = receive_until(b, f"entry-{seq}")[-1]
        assert f'hx-swap-oob="outerHTML:.quote-of-{seq}"' in live and "revised" in live
        frame(a, "delete", seq=seq)
        live = receive_until(b, "message--deleted")[-1]
        assert "A deleted message" in live
    assert "A deleted message" in bob.get(f"/groups/{both}/").text


def test_a_reply_to_a_message_elsewhere_or_missing_is_refused_with_the_text_kept(
    client, alice, both, make_group
):
    other = make_group("Other")
    alice.join(other)
    elsewhere = _post(client, other, "alice", "not here")
    for reply_to in (str(elsewhere + 100), "abc"):
        response = alice.post(
            f"/groups/{both}/messages", {"text": "my answer", "reply_to": reply_to}
        )
        assert response.status_code in (400, 404)
        assert html(response).css_first("textarea[name=text]").text() == "my answer"
    with alice.socket(both) as a:
        resume(a, 1)
        say(a, "my answer", reply_to=str(elsewhere + 100))
        assert "not in this group" in receive_until(a, "composer")[-1]


def test_the_reply_link_prefills_the_composer_without_javascript(client, alice, both):
    seq = _post(client, both, "alice", "question")
    page = html(alice.get(f"/groups/{both}/?reply_to={seq}"))
    assert page.css_first("#composer-reply-to").attributes["value"] == str(seq)
    assert "question" in page.css_first("#composer-reply").text()


# ---- catch-up --------------------------------------------------------------------------------


def test_a_page_that_was_away_replays_edits_and_deletes_once_in_order(client, alice, bob, both):
    kept = _post(client, both, "alice", "kept")
    gone = _post(client, both, "alice", "gone")
    with alice.socket(both) as a:
        resume(a, gone)
        frame(a, "edit", seq=kept, text="kept, edited once")
        frame(a, "edit", seq=kept, text="kept, edited twice")
        frame(a, "react", seq=kept, emoji="❤️")
        frame(a, "edit", seq=gone, text="gone, edited")
        frame(a, "edit", seq=gone, text="gone, edited twice")
        frame(a, "delete", seq=gone)
        receive_until(a, "message--deleted")
    with bob.socket(both) as b:  # bob was away since `gone` was posted
        resume(b, gone)
        frames = receive_until(b, "message--deleted") + drain(b)  # (however slow the catch-up)
    cursors = [int(c) for f in frames for c in re.findall(r'id="last-seq"[^>]*value="(\d+)"', f)]
    assert cursors == list(range(gone + 1, gone + 7))  # each change once, in order
    fresh = bob.get(f"/groups/{both}/").text
    for seq in (kept, gone):
        last = [f for f in frames if f"entry-{seq}" in f][-1]
        assert message_li(last, seq) == message_li(fresh, seq)


def test_a_page_catches_up_on_a_change_to_a_message_it_never_showed(client, alice, bob, both):
    old = _post(client, both, "alice", "old news")
    factories.post_messages(client, both, "alice", 5)  # bob's page shows these, not `old`
    alice.post(f"/groups/{both}/messages/{old}/edit", {"text": "old news, fixed"})
    with bob.socket(both) as b:
        resume(b, old + 5)
        frames = receive_until(b, "old news, fixed")
    assert "old news, fixed" in frames[-1]


# ---- links to a message ----------------------------------------------------------------------


def test_a_message_link_opens_the_page_around_it_highlighted(client, alice, both):
    factories.post_messages(client, both, "alice", 120)
    target = 60
    link = alice.get(f"/groups/{both}/messages/{target}", follow_redirects=False)
    assert link.status_code == 303
    assert link.headers["location"] == f"/groups/{both}/?around={target}#entry-{target}"
    page = html(alice.get(link.headers["location"]))
    shown = [int(li.attributes["data-seq"]) for li in page.css("#timeline > li[data-seq]")]
    assert shown[0] < target < shown[-1] and target in shown
    assert "message--target" in page.css_first(f"#entry-{target}").attributes["class"]
    assert page.css_first("#load-older") is not None and page.css_first("#load-newer") is not None
    assert page.css_first(".message-actions") is not None  # its actions, as forms
    newer = alice.get(f"/groups/{both}/history?after={shown[-1]}", headers=HX)
    got = [int(s) for s in re.findall(r'data-seq="(\d+)"', newer.text)]
    assert got[0] == shown[-1] + 1 and got == list(range(got[0], got[0] + len(got)))
    plain = html(alice.get(f"/groups/{both}/?after={shown[-1]}"))
    assert plain.css("#timeline > li[data-seq]")[0].attributes["data-seq"] == str(shown[-1] + 1)


# ---- odd addresses and answers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["?after={last}", "?after=99999999999", "?around=2147483648", "?reply_to=9999999999"]
)
def test_page_cursors_past_the_end_show_a_page_not_an_error(client, alice, both, query):
    last = _post(client, both, "alice", "the end")
    response = alice.get(f"/groups/{both}/" + query.format(last=last))
    assert response.status_code == 200


@pytest.mark.parametrize("seq", ["2147483648", "99999999999", "00000000000000000001"])
def test_message_numbers_past_the_columns_are_a_404_not_a_server_error(client, alice, both, seq):
    for action, data in (("edit", {"text": "x"}), ("delete", {}), ("reactions", {"emoji": "👍"})):
        assert alice.post(f"/groups/{both}/messages/{seq}/{action}", data).status_code == 404
    assert alice.get(f"/groups/{both}/messages/{seq}/edit").status_code == 404
    history = alice.get(f"/groups/{both}/history?after={seq}", headers=HX)
    assert history.status_code in (200, 400)  # a page, or a clear 400 for an absurd cursor


def test_a_live_page_gets_its_change_over_the_socket_not_in_the_answer(client, alice, both):
    seq = _post(client, both, "alice", "live")
    live = {**HX, "X-Live-Page": "1"}
    answer = alice.post(f"/groups/{both}/messages/{seq}/reactions", {"emoji": "👍"}, headers=live)
    assert answer.status_code == 200 and answer.text == ""
    saved = alice.post(f"/groups/{both}/messages/{seq}/edit", {"text": "live!"}, headers=live)
    assert saved.text == "" and saved.headers["HX-Reswap"] == "delete"
    older = alice.post(f"/groups/{both}/messages/{seq}/reactions", {"emoji": "👀"}, headers=HX)
    assert 'aria-label="👀 1: alice"' in older.text  # a page that is not live: in the answer


def test_the_no_javascript_reaction_forms_say_on_or_off(client, alice, both):
    seq = _post(client, both, "alice", "twice")
    for _ in range(2):  # a resubmitted form changes nothing the second time
        alice.post(f"/groups/{both}/messages/{seq}/reactions", {"emoji": "👍", "on": "on"})
    page = html(alice.get(f"/groups/{both}/?around={seq}"))
    assert page.css_first(f"#entry-{seq} .reaction").attributes["aria-label"] == "👍 1: alice"
    form = [f for f in page.css(".message-actions form") if "👍" in f.html][0]
    assert form.css_first("input[name=on]").attributes["value"] == "off"


def test_a_refused_reply_over_the_socket_keeps_what_it_answers(client, alice, both):
    seq = _post(client, both, "alice", "question")
    with alice.socket(both) as a:
        resume(a, seq)
        say(a, "x" * (limits.MESSAGE_MAX + 1), reply_to=str(seq))
        composer = html(type("R", (), {"text": receive_until(a, "composer")[-1]})())
    assert composer.css_first("#composer-reply-to").attributes["value"] == str(seq)
    assert "question" in composer.css_first("#composer-reply").text()


def test_staff_taken_off_staff_cannot_delete_from_a_socket_opened_before(client, alice, bob, both):
    from sqlalchemy import update

    from discussit.models import User

    seq = _post(client, both, "alice", "keep")
    factories.make_staff(client, "bob")
    with bob.socket(both) as b:
        resume(b, seq)

        async def demote(session):  # type: ignore[no-untyped-def]
            await session.exec(update(User).where(User.username == "bob").values(is_staff=False))
            await session.commit()

        factories.run(client, demote)
        frame(b, "delete", seq=seq)
        assert "author or staff" in receive_until(b, "composer-status")[-1]


def test_links_on_the_delete_and_edit_pages_lead_into_the_group(client, alice, both):
    seq = _post(client, both, "alice", "linked")
    for page in ("delete", "edit"):
        base = html(alice.get(f"/groups/{both}/messages/{seq}/{page}")).css_first("base")
        assert base.attributes["href"] == f"/groups/{both}/"


# ---- hostile text, edited in -------------------------------------------------------------------


def test_hostile_edits_are_inert_live_on_the_message_page_and_in_the_editor(
    client, alice, bob, both
):
    """The checklist's XSS payloads and the markdown ones, each edited into a message: shown as
    text (or a safe link) in the live fragment, on the message's own page and in the editor."""
    from discussit.core.security import text as text_policy
    from tests.helpers import MARKDOWN_PAYLOADS, XSS_PAYLOADS, shown_as_text

    seq = _post(client, both, "alice", "harmless")
    edit = f"/groups/{both}/messages/{seq}/edit"
    with bob.socket(both) as b:
        resume(b, seq)
        change = seq
        for i, payload in enumerate(XSS_PAYLOADS + MARKDOWN_PAYLOADS):
            typed = f"{payload} {i}"  # (each edit changes the text)
            try:
                text = text_policy.clean(typed, text_policy.MESSAGE)  # as stored: no bidi controls
            except text_policy.InvalidText:  # (control characters): refused, nothing stored
                assert alice.post(edit, {"text": typed}).status_code == 400
                continue
            assert alice.post(edit, {"text": typed}).status_code == 303
            change += 1
            live = html(type("R", (), {"text": receive_until(b, f'value="{change}"')[-1]})())
            assert shown_as_text(live.css_first(f"#entry-{seq} .message__body"), text), text
            page = html(bob.get(f"/groups/{both}/?around={seq}"))
            assert shown_as_text(page.css_first(f"#entry-{seq} .message__body"), text), text
            assert html(alice.get(edit, headers=HX)).css_first("textarea").text() == text


def test_home_pages_event_streams_carry_no_message_or_change(client, alice, bob, both, make_group):
    """The home page's SSE stream shows groups and counts, never a group's messages: editing,
    reacting, replying and deleting send nothing to it (and so leak nothing to non-members)."""
    from tests.groups.test_stream import stream

    other = make_group("Other")
    seq = _post(client, both, "alice", "secret plans")
    with stream(bob) as events:
        events.wait_for('<div id="groups"')
        alice.post(f"/groups/{both}/messages/{seq}/edit", {"text": "secret plans, edited"})
        alice.post(f"/groups/{both}/messages/{seq}/reactions", {"emoji": "👍"})
        alice.post(f"/groups/{both}/messages", {"text": "secret reply", "reply_to": str(seq)})
        alice.post(f"/groups/{both}/messages/{seq}/delete")
        alice.join(other)  # something home pages do get: the other group's member count
        events.wait_for(f'id="group-{other}-count"')
        assert not any("secret" in e or "entry-" in e for e in events.seen)
