"""A timeline entry, live: rendered once, published to every open page of its group.

Callers persist first and publish after the commit. The item carries ready HTML (identical for
every recipient) plus the few fields pages need to order entries and notice their own leave.
"""

from __future__ import annotations

from functools import lru_cache

from discussit.core.realtime.broker import Broker, group_channel
from discussit.core.realtime.items import EntryAppended
from discussit.core.templating import render
from discussit.timeline.details import first_line
from discussit.timeline.entries import Entry, Quote


@lru_cache(maxsize=4096)
def entry_html(entry: Entry) -> str:
    """An entry appended to open group pages, moving their resume cursor along.

    A change (an edit, a deletion, a reaction) carries its message as it is after it, and
    replaces it where it is shown (with every reply's quote of it).

    Cached: entries never change, so when many pages catch up on the same entries (after a
    Redis reconnect, or a burst that overflowed their queues) each is still rendered once."""
    target = entry.target
    quote = None
    if target is not None:
        quote = Quote(target.seq, target.username, first_line(target.body), target.deleted)
    return render("live/_entry.html", entry=entry, quote=quote)


async def publish_entry(broker: Broker, entry: Entry, extra_html: str = "") -> None:
    """Send `entry` (and `extra_html`, e.g. the member list after a join) to the group."""
    await broker.publish(
        group_channel(entry.group_id),
        EntryAppended(
            entry.seq,
            entry.kind.value,
            entry.user_id,
            entry_html(entry) + extra_html,
            tuple(sorted(entry.mentions)),
        ),
    )
