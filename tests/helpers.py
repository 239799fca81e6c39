"""Test helpers: a Browser (its own cookie jar over one shared TestClient), HTML parsing,
and WebSocket receives with a timeout so a missing frame fails a test instead of hanging it."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import anyio
import httpx2 as httpx
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from starlette.testclient import TestClient, WebSocketTestSession

from discussit.core.templating import SOCKET_PAGE

PASSWORD = "violet-lantern-93"
ORIGIN = "http://testserver"


def html(response: Any) -> HTMLParser:
    return HTMLParser(response.text)


# The security checklist's XSS payloads (XSS-1): message text that must stay inert everywhere.
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "${alert(1)}",
    "`+alert(1)+`",
    "</script><script>alert(1)</script>",
    "{{7*7}}",
    '<button hx-post="/logout" hx-trigger="load">x</button>',
    "a\u2028b",
    "\u202egnp.exe",
]

# Markdown-specific payloads (issue 13): links to other schemes, images, autolinks with quotes,
# nested code fences, HTML entities, RTL overrides. Each renders as inert text or a safe link.
MARKDOWN_PAYLOADS = [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&colon;alert(1))",
    "[x]( javascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](data:image/png;base64,AAAA)",
    "[x](//evil.example)",
    "[x](/logout)",
    "[x](java&#9;script:alert(1))",
    "[x](\x01javascript:alert(1))",
    "![](x onerror=alert(1))",
    '![x](https://example.com/a.png" onerror="alert(1))',
    "<javascript:alert(1)>",
    "javascript:alert(1)",
    '<https://example.com/"onmouseover="alert(1)>',
    'https://example.com/"onmouseover="alert(1)',
    "https://example.com/'><script>alert(1)</script>",
    '[x](https://example.com "title" onclick="alert(1)")',
    "````\n```\n<script>alert(1)</script>\n```\n````",
    '```"><img src=x onerror=alert(1)>\ncode\n```',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "\u202e[link](https://example.com)\u202c",
    "*<img src=x onerror=alert(1)>*",
    "`<img src=x onerror=alert(1)>`",
]

# What a message body may hold (timeline/formatting.py), and the attributes each element may carry.
FORMATTING = {
    "p": set(),
    "br": set(),
    "strong": set(),
    "em": set(),
    "s": set(),
    "code": {"class"},
    "pre": set(),
    "blockquote": set(),
    "ul": set(),
    "ol": {"start"},
    "li": set(),
    "a": {"href", "rel"},
}


def shown_as_text(body: Any, text: str) -> bool:
    """A message body (a parsed `.message__body`) shows `text` as formatting renders it (its
    words: "`+alert(1)+`" is code), and holds no element or attribute formatting does not make.
    """
    from urllib.parse import urlsplit

    from discussit.timeline.formatting import REL, SCHEMES, to_html

    words = HTMLParser(to_html(text)).body.text()  # type: ignore[union-attr]
    inner = [n for n in body.css("*") if n.mem_id != body.mem_id]
    links = [n for n in inner if n.tag == "a"]
    return (
        body.text() == words
        and all(n.tag in FORMATTING and set(n.attributes) <= FORMATTING[n.tag] for n in inner)
        and all(
            urlsplit(a.attributes.get("href") or "").scheme in SCHEMES
            and a.attributes.get("rel") == REL
            for a in links
        )
    )


class Browser:
    """One person's browser: separate cookies, same app (same lifespan, broker and database)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.cookies = httpx.Cookies()
        self.username: str | None = None

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self.client.cookies = self.cookies
        try:
            return self.client.request(method, url, **kwargs)
        finally:
            self.cookies = httpx.Cookies(self.client.cookies)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def csrf(self) -> str:
        page = self.get("/login" if self.username is None else "/")
        token = html(page).css_first("input[name=csrf_token]")
        assert token is not None, page.text
        return token.attributes["value"] or ""

    def post(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf())
        kwargs.setdefault("follow_redirects", False)
        return self.request("POST", url, data=data, **kwargs)

    def sign_up(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = self.post(
            "/signup", {"username": username, "password": password, "password2": password}
        )
        if response.status_code == 303:
            self.username = username
        return response

    def log_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = self.post("/login", {"username": username, "password": password})
        if response.status_code == 303:
            self.username = username
        return response

    def log_out(self) -> httpx.Response:
        response = self.post("/logout")
        self.username = None
        return response

    def join(self, group_id: Any, **kwargs: Any) -> httpx.Response:
        return self.post(f"/groups/{group_id}/membership", {"next": "/"}, **kwargs)

    def leave(self, group_id: Any, **kwargs: Any) -> httpx.Response:
        return self.post(f"/groups/{group_id}/membership/delete", {"next": "/"}, **kwargs)

    def socket(self, group_id: Any, origin: str | None = ORIGIN) -> Any:
        """Open the group's WebSocket as this browser would (use it as a context manager)."""
        self.client.cookies = self.cookies
        headers = {"origin": origin} if origin else {}
        return self.client.websocket_connect(f"/groups/{group_id}/ws", headers=headers)


# Starlette 1.10.0's WebSocketTestSession has no receive with a timeout: these helpers read its
# private `_send_rx` stream and call `_raise_on_close` (tests/core/test_private_apis.py checks
# both still exist).
def receive(ws: WebSocketTestSession, timeout: float = 5.0) -> dict[str, Any]:
    async def next_message() -> dict[str, Any]:
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()  # type: ignore[no-any-return]

    return ws.portal.call(next_message)


def receive_text(ws: WebSocketTestSession, timeout: float = 5.0) -> str:
    message = receive(ws, timeout)
    ws._raise_on_close(message)
    return swapped_where_meant(message["text"])


def swapped_where_meant(frame: str) -> str:
    """`frame` if a page would swap all of it where it is meant to go, else an AssertionError.
    A group page swaps a frame's main content in at the end of #timeline (the socket element's
    hx-target and hx-swap), so that content may only be new lines of the timeline (`li`s with an
    entry id); everything else must say where it goes (hx-swap-oob). Every frame a test reads
    passes here. (Parsed as a document, a head element would move out of the body unseen: a
    frame has none, and would change the page's title if it had.)"""
    assert not re.search(r"<(title|meta|link|base|style|script)\b", frame), frame
    for node in HTMLParser(frame).body.iter(include_text=True):  # type: ignore[union-attr]
        if node.tag == "-text":
            assert not node.text().strip(), f"loose text in a frame: {frame!r}"
        elif "hx-swap-oob" not in node.attributes:
            assert node.tag == "li" and (node.id or "").startswith("entry-"), (
                f"a {node.tag} that would land in the timeline: {frame!r}"
            )
    return frame


def nothing_received(ws: WebSocketTestSession, wait: float = 0.3) -> bool:
    try:
        receive(ws, wait)
    except TimeoutError:
        return True
    return False


def drain(ws: WebSocketTestSession, quiet: float = 0.3) -> list[str]:
    """Every frame that arrives until the socket stays quiet for `quiet` seconds."""
    frames = []
    while True:
        try:
            message = receive(ws, quiet)
        except TimeoutError:
            return frames
        ws._raise_on_close(message)
        frames.append(swapped_where_meant(message["text"]))


def receive_until(ws: WebSocketTestSession, pattern: str, timeout: float = 5.0) -> list[str]:
    """Frames up to and including the first matching `pattern` (a regex)."""
    frames = []
    while True:
        frame = receive_text(ws, timeout)
        frames.append(frame)
        if re.search(pattern, frame):
            return frames


def presence_changes(frame: str) -> dict[int, bool]:
    """Whom a live frame marks online (True) or offline (False): members/_presence_changes.html,
    each element appended to the group page's #presence-changes."""
    marked: dict[int, bool] = {}
    for wrapper in HTMLParser(frame).css('[hx-swap-oob="beforeend:#presence-changes"]'):
        for change in wrapper.css(".presence-change"):
            for key, online in (("data-online", True), ("data-offline", False)):
                marked.update({int(uid): online for uid in (change.attributes[key] or "").split()})
    return marked


def presence_pattern(user_id: int) -> str:
    """A regex for receive_until: a frame with a presence change of `user_id`."""
    return rf'data-(online|offline)="(\d+ )*{user_id}( \d+)*"'


def wait_admitted(client: TestClient, user_id: int, sockets: int = 1) -> None:
    """Until `sockets` of the user's sockets are admitted and counted online. A test that ends a
    login or a membership to see an open socket close must wait for this: a socket refused at
    admission gets no word (AZ3), and sending the resume frame does not mean admitted."""
    presence = client.app_state["presence"]
    admitted_by = time.monotonic() + 10
    while client.portal.call(presence.sockets, user_id) < sockets:
        assert time.monotonic() < admitted_by, "the socket was never admitted"
        time.sleep(0.01)


def resume(ws: WebSocketTestSession, after: int, visible: object = None) -> None:
    """What the page's hidden resume form sends on every (re)connect (htmx 4 wire format), with
    whether the page is shown ("1") or hidden ("0"; None: not said, as hidden)."""
    frame: dict[str, object] = {
        "type": "resume",
        "page": SOCKET_PAGE,
        "after": str(after),
        "headers": {"HX-Request": "true", "HX-Source": "form#resume"},
    }
    if visible is not None:
        frame["visible"] = visible
    ws.send_text(json.dumps(frame))


def say(ws: WebSocketTestSession, text: str, **extra: Any) -> None:
    """What the composer form sends (htmx 4 hx-ws:send: form values plus `headers`)."""
    ws.send_text(
        json.dumps(
            {
                "csrf_token": "x",
                "text": text,
                **extra,
                "headers": {"HX-Request": "true", "HX-Source": "form#composer"},
            }
        )
    )


def seqs(frames: list[str]) -> list[int]:
    return [int(s) for f in frames for s in re.findall(r'id="entry-(\d+)"', f)]


def freeze_limits(client: Any) -> None:
    """Stop the rate limiter's clock: a test must not straddle two of its fixed windows (which
    would allow up to twice a limit)."""
    client.app_state["limiter"].clock = lambda: 1_000_000.0


def await_chain(task: asyncio.Task[Any]) -> list[str]:
    """Where `task` waits: each coroutine of its chain of awaits ("file:line name"), then what
    the last one waits for."""
    chain: list[str] = []
    awaiting: object = task.get_coro()
    while awaiting is not None:
        frame = getattr(awaiting, "cr_frame", None) or getattr(awaiting, "gi_frame", None)
        if frame is None:
            chain.append(f"waits for {awaiting!r}")
            break
        chain.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        awaiting = getattr(awaiting, "cr_await", None) or getattr(awaiting, "gi_yieldfrom", None)
    return chain
