"""profiles: a display name, a bio and a picture for each person

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "display_name",
                sqlmodel.sql.sqltypes.AutoString(length=50),
                server_default="",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "bio",
                sqlmodel.sql.sqltypes.AutoString(length=280),
                server_default="",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("avatar_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "display_name_key",
                sqlmodel.sql.sqltypes.AutoString(length=150),
                server_default="",
                nullable=False,
            )
        )
        batch_op.create_index("ix_users_display_name_key", ["display_name_key"], unique=False)
    op.create_table(
        "avatars",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("avatars")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_display_name_key")
        batch_op.drop_column("display_name_key")
        batch_op.drop_column("avatar_version")
        batch_op.drop_column("bio")
        batch_op.drop_column("display_name")
