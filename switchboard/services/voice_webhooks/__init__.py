"""The built-in voice app over HTTP: seed 000's ``/api/voice/*`` webhooks.

A provider (a cloud number whose voice URL points here, or another
Switchboard engine) drives these exactly as it drives any voice URL. The
engine runs the same app in-process; both serve the plan that
:func:`~switchboard.callflow.rules.plan_verbs` compiles from the number's
forwarding rules, so forwarding has one implementation.

A provider's document ends at the first ``Dial`` that has an ``action``: the
provider runs the dial, then asks the action URL what comes next. The plan
is therefore served one dial at a time: each ``Dial`` carries
``action="/api/voice/incoming?step=N"`` (``N`` its index in the plan), and the
callback's ``DialCallStatus`` decides which conditional verbs after ``N`` run,
as ``only_after`` decides in the engine's executor. The plan of a callback is
compiled for the time the call started (its call-log row), so a schedule
window that closes during the call does not shift the steps under it.

Call-log rows are keyed by call SID: a row the engine already wrote is
enriched, never duplicated (``INSERT ... ON CONFLICT DO NOTHING``, then
update). Recordings are keyed by recording SID the same way.

Modules: :mod:`.forms` (form parameters, the tenant a webhook concerns),
:mod:`.rows` (rows keyed by SID), :mod:`.incoming` (the plan served as
documents), :mod:`.callbacks` (status and recording callbacks),
:mod:`.recording_fetch` (a provider's recording, fetched once into storage).
"""

from switchboard.services.voice_webhooks.callbacks import (
    is_remote,
    provider_credentials,
    record_recording,
    record_status,
)
from switchboard.services.voice_webhooks.forms import (
    Caller,
    RecordingReport,
    WebhookCall,
    resolve_caller,
    whole_number,
)
from switchboard.services.voice_webhooks.incoming import (
    DEFAULT_GREETING,
    INCOMING_PATH,
    VOICEMAIL_CALLBACK,
    answer_incoming,
)
from switchboard.services.voice_webhooks.recording_fetch import (
    FetchedRecording,
    RecordingFetcher,
    RecordingNotFetched,
)

__all__ = [
    "DEFAULT_GREETING",
    "INCOMING_PATH",
    "VOICEMAIL_CALLBACK",
    "Caller",
    "FetchedRecording",
    "RecordingFetcher",
    "RecordingNotFetched",
    "RecordingReport",
    "WebhookCall",
    "answer_incoming",
    "is_remote",
    "provider_credentials",
    "record_recording",
    "record_status",
    "resolve_caller",
    "whole_number",
]
