"""call_logs indexes for the API's caller, callee and staff filters

Revision ID: 0004a
Revises: 0004
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0004a"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_call_logs_tenant_from_started": ["tenant_id", "from_number", "started_at"],
    "ix_call_logs_tenant_to_started": ["tenant_id", "to_number", "started_at"],
    "ix_call_logs_tenant_staff_started": ["tenant_id", "staff_id", "started_at"],
}


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.create_index(name, "call_logs", columns)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="call_logs")
