"""text policy keys: groups.name_key, and usernames keyed by the look-alike-folding key

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from discussit.core.security.text import name_key, username_key

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _unique_keys(rows: list[tuple[object, str]], key, width: int) -> dict[object, str]:  # type: ignore[no-untyped-def]
    """Each row's key; a row whose key another (older) row already has keeps a key of its own
    (`key~id`): existing accounts and groups are never merged or lost."""
    keys: dict[object, str] = {}
    taken: set[str] = set()
    for row_id, value in rows:
        made = key(value)
        if made in taken:
            suffix = f"~{row_id}"
            made = made[: width - len(suffix)] + suffix
        taken.add(made)
        keys[row_id] = made
    return keys


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(length=180), nullable=True)
        )
    groups = sa.table(
        "groups",
        sa.column("id", sa.Uuid()),
        sa.column("name"),
        sa.column("name_key"),
        sa.column("created_at"),
    )
    rows = bind.execute(sa.select(groups.c.id, groups.c.name).order_by(groups.c.created_at)).all()
    for group_id, key in _unique_keys([tuple(r) for r in rows], name_key, 180).items():
        bind.execute(groups.update().where(groups.c.id == group_id).values(name_key=key))
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.alter_column("name_key", nullable=False)
        batch_op.create_unique_constraint("uq_groups_name_key", ["name_key"])

    users = sa.table(
        "users", sa.column("id", sa.Integer()), sa.column("username"), sa.column("username_key")
    )
    rows = bind.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    keys = _unique_keys([tuple(r) for r in rows], username_key, 30)
    # Two passes, so no new key collides with an old one still in place.
    for user_id in keys:
        bind.execute(users.update().where(users.c.id == user_id).values(username_key=f"#{user_id}"))
    for user_id, key in keys.items():
        bind.execute(users.update().where(users.c.id == user_id).values(username_key=key))


def downgrade() -> None:
    bind = op.get_bind()
    users = sa.table(
        "users", sa.column("id", sa.Integer()), sa.column("username"), sa.column("username_key")
    )
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(users.update().where(users.c.id == user_id).values(username_key=f"#{user_id}"))
    for user_id, username in bind.execute(sa.select(users.c.id, users.c.username)).all():
        bind.execute(
            users.update().where(users.c.id == user_id).values(username_key=username.lower())
        )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_constraint("uq_groups_name_key", type_="unique")
        batch_op.drop_column("name_key")
