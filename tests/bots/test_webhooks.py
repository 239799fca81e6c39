"""Outgoing webhooks: a message that mentions a bot is POSTed, signed, to the bot's URL off the
posting path; a text/plain answer becomes the bot's reply in the group; failures are kept on
the bot's page. Only http(s) URLs staff entered, and by default only public addresses."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import ipaddress
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from starlette.testclient import TestClient

from discussit.app import create_app
from discussit.bots import webhooks
from tests import factories
from tests.bots.helpers import add_bot, api, make_bot
from tests.helpers import Browser, html, receive_until, resume, say


class Receiver:
    """A bot's own server on 127.0.0.1: keeps what it gets, answers as told."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.status, self.answer, self.kind = 200, "", "text/plain; charset=utf-8"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                data = receiver.answer.encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", receiver.kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def local_client(settings) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The app with WEBHOOKS_ALLOW_PRIVATE on (the receiver is on loopback)."""
    local = dataclasses.replace(
        settings, webhooks_allow_private=True, public_url="https://chat.test"
    )
    with TestClient(create_app(local), base_url="http://testserver") as client:
        yield client


def settle(client: TestClient) -> None:
    """Until every queued delivery is done (waits on the queue, not on time)."""
    assert client.portal is not None
    client.portal.call(client.app_state["webhooks"].idle)


def setup_bot(client: TestClient, url: str) -> tuple[Browser, Browser, Any, int, str, str]:
    """ana (staff) and ben in Ops, with the bot `helper` whose webhook is `url`."""
    ana, ben = Browser(client), Browser(client)
    ana.sign_up("ana")
    factories.make_staff(client, "ana")
    ben.sign_up("ben")
    group = factories.make_group(client, "Ops")
    ana.join(group)
    ben.join(group)
    bot_id, token = make_bot(ana)
    add_bot(ana, bot_id, group)
    assert ana.post(f"/admin/bots/{bot_id}/webhook", {"url": url}).status_code == 303
    page = html(ana.get(f"/admin/bots/{bot_id}"))
    secret = page.css_first("input[aria-label='Signing secret']").attributes["value"] or ""
    return ana, ben, group, bot_id, token, secret


def test_a_mention_is_delivered_signed_and_the_answer_is_posted(local_client, receiver):
    ana, ben, group, bot_id, _, secret = setup_bot(local_client, receiver.url)
    receiver.answer = "pong: all systems go"
    with ben.socket(group) as ws:
        resume(ws, 0)
        say(ws, "@helper ping")
        receive_until(ws, "ping")
        settle(local_client)
        answer = receive_until(ws, "all systems go")[-1]
    assert "Helper" in answer and "message__quote" in answer  # a reply to the mention
    headers, body = receiver.got[0]
    sent = json.loads(body)
    assert sent["text"] == "@helper ping" and sent["author"]["name"] == "ben"
    assert (
        sent["group"] == {"id": str(group), "name": "Ops"} and sent["bot"]["username"] == "helper"
    )
    assert sent["permalink"] == f"https://chat.test/groups/{group}/messages/{sent['seq']}"
    fields = dict(part.split("=", 1) for part in headers["x-discussit-signature"].split(","))
    mac = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(mac.hexdigest(), fields["v1"])
    assert headers["x-discussit-delivery"] == sent["delivery"]
    status = html(ana.get(f"/admin/bots/{bot_id}")).css_first(".bot__delivery").text()
    assert "delivered" in status and "HTTP 200; answered" in status
    assert len(receiver.got) == 1  # the bot's own answer mentions nobody it would be told of


def test_no_mention_no_delivery_and_bots_messages_are_not_offered(local_client, receiver):
    _, ben, group, _, token, _ = setup_bot(local_client, receiver.url)
    with ben.socket(group) as ws:
        resume(ws, 0)
        say(ws, "nothing for bots here")
        receive_until(ws, "nothing for bots")
    api(local_client, "POST", f"/api/groups/{group}/messages", token, json={"text": "@helper me"})
    settle(local_client)
    assert receiver.got == []


def test_a_failing_webhook_is_shown_to_staff_and_posts_nothing(local_client, receiver):
    ana, ben, group, bot_id, token, _ = setup_bot(local_client, receiver.url)
    receiver.status, receiver.answer = 500, "oops"
    ben_page = ben.post(f"/groups/{group}/messages", {"text": "@helper are you there?"})
    assert ben_page.status_code == 303
    settle(local_client)
    status = html(ana.get(f"/admin/bots/{bot_id}")).css_first(".bot__delivery")
    assert (
        "failed (HTTP 500)" in status.text()
        and "bot__delivery--failed" in status.attributes["class"]
    )
    listed = api(local_client, "GET", f"/api/groups/{group}/messages", token).json()["messages"]
    assert [m["text"] for m in listed] == ["@helper are you there?"]


def test_by_default_a_webhook_is_not_sent_to_a_private_address(client, receiver):
    ana, ben, group, bot_id, _, _ = setup_bot(client, receiver.url)
    ben.post(f"/groups/{group}/messages", {"text": "@helper hello"})
    settle(client)
    assert receiver.got == []
    status = html(ana.get(f"/admin/bots/{bot_id}")).css_first(".bot__delivery").text()
    assert "not sent: 127.0.0.1 leads to an address that is not public" in status


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://files.example.com/x", "starts with https://"),
        ("javascript:alert(1)", "starts with https://"),
        ("https://user:pw@example.com/hook", "user name or password"),
        ("https://exa mple.com/", "not a URL"),
        ("https://example.com:99999/", "not a URL"),
    ],
)
def test_a_webhook_url_that_is_not_http_is_refused(client, staff_and_bot, url, problem):
    staff, bot_id = staff_and_bot
    refused = staff.post(f"/admin/bots/{bot_id}/webhook", {"url": url})
    assert refused.status_code == 400
    assert problem in html(refused).css_first(".form__error").text()
    page = html(staff.get(f"/admin/bots/{bot_id}"))
    assert page.css_first("input[name=url]").attributes.get("value") in (None, "")


@pytest.fixture
def staff_and_bot(client, alice):  # type: ignore[no-untyped-def]
    factories.make_staff(client, "alice")
    return alice, make_bot(alice)[0]


@pytest.mark.pure
@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "192.168.1.1",
        "172.16.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
    ],
)
def test_addresses_that_are_not_public_are_refused(address):
    assert not webhooks.is_public(ipaddress.ip_address(address))


@pytest.mark.pure
@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert webhooks.is_public(ipaddress.ip_address(address))
