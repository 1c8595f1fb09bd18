"""DID inventory per trunk

Revision ID: 0004
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import switchboard.models.base

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "did_inventory",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("trunk_id", sa.String(length=36), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("number_type", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=8), nullable=True),
        sa.Column("locality", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("number_id", sa.String(length=36), nullable=True),
        sa.Column("owner_user_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", switchboard.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", switchboard.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_did_inventory_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["trunk_id"], ["trunks.id"],
                                name=op.f("fk_did_inventory_trunk_id_trunks"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["number_id"], ["phone_numbers.id"],
                                name=op.f("fk_did_inventory_number_id_phone_numbers"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_user_id"], ["users.id"],
                                name=op.f("fk_did_inventory_owner_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_did_inventory")),
        sa.UniqueConstraint("trunk_id", "e164", name=op.f("uq_did_inventory_trunk_id")),
    )
    with op.batch_alter_table("did_inventory") as batch:
        batch.create_index("ix_did_inventory_tenant_id", ["tenant_id"])
        batch.create_index("ix_did_inventory_trunk_id", ["trunk_id"])
        batch.create_index("ix_did_inventory_e164", ["e164"])
        batch.create_index("ix_did_inventory_number_id", ["number_id"])
        batch.create_index("ix_did_inventory_owner_user_id", ["owner_user_id"])
        batch.create_index("ix_did_inventory_tenant_search",
                           ["tenant_id", "country", "number_type"])


def downgrade() -> None:
    op.drop_table("did_inventory")
