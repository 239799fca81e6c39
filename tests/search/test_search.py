"""Searching over HTTP, on both databases (SQLite's FTS5 in the first pass, PostgreSQL's tsvector
in the second): what is found and in what order, pages, the membership rule, edits and
deletions, the filters, every kind of bad query, and the XSS corpus."""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from discussit import limits
from discussit.app import create_app
from discussit.settings import Rate
from tests import factories
from tests.helpers import MARKDOWN_PAYLOADS, XSS_PAYLOADS, Browser, html

HX = {"HX-Request": "true"}


@pytest.fixture
def lounge_with_alice_and_bob(alice: Browser, bob: Browser, lounge: Any) -> Any:
    alice.join(lounge)
    bob.join(lounge)
    return lounge


def found(browser: Browser, q: str = "", **params: Any) -> list[dict[str, str]]:
    """The results of the search page for `q`, each as group, author, snippet and link."""
    response = browser.get("/search?" + urlencode({"q": q, **params}))
    assert response.status_code == 200, response.text
    return hits_in(response.text)


def hits_in(text: str) -> list[dict[str, str]]:
    page = html(type("R", (), {"text": text})())
    return [
        {
            "group": node.css_first(".hit__group").text(),
            "author": node.css_first(".hit__author").text(),
            "snippet": re.sub(
                r'^<span class="hit__snippet">|</span>$',
                "",
                node.css_first(".hit__snippet").html or "",
            ),
            "text": node.css_first(".hit__snippet").text(),
            "href": node.css_first("a").attributes["href"] or "",
        }
        for node in page.css("li.hit")
    ]


def more_link(text: str) -> str | None:
    node = html(type("R", (), {"text": text})()).css_first(".hits__more a")
    return None if node is None else node.attributes["href"]


def notes(text: str) -> list[str]:
    return [n.text() for n in html(type("R", (), {"text": text})()).css(".search__note")]


def post(client: TestClient, group: Any, who: str, text: str) -> int:
    return factories.client_store(client, group, who, text).seq


# ---- finding, order, snippets ----------------------------------------------------------------


def test_a_member_finds_messages_newest_first_with_the_words_marked(
    client, alice, lounge_with_alice_and_bob
):
    lounge = lounge_with_alice_and_bob
    first = post(client, lounge, "bob", "shall we deploy today?")
    post(client, lounge, "bob", "lunch at noon")
    last = post(client, lounge, "alice", "the Deploy went fine")
    hits = found(alice, "deploy")
    assert [h["text"] for h in hits] == ["the Deploy went fine", "shall we deploy today?"]
    assert [h["author"] for h in hits] == ["alice", "bob"]
    assert hits[0]["group"] == "Lounge"
    assert "<mark>Deploy</mark>" in hits[0]["snippet"]
    assert hits[0]["href"] == f"/groups/{lounge}/messages/{last}"
    assert hits[1]["href"] == f"/groups/{lounge}/messages/{first}"


def test_a_result_links_to_the_message_highlighted_in_its_history(
    client, alice, lounge_with_alice_and_bob
):
    seq = post(client, lounge_with_alice_and_bob, "bob", "the needle in the haystack")
    (hit,) = found(alice, "needle")
    page = alice.get(hit["href"])
    assert page.status_code == 200
    assert html(page).css_first(f"#entry-{seq}.message--target") is not None


def test_the_word_being_typed_finds_longer_words_and_accents_are_folded(
    client, alice, lounge_with_alice_and_bob
):
    post(client, lounge_with_alice_and_bob, "bob", "deploying to the Café now")
    assert len(found(alice, "depl")) == 1
    assert len(found(alice, "cafe")) == 1
    assert len(found(alice, "CAFÉ now")) == 1
    assert found(alice, "de") == []  # too short to be a prefix, and no such word


def test_best_match_puts_the_better_match_first(client, alice, lounge_with_alice_and_bob):
    lounge = lounge_with_alice_and_bob
    better = post(client, lounge, "bob", "release release release notes")
    newer = post(client, lounge, "bob", "the release is later today maybe, after lunch and a walk")
    newest = found(alice, "release", sort="newest")
    best = found(alice, "release", sort="best")
    assert [h["href"].rsplit("/", 1)[1] for h in newest] == [str(newer), str(better)]
    assert [h["href"].rsplit("/", 1)[1] for h in best] == [str(better), str(newer)]


