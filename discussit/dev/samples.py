"""Sample data for every fragment in templates/ (files named `_*.html`), in each of its states:
what the pattern page (/dev/patterns) shows, and what the template tests render. Written once,
here; a test fails when a fragment has no samples.

`samples(csrf_token)` gives {fragment: [(state, context), ...]}. Names come with a hostile
one among them, so the page also shows that every fragment escapes what people type."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from discussit import limits
from discussit.accounts.logins import Login
from discussit.admin.people import Person
from discussit.groups import notifications
from discussit.groups.directory import DirectoryPage, GroupRow
from discussit.groups.membership import Member
from discussit.groups.reading import Unread
from discussit.models import Group
from discussit.search.engines import SORTS, Hit
from discussit.search.searching import Answer, Ask
from discussit.timeline.entries import Entry, Kind, Quote, Reactions
from discussit.timeline.formatting import to_html

GROUP_ID = uuid.UUID("7c1e0000-0000-4000-8000-000000000001")
OTHER_ID = uuid.UUID("7c1e0000-0000-4000-8000-000000000002")
NOW = datetime(2026, 12, 2, 17, 30, tzinfo=UTC)
HOSTILE = "<b>\"Ana\" & 'Ben'</b>"
ANA, BEN = Member(1, "ana", "Ana Lima", 3), Member(2, "ben", "", 0)


def _message(seq: int, body: str, **changes: Any) -> Entry:
    fields: dict[str, Any] = {
        "kind": Kind.MESSAGE,
        "seq": seq,
        "group_id": GROUP_ID,
        "user_id": 1,
        "username": "Ana Lima",
        "created_at": NOW - timedelta(minutes=60 - seq),
        "body": body,
        "body_html": to_html(body),
        "avatar_version": 3,
    }
    return Entry(**(fields | changes))


MESSAGE = _message(10, "Tea at **four**, in the `garden`: https://example.com/tea")
EDITED = _message(11, "Fixed the typo", edited_at=NOW - timedelta(minutes=40))
REACTED = _message(12, "Who is coming?", reactions=(Reactions("👍", (1, 2), ("Ana Lima", "ben")),))
REPLY = _message(
    13, "Me!", user_id=2, username="ben", reply=Quote(12, "Ana Lima", "Who is coming?")
)
MENTION = _message(14, "@ben bring the cups", mentions=frozenset({2}))
DELETED = _message(15, "", deleted=True, body_html="")
EMOJI = _message(16, "🎉🎉", user_id=2, username="ben")
HOSTILE_MESSAGE = _message(17, HOSTILE, username=HOSTILE)
JOINED = Entry(Kind.JOINED, 8, GROUP_ID, 2, "ben", NOW - timedelta(hours=2))
LEFT = Entry(Kind.LEFT, 9, GROUP_ID, 3, HOSTILE, NOW - timedelta(hours=1))
EDIT_CHANGE = Entry(Kind.EDITED, 18, GROUP_ID, 1, "Ana Lima", NOW, target=EDITED)
ROW = GroupRow(GROUP_ID, "Garden", "Tea and plants", 12, True, unread=3, mentions=1)
ROWS = {
    "a member, with unread messages and a mention": ROW,
    "a member, all read": GroupRow(GROUP_ID, "Garden", "Tea and plants", 12, True),
    "not a member": GroupRow(OTHER_ID, HOSTILE, "Anyone may join", 4, False),
    "private": GroupRow(OTHER_ID, "Vault", "Members only", 2, True, is_private=True),
    "archived": GroupRow(OTHER_ID, "Old news", "Read-only now", 9, False, archived=True),
}
GROUP = Group(id=GROUP_ID, name="Garden", name_key="garden", description="Tea and plants")
PRIVATE = Group(id=GROUP_ID, name="Vault", name_key="vault", description="", is_private=True)
ARCHIVED = Group(id=GROUP_ID, name="Old news", name_key="old news", archived_at=NOW)
HIT = Hit(1, GROUP_ID, "Garden", 10, "Ana Lima", NOW, "Tea at \x02four\x03, in the garden", None)
ANSWER = Answer(Ask("four", "", "newest"), True, [HIT], None, (), [(GROUP_ID, "Garden")])
NOTED = Answer(Ask("four !!"), True, [HIT], None, ("Symbols on their own are not searched for.",))
EMPTY = Answer(Ask("nothing-like-it"), True, [], None, (), [(GROUP_ID, "Garden")])
MORE = Answer(Ask("four"), True, [HIT], (NOW, 1), (), [(GROUP_ID, "Garden")])  # type: ignore[arg-type]


def samples(csrf_token: str) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    token = {"csrf_token": csrf_token}
    search = {
        "sorts": SORTS,
        "panel": False,
        "more_query": "q=four&after=1",
        "page_query": "q=four",
    }
    return {
        "accounts/_login.html": [
            ("this browser", {"login": Login(1, "Firefox on Linux", "192.0.2.1", NOW, NOW, True)}),
            ("another", {"login": Login(2, "Chrome on Android", "", NOW, NOW, False)} | token),
        ],
        "admin/_nav.html": [(f"on {c}", {"current": c}) for c in ("people", "groups", "bots")],
        "admin/_person.html": [
            (state, {"person": Person(i, name, staff, active, NOW), "me": 1, "search": ""} | token)
            for state, i, name, staff, active in [
                ("oneself", 1, "ana", True, True),
                ("staff", 2, "ben", True, True),
                ("a member", 3, HOSTILE, False, True),
                ("deactivated", 4, "cy", False, False),
            ]
        ],
        "errors/_inline.html": [("a refusal", {"reason": "Join this group first."})],
        "errors/_notice.html": [("a refusal", {"reason": "That message was deleted meanwhile."})],
        "events/_event.html": [("joined", {"entry": JOINED}), ("left", {"entry": LEFT})],
        "groups/_add_people.html": [("a private group", {"group": PRIVATE} | token)],
        "groups/_count.html": [("a count", {"group_id": GROUP_ID, "member_count": 12})],
        "groups/_group.html": [(state, {"group": row} | token) for state, row in ROWS.items()],
        "groups/_list.html": [
            ("a page", {"directory": DirectoryPage(list(ROWS.values())[:3], None, "Old")} | token)
        ],
        "groups/_level.html": [
            (level, {"group_id": GROUP_ID, "level": level}) for level in notifications.LEVELS
        ],
        "groups/_my_groups.html": [
            (
                "three groups",
                {
                    "current": GROUP_ID,
                    "my_groups": [
                        (GROUP_ID, "Garden", None, "mentions"),
                        (OTHER_ID, "Kitchen", Unread(4, 9, 5, 1), "all"),
                        (uuid.uuid4(), HOSTILE, Unread(9, 9, 0, 0), "nothing"),
                    ],
                },
            )
        ],
        "groups/_notify.html": [
            (
                state,
                {"group_id": GROUP_ID, "notify": level, "levels": notifications.LEVELS}
                | {"saved": saved}
                | token,
            )
            for state, level, saved in [
                ("mentions", "mentions", False),
                ("just saved", "all", True),
            ]
        ],
        "groups/_people_options.html": [("two people", {"people": [ANA, BEN]})],
        "groups/_title.html": [
            ("a group", {"group": GROUP}),
            ("private", {"group": PRIVATE}),
            ("archived", {"group": ARCHIVED}),
        ],
        "groups/_unread.html": [
            (s, {"group_id": GROUP_ID, "unread": u, "mentions": m})
            for s, u, m in [("unread", 3, 0), ("unread, a mention", 5, 1), ("all read", 0, 0)]
        ],
        "live/_archived.html": [("archived", {"group_id": GROUP_ID})],
        "live/_change.html": [("an edit", {"entry": EDIT_CHANGE, "quote": None})],
        "live/_entry.html": [("a message", {"entry": MESSAGE}), ("a join", {"entry": JOINED})],
        "live/_group_deleted.html": [("deleted", {"group_id": GROUP_ID})],
        "live/_left.html": [("no longer a member", {"group_id": GROUP_ID} | token)],
        "live/_logged_out.html": [("logged out", {})],
        "live/_refused.html": [("refused", {})],
        "live/_reload.html": [("too far behind", {})],
        "live/_outdated.html": [("opened before an update", {})],
        "live/_too_many.html": [("too many pages", {})],
        "live/_too_often.html": [("too often", {})],
        "members/_change.html": [
            (
                "joined",
                {
                    "member": BEN,
                    "joined": True,
                    "before_id": 1,
                    "is_online": True,
                    "replaces": None,
                },
            ),
            (
                "left",
                {
                    "member": BEN,
                    "joined": False,
                    "before_id": None,
                    "is_online": False,
                    "replaces": 7,
                },
            ),
        ],
        "members/_list.html": [
            ("two members", {"group_id": GROUP_ID, "members": [ANA, BEN], "online": {1}})
        ],
        "members/_member.html": [
            ("online", {"member": ANA, "is_online": True}),
            ("offline", {"member": Member(5, HOSTILE), "is_online": False}),
        ],
        "members/_presence.html": [("online", {"user_id": 1, "is_online": True})],
        "members/_presence_changes.html": [("a batch", {"online": [1, 2], "offline": [3]})],
        "members/_suggestions.html": [("two members", {"members": [ANA, BEN]})],
        "messages/_actions.html": [
            (
                state,
                {"group_id": GROUP_ID, "target": MESSAGE, "my_reactions": {"👍"}}
                | {"may_edit": mine, "may_delete": mine}
                | token,
            )
            for state, mine in [("mine", True), ("someone else's", False)]
        ],
        "messages/_composer.html": [
            (
                state,
                {"group_id": GROUP_ID, "composer_text": text, "composer_error": error}
                | {"reply": reply}
                | token,
            )
            for state, text, error, reply in [
                ("empty", "", None, None),
                ("replying", "", None, Quote(12, "Ana Lima", "Who is coming?")),
                ("refused", "x" * 20, "Messages can be at most 2000 characters.", None),
            ]
        ],
        "messages/_edit_form.html": [
            (
                "open",
                {"group_id": GROUP_ID, "entry": EDITED, "text": "Fixed", "error": None} | token,
            )
        ],
        "messages/_editor.html": [
            (
                "with an error",
                {"group_id": GROUP_ID, "entry": EDITED, "text": " "}
                | {"error": "Type a message before saving."}
                | token,
            )
        ],
        "messages/_message.html": [
            (state, {"entry": entry})
            for state, entry in [
                ("formatted, with a link", MESSAGE),
                ("edited", EDITED),
                ("with reactions", REACTED),
                ("a reply", REPLY),
                ("mentioning someone", MENTION),
                ("deleted", DELETED),
                ("emoji only", EMOJI),
                ("hostile text", HOSTILE_MESSAGE),
            ]
        ],
        "messages/_quote.html": [
            ("a quote", {"quote": Quote(12, "Ana Lima", "Who is coming?")}),
            ("of a deleted message", {"quote": Quote(15, "", "", deleted=True)}),
        ],
        "messages/_status.html": [("a note", {"status": "That message was already sent."})],
        "messages/_tools.html": [("the toolbar", {"group_id": GROUP_ID} | token)],
        "messages/_typing.html": [("nobody yet", {})],
        "messages/_typing_signal.html": [("two typing", {"members": [ANA, BEN]})],
        "people/_avatar.html": [
            ("small", {"user_id": 1, "version": 3}),
            ("large", {"user_id": 1, "version": 3, "size": "large", "alt": "Ana Lima"}),
        ],
        "search/_form.html": [("the form", {"answer": ANSWER, "ask": ANSWER.ask} | search)],
        "search/_hit.html": [("a result", {"hit": HIT})],
        "search/_more.html": [("the next page", {"answer": MORE} | search)],
        "search/_more_link.html": [("more results", {"answer": MORE} | search)],
        "search/_notes.html": [("a note", {"answer": NOTED})],
        "search/_results.html": [
            ("results", {"answer": ANSWER, "ask": ANSWER.ask} | search),
            ("nothing found", {"answer": EMPTY, "ask": EMPTY.ask} | search),
            (
                "in the header's panel",
                {"answer": ANSWER, "ask": ANSWER.ask} | search | {"panel": True},
            ),
        ],
        "timeline/_entry.html": [("a message", {"entry": MESSAGE}), ("an event", {"entry": LEFT})],
        "timeline/_load_newer.html": [("load newer", {"group_id": GROUP_ID, "after": 17})],
        "timeline/_load_older.html": [("load older", {"group_id": GROUP_ID, "before": 8})],
        "timeline/_newer.html": [
            ("a page", {"group_id": GROUP_ID, "entries": [MESSAGE, EDITED], "has_newer": True})
        ],
        "timeline/_older.html": [
            ("a page", {"group_id": GROUP_ID, "entries": [JOINED, MESSAGE], "has_more": True})
        ],
    }


assert limits.MESSAGE_MAX == 2000  # (the refused composer sample says so)
