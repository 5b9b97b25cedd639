"""quickbooks connection state, company file identity, silence notice

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 16:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qb_connection",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("hresult", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("since", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("bound_file", sa.Text(), nullable=True),
        sa.Column("bound_company", sa.Text(), nullable=True),
        sa.Column("open_file", sa.Text(), nullable=True),
        sa.Column("open_company", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("export_batch", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("silence_notified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("qbwc_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rebind_file", sa.Text(), nullable=True))
    with op.batch_alter_table("qbwc_ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company_name", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("qbwc_ticket", schema=None) as batch_op:
        batch_op.drop_column("company_name")
    with op.batch_alter_table("qbwc_job", schema=None) as batch_op:
        batch_op.drop_column("rebind_file")
    with op.batch_alter_table("export_batch", schema=None) as batch_op:
        batch_op.drop_column("silence_notified")
    op.drop_table("qb_connection")
