"""@mentions in a message's HTML (timeline/formatting.py): members become marked mentions, made
once for everyone; anyone else, and @ in code, links and addresses, stays text."""

from __future__ import annotations

import pytest

from discussit.core.security.text import username_key
from discussit.timeline.formatting import mentioned_names, render, to_html

pytestmark = pytest.mark.pure

MEMBERS = {username_key("Alice"): 1, username_key("ana.b"): 3}


def test_a_member_named_after_at_is_a_mention_marked_with_their_id():
    html, mentioned = render("hi @alice and @ALICE", MEMBERS)
    assert html == (
        '<p>hi <span class="mention" data-user-id="1">@alice</span> and '
        '<span class="mention" data-user-id="1">@ALICE</span></p>'
    )
    assert mentioned == {1}


def test_anyone_else_and_at_in_code_links_and_addresses_stay_text():
    text = "`@alice` x@alice.example [@alice](https://x.example) \\@alice @nobody"
    html, mentioned = render(text, MEMBERS)
    assert "mention" not in html and mentioned == frozenset()
    assert "<code>@alice</code>" in html and "@nobody" in html
    fence = render("```\n@alice\n```", MEMBERS)
    assert fence == ("<pre><code>@alice\n</code></pre>", frozenset())


def test_a_name_at_the_end_of_a_sentence_and_a_name_with_a_dot():
    html, mentioned = render("thanks @alice. and @ana.b.", MEMBERS)
    assert '<span class="mention" data-user-id="1">@alice</span>.' in html
    assert '<span class="mention" data-user-id="3">@ana.b</span>.' in html
    assert mentioned == {1, 3}


def test_without_members_the_html_is_what_it_was_before_mentions():
    assert to_html("hi @alice **there**") == "<p>hi @alice <strong>there</strong></p>"


def test_mentions_never_let_markup_through():
    html, _ = render('@alice<script>alert(1)</script> @alice"onmouseover=x', MEMBERS)
    assert "<script" not in html and '"onmouseover' not in html
    assert html.count('class="mention"') == 2


def test_the_names_to_look_up_are_found_without_rendering():
    assert mentioned_names("no one here") == []
    assert mentioned_names("`@code` @Alice and @ana.b.") == sorted(
        {username_key("Alice"), username_key("ana.b"), username_key("ana.b.")}
    )
