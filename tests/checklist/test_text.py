"""One text policy for everything people type (issue 11, items 7 and 8): every field and every
number that arrives as text, through every entry point, with inputs a hostile or careless client
sends. Each input must be refused with a clear error (never stored, never a server error), and
the figures go to the checklist summary (text_policy: tried, wrongly_accepted, server_errors)."""

from __future__ import annotations

import json
import unicodedata

import pytest
import sqlalchemy as sa
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.websockets import WebSocketDisconnect

from discussit import limits
from discussit.core.security import text
from discussit.core.templating import SOCKET_PAGE
from tests import factories
from tests import figures as figs
from tests.helpers import Browser, freeze_limits, html, receive_until, resume

# Texts no field accepts: controls, NUL, lone surrogates, private-use, unassigned and
# non-characters, and texts with no visible glyph.
REFUSED_EVERYWHERE = [
    "",
    "   ",
    "a\x00b",
    "\x00",
    "a\x01b",
    "a\x1bb",
    "a\x7fb",
    "a\x85b",
    "a\x9bb",
    "a\ue000b",
    "a\U000f0000b",
    "a\u0378b",
    "a\uffffb",
    "a\ufdd0b",
    "\u2800",
    "\u3164",
    "\u115f\u1160",
    "\uffa0",
    "\u00ad",
    "\u200b\u200c\u200d\u2060\ufeff",
    "\ufe0f",
    "\u034f",
    "\U000e0041",
    "\u202e\u202d",
    "\u2066\u2069",
    "\u00a0\u3000",
]
SURROGATE = "a\ud800b"  # JSON can carry it; a form body cannot (not valid UTF-8)
NUMBERS = ["\u00b2", "\u2460", "\u0661", "\x00", "-1", "+1", "1e3", " 1", "1.0", "9" * 19, "0x10"]


def _tally(tried: int, accepted: int = 0, errors: int = 0) -> None:
    figs.add("text_policy", "inputs_tried", tried)
    figs.add("text_policy", "wrongly_accepted", accepted)
    figs.add("text_policy", "server_errors", errors)


def _stored_messages(client, group_id) -> list[str]:  # type: ignore[no-untyped-def]
    async def read(session):  # type: ignore[no-untyped-def]
        from discussit.timeline import history

        entries, _ = await history.page_before(session, group_id, 10**9, 1000)
        return [e.body for e in entries if e.kind == "message"]

    return factories.run(client, read)


@pytest.mark.parametrize("rule", [text.MESSAGE, text.USERNAME, text.GROUP_NAME, text.PAGE_KEY])
def test_text_every_rule_refuses_the_hostile_inputs(rule):
    for raw in [*REFUSED_EVERYWHERE, SURROGATE, "x" * (rule.max_length + 1), None, 42, b"x"]:
        with pytest.raises(text.InvalidText) as refused:
            text.clean(raw, rule)
        assert str(refused.value).startswith((rule.what, "Type a message"))
    _tally(len(REFUSED_EVERYWHERE) + 5)


def test_text_multi_line_fields_keep_newlines_and_single_line_fields_refuse_them():
    assert text.clean("one\r\ntwo\rthree\n", text.MESSAGE) == "one\ntwo\nthree"
    assert text.clean("tab\there", text.MESSAGE) == "tab here"
    with pytest.raises(text.InvalidText, match="control characters"):
        text.clean("one\ntwo", text.GROUP_NAME)
    assert text.clean("\u202eevil\u202c name", text.GROUP_NAME) == "evil name"  # neutralised
    assert text.clean("e\u0301", text.MESSAGE) == "\u00e9"  # stored NFC
    assert text.clean("\U0001f469\u200d\U0001f4bb", text.MESSAGE) == "\U0001f469\u200d\U0001f4bb"
    assert text.clean("  ", text.GROUP_DESCRIPTION) == ""  # optional fields may be empty
    _tally(1)  # the newline in a single-line field


