"""The search box's language: words and phrases, from: and in:, and any text at all understood
without raising (what is left out is said)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discussit import limits
from discussit.search.engines import _fts5_match
from discussit.search.query import Term, parse

pytestmark = pytest.mark.pure


def words(text: str) -> list[tuple[str, ...]]:
    return [term.words for term in parse(text).terms]


def test_words_are_all_required_and_the_last_one_is_the_word_being_typed():
    query = parse("deploy the serv")
    assert words("deploy the serv") == [("deploy",), ("the",), ("serv",)]
    assert [term.prefix for term in query.terms] == [False, False, True]


def test_a_short_last_word_is_not_a_prefix():
    assert parse("deploy ab").terms[-1].prefix is False
    assert parse("ab").terms[-1].prefix is False
    assert parse("abc").terms[-1].prefix is True


def test_quotes_make_a_phrase_even_unbalanced():
    assert parse('"deploy now" today').terms[0] == Term("deploy now", ("deploy", "now"))
    assert parse('"deploy now').terms == (Term("deploy now", ("deploy", "now")),)
    assert parse('say "deploy now"').terms[-1].prefix is False  # a phrase is not being typed


def test_from_and_in_narrow_with_or_without_quotes():
    query = parse('from:@Ana in:"Big Room" in:General hello')
    assert query.authors == ("Ana",)
    assert query.groups == ("Big Room", "General")
    assert words('from:@Ana in:"Big Room" in:General hello') == [("hello",)]
    assert parse("FROM:ana").authors == ("ana",)


def test_empty_filters_say_what_they_need():
    assert "from: needs a name after it." in parse('from:"" x').notes
    assert "in: needs a group after it." in parse('in:"" x').notes


def test_engine_syntax_is_only_words():
    for text in ["a AND (b", "NEAR(a b)", "body:x", "^x", "-x", "a OR b", "x*", "a:b"]:
        query = parse(text)
        for term in query.terms:
            assert all(word.isalnum() for word in term.words), (text, term)


def test_symbols_alone_search_nothing_and_say_so():
    query = parse("!! ** () -- '")
    assert query.empty
    assert query.notes == ("Symbols on their own are not searched for: only words are.",)


def test_words_joined_by_symbols_are_a_phrase():
    assert words("foo-bar o'reilly") == [("foo", "bar"), ("o", "reilly")]


def test_more_terms_than_the_limit_are_left_out_with_a_note():
    query = parse(" ".join(f"w{k}" for k in range(limits.SEARCH_TERMS_MAX + 3)))
    assert len(query.terms) == limits.SEARCH_TERMS_MAX
    assert query.terms[-1].prefix is False
    assert query.notes


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_understood_and_gives_fts5_only_quoted_words(text):
    query = parse(text)
    assert len(query.terms) <= limits.SEARCH_TERMS_MAX
    if query.terms:
        match = _fts5_match(query.terms)
        # Every term is a quoted string of letters and digits (and an optional prefix star).
        for part in match.split('" "'):
            assert set(part) - {'"', "*", " "} <= set("".join(c for c in part if c.isalnum()))
