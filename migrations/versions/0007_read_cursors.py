"""a member's read cursor: the seq of the last entry of the group they have seen (unread counts
and the "new messages" line); existing members start with everything read

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_read_seq", sa.Integer(), server_default="0", nullable=False)
        )
    groups = sa.table("groups", sa.column("id", sa.Uuid), sa.column("last_seq", sa.Integer))
    memberships = sa.table(
        "memberships", sa.column("group_id", sa.Uuid), sa.column("last_read_seq", sa.Integer)
    )
    op.get_bind().execute(
        memberships.update().values(
            last_read_seq=sa.select(groups.c.last_seq)
            .where(groups.c.id == memberships.c.group_id)
            .scalar_subquery()
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("last_read_seq")
