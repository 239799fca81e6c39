"""Proxies and hosts (issue 11, items 9-11): the client address is the one the trusted router
appended, never one the client wrote; only allowed hosts are answered and redirects never name a
host the client chose; Sec-Fetch-Site is read in any case; HEAD on the event stream opens none."""

from __future__ import annotations

import json

import pytest
from starlette.websockets import WebSocketDisconnect

from discussit.core.security.proxies import forwarded_client
from discussit.core.templating import SOCKET_PAGE
from discussit.settings import Rate, Settings, SettingsError
from tests import figures as figs
from tests.helpers import Browser, freeze_limits


@pytest.mark.parametrize(
    ("headers", "hops", "client"),
    [
        (["198.51.100.7"], 1, "198.51.100.7"),
        (["6.6.6.6, 198.51.100.7"], 1, "198.51.100.7"),  # a forged left entry changes nothing
        (["6.6.6.6", "198.51.100.7"], 1, "198.51.100.7"),  # two header lines read in order
        (["6.6.6.6, 10.0.0.2, 198.51.100.7"], 2, "10.0.0.2"),  # two trusted proxies
        (["198.51.100.7"], 2, None),  # fewer entries than proxies: it did not pass them all
        (["6.6.6.6, not-an-address"], 1, None),
        (["2001:db8::1"], 1, "2001:db8::1"),
        ([], 1, None),
        (["6.6.6.6"], 0, None),  # served directly: the header is the client's own
    ],
)
def test_proxy_the_client_is_the_entry_the_trusted_proxies_appended(headers, hops, client):
    assert forwarded_client(headers, hops) == client
    figs.add("proxy", "cases_tried")


def _signup(client, i: int, forwarded: str):  # type: ignore[no-untyped-def]
    person = Browser(client)
    token = person.csrf()
    person.client.headers["X-Forwarded-For"] = forwarded
    try:
        return person.post(
            "/signup",
            {
                "csrf_token": token,
                "username": f"user{i}x",
                "password": "violet-lantern-93",
                "password2": "violet-lantern-93",
            },
            csrf=False,
        ).status_code
    finally:
        del person.client.headers["X-Forwarded-For"]


def test_proxy_a_forged_left_entry_does_not_change_the_rate_limit_key(client_with):
    with client_with(proxy_hops=1, signups_per_address=Rate(2, 3600)) as client:
        freeze_limits(client)
        statuses = [_signup(client, i, f"203.0.113.{i}, 198.51.100.7") for i in range(3)]
        other = _signup(client, 9, "203.0.113.1, 198.51.100.8")
    assert statuses == [303, 303, 429] and other == 303
    with client_with(proxy_hops=0, signups_per_address=Rate(2, 3600)) as client:
        freeze_limits(client)
        statuses = [_signup(client, 10 + i, f"198.51.100.{i}") for i in range(3)]
    assert statuses == [303, 303, 429]  # no trusted proxy: the header is ignored
    figs.add("proxy", "cases_tried", 2)


def test_proxy_hops_and_hosts_are_settings_with_clear_errors():
    env = {"SECRET_KEY": "k" * 8 + "abcdefghijklmnopqrstuvwxyz012345"}
    made = Settings.from_env(
        {**env, "TRUSTED_PROXY_HOPS": "1", "ALLOWED_HOSTS": "a.example .b.example"}
    )
    assert made.proxy_hops == 1 and made.allowed_hosts == ("a.example", ".b.example")
    assert Settings.from_env({**env, "ALLOWED_HOSTS": "*"}).allowed_hosts == ()
    for name, raw in [
        ("TRUSTED_PROXY_HOPS", "-1"),
        ("TRUSTED_PROXY_HOPS", "\u00b9"),
        ("ALLOWED_HOSTS", "https://a.example/"),
    ]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({**env, name: raw})


