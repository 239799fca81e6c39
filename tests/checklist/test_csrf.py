"""Every state-changing request carries this browser's CSRF token and comes from this site."""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route

from discussit.app import ROUTES as routes
from tests.helpers import PASSWORD, Browser


def _state_changing_paths(group_id) -> list[tuple[str, str]]:
    found = []
    for route in routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"GET", "HEAD"}):
                found.append((method, route.path.replace("{group_id}", str(group_id))))
        else:
            assert isinstance(route, Mount) or not hasattr(route, "methods")
    return found


def test_csrf1_the_route_walk_finds_every_form(lounge):
    paths = {path for _, path in _state_changing_paths(lounge)}
    assert {"/login", "/signup", "/logout", f"/groups/{lounge}/membership"} <= paths


def test_csrf1_every_state_changing_route_refuses_a_request_without_the_token(
    client, alice, lounge
):
    alice.join(lounge)
    for method, path in _state_changing_paths(lounge):
        for data in ({}, {"csrf_token": "forged"}):
            response = alice.request(
                method, path, data={**data, "text": "hi", "username": "x"}, follow_redirects=False
            )
            # The bots' API takes no cookie at all: a browser's request there is unauthorised.
            expected = 401 if path.startswith("/api/") else 403
            assert response.status_code == expected, (method, path, data)
    assert alice.get("/").status_code == 200  # logout without a token did not log out


def test_csrf1_a_cross_site_form_is_refused_even_with_the_token(alice, lounge):
    token = alice.csrf()
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = alice.post(
            f"/groups/{lounge}/membership", {"csrf_token": token}, headers=headers
        )
        assert response.status_code == 403


def test_csrf3_the_token_is_accepted_from_the_header_too(alice, lounge):
    response = alice.request(
        "POST",
        f"/groups/{lounge}/membership",
        headers={"X-CSRF-Token": alice.csrf(), "Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_csrf1_login_forms_carry_a_token_before_any_session(client):
    visitor = Browser(client)
    visitor.sign_up("alice")
    visitor.log_out()
    fresh = Browser(client)
    assert (
        fresh.post("/login", {"username": "alice", "password": PASSWORD}, csrf=False).status_code
        == 403
    )
    assert fresh.log_in("alice").status_code == 303


@pytest.mark.parametrize("size", [70_000, 3_000_000])
def test_val5_oversized_form_bodies_are_refused(alice, size):
    response = alice.post("/signup", {"username": "x" * size})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "path",
    ["/logout", "/groups/{g}/membership", "/groups/{g}/membership/delete", "/groups/{g}/messages"],
)
def test_csrf2_state_changes_are_never_gets(alice, lounge, path):
    alice.join(lounge)
    response = alice.get(path.format(g=lounge), follow_redirects=False)
    assert response.status_code == 405
    page = alice.get(f"/groups/{lounge}/")
    assert page.status_code == 200  # still logged in, still a member
