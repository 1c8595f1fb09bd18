"""endpoints.webrtc: a browser phone (PJSIP over WebSocket, DTLS-SRTP, ICE)

A WebRTC endpoint is written to PJSIP with ``webrtc=yes`` (AVPF, DTLS-SRTP,
ICE, rtcp-mux) instead of a desk phone's plain RTP; the two cannot share one
endpoint, so the kind is stored.

Revision ID: 0011
Revises: 0001
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(
            sa.Column("webrtc", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("webrtc")
