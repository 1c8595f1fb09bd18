"""messaging, contacts and compliance

Messages (SMS/MMS, SIP MESSAGE) with their segments, transport and status;
SMS consent records; the do-not-call list; review requests; contacts (one per
tenant and E.164 number); the audit log; and per-tenant settings for the SMS
allowance, review requests, quiet hours and retention.

Revision ID: 0012
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import switchboard.models.base

revision: str = "0012"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = switchboard.models.base.UTCDateTime(timezone=True)
_TEMPLATE = ("Hi {customer_name}, thanks for choosing {business_name}! "
             "Would you leave us a review? {review_link}")


def _base() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    ]


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                   name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE")


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
        batch.add_column(sa.Column("sms_monthly_allowance", sa.Integer(), nullable=False,
                                   server_default="1000"))
        batch.add_column(sa.Column("review_template", sa.String(length=640), nullable=False,
                                   server_default=_TEMPLATE))
        batch.add_column(sa.Column("review_link", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("review_period_days", sa.Integer(), nullable=False,
                                   server_default="90"))
        batch.add_column(sa.Column("quiet_hours_start", sa.String(length=5), nullable=True,
                                   server_default="21:00"))
        batch.add_column(sa.Column("quiet_hours_end", sa.String(length=5), nullable=True,
                                   server_default="08:00"))
        for kind in ("recordings", "voicemails", "transcripts", "messages"):
            batch.add_column(sa.Column(f"retention_{kind}_days", sa.Integer(), nullable=True))

    with op.batch_alter_table("phone_numbers") as batch:
        batch.add_column(sa.Column("sms_url", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("sms_method", sa.String(length=8), nullable=False,
                                   server_default="POST"))

    op.create_table(
        "contacts",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        *_base(),
        _tenant_fk("contacts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("tenant_id", "phone", name=op.f("uq_contacts_tenant_id")),
    )
    op.create_index(op.f("ix_contacts_tenant_id"), "contacts", ["tenant_id"])

    op.create_table(
        "messages",
        sa.Column("message_sid", sa.String(length=34), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("number_id", sa.String(length=36), nullable=True),
        sa.Column("contact_id", sa.String(length=36), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_number", sa.String(length=64), nullable=False),
        sa.Column("to_number", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("media_urls", sa.JSON(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("num_segments", sa.Integer(), nullable=False),
        sa.Column("price", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=True),
        sa.Column("route", sa.String(length=128), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("status_callback", sa.String(length=1000), nullable=True),
        sa.Column("call_sid", sa.String(length=34), nullable=True),
        sa.Column("reply_to_sid", sa.String(length=34), nullable=True),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=True),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("delivered_at", _TS, nullable=True),
        *_base(),
        _tenant_fk("messages"),
        sa.ForeignKeyConstraint(["number_id"], ["phone_numbers.id"],
                                name=op.f("fk_messages_number_id_phone_numbers"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"],
                                name=op.f("fk_messages_contact_id_contacts"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_messages_message_sid")),
        sa.UniqueConstraint("reply_to_sid", name=op.f("uq_messages_reply_to_sid")),
    )
    for name, cols in (
        ("ix_messages_tenant_created", ["tenant_id", "created_at"]),
        ("ix_messages_tenant_from", ["tenant_id", "from_number"]),
        ("ix_messages_tenant_to", ["tenant_id", "to_number"]),
        ("ix_messages_claim", ["status", "next_attempt_at"]),
        ("ix_messages_tenant_id", ["tenant_id"]),
        ("ix_messages_number_id", ["number_id"]),
        ("ix_messages_contact_id", ["contact_id"]),
        ("ix_messages_provider_id", ["provider_id"]),
        ("ix_messages_call_sid", ["call_sid"]),
    ):
        op.create_index(name, "messages", cols)

    op.create_table(
        "sms_consents",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("consented_at", _TS, nullable=True),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", _TS, nullable=True),
        sa.Column("opt_out_keyword", sa.String(length=16), nullable=True),
        *_base(),
        _tenant_fk("sms_consents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_consents")),
        sa.UniqueConstraint("tenant_id", "phone", name=op.f("uq_sms_consents_tenant_id")),
    )
    op.create_index(op.f("ix_sms_consents_tenant_id"), "sms_consents", ["tenant_id"])

    op.create_table(
        "dnc_entries",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        *_base(),
        _tenant_fk("dnc_entries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_entries")),
        sa.UniqueConstraint("tenant_id", "phone", name=op.f("uq_dnc_entries_tenant_id")),
    )
    op.create_index(op.f("ix_dnc_entries_tenant_id"), "dnc_entries", ["tenant_id"])

    op.create_table(
        "review_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("message_sid", sa.String(length=34), nullable=False),
        sa.Column("sent_at", _TS, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _tenant_fk("review_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_requests")),
    )
    op.create_index("ix_review_requests_tenant_phone", "review_requests",
                    ["tenant_id", "phone", "sent_at"])
    op.create_index(op.f("ix_review_requests_tenant_id"), "review_requests", ["tenant_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor_user_id", sa.String(length=36), nullable=True),
        sa.Column("actor_key_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        _tenant_fk("audit_log"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_tenant_at", "audit_log", ["tenant_id", "at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("review_requests")
    op.drop_table("dnc_entries")
    op.drop_table("sms_consents")
    op.drop_table("messages")
    op.drop_table("contacts")
    with op.batch_alter_table("phone_numbers") as batch:
        batch.drop_column("sms_url")
        batch.drop_column("sms_method")
    with op.batch_alter_table("tenants") as batch:
        for column in ("active", "sms_monthly_allowance", "review_template", "review_link",
                       "review_period_days", "quiet_hours_start", "quiet_hours_end",
                       "retention_recordings_days", "retention_voicemails_days",
                       "retention_transcripts_days", "retention_messages_days"):
            batch.drop_column(column)
