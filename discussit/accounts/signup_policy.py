"""Who may sign up: anyone (open, the default), or only whoever has the join link (invite),
whose code staff can rotate from the staff area (the old link stops working at once). Kept in
`site_settings`, read at every sign-up, so every process follows a change at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from discussit.models import SiteSetting

_SETTINGS = SiteSetting.__table__  # type: ignore[attr-defined]
POLICIES = ("open", "invite")


@dataclass(frozen=True, slots=True)
class Policy:
    policy: str  # "open" or "invite"
    code: str | None  # the join link's code (made when first needed)

    def admits(self, code: str | None) -> bool:
        """Whether a sign-up carrying `code` (or none) may go ahead."""
        if self.policy == "open":
            return True
        return bool(code and self.code) and secrets.compare_digest(code or "", self.code or "")


def current(conn: Connection) -> Policy:
    rows: dict[str, str] = {
        row.key: row.value for row in conn.execute(select(_SETTINGS.c.key, _SETTINGS.c.value))
    }
    policy = rows.get("signup_policy", "open")
    return Policy(policy if policy in POLICIES else "open", rows.get("invite_code"))


def _put(conn: Connection, key: str, value: str) -> None:
    conn.execute(delete(_SETTINGS).where(_SETTINGS.c.key == key))
    conn.execute(insert(_SETTINGS).values(key=key, value=value))


def set_policy(conn: Connection, policy: str) -> Policy:
    """Open or invite-only; an invite-only site gets a join code if it has none."""
    assert policy in POLICIES, policy
    _put(conn, "signup_policy", policy)
    if policy == "invite" and current(conn).code is None:
        _put(conn, "invite_code", secrets.token_urlsafe(18))
    return current(conn)


def rotate(conn: Connection) -> Policy:
    """A new join code: the old link stops working at once."""
    _put(conn, "invite_code", secrets.token_urlsafe(18))
    return current(conn)
