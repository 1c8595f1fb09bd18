"""call-log flag indexes, carrier trunk signalling sources, why a recording was not made

``call_logs``: ``(tenant_id, has_recording, started_at)`` and
``(tenant_id, has_voicemail, started_at)`` serve the flag filters of the
call-log lists (SQLite otherwise reads a row per call until it finds a page
of flagged ones); ``recording_error`` says why a recording a call asked for
was not made. ``trunks``: ``inbound_match`` (the carrier's signalling
sources for PJSIP ``identify``) and ``setup_note`` (what an admin still has
to supply).

Revision ID: 0008
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_call_logs_tenant_recording_started": ["tenant_id", "has_recording", "started_at"],
    "ix_call_logs_tenant_voicemail_started": ["tenant_id", "has_voicemail", "started_at"],
}


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.create_index(name, "call_logs", columns)
    with op.batch_alter_table("call_logs") as batch:
        batch.add_column(sa.Column("recording_error", sa.String(length=300), nullable=True))
    with op.batch_alter_table("trunks") as batch:
        batch.add_column(sa.Column("inbound_match", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("setup_note", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trunks") as batch:
        batch.drop_column("setup_note")
        batch.drop_column("inbound_match")
    with op.batch_alter_table("call_logs") as batch:
        batch.drop_column("recording_error")
    for name in _INDEXES:
        op.drop_index(name, table_name="call_logs")
