"""cost code reject reason

Why one code was rejected (the per-code Reject asks for it; Reject All leaves it empty).

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-02 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cost_code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reject_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cost_code", schema=None) as batch_op:
        batch_op.drop_column("reject_reason")
