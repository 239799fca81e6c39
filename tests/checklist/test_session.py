"""Sessions (issue 11, item 12, and the purge of item 2): a new login on a browser ends the one
it had on the server, closing that login's pages; ended sessions are deleted on a schedule."""

from __future__ import annotations

from datetime import timedelta

import httpx2 as httpx
import pytest
from sqlmodel import select
from starlette.websockets import WebSocketDisconnect

from discussit.accounts import auth
from discussit.models import AuthSession, utcnow
from tests import factories
from tests import figures as figs
from tests.helpers import Browser, receive_until, resume, wait_admitted


def _sessions(client) -> int:  # type: ignore[no-untyped-def]
    async def count(session):  # type: ignore[no-untyped-def]
        return len((await session.exec(select(AuthSession.id))).all())

    return factories.run(client, count)


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_session_logging_in_again_ends_the_browsers_old_session(client, alice, bob, lounge, who):
    alice.join(lounge)
    copy = Browser(client)
    copy.cookies = httpx.Cookies(alice.cookies)  # the old cookie, kept somewhere
    before = _sessions(client)
    with alice.socket(lounge) as page:
        resume(page, 1)
        # Admitted first: a socket whose login ends before admission is refused without a word.
        wait_admitted(client, factories.user(client, "alice").id)
        assert alice.log_in(who).status_code == 303  # the same browser logs in again
        assert "logged out" in receive_until(page, "logged out")[-1].lower()
        with pytest.raises(WebSocketDisconnect):
            receive_until(page, "never")
    assert copy.get("/", follow_redirects=False).status_code == 303  # ended everywhere
    assert alice.get("/").status_code == 200  # the new one does
    assert _sessions(client) == before  # one ended, one began
    figs.add("sessions", "relogin_cases_held")


def test_session_expired_sessions_are_purged_at_start_and_on_schedule(client, client_with, alice):
    async def add_old(session):  # type: ignore[no-untyped-def]
        user = await auth.find_user(session, "alice")
        for days in (15, 30):
            session.add(
                AuthSession(
                    token_hash=f"{days:064d}",
                    user_id=user.id,
                    created_at=utcnow() - timedelta(days=days),
                )
            )
        await session.commit()

    factories.run(client, add_old)
    assert _sessions(client) == 3
    with client_with() as restarted:  # a process starting purges at once
        assert _sessions(restarted) == 1
    assert alice.get("/").status_code == 200  # the live session stays
    factories.run(client, add_old)
    purged = client.portal.call(auth.purge_expired, factories.database(client), 14 * 24 * 3600)
    assert purged == 2 and _sessions(client) == 1
    figs.add("sessions", "expired_purged", 4)
