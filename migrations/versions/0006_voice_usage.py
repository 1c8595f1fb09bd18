"""voice usage (seconds counted once per call by the status webhook)

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import switchboard.models.base

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_usage",
        sa.Column("call_sid", sa.String(length=34), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", switchboard.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", switchboard.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_voice_usage_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_usage")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_voice_usage_call_sid")),
    )
    op.create_index(op.f("ix_voice_usage_tenant_id"), "voice_usage", ["tenant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_voice_usage_tenant_id"), table_name="voice_usage")
    op.drop_table("voice_usage")