@pytest.mark.parametrize("raw", NUMBERS)
def test_text_numbers_are_ascii_digits_only(raw):
    with pytest.raises(text.InvalidText):
        text.clean_number(raw, "before")
    assert text.clean_number("0012", "before") == 12


def test_text_usernames_that_differ_by_case_or_look_alikes_are_one_name(client, alice):
    for variant in ("ALICE", "aIice", "a1ice", "Alice", "al\u0131ce"):
        response = Browser(client).sign_up(variant)
        assert response.status_code == 400, variant
        problem = html(response).css_first(".form__error")
        assert problem is not None and ("taken" in problem.text() or "Usernames" in problem.text())
    assert text.username_key("rnary") == text.username_key("mary")
    assert text.username_key("bob") != text.username_key("rob")
    # A look-alike spelling logs in to the one account it names (the password still decides).
    assert Browser(client).log_in("ALICE").status_code == 303
    _tally(5)


def test_text_group_names_compare_the_same_way_on_every_database(client, alice, make_group):
    make_group("Caf\u00e9")
    factories.make_staff(client, "alice")
    for variant in ("CAF\u00c9", "cafe\u0301", "\uff43\uff41\uff46\u00e9", " caf\u00e9 "):
        response = alice.post("/groups", {"name": variant, "description": ""})
        assert response.status_code == 400 and "already exists" in response.text, variant
    _tally(4)


def test_text_every_http_field_refuses_hostile_text_with_a_400(client, alice, lounge):
    alice.join(lounge)
    factories.make_staff(client, "alice")
    tried = accepted = errors = 0
    for raw in REFUSED_EVERYWHERE:
        refused_chars = any(unicodedata.category(ch) in {"Cc", "Co", "Cn"} for ch in raw)
        answers = [
            alice.post(f"/groups/{lounge}/messages", {"text": raw}),
            alice.post("/groups", {"name": raw, "description": ""}),
            Browser(client).sign_up(raw or " "),
        ]
        if refused_chars:  # a description may be blank (stored empty), never hostile
            answers.append(alice.post("/groups", {"name": "Fine name", "description": raw}))
        for response in answers:
            tried += 1
            errors += response.status_code >= 500
            accepted += response.status_code < 400
            assert response.status_code == 400, (raw, response.status_code)
    assert _stored_messages(client, lounge) == []
    _tally(tried, accepted, errors)


def test_text_numbers_and_page_keys_in_the_query_are_a_400(alice, lounge):
    alice.join(lounge)
    tried = 0
    for raw in NUMBERS:
        for url in (f"/groups/{lounge}/", f"/groups/{lounge}/history"):
            response = alice.get(url, params={"before": raw})
            assert response.status_code == 400, (url, raw, response.status_code)
            tried += 1
    for raw in ["\x00", "a\x01", "x" * 61, "a\ue000"]:
        assert alice.get("/", params={"after": raw}).status_code == 400
        tried += 1
    # Raw percent-escapes, including bytes that are not UTF-8.
    for query in ("before=%00", "before=%C2%B2", "before=%FF", "before=%ED%A0%80"):
        assert alice.get(f"/groups/{lounge}/?{query}").status_code == 400, query
        tried += 1
    for query in ("after=%00", "after=a%01"):
        assert alice.get(f"/?{query}").status_code == 400, query
        tried += 1
    _tally(tried)


