"""transcripts: index on created_at

``/metrics`` sums the transcripts stored in the last minutes at every scrape
(throughput), and the transcript list sorts newest first: both read a range
of ``created_at`` instead of every row.

Revision ID: 0009
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_transcripts_created_at", "transcripts", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_transcripts_created_at", table_name="transcripts")
