"""transcript search without joins: facets and time in the full-text index

Search used to join every match to ``transcripts`` and ``call_logs`` to
filter by tenant, currency, date, direction and number, so a common word
(60 k matches) cost hundreds of ms. Now the index alone answers filters,
counts and the recency order; the joins are made for one page of hits.

Only current transcripts are indexed. Each indexed document carries facet
tokens: ``xd<hex of direction>0`` and ``xn<hex of number>0`` for the call's
from and to numbers, and on SQLite ``xt<hex of tenant id>0`` (hex keeps the
tokens whole under every tokenizer; the final digit keeps Porter's stemmer
off them). The time of a document is its call's ``started_at``, else the
transcript's ``created_at``.

SQLite: FTS5 table ``transcript_search`` (columns ``text``, ``facets``)
whose rowid is ``milliseconds since 1970 * 4096 + n`` (``n`` tells apart
transcripts of the same millisecond), so a date range is a rowid range and
newest first is rowid order; ``transcript_search_keys`` maps rowids to
transcript ids. PostgreSQL: table ``transcript_search`` (``transcript_id``,
``tenant_id``, ``at``, ``document`` tsvector with the facets as lexemes)
with a GIN index on ``document`` and btrees on ``(tenant_id, at,
transcript_id)`` and ``(at, transcript_id)``: a word in most transcripts
reads a tenant's newest rows in order, a rare one the GIN index. Both are kept by triggers on
``transcripts`` and on ``call_logs`` (a call log written or changed after
its transcript re-indexes it). Replaces migration 0002's ``transcripts_fts``
and ``search_vector``; existing rows are indexed here.

Revision ID: 0010
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0002"

# -- SQLite ------------------------------------------------------------------

_SQLITE_MS = "CAST(round((julianday({at}) - 2440587.5) * 86400000.0) AS INTEGER)"
_SQLITE_FACETS = (
    "trim(COALESCE('xt' || lower(hex({t}.tenant_id)) || '0', '')"
    " || COALESCE(' xd' || lower(hex(c.direction)) || '0', '')"
    " || COALESCE(' xn' || lower(hex(c.from_number)) || '0', '')"
    " || COALESCE(' xn' || lower(hex(c.to_number)) || '0', ''))"
)
# Index the transcript ``new`` (when current): a key in its millisecond, then the document.
_SQLITE_INDEX_NEW = (
    "INSERT INTO transcript_search_keys (key, transcript_id) "
    "SELECT b.base + COALESCE((SELECT max(k.key) FROM transcript_search_keys k "
    "WHERE k.key >= b.base AND k.key < b.base + 4096) + 1 - b.base, 0), new.id "
    "FROM (SELECT "
    + _SQLITE_MS.format(
        at="COALESCE((SELECT c.started_at FROM call_logs c WHERE c.call_sid = new.call_sid), "
        "new.created_at)"
    )
    + " * 4096 AS base) b WHERE new.is_current; "
    "INSERT INTO transcript_search (rowid, text, facets) "
    "SELECT k.key, new.text, " + _SQLITE_FACETS.format(t="new") + " "
    "FROM transcript_search_keys k LEFT JOIN call_logs c ON c.call_sid = new.call_sid "
    "WHERE k.transcript_id = new.id AND new.is_current; "
)
_SQLITE_UNINDEX_OLD = (
    "DELETE FROM transcript_search WHERE rowid = "
    "(SELECT key FROM transcript_search_keys WHERE transcript_id = old.id); "
    "DELETE FROM transcript_search_keys WHERE transcript_id = old.id; "
)
# Touching is_current re-runs the transcripts' update trigger, which re-indexes.
_SQLITE_REINDEX_CALL = (
    "UPDATE transcripts SET is_current = is_current WHERE call_sid = new.call_sid AND is_current; "
)
_SQLITE_UP = [
    "DROP TRIGGER IF EXISTS transcripts_fts_update",
    "DROP TRIGGER IF EXISTS transcripts_fts_delete",
    "DROP TRIGGER IF EXISTS transcripts_fts_insert",
    "DROP TABLE IF EXISTS transcripts_fts",
    "CREATE TABLE transcript_search_keys (key INTEGER PRIMARY KEY, "
    "transcript_id VARCHAR(36) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE transcript_search USING fts5("
    "text, facets, tokenize = 'porter unicode61 remove_diacritics 2')",
    "INSERT INTO transcript_search_keys (key, transcript_id) "
    "SELECT base + row_number() OVER (PARTITION BY base ORDER BY id) - 1, id FROM ("
    "SELECT t.id, "
    + _SQLITE_MS.format(at="COALESCE(c.started_at, t.created_at)")
    + " * 4096 AS base FROM transcripts t LEFT JOIN call_logs c ON c.call_sid = t.call_sid "
    "WHERE t.is_current)",
    "INSERT INTO transcript_search (rowid, text, facets) "
    "SELECT k.key, t.text, " + _SQLITE_FACETS.format(t="t") + " "
    "FROM transcript_search_keys k JOIN transcripts t ON t.id = k.transcript_id "
    "LEFT JOIN call_logs c ON c.call_sid = t.call_sid",
    "CREATE TRIGGER transcript_search_insert AFTER INSERT ON transcripts BEGIN "
    + _SQLITE_INDEX_NEW
    + "END",
    "CREATE TRIGGER transcript_search_update AFTER UPDATE OF "
    "text, is_current, tenant_id, call_sid, created_at ON transcripts BEGIN "
    + _SQLITE_UNINDEX_OLD
    + _SQLITE_INDEX_NEW
    + "END",
    "CREATE TRIGGER transcript_search_delete AFTER DELETE ON transcripts BEGIN "
    + _SQLITE_UNINDEX_OLD
    + "END",
    "CREATE TRIGGER transcript_search_call_insert AFTER INSERT ON call_logs "
    "WHEN EXISTS (SELECT 1 FROM transcripts WHERE call_sid = new.call_sid) BEGIN "
    + _SQLITE_REINDEX_CALL
    + "END",
    "CREATE TRIGGER transcript_search_call_update AFTER UPDATE OF "
    "started_at, direction, from_number, to_number ON call_logs BEGIN "
    + _SQLITE_REINDEX_CALL
    + "END",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS transcript_search_call_update",
    "DROP TRIGGER IF EXISTS transcript_search_call_insert",
    "DROP TRIGGER IF EXISTS transcript_search_delete",
    "DROP TRIGGER IF EXISTS transcript_search_update",
    "DROP TRIGGER IF EXISTS transcript_search_insert",
    "DROP TABLE IF EXISTS transcript_search",
    "DROP TABLE IF EXISTS transcript_search_keys",
    # Migration 0002's table and triggers, as they were.
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

# -- PostgreSQL --------------------------------------------------------------

_PG_UP = [
    "DROP INDEX IF EXISTS ix_transcripts_search_vector",
    "ALTER TABLE transcripts DROP COLUMN IF EXISTS search_vector",
    "CREATE TABLE transcript_search ("
    "transcript_id VARCHAR(36) PRIMARY KEY REFERENCES transcripts (id) ON DELETE CASCADE, "
    "tenant_id VARCHAR(36), at TIMESTAMPTZ NOT NULL, document TSVECTOR NOT NULL)",
    """
    CREATE FUNCTION transcript_search_sync(tid VARCHAR) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM transcript_search WHERE transcript_id = tid;
        INSERT INTO transcript_search (transcript_id, tenant_id, at, document)
        SELECT t.id, t.tenant_id, COALESCE(c.started_at, t.created_at),
               to_tsvector('english', coalesce(t.text, ''))
               || array_to_tsvector(array_remove(ARRAY[
                   'xd' || encode(convert_to(c.direction, 'UTF8'), 'hex') || '0',
                   'xn' || encode(convert_to(c.from_number, 'UTF8'), 'hex') || '0',
                   'xn' || encode(convert_to(c.to_number, 'UTF8'), 'hex') || '0'
               ]::text[], NULL))
        FROM transcripts t LEFT JOIN call_logs c ON c.call_sid = t.call_sid
        WHERE t.id = tid AND t.is_current;
    END $$
    """,
    """
    CREATE FUNCTION transcript_search_on_transcript() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM transcript_search_sync(NEW.id);
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION transcript_search_on_call() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM transcript_search_sync(t.id) FROM transcripts t
        WHERE t.call_sid = NEW.call_sid AND t.is_current;
        RETURN NULL;
    END $$
    """,
    "INSERT INTO transcript_search (transcript_id, tenant_id, at, document) "
    "SELECT t.id, t.tenant_id, COALESCE(c.started_at, t.created_at), "
    "to_tsvector('english', coalesce(t.text, '')) || array_to_tsvector(array_remove(ARRAY["
    "'xd' || encode(convert_to(c.direction, 'UTF8'), 'hex') || '0', "
    "'xn' || encode(convert_to(c.from_number, 'UTF8'), 'hex') || '0', "
    "'xn' || encode(convert_to(c.to_number, 'UTF8'), 'hex') || '0']::text[], NULL)) "
    "FROM transcripts t LEFT JOIN call_logs c ON c.call_sid = t.call_sid WHERE t.is_current",
    "CREATE INDEX ix_transcript_search_document ON transcript_search USING gin (document)",
    # A tenant's newest matches first: a backward scan, no sort.
    "CREATE INDEX ix_transcript_search_tenant_at ON transcript_search "
    "(tenant_id, at, transcript_id)",
    "CREATE INDEX ix_transcript_search_at ON transcript_search (at, transcript_id)",
    "CREATE TRIGGER transcript_search_on_transcript AFTER INSERT OR UPDATE OF "
    "text, is_current, tenant_id, call_sid, created_at ON transcripts "
    "FOR EACH ROW EXECUTE FUNCTION transcript_search_on_transcript()",
    "CREATE TRIGGER transcript_search_on_call AFTER INSERT OR UPDATE OF "
    "started_at, direction, from_number, to_number ON call_logs "
    "FOR EACH ROW EXECUTE FUNCTION transcript_search_on_call()",
]
_PG_DOWN = [
    "DROP TRIGGER IF EXISTS transcript_search_on_call ON call_logs",
    "DROP TRIGGER IF EXISTS transcript_search_on_transcript ON transcripts",
    "DROP FUNCTION IF EXISTS transcript_search_on_call()",
    "DROP FUNCTION IF EXISTS transcript_search_on_transcript()",
    "DROP FUNCTION IF EXISTS transcript_search_sync(VARCHAR)",
    "DROP TABLE IF EXISTS transcript_search",
    # Migration 0002's column and index, as they were.
    "ALTER TABLE transcripts ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', coalesce(text, ''))) STORED",
    "CREATE INDEX ix_transcripts_search_vector ON transcripts USING gin (search_vector)",
]


def _run(statements: dict[str, list[str]]) -> None:
    dialect = op.get_bind().dialect.name
    for statement in statements.get(dialect, []):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": _SQLITE_UP, "postgresql": _PG_UP})


def downgrade() -> None:
    _run({"sqlite": _SQLITE_DOWN, "postgresql": _PG_DOWN})
