"""Checklist cases that need a real browser: CSRF-3, WSO-2, XSS-1, HDR-1, HDR-2, HDR-3."""

from __future__ import annotations

import http.server
import re
import threading
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests import figures as figs
from tests.browser.test_journeys import row, sign_up, unique
from tests.servers import free_port

# What the browser does under the CSP, with a cross-site page, framing and after logout: the
# same whatever the backend (run on the embedded default only).
pytestmark = [pytest.mark.browser, pytest.mark.frontend]

XSS = [
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=window.__pwned=1>",
    '"><svg onload=window.__pwned=1>',
    "${window.__pwned=1}",
    "{{7*7}}",
    '<button hx-post="/logout" hx-trigger="load">x</button>',
    "[x](javascript:window.__pwned=1)",
    "![x](x onerror=window.__pwned=1)",
]


def _watch(page):  # type: ignore[no-untyped-def]
    """Collect CSP violations, dialogs and page errors; log every request's URL and body."""
    seen = {"csp": [], "dialogs": [], "errors": [], "requests": []}
    page.on("console", lambda m: "Content Security Policy" in m.text and seen["csp"].append(m.text))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append((r.method, r.url, r.post_data or "")))
    return seen


def test_hdr1_csrf3_xss1_a_full_journey_under_the_csp_runs_no_injected_code(
    live_server, new_context
):
    base = live_server.url
    group = unique("Strict")
    live_server.command("create-group", group)
    alice, bob = new_context().new_page(), new_context().new_page()
    seen = [_watch(alice), _watch(bob)]
    for page in (alice, bob):
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => console.log("
            "'Content Security Policy violation ' + e.violatedDirective))"
        )
    sign_up(alice, base, unique("ann"))
    sign_up(bob, base, unique("ben"))
    for page in (alice, bob):
        row(page, group).locator("button:has-text('Join')").click()
        row(page, group).locator("a:has-text('Open')").click()
    for payload in XSS:
        alice.fill("#composer-text", payload)
        alice.press("#composer-text", "Enter")
        expect(bob.locator("#timeline .message__body").last).to_have_text(payload)
    alice.fill("#composer-text", "**safe** formatting: https://example.com/x")
    alice.press("#composer-text", "Enter")
    link = bob.locator("#timeline .message__body").last.locator("a")
    expect(link).to_have_attribute("href", "https://example.com/x")
    expect(link).to_have_attribute("rel", "noopener nofollow ugc")
    expect(bob.locator("#timeline .message__body").last.locator("strong")).to_have_text("safe")
    bob.reload()  # and from the page itself
    expect(bob.locator("#timeline .message__body")).to_have_count(len(XSS) + 1)
    for page in (alice, bob):
        assert page.evaluate("window.__pwned") is None
        assert (
            page.locator(
                "#timeline script, #timeline [onerror], #timeline svg, #timeline [hx-post],"
                " #timeline a[href^='javascript'], #timeline .message__body img"
            ).count()
            == 0
        )
        # The only images in the history: the authors' pictures, from this server.
        sources = page.locator("#timeline img").evaluate_all("imgs => imgs.map(i => i.src)")
        assert all(
            re.fullmatch(r"http://127\.0\.0\.1:\d+/people/\d+/avatar\?v=\d+", s) for s in sources
        )
        expect(page.locator(".topbar__user")).to_be_visible()  # the hx-post logout never fired
    row_page = bob
    row_page.goto(base + "/")
    row(row_page, group).locator("button:has-text('Leave')").click()
    expect(row(row_page, group).locator("button")).to_have_text(["Join"])
    bob.click("button:has-text('Log out')")
    for s in seen:
        assert s["csp"] == [] and s["dialogs"] == [] and s["errors"] == []
        for method, url, body in s["requests"]:
            assert "csrf" not in urlsplit(url).query  # CSRF-3: tokens never in URLs
            if method == "POST":
                assert "csrf_token=" in body
    figs.FIGURES["xss"]["browser_payloads"] = len(XSS)
    figs.FIGURES["xss"]["browser_dialogs"] = sum(len(s["dialogs"]) for s in seen)
    figs.FIGURES["headers"]["csp_violations_in_full_flow"] = sum(len(s["csp"]) for s in seen)


class _EvilPage(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        body = (
            f"<script>let got=0; let ws=new WebSocket('{self.target}');"
            "ws.onmessage=()=>{got++; document.title='got '+got};"
            "ws.onclose=e=>{document.title='closed '+e.code+' got '+got};</script>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


def test_wso2_a_cross_site_page_cannot_use_the_victims_socket(live_server, new_context):
    base = live_server.url
    group_name = unique("Hijack")
    group = live_server.create_group(group_name)
    context = new_context()
    victim = context.new_page()
    sign_up(victim, base, unique("vic"))
    row(victim, group_name).locator("button:has-text('Join')").click()
    port = free_port()
    _EvilPage.target = f"ws://127.0.0.1:{live_server.port}/groups/{group}/ws"
    evil = http.server.HTTPServer(("127.0.0.1", port), _EvilPage)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        attacker = context.new_page()  # same browser: the victim's cookies would go along
        attacker.goto(f"http://localhost:{port}/")
        expect(attacker).to_have_title("closed 1006 got 0", timeout=10_000)
        received = int(attacker.title().rsplit(" ", 1)[1])  # frames the evil page got
    finally:
        evil.shutdown()
        evil.server_close()
    figs.FIGURES["authorization"]["cross_site_page_frames_received"] = received


def test_hdr2_the_app_cannot_be_framed(live_server, new_context):
    page = new_context().new_page()
    page.set_content(f'<iframe id="f" src="{live_server.url}/login"></iframe>')
    page.wait_for_timeout(1000)
    frame = page.frame_locator("#f")
    assert frame.locator("form").count() == 0


def test_hdr3_after_logout_no_history_or_chat_is_left_in_the_browser(live_server, new_context):
    base = live_server.url
    group = unique("Private")
    live_server.command("create-group", group)
    page = new_context().new_page()
    sign_up(page, base, unique("pia"))
    row(page, group).locator("button:has-text('Join')").click()
    row(page, group).locator("a:has-text('Open')").click()
    page.fill("#composer-text", "very private words")
    page.press("#composer-text", "Enter")
    expect(page.locator("#timeline .message__body")).to_have_text(["very private words"])
    page.click("button:has-text('Log out')")
    expect(page).to_have_url(f"{base}/login")
    stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
    assert "very private words" not in stored and "htmx-history-cache" not in stored
    page.go_back()
    page.wait_for_load_state()
    assert "very private words" not in page.content()
