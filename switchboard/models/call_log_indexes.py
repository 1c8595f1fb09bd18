"""Extra indexes of ``call_logs`` for the API's filtered lists (migration 0004a).

Call-log lists filter by caller, callee or staff and read newest first; each
filter gets a ``(tenant_id, <column>, started_at)`` index so a page reads a
few index entries instead of scanning the tenant's calls (``bench/api.py``
measures it). Declared here, beside the model, so the metadata matches the
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
)
