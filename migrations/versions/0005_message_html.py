"""a message's HTML, rendered once when stored (timeline/formatting.py), and the renderer's
version; messages stored before are rendered here, a thousand at a time (a message whose HTML
is missing or older than the renderer is still rendered when read, but no longer on every read)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("render_version", sa.Integer(), server_default="0", nullable=False)
        )
    from discussit.timeline.formatting import RENDER_VERSION, to_html

    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer),
        sa.column("body", sa.Text),
        sa.column("body_html", sa.Text),
        sa.column("render_version", sa.Integer),
    )
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(messages.c.id, messages.c.body)
            .where(messages.c.id > after, messages.c.body_html.is_(None))
            .order_by(messages.c.id)
            .limit(1000)
        ).all()
        if not rows:
            break
        connection.execute(
            messages.update()
            .where(messages.c.id == sa.bindparam("row_id"))
            .values(body_html=sa.bindparam("html"), render_version=RENDER_VERSION),
            [{"row_id": row.id, "html": to_html(row.body)} for row in rows],
        )
        after = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("render_version")
        batch_op.drop_column("body_html")
