"""The audit log: who did what to whom, and when (staff actions; logins refused past the limit,
once per window). `record` is called inside the transaction of
the action it records, so an action and its entry are kept or lost together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import aliased

from discussit.models import AuditEntry, User, utcnow

_LOG = AuditEntry.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
PAGE = 50

# What each action is called on the audit page.
ACTIONS = {
    "staff-on": "made staff",
    "staff-off": "removed from staff",
    "deactivate": "deactivated",
    "reactivate": "reactivated",
    "member-removed": "removed from a group",
    "signup-open": "opened sign-up to anyone",
    "signup-invite": "made sign-up by invitation",
    "invite-rotated": "made a new join link",
    "group-edited": "renamed or described the group",
    "group-archived": "archived the group",
    "group-reopened": "reopened the group",
    "group-private": "made private the group",
    "group-public": "made public the group",
    "group-deleted": "deleted the group",
    "member-added": "added to a private group",
    "login-refused": "had logins refused, past the limit of tries,",
    "bot-created": "made the bot",
    "token-created": "made a new API token for the bot",
    "token-revoked": "revoked the API token of the bot",
    "webhook-set": "set the webhook of the bot",
    "secret-created": "made a new signing secret for the bot",
}


def record(
    conn: Connection,
    actor_id: int | None,
    action: str,
    target_user_id: int | None,
    detail: str = "",
) -> None:
    assert action in ACTIONS, action
    conn.execute(
        insert(_LOG).values(
            at=utcnow(),
            actor_id=actor_id,
            action=action,
            target_user_id=target_user_id,
            detail=detail[:200],
        )
    )


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    at: datetime
    actor: str | None  # None: the account is gone (or, for a refused login, there is none)
    action: str
    key: str  # the action's key in ACTIONS
    target: str | None
    detail: str


def page(conn: Connection, before: int | None = None) -> tuple[list[Line], int | None]:
    """The newest PAGE entries (before the entry `before`), and the key of the next page."""
    actor, target = aliased(_USERS), aliased(_USERS)
    query = (
        select(_LOG, actor.c.username.label("actor"), target.c.username.label("target"))
        .outerjoin(actor, actor.c.id == _LOG.c.actor_id)
        .outerjoin(target, target.c.id == _LOG.c.target_user_id)
        .order_by(_LOG.c.id.desc())
        .limit(PAGE + 1)
    )
    if before is not None:
        query = query.where(_LOG.c.id < before)
    rows = conn.execute(query).all()
    lines = [
        Line(row.id, row.at, row.actor, ACTIONS[row.action], row.action, row.target, row.detail)
        for row in rows[:PAGE]
    ]
    return lines, (lines[-1].id if len(rows) > PAGE else None)