def test_text_a_file_where_text_is_expected_is_a_400(client, alice, lounge):
    alice.join(lounge)
    factories.make_staff(client, "alice")
    upload = ("x.txt", b"hello", "text/plain")
    cases = [
        (f"/groups/{lounge}/messages", "text", {}),
        (f"/groups/{lounge}/messages", "client_message_id", {"text": "hi"}),
        ("/groups", "name", {}),
        ("/groups", "description", {"name": "Fine"}),
        (f"/groups/{lounge}/membership", "next", {}),
        (f"/groups/{lounge}/membership/delete", "next", {}),
    ]
    for url, field, others in cases:
        token = {"X-CSRF-Token": alice.csrf()}
        response = alice.post(url, others, csrf=False, headers=token, files={field: upload})
        assert response.status_code == 400, (url, field, response.status_code)
    anonymous = Browser(client)
    for url, field in [("/signup", "username"), ("/signup", "password"), ("/login", "username")]:
        token = {"X-CSRF-Token": anonymous.csrf()}
        response = anonymous.post(url, {}, csrf=False, headers=token, files={field: upload})
        assert response.status_code == 400, (url, field, response.status_code)
    assert _stored_messages(client, lounge) == []
    _tally(len(cases) + 3)


def test_text_socket_frames_with_hostile_text_or_numbers_get_a_notice_and_survive(
    client, alice, lounge
):
    alice.join(lounge)
    hostile = [*REFUSED_EVERYWHERE, SURROGATE]
    tried = 0
    # Refused frames count toward the bad-frame close (a page of ours sends few): three per
    # socket, as a page reconnecting now and then would.
    for start in range(0, len(hostile), 3):
        with alice.socket(lounge) as ws:
            resume(ws, 1)
            for raw in hostile[start : start + 3]:
                ws.send_text(json.dumps({"text": raw, "client_message_id": "abcdefgh-1"}))
                receive_until(ws, 'id="composer"')
                tried += 1
            ws.send_text(json.dumps({"text": "still here"}))
            receive_until(ws, "still here")
    for cursor in ["\u2460", "\u00b2", "-1", "1e3", 1.5, True, None, [1], "9" * 19]:
        with alice.socket(lounge) as ws:
            ws.send_text(json.dumps({"type": "resume", "page": SOCKET_PAGE, "after": cursor}))
            assert "Could not resume" in receive_until(ws, 'id="composer"')[-1]
            tried += 1
    assert set(_stored_messages(client, lounge)) == {"still here"}
    _tally(tried)


def test_text_a_socket_closes_after_too_many_refused_frames(alice, lounge):
    alice.join(lounge)
    with alice.socket(lounge) as ws:
        resume(ws, 1)
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(20):
                ws.send_text(json.dumps({"text": "\x00"}))
                receive_until(ws, 'id="composer"')
        assert closed.value.code == 1008
    figs.add("budget", "cases_tried")
    figs.add("budget", "cases_held")
    figs.FIGURES["budget"].setdefault("cases", []).append("refused frames close the socket")  # type: ignore[union-attr]


def test_budget_a_socket_spends_a_frame_budget_before_parsing(client, alice, lounge):
    """Each frame spends from a budget of the sender's message budget plus FRAME_SLACK,
    refilled at the same pace: a burst past it is refused unparsed (and counts as bad)."""
    from types import SimpleNamespace

    from discussit.chat.frames import FRAME_SLACK, Frames
    from discussit.settings import Rate

    page = SimpleNamespace(
        settings=SimpleNamespace(messages_per_user=Rate(30, 10)), frame_budget=(float("inf"), 0.0)
    )
    spent = [Frames.spend_frame(page) for _ in range(30 + FRAME_SLACK + 5)]  # type: ignore[arg-type]
    assert spent == [True] * (30 + FRAME_SLACK) + [False] * 5
    figs.add("budget", "cases_tried")
    figs.add("budget", "cases_held")
    figs.FIGURES["budget"].setdefault("cases", []).append("frames per socket")  # type: ignore[union-attr]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