@pytest.mark.parametrize("sort", ["newest", "best"])
def test_pages_of_results_have_no_holes_and_no_repeats(
    client, alice, lounge_with_alice_and_bob, sort
):
    lounge = lounge_with_alice_and_bob
    count = limits.SEARCH_PAGE * 2 + 5
    for k in range(count):  # the same words: equal scores, so the id breaks ties
        post(client, lounge, "bob", f"standup notes number{k}")
    response = alice.get("/search?" + urlencode({"q": "standup notes", "sort": sort}))
    pages = [hits_in(response.text)]
    link = more_link(response.text)
    while link is not None:
        response = alice.get(link)  # without JavaScript: the next page, whole
        assert response.status_code == 200
        pages.append(hits_in(response.text))
        link = more_link(response.text)
    assert [len(p) for p in pages] == [limits.SEARCH_PAGE, limits.SEARCH_PAGE, 5]
    numbers = [int(re.search(r"number(\d+)", h["text"])[1]) for p in pages for h in p]  # type: ignore[index]
    assert numbers == list(range(count - 1, -1, -1))


def test_more_results_with_htmx_answer_the_next_items_and_their_own_control(
    client, alice, lounge_with_alice_and_bob
):
    for k in range(limits.SEARCH_PAGE + 3):
        post(client, lounge_with_alice_and_bob, "bob", f"retro item {k}")
    first = alice.get("/search/results?q=retro", headers=HX)
    assert first.status_code == 200
    assert first.headers["HX-Replace-Url"] == "/search?q=retro"
    link = html(first).css_first(".hits__more a")
    assert link is not None
    more = alice.get(link.attributes["hx-get"] or "", headers=HX)
    assert len(hits_in(more.text)) == 3
    assert "<ol" not in more.text and more_link(more.text) is None
    assert "HX-Replace-Url" not in more.headers


def test_the_header_box_panel_shows_a_few_results_and_closes_when_emptied(
    client, alice, lounge_with_alice_and_bob
):
    post(client, lounge_with_alice_and_bob, "bob", "panel test message")
    shown = alice.get("/search/results?q=panel&panel=1", headers=HX)
    assert len(hits_in(shown.text)) == 1
    assert html(shown).css_first(".search__all a").attributes["href"] == "/search?q=panel"
    assert "HX-Replace-Url" not in shown.headers
    emptied = alice.get("/search/results?q=&panel=1", headers=HX)
    assert emptied.status_code == 200 and emptied.text == ""


def test_every_page_of_a_member_has_the_search_box(client, alice, lounge_with_alice_and_bob):
    for path in ["/", f"/groups/{lounge_with_alice_and_bob}/"]:
        box = html(alice.get(path)).css_first("form.topbar__search input[name=q]")
        assert box is not None, path
    assert html(alice.get("/search")).css_first("form.topbar__search") is None  # its own form


