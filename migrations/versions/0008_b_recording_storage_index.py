"""recordings (tenant_id, size_bytes): the storage check before each recording reads the index

The engine sums a tenant's recording sizes before every recording starts
(plan limit); with this index the sum is an index-only scan instead of a
read of every recording row (bench/api.py at 90 000 recordings: about 25 ms
down to 8 ms on SQLite and PostgreSQL).

Revision ID: 0008b
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008b"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_recordings_tenant_size", "recordings", ["tenant_id", "size_bytes"])


def downgrade() -> None:
    op.drop_index("ix_recordings_tenant_size", table_name="recordings")
