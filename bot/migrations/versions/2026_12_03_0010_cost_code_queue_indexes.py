"""cost code queue indexes

The Web Connector claims its next 100 codes by (state, needs_lookup, id) and recounts an export
batch by (export_batch_id, state) on every call; with only the state index, both read every
queued code of a 10,000-code export each round trip. The two new indexes lead with the
columns of the old single-column ones (state; export_batch_id), which go: on PostgreSQL every
index of a row is written again when a code changes state, twice a round trip for 100 codes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cost_code_queue", "cost_code", ["state", "needs_lookup", "id"])
    op.create_index("ix_cost_code_batch_state", "cost_code", ["export_batch_id", "state"])
    op.drop_index("ix_cost_code_state", table_name="cost_code")
    op.drop_index("ix_cost_code_export_batch_id", table_name="cost_code")


def downgrade() -> None:
    op.create_index("ix_cost_code_export_batch_id", "cost_code", ["export_batch_id"])
    op.create_index("ix_cost_code_state", "cost_code", ["state"])
    op.drop_index("ix_cost_code_batch_state", table_name="cost_code")
    op.drop_index("ix_cost_code_queue", table_name="cost_code")