def test_searching_needs_a_login(client):
    response = Browser(client).get("/search?q=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


# ---- who sees what ---------------------------------------------------------------------------


def test_only_groups_one_belongs_to_now_are_searched(
    client, alice, bob, mallory, lounge_with_alice_and_bob, make_group
):
    lounge = lounge_with_alice_and_bob
    attic = make_group("Attic")
    bob.join(attic)
    mallory.join(attic)
    post(client, lounge, "bob", "secret plans in the lounge")
    post(client, attic, "bob", "secret plans in the attic")
    assert [h["group"] for h in found(alice, "secret plans")] == ["Lounge"]
    assert [h["group"] for h in found(mallory, "secret plans")] == ["Attic"]
    assert [h["group"] for h in found(bob, "secret plans")] == ["Attic", "Lounge"]
    alice.leave(lounge)
    assert found(alice, "secret plans") == []  # a former member: at once
    outsider = Browser(client)
    outsider.sign_up("carol")
    assert found(outsider, "secret") == []


def test_an_edited_message_is_found_by_its_new_text_only_and_a_deleted_one_never(
    client, alice, bob, lounge_with_alice_and_bob
):
    lounge = lounge_with_alice_and_bob
    seq = post(client, lounge, "bob", "helo wrld typo")
    gone = post(client, lounge, "bob", "regrettable remark")
    bob.post(f"/groups/{lounge}/messages/{seq}/edit", {"text": "hello world fixed"})
    assert found(alice, "wrld") == []
    assert [h["text"] for h in found(alice, "hello world")] == ["hello world fixed"]
    assert len(found(alice, "regrettable")) == 1
    bob.post(f"/groups/{lounge}/messages/{gone}/delete", {})
    assert found(alice, "regrettable") == []
    assert found(alice, "from:bob") != []  # (the deletion is not counted either)
    assert all("regrettable" not in h["text"] for h in found(alice, "from:bob"))


# ---- filters ---------------------------------------------------------------------------------


def test_from_in_phrase_and_the_group_choice_narrow_the_results(
    client, alice, bob, lounge_with_alice_and_bob, make_group
):
    lounge = lounge_with_alice_and_bob
    garden = make_group("Garden Shed")
    alice.join(garden)
    bob.join(garden)
    post(client, lounge, "bob", "ship it now please")
    post(client, lounge, "alice", "now ship it")
    post(client, garden, "bob", "ship the seeds now")
    assert {h["author"] for h in found(alice, "ship from:bob")} == {"bob"}
    assert len(found(alice, "ship from:@BOB")) == 2  # any case, with or without @
    assert {h["group"] for h in found(alice, 'ship in:"garden shed"')} == {"Garden Shed"}
    assert [h["text"] for h in found(alice, '"ship it now"')] == ["ship it now please"]
    assert len(found(alice, "ship it now")) == 2  # the words in any order
    assert {h["group"] for h in found(alice, "ship", group=str(lounge))} == {"Lounge"}
    assert len(found(alice, "from:alice")) == 1  # a filter alone: someone's messages


def test_filters_that_match_nothing_say_why(client, alice, lounge_with_alice_and_bob, make_group):
    make_group("Elsewhere")  # exists, but alice is not in it
    post(client, lounge_with_alice_and_bob, "bob", "anything at all")
    for q, note in [
        ("anything from:nobody", "No one is called “nobody”."),
        ("anything in:Elsewhere", "You are not a member of a group called “Elsewhere”."),
        ("anything in:Nowhere", "You are not a member of a group called “Nowhere”."),
    ]:
        response = alice.get("/search?" + urlencode({"q": q}))
        assert response.status_code == 200
        assert note in notes(response.text), q
        assert hits_in(response.text) == []
    response = alice.get("/search?q=anything&group=not-a-group")
    assert "You are not a member of the group chosen." in notes(response.text)


# ---- bad queries -----------------------------------------------------------------------------

BAD_QUERIES = [
    '"unbalanced',
    "a AND",
    "a OR",
    "(",
    ")",
    "foo:x",
    "-x",
    "*",
    "x*",
    "NEAR(a b)",
    "^x",
    "body:x",
    "!!",
    '""',
    "'",
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "&|!:*",
    "😀",
    "a" * 190,
    " ".join(["w"] * 100),
    "from:",
    "in:",
    'in:"',
    "x" * 2000,
    "café\u0301",
]


@pytest.mark.parametrize("q", BAD_QUERIES)
def test_no_query_raises(client, alice, lounge_with_alice_and_bob, q):
    post(client, lounge_with_alice_and_bob, "bob", "a b x w foo body near the end")
    for path in ["/search", "/search/results"]:
        response = alice.get(path + "?" + urlencode({"q": q, "sort": "best"}), headers=HX)
        assert response.status_code == 200, (q, response.text)


@pytest.mark.parametrize("q", ["x" * (limits.SEARCH_MAX + 1), "a\x00b", "a\x07b", "a\ue000b"])
def test_a_query_the_text_policy_refuses_gets_a_clear_note(
    client, alice, lounge_with_alice_and_bob, q
):
    response = alice.get("/search?" + urlencode({"q": q}))
    assert response.status_code == 200
    said = notes(response.text)
    assert said and said[0].startswith("Searches"), said
    assert hits_in(response.text) == []


def test_symbols_alone_and_an_empty_box_search_nothing(client, alice, lounge_with_alice_and_bob):
    post(client, lounge_with_alice_and_bob, "bob", "something")
    response = alice.get("/search?q=%21%21+%2A%2A")
    assert notes(response.text) == ["Symbols on their own are not searched for: only words are."]
    assert hits_in(response.text) == [] and "No results" not in response.text
    empty = alice.get("/search")
    assert empty.status_code == 200 and hits_in(empty.text) == []


@pytest.mark.parametrize(
    "params", [{"before": "abc"}, {"before": "1", "score": "nan"}, {"before": "1", "score": "x"}]
)
def test_a_page_key_this_site_did_not_make_is_a_400(client, alice, params):
    assert alice.get("/search?" + urlencode({"q": "x", **params})).status_code == 400


# ---- safety ----------------------------------------------------------------------------------


def test_snippets_and_queries_of_the_xss_corpus_stay_text(client, alice, lounge_with_alice_and_bob):
    lounge = lounge_with_alice_and_bob
    payloads = XSS_PAYLOADS + MARKDOWN_PAYLOADS
    for payload in payloads:
        post(client, lounge, "bob", f"zebra {payload}")
    for sort in ["newest", "best"]:
        response = alice.get("/search?" + urlencode({"q": "zebra", "sort": sort}))
        hits = hits_in(response.text)
        assert len(hits) == limits.SEARCH_PAGE
        for hit in hits:
            markup = re.sub(r"</?mark>", "", hit["snippet"])
            assert "<" not in markup, markup  # every other tag escaped
    for payload in payloads:
        response = alice.get("/search?" + urlencode({"q": payload}))
        assert response.status_code == 200
        page = html(response)
        assert page.css("script") == [] or all(
            "alert" not in (s.text() or "") for s in page.css("script")
        )
        assert page.css("[onerror], [onload], [onmouseover], [onclick]") == []


# ---- the budget ------------------------------------------------------------------------------


def test_past_the_budget_a_search_is_refused_with_the_wait(settings):
    tight = dataclasses.replace(settings, searches_per_user=Rate(3, 60))
    with TestClient(create_app(tight), base_url="http://testserver") as client:
        ana = Browser(client)
        ana.sign_up("ana")
        client.app_state["limiter"].clock = lambda: 1_000_000.0
        for _ in range(3):
            assert ana.get("/search?q=hello").status_code == 200
        assert ana.get("/search").status_code == 200  # an empty box costs nothing
        page = ana.get("/search?q=hello")
        assert page.status_code == 429
        assert page.headers["Retry-After"] == "20"
        assert "You are searching too fast. Try again in 20 seconds." in notes(page.text)
        fragment = ana.get("/search/results?q=hello", headers=HX)
        assert fragment.status_code == 429
        assert "searching too fast" in fragment.text


def test_the_next_page_keeps_the_search_and_order(client, alice, lounge_with_alice_and_bob):
    for k in range(limits.SEARCH_PAGE + 1):
        post(client, lounge_with_alice_and_bob, "bob", f"kanban card {k}")
    response = alice.get("/search?q=kanban&sort=best")
    link = more_link(response.text)
    assert link is not None
    params = parse_qs(urlsplit(link).query)
    assert params["q"] == ["kanban"] and params["sort"] == ["best"]
    assert "before" in params and "score" in params


def test_the_sqlite_index_stays_exact_through_edits_and_deletions(
    client, bob, lounge_with_alice_and_bob, settings
):
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("FTS5 is SQLite's (PostgreSQL's column is generated from the text)")
    from sqlalchemy import create_engine, text

    lounge = lounge_with_alice_and_bob
    seqs = [post(client, lounge, "bob", f"line {k} of text") for k in range(5)]
    bob.post(f"/groups/{lounge}/messages/{seqs[0]}/edit", {"text": "changed entirely"})
    bob.post(f"/groups/{lounge}/messages/{seqs[1]}/delete", {})
    engine = create_engine(settings.database_url)
    with engine.begin() as conn:  # raises "database disk image is malformed" if not exact
        conn.execute(
            text("INSERT INTO messages_fts(messages_fts, rank) VALUES('integrity-check', 1)")
        )
        assert (
            conn.execute(
                text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'line'")
            ).scalar()
            == 3
        )
    engine.dispose()


@given(q=st.text(max_size=60), sort=st.sampled_from(["newest", "best"]))
@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_text_searches_without_an_error(client, alice, lounge_with_alice_and_bob, q, sort):
    response = alice.get("/search/results?" + urlencode({"q": q, "sort": sort}), headers=HX)
    assert response.status_code == 200, (q, response.text)
