"""Extra indexes of ``call_logs`` for the API's filtered lists (migration 0004a).

Call-log lists filter by caller, callee or staff and read newest first; each
filter gets a ``(tenant_id, <column>, started_at)`` index so a page reads a
few index entries instead of scanning the tenant's calls (``bench/api.py``
measures it). The two flag filters (migration 0008) matter most on SQLite:
without them a ``has_recording`` page walks ``(tenant_id, started_at)`` and
reads every call row until it has found 25 recorded ones (a tenth of the
calls: about 250 random row reads a page), where PostgreSQL's buffer cache
hides the cost. Declared here, beside the model, so the metadata matches the
migrated schema.
"""

from __future__ import annotations

from sqlalchemy import Index

from switchboard.models.call import CallLog

CALL_LOG_FILTER_INDEXES = (
    Index("ix_call_logs_tenant_from_started", CallLog.tenant_id, CallLog.from_number,
          CallLog.started_at),
    Index("ix_call_logs_tenant_to_started", CallLog.tenant_id, CallLog.to_number,
          CallLog.started_at),
    Index("ix_call_logs_tenant_staff_started", CallLog.tenant_id, CallLog.staff_id,
          CallLog.started_at),
    Index("ix_call_logs_tenant_recording_started", CallLog.tenant_id, CallLog.has_recording,
          CallLog.started_at),
    Index("ix_call_logs_tenant_voicemail_started", CallLog.tenant_id, CallLog.has_voicemail,
          CallLog.started_at),
)
