"""transcript full-text search

SQLite: an FTS5 table ``transcripts_fts`` (its own copy of the text, keyed
by ``transcript_id``; an external-content table would key on the implicit
rowid, which VACUUM may renumber for a table with a text primary key), kept
in step by triggers. PostgreSQL: a generated ``tsvector`` column
``search_vector`` with a GIN index.

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE transcripts_fts USING fts5("
    "text, transcript_id UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2')",
    "INSERT INTO transcripts_fts (text, transcript_id) SELECT text, id FROM transcripts",
    "CREATE TRIGGER transcripts_fts_insert AFTER INSERT ON transcripts BEGIN "
    "INSERT INTO transcripts_fts (text, transcript_id) VALUES (new.text, new.id); END",
    "CREATE TRIGGER transcripts_fts_delete AFTER DELETE ON transcripts BEGIN "
    "DELETE FROM transcripts_fts WHERE transcript_id = old.id; END",
    "CREATE TRIGGER transcripts_fts_update AFTER UPDATE OF text ON transcripts BEGIN "
    "UPDATE transcripts_fts SET text = new.text WHERE transcript_id = old.id; END",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS transcripts_fts_update",
    "DROP TRIGGER IF EXISTS transcripts_fts_delete",
    "DROP TRIGGER IF EXISTS transcripts_fts_insert",
    "DROP TABLE IF EXISTS transcripts_fts",
]
_PG_UP = [
    "ALTER TABLE transcripts ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', coalesce(text, ''))) STORED",
    "CREATE INDEX ix_transcripts_search_vector ON transcripts USING gin (search_vector)",
]
_PG_DOWN = [
    "DROP INDEX IF EXISTS ix_transcripts_search_vector",
    "ALTER TABLE transcripts DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: dict[str, list[str]]) -> None:
    dialect = op.get_bind().dialect.name
    for statement in statements.get(dialect, []):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": _SQLITE_UP, "postgresql": _PG_UP})


def downgrade() -> None:
    _run({"sqlite": _SQLITE_DOWN, "postgresql": _PG_DOWN})
