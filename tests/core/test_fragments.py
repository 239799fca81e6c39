"""Template hygiene: everything autoescapes, fragments are the ones pages use, hostile names."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import pytest

from discussit.core.templating import TEMPLATES_DIR, render
from discussit.groups.directory import GroupRow
from discussit.groups.membership import Member
from discussit.timeline.entries import Entry
from tests import factories
from tests.helpers import html


@pytest.fixture(autouse=True)
def _routes() -> None:
    """Fragments build paths from route names: the app's routes, as create_app sets them (so
    this file passes on its own, not only after a test that made an app)."""
    from discussit.app import ROUTES
    from discussit.core import urls

    urls.use_routes(ROUTES)


HOSTILE = "<script>alert(1)</script>\"'`${x}{{7*7}}"
ALL = sorted(str(p.relative_to(TEMPLATES_DIR)) for p in TEMPLATES_DIR.rglob("*") if p.is_file())


def test_xss3_every_template_file_ends_in_html():
    assert ALL and all(name.endswith(".html") for name in ALL)


def test_xss3_no_template_marks_text_safe_or_puts_data_in_a_script():
    for name in ALL:
        source = (TEMPLATES_DIR / name).read_text()
        assert "|safe" not in source.replace(" ", "") and "autoescape false" not in source, name
        for script in re.findall(r"<script[^>]*>(.*?)</script>", source, re.S):
            assert "{{" not in script and "{%" not in script, name
        assert not re.search(r"\son[a-z]+=", source), f"inline handler in {name}"


def _entry(kind: str = "message") -> Entry:
    return Entry(kind, 7, uuid.uuid4(), 3, HOSTILE, dt.datetime.now(dt.UTC), HOSTILE)


@pytest.mark.parametrize(
    ("name", "context"),
    [
        ("messages/_message.html", {"entry": _entry()}),
        ("events/_event.html", {"entry": _entry("joined")}),
        ("live/_entry.html", {"entry": _entry()}),
        ("members/_member.html", {"member": Member(3, HOSTILE), "is_online": True}),
        (
            "members/_list.html",
            {"group_id": uuid.uuid4(), "members": [Member(3, HOSTILE)], "online": frozenset()},
        ),
        (
            "groups/_group.html",
            {"group": GroupRow(uuid.uuid4(), HOSTILE, HOSTILE, 2, True), "csrf_token": HOSTILE},
        ),
        (
            "messages/_composer.html",
            {
                "group_id": uuid.uuid4(),
                "csrf_token": "t",
                "composer_text": HOSTILE,
                "composer_error": HOSTILE,
                "max_length": 2000,
            },
        ),
    ],
)
def test_xss2_fragments_escape_hostile_text(name, context):
    out = render(name, **context)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "{{7*7}}" in out  # shown as typed, never evaluated


def test_the_page_and_the_live_update_use_the_same_message_fragment(client, alice, lounge):
    alice.join(lounge)
    factories.post_messages(client, lounge, "alice", 1, prefix="same-")
    page = alice.get(f"/groups/{lounge}/").text
    from discussit.timeline import history

    async def latest(session):  # type: ignore[no-untyped-def]
        return (await history.entries_after(session, lounge, 1, 10, 10))[0]

    entry = factories.run(client, latest)
    fragment = render("messages/_message.html", entry=entry)
    assert fragment.strip() in page
    # Over the socket the same fragment is the frame itself (no wrapper), with its time's text
    # left for the page's script to write in the reader's time zone.
    live = render("live/_entry.html", entry=entry).strip()
    assert live == render("messages/_message.html", entry=entry, on_socket=True).strip()
    label = re.search(r'<time datetime="[^"]+">([^<]+)</time>', fragment)
    assert label is not None and live == fragment.strip().replace(
        label[0], label[0].replace(label[1], "")
    )


def test_xss2_hostile_group_names_render_as_text_everywhere(client, alice, make_group):
    group_id = make_group(HOSTILE, HOSTILE)
    alice.join(group_id)
    for path in ("/", f"/groups/{group_id}/"):
        page = alice.get(path)
        assert "<script>alert(1)" not in page.text
        assert "{{7*7}}" in html(page).body.text()  # shown as typed, never evaluated
    title = html(alice.get(f"/groups/{group_id}/")).css_first("title").text()
    assert title.startswith(HOSTILE)


def _layout_chain(name: str) -> list[str]:
    """The templates `name` extends, one after the other."""
    chain = []
    while found := re.search(r'\{% extends "([^"]+)" %\}', (TEMPLATES_DIR / name).read_text()):
        name = found.group(1)
        chain.append(name)
    return chain


def test_every_page_uses_the_one_layout():
    for name in ALL:
        source = (TEMPLATES_DIR / name).read_text()
        if "<html" in source:
            assert name == "base.html"
        if "/_" not in name and not name.startswith("_") and name != "base.html":
            # directly, or through a section's own layout (admin/base.html)
            assert _layout_chain(name)[-1:] == ["base.html"], name


def test_static_files_include_no_inline_script_blocks():
    base = (TEMPLATES_DIR / "base.html").read_text()
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", base))
    assert Path(TEMPLATES_DIR.parent / "static/js/discussit.js").exists()
