"""Broker items: one dataclass per kind, the same objects in process and through Redis (JSON)."""

from __future__ import annotations

import pytest

from discussit.core.realtime import items

pytestmark = pytest.mark.pure  # no database or Redis: the services pass leaves it out

EXAMPLES = [
    items.EntryAppended(7, "message", 3, "<li>hi</li>"),
    items.PresenceChanged("<span>online</span>"),
    items.Resync(),
    items.LoggedOut("ab" * 32),
    items.MembershipChanged("7c1e", True),
    items.CountChanged("<span>2 members</span>"),
    items.GroupCreated("7c1e"),
    items.ProfileChanged(3, "Ana Lima", 4),
    items.GroupChanged("7c1e", '<div id="group-title">Lounge</div>', archived=True),
    items.ReadMoved("7c1e", 12),
    items.TypingChanged('<i class="typing-signal"><b data-user-id="2">ben</b></i>'),
    items.LevelChanged("7c1e", "all", '<span id="group-7c1e-level" data-level="all"></span>'),
]


def test_every_kind_is_declared_once_and_listed():
    assert {type(e) for e in EXAMPLES} == set(items.KINDS.values())


@pytest.mark.parametrize("item", EXAMPLES, ids=lambda i: type(i).__name__)
def test_an_item_survives_the_trip_through_redis_unchanged(item):
    assert items.decode(items.encode(item)) == item


@pytest.mark.parametrize(
    "raw",
    [
        '{"item": "Nope"}',
        '{"item": "LoggedOut"}',
        '{"item": "LoggedOut", "x": 1}',  # (a field it does not know is left out: then missing)
        "[]",
        "not json",
        '{"seq": 1}',
    ],
)
def test_anything_else_is_not_an_item(raw):
    assert items.decode(raw) is None


def test_items_of_a_process_one_version_apart_are_still_understood():
    """A rolling deploy: old and new processes share Redis. A field added since (with a
    default) may be missing, and one this version does not know is left out."""
    old = items.decode(
        '{"seq":7,"kind":"message","user_id":3,"html":"<li>hi</li>","item":"EntryAppended"}'
    )
    assert old == items.EntryAppended(7, "message", 3, "<li>hi</li>")
    newer = items.decode('{"group_id":"7c1e","seq":2,"later":1,"item":"ReadMoved"}')
    assert newer == items.ReadMoved("7c1e", 2)
    assert items.decode('{"seq":7,"item":"EntryAppended"}') is None  # required fields missing
