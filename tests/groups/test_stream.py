"""The home page's SSE stream: live member counts and the user's own buttons in other tabs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests import factories
from tests.helpers import Browser, html


class Stream:
    """Reads an SSE response on a thread, so a test can wait for a line with a timeout."""

    def __init__(self, response) -> None:  # type: ignore[no-untyped-def]
        self.response = response
        self.events: list[str] = []
        self.seen: list[str] = []  # every event, waited for or not
        self.lock = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        data: list[str] = []
        try:
            for line in self.response.iter_lines():
                if line.startswith("data: "):
                    data.append(line[6:])
                elif line.startswith("event: "):
                    data.append(line)
                elif line == "" and data:
                    with self.lock:
                        self.events.append("\n".join(data))
                        self.seen.append(self.events[-1])
                        self.lock.notify_all()
                    data = []
        except Exception:  # the test closed the stream
            pass

    def wait_for(self, text: str, timeout: float = 5.0) -> str:
        with self.lock:
            ok = self.lock.wait_for(lambda: any(text in e for e in self.events), timeout)
            assert ok, f"no event with {text!r}; got {self.events}"
            found = next(e for e in self.events if text in e)
            self.events = self.events[self.events.index(found) + 1 :]
            return found


@contextmanager
def stream(browser: Browser, path: str = "/updates", **headers: str) -> Iterator[Stream]:
    browser.client.cookies = browser.cookies
    with browser.client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


def test_anonymous_visitors_get_no_stream(client):
    response = Browser(client).get("/updates")
    assert response.status_code == 401 and "data:" not in response.text


@pytest.mark.parametrize(
    "headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}]
)
def test_cross_site_requests_get_no_stream(alice, headers):
    response = alice.get("/updates", headers=headers)
    assert response.status_code == 403 and "data:" not in response.text
    assert "access-control-allow-origin" not in response.headers


def test_the_stream_starts_with_the_viewers_directory(alice, lounge):
    with stream(alice) as events:
        first = events.wait_for('<div id="groups"')
        assert 'hx-swap-oob="true"' in first
        assert f'id="group-{lounge}"' in first


def test_member_counts_change_live_as_people_join_and_leave(alice, bob, lounge):
    with stream(alice) as events:
        events.wait_for('<div id="groups"')
        bob.join(lounge)
        count = events.wait_for(f'id="group-{lounge}-count"')
        assert "1 member<" in count and 'hx-swap-oob="true"' in count
        bob.leave(lounge)
        assert "0 members<" in events.wait_for(f'id="group-{lounge}-count"')


def test_a_users_other_tabs_swap_their_buttons(alice, lounge):
    with stream(alice) as events:
        events.wait_for('<div id="groups"')
        alice.join(lounge, headers={"HX-Request": "true"})
        row = events.wait_for(f'<li id="group-{lounge}"')
        buttons = [b.text(strip=True) for b in html_of(row).css("button, a.button")]
        assert buttons == ["Open", "Mark as read", "Leave"]
        # the row's forms carry this browser's own CSRF token
        token = html_of(row).css_first("input[name=csrf_token]").attributes["value"]
        assert token == alice.csrf()
        alice.leave(lounge)
        row = events.wait_for(f'<li id="group-{lounge}"')
        assert [b.text(strip=True) for b in html_of(row).css("button")] == ["Join"]


def test_other_users_do_not_get_my_buttons(alice, bob, lounge):
    with stream(bob) as events:
        events.wait_for('<div id="groups"')
        alice.join(lounge)
        events.wait_for(f'id="group-{lounge}-count"')
        alice.leave(lounge)
        events.wait_for(f'id="group-{lounge}-count"')
        assert not any(f'<li id="group-{lounge}"' in e for e in events.events)


def test_logging_out_ends_the_stream(alice):
    with stream(alice) as events:
        events.wait_for('<div id="groups"')
        alice.log_out()
        assert "You have logged out" in events.wait_for("logged out")
        events.wait_for("event: close")
    assert alice.get("/updates").status_code == 401


def html_of(fragment: str):  # type: ignore[no-untyped-def]
    return html(type("R", (), {"text": fragment})())


def test_a_new_group_appears_on_open_home_pages(client, alice, bob):
    from tests import factories

    factories.make_staff(client, "alice")
    with stream(bob) as events:
        events.wait_for('<div id="groups"')
        alice.post("/groups", {"name": "Fresh"})
        listing = events.wait_for('<div id="groups"')
        assert ">Fresh<" in listing and ">Join<" in listing


def test_a_later_directory_page_streams_that_same_page(client, alice):
    factories.many_groups(client, 40)  # pages of 30
    page_two = html(alice.get("/?after=Group 0029"))
    assert page_two.css_first(".group__name").text(strip=True) == "Group 0030"
    assert (
        "/updates?after=Group%200029"
        in page_two.css_first("#directory").attributes["hx-sse:connect"]
    )
    with stream(alice, "/updates?after=Group%200029") as events:
        first = events.wait_for('<div id="groups"')
        assert "Group 0030" in first and "Group 0039" in first and "Group 0029" not in first
