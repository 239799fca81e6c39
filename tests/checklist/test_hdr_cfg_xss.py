"""HDR-1..2, CFG-1..3, XSS-1..2 through HTTP, the socket and the stream.
(HDR-1/2/3 and XSS-1 in a real browser: tests/browser/test_checklist_browser.py.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from discussit.app import create_app
from discussit.core.security import text
from discussit.core.security.headers import CSP
from discussit.settings import Rate
from tests import factories
from tests import figures as figs
from tests.helpers import (
    XSS_PAYLOADS,
    Browser,
    drain,
    html,
    receive_until,
    resume,
    say,
    shown_as_text,
)
from tests.servers import Member, Server

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def _boom(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("secret internal detail DATABASE_URL=postgres://u:p@h/db")


def test_hdr1_hdr2_every_html_response_carries_the_security_headers(settings, figures):
    app = create_app(settings)
    app.router.routes.append(Route("/boom", _boom))
    with TestClient(app, raise_server_exceptions=False) as client:
        alice, mallory = Browser(client), Browser(client)
        alice.sign_up("alice")
        mallory.sign_up("mallory")
        from discussit.groups import directory as groups

        group = factories.run(client, lambda s: groups.create(s, "Headers")).id
        alice.join(group)
        responses = {
            "200 login": Browser(client).get("/login"),
            "200 home": alice.get("/"),
            "200 group": alice.get(f"/groups/{group}/"),
            "403 forbidden group": mallory.get(f"/groups/{group}/"),
            "403 csrf": alice.post("/logout", csrf=False),
            "404": alice.get("/nowhere"),
            "405": alice.get("/logout"),
            "413": alice.post("/signup", {"username": "x" * 70_000}),
            "401 stream": Browser(client).get("/updates"),
            "500": alice.get("/boom"),
        }
        with client_with_limits(settings) as limited:
            Browser(limited).sign_up("one")
            responses["429"] = Browser(limited).sign_up("two")
    missing = 0
    for name, response in responses.items():
        expected_status = int(name.split()[0])
        assert response.status_code == expected_status, name
        for header, value in REQUIRED.items():
            missing += response.headers.get(header) != value
            assert response.headers.get(header) == value, (name, header)
        assert "strict-transport-security" not in response.headers  # plain HTTP here
    assert "secret internal detail" not in responses["500"].text  # CFG-2: no traceback leaks
    assert "Traceback" not in responses["500"].text
    assert responses["200 home"].headers["cache-control"] == "no-store"  # HDR-3
    figs.FIGURES["headers"] = {
        "responses_checked": len(responses),
        "missing_required": missing,
        "statuses": sorted({n.split()[0] for n in responses}),
    }


def client_with_limits(settings):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return TestClient(create_app(replace(settings, signups_per_address=Rate(1, 3600))))


def test_hdr2_hsts_is_sent_over_https(client_with):
    with client_with(secure_cookies=True) as client:
        response = client.get("/login")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


def test_cfg1_no_secrets_in_tracked_files():
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert ".env" not in files and ".secret_key" not in files
    pattern = re.compile(
        r"SECRET_KEY\s*=\s*['\"]?[A-Za-z0-9_\-]{24,}|redis://[^@\s/]+:[^@\s/]+@"
        r"|postgres(ql)?://[^@\s/]+:[^@\s/]+@[a-z]"
    )
    offenders = []
    for name in files:
        path = ROOT / name
        if path.suffix in {".gz", ".png"} or not path.is_file() or "tests/" in name:
            continue
        if pattern.search(path.read_text(errors="ignore")):
            offenders.append(name)
    assert offenders == []
    ignored = (ROOT / ".gitignore").read_text()
    assert ".env" in ignored and ".secret_key" in ignored


@pytest.mark.slow
def test_cfg3_forwarded_addresses_are_trusted_only_from_configured_proxies(server_env, tmp_path):
    env = {**server_env, "RATE_LIMIT_SIGNUPS": "2/3600"}
    counts = {}
    for label, hops in (("untrusted", "0"), ("trusted", "1")):
        server = Server({**env, "TRUSTED_PROXY_HOPS": hops}, tmp_path / f"{label}.log").start()
        statuses = []
        try:
            for i in range(3):
                member_http = Member.__new__(Member)
                import httpx2 as httpx

                client = httpx.Client(
                    base_url=server.url,
                    timeout=10,
                    # A forged entry on the left (the client's) and the router's on the right.
                    headers={"X-Forwarded-For": f"203.0.113.9, 198.51.100.{i + 1}"},
                )
                page = client.get("/signup").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
                statuses.append(
                    client.post(
                        "/signup",
                        data={
                            "csrf_token": token,
                            "username": f"{label}{i}",
                            "password": "violet-lantern-93",
                            "password2": "violet-lantern-93",
                        },
                    ).status_code
                )
                client.close()
                del member_http
        finally:
            server.terminate()
        counts[label] = statuses
    assert counts["untrusted"] == [303, 303, 429]  # spoofed headers all count as 127.0.0.1
    assert counts["trusted"] == [303, 303, 303]  # the router's entry names the real client


def _safe(fragment: str, payload: str) -> None:
    bodies = html(type("R", (), {"text": fragment})()).css(".message__body")
    shown = text.clean(payload, text.MESSAGE)  # bidi overrides are removed by the text policy
    assert any(shown_as_text(b, shown) for b in bodies), fragment[:200]
    for marker in ("<script>alert", "<img src=x", "<svg onload", "<button hx-post"):
        assert marker not in fragment


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss1_hostile_text_is_inert_in_every_context(client, alice, bob, lounge, payload):
    alice.join(lounge)
    bob.join(lounge)
    with alice.socket(lounge) as a, bob.socket(lounge) as b:
        resume(a, 2)
        resume(b, 2)
        drain(b)
        say(a, payload)
        _safe(receive_until(b, "message__body")[-1], payload)  # live WS fragment, OOB swap
    contexts = 1
    _safe(alice.get(f"/groups/{lounge}/").text, payload)  # the page
    contexts += 1
    with bob.socket(lounge) as b:  # catch-up after a reconnect
        resume(b, 2)
        _safe(receive_until(b, "message__body")[-1], payload)
        contexts += 1
    factories.post_messages(client, lounge, "bob", 60)
    older = alice.get(f"/groups/{lounge}/history?before=10", headers={"HX-Request": "true"})
    _safe(older.text, payload)  # the Load older fragment
    contexts += 1
    figs.add("xss", "payload_contexts", contexts)
    figs.add("xss", "payloads_shown_as_text", 1)  # _safe() checked each context above


def test_xss2_hostile_group_names_are_inert_in_the_stream_too(client, alice, make_group):
    name = '<img src=x onerror=alert(1)>"{{7*7}}'
    group = make_group(name)
    alice.client.cookies = alice.cookies
    with alice.client.stream("GET", "/updates") as stream:
        lines = []
        for line in stream.iter_lines():
            if line.startswith("data:"):
                lines.append(line)
            elif lines and line == "":
                break
        first = "\n".join(lines)
    assert "<img src=x" not in first and "&lt;img src=x" in first
    assert f'id="group-{group}"' in first  # element ids come only from UUIDs
