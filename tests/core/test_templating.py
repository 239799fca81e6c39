"""Templates: ids and paths built one way, limits never retyped, and an operator's overrides."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from discussit import limits
from discussit.app import create_app
from discussit.core.templating import TEMPLATES_DIR, dom_id
from tests.helpers import Browser, html


def test_dom_ids_are_kind_dash_key():
    assert dom_id("entry", 42) == "entry-42"
    assert dom_id("group", "7c1e", "count") == "group-7c1e-count"


def test_no_template_writes_a_path_or_a_limit_by_hand():
    """Links come from route names (url_for), ids from dom_id, limits from discussit/limits.py."""
    numbers = {
        str(n)
        for n in (
            limits.MESSAGE_MAX,
            limits.GROUP_NAME_MAX,
            limits.GROUP_DESCRIPTION_MAX,
            limits.PASSWORD_MAX,
            limits.USERNAME_MAX,
        )
    }
    for path in TEMPLATES_DIR.rglob("*.html"):
        text = path.read_text()
        code = re.sub(r"\{#.*?#\}", "", text, flags=re.S)  # comments may name paths
        assert not re.search(
            r'(href|action|src|hx-get|hx-post|hx-ws:connect|hx-sse:connect)="/', code
        ), path
        assert not re.search(r'id="(entry|group|member|presence)-\{\{', code), path
        assert not any(re.search(rf'maxlength="{n}"', code) for n in numbers), path


def test_an_operator_can_override_one_fragment(settings, tmp_path, lounge_name="Lounge"):
    overrides = tmp_path / "overrides"
    (overrides / "events").mkdir(parents=True)
    (overrides / "events" / "_event.html").write_text(
        '<li id="{{ "entry"|dom_id(entry.seq) }}" class="event event--custom">'
        "{{ entry.username }} did {{ entry.kind }}</li>\n"
    )
    with TestClient(create_app(replace(settings, templates_dir=overrides))) as client:
        alice = Browser(client)
        alice.sign_up("alice")
        from discussit.groups import directory
        from tests import factories

        group = factories.run(client, lambda s: directory.create(s, lounge_name)).id
        alice.join(group)
        page = html(alice.get(f"/groups/{group}/"))
        assert page.css_first(".event--custom").text() == "alice did joined"
        assert page.css_first("#composer") is not None  # everything else is built in
    with TestClient(create_app(settings)) as client:  # a later app without overrides
        alice = Browser(client)
        alice.log_in("alice")
        assert ".event--custom" not in alice.get(f"/groups/{group}/").text


@pytest.mark.parametrize("reload", [True, False])
def test_an_edited_template_shows_at_once_only_with_templates_reload(tmp_path, reload):
    """TEMPLATES_RELOAD (make run) re-reads an edited file; without it (production) a template
    is read once, and no render looks at its file."""
    import os

    from discussit.core import templating

    (tmp_path / "errors").mkdir()
    page = tmp_path / "errors" / "_inline.html"
    page.write_text("before")
    try:
        templating.use_overrides(tmp_path, reload=reload)
        assert templating.render("errors/_inline.html") == "before"
        page.write_text("after")
        os.utime(page, (page.stat().st_atime, page.stat().st_mtime + 5))
        assert templating.render("errors/_inline.html") == ("after" if reload else "before")
    finally:
        templating.use_overrides(None)
