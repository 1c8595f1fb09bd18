"""SQLAlchemy models; importing this package registers every table."""

from switchboard.models.audit import AuditEntry
from switchboard.models.base import Base, utcnow
from switchboard.models.call import (
    CallDirection,
    CallLeg,
    CallLog,
    CallLogStatus,
    CallStatus,
    Recording,
    RecordingSource,
    Voicemail,
)
from switchboard.models.call_log_indexes import CALL_LOG_FILTER_INDEXES  # noqa: F401
from switchboard.models.call_request import CallRequest
from switchboard.models.contact import Contact
from switchboard.models.inventory import DidInventory
from switchboard.models.messaging import (
    DncEntry,
    Message,
    MessageStatus,
    ReviewRequest,
    SmsConsent,
)
from switchboard.models.outbox import DeliveryStatus, WebhookDelivery
from switchboard.models.rule import ForwardingRule
from switchboard.models.system import SystemState
from switchboard.models.telephony import Endpoint, PhoneNumber, Trunk
from switchboard.models.tenant import Tenant
from switchboard.models.transcription import Transcript, TranscriptionJob
from switchboard.models.user import ApiKey, User
from switchboard.models.voice_usage import VoiceUsage

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "CallDirection",
    "CallLeg",
    "CallLog",
    "CallLogStatus",
    "CallRequest",
    "CallStatus",
    "Contact",
    "DeliveryStatus",
    "DidInventory",
    "DncEntry",
    "Endpoint",
    "ForwardingRule",
    "Message",
    "MessageStatus",
    "PhoneNumber",
    "Recording",
    "RecordingSource",
    "ReviewRequest",
    "SmsConsent",
    "SystemState",
    "Tenant",
    "Transcript",
    "TranscriptionJob",
    "Trunk",
    "User",
    "VoiceUsage",
    "Voicemail",
    "WebhookDelivery",
    "utcnow",
]
