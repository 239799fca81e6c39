"""First run: on a fresh install the first account made becomes staff, and the sign-up page says
so beforehand; later accounts do not, and FIRST_ACCOUNT_STAFF=false turns the rule off."""

from __future__ import annotations

import dataclasses

from starlette.testclient import TestClient

from discussit.app import create_app
from tests.helpers import Browser, html


def _client(settings, first_account_staff: bool) -> TestClient:  # type: ignore[no-untyped-def]
    changed = dataclasses.replace(settings, first_account_staff=first_account_staff)
    return TestClient(create_app(changed), base_url="http://testserver")


def _staff(browser: Browser) -> bool:
    return html(browser.get("/")).css_first("body").attributes["data-viewer-staff"] == "1"


def test_the_first_account_becomes_staff_and_the_page_says_so_first(settings):
    with _client(settings, True) as client:
        founder, later = Browser(client), Browser(client)
        note = html(founder.get("/signup")).css_first(".account__first")
        assert note is not None and "becomes staff" in note.text()
        assert founder.sign_up("founder").status_code == 303
        assert _staff(founder)
        assert html(founder.get("/")).css_first("a[href='/groups/new']") is not None
        assert html(later.get("/signup")).css_first(".account__first") is None
        assert later.sign_up("later").status_code == 303
        assert not _staff(later)
        assert later.get("/groups/new").status_code == 403


def test_a_refused_first_sign_up_leaves_the_rule_for_the_next(settings):
    with _client(settings, True) as client:
        first = Browser(client)
        response = first.post("/signup", {"username": "x", "password": "short", "password2": "no"})
        assert response.status_code == 400
        assert html(response).css_first(".account__first") is not None  # still no account
        assert first.sign_up("founder").status_code == 303
        assert _staff(first)


def test_the_rule_can_be_turned_off(settings):
    with _client(settings, False) as client:
        founder = Browser(client)
        assert html(founder.get("/signup")).css_first(".account__first") is None
        founder.sign_up("founder")
        assert not _staff(founder)
