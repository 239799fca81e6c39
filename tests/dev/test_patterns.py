"""The pattern page: every fragment of templates/ in each of its states, from the one set of
samples (discussit/dev/samples.py) the template tests use too; for staff (or with DEBUG)."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient

from discussit.app import ROUTES, create_app
from discussit.core import urls
from discussit.core.templating import TEMPLATES_DIR, render
from discussit.dev.samples import HOSTILE, samples
from tests import factories
from tests.helpers import Browser, html

FRAGMENTS = sorted(str(p.relative_to(TEMPLATES_DIR)) for p in TEMPLATES_DIR.rglob("_*.html"))


@pytest.mark.pure
def test_every_fragment_has_samples():
    """Made to fail: a fragment added to templates/ without samples is missing from the page."""
    assert sorted(samples("t")) == FRAGMENTS


@pytest.mark.pure
@pytest.mark.parametrize("name", FRAGMENTS)
def test_every_sample_renders_and_escapes_what_people_type(name):
    urls.use_routes(ROUTES)
    for state, context in samples("t")[name]:
        out = render(name, **context)
        assert out.strip(), (name, state)
        assert HOSTILE not in out, (name, state)  # (it shows escaped, wherever it is)


def test_the_page_shows_every_fragment_in_every_state_to_staff(client, alice):
    factories.make_staff(client, "alice")
    page = html(alice.get("/dev/patterns"))
    shown = {
        (n.attributes["data-fragment"], n.attributes["data-state"]) for n in page.css(".pattern")
    }
    wanted = {(name, state) for name, states in samples("t").items() for state, _ in states}
    assert shown == wanted
    assert "&lt;b&gt;" in alice.get("/dev/patterns").text


def test_only_staff_see_it_unless_debug(client, settings, bob):
    assert bob.get("/dev/patterns").status_code == 403
    assert Browser(client).get("/dev/patterns", follow_redirects=False).status_code == 303
    debug = dataclasses.replace(settings, debug=True)
    with TestClient(create_app(debug), base_url="http://testserver") as other:
        assert Browser(other).get("/dev/patterns").status_code == 200