def test_proxy_only_allowed_hosts_are_answered(client_with, lounge):
    with client_with(allowed_hosts=("chat.example.com", ".example.org")) as client:
        for host, status in [
            ("chat.example.com", 200),
            ("CHAT.example.com:8443", 200),
            ("example.org", 200),
            ("team.example.org", 200),
            ("evil.example", 400),
            ("chat.example.com.evil.example", 400),
            ("evilexample.org", 400),
            ("", 400),
        ]:
            response = client.get("/login", headers={"Host": host})
            assert response.status_code == status, host
            if status == 400:
                assert "not served under that name" in response.text
                assert "Content-Security-Policy" in response.headers
            figs.add("proxy", "cases_tried")
        client.base_url = "http://evil.example"
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect(
                f"/groups/{lounge}/ws", headers={"origin": "http://evil.example"}
            ),
        ):
            pass
        figs.add("proxy", "cases_tried")


def test_proxy_the_default_origin_allowlist_follows_the_allowed_hosts(client_with, lounge):
    with client_with(allowed_hosts=("testserver",)) as client:
        alice = Browser(client)
        alice.sign_up("alice")
        alice.join(lounge)
        with alice.socket(lounge, origin="http://testserver") as ws:
            ws.send_text(json.dumps({"type": "resume", "page": SOCKET_PAGE, "after": "0"}))
        with pytest.raises(WebSocketDisconnect), alice.socket(lounge, origin="http://evil.example"):
            pass
    figs.add("proxy", "cases_tried", 2)


def test_proxy_redirects_never_point_at_a_host_the_client_named(client, alice, lounge):
    alice.join(lounge)
    for path in (f"/groups/{lounge}", "/groups/new/", "/logout"):
        response = alice.request(
            "GET" if path != "/logout" else "POST",
            path,
            headers={"Host": "evil.example", "X-CSRF-Token": alice.csrf()},
            follow_redirects=False,
        )
        if response.is_redirect:
            location = response.headers["location"]
            assert location.startswith("/") and not location.startswith("//"), location
            assert "evil.example" not in location
        figs.add("proxy", "cases_tried")


def test_proxy_sec_fetch_site_is_compared_in_any_case(alice, lounge):
    for value in ("cross-site", "Cross-Site", "CROSS-SITE", " cross-site "):
        response = alice.post(
            f"/groups/{lounge}/membership", {"next": "/"}, headers={"Sec-Fetch-Site": value}
        )
        assert response.status_code == 403, value
        figs.add("proxy", "cases_tried")


def test_proxy_head_on_the_event_stream_answers_like_get_without_a_stream(client, alice):
    response = alice.request("HEAD", "/updates")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content == b""
    assert Browser(client).request("HEAD", "/updates").status_code == 401
    assert (
        alice.request("HEAD", "/updates", headers={"Sec-Fetch-Site": "Cross-Site"}).status_code
        == 403
    )
    figs.add("proxy", "cases_tried", 3)


def test_proxy_host_headers_with_anything_but_a_name_and_port_are_refused(client_with):
    with client_with(allowed_hosts=("chat.example.com",)) as client:
        for host in (
            "evil@chat.example.com",
            "chat.example.com/x",
            "chat.example.com?x",
            "chat.example.com:80:80",
        ):
            assert client.get("/login", headers={"Host": host}).status_code == 400, host
            figs.add("proxy", "cases_tried")
        assert client.get("/login", headers={"Host": "[::1]:8000"}).status_code == 400


def test_proxy_ipv6_clients_are_counted_by_their_slash_64():
    from types import SimpleNamespace

    from discussit.core.security.ratelimit import client_address

    def of(host: str) -> str:
        return client_address(SimpleNamespace(client=SimpleNamespace(host=host)))

    assert of("2001:db8:1:2:aaaa::1") == of("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert of("2001:db8:1:3::1") != of("2001:db8:1:2::1")
    assert of("::ffff:198.51.100.7") == of("198.51.100.7") == "198.51.100.7"
    assert of("testclient") == "testclient"
    figs.add("proxy", "cases_tried", 3)
