"""RL-1..3: rate limits on logins, sign-ups, messages and open sockets."""

from __future__ import annotations

import time

import pytest
from starlette.websockets import WebSocketDisconnect

from discussit.settings import Rate, Settings
from tests import factories
from tests import figures as figs
from tests.helpers import (
    PASSWORD,
    Browser,
    drain,
    freeze_limits,
    receive_text,
    receive_until,
    resume,
    say,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.slow
def test_rl1_password_guessing_is_throttled_even_for_the_right_password(client_with):
    with client_with(login_attempts_per_user=Rate(10, 180)) as client:
        clock = Clock()
        client.app_state["limiter"].clock = clock
        Browser(client).sign_up("alice")
        failures = 0
        while (
            answer := Browser(client).log_in(
                "alice" if failures % 2 else "ALICE", f"guess-{failures}-xyz"
            )
        ).status_code == 400:
            failures += 1  # case variants share one counter
        assert failures == 10 and answer.status_code == 429
        throttled = Browser(client).log_in("alice", PASSWORD)
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["Retry-After"]) <= 180
        spoofed = Browser(client).post(
            "/login",
            {"username": "alice", "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert spoofed.status_code == 429  # a client's own header does not reset anything
        clock.now += 181
        assert Browser(client).log_in("alice", PASSWORD).status_code == 303
    defaults = Settings.__dataclass_fields__
    figs.FIGURES["rate_limits"]["login_failures_before_429"] = failures
    figs.FIGURES["rate_limits"]["login_limit_defaults"] = {
        "per_username": str(defaults["login_attempts_per_user"].default),
        "per_address": str(defaults["login_attempts_per_address"].default),
    }


def test_rl1_sign_up_floods_from_one_address_are_throttled(client_with):
    with client_with(signups_per_address=Rate(5, 3600)) as client:
        made = [Browser(client).sign_up(f"user{i}").status_code for i in range(7)]
    assert made == [303] * 5 + [429] * 2
    figs.FIGURES["rate_limits"]["signups_before_429"] = made.count(303)
    figs.FIGURES["rate_limits"]["signups_limit_default"] = str(
        Settings.__dataclass_fields__["signups_per_address"].default
    )


def _alice_in_a_new_group(client, name: str):  # type: ignore[no-untyped-def]
    from discussit.groups import directory as groups

    alice = Browser(client)
    alice.sign_up("alice")
    group = factories.run(client, lambda s: groups.create(s, name)).id
    alice.join(group)
    return alice, group


@pytest.mark.slow
def test_rl2_a_message_flood_over_three_sockets_stores_only_the_limit(client_with):
    limit = Rate(10, 10)
    with client_with(messages_per_user=limit) as client:
        # A frozen clock: the test must not straddle two of the limiter's fixed windows.
        client.app_state["limiter"].clock = Clock()
        alice, group = _alice_in_a_new_group(client, "Flood")
        errors = sent = 0
        with alice.socket(group) as a, alice.socket(group) as b, alice.socket(group) as c:
            for ws in (a, b, c):
                resume(ws, 1)
            for i in range(5):
                for ws in (a, b, c):
                    say(ws, f"flood-{i}")
                    sent += 1
            for ws in (a, b, c):
                for frame in drain(ws, 0.5):
                    errors += "sending messages too fast" in frame
        stored = alice.get(f"/groups/{group}/").text.count('class="message"')
    assert stored == 10 and errors == 5  # each refused message was told to its sender
    figs.FIGURES["rate_limits"]["messages"] = {
        "limit_here": str(limit),
        "limit_default": str(Settings.__dataclass_fields__["messages_per_user"].default),
        "sent": sent,
        "stored": stored,
        "refused_told": errors,
    }


def test_rl2_sustained_flooding_closes_the_socket(client_with):
    with client_with(messages_per_user=Rate(3, 60)) as client:
        freeze_limits(client)  # (one window: 15 sends, at most 3 taken)
        alice, group = _alice_in_a_new_group(client, "Flood")
        with alice.socket(group) as ws:
            resume(ws, 1)
            for i in range(15):
                say(ws, f"spam-{i}")
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    receive_text(ws)
            assert closed.value.code == 1013


def test_rl3_one_user_cannot_open_more_than_the_socket_cap(client_with):
    with client_with(sockets_per_user=3) as client:
        alice, group = _alice_in_a_new_group(client, "Tabs")
        with alice.socket(group) as a, alice.socket(group) as b, alice.socket(group) as c:
            for ws in (a, b, c):
                resume(ws, 1)
            presence, user_id = client.app_state["presence"], factories.user(client, "alice").id
            deadline = time.monotonic() + 5  # the three are counted once their set-up finishes
            while client.portal.call(presence.sockets, user_id) < 3:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            with alice.socket(group) as extra:
                assert "too many group pages" in receive_text(extra)
                with pytest.raises(WebSocketDisconnect) as closed:
                    receive_text(extra)
                assert closed.value.code == 1008
            say(a, "the first three still work")
            receive_until(b, "the first three")
        time.sleep(0.3)  # the closed pages' bookkeeping finishes just after they close
        with alice.socket(group) as again:  # closing pages frees places
            resume(again, 1)
            say(again, "room again")
            receive_until(again, "room again")
    figs.FIGURES["rate_limits"]["sockets_per_user"] = {
        "default": Settings.__dataclass_fields__["sockets_per_user"].default,
        "here": 3,
        "refused_past_it": 1,  # the extra page above, told and closed 1008
    }