@example("\U0001f1ae")  # unassigned in this Python's Unicode data, in the pictographs' blocks
@example("\U0001fffe")  # a non-character: never
def test_text_whatever_is_typed_is_refused_or_stored_clean(raw):
    """Fuzzing the policy: what it accepts has no refused character, no bidi control, no
    surrounding whitespace, at most the limit, and something visible; cleaning is idempotent.
    An unassigned code point is accepted only in the blocks Unicode keeps for pictographs (an
    emoji newer than this Python's Unicode data: core/security/text.py)."""
    for rule in (text.MESSAGE, text.GROUP_NAME):
        try:
            cleaned = text.clean(raw, rule)
        except text.InvalidText:
            continue
        assert cleaned and cleaned == cleaned.strip() and len(cleaned) <= rule.max_length
        for ch in cleaned:
            assert unicodedata.category(ch) not in {"Cs", "Co"}
            assert unicodedata.category(ch) != "Cn" or 0x1F000 <= ord(ch) <= 0x1FAFF
            assert unicodedata.category(ch) != "Cc" or (ch == "\n" and rule.multiline)
            assert not ("\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069")
        assert text.clean(cleaned, rule) == cleaned


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
@example("a\x0bb")
@example(" \n ")
@example("\x7f")
def test_text_the_ascii_shortcut_decides_as_the_character_by_character_check(raw):
    """ASCII text is checked by one regular expression (core/security/text.py): for every rule
    it refuses, with the same words, and finds something visible exactly when the full
    character-by-character check does."""

    def decide(check, rule):  # type: ignore[no-untyped-def]
        try:
            return check(raw, rule)
        except text.InvalidText as refused:
            return str(refused)

    for rule in (text.MESSAGE, text.GROUP_NAME, text.USERNAME):
        assert decide(text._checked, rule) == decide(text._checked_each, rule)


def test_text_a_failing_statement_never_carries_user_input_to_the_log(client):
    """hide_parameters: SQLAlchemy's error (what would be logged) names no value. (No NUL
    reaches PostgreSQL at all: the tests above run on it too, and every NUL is a 400.)"""

    async def fail(session):  # type: ignore[no-untyped-def]
        await session.exec(
            sa.text("SELECT no_such_column WHERE 1 = :typed"), params={"typed": "s3cret-typed"}
        )

    with pytest.raises(sa.exc.SQLAlchemyError) as failure:
        factories.run(client, fail)
    assert "s3cret-typed" not in str(failure.value)
    assert "hidden" in str(failure.value)
    assert text.MESSAGE.max_length == limits.MESSAGE_MAX


def test_text_emoji_newer_than_this_python_and_invisible_format_characters_in_names():
    assert text.clean("\U0001fae8 shaking face", text.MESSAGE) == "\U0001fae8 shaking face"
    with pytest.raises(text.InvalidText):
        text.clean("a\U0001fffeb", text.MESSAGE)  # a non-character stays refused
    assert text.name_key("General\u200b") == text.name_key("general")
    _tally(1)


def test_text_login_spellings_that_reach_an_account_share_its_budget(client_with):
    """Fullwidth and mathematical letters fold to the account's name (NFKC), so they count
    against its login budget too: no spelling gets a budget of its own."""
    from discussit.settings import Rate

    with client_with(login_attempts_per_user=Rate(3, 180)) as client:
        freeze_limits(client)
        Browser(client).sign_up("alice")
        answers = [
            Browser(client).log_in(name, "wrong-guess-77").status_code
            for name in ("alice", "\uff41lice", "\U0001d41alice", "ALICE")
        ]
    assert answers == [400, 400, 400, 429]
    _tally(3)


def test_text_accounts_kept_from_before_the_key_still_log_in(client):
    """Migration 0003 gave the younger of two look-alike accounts the key `key~id`: typed
    exactly, its name still finds it."""
    from discussit.accounts import auth
    from discussit.models import User

    async def legacy(session):  # type: ignore[no-untyped-def]
        session.add(
            User(username="alice", username_key=text.username_key("alice"), password_hash="!")
        )
        session.add(
            User(
                username="aIice", username_key=text.username_key("aIice") + "~2", password_hash="!"
            )
        )
        await session.commit()
        return [
            (await auth.find_user(session, name)).username for name in ("aIice", "alice", "ALICE")
        ]

    assert factories.run(client, legacy) == ["aIice", "alice", "alice"]
