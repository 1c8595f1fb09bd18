"""call requests (idempotency of outbound calls)

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import switchboard.models.base

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_requests",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("call_sid", sa.String(length=34), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", switchboard.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", switchboard.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_call_requests_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_requests")),
        sa.UniqueConstraint("tenant_id", "idempotency_key",
                            name=op.f("uq_call_requests_tenant_id")),
    )


def downgrade() -> None:
    op.drop_table("call_requests")
