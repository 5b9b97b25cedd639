"""posted message render lease

One renderer at a time per posted message: `mark` counts the changes that asked for a render,
`lease_owner`/`lease_until` say who renders it now, `urgent` that a person is waiting for it,
`shown` which codes it shows (a pick re-renders only the copies that show that code).

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.models

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posted_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mark", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("shown", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lease_until", bot.store.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("posted_message", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
        batch_op.drop_column("shown")
        batch_op.drop_column("urgent")
        batch_op.drop_column("mark")
